from __future__ import annotations

import httpx
import pytest

from devstore.graphql_api import AdminGraphQL
from tests.devstore.graphql.conftest import Graphql

pytestmark = pytest.mark.anyio
QUERY = "{ shop { name } }"


async def test_every_second_request_gets_429_with_retry_after(graphql: Graphql) -> None:
    await graphql.client.post(
        "/_devstore/faults", json={"http_429": {"every_nth": 2}, "retry_after_seconds": 2}
    )
    first, second = await graphql.post(QUERY), await graphql.post(QUERY)
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "2.0"
    assert "errors" in second.json()


async def test_503_by_probability_is_deterministic_with_a_seed(graphql: Graphql, api: AdminGraphQL) -> None:
    outcomes = []
    for _ in range(2):
        api.faults.configure({"seed": 42, "http_503": 0.5})
        outcomes.append([(await graphql.post(QUERY)).status_code for _ in range(12)])
    assert outcomes[0] == outcomes[1]
    assert {200, 503} == set(outcomes[0])


async def test_slow_answers_are_delayed_then_served(graphql: Graphql, api: AdminGraphQL) -> None:
    api.faults.configure({"slow_ms": {"ms": 5}})
    assert api.faults.decide().delay_ms == 5
    assert (await graphql.post(QUERY)).status_code == 200
    api.faults.configure({"slow_ms": None})
    assert api.faults.decide().delay_ms == 0


async def test_dropped_connection_is_a_transport_error_for_the_client(
    graphql: Graphql, api: AdminGraphQL
) -> None:
    api.faults.configure({"drop_connection": {"every_nth": 1}})
    with pytest.raises(httpx.TransportError):
        await graphql.post(QUERY)
    api.faults.clear()
    assert (await graphql.post(QUERY)).status_code == 200
