"""The shop's policies, read strictly from the ``shop_policies.graphql`` answer (``shop.shopPolicies``).

A policy whose type is unknown to this app is skipped (Shopify adds types); one that lacks its id, type,
title or body, or has a field of the wrong JSON type, raises ``MalformedNode``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from integrations.shopify.graphql_resources import MalformedNode, id_from_gid, parse_datetime

POLICY_TYPES = frozenset(
    {
        "REFUND_POLICY",
        "SHIPPING_POLICY",
        "PRIVACY_POLICY",
        "TERMS_OF_SERVICE",
        "TERMS_OF_SALE",
        "LEGAL_NOTICE",
        "SUBSCRIPTION_POLICY",
        "CONTACT_INFORMATION",
    }
)
# Shopify's limit on a policy's body.
MAX_BODY_BYTES = 512 * 1024
MAX_TITLE_CHARS = 255
MAX_URL_CHARS = 2000


@dataclass(frozen=True, slots=True)
class ShopPolicyRecord:
    shopify_id: int
    policy_type: str
    title: str
    body: str
    url: str | None
    updated_at: datetime | None


def _string(node: Mapping[str, Any], key: str, *, required: bool) -> str | None:
    value = node.get(key)
    if value is None:
        if required:
            raise MalformedNode(f"shopPolicies.{key} is missing")
        return None
    if not isinstance(value, str):
        raise MalformedNode(f"shopPolicies.{key} must be a string")
    return value


def parse_shop_policies(data: Mapping[str, Any]) -> list[ShopPolicyRecord]:
    shop = data.get("shop")
    if not isinstance(shop, Mapping):
        raise MalformedNode("shop must be an object")
    nodes = shop.get("shopPolicies")
    if not isinstance(nodes, list):
        raise MalformedNode("shopPolicies must be a list")
    records: list[ShopPolicyRecord] = []
    for node in nodes:
        if not isinstance(node, Mapping):
            raise MalformedNode("a shop policy must be an object")
        policy_type = _string(node, "type", required=True)
        if policy_type not in POLICY_TYPES:
            continue
        body = _string(node, "body", required=True) or ""
        url = _string(node, "url", required=False)
        records.append(
            ShopPolicyRecord(
                shopify_id=id_from_gid(node.get("id")),
                policy_type=policy_type,
                title=(_string(node, "title", required=True) or "")[:MAX_TITLE_CHARS],
                body=body.encode("utf-8")[:MAX_BODY_BYTES].decode("utf-8", "ignore"),
                url=url
                if url is not None and len(url) <= MAX_URL_CHARS and url.startswith("https://")
                else None,
                updated_at=parse_datetime(node.get("updatedAt")),
            )
        )
    return records
