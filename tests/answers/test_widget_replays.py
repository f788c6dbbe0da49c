# ruff: noqa: F811 - tests take the imported `desk` fixture by name
"""A signed app proxy query is answered once: a logged URL replayed minutes later, or at once, or moved to
another widget endpoint, is refused, in this process or another; the widget's own requests (a random
``n`` each) all pass."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine
from sqlalchemy import select

from shop_app.channels.proxy_signatures import claim_proxy_signature
from shop_app.database import transaction
from shop_app.models import AnsweredProxySignature, Ticket
from shop_app.settings import Settings
from tests.answers.test_widget import PROXY, signed, start
from tests.conftest import FakeShopify, running_app
from tests.helpdesk.conftest import Desk, desk  # noqa: F401 - registers the fixture

pytestmark = pytest.mark.anyio

SIGNED_IN_CUSTOMER = 7001


async def _tickets(desk: Desk) -> int:
    async with desk.services.sessions() as session:
        return len((await session.execute(select(Ticket))).scalars().all())


async def test_a_logged_proxy_url_replayed_seven_minutes_later_is_refused(desk: Desk) -> None:
    # given a signed-in shopper's chat, started through a URL that ended up in a log
    settings = desk.services.settings
    logged = signed(settings, customer_id=SIGNED_IN_CUSTOMER)
    begun = await start(desk.client, logged, "Hello")
    assert begun.status_code == 201, begun.text

    # when someone replays that URL seven minutes later
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=7), tick=True):
        replayed = await start(desk.client, logged, "Where is my order #1001?")
        fresh = await start(desk.client, signed(settings, customer_id=SIGNED_IN_CUSTOMER), "Hi again")

    # then the replay is refused as a stale signature, while a query Shopify signs now is answered
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "invalid_proxy_signature"
    assert fresh.status_code == 201, fresh.text
    assert await _tickets(desk) == 2


async def test_an_immediate_replay_of_a_signed_query_is_refused(desk: Desk) -> None:
    settings = desk.services.settings
    query = signed(settings, customer_id=SIGNED_IN_CUSTOMER)
    first = await start(desk.client, query, "Hello")
    again = await start(desk.client, query, "Where is my order #1001?")
    fresh = await start(desk.client, signed(settings, customer_id=SIGNED_IN_CUSTOMER), "Hello")

    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()["error"]["code"]) == (409, "replayed_proxy_request")
    assert fresh.status_code == 201, fresh.text
    assert await _tickets(desk) == 2


async def test_a_signature_in_another_case_or_on_another_endpoint_is_the_same_signature(desk: Desk) -> None:
    # given a hello the widget made while signed in (nothing to see in it but "signed_in")
    settings = desk.services.settings
    query = signed(settings, customer_id=SIGNED_IN_CUSTOMER)
    hello = await desk.client.get(f"{PROXY}/hello?{query}")
    assert hello.status_code == 200
    signature = query.rsplit("signature=", 1)[1]

    # when its signed query is used to start a conversation, as is or with the signature upper-cased
    moved = await start(desk.client, query, "Where is my order #1001?")
    shouted = await start(desk.client, query.replace(signature, signature.upper()), "Where is #1001?")

    # then neither is answered
    assert (moved.status_code, moved.json()["error"]["code"]) == (409, "replayed_proxy_request")
    assert (shouted.status_code, shouted.json()["error"]["code"]) == (409, "replayed_proxy_request")
    assert await _tickets(desk) == 0


async def test_the_widgets_polls_in_one_second_are_answered_and_a_repeated_poll_is_not(desk: Desk) -> None:
    # given a conversation, and three polls Shopify signs in the same second (each with the widget's `n`)
    settings = desk.services.settings
    begun = await start(desk.client, signed(settings), "Hello", name="Mia")
    headers = {"X-Widget-Session": begun.json()["session"]}
    moment = time.time()
    queries = [signed(settings, timestamp=moment, extra={"after": "0"}) for _ in range(3)]

    # when each is sent, then the first again
    polls = [await desk.client.get(f"{PROXY}/messages?{query}", headers=headers) for query in queries]
    repeated = await desk.client.get(f"{PROXY}/messages?{queries[0]}", headers=headers)

    # then the three are answered and the repeat is refused without ending the conversation
    assert [poll.status_code for poll in polls] == [200, 200, 200]
    assert (repeated.status_code, repeated.json()["error"]["code"]) == (409, "replayed_proxy_request")
    after = await desk.client.get(f"{PROXY}/messages?{signed(settings)}", headers=headers)
    assert after.status_code == 200


async def test_a_signature_answered_by_one_process_is_refused_by_another(
    desk: Desk, settings: Settings
) -> None:
    # given a second app process on the same database
    query = signed(desk.services.settings, customer_id=SIGNED_IN_CUSTOMER)
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(FakeShopify())) as http,
        running_app(desk.services.settings, http) as (other, _state),
    ):
        # when one process answers the signed query and the same query reaches the other
        first = await start(desk.client, query, "Hello")
        elsewhere = await start(other, query, "Where is my order #1001?")

    # then the other refuses it
    assert first.status_code == 201, first.text
    assert (elsewhere.status_code, elsewhere.json()["error"]["code"]) == (409, "replayed_proxy_request")
    assert await _tickets(desk) == 1


async def test_answered_signatures_are_forgotten_once_they_could_no_longer_verify(desk: Desk) -> None:
    now = datetime.now(UTC)
    signed_at = int(now.timestamp())
    async with transaction(desk.services.sessions) as session:
        assert await claim_proxy_signature(session, signature="AB" * 32, timestamp=signed_at, now=now)
        assert not await claim_proxy_signature(session, signature="ab" * 32, timestamp=signed_at, now=now)
    later = now + timedelta(minutes=5)
    async with transaction(desk.services.sessions) as session:
        assert await claim_proxy_signature(
            session, signature="cd" * 32, timestamp=int(later.timestamp()), now=later
        )
    async with desk.services.sessions() as session:
        kept = (await session.execute(select(AnsweredProxySignature))).scalars().all()
    assert [row.digest for row in kept] == [hashlib.sha256(b"cd" * 32).hexdigest()]
