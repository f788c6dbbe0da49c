"""The store's GraphQL schema: the committed subset of Shopify's, with Shopify's scalar encodings."""

from __future__ import annotations

import functools
import pathlib
from decimal import Decimal
from typing import Any

from graphql import GraphQLInterfaceType, GraphQLResolveInfo, GraphQLScalarType, GraphQLSchema, build_schema

from devstore.records import parse_gid

SCHEMA_PATH = pathlib.Path(__file__).resolve().parent.parent / "schema" / "admin-2026-07.graphql"
SUPPORTED_API_VERSIONS = frozenset({"2026-04", "2026-07"})


def _decimal(value: Any) -> str:
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    return str(value)


def _unsigned_int64(value: Any) -> str:
    return str(int(value))


def _resolve_type(value: Any, info: GraphQLResolveInfo, abstract: Any) -> str | None:
    if isinstance(value, dict):
        typename = value.get("__typename")
        if isinstance(typename, str):
            return typename
        parsed = parse_gid(str(value.get("id", "")))
        if parsed is not None:
            return parsed[0]
    return None


@functools.cache
def load_schema() -> GraphQLSchema:
    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    # Shopify's schema trips graphql-core's strict self-check on deprecated interface fields.
    schema._validation_errors = []
    for name, serialize in (("Decimal", _decimal), ("Money", _decimal), ("UnsignedInt64", _unsigned_int64)):
        scalar = schema.type_map.get(name)
        if isinstance(scalar, GraphQLScalarType):
            scalar.serialize = serialize  # type: ignore[method-assign]
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLInterfaceType):
            type_.resolve_type = _resolve_type
    return schema
