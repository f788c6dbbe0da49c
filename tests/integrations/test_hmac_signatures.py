from __future__ import annotations

import json
from typing import Any

import pytest

from integrations.shopify.hmac_signatures import (
    compute_query_hmac,
    compute_webhook_hmac,
    query_hmac_message,
    verify_query_hmac,
    verify_webhook_hmac,
)
from integrations.shopify.oauth import CallbackRejection, verify_callback
from tests.conftest import REFERENCE

VECTORS = REFERENCE / "oauth-test-vectors"
CALLBACK_VECTORS: list[dict[str, Any]] = json.loads((VECTORS / "oauth-callback-hmac.json").read_text())[
    "vectors"
]
WEBHOOK_VECTORS: list[dict[str, Any]] = json.loads((VECTORS / "webhook-hmac.json").read_text())["vectors"]

CURRENT = "shpss_current_0000000000000000000000"
PREVIOUS = "shpss_previous_111111111111111111111"
STRANGER = "shpss_stranger_22222222222222222222"


def _params(vector: dict[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in vector["params"].items():
        if isinstance(value, list):
            pairs.extend((key, item) for item in value)
        else:
            pairs.append((key, value))
    return pairs


def _vector_id(vector: dict[str, Any]) -> str:
    return str(vector["message"])[:40]


def test_all_five_oauth_vectors_are_loaded() -> None:
    assert len(CALLBACK_VECTORS) == 5


@pytest.mark.parametrize("vector", CALLBACK_VECTORS, ids=_vector_id)
def test_oauth_vector_message_and_hmac_match_shopify(vector: dict[str, Any]) -> None:
    params = [*_params(vector), ("hmac", vector["hmac"])]
    assert query_hmac_message(params) == vector["message"]
    assert compute_query_hmac(params, vector["secret"]) == vector["hmac"]
    assert verify_query_hmac(params, [vector["secret"]])


@pytest.mark.parametrize("vector", CALLBACK_VECTORS, ids=_vector_id)
def test_oauth_vector_passes_the_callback_signature_check(vector: dict[str, Any]) -> None:
    params = [*_params(vector), ("hmac", vector["hmac"])]
    now = float(vector["params"].get("timestamp", 1337178173))
    result = verify_callback(params, secrets=[vector["secret"]], now=now)
    if {"shop", "timestamp", "code"} <= vector["params"].keys():
        assert result.ok
        assert result.shop == vector["params"]["shop"]
        assert result.code == vector["params"]["code"]
        assert result.state == vector["params"].get("state", "")
    else:
        # The signature holds; the callback is refused later for what the vector lacks.
        assert result.rejection is not None
        assert result.rejection is not CallbackRejection.BAD_HMAC


@pytest.mark.parametrize("vector", CALLBACK_VECTORS, ids=_vector_id)
def test_oauth_vector_with_a_changed_hmac_is_rejected(vector: dict[str, Any]) -> None:
    wrong = ("0" if vector["hmac"][0] != "0" else "1") + vector["hmac"][1:]
    params = [*_params(vector), ("hmac", wrong)]
    now = float(vector["params"].get("timestamp", 1337178173))
    assert not verify_query_hmac(params, [vector["secret"]])
    assert (
        verify_callback(params, secrets=[vector["secret"]], now=now).rejection is CallbackRejection.BAD_HMAC
    )


@pytest.mark.parametrize("vector", CALLBACK_VECTORS, ids=_vector_id)
def test_oauth_vector_signed_with_another_secret_is_rejected(vector: dict[str, Any]) -> None:
    params = [*_params(vector), ("hmac", vector["hmac"])]
    assert not verify_query_hmac(params, [STRANGER])


def test_oauth_hmac_in_uppercase_hex_is_accepted() -> None:
    vector = CALLBACK_VECTORS[0]
    params = [*_params(vector), ("hmac", vector["hmac"].upper())]
    assert verify_query_hmac(params, [vector["secret"]])


def test_oauth_query_without_hmac_is_rejected() -> None:
    assert not verify_query_hmac(_params(CALLBACK_VECTORS[0]), [CALLBACK_VECTORS[0]["secret"]])


def test_oauth_signature_param_is_left_out_of_the_message() -> None:
    vector = CALLBACK_VECTORS[0]
    params = [*_params(vector), ("signature", "ignored"), ("hmac", vector["hmac"])]
    assert verify_query_hmac(params, [vector["secret"]])


@pytest.mark.parametrize(("signer", "accepted"), [(CURRENT, True), (PREVIOUS, True), (STRANGER, False)])
def test_query_hmac_accepts_current_and_previous_secret_only(signer: str, accepted: bool) -> None:
    params = [("code", "abc"), ("shop", "alpha.myshopify.com"), ("timestamp", "1700000000")]
    signed = [*params, ("hmac", compute_query_hmac(params, signer))]
    assert verify_query_hmac(signed, [CURRENT, PREVIOUS]) is accepted


def test_query_hmac_is_refused_when_no_secret_is_configured() -> None:
    params = [("shop", "alpha.myshopify.com")]
    assert not verify_query_hmac([*params, ("hmac", compute_query_hmac(params, ""))], [])


def _webhook_body(vector: dict[str, Any]) -> bytes:
    if "body_file" in vector:
        return (REFERENCE / str(vector["body_file"])).read_bytes()
    return str(vector["body_utf8"]).encode()


@pytest.mark.parametrize("vector", WEBHOOK_VECTORS, ids=["body_file", "body_utf8"])
def test_webhook_vector_hmac_matches(vector: dict[str, Any]) -> None:
    body = _webhook_body(vector)
    assert compute_webhook_hmac(body, vector["secret"]) == vector["x_shopify_hmac_sha256"]
    assert verify_webhook_hmac(body, vector["x_shopify_hmac_sha256"], [vector["secret"]])


@pytest.mark.parametrize("vector", WEBHOOK_VECTORS, ids=["body_file", "body_utf8"])
def test_webhook_vector_with_one_body_byte_changed_is_rejected(vector: dict[str, Any]) -> None:
    body = bytearray(_webhook_body(vector))
    body[len(body) // 2] ^= 0x01
    assert not verify_webhook_hmac(bytes(body), vector["x_shopify_hmac_sha256"], [vector["secret"]])


@pytest.mark.parametrize("received", ["", None, "not base64!", "AAAA", "\u00e9\u00e9\u00e9\u00e9"])
def test_webhook_hmac_that_is_missing_or_malformed_is_rejected(received: str | None) -> None:
    assert not verify_webhook_hmac(b"{}", received, [CURRENT])


@pytest.mark.parametrize(("signer", "accepted"), [(CURRENT, True), (PREVIOUS, True), (STRANGER, False)])
def test_webhook_hmac_accepts_current_and_previous_secret_only(signer: str, accepted: bool) -> None:
    body = b'{"id": 1}'
    assert verify_webhook_hmac(body, compute_webhook_hmac(body, signer), [CURRENT, PREVIOUS]) is accepted
