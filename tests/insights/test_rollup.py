"""The Insights rollup (shop_app/insights/rollup.py) summed in SQL (shop_app/insights/summed.py) gives every
figure the direct computation (shop_app/insights/measures.py) gives over the hand-counted history, for
ranges, filters and re-contact windows; a change is picked up by the next run, and only then."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlmodel import col

from shop_app.database import transaction
from shop_app.insights import measures, summed
from shop_app.insights.measures import Filters
from shop_app.insights.rollup import EPOCH, FRESH, refresh, refresh_all
from shop_app.models import (
    BotDecision,
    Channel,
    Contact,
    DecisionAction,
    InsightDay,
    InsightDayKey,
    InsightRollupState,
    InsightTicket,
    Shop,
    Ticket,
    TicketStatus,
)
from shop_app.models.insights import COARSE, FINE
from tests.helpdesk.conftest import ALPHA, BETA
from tests.insights.conftest import Desk
from tests.insights.world import WEEKDAYS_9_TO_18, World, tokyo

NOW = tokyo(2026, 11, 20, 12, 0)
RANGES = [
    (date(2026, 11, 1), date(2026, 11, 10)),
    (date(2026, 11, 2), date(2026, 11, 2)),
    (date(2026, 10, 1), date(2026, 11, 30)),
]


async def _both(desk: Desk, shop_key: str, start: date, end: date, **options: Any) -> tuple[Any, Any]:
    async with desk.services.sessions() as session:
        shop = await session.get_one(Shop, desk.shop_ids[shop_key])
        direct = await measures.insights(session, shop=shop, start=start, end=end, now=NOW, **options)
        rolled = await summed.insights(session, shop=shop, start=start, end=end, now=NOW, **options)
    return direct.model_dump(), rolled.model_dump()


async def _refresh(
    desk: Desk, shop_key: str = ALPHA, now: datetime | None = None, window_days: int = 7
) -> int:
    async with transaction(desk.services.sessions) as session:
        shop = await session.get_one(Shop, desk.shop_ids[shop_key])
        return (await refresh(session, shop, now=now, window_days=window_days)).tickets


async def _summaries(desk: Desk) -> dict[str, set[tuple[Any, ...]]]:
    """Every day summary row (without its id), by table."""
    found: dict[str, set[tuple[Any, ...]]] = {}
    async with desk.services.sessions() as session:
        for table in (InsightDay, InsightDayKey):
            rows = (await session.execute(select(table))).scalars()
            found[table.__tablename__] = {tuple(row.model_dump(exclude={"id"}).items()) for row in rows}
    assert found["insight_days"] and found["insight_day_keys"]
    return found


async def _summaries_for(desk: Desk, window_days: int) -> bool:
    async with desk.services.sessions() as session:
        shop = await session.get_one(Shop, desk.shop_ids[ALPHA])
        return await summed.current_summaries(session, shop, window_days)


async def test_the_rollup_gives_every_figure_of_the_direct_computation(desk: Desk, world: World) -> None:
    await _refresh(desk, ALPHA)
    await _refresh(desk, BETA)
    checked = 0
    for start, end in RANGES:
        for filters in (
            Filters(),
            Filters(channel="web_chat"),
            Filters(intent="order_status"),
            Filters(language="en"),
            Filters(agent_id=world.agent_id),
        ):
            for window in (1, 7, 30):
                direct, rolled = await _both(
                    desk, ALPHA, start, end, filters=filters, recontact_window_days=window
                )
                assert rolled == direct, (start, end, filters, window)
                checked += direct["current"]["tickets"]
    direct, rolled = await _both(desk, BETA, date(2026, 11, 1), date(2026, 11, 10))
    assert rolled == direct and direct["current"]["tickets"] == 1
    assert checked > 100  # the comparisons were about tickets, not empty ranges


async def test_a_change_is_picked_up_by_the_next_run_and_only_then(desk: Desk, world: World) -> None:
    assert await _refresh(desk) == 7  # the first run builds the shop's rows
    assert await _refresh(desk) == 0  # nothing changed since (the five minutes' slack finds nothing new)
    start, end = date(2026, 11, 1), date(2026, 11, 10)
    later = datetime.now(NOW.tzinfo)
    async with transaction(desk.services.sessions) as session:
        # t5 (open, handed over) is resolved by the agent now; c2 comes back about t2's intent the next day
        t5 = await session.get_one(Ticket, world.tickets["t5"])
        t5.status = TicketStatus.RESOLVED
        t5.first_response_at = tokyo(2026, 11, 6, 11, 30)
        t5.resolved_at = tokyo(2026, 11, 6, 12, 0)
        t5.assignee_id = world.agent_id
        t5.updated_at = later
        t2 = await session.get_one(Ticket, world.tickets["t2"])
        again = Ticket(
            shop_id=t2.shop_id,
            contact_id=t2.contact_id,
            channel=Channel.EMAIL,
            status=TicketStatus.OPEN,
            created_at=tokyo(2026, 11, 4, 9, 0),
            updated_at=later,
            last_message_at=later,
        )
        session.add(again)
        await session.flush()
        session.add(
            BotDecision(
                shop_id=t2.shop_id,
                ticket_id=again.id or 0,
                intent="cancel",
                confidence=0.9,
                language="en",
                verification="not_needed",  # type: ignore[arg-type]
                action=DecisionAction.HANDOFF,
                reason="cancel is for a person",
                created_at=later,
            )
        )
    direct, stale = await _both(desk, ALPHA, start, end)
    assert stale != direct  # the rollup has not run yet
    assert stale["current"]["tickets"] == 6 and direct["current"]["tickets"] == 7
    written = await _refresh(desk)
    # t5, the new ticket, and t2 (its re-contact changed): the other tickets of those people, not all
    assert 3 <= written < 8
    direct, rolled = await _both(desk, ALPHA, start, end)
    assert rolled == direct
    assert rolled["current"]["recontacted"] == stale["current"]["recontacted"] + 1  # t2 came back
    # the changes added to the day summaries leave them as summing every day again would
    changed = await _summaries(desk)
    async with transaction(desk.services.sessions) as session:
        state = await session.get_one(InsightRollupState, desk.shop_ids[ALPHA])
        state.refreshed_at = EPOCH  # never run: the next run rebuilds
    assert await _refresh(desk) == 8
    assert await _summaries(desk) == changed


async def test_a_change_of_business_hours_or_time_zone_rebuilds_the_shop(desk: Desk, world: World) -> None:
    await _refresh(desk)
    async with transaction(desk.services.sessions) as session:
        shop = await session.get_one(Shop, desk.shop_ids[ALPHA])
        shop.business_hours = {"timezone": None, "week": {"mon": WEEKDAYS_9_TO_18["mon"]}, "holidays": []}
    assert await _refresh(desk) == 7
    direct, rolled = await _both(desk, ALPHA, date(2026, 11, 1), date(2026, 11, 10))
    assert rolled == direct
    async with transaction(desk.services.sessions) as session:
        shop = await session.get_one(Shop, desk.shop_ids[ALPHA])
        shop.iana_timezone = "Europe/London"
    assert await _refresh(desk) == 7
    direct, rolled = await _both(desk, ALPHA, date(2026, 11, 1), date(2026, 11, 10))
    assert rolled == direct


async def test_the_scheduled_run_keeps_every_shop_and_never_mixes_them(desk: Desk, world: World) -> None:
    assert await refresh_all(desk.services.sessions) == 8  # seven of Alpha's tickets, one of Beta's
    async with desk.services.sessions() as session:
        rows = (
            await session.execute(
                select(col(InsightTicket.shop_id), func.count()).group_by(col(InsightTicket.shop_id))
            )
        ).all()
        owners = dict((await session.execute(select(col(Ticket.id), col(Ticket.shop_id)))).all())
        for row in (await session.execute(select(InsightTicket))).scalars():
            assert owners[row.ticket_id] == row.shop_id
    assert dict(rows) == {desk.shop_ids[ALPHA]: 7, desk.shop_ids[BETA]: 1}
    async with desk.services.sessions() as session:
        for table, counted in ((InsightDay, InsightDay.tickets), (InsightDayKey, InsightDayKey.count)):
            for grain in (COARSE, FINE):
                summed_up = await session.execute(
                    select(col(table.shop_id), func.sum(col(counted)))
                    .where(col(table.grain) == grain)
                    .group_by(col(table.shop_id))
                )
                # Alpha's keys: 2 handoff reasons and intents, 4 WISMO states and carriers, 1 stock question;
                # Beta's: its one WISMO question
                expected = {ALPHA: 7, BETA: 1} if table is InsightDay else {ALPHA: 13, BETA: 2}
                assert dict(summed_up.all()) == {desk.shop_ids[k]: n for k, n in expected.items()}
    assert await refresh_all(desk.services.sessions) == 0


async def test_the_api_reads_a_rollup_at_most_a_minute_old(desk: Desk, world: World) -> None:
    query = {"start": "2026-11-01", "end": "2026-11-10"}

    async def tickets() -> int:
        answer = await desk.client.get("/api/v1/insights", params=query, headers=desk.key(ALPHA))
        return int(answer.json()["current"]["tickets"])

    first = await tickets()  # builds the rollup
    async with transaction(desk.services.sessions) as session:
        contact = (
            (await session.execute(select(Contact).where(col(Contact.shop_id) == desk.shop_ids[ALPHA])))
            .scalars()
            .first()
        )
        assert contact is not None and contact.id is not None
        session.add(
            Ticket(
                shop_id=desk.shop_ids[ALPHA],
                contact_id=contact.id,
                channel=Channel.LINE,
                created_at=tokyo(2026, 11, 7, 10, 0),
            )
        )
    assert await tickets() == first  # within the minute: the rollup as it was
    async with transaction(desk.services.sessions) as session:
        state = await session.get_one(InsightRollupState, desk.shop_ids[ALPHA])
        state.refreshed_at -= FRESH
    assert await tickets() == first + 1  # older than a minute: brought up to date first


@pytest.mark.parametrize("days", [0, 3])
async def test_durations_and_days_are_the_shops(desk: Desk, world: World, days: int) -> None:
    """The stored days are the shop's local days: 1 November in Tokyo holds order 1002 (31 October in UTC)."""
    await _refresh(desk)
    _, rolled = await _both(desk, ALPHA, date(2026, 11, 1), date(2026, 11, 1 + days))
    assert rolled["days"][0]["day"] == date(2026, 11, 1) and rolled["days"][0]["orders"] == 1
    assert len(rolled["days"]) == days + 1


