"""Log lines carry their context: a request's id (the caller's when sane, else a fresh one, returned in
``X-Request-Id``) on every line of that request; a webhook's id on the lines of the request that stored it
and of the job that applies it; the bot's decision lines with the request that asked for it. ``json``
writes one object per line; the text format ends each line with ` key=value`; a context value cannot
forge a line."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop_app.logging_config import ContextFields, bound_log_context, log_formatter
from tests.answers.test_answers_api import add_order, answer
from tests.factories import webhook_headers
from tests.helpdesk.conftest import ALPHA, Desk, desk

__all__ = ["desk"]

GENERATED = re.compile(r"[0-9a-f]{24}")


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.addFilter(ContextFields())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def with_message(self, fragment: str) -> list[logging.LogRecord]:
        return [r for r in self.records if fragment in r.getMessage()]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def context(record: logging.LogRecord) -> dict[str, str]:
    return dict(getattr(record, "log_context", {}))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("lb-2f9c1e7a-0001", True),
        ("0b9e8c4e-6a8f-4f57-9d1c-3c3a9a1f7d21", True),
        ("Root=1-67891233-abcdef0123456789", False),
        ("short", False),
        ("has space in it", False),
        ("x" * 65, False),
        ("<script>alert(1)</script>", False),
        ("id\u3000全角", False),
    ],
)
async def test_a_sane_request_id_is_kept_and_anything_else_replaced(
    desk: Desk, offered: str, kept: bool
) -> None:
    response = await desk.client.get("/healthz", headers={"X-Request-Id": offered.encode()})

    returned = response.headers["x-request-id"]
    assert (returned == offered) is kept
    if not kept:
        assert GENERATED.fullmatch(returned)


@pytest.mark.anyio
@pytest.mark.parametrize("topic", ["orders/delete", "orders/create"])  # handled alone / written in groups
async def test_every_line_of_a_webhook_request_and_of_its_job_carries_its_ids(
    desk: Desk, lines: Lines, topic: str
) -> None:
    # given: a delivery the job will refuse (an order without an id), so the job writes a line
    body = json.dumps({"name": "no id here"}).encode()
    headers = webhook_headers(topic=topic, shop=ALPHA, body=body)
    unknown_body = b"{}"
    unknown = webhook_headers(topic="orders/delete", shop="nobody.myshopify.com", body=unknown_body)

    # when
    stored = await desk.client.post(desk.services.app_config.uri_for(topic), content=body, headers=headers)
    acknowledged = await desk.client.post(
        desk.services.app_config.uri_for("orders/delete"),
        content=unknown_body,
        headers={**unknown, "X-Request-Id": "edge-0123456789"},
    )
    await desk.state["jobs"].drain()

    # then: the request's line has both ids, the job's line the webhook's id and the task
    assert stored.status_code == acknowledged.status_code == 200
    (ack_line,) = lines.with_message("webhook for an unknown shop acknowledged")
    assert context(ack_line) == {
        "request_id": "edge-0123456789",
        "webhook_id": unknown["X-Shopify-Webhook-Id"],
    }
    (job_line,) = lines.with_message("webhook payload refused")
    assert context(job_line)["webhook_id"] == headers["X-Shopify-Webhook-Id"]
    assert context(job_line)["task"] == "process_webhooks"
    assert "request_id" not in context(job_line)  # the job is not the request's: it ran later, elsewhere


@pytest.mark.anyio
async def test_the_bots_decision_is_logged_with_the_request_that_asked_for_it(
    desk: Desk, lines: Lines
) -> None:
    await add_order(desk, ALPHA, 1001, 9001)
    ticket = await desk.open_ticket(message="Where is my order #1001? My email is hanako@example.jp")

    response = await answer(desk, ticket["id"], desk.key(ALPHA), post=True)

    (decided,) = lines.with_message("bot decision")
    assert context(decided) == {"request_id": response.headers["x-request-id"]}
    assert "action=reply intent=order_status" in decided.getMessage()
    assert "hanako@example.jp" not in decided.getMessage() and "#1001" not in decided.getMessage()


def formatted(log_format: str, message: str, **fields: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log_formatter(log_format))
    handler.addFilter(ContextFields())
    logger = logging.getLogger("tests.log_context")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        with bound_log_context(**fields):
            logger.info(message)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_text_lines_end_with_the_context_as_key_value_pairs() -> None:
    line = formatted("text", "webhook stored topic=orders/create", request_id="abc123", webhook_id="w-1")

    assert line.endswith("webhook stored topic=orders/create request_id=abc123 webhook_id=w-1\n")


def test_json_lines_are_one_object_each_with_the_context_as_keys() -> None:
    line = formatted("json", "two\nlines in one message", request_id="abc123", webhook_id="w-1")

    assert line.count("\n") == 1
    record = json.loads(line)
    assert record["message"] == "two\nlines in one message"
    assert record["request_id"] == "abc123" and record["webhook_id"] == "w-1"
    assert {"time", "level", "logger"} <= record.keys()
    assert "context" not in record and "log_context" not in record


@given(st.text(max_size=200))
def test_a_context_value_cannot_forge_a_line_or_a_field(value: str) -> None:
    line = formatted("text", "m", webhook_id=value)

    tail = line.split(" m", 1)[1]
    assert line.count("\n") == 1
    assert re.fullmatch(r" webhook_id=[A-Za-z0-9._:/@-]{0,64}\n", tail), tail
