"""A bulk operation's inner query: checked by Shopify's limits, run in pages, flattened to JSONL lines."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
    value_from_ast_untyped,
)
from graphql.execution.values import get_argument_values

from devstore.graphql_api.context import RequestContext
from devstore.graphql_api.cost import is_connection
from devstore.graphql_api.resolvers import resolve_field
from devstore.graphql_api.search import parse_search
from devstore.records import Condition, SortKey

MAX_CONNECTIONS = 5
MAX_NESTED_CONNECTION_LEVELS = 2
BULK_ROOTS = {
    "orders": "Order",
    "customers": "Customer",
    "products": "Product",
    "productVariants": "ProductVariant",
    "inventoryItems": "InventoryItem",
    "locations": "Location",
}
_SORT_KEYS = {"UPDATED_AT": SortKey.UPDATED_AT, "CREATED_AT": SortKey.CREATED_AT}


class BulkQueryError(Exception):
    pass


@dataclass(frozen=True)
class BulkPlan:
    document: DocumentNode
    root: FieldNode
    type_name: str
    where: Condition | None
    sort: SortKey
    reverse: bool
    projector: Projector | None = None


class _Unsupported(Exception):
    """A selection the direct projection does not handle (fragments, directives, variables, abstract
    types): graphql-core executes the query instead."""


@dataclass(slots=True)
class _Info:
    """The parts of graphql-core's ``GraphQLResolveInfo`` that ``resolve_field`` reads."""

    context: RequestContext | None
    parent_type: GraphQLObjectType
    field_name: str
    return_type: GraphQLOutputType
    schema: GraphQLSchema
    field_nodes: list[FieldNode]
    variable_values: dict[str, Any]


@dataclass(slots=True)
class _Field:
    key: str
    info: _Info
    args: dict[str, Any]
    children: list[_Field] | None  # the selection of an object-typed field, None for a leaf