async def test_the_day_summaries_are_read_for_the_window_they_were_summed_for(
    desk: Desk, world: World
) -> None:
    """The summaries hang on the window: read for it, the per-ticket facts for another, the same figures."""
    await _refresh(desk)
    assert await _summaries_for(desk, 7) and not await _summaries_for(desk, 30)
    before = await _both(desk, ALPHA, date(2026, 11, 1), date(2026, 11, 30), recontact_window_days=30)
    assert before[0] == before[1]
    assert await _refresh(desk, window_days=30) == 7  # another window: summed again
    assert await _summaries_for(desk, 30) and not await _summaries_for(desk, 7)
    direct, rolled = await _both(desk, ALPHA, date(2026, 11, 1), date(2026, 11, 30), recontact_window_days=30)
    assert rolled == direct == before[0]


async def test_an_erased_ticket_leaves_the_day_summaries_at_the_next_run(desk: Desk, world: World) -> None:
    """A ticket erased (a customer's redaction) takes its facts with it; the next run sums its day again."""
    await _refresh(desk)
    async with transaction(desk.services.sessions) as session:
        t5 = world.tickets["t5"]
        for table in (BotDecision, InsightTicket):
            await session.execute(delete(table).where(col(table.ticket_id) == t5))
        await session.execute(delete(Ticket).where(col(Ticket.id) == t5))
    start, end = date(2026, 11, 1), date(2026, 11, 10)
    direct, stale = await _both(desk, ALPHA, start, end)
    assert direct["current"]["tickets"] == 5 and stale["current"]["tickets"] == 6
    assert await _refresh(desk) == 0  # no ticket to work out again, only its day
    direct, rolled = await _both(desk, ALPHA, start, end)
    assert rolled == direct and rolled["current"]["handed_off"] == 1
