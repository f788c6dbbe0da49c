from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integrations.shopify.session_tokens import (
    SESSION_TOKEN_LEEWAY_SECONDS,
    InvalidSessionToken,
    SessionToken,
    decode_session_token,
)
from tests.conftest import REFERENCE, TEST_API_KEY, TEST_API_SECRET, TEST_PREVIOUS_SECRET
from tests.factories import session_token, tampered, unsigned_token

VECTOR = json.loads((REFERENCE / "oauth-test-vectors" / "session-token.json").read_text())
VECTOR_NOW = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
SHOP = "alpha.myshopify.com"
OTHER_SHOP = "beta.myshopify.com"
SECRETS = [TEST_API_SECRET, TEST_PREVIOUS_SECRET]


@pytest.fixture
def frozen_now() -> Iterator[float]:
    with time_machine.travel(VECTOR_NOW, tick=False):
        yield time.time()


def _decode(token: str) -> SessionToken:
    return decode_session_token(token, client_id=TEST_API_KEY, secrets=SECRETS)


def test_reference_session_token_decodes_with_the_clock_frozen(frozen_now: float) -> None:
    claims = decode_session_token(
        VECTOR["token"], client_id=VECTOR["client_id"], secrets=[VECTOR["client_secret"]]
    )
    assert claims.shop == "some-shop.myshopify.com"
    assert claims.user_id == VECTOR["payload"]["sub"]
    assert claims.session_id == VECTOR["payload"]["sid"]
    assert claims.token_id == VECTOR["payload"]["jti"]
    assert claims.expires_at == VECTOR["payload"]["exp"]


def test_reference_session_token_is_refused_once_it_expired() -> None:
    with (
        time_machine.travel(datetime(2026, 1, 1, 0, 2, 0, tzinfo=UTC), tick=False),
        pytest.raises(InvalidSessionToken, match="expired"),
    ):
        decode_session_token(
            VECTOR["token"], client_id=VECTOR["client_id"], secrets=[VECTOR["client_secret"]]
        )


def test_reference_session_token_is_refused_for_another_app(frozen_now: float) -> None:
    with pytest.raises(InvalidSessionToken, match="another app"):
        decode_session_token(VECTOR["token"], client_id=TEST_API_KEY, secrets=[VECTOR["client_secret"]])


def test_valid_session_token_is_accepted(frozen_now: float) -> None:
    claims = _decode(session_token(SHOP, now=frozen_now))
    assert claims.shop == SHOP
    assert claims.user_id == "42"


def test_session_token_expired_beyond_the_leeway_is_refused(frozen_now: float) -> None:
    token = session_token(SHOP, now=frozen_now - 60 - SESSION_TOKEN_LEEWAY_SECONDS - 1)
    with pytest.raises(InvalidSessionToken, match="expired"):
        _decode(token)


def test_session_token_expired_within_the_leeway_is_accepted(frozen_now: float) -> None:
    token = session_token(SHOP, now=frozen_now - 60 - SESSION_TOKEN_LEEWAY_SECONDS + 2)
    assert _decode(token).shop == SHOP


def test_session_token_not_yet_valid_beyond_the_leeway_is_refused(frozen_now: float) -> None:
    token = session_token(SHOP, now=frozen_now + SESSION_TOKEN_LEEWAY_SECONDS + 2)
    with pytest.raises(InvalidSessionToken, match="not yet valid"):
        _decode(token)


def test_session_token_not_yet_valid_within_the_leeway_is_accepted(frozen_now: float) -> None:
    token = session_token(SHOP, now=frozen_now + SESSION_TOKEN_LEEWAY_SECONDS - 2)
    assert _decode(token).shop == SHOP


def test_session_token_for_another_app_is_refused(frozen_now: float) -> None:
    with pytest.raises(InvalidSessionToken, match="another app"):
        _decode(session_token(SHOP, now=frozen_now, audience="someone-elses-client-id"))


def test_session_token_with_alg_none_is_refused(frozen_now: float) -> None:
    claims = jwt.decode(session_token(SHOP, now=frozen_now), options={"verify_signature": False})
    with pytest.raises(InvalidSessionToken):
        _decode(unsigned_token(claims))


