from __future__ import annotations

from pathlib import Path

import pytest

from integrations.shopify.app_config import load_app_config
from tests.conftest import PROJECT_ROOT, REFERENCE

COMPLIANCE = ("customers/data_request", "customers/redact", "shop/redact")


def test_project_toml_is_read_into_scopes_version_and_topics() -> None:
    config = load_app_config(PROJECT_ROOT / "shopify.app.toml")
    assert config.embedded is True
    assert config.api_version == "2026-07"
    assert "read_orders" in config.scopes
    assert config.topics[:2] == ("app/uninstalled", "app/scopes_update")
    assert {"orders/updated", "fulfillments/update", "inventory_levels/update"} <= set(config.topics)
    assert not set(config.topics) & set(COMPLIANCE)
    assert config.compliance_topics == COMPLIANCE
    assert config.uri_for("app/uninstalled") == "/webhooks"
    assert config.uri_for("shop/redact") == "/webhooks/compliance"
    assert config.redirect_urls and all(url.endswith("/auth/callback") for url in config.redirect_urls)


def test_reference_example_toml_is_read_with_its_grouped_topics() -> None:
    config = load_app_config(REFERENCE / "shopify.app.example.toml")
    assert config.client_id == "0123456789abcdef0123456789abcdef"
    assert config.name == "Helpdesk Orders"
    assert config.application_url == "https://helpdesk.example.com/shopify/app"
    assert config.api_version == "2026-07"
    assert len(config.scopes) == 10
    assert "read_third_party_fulfillment_orders" in config.scopes
    assert config.redirect_urls == ("https://helpdesk.example.com/shopify/auth/callback",)
    assert len(config.topics) == 21
    assert {"orders/updated", "bulk_operations/finish", "customers/merge"} <= set(config.topics)
    assert config.compliance_topics == COMPLIANCE
    assert config.uri_for("orders/create") == "/shopify/webhooks"
    assert config.uri_for("customers/redact") == "/shopify/webhooks/compliance"


def test_a_topic_declared_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shopify.app.toml"
    path.write_text(
        'client_id = "x"\nname = "x"\napplication_url = "https://x"\nembedded = true\n'
        '[webhooks]\napi_version = "2026-07"\n'
        '[[webhooks.subscriptions]]\ntopics = ["orders/create"]\nuri = "/a"\n'
        '[[webhooks.subscriptions]]\ntopics = ["orders/create"]\nuri = "/b"\n'
    )
    with pytest.raises(ValueError, match="declared twice"):
        load_app_config(path)
