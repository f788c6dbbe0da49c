"""The simulated Zendesk, driven by the app's own protocol code (as the app will drive it): API-token auth,
the Tickets API and its error shapes and rate limits, webhooks signed so that our verifier accepts them (and
only them), and signed URLs that our JWT verifier accepts with the public key the API hands out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devzendesk.config import ZendeskConfig
from devzendesk.page import app_token
from devzendesk.server import create_zendesk_app
from devzendesk.state import ZendeskState
from integrations.zendesk.client import ZendeskClient
from integrations.zendesk.errors import (
    ZendeskInvalid,
    ZendeskNotFound,
    ZendeskUnauthorized,
    ZendeskUnavailable,
)
from integrations.zendesk.payloads import TriggerKind, parse_trigger_event, trigger_body_template
from integrations.zendesk.signatures import verify_webhook
from integrations.zendesk.signed_urls import decode_app_token

BASE = "http://zendesk.test"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 10, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def make(**config: Any) -> tuple[Starlette, ZendeskState, list[tuple[dict[str, str], bytes]], Clock]:
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=200)

    bot = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    clock = Clock()
    app = create_zendesk_app(
        ZendeskConfig(public_url=BASE, webhook_url="http://bot.test/hook", api_token="tok", **config),
        http=httpx.AsyncClient(transport=httpx.ASGITransport(app=bot)),
        clock=clock,
    )
    state: ZendeskState = app.state.zendesk
    state.triggers = []
    return app, state, received, clock


def client(app: Starlette, *, token: str = "tok", **kwargs: Any) -> ZendeskClient:
    async def no_sleep(seconds: float) -> None:
        return None

    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    return ZendeskClient(
        http, base_url=BASE, email="admin@devzendesk.example.com", api_token=token, sleep=no_sleep, **kwargs
    )


async def test_the_client_reads_and_updates_tickets_through_the_api() -> None:
    app, state, _, _ = make()
    customer = state.add_user("佐藤 太郎", "taro@example.com")
    ticket = state.open_ticket(
        requester=customer, subject="注文について", body="注文 #1001 はいつ届きますか？"
    )
    zendesk = client(app)

    me = await zendesk.me()
    assert me.role == "admin"
    found = await zendesk.ticket(ticket.id)
    assert found.requester_id == customer.id and found.status == "new"
    comments = await zendesk.comments(ticket.id)
    assert [(c.author_id, c.public, c.body) for c in comments] == [
        (customer.id, True, "注文 #1001 はいつ届きますか？")
    ]
    assert (await zendesk.user(customer.id)).email == "taro@example.com"

    await zendesk.add_comment(ticket.id, "担当者にお繋ぎします。", public=False, group_id=state.returns_group)
    tags = await zendesk.add_tags(ticket.id, ["order_desk_handoff"])
    await zendesk.add_tags(ticket.id, ["order_desk_handoff", "refund"])
    assert state.tickets[ticket.id].group_id == state.returns_group
    assert set(tags) == {"order_desk_handoff"} and state.tickets[ticket.id].tags == [
        "order_desk_handoff",
        "refund",
    ]
    note = state.tickets[ticket.id].comments[-1]
    assert not note.public and note.author_id == me.id
    assert {g.name for g in await zendesk.groups()} >= {"Support", "返品・返金"}


async def test_zendesks_error_shapes_reach_the_client_as_its_errors() -> None:
    app, state, _, _ = make()
    with pytest.raises(ZendeskUnauthorized):
        await client(app, token="wrong").me()
    with pytest.raises(ZendeskNotFound):
        await client(app).ticket(999_999)
    ticket = state.open_ticket(requester=state.add_user("A", "a@example.com"), subject="s", body="b")
    with pytest.raises(ZendeskInvalid):
        await client(app).add_comment(ticket.id, "x", public=False, group_id=1)


async def test_the_rate_limit_answers_429_with_retry_after_and_the_client_gives_up_for_the_queue() -> None:
    app, _, _, _ = make(requests_per_minute=2)
    zendesk = client(app, max_attempts=2, max_wait_seconds=1.0)
    await zendesk.me()
    await zendesk.me()
    with pytest.raises(ZendeskUnavailable) as raised:
        await zendesk.me()
    assert raised.value.status_code == 429 and raised.value.retry_after_seconds == 60.0


async def test_one_ticket_takes_only_so_many_updates() -> None:
    app, state, _, _ = make(ticket_updates_per_ten_minutes=1)
    ticket = state.open_ticket(requester=state.add_user("A", "a@example.com"), subject="s", body="b")
    zendesk = client(app, max_attempts=1)
    await zendesk.add_comment(ticket.id, "one", public=True)
    with pytest.raises(ZendeskUnavailable):
        await zendesk.add_comment(ticket.id, "two", public=True)
    assert [c.body for c in state.tickets[ticket.id].comments] == ["b", "one"]


async def test_triggers_deliver_webhooks_our_verifier_accepts_and_a_tampered_one_it_refuses() -> None:
    app, state, received, clock = make()
    from devzendesk.state import Trigger, TriggerEvent

    state.triggers = [
        Trigger(TriggerEvent.CREATED, trigger_body_template(TriggerKind.TICKET_CREATED)),
        Trigger(TriggerEvent.PUBLIC_COMMENT, trigger_body_template(TriggerKind.PUBLIC_COMMENT)),
    ]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        opened = await http.post(
            "/_devzendesk/tickets", json={"requester_email": "hana@example.com", "body": "在庫はありますか"}
        )
        ticket_id = opened.json()["id"]
        await http.post(
            f"/_devzendesk/tickets/{ticket_id}/comments", json={"body": "internal", "public": False}
        )
        await http.post(f"/_devzendesk/tickets/{ticket_id}/comments", json={"body": "まだですか"})
    assert len(received) == 2  # the internal note fires nothing
    now = datetime.fromtimestamp(clock.now, UTC)
    secret = state.config.signing_secret
    kinds = []
    for headers, body in received:
        result = verify_webhook(
            body,
            signature=headers["x-zendesk-webhook-signature"],
            timestamp=headers["x-zendesk-webhook-signature-timestamp"],
            secrets=[secret],
            now=now,
        )
        assert result.ok
        assert not verify_webhook(
            body.replace(b'"ticket_id"', b'"ticket_id" '),
            signature=headers["x-zendesk-webhook-signature"],
            timestamp=headers["x-zendesk-webhook-signature-timestamp"],
            secrets=[secret],
            now=now,
        ).ok
        event = parse_trigger_event(body)
        assert event.ticket_id == ticket_id
        kinds.append(event.kind)
    assert kinds == [TriggerKind.TICKET_CREATED, TriggerKind.PUBLIC_COMMENT]
    assert (
        received[0][0]["x-zendesk-webhook-invocation-id"] != received[1][0]["x-zendesk-webhook-invocation-id"]
    )
    assert json.loads(received[0][1])["requester_id"] == str(state.user_by_email("hana@example.com").id)  # type: ignore[union-attr]


async def test_the_signed_url_verifies_with_the_public_key_the_api_hands_out() -> None:
    app, state, _, _ = make()
    state.clock = __import__("time").time  # PyJWT checks exp against the real clock
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        pem = (
            await http.get(
                f"/api/v2/apps/{state.config.app_id}/public_key.pem",
                auth=("admin@devzendesk.example.com/token", "tok"),
            )
        ).text
    found = decode_app_token(
        app_token(state),
        public_key_pem=pem,
        subdomain="devzendesk",
        installation_id=state.config.installation_id,
    )
    assert found.installation_id == state.config.installation_id


async def test_the_ticket_page_posts_the_signed_url_into_the_sidebar_and_escapes_text() -> None:
    app, state, _, _ = make(sidebar_url="https://app.test/zendesk/sidebar/shop")
    ticket = state.open_ticket(
        requester=state.add_user("<b>x</b>", "x@example.com"), subject="<script>alert(1)</script>", body="<i>"
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        page = (await http.get(f"/agent/tickets/{ticket.id}")).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert (
        'action="https://app.test/zendesk/sidebar/shop?origin=http%3A%2F%2Fzendesk.test&amp;app_guid=' in page
    )
    assert 'name="token" value="ey' in page and 'data-app-origin="https://app.test"' in page