class Projector:
    """A bulk query's plain field selection run over the page's documents without graphql-core's
    executor: the same resolver (``resolve_field``) for every field, leaf values serialized by their type
    as graphql-core does, a null in a non-null field refused as graphql-core refuses it. graphql-core's
    general executor costs most of a bulk file's build (tens of thousands of fields a second); this is
    several times faster, and tests check that both give the same lines."""

    def __init__(self, schema: GraphQLSchema, operation: OperationDefinitionNode) -> None:
        query_type = schema.query_type
        assert query_type is not None
        if operation.variable_definitions or operation.directives:
            raise _Unsupported
        self.fields = self._compile(schema, query_type, operation.selection_set)

    def _compile(
        self, schema: GraphQLSchema, parent: GraphQLObjectType, selection: SelectionSetNode | None
    ) -> list[_Field]:
        compiled: list[_Field] = []
        for node in selection.selections if selection else ():
            if not isinstance(node, FieldNode) or node.directives:
                raise _Unsupported
            name = node.name.value
            if name.startswith("__"):
                raise _Unsupported
            definition = parent.fields[name]
            named = get_named_type(definition.type)
            children = None
            if not is_leaf_type(named):
                if not isinstance(named, GraphQLObjectType):
                    raise _Unsupported
                children = self._compile(schema, named, node.selection_set)
            info = _Info(None, parent, name, definition.type, schema, [node], {})
            args = get_argument_values(definition, node, {})
            compiled.append(_Field(node.alias.value if node.alias else name, info, args, children))
        return compiled

    def page(self, ctx: RequestContext) -> list[dict[str, Any]]:
        try:
            data = self._object(ctx, self.fields, None)
        except BulkQueryError:
            raise
        except GraphQLError as error:
            raise BulkQueryError(error.message) from error
        (field,) = self.fields
        return _connection_nodes(data[field.key], field.info.field_nodes[0])

    def _object(self, ctx: RequestContext, fields: list[_Field], source: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in fields:
            info = field.info
            info.context = ctx
            value = resolve_field(source, info, **field.args)  # type: ignore[arg-type]
            out[field.key] = self._complete(ctx, field, info.return_type, value)
        return out

    def _complete(self, ctx: RequestContext, field: _Field, type_: GraphQLOutputType, value: Any) -> Any:
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                info = field.info
                raise BulkQueryError(
                    f"Cannot return null for non-nullable field {info.parent_type.name}.{info.field_name}."
                )
            type_ = type_.of_type
        if value is None:
            return None
        if isinstance(type_, GraphQLList):
            return [self._complete(ctx, field, type_.of_type, item) for item in value]
        if field.children is None:
            return type_.serialize(value)  # type: ignore[union-attr]
        return self._object(ctx, field.children, value)


def _fields(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    return [s for s in (selection_set.selections if selection_set else ()) if isinstance(s, FieldNode)]


def _connection_depths(
    selection_set: SelectionSetNode | None, parent: GraphQLObjectType, depth: int
) -> Iterator[int]:
    for field in _fields(selection_set):
        definition = parent.fields.get(field.name.value)
        if definition is None:
            continue
        type_ = get_named_type(definition.type)
        if not isinstance(type_, GraphQLObjectType):
            continue
        child_depth = depth + 1 if is_connection(type_) else depth
        if is_connection(type_):
            yield child_depth
        yield from _connection_depths(field.selection_set, type_, child_depth)


def plan_bulk_query(schema: GraphQLSchema, query: str) -> BulkPlan:
    try:
        document = parse(query)
    except GraphQLError as error:
        raise BulkQueryError(f"Invalid bulk query: {error.message}") from error
    errors = validate(schema, document)
    if errors:
        raise BulkQueryError(f"Invalid bulk query: {errors[0].message}")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        raise BulkQueryError("Invalid bulk query: a bulk query must be one query operation")
    roots = _fields(operations[0].selection_set)
    root_type = schema.query_type
    assert root_type is not None
    connection_roots = [f for f in roots if f.name.value in BULK_ROOTS]
    if len(roots) != 1 or not connection_roots:
        raise BulkQueryError("Bulk queries must contain at least one connection.")
    root = connection_roots[0]
    depths = list(_connection_depths(operations[0].selection_set, root_type, 0))
    if len(depths) > MAX_CONNECTIONS:
        raise BulkQueryError(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
    if max(depths, default=1) - 1 > MAX_NESTED_CONNECTION_LEVELS:
        raise BulkQueryError(
            "Bulk queries cannot contain connections with a nesting depth greater than "
            f"{MAX_NESTED_CONNECTION_LEVELS}."
        )
    args = {a.name.value: value_from_ast_untyped(a.value) for a in root.arguments or ()}
    type_name = BULK_ROOTS[root.name.value]
    try:
        where = parse_search(type_name, args.get("query"))
    except ValueError as error:
        raise BulkQueryError(f"Invalid bulk query: {error}") from error
    try:
        projector: Projector | None = Projector(schema, operations[0])
    except _Unsupported:
        projector = None
    return BulkPlan(
        document,
        root,
        type_name,
        where,
        _SORT_KEYS.get(str(args.get("sortKey")), SortKey.ID),
        bool(args.get("reverse")),
        projector,
    )


def run_page(schema: GraphQLSchema, plan: BulkPlan, ctx: RequestContext) -> list[dict[str, Any]]:
    """The root nodes of one page (`ctx.bulk_rows`), as the inner query selects them: projected directly
    when the query is plain fields (a bulk query's usual shape), else by graphql-core's executor."""
    if ctx.bulk_cache is not None and ctx.bulk_rows:  # the page's own documents, where references look
        ctx.bulk_cache.update((("owner", doc["id"]), doc) for doc in ctx.bulk_rows)
    if plan.projector is not None:
        return plan.projector.page(ctx)
    return execute_page(schema, plan, ctx)


def execute_page(schema: GraphQLSchema, plan: BulkPlan, ctx: RequestContext) -> list[dict[str, Any]]:
    """The page by graphql-core's executor (the reference the direct projection must equal)."""
    result = execute(schema, plan.document, context_value=ctx, field_resolver=resolve_field)
    assert isinstance(result, ExecutionResult)
    if result.errors:
        raise BulkQueryError(result.errors[0].message)
    assert result.data is not None
    key = plan.root.alias.value if plan.root.alias else plan.root.name.value
    return _connection_nodes(result.data[key], plan.root)


def _connection_nodes(value: Any, field: FieldNode) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    if not isinstance(value, Mapping):
        return nodes
    for child in _fields(field.selection_set):
        key = child.alias.value if child.alias else child.name.value
        if child.name.value == "nodes":
            nodes.extend(value.get(key) or ())
        elif child.name.value == "edges":
            for edge in value.get(key) or ():
                for edge_field in _fields(child.selection_set):
                    if edge_field.name.value == "node":
                        nodes.append(edge[edge_field.alias.value if edge_field.alias else "node"])
    return nodes


def flatten(
    node: dict[str, Any], field: FieldNode, node_type: GraphQLObjectType, parent_id: str | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The node's own line (connections removed, `__parentId` added) and its descendants' lines."""
    selection = _node_selection(field)
    line: dict[str, Any] = {}
    children: list[dict[str, Any]] = []
    own_id = node.get("id") if isinstance(node.get("id"), str) else parent_id
    _split(node, selection, node_type, own_id, line, children)
    if parent_id is not None:
        line["__parentId"] = parent_id
    return line, children


def _node_selection(field: FieldNode) -> SelectionSetNode | None:
    for child in _fields(field.selection_set):
        if child.name.value == "nodes":
            return child.selection_set
        if child.name.value == "edges":
            for edge_field in _fields(child.selection_set):
                if edge_field.name.value == "node":
                    return edge_field.selection_set
    return None


def _split(
    value: dict[str, Any],
    selection: SelectionSetNode | None,
    type_: GraphQLObjectType,
    own_id: str | None,
    line: dict[str, Any],
    children: list[dict[str, Any]],
) -> None:
    for field in _fields(selection):
        key = field.alias.value if field.alias else field.name.value
        definition = type_.fields.get(field.name.value)
        field_type = None if definition is None else get_named_type(definition.type)
        if key not in value:
            continue
        if is_connection(field_type):
            assert isinstance(field_type, GraphQLObjectType)
            node_type = get_named_type(field_type.fields["nodes"].type)
            assert isinstance(node_type, GraphQLObjectType)
            for child in _connection_nodes(value[key], field):
                child_line, grandchildren = flatten(child, field, node_type, own_id)
                children.append(child_line)
                children.extend(grandchildren)
        else:
            line[key] = value[key]


def jsonl_line(line: dict[str, Any]) -> bytes:
    # Shopify's encoder escapes forward slashes: "gid:\/\/shopify\/Order\/1".
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/") + "\n").encode()
