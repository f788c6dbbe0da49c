"""The Admin GraphQL endpoint: auth, faults, cost, throttling, execution; plus store-side controls."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx
from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from devstore.graphql_api.bulk import BulkRunner
from devstore.graphql_api.context import RequestContext, StoreStateLike, WallClock, utc_now
from devstore.graphql_api.cost import MAX_QUERY_COST, CostCalculator
from devstore.graphql_api.faults import FaultModes
from devstore.graphql_api.resolvers import resolve_field
from devstore.graphql_api.schema import SUPPORTED_API_VERSIONS, load_schema
from devstore.graphql_api.throttle import BucketLimits, Clock, Throttle
from devstore.order_mutations import MutationLedger

INVALID_TOKEN_BODY = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}
RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"
TOO_MANY_REQUESTS_BODY = {
    "errors": "Exceeded 2 calls per second for api client. "
    "Reduce request rates to resume uninterrupted service."
}
UNAVAILABLE_BODY = {"errors": "Service Unavailable"}
PARSED_DOCUMENT_CACHE_SIZE = 512


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised after half a body was sent: a server closes the connection (the client's read breaks);
    in-process (httpx.ASGITransport) the client sees this very error, an httpx transport error."""


class DroppedResponse(Response):
    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = json.dumps({"data": {"orders": {"edges": []}}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body) * 4).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        raise DroppedConnection("dev store fault: connection dropped mid-response")


