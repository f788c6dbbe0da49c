"""The simulated store's Admin GraphQL API (schema subset of Shopify's, cost, throttling, bulk, faults).

`routes(state)` gives the Starlette routes; build `AdminGraphQL(state, clock=…)` yourself to reach its
throttle, fault modes and bulk runner from Python (tests, demos).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from devstore import order_mutations
from devstore.graphql_api import bulk, queries, webhook_subscriptions
from devstore.graphql_api.context import StoreStateLike
from devstore.graphql_api.endpoint import AdminGraphQL

__all__ = ["AdminGraphQL", "routes"]
_REGISTERED = (bulk, order_mutations, queries, webhook_subscriptions)  # modules that register root fields


def routes(state: StoreStateLike) -> list[BaseRoute]:
    return AdminGraphQL(state).routes()
