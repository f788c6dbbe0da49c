"""Metrics: never public by default (no /metrics without a token or a port; the token is required and
compared as a whole), they move when webhooks, jobs and the bot's answers happen, the inbox backlog and
queue depth are read from the database at scrape time, and no label ever holds an id."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from shop_app.errors import SettingsError
from shop_app.lifespan import open_services, serving_metrics
from shop_app.operations.metrics import bearer_accepted
from shop_app.settings import JobEngine, Secret, Settings, load_settings
from tests.answers.test_answers_api import add_order, answer
from tests.conftest import with_lifespan_state
from tests.factories import webhook_headers
from tests.helpdesk.conftest import ALPHA, Desk, desk

__all__ = ["desk"]

pytestmark = pytest.mark.anyio

TOKEN = "metrics-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# label values that name one thing rather than a kind: numbers of 3 digits or more, uuids, gids
ID_LIKE = re.compile(r"\d{3,}|[0-9a-f]{8}-[0-9a-f]{4}-|gid://", re.IGNORECASE)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, metrics_token=Secret(TOKEN))


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def order_webhook(
    desk: Desk, *, topic: str = "orders/create", order_id: int = 8_400_001
) -> httpx.Response:
    body = json.dumps(
        {
            "id": order_id,
            "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
            "name": "#1201",
            "created_at": "2026-11-20T03:00:00Z",
            "updated_at": "2026-11-20T03:00:00Z",
            "line_items": [],
        }
    ).encode()
    return await desk.client.post(
        desk.services.app_config.uri_for(topic),
        content=body,
        headers=webhook_headers(topic=topic, shop=ALPHA, body=body),
    )


async def test_metrics_move_when_webhooks_jobs_and_bot_answers_happen(desk: Desk) -> None:
    # given
    before = await scrape(desk.client)
    await add_order(desk, ALPHA, 1001, 9001)
    ticket = await desk.open_ticket(message="Where is my order #1001? My email is hanako@example.jp")

    # when
    acknowledged = await order_webhook(desk)
    repeated_body = await order_webhook(desk)  # another event id: accepted as well
    refused = await desk.client.post(
        desk.services.app_config.uri_for("orders/create"),
        content=b"{}",
        headers={
            **webhook_headers(topic="orders/create", shop=ALPHA, body=b"{}"),
            "X-Shopify-Hmac-Sha256": "bad",
        },
    )
    await desk.state["jobs"].drain()
    answered = await answer(desk, ticket["id"], desk.key(ALPHA), post=True)
    after = await scrape(desk.client)

    # then
    assert acknowledged.status_code == repeated_body.status_code == 200
    assert refused.status_code == 401
    assert answered.status_code == 200, answered.text
    moved = {
        ("shop_app_webhooks_total", (("outcome", "accepted"), ("topic", "orders/create"))): 2,
        ("shop_app_webhooks_total", (("outcome", "rejected_signature"), ("topic", "orders/create"))): 1,
        ("shop_app_webhook_ack_seconds_count", (("topic", "orders/create"),)): 3,
        ("shop_app_bot_decisions_total", (("action", "reply"), ("intent", "order_status"))): 1,
    }
    for (name, labels), increase in moved.items():
        assert value(after, name, **dict(labels)) - value(before, name, **dict(labels)) == increase, name
    assert value(after, "shop_app_jobs_total", task="process_webhooks", outcome="ok") > value(
        before, "shop_app_jobs_total", task="process_webhooks", outcome="ok"
    )
    assert value(after, "shop_app_webhook_inbox_backlog") == 0
    assert value(after, "shop_app_scrape_database_ok") == 1
    templates = {labels for name, labels in samples(after) if name == "shop_app_http_request_seconds_count"}
    assert (
        ("method", "POST"),
        ("route", "/api/v1/tickets/{ticket_id}/answer"),
        ("status", "2xx"),
    ) in templates


async def test_the_inbox_backlog_and_its_oldest_delivery_are_read_at_scrape_time(desk: Desk) -> None:
    await desk.state["jobs"].stop()  # stored deliveries stay unprocessed

    await order_webhook(desk, order_id=8_400_002)
    await order_webhook(desk, order_id=8_400_003)
    text = await scrape(desk.client)

    assert value(text, "shop_app_webhook_inbox_backlog") == 2
    assert value(text, "shop_app_webhook_inbox_oldest_age_seconds") >= 0
    assert value(text, "shop_app_webhook_inbox_failed") == 0


async def test_no_label_holds_an_id_whatever_the_requests_name(desk: Desk) -> None:
    # given: requests full of ids, an unknown topic, an unmatched path, another shop's ticket
    await order_webhook(desk, order_id=8_400_004)
    body = b'{"id": 123456789}'
    await desk.client.post(
        desk.services.app_config.uri_for("orders/create"),
        content=body,
        headers=webhook_headers(topic="orders/9876543", shop=ALPHA, body=body),
    )
    await desk.client.get("/no/such/page/123456789")
    await desk.client.get("/api/v1/tickets/987654321", headers=desk.key(ALPHA))
    ticket = await desk.open_ticket(message="Is the navy M in stock?")
    await answer(desk, ticket["id"], desk.key(ALPHA), post=True)
    await desk.state["jobs"].drain()

    # when
    text = await scrape(desk.client)

    # then: every label of every sample is a kind, never an id
    walked = 0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for name, label in sample.labels.items():
                walked += 1
                if name in ("le", "quantile"):
                    continue
                assert not ID_LIKE.search(label), (sample.name, name, label)
    assert walked > 50
    assert value(text, "shop_app_webhooks_total", topic="other", outcome="ignored") == 1
    routes = {dict(labels).get("route") for name, labels in samples(text) if name.startswith("shop_app_http")}
    assert "unmatched" in routes
    assert "/api/v1/tickets/{ticket_id}" in routes
    assert not any(route and "987654321" in route for route in routes)


async def test_metrics_refuse_a_missing_or_wrong_token(desk: Desk) -> None:
    missing = await desk.client.get("/metrics")
    wrong = await desk.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
    prefix = await desk.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN[:-1]}"})
    basic = await desk.client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    right = await desk.client.get("/metrics", headers=AUTH)

    for refused in (missing, wrong, prefix, basic):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert "shop_app_" not in refused.text
    assert right.status_code == 200


@hypothesis_settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(max_size=80)
    | st.builds(lambda s: f"Bearer {s}", st.text(max_size=40))
    | st.builds(lambda s: f"Bearer {TOKEN[: len(s)]}{s}", st.text(max_size=3))
)
@example(f"Bearer {TOKEN}")
@example(f"bearer {TOKEN} ")
def test_no_authorization_header_but_the_token_is_accepted(authorization: str) -> None:
    settings = Settings(metrics_token=Secret(TOKEN))
    scheme, _, presented = authorization.partition(" ")

    accepted = bearer_accepted(settings, authorization)

    assert accepted is (scheme.lower() == "bearer" and presented.strip() == TOKEN)


async def test_a_workers_health_port_serves_metrics_with_the_token(settings: Settings) -> None:
    from shop_app.routes.health import health_app

    async with open_services(settings, listen=False) as services:
        app = health_app(services)
        async with app.router.lifespan_context(app) as state:
            assert state is not None
            transport = httpx.ASGITransport(app=with_lifespan_state(app, dict(state)))
            async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
                refused = await client.get("/metrics")
                served = await client.get("/metrics", headers=AUTH)
        without = health_app(replace(services, settings=replace(settings, metrics_token=Secret(""))))

    assert refused.status_code == 401
    assert served.status_code == 200 and "shop_app_webhook_inbox_backlog" in served.text
    assert all(getattr(route, "path", "") != "/metrics" for route in without.routes)


def test_without_a_token_or_a_port_there_are_no_metrics() -> None:
    assert not Settings().metrics_enabled


async def test_without_a_token_the_app_has_no_metrics_route(
    settings: Settings, app_client_without_token: httpx.AsyncClient
) -> None:
    labels = {"method": "GET", "route": "/healthz", "status": "2xx"}
    before = REGISTRY.get_sample_value("shop_app_http_request_seconds_count", labels) or 0.0

    response = await app_client_without_token.get("/metrics")
    await app_client_without_token.get("/healthz")

    assert response.status_code == 404
    # nobody can read them: nothing is recorded, nothing is paid
    assert (REGISTRY.get_sample_value("shop_app_http_request_seconds_count", labels) or 0.0) == before


@pytest.fixture
async def app_client_without_token(settings: Settings, shopify: Any) -> AsyncIterator[httpx.AsyncClient]:
    from tests.conftest import running_app

    async with (
        shopify.client() as http,
        running_app(replace(settings, metrics_token=Secret("")), http) as (
            client,
            _state,
        ),
    ):
        yield client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_port_of_its_own_serves_metrics_while_the_app_runs(settings: Settings) -> None:
    port = free_port()
    plain = replace(settings, metrics_token=Secret(""), metrics_port=port)

    async with open_services(plain, listen=False) as services, serving_metrics(services):
        async with httpx.AsyncClient() as client:
            served = await client.get(f"http://127.0.0.1:{port}/metrics")
        # a second process of the same server finds the port taken and goes on without it
        async with serving_metrics(services):
            pass

    assert served.status_code == 200
    assert "shop_app_webhook_inbox_backlog" in served.text
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # released once the app stopped


async def test_on_postgresql_the_queue_depth_is_read_from_procrastinates_table(
    settings: Settings, migrated_postgres: str | None, shopify: Any
) -> None:
    if migrated_postgres is None:
        pytest.skip("procrastinate runs on PostgreSQL: set TEST_DATABASE_URL (CI does)")
    from shop_app.jobs.procrastinate_queue import ProcrastinateQueue
    from shop_app.jobs.tasks import TaskName
    from tests.conftest import running_app

    queued = replace(settings, job_engine=JobEngine.PROCRASTINATE)
    async with shopify.client() as http, running_app(queued, http) as (client, state):
        jobs = state["jobs"]
        assert isinstance(jobs, ProcrastinateQueue)
        await jobs.enqueue(TaskName.REGISTER_WEBHOOKS, shop_id=1)
        await jobs.enqueue(TaskName.REGISTER_WEBHOOKS, shop_id=2)
        waiting = await scrape(client)
        await jobs.drain()
        done = await scrape(client)

    assert value(waiting, "shop_app_job_queue_depth", task="register_webhooks") == 2
    assert value(done, "shop_app_job_queue_depth", task="register_webhooks") == 0
    assert (
        value(done, "shop_app_jobs_total", task="register_webhooks", outcome="ok")
        - value(waiting, "shop_app_jobs_total", task="register_webhooks", outcome="ok")
        == 2
    )


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("SHOP_APP_LOG_FORMAT", "xml"),
        ("SHOP_APP_METRICS_PORT", "metrics"),
        ("SHOP_APP_METRICS_PORT", "70000"),
        ("SHOP_APP_METRICS_PORT", "0"),
    ],
)
def test_a_wrong_log_format_or_metrics_port_is_refused_at_start(
    tmp_path: Any, variable: str, raw: str
) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings({"SHOP_APP_DATA_DIR": str(tmp_path), variable: raw})


def test_production_refuses_a_placeholder_metrics_token(tmp_path: Any) -> None:
    env = {
        "SHOP_APP_ENV": "production",
        "SHOP_APP_DATA_DIR": str(tmp_path),
        "SHOPIFY_API_KEY": "client-id",
        "SHOPIFY_API_SECRET": "a-real-secret-0123456789abcdef",
        "SHOP_APP_SESSION_SECRET": "another-real-secret-0123456789",
        "SHOP_APP_ENCRYPTION_KEYS": "2hKpN8lJmB3D8cO5O4nVhZpHsYwWmW0aZ5fJr8Qk3gE=",
        "SHOP_APP_METRICS_TOKEN": "changeme",
    }

    with pytest.raises(SettingsError, match="SHOP_APP_METRICS_TOKEN"):
        load_settings(env)
    assert load_settings({**env, "SHOP_APP_METRICS_TOKEN": TOKEN}).metrics_token == Secret(TOKEN)


async def test_backfill_progress_is_per_shop_for_at_most_twenty_shops_and_summed_for_all(
    settings: Settings,
) -> None:
    from sqlalchemy import update
    from sqlmodel import col

    from shop_app.database import transaction
    from shop_app.mirror.sync_states import ensure_sync_state
    from shop_app.models import SyncState
    from shop_app.observability.metrics import MAX_SHOPS_IN_BACKFILL_FIGURES
    from shop_app.operations.metrics import database_figures
    from tests.factories import installed_shop

    # given: 22 shops importing, shop n with n × 10 orders left of 1,000, and one idle shop
    async with open_services(settings, listen=False) as services:
        for n in range(23):
            shop = await installed_shop(services.sessions, services.cipher, f"shop-{n:02d}.myshopify.com")
            async with transaction(services.sessions) as session:
                await ensure_sync_state(session, shop_id=shop.id)
                progress = {"resources": {"orders": {"done": 1000 - n * 10, "total": 1000, "mode": "pages"}}}
                await session.execute(
                    update(SyncState)
                    .where(col(SyncState.shop_id) == shop.id)
                    .values(phase="backfilling" if n else "idle", progress=progress)
                )

        # when
        figures = await database_figures(services)
    text = generate_latest_of(figures)

    # then: the twenty with the most left, by domain; the sum over every running one
    per_shop = {
        dict(labels)["shop"] for name, labels in samples(text) if name == "shop_app_backfill_records_done"
    }
    assert len(per_shop) == MAX_SHOPS_IN_BACKFILL_FIGURES == 20
    assert per_shop == {f"shop-{n:02d}.myshopify.com" for n in range(3, 23)}
    assert value(text, "shop_app_backfill_records_done", shop="shop-22.myshopify.com") == 780
    assert value(text, "shop_app_backfill_records_expected", shop="shop-22.myshopify.com") == 1000
    assert value(text, "shop_app_backfill_records_remaining") == sum(n * 10 for n in range(1, 23))
    assert value(text, "shop_app_sync_shops", phase="backfilling") == 22
    assert value(text, "shop_app_sync_shops", phase="idle") == 1


async def test_a_database_slower_than_the_scrape_allows_leaves_its_figures_out(settings: Settings) -> None:
    from shop_app.operations.metrics import database_figures

    @asynccontextmanager
    async def unanswered() -> AsyncIterator[Any]:
        await asyncio.Event().wait()  # a database that never answers
        yield None

    async with open_services(settings, listen=False) as services:
        hanging = replace(services, sessions=unanswered)
        figures = await database_figures(hanging, waiting_jobs={"process_webhooks": 3}, within_seconds=0.05)
    text = generate_latest_of(figures)

    assert value(text, "shop_app_scrape_database_ok") == 0
    assert "shop_app_webhook_inbox_backlog" not in text
    assert value(text, "shop_app_job_queue_depth", task="process_webhooks") == 3


def generate_latest_of(figures: list[Any]) -> str:
    from prometheus_client import generate_latest

    from shop_app.operations.metrics import _Figures

    return generate_latest(_Figures.registry(figures)).decode()
