"""Root query fields."""

from __future__ import annotations

from typing import Any

from babel import Locale, UnknownLocaleError
from graphql import GraphQLError, GraphQLObjectType

from devstore.graphql_api.connections import Connection, root_connection
from devstore.graphql_api.context import RequestContext
from devstore.graphql_api.resolvers import ROOT_FIELDS, Doc, get_typed, root
from devstore.graphql_api.schema import load_schema
from devstore.graphql_api.search import parse_search
from devstore.records import AllOf, AnyOf, Condition, SortKey, Term, parse_gid

_BY_ID = {
    "order": "Order",
    "customer": "Customer",
    "product": "Product",
    "productVariant": "ProductVariant",
    "inventoryItem": "InventoryItem",
    "location": "Location",
    "webhookSubscription": "WebhookSubscription",
    "bulkOperation": "BulkOperation",
}
_LISTS = {
    "orders": "Order",
    "customers": "Customer",
    "products": "Product",
    "productVariants": "ProductVariant",
    "inventoryItems": "InventoryItem",
}


def _by_id(type_name: str) -> Any:
    return lambda ctx, args: get_typed(ctx, args.get("id"), type_name)


def _listing(type_name: str) -> Any:
    return lambda ctx, args: root_connection(ctx, type_name, args)


for _field, _type in _BY_ID.items():
    ROOT_FIELDS[_field] = _by_id(_type)
for _field, _type in _LISTS.items():
    ROOT_FIELDS[_field] = _listing(_type)


def app_scope(ctx: RequestContext) -> Term:
    return Term("_client", "=", ctx.client_id)


@root("shop")
def shop(ctx: RequestContext, args: dict[str, Any]) -> Doc | None:
    rows = ctx.records.page(ctx.shop, "Shop", limit=1)
    return rows[0].doc if rows else None


@root("shopLocales")
def shop_locales(ctx: RequestContext, args: dict[str, Any]) -> list[Doc]:
    """The shop's locales (``_locales`` of the shop document; else its one ``_locale``, primary)."""
    doc = shop(ctx, {})
    if doc is None:
        return []
    held = doc.get("_locales") or [{"locale": doc.get("_locale") or "en", "primary": True, "published": True}]
    locales = [
        {
            "locale": entry["locale"],
            "name": locale_name(entry["locale"]),
            "primary": bool(entry.get("primary")),
            "published": bool(entry.get("published")),
        }
        for entry in held
    ]
    return [entry for entry in locales if entry["published"]] if args.get("published") else locales


def locale_name(code: str) -> str:
    """The English name Shopify shows for a locale code (``ja`` → ``Japanese``)."""
    try:
        return str(Locale.parse(code, sep="-").english_name)
    except (ValueError, UnknownLocaleError):
        return code


def _node(ctx: RequestContext, gid: object) -> Doc | None:
    parsed = parse_gid(gid) if isinstance(gid, str) else None
    if parsed is None:
        return None
    type_ = load_schema().get_type(parsed[0])
    if not isinstance(type_, GraphQLObjectType) or "Node" not in {i.name for i in type_.interfaces}:
        return None
    return get_typed(ctx, gid)


@root("node")
def node(ctx: RequestContext, args: dict[str, Any]) -> Doc | None:
    return _node(ctx, args.get("id"))


@root("nodes")
def nodes(ctx: RequestContext, args: dict[str, Any]) -> list[Doc | None]:
    return [_node(ctx, gid) for gid in args.get("ids") or ()]


@root("locations")
def locations(ctx: RequestContext, args: dict[str, Any]) -> Connection:
    extra: list[Condition] = []
    if not args.get("includeInactive"):
        extra.append(Term("active", "=", "false", negate=True))
    return root_connection(ctx, "Location", args, extra)


@root("webhookSubscriptions")
def webhook_subscriptions(ctx: RequestContext, args: dict[str, Any]) -> Connection:
    extra: list[Condition] = [app_scope(ctx)]
    topics = args.get("topics")
    if topics:
        extra.append(AnyOf(tuple(Term("topic", "=", str(topic).lower()) for topic in topics)))
    uri = args.get("uri") or args.get("callbackUrl")
    if uri:
        extra.append(Term("uri", "=", str(uri)))
    return root_connection(ctx, "WebhookSubscription", args, extra)


@root("bulkOperations")
def bulk_operations(ctx: RequestContext, args: dict[str, Any]) -> Connection:
    return root_connection(ctx, "BulkOperation", args, [app_scope(ctx)])


@root("currentBulkOperation")
def current_bulk_operation(ctx: RequestContext, args: dict[str, Any]) -> Doc | None:
    kind = str(args.get("type") or "QUERY").lower()
    rows = ctx.records.page(
        ctx.shop,
        "BulkOperation",
        limit=1,
        where=AllOf((app_scope(ctx), Term("operation_type", "=", kind))),
        sort=SortKey.CREATED_AT,
        reverse=True,
    )
    return rows[0].doc if rows else None


_COUNTS = {
    "ordersCount": "Order",
    "customersCount": "Customer",
    "productsCount": "Product",
    "productVariantsCount": "ProductVariant",
}


def _counting(type_name: str) -> Any:
    def count(ctx: RequestContext, args: dict[str, Any]) -> Doc:
        try:
            where = parse_search(type_name, args.get("query"))
        except ValueError as error:
            raise GraphQLError(f"Invalid search query: {error}") from error
        total = ctx.records.count(ctx.shop, type_name, where)
        limit = args.get("limit")
        if isinstance(limit, int) and total > limit:
            return {"count": limit, "precision": "AT_LEAST"}
        return {"count": total, "precision": "EXACT"}

    return count


for _field, _type in _COUNTS.items():
    ROOT_FIELDS[_field] = _counting(_type)
