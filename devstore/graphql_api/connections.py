"""Cursor pagination: root connections page the record store, embedded lists page in memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError

from devstore.graphql_api.context import RequestContext
from devstore.graphql_api.cursors import decode_index, decode_position, encode_index, encode_position
from devstore.graphql_api.search import parse_search
from devstore.records import AllOf, Condition, Position, SortKey

MAX_PAGE_SIZE = 250
_SORT_KEYS = {
    "ID": SortKey.ID,
    "UPDATED_AT": SortKey.UPDATED_AT,
    "CREATED_AT": SortKey.CREATED_AT,
    "PROCESSED_AT": SortKey.CREATED_AT,
}

Connection = dict[str, Any]


def page_size(args: dict[str, Any]) -> tuple[int | None, int | None]:
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise GraphQLError(f"The value of the argument `{name}` must be between 0 and {MAX_PAGE_SIZE}.")
    return first, last


def connection(
    nodes: Sequence[Any], cursors: Sequence[str], has_previous: bool, has_next: bool
) -> Connection:
    return {
        "edges": [{"cursor": cursor, "node": node} for cursor, node in zip(cursors, nodes, strict=True)],
        "nodes": list(nodes),
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


def list_connection(items: Sequence[Any], args: dict[str, Any], *, unlimited: bool = False) -> Connection:
    if args.get("reverse"):
        items = list(reversed(items))
    start, end = 0, len(items)
    if args.get("after"):
        start = max(start, decode_index(args["after"]) + 1)
    if args.get("before"):
        end = min(end, decode_index(args["before"]))
    if not unlimited:
        first, last = page_size(args)
        if first is not None:
            end = min(end, start + first)
        if last is not None:
            start = max(start, end - last)
    end = max(start, end)
    indexes = range(start, end)
    return connection(
        [items[i] for i in indexes], [encode_index(i) for i in indexes], start > 0, end < len(items)
    )


def root_connection(
    ctx: RequestContext, type_name: str, args: dict[str, Any], extra: Sequence[Condition] = ()
) -> Connection:
    first, last = page_size(args)
    conditions = list(extra)
    try:
        searched = parse_search(type_name, args.get("query"))
    except ValueError as error:
        raise GraphQLError(f"Invalid search query: {error}") from error
    if searched is not None:
        conditions.append(searched)
    where = None if not conditions else conditions[0] if len(conditions) == 1 else AllOf(tuple(conditions))
    sort = _SORT_KEYS.get(str(args.get("sortKey") or "ID"), SortKey.ID)
    reverse = bool(args.get("reverse"))
    after = decode_position(args["after"]) if args.get("after") else None
    before = decode_position(args["before"]) if args.get("before") else None

    def fetch(limit: int, *, after: Position | None, before: Position | None, from_end: bool) -> list[Any]:
        try:
            return ctx.records.page(
                ctx.shop,
                type_name,
                limit=limit,
                where=where,
                sort=sort,
                reverse=reverse,
                after=after,
                before=before,
                from_end=from_end,
            )
        except ValueError as error:
            raise GraphQLError(f"Invalid search query: {error}") from error

    if first is not None:
        rows = fetch(first + 1, after=after, before=before, from_end=False)
        has_next = len(rows) > first
        rows = rows[:first]
        if last is not None:
            rows = rows[-last:] if last else []
        has_previous = after is not None and bool(
            fetch(1, after=None, before=_next(after, rows), from_end=True)
        )
    else:
        assert last is not None
        rows = fetch(last + 1, after=after, before=before, from_end=True)
        has_previous = len(rows) > last
        rows = rows[len(rows) - last :] if last else []
        has_next = before is not None and bool(
            fetch(1, after=_prev(before, rows), before=None, from_end=False)
        )
    return connection(
        [row.doc for row in rows], [encode_position(row.position) for row in rows], has_previous, has_next
    )


def _next(after: Position, rows: Sequence[Any]) -> Position:
    return rows[0].position if rows else Position(after.sort_value, after.num + 1)


def _prev(before: Position, rows: Sequence[Any]) -> Position:
    return rows[-1].position if rows else Position(before.sort_value, before.num - 1)
