from __future__ import annotations

import pytest
from graphql import GraphQLSchema, parse, specified_rules, validate
from graphql.validation import NoDeprecatedCustomRule

from integrations.shopify.graphql import document, document_names

RULES = [*specified_rules, NoDeprecatedCustomRule]


def test_the_app_ships_graphql_documents() -> None:
    assert {"webhook_subscriptions", "webhook_subscription_create"} <= set(document_names())


@pytest.mark.parametrize("name", document_names())
def test_graphql_document_is_valid_against_the_pinned_admin_schema(
    admin_schema: GraphQLSchema, name: str
) -> None:
    errors = validate(admin_schema, parse(document(name)), RULES)
    assert [error.message for error in errors] == []


def test_schema_validation_catches_a_deprecated_field(admin_schema: GraphQLSchema) -> None:
    # Guards the check above: Customer.email is deprecated since 2026-01.
    errors = validate(
        admin_schema, parse('query { customer(id: "gid://shopify/Customer/1") { email } }'), RULES
    )
    assert any("deprecated" in error.message for error in errors)


def test_shared_fragments_are_appended_once_and_all_are_used() -> None:
    from importlib import resources as importlib_resources

    from integrations.shopify import graphql as documents

    used: set[str] = set()
    for name in document_names():
        text = document(name)
        defined = documents.FRAGMENT_DEFINITION.findall(text)
        assert len(defined) == len(set(defined)), name
        assert set(documents.FRAGMENT_SPREAD.findall(text)) <= set(defined), name
        used.update(defined)
    shipped = {
        entry.name.removesuffix(".graphql")
        for entry in importlib_resources.files(documents.__name__).joinpath("fragments").iterdir()
    }
    assert shipped == used


def test_every_order_action_sends_a_document_validated_above() -> None:
    # the resends (orderInvoiceSend, fulfillmentTrackingInfoUpdate) included: each action's mutation is one
    # of the documents checked against the pinned schema with no deprecated field
    from shop_app.actions.shopify_calls import DOCUMENTS
    from shop_app.models import ActionKind

    assert set(DOCUMENTS) == set(ActionKind)
    assert {name for name, _, _ in DOCUMENTS.values()} <= set(document_names())
