"""shopify.app.toml is a valid Shopify CLI app configuration, and the app's handlers match it."""

from __future__ import annotations

import importlib
import re
import tomllib
from typing import Any

import pytest

from shop_app.mirror.webhooks.handlers import COMPLIANCE_TOPICS, HANDLERS
from shop_app.mirror.webhooks.subscriptions import topic_enum
from tests.conftest import PROJECT_ROOT, REFERENCE

TOML_PATH = PROJECT_ROOT / "shopify.app.toml"
TOML_TEXT = TOML_PATH.read_text(encoding="utf-8")
CONFIG: dict[str, Any] = tomllib.loads(TOML_TEXT)
SUBSCRIPTIONS: list[dict[str, Any]] = CONFIG["webhooks"]["subscriptions"]
SCHEMAS = REFERENCE / "admin-graphql-schema"
HELPDESK_SCOPES = {
    "read_orders",
    "read_all_orders",
    "read_customers",
    "read_products",
    "read_inventory",
    "read_locations",
    "read_fulfillments",
    "read_merchant_managed_fulfillment_orders",
    "read_assigned_fulfillment_orders",
    "read_third_party_fulfillment_orders",
}
REQUIRED_COMPLIANCE = {"customers/data_request", "customers/redact", "shop/redact"}


def _topics(*, compliance: bool) -> list[str]:
    key = "compliance_topics" if compliance else "topics"
    return [topic for entry in SUBSCRIPTIONS for topic in entry.get(key, [])]


def _webhook_topic_enum() -> set[str]:
    sdl = (SCHEMAS / f"admin-{CONFIG['webhooks']['api_version']}.graphql").read_text(encoding="utf-8")
    block = re.search(r"^enum WebhookSubscriptionTopic \{(.*?)^\}", sdl, re.S | re.M)
    assert block is not None
    without_docs = re.sub(r'"""(.*?)"""', "", block.group(1), flags=re.S)
    return set(re.findall(r"^\s*([A-Z][A-Z0-9_]*)\b", without_docs, re.M))


def _handler_comments() -> list[tuple[list[str], list[str]]]:
    """For each ``[[webhooks.subscriptions]]`` block: the dotted names in the comment right above it,
    and the topics it declares."""
    blocks = []
    lines = TOML_TEXT.splitlines()
    for index, line in enumerate(lines):
        if line.strip() != "[[webhooks.subscriptions]]":
            continue
        comment: list[str] = []
        above = index - 1
        while above >= 0 and lines[above].strip().startswith("#"):
            comment.insert(0, lines[above])
            above -= 1
        blocks.append(" ".join(comment))
    names = [re.findall(r"\b(shop_app(?:\.\w+)+)", comment) for comment in blocks]
    topics = [[*entry.get("topics", []), *entry.get("compliance_topics", [])] for entry in SUBSCRIPTIONS]
    assert len(names) == len(topics)
    return list(zip(names, topics, strict=True))


def _resolve(dotted: str) -> Any:
    module, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def test_required_top_level_keys_are_present() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", CONFIG["client_id"])
    assert CONFIG["name"]
    assert CONFIG["application_url"].startswith("https://")
    assert CONFIG["embedded"] is True


def test_access_scopes_use_managed_install_with_every_helpdesk_scope() -> None:
    scopes = CONFIG["access_scopes"]
    assert scopes["use_legacy_install_flow"] is False
    declared = {s.strip() for s in scopes["scopes"].split(",")}
    assert declared >= HELPDESK_SCOPES
    assert all(re.fullmatch(r"(read|write)_[a-z_]+", scope) for scope in declared)


def test_redirect_urls_point_at_the_callback_route() -> None:
    urls = CONFIG["auth"]["redirect_urls"]
    assert urls
    assert all(url.startswith("https://") and url.endswith("/auth/callback") for url in urls)


def test_api_version_is_a_2026_stable_version_in_the_reference_schema() -> None:
    version = CONFIG["webhooks"]["api_version"]
    assert re.fullmatch(r"2026-(01|04|07|10)", version)
    assert (SCHEMAS / f"admin-{version}.graphql").exists()


def test_every_subscription_has_a_uri_and_topics() -> None:
    for entry in SUBSCRIPTIONS:
        assert entry["uri"].startswith("/") or entry["uri"].startswith("https://")
        assert entry.get("topics") or entry.get("compliance_topics")


def test_no_topic_is_declared_twice() -> None:
    topics = _topics(compliance=False) + _topics(compliance=True)
    assert len(topics) == len(set(topics))


def test_the_three_compliance_topics_are_declared() -> None:
    assert set(_topics(compliance=True)) == REQUIRED_COMPLIANCE == set(COMPLIANCE_TOPICS)
    assert not set(_topics(compliance=False)) & REQUIRED_COMPLIANCE


def test_every_declared_topic_has_a_handler_and_every_handler_is_declared() -> None:
    declared = set(_topics(compliance=False)) | set(_topics(compliance=True))
    assert declared == set(HANDLERS)


def test_every_subscription_names_existing_handler_functions_beside_it() -> None:
    for names, topics in _handler_comments():
        assert names, f"no '# handler' comment above the subscription for {topics}"
        for dotted in names:
            assert callable(_resolve(dotted)), dotted
        if len(topics) == 1:
            assert HANDLERS[topics[0]] in [_resolve(name) for name in names]


@pytest.mark.parametrize("topic", _topics(compliance=False))
def test_declared_topic_is_a_webhook_subscription_topic_of_the_pinned_api(topic: str) -> None:
    assert topic_enum(topic) in _webhook_topic_enum()


def test_the_topic_enum_is_read_from_the_schema() -> None:
    values = _webhook_topic_enum()
    assert {"APP_UNINSTALLED", "ORDERS_UPDATED", "BULK_OPERATIONS_FINISH"} <= values
    assert "CUSTOMERS_REDACT" not in values
