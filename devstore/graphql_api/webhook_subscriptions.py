"""webhookSubscriptionCreate / Update / Delete, stored as `WebhookSubscription` documents of the app."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from devstore.graphql_api.context import RequestContext, iso
from devstore.graphql_api.queries import app_scope
from devstore.graphql_api.resolvers import MUTATIONS, Doc, get_typed, root
from devstore.records import AllOf, Term, make_gid

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
Payload = dict[str, Any]


def _user_error(field: list[str] | None, message: str) -> Doc:
    return {"field": field, "message": message}


def _address_problem(address: str) -> str | None:
    if address.startswith(("pubsub://", "arn:aws:events:")):
        return None
    parts = urlsplit(address)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return None  # a dev store accepts plain http on this machine
    if parts.scheme == "http" and parts.hostname:
        return "Address protocol http:// is not supported"
    return "Address is invalid"


def _input_address(settings: dict[str, Any]) -> tuple[str, str | None]:
    key = "uri" if settings.get("uri") is not None or "callbackUrl" not in settings else "callbackUrl"
    value = settings.get(key)
    return key, None if value is None else str(value)


def _taken(ctx: RequestContext, topic: str, uri: str, except_id: str | None = None) -> bool:
    rows = ctx.records.page(
        ctx.shop,
        "WebhookSubscription",
        limit=2,
        where=AllOf((app_scope(ctx), Term("topic", "=", topic.lower()), Term("uri", "=", uri))),
    )
    return any(row.doc["id"] != except_id for row in rows)


def _validate(
    ctx: RequestContext, topic: str, settings: dict[str, Any], except_id: str | None = None
) -> tuple[str | None, list[Doc]]:
    key, address = _input_address(settings)
    field = ["webhookSubscription", key]
    if not address:
        return None, [_user_error(field, "Address can't be blank")]
    problem = _address_problem(address)
    if problem is not None:
        return None, [_user_error(field, problem)]
    if _taken(ctx, topic, address, except_id):
        return None, [_user_error(field, "Address for this topic has already been taken")]
    return address, []


def _apply(doc: Doc, settings: dict[str, Any], address: str) -> None:
    doc["uri"] = address
    for key, default in (("format", "JSON"), ("includeFields", []), ("metafieldNamespaces", [])):
        if settings.get(key) is not None or key not in doc:
            doc[key] = settings.get(key) if settings.get(key) is not None else default
    for key in ("filter", "name"):
        if key in settings or key not in doc:
            doc[key] = settings.get(key)


@root("webhookSubscriptionCreate", MUTATIONS)
def create(ctx: RequestContext, args: dict[str, Any]) -> Payload:
    topic = str(args["topic"])
    settings: dict[str, Any] = dict(args.get("webhookSubscription") or {})
    address, errors = _validate(ctx, topic, settings)
    if address is None:
        return {"webhookSubscription": None, "userErrors": errors}
    now = iso(ctx.wall_clock())
    doc: Doc = {
        "id": make_gid("WebhookSubscription", ctx.records.next_id(ctx.shop, "WebhookSubscription")),
        "topic": topic,
        "apiVersion": {"handle": ctx.api_version, "displayName": ctx.api_version, "supported": True},
        "createdAt": now,
        "updatedAt": now,
        "_clientId": ctx.client_id,
    }
    _apply(doc, settings, address)
    ctx.records.put(ctx.shop, doc)
    return {"webhookSubscription": doc, "userErrors": []}


@root("webhookSubscriptionUpdate", MUTATIONS)
def update(ctx: RequestContext, args: dict[str, Any]) -> Payload:
    doc = get_typed(ctx, args.get("id"), "WebhookSubscription")
    if doc is None:
        return {
            "webhookSubscription": None,
            "userErrors": [_user_error(["id"], "Webhook subscription does not exist")],
        }
    settings: dict[str, Any] = dict(args.get("webhookSubscription") or {})
    if settings.get("uri") is None and settings.get("callbackUrl") is None:
        settings["uri"] = doc["uri"]
    address, errors = _validate(ctx, str(doc["topic"]), settings, except_id=doc["id"])
    if address is None:
        return {"webhookSubscription": None, "userErrors": errors}
    _apply(doc, settings, address)
    doc["updatedAt"] = iso(ctx.wall_clock())
    ctx.records.put(ctx.shop, doc)
    return {"webhookSubscription": doc, "userErrors": []}


@root("webhookSubscriptionDelete", MUTATIONS)
def delete(ctx: RequestContext, args: dict[str, Any]) -> Payload:
    doc = get_typed(ctx, args.get("id"), "WebhookSubscription")
    if doc is None or not ctx.records.delete(ctx.shop, doc["id"]):
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [_user_error(["id"], "Webhook subscription does not exist")],
        }
    return {"deletedWebhookSubscriptionId": doc["id"], "userErrors": []}
