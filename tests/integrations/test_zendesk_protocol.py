"""Zendesk's protocol: webhook signatures (against the reference vectors), the signed-URL JWT of a Support
app (forgeries of every documented kind), the trigger body (strictly), and the Tickets API client (retries,
Retry-After, no repeat of a comment that may have been stored)."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from integrations.zendesk.client import ZendeskClient
from integrations.zendesk.errors import (
    ZendeskInvalid,
    ZendeskNotFound,
    ZendeskUnauthorized,
    ZendeskUnavailable,
)
from integrations.zendesk.payloads import (
    TriggerKind,
    ZendeskParseError,
    parse_trigger_event,
    trigger_body_template,
)
from integrations.zendesk.signatures import Refusal, sign, verify_webhook
from integrations.zendesk.signed_urls import InvalidAppToken, audience, decode_app_token, issuer
from tests.conftest import SHARED

ZENDESK = SHARED / "platform-reference" / "zendesk"


def reference(name: str) -> Any:
    return json.loads((ZENDESK / name).read_text())


def at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


def test_the_documented_order_vector_verifies() -> None:
    vector = reference("webhook-signature-vectors.json")["vectors"][0]
    body, timestamp = vector["body"].encode(), vector["timestamp"]
    assert sign(body, timestamp=timestamp, secret=vector["secret"]) == vector["signature"]
    result = verify_webhook(
        body,
        signature=vector["signature"],
        timestamp=timestamp,
        secrets=[vector["secret"]],
        now=at(timestamp),
    )
    assert result.ok and result.signed_at == at(timestamp)


def test_the_old_body_then_timestamp_vector_does_not_verify_in_the_documented_order() -> None:
    vector = reference("webhook-signature-vectors.json")["vectors"][1]
    body, timestamp = vector["body"].encode(), vector["timestamp"]
    result = verify_webhook(
        body,
        signature=vector["signature"],
        timestamp=timestamp,
        secrets=[vector["secret"]],
        now=at(timestamp),
    )
    assert result.refusal is Refusal.MISMATCH


def test_the_previous_secret_still_verifies_during_a_rotation() -> None:
    body, timestamp = b'{"a":1}', "2026-12-03T10:00:00Z"
    signature = sign(body, timestamp=timestamp, secret="old")
    assert verify_webhook(
        body, signature=signature, timestamp=timestamp, secrets=["new", "old"], now=at(timestamp)
    ).ok
    assert not verify_webhook(
        body, signature=signature, timestamp=timestamp, secrets=["new"], now=at(timestamp)
    ).ok


@pytest.mark.parametrize(
    ("signature", "timestamp", "secrets", "refusal"),
    [
        (None, "2026-12-03T10:00:00Z", ["s"], Refusal.MISSING),
        ("x", None, ["s"], Refusal.MISSING),
        ("x", "2026-12-03T10:00:00Z", [], Refusal.UNCONFIGURED),
        ("x", "2026-12-03T10:00:00Z", [""], Refusal.UNCONFIGURED),
        ("é" * 44, "2026-12-03T10:00:00Z", ["s"], Refusal.MALFORMED),
        ("x" * 65, "2026-12-03T10:00:00Z", ["s"], Refusal.MALFORMED),
        ("x", "yesterday", ["s"], Refusal.MALFORMED),
        ("x", "2026-12-03T10:00:00", ["s"], Refusal.MALFORMED),  # no offset: ambiguous
        ("x", "2026-12-03T10:00:00Z", ["s"], Refusal.MISMATCH),
    ],
)
def test_malformed_or_forged_headers_are_refused(
    signature: str | None, timestamp: str | None, secrets: list[str], refusal: Refusal
) -> None:
    result = verify_webhook(
        b"{}", signature=signature, timestamp=timestamp, secrets=secrets, now=at("2026-12-03T10:00:00Z")
    )
    assert result.refusal is refusal


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6), timedelta(days=-365)])
def test_a_replay_outside_the_window_is_refused_even_with_a_valid_signature(offset: timedelta) -> None:
    body, timestamp = b'{"ticket_id":"1"}', "2026-12-03T10:00:00Z"
    signature = sign(body, timestamp=timestamp, secret="s")
    result = verify_webhook(
        body, signature=signature, timestamp=timestamp, secrets=["s"], now=at(timestamp) + offset
    )
    assert result.refusal is Refusal.STALE


@given(body=st.binary(max_size=300), tampered=st.binary(min_size=1, max_size=300), secret=st.text(min_size=1))
def test_any_change_to_the_body_breaks_the_signature(body: bytes, tampered: bytes, secret: str) -> None:
    timestamp = "2026-12-03T10:00:00+09:00"
    signature = sign(body, timestamp=timestamp, secret=secret)
    now = at(timestamp)
    assert verify_webhook(body, signature=signature, timestamp=timestamp, secrets=[secret], now=now).ok
    if tampered != body:
        assert not verify_webhook(
            tampered, signature=signature, timestamp=timestamp, secrets=[secret], now=now
        ).ok


@given(signature=st.text(max_size=80), timestamp=st.text(max_size=50))
def test_arbitrary_headers_never_verify_or_raise(signature: str, timestamp: str) -> None:
    result = verify_webhook(
        b"{}", signature=signature, timestamp=timestamp, secrets=["s"], now=at("2026-12-03T10:00:00Z")
    )
    assert not result.ok


# --- signed URLs -------------------------------------------------------------------------------------------

SUBDOMAIN, INSTALLATION = "hinode", 360001


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def app_token(private_pem: str, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer(SUBDOMAIN),
        "aud": audience(SUBDOMAIN, INSTALLATION),
        "iat": now,
        "exp": now + 300,
        "qsh": "abc",
    }
    algorithm = overrides.pop("algorithm", "RS256")
    claims.update(overrides)
    claims = {key: value for key, value in claims.items() if value is not None}
    return jwt.encode(claims, private_pem, algorithm=algorithm)


def decode(token: str, public_pem: str, **kwargs: Any) -> Any:
    return decode_app_token(
        token, public_key_pem=public_pem, subdomain=SUBDOMAIN, installation_id=INSTALLATION, **kwargs
    )


def test_a_token_zendesk_signed_for_this_installation_is_accepted(keys: tuple[str, str]) -> None:
    found = decode(app_token(keys[0]), keys[1])
    assert (found.subdomain, found.installation_id) == (SUBDOMAIN, INSTALLATION)
    assert "token" not in repr(found).lower() or "eyJ" not in repr(found)


def test_a_token_signed_with_another_key_is_refused(keys: tuple[str, str]) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(InvalidAppToken, match="signature"):
        decode(app_token(other_pem), keys[1])


def test_alg_none_is_refused(keys: tuple[str, str]) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    good = app_token(keys[0])
    unsigned = f"{header}.{good.split('.')[1]}."
    with pytest.raises(InvalidAppToken, match="algorithm"):
        decode(unsigned, keys[1])


def test_an_hs256_token_keyed_with_the_public_key_is_refused(keys: tuple[str, str]) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    payload = app_token(keys[0]).split(".")[1].encode()
    import hashlib
    import hmac

    mac = hmac.new(keys[1].encode(), header + b"." + payload, hashlib.sha256).digest()
    forged = (header + b"." + payload + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    with pytest.raises(InvalidAppToken, match="algorithm"):
        decode(forged, keys[1])


def test_an_expired_token_is_refused(keys: tuple[str, str]) -> None:
    past = int(time.time()) - 3600
    with pytest.raises(InvalidAppToken, match="expired"):
        decode(app_token(keys[0], iat=past, exp=past + 300), keys[1])


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": audience(SUBDOMAIN, INSTALLATION + 1)}, "another installation"),
        ({"aud": audience("other", INSTALLATION)}, "another installation"),
        ({"iss": issuer("other")}, "another Zendesk account"),
        ({"exp": None}, "required claim"),
        ({"iat": None}, "required claim"),
        ({"aud": None}, "required claim"),
        ({"iss": None}, "required claim"),
    ],
)
def test_tokens_for_another_audience_or_issuer_or_without_claims_are_refused(
    keys: tuple[str, str], claims: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidAppToken, match=reason):
        decode(app_token(keys[0], **claims), keys[1])


@given(token=st.text(max_size=400))
def test_arbitrary_text_is_never_an_accepted_token(token: str) -> None:
    with pytest.raises(InvalidAppToken):
        decode_app_token(token, public_key_pem=PUBLIC_PEM, subdomain=SUBDOMAIN, installation_id=INSTALLATION)


PUBLIC_PEM = (
    rsa.generate_private_key(public_exponent=65537, key_size=2048)
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


# --- trigger bodies ----------------------------------------------------------------------------------------


def rendered(kind: TriggerKind, ticket: str = "35436", requester: str = "20978392") -> bytes:
    template = trigger_body_template(kind)
    return template.replace("{{ticket.id}}", ticket).replace("{{ticket.requester.id}}", requester).encode()


def test_a_rendered_trigger_body_parses() -> None:
    event = parse_trigger_event(rendered(TriggerKind.PUBLIC_COMMENT))
    assert (event.kind, event.ticket_id, event.requester_id) == (TriggerKind.PUBLIC_COMMENT, 35436, 20978392)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"kind":"ticket_created","ticket_id":"1"}',
        b'{"kind":"ticket_created","ticket_id":"1","requester_id":"2","extra":"x"}',
        b'{"kind":"deleted","ticket_id":"1","requester_id":"2"}',
        b'{"kind":"ticket_created","ticket_id":"-1","requester_id":"2"}',
        b'{"kind":"ticket_created","ticket_id":"0","requester_id":"2"}',
        b'{"kind":"ticket_created","ticket_id":"1e3","requester_id":"2"}',
        b'{"kind":"ticket_created","ticket_id":true,"requester_id":"2"}',
        b'{"kind":"ticket_created","ticket_id":"\xd9\xa1","requester_id":"2"}',
        b'{"kind":"ticket_created","ticket_id":"{{ticket.id}}","requester_id":"2"}',
        b"\xff",
    ],
)
def test_bodies_our_trigger_does_not_send_are_refused(body: bytes) -> None:
    with pytest.raises(ZendeskParseError):
        parse_trigger_event(body)


def test_the_reference_trigger_body_is_not_ours_and_is_refused() -> None:
    with pytest.raises(ZendeskParseError):
        parse_trigger_event((ZENDESK / "trigger-webhook-body.json").read_bytes())


@given(st.dictionaries(st.text(max_size=12), st.one_of(st.text(max_size=30), st.integers(), st.none())))
def test_arbitrary_json_objects_parse_or_are_refused_cleanly(data: dict[str, Any]) -> None:
    try:
        event = parse_trigger_event(json.dumps(data).encode())
    except ZendeskParseError:
        return
    assert event.ticket_id > 0 and event.requester_id > 0


# --- the Tickets API client --------------------------------------------------------------------------------


def client_for(handler: Any, **kwargs: Any) -> tuple[ZendeskClient, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return ZendeskClient(
        http,
        base_url="https://hinode.zendesk.com",
        email="bot@example.com",
        api_token="t0k",
        sleep=sleep,
        **kwargs,
    ), slept


async def test_a_comment_is_sent_with_token_auth_and_the_reference_answer_is_read() -> None:
    seen: list[httpx.Request] = []
    answer = reference("ticket-comment-response.json")

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer)

    client, _ = client_for(handler)
    request = reference("ticket-comment-request.json")["ticket"]
    ticket = await client.add_comment(
        35436, request["comment"]["body"], public=False, group_id=request["group_id"], status="open"
    )
    assert ticket.id == 35436 and ticket.group_id == 98738 and ticket.tags == ("shopify", "wismo")
    sent = seen[0]
    assert sent.method == "PUT" and sent.url.path == "/api/v2/tickets/35436.json"
    assert json.loads(sent.content) == reference("ticket-comment-request.json")
    expected = base64.b64encode(b"bot@example.com/token:t0k").decode()
    assert sent.headers["authorization"] == f"Basic {expected}"
    assert "t0k" not in repr(client)


async def test_a_429_is_retried_after_zendesks_retry_after() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(429, headers={"retry-after": "7"}, text="Too Many Requests")
        return httpx.Response(200, json={"tags": ["a", "b"]})

    client, slept = client_for(handler)
    assert await client.add_tags(1, ["b"]) == ("a", "b")
    assert slept == [7.0] and calls == 2


async def test_a_long_retry_after_is_raised_for_the_queue_not_slept() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"retry-after": "120"})

    client, slept = client_for(handler)
    with pytest.raises(ZendeskUnavailable) as raised:
        await client.ticket(1)
    assert raised.value.retry_after_seconds == 120.0 and slept == []


async def test_a_comment_is_not_sent_again_after_a_500() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(500, json={"error": "InternalError"})

    client, _ = client_for(handler)
    with pytest.raises(ZendeskUnavailable):
        await client.add_comment(1, "こんにちは", public=True)
    assert calls == 1


async def test_reads_are_retried_after_a_500() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls < 3:
            return httpx.Response(503)
        return httpx.Response(
            200,
            json={"comments": [{"id": 1, "author_id": 2, "public": True, "body": "hi", "created_at": "x"}]},
        )

    client, slept = client_for(handler)
    comments = await client.comments(9)
    assert [c.id for c in comments] == [1] and calls == 3 and len(slept) == 2


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"error": "Couldn't authenticate you"}, ZendeskUnauthorized),
        (403, {"error": "Forbidden"}, ZendeskUnauthorized),
        (404, {"error": "RecordNotFound", "description": "Not found"}, ZendeskNotFound),
        (422, {"error": "RecordInvalid", "description": "Record validation errors"}, ZendeskInvalid),
    ],
)
async def test_zendesk_errors_map_to_their_exception(status: int, body: Any, error: type[Exception]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers={"x-zendesk-request-id": "req-1"})

    client, _ = client_for(handler)
    with pytest.raises(error) as raised:
        await client.user(5)
    assert raised.value.request_id == "req-1"  # type: ignore[attr-defined]
    assert body["error"] in str(raised.value)


async def test_tags_with_spaces_are_refused_before_the_call() -> None:
    client, _ = client_for(lambda request: httpx.Response(200, json={"tags": []}))
    with pytest.raises(ValueError, match="without spaces"):
        await client.add_tags(1, ["two words"])
