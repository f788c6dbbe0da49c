"""Builders for test data and for what Shopify would send: signed webhooks, session tokens, callbacks."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from integrations.shopify.oauth import AccessToken
from shop_app.database import SessionFactory, transaction
from shop_app.encryption import Cipher
from shop_app.models import Customer, Fulfillment, Order, OrderLineItem, Shop
from shop_app.shops.installation import install_shop
from tests.conftest import TEST_API_KEY, TEST_API_SECRET


def sign_webhook(body: bytes, secret: str = TEST_API_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def webhook_headers(
    *, topic: str, shop: str, body: bytes, secret: str = TEST_API_SECRET, event_id: str | None = None
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-22T01:02:03.123Z",
        "X-Shopify-Hmac-Sha256": sign_webhook(body, secret),
    }


def session_token(
    shop: str,
    *,
    secret: str = TEST_API_SECRET,
    audience: str = TEST_API_KEY,
    now: float | None = None,
    lifetime: int = 60,
    algorithm: str = "HS256",
    **overrides: Any,
) -> str:
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": audience,
        "sub": "42",
        "exp": issued + lifetime,
        "nbf": issued,
        "iat": issued,
        "jti": str(uuid.uuid4()),
        "sid": "session-" + uuid.uuid4().hex,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm=algorithm)


def unsigned_token(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def access_token(
    *, token: str = "shpat_current", refresh: str | None = "shprt_current", expires_in: float = 3600.0
) -> AccessToken:
    now = time.time()
    return AccessToken(
        access_token=token,
        scope="read_orders,read_customers",
        expires_at=now + expires_in,
        refresh_token=refresh,
        refresh_token_expires_at=now + 90 * 86400 if refresh else None,
    )


async def installed_shop(
    sessions: SessionFactory, cipher: Cipher, domain: str, token: AccessToken | None = None
) -> Shop:
    async with transaction(sessions) as session:
        return await install_shop(session, domain=domain, token=token or access_token(), cipher=cipher)


# Shop domains every entry point must refuse before any outgoing request (None: the parameter is absent).
BAD_SHOP_DOMAINS: tuple[str | None, ...] = (
    "evil.com",
    "shop.myshopify.com.evil.com",
    "SHOP.MYSHOPIFY.COM/..",
    "",
    None,
    "\u0455hop.myshopify.com",  # Cyrillic small dze looks like a Latin s
    "\uff53\uff48\uff4f\uff50.myshopify.com",  # fullwidth "shop"
    "\u212ashop.myshopify.com",  # Kelvin sign: lowercases to an ASCII k
    "shop.myshopify.com:443",
    "user@shop.myshopify.com",
    "shop.myshopify.com.",
    "-shop.myshopify.com",
    "shop.myshopify.com\n",
    "https://shop.myshopify.com",
    "shop.myshopify.co",
    "sub.shop.myshopify.com",
)


def signed_query(params: dict[str, str], secret: str = TEST_API_SECRET) -> dict[str, str]:
    """A callback query signed the way Shopify does it (plain values: no escaping needed)."""
    message = "&".join(f"{key}={value}" for key, value in sorted(params.items()))
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {**params, "hmac": digest}


def token_payload(
    *,
    access_token: str,
    refresh_token: str | None = None,
    scope: str = "read_orders,read_customers",
    expires_in: int = 3600,
) -> dict[str, Any]:
    """What ``/admin/oauth/access_token`` answers for an expiring offline token."""
    payload: dict[str, Any] = {"access_token": access_token, "scope": scope, "expires_in": expires_in}
    if refresh_token is not None:
        payload["refresh_token"] = refresh_token
        payload["refresh_token_expires_in"] = 90 * 86400
    return payload


def form_of(request: httpx.Request) -> dict[str, str]:
    """The url-encoded form of a recorded request."""
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


def tampered(token: str, **changes: Any) -> str:
    """The same JWT with changed claims and the original signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key for desk.example.com (PEM files in ``directory``), valid a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "desk.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def seed_shipped_order(
    sessions: SessionFactory, *, shop_id: int, email: str = "hanako@example.jp", **customer: Any
) -> None:
    """Hanako's order #1001 (shipped with Yamato, one linen shirt) and her customer record."""
    now = datetime.datetime.now(datetime.UTC)
    async with transaction(sessions) as session:
        session.add(
            Customer(
                shop_id=shop_id,
                shopify_id=7001,
                first_name="花子",
                last_name="山田",
                email=email,
                updated_at=now,
                created_at=now,
                **customer,
            )
        )
        order = Order(
            shop_id=shop_id,
            shopify_id=8001,
            name="#1001",
            number=1001,
            customer_shopify_id=7001,
            email=email,
            created_at=now - datetime.timedelta(days=2),
            updated_at=now,
            financial_status="PAID",
            fulfillment_status="FULFILLED",
            currency="JPY",
            total_price="3200.00",
            subtotal_price="3200.00",
            shipping_address={"zip": "150-0001", "country_code": "JP"},
        )
        session.add(order)
        await session.flush()
        assert order.id is not None
        session.add(
            OrderLineItem(
                shop_id=shop_id,
                shopify_id=9101,
                order_id=order.id,
                title="リネンシャツ",
                variant_title="ネイビー / M",
                quantity=1,
            )
        )
        session.add(
            Fulfillment(
                shop_id=shop_id,
                shopify_id=9201,
                order_id=order.id,
                status="SUCCESS",
                display_status="IN_TRANSIT",
                created_at=now - datetime.timedelta(days=1),
                updated_at=now - datetime.timedelta(days=1),
                tracking=[{"company": "Yamato (JA)", "number": "123456789012", "url": None}],
            )
        )
