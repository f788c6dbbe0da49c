"""The bulk build's direct projection (``bulk_query.Projector``) gives the lines graphql-core's executor
gives (the projection with the build's reference cache, graphql-core without), over a generated store (fulfillments, fulfillment orders, guests, references to products and
variants), for the app's three bulk queries and queries with aliases, arguments and computed fields; a
query it does not handle goes to graphql-core."""

from __future__ import annotations

import pathlib
from datetime import UTC, datetime

import pytest

from devstore.config import DEFAULT_SHOPS
from devstore.generator import generate_store
from devstore.graphql_api import AdminGraphQL
from devstore.graphql_api.bulk_query import BulkQueryError, execute_page, plan_bulk_query, run_page
from devstore.graphql_api.context import RequestContext
from devstore.records import RecordStore
from tests.devstore.graphql.conftest import FakeConfig, FakeState, FakeTokens, FakeWebhooks

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
APP_QUERIES = pathlib.Path(__file__).resolve().parents[3] / "integrations/shopify/graphql"
SHOP = DEFAULT_SHOPS[0]
OTHER_QUERIES = [
    """{ orders(query: "status:open", sortKey: CREATED_AT, reverse: true) { edges { node {
        legacyResourceId closed ref: name customer { displayName email orders(first: 2) { nodes { id } } }
        lineItems { nodes { name product { title } variant { inventoryItem { id sku } } } } } } } }""",
    """{ customers { nodes { id displayName amountSpent { amount currencyCode } defaultAddress { city } } } }""",
    """{ products { edges { node { id title variants { edges { node { id price inventoryItem {
        inventoryLevels { edges { node { location { name } quantities(names: ["available"]) {
        name quantity } } } } } } } } } } } }""",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> RecordStore:
    path = tmp_path_factory.mktemp("projection")
    records = RecordStore(path / "store.db")
    generate_store(records, shops=DEFAULT_SHOPS, seed=5, orders=120, customers=25, products=8, now=NOW)
    return records


def _pages(store: RecordStore, query: str, projected: bool) -> list[list[dict[str, object]]]:
    state = FakeState(FakeConfig(pathlib.Path("/nonexistent")), store, FakeTokens(), FakeWebhooks())
    api = AdminGraphQL(state, wall_clock=lambda: NOW)
    plan = plan_bulk_query(api.schema, query)
    assert plan.projector is not None
    cache: dict[object, object] | None = {} if projected else None  # the reference: no cache either
    ctx = RequestContext(SHOP, "client", "2026-07", store, "http://store.test", lambda: NOW, bulk_cache=cache)
    rows = [row.doc for row in store.scan(SHOP, plan.type_name, where=plan.where, sort=plan.sort)]
    pages = []
    for start in range(0, len(rows), 50):  # pages share the cache, as a build's pages do
        ctx.bulk_rows = [dict(doc) for doc in rows[start : start + 50]]
        pages.append(run_page(api.schema, plan, ctx) if projected else execute_page(api.schema, plan, ctx))
    return pages


@pytest.mark.parametrize(
    "query",
    [
        *(
            (APP_QUERIES / f"{name}.graphql").read_text()
            for name in ("bulk_orders", "bulk_fulfillment_orders", "bulk_customers")
        ),
        *OTHER_QUERIES,
    ],
)
def test_projection_equals_graphql_core(store: RecordStore, query: str) -> None:
    # when
    projected = _pages(store, query, projected=True)
    executed = _pages(store, query, projected=False)
    # then
    assert sum(len(page) for page in executed) > 0
    assert projected == executed


def test_fragments_and_directives_go_to_graphql_core(store: RecordStore) -> None:
    state = FakeState(FakeConfig(pathlib.Path("/nonexistent")), store, FakeTokens(), FakeWebhooks())
    api = AdminGraphQL(state, wall_clock=lambda: NOW)
    for query in (
        "{ orders { edges { node { ...F } } } } fragment F on Order { id }",
        "{ orders { edges { node { id name @include(if: false) } } } }",
        "{ orders { edges { node { id __typename } } } }",
    ):
        assert plan_bulk_query(api.schema, query).projector is None


def test_a_null_in_a_non_null_field_is_refused_as_graphql_core_refuses_it(store: RecordStore) -> None:
    state = FakeState(FakeConfig(pathlib.Path("/nonexistent")), store, FakeTokens(), FakeWebhooks())
    api = AdminGraphQL(state, wall_clock=lambda: NOW)
    plan = plan_bulk_query(api.schema, "{ orders { edges { node { id name } } } }")
    ctx = RequestContext(SHOP, "client", "2026-07", store, "http://store.test", lambda: NOW, bulk_cache={})
    ctx.bulk_rows = [{"id": "gid://shopify/Order/1"}]  # no name: Order.name is String!
    with pytest.raises(BulkQueryError) as projected:
        run_page(api.schema, plan, ctx)
    with pytest.raises(BulkQueryError) as executed:
        execute_page(api.schema, plan, ctx)
    assert str(projected.value) == str(executed.value)
