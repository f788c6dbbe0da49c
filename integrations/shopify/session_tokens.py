"""App Bridge session tokens (``id_token``): HS256 JWTs signed with the app's client secret.

Decoding uses ShopifyAPI's pure helper, which checks the signature (HS256 only, so ``alg: none`` and
algorithm swaps fail), the audience, ``nbf``/``exp`` with 10 s of leeway, and that ``iss`` and ``dest``
name the same host. On top of it: ``exp`` must be present and both hosts must be a valid shop domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
from shopify import session_token as shopify_session_token

from integrations.shopify.errors import InvalidShopDomain, ShopifyError
from integrations.shopify.shop_domains import normalise_shop_domain

SESSION_TOKEN_LEEWAY_SECONDS = shopify_session_token.LEEWAY_SECONDS


class InvalidSessionToken(ShopifyError):
    pass


@dataclass(frozen=True, slots=True)
class SessionToken:
    shop: str
    user_id: str
    session_id: str
    token_id: str
    expires_at: int

    def __repr__(self) -> str:
        return f"SessionToken(shop={self.shop!r}, user_id={self.user_id!r})"


def decode_session_token(token: str, *, client_id: str, secrets: Sequence[str]) -> SessionToken:
    """Return the verified claims or raise ``InvalidSessionToken`` with a reason (never the token)."""
    if not token or not secrets:
        raise InvalidSessionToken("missing session token")
    last_error: Exception | None = None
    for secret in secrets:
        try:
            payload = shopify_session_token.decode_from_header(f"Bearer {token}", client_id, secret)
        except shopify_session_token.SessionTokenError as error:
            last_error = error
            if isinstance(error.__cause__, jwt.InvalidSignatureError):
                continue
            raise InvalidSessionToken(_reason(error)) from None
        return _claims(payload)
    raise InvalidSessionToken(_reason(last_error)) from None


def _claims(payload: dict[str, object]) -> SessionToken:
    exp = payload.get("exp")
    if not isinstance(exp, int):
        raise InvalidSessionToken("session token has no expiry")
    try:
        shop = normalise_shop_domain(urlsplit(str(payload["dest"])).hostname)
        issuer = normalise_shop_domain(urlsplit(str(payload["iss"])).hostname)
    except InvalidShopDomain:
        raise InvalidSessionToken("session token names no valid shop") from None
    if shop != issuer:
        raise InvalidSessionToken("issuer and destination differ")
    return SessionToken(
        shop=shop,
        user_id=str(payload["sub"]),
        session_id=str(payload["sid"]),
        token_id=str(payload["jti"]),
        expires_at=exp,
    )


def _reason(error: Exception | None) -> str:
    cause = error.__cause__ if error is not None else None
    if isinstance(cause, jwt.ExpiredSignatureError):
        return "session token expired"
    if isinstance(cause, jwt.InvalidAudienceError):
        return "session token is for another app"
    if isinstance(cause, jwt.ImmatureSignatureError):
        return "session token not yet valid"
    if isinstance(cause, jwt.InvalidSignatureError):
        return "session token signature does not match"
    if isinstance(cause, jwt.InvalidAlgorithmError):
        return "session token algorithm refused"
    if isinstance(cause, jwt.MissingRequiredClaimError):
        return "session token lacks a required claim"
    if isinstance(error, shopify_session_token.MismatchedHostsError):
        return "issuer and destination differ"
    return "session token is malformed"
