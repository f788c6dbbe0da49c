"""Bulk query operations: run in the background, stream JSONL to disk, tell the app when done."""

from __future__ import annotations

import asyncio
import logging
import pathlib
from typing import Any

import anyio.to_thread
from graphql import GraphQLObjectType, GraphQLSchema, get_named_type

from devstore.graphql_api.bulk_query import (
    BulkPlan,
    BulkQueryError,
    flatten,
    jsonl_line,
    plan_bulk_query,
    run_page,
)
from devstore.graphql_api.context import BulkRunnerLike, RequestContext, WallClock, WebhooksLike, iso
from devstore.graphql_api.queries import app_scope
from devstore.graphql_api.resolvers import MUTATIONS, Doc, get_typed, root
from devstore.records import AllOf, AnyOf, Term, make_gid, parse_gid

logger = logging.getLogger(__name__)

MAX_RUNNING_QUERY_OPERATIONS = 5
PAGE_SIZE = 250
PROGRESS_EVERY_PAGES = 20
RUNNING_STATUSES = ("created", "running", "canceling")


class BulkRunner:
    def __init__(
        self, schema: GraphQLSchema, data_dir: pathlib.Path, webhooks: WebhooksLike, wall_clock: WallClock
    ) -> None:
        self.schema = schema
        self.directory = data_dir / "bulk"
        self.webhooks = webhooks
        self.wall_clock = wall_clock
        self._tasks: set[asyncio.Task[None]] = set()
        self._cancelling: set[str] = set()
        self._resume: asyncio.Event | None = None

    def pause(self) -> None:
        """Hold new operations in CREATED until `resume` (tests of the running limit)."""
        self._resume = asyncio.Event()

    def resume(self) -> None:
        if self._resume is not None:
            self._resume.set()
            self._resume = None

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def path(self, shop: str, num: int) -> pathlib.Path:
        return self.directory / shop / f"{num}.jsonl"

    def running(self, ctx: RequestContext) -> list[Doc]:
        statuses = AnyOf(tuple(Term("status", "=", status) for status in RUNNING_STATUSES))
        where = AllOf((app_scope(ctx), Term("operation_type", "=", "query"), statuses))
        return [row.doc for row in ctx.records.page(ctx.shop, "BulkOperation", limit=50, where=where)]

    def start(self, ctx: RequestContext, query: str, group_objects: bool) -> dict[str, Any]:
        running = self.running(ctx)
        if len(running) >= MAX_RUNNING_QUERY_OPERATIONS:
            ids = ", ".join(doc["id"] for doc in running)
            message = f"A bulk query operation for this app and shop is already in progress: {ids}."
            return _failure(None, message, "OPERATION_IN_PROGRESS")
        try:
            plan = plan_bulk_query(self.schema, query)
        except BulkQueryError as error:
            return _failure(["query"], str(error), "INVALID")
        doc: Doc = {
            "id": make_gid("BulkOperation", ctx.records.next_id(ctx.shop, "BulkOperation")),
            "status": "CREATED",
            "type": "QUERY",
            "errorCode": None,
            "createdAt": iso(self.wall_clock()),
            "completedAt": None,
            "objectCount": 0,
            "rootObjectCount": 0,
            "fileSize": None,
            "url": None,
            "partialDataUrl": None,
            "query": query,
            "_clientId": ctx.client_id,
        }
        ctx.records.put(ctx.shop, doc)
        task = asyncio.get_running_loop().create_task(self._run(ctx, doc["id"], plan, group_objects))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"bulkOperation": doc, "userErrors": []}

    def cancel(self, ctx: RequestContext, gid: str) -> dict[str, Any]:
        doc = get_typed(ctx, gid, "BulkOperation")
        if doc is None:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
            }
        if doc["status"] not in {"CREATED", "RUNNING"}:
            message = f"A bulk operation cannot be canceled when it is {doc['status'].lower()}"
            return {"bulkOperation": doc, "userErrors": [{"field": None, "message": message}]}
        self._cancelling.add(gid)
        doc["status"] = "CANCELING"
        ctx.records.put(ctx.shop, doc)
        return {"bulkOperation": doc, "userErrors": []}

    async def _run(self, ctx: RequestContext, gid: str, plan: BulkPlan, group_objects: bool) -> None:
        if self._resume is not None:
            await self._resume.wait()
        try:
            doc = await anyio.to_thread.run_sync(self._write, ctx, gid, plan, group_objects)
        except Exception:
            logger.exception("bulk operation failed shop=%s id=%s", ctx.shop, gid)
            doc = ctx.records.get(ctx.shop, gid) or {"id": gid}
            doc.update(status="FAILED", errorCode="INTERNAL_SERVER_ERROR", completedAt=iso(self.wall_clock()))
            ctx.records.put(ctx.shop, doc)
        finally:
            self._cancelling.discard(gid)
        payload = {
            "admin_graphql_api_id": gid,
            "completed_at": doc.get("completedAt"),
            "created_at": doc.get("createdAt"),
            "error_code": doc["errorCode"].lower() if doc.get("errorCode") else None,
            "status": str(doc["status"]).lower(),
            "type": "query",
        }
        await self.webhooks.emit(ctx.shop, "bulk_operations/finish", payload)

    def _write(self, ctx: RequestContext, gid: str, plan: BulkPlan, group_objects: bool) -> Doc:
        records = ctx.records
        doc = records.get(ctx.shop, gid)
        assert doc is not None
        doc["status"] = "RUNNING"
        records.put(ctx.shop, doc)
        num = parse_gid(gid)[1]  # type: ignore[index]
        path = self.path(ctx.shop, num)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        root_type = self.schema.query_type
        assert root_type is not None
        connection = get_named_type(root_type.fields[plan.root.name.value].type)
        assert isinstance(connection, GraphQLObjectType)
        node_type = get_named_type(connection.fields["nodes"].type)
        assert isinstance(node_type, GraphQLObjectType)
        page_ctx = RequestContext(
            ctx.shop, ctx.client_id, ctx.api_version, records, ctx.base_url, ctx.wall_clock, bulk_cache={}
        )
        objects = roots = size = pages = 0
        batch: list[Doc] = []
        cancelled = False
        with partial.open("wb") as out:
            rows = records.scan(
                ctx.shop, plan.type_name, where=plan.where, sort=plan.sort, reverse=plan.reverse
            )
            for row in rows:
                batch.append(row.doc)
                if len(batch) < PAGE_SIZE:
                    continue
                written, count = self._write_page(out, page_ctx, plan, node_type, batch, group_objects)
                size, objects, roots, batch, pages = (
                    size + written,
                    objects + count,
                    roots + len(batch),
                    [],
                    pages + 1,
                )
                if gid in self._cancelling:
                    cancelled = True
                    break
                if pages % PROGRESS_EVERY_PAGES == 0:
                    records.put(ctx.shop, {**doc, "objectCount": objects, "rootObjectCount": roots})
            if batch and not cancelled:
                written, count = self._write_page(out, page_ctx, plan, node_type, batch, group_objects)
                size, objects, roots = size + written, objects + count, roots + len(batch)
        doc = records.get(ctx.shop, gid) or doc
        doc.update(objectCount=objects, rootObjectCount=roots, completedAt=iso(self.wall_clock()))
        if cancelled or gid in self._cancelling:
            partial.unlink(missing_ok=True)
            doc.update(status="CANCELED")
        else:
            partial.replace(path)
            url = f"{ctx.base_url.rstrip('/')}/_devstore/bulk/{ctx.shop}/{num}.jsonl"
            doc.update(status="COMPLETED", fileSize=size, url=url if size else None)
        records.put(ctx.shop, doc)
        return doc

    def _write_page(
        self,
        out: Any,
        ctx: RequestContext,
        plan: BulkPlan,
        node_type: GraphQLObjectType,
        batch: list[Doc],
        group: bool,
    ) -> tuple[int, int]:
        ctx.bulk_rows = batch
        nodes = run_page(self.schema, plan, ctx)
        ctx.bulk_rows = None
        parents: list[bytes] = []
        children: list[bytes] = []
        for node in nodes:
            line, descendants = flatten(node, plan.root, node_type, None)
            parents.append(jsonl_line(line))
            encoded = [jsonl_line(child) for child in descendants]
            if group:
                parents.extend(encoded)
            else:
                children.extend(encoded)  # ungrouped: children need not follow their parent
        chunk = b"".join(parents) + b"".join(children)
        out.write(chunk)
        return len(chunk), len(parents) + len(children) if not group else len(parents)


def _failure(field: list[str] | None, message: str, code: str) -> dict[str, Any]:
    return {"bulkOperation": None, "userErrors": [{"field": field, "message": message, "code": code}]}


def _runner(ctx: RequestContext) -> BulkRunnerLike:
    assert ctx.bulk is not None
    return ctx.bulk


@root("bulkOperationRunQuery", MUTATIONS)
def bulk_operation_run_query(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
    return _runner(ctx).start(ctx, str(args["query"]), bool(args.get("groupObjects")))


@root("bulkOperationCancel", MUTATIONS)
def bulk_operation_cancel(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
    return _runner(ctx).cancel(ctx, str(args["id"]))
