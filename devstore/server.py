"""The store's ASGI app: OAuth, Admin GraphQL, webhook delivery, store activity, storefront and admin
pages, and the ``/_devstore`` control endpoints, for many shops on one port."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from devstore import app_proxy, oauth
from devstore.activity import NothingToChange, StoreActivity
from devstore.clock import Clock, system_clock
from devstore.config import StoreConfig
from devstore.generator import GenerationReport, generate_store
from devstore.records import RecordStore
from devstore.state import StoreState
from devstore.storefront import STATIC_DIR, pages
from devstore.tokens import TokenRegistry
from devstore.webhooks import WebhookDispatcher, WebhookFaults

logger = logging.getLogger(__name__)


def open_store_state(
    config: StoreConfig, *, http: httpx.AsyncClient | None = None, clock: Clock | None = None
) -> StoreState:
    clock = clock or system_clock
    config.data_dir.mkdir(parents=True, exist_ok=True)
    records = RecordStore(config.data_dir / "store.db")
    tokens = TokenRegistry(
        config.data_dir / "tokens.db",
        clock=clock,
        access_token_lifetime_seconds=config.access_token_lifetime_seconds,
        refresh_token_lifetime_seconds=config.refresh_token_lifetime_seconds,
        code_lifetime_seconds=config.authorization_code_lifetime_seconds,
    )
    client = http or httpx.AsyncClient()
    webhooks = WebhookDispatcher(
        config.data_dir / "webhooks.db",
        config=config,
        records=records,
        tokens=tokens,
        http=client,
        clock=clock,
    )
    return StoreState(
        config=config, records=records, tokens=tokens, webhooks=webhooks, http=client, clock=clock
    )


async def close_store_state(state: StoreState, *, close_http: bool) -> None:
    if close_http:
        await state.http.aclose()
    state.webhooks.close()
    state.tokens.close()
    state.records.close()


def missing_shops(state: StoreState) -> list[str]:
    return [shop for shop in state.config.shops if state.records.count(shop, "Shop") == 0]


def generate_missing(state: StoreState, *, shops: list[str] | None = None) -> GenerationReport | None:
    wanted = missing_shops(state) if shops is None else shops
    if not wanted:
        return None
    config = state.config
    report = generate_store(
        state.records,
        shops=wanted,
        seed=config.seed,
        orders=config.orders,
        customers=config.customers,
        products=config.products,
        now=datetime.fromtimestamp(state.clock(), UTC),
        progress=lambda line: logger.info("generate %s", line),
    )
    logger.info(
        "generated store data shops=%d orders=%d seconds=%.1f", len(wanted), report.orders, report.seconds
    )
    return report


def _graphql_routes(state: StoreState) -> tuple[list[BaseRoute], Any]:
    try:
        from devstore.graphql_api import AdminGraphQL
    except ImportError:  # the GraphQL layer is built in parallel; the store runs without it
        logger.warning("devstore.graphql_api is not available; Admin GraphQL is not served")
        return [], None
    graphql = AdminGraphQL(state, wall_clock=state.now)
    return graphql.routes(), graphql


def create_store_app(
    config: StoreConfig, *, http: httpx.AsyncClient | None = None, clock: Clock | None = None
) -> Starlette:
    """The store. Its documents, tokens and webhook queue live in ``config.data_dir``; missing shop data is
    generated at startup. ``app.state.store`` is the ``StoreState``, ``app.state.activity`` the changes."""
    state = open_store_state(config, http=http, clock=clock)
    activity = StoreActivity(state, seed=config.seed)
    graphql_routes, graphql = _graphql_routes(state)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(generate_missing, state)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(state.webhooks.run)
                if config.activity:
                    group.start_soon(activity.run, config.activity_interval_seconds)
                logger.info("devstore serving url=%s shops=%s", config.base_url, ",".join(config.shops))
                yield
                group.cancel_scope.cancel()
        finally:
            await close_store_state(state, close_http=http is None)

    app = Starlette(
        routes=[
            *oauth.routes(state),
            *graphql_routes,
            *pages.routes(state, activity),
            *app_proxy.routes(state),
            *control_routes(state, activity),
            Route("/", _index(state), methods=["GET"]),
            Mount("/_devstore/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.store = state
    app.state.activity = activity
    app.state.graphql = graphql
    return app


def _index(state: StoreState) -> Any:
    async def index(request: Request) -> Response:
        shops = state.known_shops()
        return RedirectResponse(f"/s/{shops[0]}/admin" if shops else "/_devstore/health", status_code=302)

    return index


async def _json_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body:
        return {}
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def control_routes(state: StoreState, activity: StoreActivity) -> list[BaseRoute]:
    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "shops": state.known_shops()})

    async def webhook_faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                state.webhooks.set_faults(WebhookFaults.from_json(await _json_body(request)))
            except (ValueError, TypeError) as error:
                return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse(state.webhooks.faults.as_json())

    async def webhook_deliveries(request: Request) -> Response:
        shop = request.query_params.get("shop")
        deliveries = [
            {
                "webhook_id": d.webhook_id,
                "event_id": d.event_id,
                "shop": d.shop,
                "topic": d.topic,
                "uri": d.uri,
                "status": d.status,
                "attempts": d.attempts,
                "last_status_code": d.last_status_code,
                "last_error": d.last_error,
                "triggered_at": d.triggered_at,
            }
            for d in state.webhooks.deliveries(shop=shop, limit=200)
        ]
        return JSONResponse({"stats": state.webhooks.stats(), "deliveries": deliveries})

    async def change(request: Request) -> Response:
        shop = request.path_params["shop"]
        if shop not in state.known_shops():
            return JSONResponse({"error": "unknown shop"}, status_code=404)
        try:
            fields = {key: str(value) for key, value in (await _json_body(request)).items()}
            done = await pages.perform(activity, shop, request.path_params["action"], fields)
        except NothingToChange as error:
            return JSONResponse({"error": str(error)}, status_code=409)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"description": done.description, "subject": done.subject, "topics": done.topics})

    async def revoke_tokens(request: Request) -> Response:
        """``{"client_id"?: str, "refresh_tokens"?: bool}``: the shop's access tokens refused early."""
        shop = request.path_params["shop"]
        if shop not in state.known_shops():
            return JSONResponse({"error": "unknown shop"}, status_code=404)
        try:
            body = await _json_body(request)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        client_id = body.get("client_id")
        if client_id is not None and not isinstance(client_id, str):
            return JSONResponse({"error": "client_id must be a string"}, status_code=400)
        revoked = state.tokens.revoke_early(
            shop=shop, client_id=client_id, refresh_tokens=bool(body.get("refresh_tokens", False))
        )
        return JSONResponse({"revoked": revoked})

    return [
        Route("/_devstore/health", health, methods=["GET"]),
        Route("/_devstore/shops/{shop}/tokens/revoke", revoke_tokens, methods=["POST"]),
        Route("/_devstore/webhook-faults", webhook_faults, methods=["GET", "POST"]),
        Route("/_devstore/webhooks", webhook_deliveries, methods=["GET"]),
        Route("/_devstore/shops/{shop}/changes/{action}", change, methods=["POST"]),
    ]
