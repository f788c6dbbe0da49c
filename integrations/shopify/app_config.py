"""Reads a Shopify CLI app configuration (``shopify.app.toml``): scopes, API version, webhook topics."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class WebhookSubscription:
    topic: str
    uri: str
    compliance: bool


@dataclass(frozen=True, slots=True)
class AppConfig:
    client_id: str
    name: str
    application_url: str
    embedded: bool
    scopes: tuple[str, ...]
    redirect_urls: tuple[str, ...]
    api_version: str
    subscriptions: tuple[WebhookSubscription, ...]

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(s.topic for s in self.subscriptions if not s.compliance)

    @property
    def compliance_topics(self) -> tuple[str, ...]:
        return tuple(s.topic for s in self.subscriptions if s.compliance)

    def uri_for(self, topic: str) -> str:
        return next(s.uri for s in self.subscriptions if s.topic == topic)


def load_app_config(path: Path) -> AppConfig:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    webhooks = raw.get("webhooks", {})
    subscriptions: list[WebhookSubscription] = []
    for entry in webhooks.get("subscriptions", []):
        for topic in entry.get("topics", []):
            subscriptions.append(WebhookSubscription(topic=topic, uri=entry["uri"], compliance=False))
        for topic in entry.get("compliance_topics", []):
            subscriptions.append(WebhookSubscription(topic=topic, uri=entry["uri"], compliance=True))
    seen: set[str] = set()
    for subscription in subscriptions:
        if subscription.topic in seen:
            raise ValueError(f"{path}: topic {subscription.topic} is declared twice")
        seen.add(subscription.topic)
    scopes = raw.get("access_scopes", {}).get("scopes", "")
    return AppConfig(
        client_id=raw["client_id"],
        name=raw["name"],
        application_url=raw["application_url"],
        embedded=bool(raw["embedded"]),
        scopes=tuple(s.strip() for s in scopes.split(",") if s.strip()),
        redirect_urls=tuple(raw.get("auth", {}).get("redirect_urls", [])),
        api_version=webhooks["api_version"],
        subscriptions=tuple(subscriptions),
    )
