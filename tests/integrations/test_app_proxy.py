"""App proxy signatures: Shopify's documented examples verify, every tampering or replay is refused with
its reason, and the previous secret still works during a rotation."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from integrations.shopify.app_proxy import (
    APP_PROXY_MAX_AGE_SECONDS,
    ProxyRejection,
    StorefrontIdentity,
    app_proxy_message,
    sign_app_proxy_query,
    signature_expiry,
    verify_app_proxy_query,
)

# The worked examples of shopify.dev "Authenticate app proxies" (secret "hush").
DOC_SECRET = "hush"
DOC_TIME = 1317327555
DOC_LOGGED_IN = (
    "extra=1&extra=2&shop=shop-name.myshopify.com&logged_in_customer_id=1&path_prefix=%2Fapps%2Fawesome_reviews"
    "&timestamp=1317327555&signature=4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"
)
DOC_VISITOR = (
    "extra=1&extra=2&shop=shop-name.myshopify.com&logged_in_customer_id=&path_prefix=%2Fapps%2Fawesome_reviews"
    "&timestamp=1317327555&signature=e072b6d7e6622d85912a5214b860d3100dc1e73d9bc29f43796ac8c9ff8093cb"
)
DOC_WITHOUT_CUSTOMER_KEY = (
    "extra=1&extra=2&shop=shop-name.myshopify.com&path_prefix=%2Fapps%2Fawesome_reviews"
    "&timestamp=1317327555&signature=a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3"
)
CURRENT = "shpss_current_0123456789"
PREVIOUS = "shpss_previous_9876543210"
NOW = 1_790_000_000


def _pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def _signed(secret: str = CURRENT, **params: str) -> dict[str, str]:
    base = {
        "shop": "alpha.myshopify.com",
        "logged_in_customer_id": "501",
        "path_prefix": "/apps/support",
        "timestamp": str(NOW),
    }
    base.update(params)
    return {**base, "signature": sign_app_proxy_query(base, secret)}


def test_the_signed_message_is_sorted_pairs_without_separator_and_repeated_values_comma_joined() -> None:
    assert app_proxy_message(_pairs(DOC_LOGGED_IN)) == (
        "extra=1,2logged_in_customer_id=1path_prefix=/apps/awesome_reviews"
        "shop=shop-name.myshopify.comtimestamp=1317327555"
    )


def test_shopifys_documented_examples_verify() -> None:
    logged_in = verify_app_proxy_query(_pairs(DOC_LOGGED_IN), secrets=[DOC_SECRET], now=DOC_TIME)
    visitor = verify_app_proxy_query(_pairs(DOC_VISITOR), secrets=[DOC_SECRET], now=DOC_TIME + 5)
    older = verify_app_proxy_query(_pairs(DOC_WITHOUT_CUSTOMER_KEY), secrets=[DOC_SECRET], now=DOC_TIME)

    assert logged_in.ok and logged_in.rejection is None
    assert logged_in.identity == StorefrontIdentity(
        shop="shop-name.myshopify.com",
        logged_in_customer_id=1,
        path_prefix="/apps/awesome_reviews",
        timestamp=DOC_TIME,
    )
    assert visitor.identity is not None and visitor.identity.logged_in_customer_id is None
    assert older.identity is not None and older.identity.logged_in_customer_id is None


def test_a_mapping_with_lists_verifies_like_the_query_it_came_from() -> None:
    params = {
        "extra": ["1", "2"],
        "shop": "shop-name.myshopify.com",
        "logged_in_customer_id": "1",
        "path_prefix": "/apps/awesome_reviews",
        "timestamp": "1317327555",
        "signature": "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb",
    }
    assert verify_app_proxy_query(params, secrets=[DOC_SECRET], now=DOC_TIME).ok


def test_the_previous_secret_still_verifies_during_a_rotation() -> None:
    result = verify_app_proxy_query(_signed(PREVIOUS), secrets=[CURRENT, PREVIOUS], now=NOW)
    assert result.identity is not None and result.identity.logged_in_customer_id == 501


def test_an_upper_case_signature_is_the_same_signature() -> None:
    params = _signed()
    params["signature"] = params["signature"].upper()
    assert verify_app_proxy_query(params, secrets=[CURRENT], now=NOW).ok


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("logged_in_customer_id", "502"),
        ("shop", "beta.myshopify.com"),
        ("timestamp", str(NOW + 1)),
        ("path_prefix", "/apps/other"),
        ("extra", "added"),
    ],
)
def test_a_changed_parameter_breaks_the_signature(change: str, value: str) -> None:
    params = {**_signed(), change: value}
    result = verify_app_proxy_query(params, secrets=[CURRENT, PREVIOUS], now=NOW)
    assert (result.identity, result.rejection) == (None, ProxyRejection.BAD_SIGNATURE)


@pytest.mark.parametrize(
    ("params", "rejection"),
    [
        ({"shop": "alpha.myshopify.com", "timestamp": str(NOW)}, ProxyRejection.MISSING_SIGNATURE),
        ({**_signed(), "signature": ""}, ProxyRejection.MISSING_SIGNATURE),
        ({**_signed(), "signature": "ｆｆ" * 32}, ProxyRejection.BAD_SIGNATURE),
        ({**_signed(), "signature": "00" * 32}, ProxyRejection.BAD_SIGNATURE),
        (_signed(secret="someone-elses-secret"), ProxyRejection.BAD_SIGNATURE),
        (_signed(timestamp="soon"), ProxyRejection.BAD_TIMESTAMP),
        (_signed(timestamp="9" * 40), ProxyRejection.BAD_TIMESTAMP),
        (_signed(timestamp=str(NOW - APP_PROXY_MAX_AGE_SECONDS - 1)), ProxyRejection.STALE_TIMESTAMP),
        (_signed(timestamp=str(NOW + 3600)), ProxyRejection.STALE_TIMESTAMP),
        (_signed(shop="evil.com"), ProxyRejection.BAD_SHOP),
        (_signed(shop="alpha.myshopify.com.evil.com"), ProxyRejection.BAD_SHOP),
        (_signed(logged_in_customer_id="-5"), ProxyRejection.BAD_CUSTOMER_ID),
        (_signed(logged_in_customer_id="0"), ProxyRejection.BAD_CUSTOMER_ID),
        (_signed(logged_in_customer_id="１２"), ProxyRejection.BAD_CUSTOMER_ID),
        (_signed(logged_in_customer_id=str(2**63)), ProxyRejection.BAD_CUSTOMER_ID),
    ],
)
def test_each_refusal_names_its_reason(params: dict[str, str], rejection: ProxyRejection) -> None:
    result = verify_app_proxy_query(params, secrets=[CURRENT, PREVIOUS], now=NOW)
    assert (result.ok, result.identity, result.rejection) == (False, None, rejection)


def test_a_second_signature_parameter_is_refused() -> None:
    pairs = [*_signed().items(), ("signature", "00" * 32)]
    result = verify_app_proxy_query(pairs, secrets=[CURRENT], now=NOW)
    assert result.rejection == ProxyRejection.BAD_SIGNATURE


def test_no_secret_verifies_nothing() -> None:
    assert (
        verify_app_proxy_query(_signed(), secrets=[], now=NOW).rejection == ProxyRejection.MISSING_SIGNATURE
    )


def test_the_age_limit_can_be_tightened() -> None:
    params = _signed(timestamp=str(NOW - 120))
    assert verify_app_proxy_query(params, secrets=[CURRENT], now=NOW).ok
    tight = verify_app_proxy_query(params, secrets=[CURRENT], now=NOW, max_age_seconds=60)
    assert tight.rejection == ProxyRejection.STALE_TIMESTAMP


def test_a_query_signed_seven_minutes_ago_is_refused_and_a_fresh_one_names_its_signature() -> None:
    old = verify_app_proxy_query(_signed(timestamp=str(NOW - 7 * 60)), secrets=[CURRENT], now=NOW)
    params = _signed()
    fresh = verify_app_proxy_query(
        {**params, "signature": params["signature"].upper()}, secrets=[CURRENT], now=NOW
    )

    assert old.rejection == ProxyRejection.STALE_TIMESTAMP
    assert fresh.ok and fresh.signature == params["signature"]
    assert signature_expiry(NOW) == NOW + APP_PROXY_MAX_AGE_SECONDS + 1
    assert not verify_app_proxy_query(params, secrets=[CURRENT], now=signature_expiry(NOW)).ok