def test_session_token_signed_with_hs512_is_refused(frozen_now: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns that the key is short for HS512
        token = session_token(SHOP, now=frozen_now, algorithm="HS512")
    with pytest.raises(InvalidSessionToken, match="algorithm"):
        _decode(token)


def test_session_token_signed_with_rs256_is_refused(frozen_now: float) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    claims = jwt.decode(session_token(SHOP, now=frozen_now), options={"verify_signature": False})
    with pytest.raises(InvalidSessionToken):
        _decode(jwt.encode(claims, pem, algorithm="RS256"))


def test_session_token_with_a_tampered_payload_is_refused(frozen_now: float) -> None:
    token = session_token(SHOP, now=frozen_now)
    forged = tampered(token, iss=f"https://{OTHER_SHOP}/admin", dest=f"https://{OTHER_SHOP}")
    with pytest.raises(InvalidSessionToken, match="signature"):
        _decode(forged)


def test_session_token_signed_with_an_unknown_secret_is_refused(frozen_now: float) -> None:
    token = session_token(SHOP, now=frozen_now, secret="shpss_not_ours_0000000000000000000000")
    with pytest.raises(InvalidSessionToken, match="signature"):
        _decode(token)


def test_session_token_signed_with_the_previous_secret_is_accepted(frozen_now: float) -> None:
    assert _decode(session_token(SHOP, now=frozen_now, secret=TEST_PREVIOUS_SECRET)).shop == SHOP


def test_session_token_signed_with_the_previous_secret_is_refused_once_it_is_dropped(
    frozen_now: float,
) -> None:
    token = session_token(SHOP, now=frozen_now, secret=TEST_PREVIOUS_SECRET)
    with pytest.raises(InvalidSessionToken):
        decode_session_token(token, client_id=TEST_API_KEY, secrets=[TEST_API_SECRET])


def test_session_token_whose_issuer_and_destination_differ_is_refused(frozen_now: float) -> None:
    token = session_token(SHOP, now=frozen_now, dest=f"https://{OTHER_SHOP}")
    with pytest.raises(InvalidSessionToken, match="differ"):
        _decode(token)


@pytest.mark.parametrize("host", ["evil.com", "alpha.myshopify.com.evil.com", "xn--hop-l3d.myshopify.net"])
def test_session_token_for_a_host_that_is_not_a_shop_is_refused(frozen_now: float, host: str) -> None:
    token = session_token(SHOP, now=frozen_now, iss=f"https://{host}/admin", dest=f"https://{host}")
    with pytest.raises(InvalidSessionToken):
        _decode(token)


def test_session_token_whose_destination_alone_is_not_a_shop_is_refused(frozen_now: float) -> None:
    with pytest.raises(InvalidSessionToken):
        _decode(session_token(SHOP, now=frozen_now, dest="https://evil.com"))


def test_session_token_without_expiry_is_refused(frozen_now: float) -> None:
    with pytest.raises(InvalidSessionToken, match="expiry"):
        _decode(session_token(SHOP, now=frozen_now, exp=None))


@pytest.mark.parametrize("claim", ["iss", "dest", "sub", "jti", "sid"])
def test_session_token_without_a_required_claim_is_refused(frozen_now: float, claim: str) -> None:
    missing: dict[str, Any] = {claim: None}
    with pytest.raises(InvalidSessionToken):
        _decode(session_token(SHOP, now=frozen_now, **missing))


@pytest.mark.parametrize("raw", ["", "not-a-jwt", "a.b.c"])
def test_malformed_session_token_is_refused(raw: str) -> None:
    with pytest.raises(InvalidSessionToken):
        _decode(raw)


def test_refusal_reason_never_contains_the_token(frozen_now: float) -> None:
    token = session_token(SHOP, now=frozen_now - 600)
    with pytest.raises(InvalidSessionToken) as caught:
        _decode(token)
    assert token not in str(caught.value)
    assert token.split(".")[2] not in repr(caught.value)


def test_session_token_repr_shows_no_identifiers_of_the_session(frozen_now: float) -> None:
    token = session_token(SHOP, now=frozen_now)
    claims = _decode(token)
    assert token not in repr(claims)
    assert claims.session_id not in repr(claims)