@functools.lru_cache(maxsize=PARSED_DOCUMENT_CACHE_SIZE)
def _parsed(query: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, (error,)
    return document, tuple(validate(load_schema(), document))


def _error_json(error: GraphQLError) -> dict[str, Any]:
    return dict(error.formatted)


class AdminGraphQL:
    """The store's Admin GraphQL surface; holds buckets, fault modes and the bulk runner."""

    def __init__(
        self, state: StoreStateLike, *, clock: Clock = time.monotonic, wall_clock: WallClock = utc_now
    ) -> None:
        self.state = state
        self.schema = load_schema()
        self.throttle = Throttle(clock)
        self.faults = FaultModes()
        self.wall_clock = wall_clock
        self.bulk = BulkRunner(self.schema, state.config.data_dir, state.webhooks, wall_clock)
        self.ledger = MutationLedger()
        self._known_shops: set[str] = set()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/s/{shop}/admin/api/{version}/graphql.json", self.graphql, methods=["POST"]),
            Route("/_devstore/bulk/{shop}/{num:int}.jsonl", self.bulk_result, methods=["GET"]),
            Route("/_devstore/faults", self.configure_faults, methods=["GET", "POST"]),
            Route("/_devstore/throttle", self.configure_throttle, methods=["GET", "POST"]),
            Route("/_devstore/mutations/{shop}", self.mutations_applied, methods=["GET"]),
        ]

    def shop_exists(self, shop: str) -> bool:
        if shop not in self._known_shops and shop in self.state.records.shops():
            self._known_shops.add(shop)
        return shop in self._known_shops

    async def _client_id(self, shop: str, token: str | None) -> str | None:
        if not token:
            return None
        check = self.state.tokens.lookup_access_token(shop, token)
        if inspect.isawaitable(check):
            check = await check
        if check.client_id is None or check.expired:
            return None
        return check.client_id

    async def graphql(self, request: Request) -> Response:
        shop, version = request.path_params["shop"], request.path_params["version"]
        if version not in SUPPORTED_API_VERSIONS or not self.shop_exists(shop):
            return JSONResponse({"errors": "Not Found"}, status_code=404)
        client_id = await self._client_id(shop, request.headers.get("x-shopify-access-token"))
        if client_id is None:
            return JSONResponse(INVALID_TOKEN_BODY, status_code=401)
        fault = self.faults.decide()
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault.drop_connection:
            return DroppedResponse()
        if fault.status == 429:
            retry_after = f"{self.faults.retry_after_seconds:.1f}"
            return JSONResponse(TOO_MANY_REQUESTS_BODY, status_code=429, headers={"Retry-After": retry_after})
        if fault.status == 503:
            return JSONResponse(UNAVAILABLE_BODY, status_code=503)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse(
                {"errors": {"query": "Required parameter missing or invalid"}}, status_code=400
            )
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return JSONResponse(
                {"errors": {"query": "Required parameter missing or invalid"}}, status_code=400
            )
        context = RequestContext(
            shop=shop,
            client_id=client_id,
            api_version=version,
            records=self.state.records,
            base_url=str(request.base_url),
            wall_clock=self.wall_clock,
            bulk=self.bulk,
            ledger=self.ledger,
        )
        answer = self.answer(context, body)
        for topic, payload in context.events:
            await self.state.webhooks.emit(shop, topic, payload)
        return JSONResponse(answer)

    def answer(self, context: RequestContext, body: Mapping[str, Any]) -> dict[str, Any]:
        bucket = self.throttle.bucket(context.client_id, context.shop)
        document, errors = _parsed(body["query"])
        if document is None or errors:
            return {
                "errors": [_error_json(error) for error in errors],
                "extensions": self._cost(0, 0, bucket),
            }
        variables = body.get("variables") or {}
        operation = self._operation(document, body.get("operationName"))
        if operation is None:
            error = GraphQLError("An operation name is required")
            return {"errors": [_error_json(error)], "extensions": self._cost(0, 0, bucket)}
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        calculator = CostCalculator(self.schema, fragments, variables)
        requested = calculator.operation_cost(operation)
        if requested > MAX_QUERY_COST:
            return self._too_expensive(requested, bucket)
        if self.throttle.enabled and not bucket.try_charge(requested):
            throttled = {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": RATE_LIMIT_DOCS},
            }
            return {"errors": [throttled], "extensions": self._cost(requested, None, bucket)}
        result = execute(
            self.schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=body.get("operationName"),
            field_resolver=resolve_field,
        )
        assert isinstance(result, ExecutionResult)
        actual = calculator.operation_cost(operation, result.data or {})
        if self.throttle.enabled:
            bucket.refund(requested - actual)
        answer: dict[str, Any] = {}
        if result.errors:
            answer["errors"] = [_error_json(error) for error in result.errors]
        answer["data"] = result.data
        answer["extensions"] = self._cost(requested, actual, bucket)
        return answer

    @staticmethod
    def _operation(document: DocumentNode, name: object) -> OperationDefinitionNode | None:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if name:
            return next((op for op in operations if op.name and op.name.value == name), None)
        return operations[0] if len(operations) == 1 else None

    def _cost(self, requested: int, actual: int | None, bucket: Any) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": bucket.status().as_json(),
            }
        }

    def _too_expensive(self, requested: int, bucket: Any) -> dict[str, Any]:
        message = (
            f"Query cost is {requested}, which exceeds the single query max cost limit "
            f"({MAX_QUERY_COST}).\n\n"
            "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
            "cost of a query is calculated.\n\n"
            "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
            "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
        )
        error = {
            "message": message,
            "extensions": {
                "code": "MAX_COST_EXCEEDED",
                "cost": requested,
                "maxCost": MAX_QUERY_COST,
                "documentation": RATE_LIMIT_DOCS,
            },
        }
        return {"errors": [error], "extensions": self._cost(requested, None, bucket)}

    async def mutations_applied(self, request: Request) -> Response:
        """How many times each mutation changed this shop (repeats of an idempotency key not counted)."""
        shop = request.path_params["shop"]
        counts = {name: n for (where, name), n in self.ledger.applied.items() if where == shop}
        return JSONResponse(counts)

    async def bulk_result(self, request: Request) -> Response:
        path = self.bulk.path(request.path_params["shop"], request.path_params["num"])
        if not path.is_file():
            return JSONResponse({"errors": "Not Found"}, status_code=404)
        return FileResponse(path, media_type="application/jsonl", filename=path.name)

    async def configure_faults(self, request: Request) -> Response:
        if request.method == "POST":
            settings = await request.json()
            if not isinstance(settings, dict):
                return JSONResponse({"errors": "expected a JSON object"}, status_code=400)
            if settings.get("clear"):
                self.faults.clear()
            self.faults.configure(settings)
        return JSONResponse(self.faults.as_json())

    async def configure_throttle(self, request: Request) -> Response:
        """`{"enabled": false}` or `{"shop": "…", "maximumAvailable": 2000, "restoreRate": 200}`."""
        if request.method == "POST":
            settings = await request.json()
            if not isinstance(settings, dict):
                return JSONResponse({"errors": "expected a JSON object"}, status_code=400)
            if "enabled" in settings:
                self.throttle.enabled = bool(settings["enabled"])
            if "maximumAvailable" in settings or "restoreRate" in settings:
                limits = BucketLimits(
                    int(settings.get("maximumAvailable", self.throttle.default.maximum_available)),
                    int(settings.get("restoreRate", self.throttle.default.restore_rate)),
                )
                self.throttle.set_limits(limits, settings.get("shop"))
        default = self.throttle.default
        return JSONResponse(
            {
                "enabled": self.throttle.enabled,
                "maximumAvailable": default.maximum_available,
                "restoreRate": default.restore_rate,
            }
        )
