"""The store's schema is a faithful subset of Shopify's Admin schema (same names, types, defaults)."""

from __future__ import annotations

import functools
import pathlib

import pytest
from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    UnionTypeDefinitionNode,
    parse,
    print_ast,
)

from devstore.graphql_api.schema import SCHEMA_PATH

REFERENCE_DIR = (
    pathlib.Path(__file__).resolve().parents[4] / "shared" / "shopify-reference" / "admin-graphql-schema"
)
REFERENCE = REFERENCE_DIR / "admin-2026-07.graphql"
pytestmark = pytest.mark.skipif(
    not REFERENCE.is_file(), reason=f"Shopify's reference schema is not at {REFERENCE}"
)

Named = (
    ObjectTypeDefinitionNode
    | InterfaceTypeDefinitionNode
    | InputObjectTypeDefinitionNode
    | EnumTypeDefinitionNode
    | ScalarTypeDefinitionNode
    | UnionTypeDefinitionNode
)


@functools.cache
def definitions(path: pathlib.Path) -> dict[str, Named]:
    document: DocumentNode = parse(path.read_text(encoding="utf-8"), no_location=True)
    return {d.name.value: d for d in document.definitions if isinstance(d, Named)}


def signature(node: object) -> str:
    """A field, argument or input field as SDL, without its description."""
    return print_ast(
        type(node)(**{k: getattr(node, k) for k in node.keys if k not in {"description", "loc"}})
    )  # type: ignore[attr-defined]


def subset_types() -> list[str]:
    return sorted(definitions(SCHEMA_PATH)) if REFERENCE.is_file() else []


@pytest.mark.parametrize("name", subset_types())
def test_type_exists_identically_in_the_reference(name: str) -> None:
    ours, theirs = definitions(SCHEMA_PATH)[name], definitions(REFERENCE)[name]
    assert type(ours) is type(theirs)
    if isinstance(ours, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
        assert isinstance(theirs, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode)
        reference_fields = {f.name.value: signature(f) for f in theirs.fields or ()}
        for field in ours.fields or ():
            assert signature(field) == reference_fields.get(field.name.value), f"{name}.{field.name.value}"
        reference_interfaces = {i.name.value for i in theirs.interfaces or ()}
        assert {i.name.value for i in ours.interfaces or ()} <= reference_interfaces
    elif isinstance(ours, InputObjectTypeDefinitionNode):
        assert isinstance(theirs, InputObjectTypeDefinitionNode)
        assert [signature(f) for f in ours.fields or ()] == [signature(f) for f in theirs.fields or ()]
    elif isinstance(ours, EnumTypeDefinitionNode):
        assert isinstance(theirs, EnumTypeDefinitionNode)
        assert [signature(v) for v in ours.values or ()] == [signature(v) for v in theirs.values or ()]
    else:
        assert signature(ours) == signature(theirs)


def test_interfaces_kept_are_fully_implemented() -> None:
    ours = definitions(SCHEMA_PATH)
    for definition in ours.values():
        if not isinstance(definition, ObjectTypeDefinitionNode):
            continue
        fields = {f.name.value for f in definition.fields or ()}
        for interface in definition.interfaces or ():
            interface_def = ours[interface.name.value]
            assert isinstance(interface_def, InterfaceTypeDefinitionNode)
            assert {f.name.value for f in interface_def.fields or ()} <= fields, definition.name.value


def test_root_fields_the_app_needs_are_served() -> None:
    query_root = definitions(SCHEMA_PATH)["QueryRoot"]
    assert isinstance(query_root, ObjectTypeDefinitionNode)
    assert {"orders", "customers", "products", "inventoryItems", "bulkOperation", "webhookSubscriptions"} <= {
        f.name.value for f in query_root.fields or ()
    }
