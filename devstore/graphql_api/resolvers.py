"""Resolving fields over documents: one generic resolver plus the few fields that compute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)
from graphql.execution.values import get_directive_values

from devstore.generator.people import display_name
from devstore.graphql_api.connections import Connection, connection, list_connection, root_connection
from devstore.graphql_api.context import RequestContext
from devstore.graphql_api.cost import is_connection
from devstore.graphql_api.cursors import encode_index
from devstore.records import Term, parse_gid

Doc = dict[str, Any]
Special = Callable[[RequestContext, Doc, dict[str, Any]], Any]
RootField = Callable[[RequestContext, dict[str, Any]], Any]
MISSING = object()
APP_OWNED_TYPES = frozenset({"WebhookSubscription", "BulkOperation"})
BULK_CACHE_ENTRIES = 20_000  # bounded: a bulk file's build stays flat in memory


def get_typed(ctx: RequestContext, gid: object, type_name: str | None = None) -> Doc | None:
    """The document with this gid if it has the expected type and this app may see it."""
    if not isinstance(gid, str):
        return None
    parsed = parse_gid(gid)
    if parsed is None or (type_name is not None and parsed[0] != type_name):
        return None
    cache = ctx.bulk_cache
    if cache is None:
        doc = ctx.records.get(ctx.shop, gid)
    elif gid in cache:
        doc = cache[gid]
    else:
        if len(cache) >= BULK_CACHE_ENTRIES:
            cache.clear()
        doc = cache[gid] = ctx.records.get(ctx.shop, gid, owners=cache)
    if doc is None:
        return None
    if parsed[0] in APP_OWNED_TYPES and doc.get("_clientId") != ctx.client_id:
        return None
    return doc


def _attach(parent: Doc, child: Any) -> Any:
    """Embedded objects remember their top-level owner and nearest parent, for back references."""
    if isinstance(child, dict) and "_owner" not in child:
        child["_owner"] = parent.get("_owner") or parent.get("id")
        child["_parent"] = parent.get("id") or parent.get("_parent")
    return child


def _resolve_item(ctx: RequestContext, parent: Doc, item: Any) -> Any:
    if isinstance(item, str):
        return get_typed(ctx, item)
    return _attach(parent, item)


def _nested(doc: Doc, *path: str) -> Any:
    value: Any = doc
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _legacy_id(doc: Doc) -> int | None:
    parsed = parse_gid(str(doc.get("id", "")))
    return None if parsed is None else parsed[1]


def _customer_display_name(doc: Doc) -> str:
    name = display_name(doc.get("firstName"), doc.get("lastName"))
    return name or str(_nested(doc, "defaultEmailAddress", "emailAddress") or "")


def _line_item_product(ctx: RequestContext, doc: Doc) -> Doc | None:
    variant = get_typed(ctx, doc.get("variant"), "ProductVariant")
    return None if variant is None else get_typed(ctx, variant.get("_owner"), "Product")


def _shop_domain(doc: Doc) -> Doc:
    host = str(doc.get("myshopifyDomain", ""))
    return {"id": "gid://shopify/Domain/1", "host": host, "url": f"https://{host}", "sslEnabled": True}


DERIVED: dict[tuple[str, str], Callable[[RequestContext, Doc], Any]] = {
    ("MoneyBag", "presentmentMoney"): lambda ctx, doc: doc.get("shopMoney"),
    ("Order", "closed"): lambda ctx, doc: doc.get("closedAt") is not None,
    ("Customer", "email"): lambda ctx, doc: _nested(doc, "defaultEmailAddress", "emailAddress"),
    ("Customer", "phone"): lambda ctx, doc: _nested(doc, "defaultPhoneNumber", "phoneNumber"),
    ("Customer", "displayName"): lambda ctx, doc: _customer_display_name(doc),
    ("WebhookSubscription", "callbackUrl"): lambda ctx, doc: doc.get("uri"),
    ("LineItem", "name"): lambda ctx, doc: doc.get("title"),
    ("LineItem", "product"): _line_item_product,
    ("Shop", "contactEmail"): lambda ctx, doc: doc.get("email"),
    ("Shop", "url"): lambda ctx, doc: f"https://{doc.get('myshopifyDomain')}",
    ("Shop", "primaryDomain"): lambda ctx, doc: _shop_domain(doc),
    # stores generated before shopAddress was kept have only the (deprecated) billing address
    ("Shop", "shopAddress"): lambda ctx, doc: doc.get("shopAddress") or doc.get("billingAddress") or {},
}


def _customer_orders(ctx: RequestContext, doc: Doc, args: dict[str, Any]) -> Connection:
    by_customer = Term("customer_id", "=", str(_legacy_id(doc)))
    if ctx.in_bulk:
        orders = [row.doc for row in ctx.records.scan(ctx.shop, "Order", where=by_customer)]
        return list_connection(orders, args, unlimited=True)
    return root_connection(ctx, "Order", args, extra=[by_customer])


def _inventory_level(ctx: RequestContext, doc: Doc, args: dict[str, Any]) -> Doc | None:
    for level in doc.get("inventoryLevels") or ():
        location = level.get("location")
        location_id = location.get("id") if isinstance(location, dict) else location
        if location_id == args.get("locationId"):
            return _attach(doc, level)  # type: ignore[no-any-return]
    return None


def _inventory_item_variants(ctx: RequestContext, doc: Doc, args: dict[str, Any]) -> Connection:
    parent = get_typed(ctx, doc.get("_parent"), "ProductVariant")
    return list_connection([parent] if parent else [], args, unlimited=ctx.in_bulk)


def _quantities(ctx: RequestContext, doc: Doc, args: dict[str, Any]) -> list[Doc]:
    held = {q.get("name"): q for q in doc.get("quantities") or () if isinstance(q, dict)}
    return [held.get(name) or {"name": name, "quantity": 0} for name in args.get("names") or ()]


SPECIAL: dict[tuple[str, str], Special] = {
    ("Customer", "orders"): _customer_orders,
    ("InventoryItem", "inventoryLevel"): _inventory_level,
    ("InventoryItem", "variants"): _inventory_item_variants,
    ("InventoryLevel", "quantities"): _quantities,
}

ROOT_FIELDS: dict[str, RootField] = {}
MUTATIONS: dict[str, RootField] = {}


def resolve_field(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    ctx: RequestContext = info.context
    parent_type = info.parent_type.name
    if parent_type in {"QueryRoot", "Mutation"}:
        if ctx.bulk_rows is not None:  # a bulk operation's page of root objects
            rows = ctx.bulk_rows
            return connection(rows, [encode_index(i) for i in range(len(rows))], False, False)
        table = ROOT_FIELDS if parent_type == "QueryRoot" else MUTATIONS
        root_field = table.get(info.field_name)
        if root_field is None:
            raise GraphQLError(f"Field '{info.field_name}' is not served by the dev store")
        if parent_type == "Mutation":
            ctx.idempotency_key = _idempotency_key(info)
        return root_field(ctx, args)
    if not isinstance(source, dict):
        return None
    special = SPECIAL.get((parent_type, info.field_name))
    if special is not None:
        return special(ctx, source, args)
    value = source.get(info.field_name, MISSING)
    if value is MISSING:
        value = _derive(ctx, source, info)
    return _shape(ctx, source, value, info, args)


def _idempotency_key(info: GraphQLResolveInfo) -> str | None:
    directive = info.schema.get_directive("idempotent")
    if directive is None:
        return None
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values)
    key = None if values is None else values.get("key")
    return key if isinstance(key, str) else None


def _derive(ctx: RequestContext, doc: Doc, info: GraphQLResolveInfo) -> Any:
    if info.field_name == "legacyResourceId":
        return _legacy_id(doc)
    derived = DERIVED.get((info.parent_type.name, info.field_name))
    if derived is not None:
        return derived(ctx, doc)
    named = get_named_type(info.return_type)
    if isinstance(named, GraphQLObjectType):
        for key in ("_parent", "_owner"):
            reference = doc.get(key)
            parsed = parse_gid(reference) if isinstance(reference, str) else None
            if parsed is not None and parsed[0] == named.name:
                return get_typed(ctx, reference)
    return None


def _shape(
    ctx: RequestContext, parent: Doc, value: Any, info: GraphQLResolveInfo, args: dict[str, Any]
) -> Any:
    named = get_named_type(info.return_type)
    if value is None or is_leaf_type(named):
        return value
    if is_connection(named):
        if isinstance(value, dict):  # already a connection (computed)
            return value
        items = [_resolve_item(ctx, parent, item) for item in value]
        return list_connection([item for item in items if item is not None], args, unlimited=ctx.in_bulk)
    if is_list_type(get_nullable_type(info.return_type)):  # type: ignore[arg-type]
        items = [_resolve_item(ctx, parent, item) for item in value]
        first = args.get("first")
        if isinstance(first, int) and not ctx.in_bulk:
            items = items[:first]
        return [item for item in items if item is not None]
    return _resolve_item(ctx, parent, value)


def root(name: str, table: dict[str, RootField] = ROOT_FIELDS) -> Callable[[RootField], RootField]:
    def register(function: RootField) -> RootField:
        table[name] = function
        return function

    return register
