"""The Insights figures summed from the rollup (``shop_app.insights.rollup``) in SQL: the counts of a range
grouped by day, channel and agent in one query, the satisfaction answers in another, the breakdowns
(handoffs, WISMO, stock) each a GROUP BY. Medians and 90th percentiles are exact nearest ranks over the
range's stored durations (one narrow column pair per ticket that has them), as ``measures.percentile``.
Every figure is the one ``measures.insights`` computes directly (tests/insights/test_rollup.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.helpdesk.business_hours import Schedule, first_response_minutes
from shop_app.insights.measures import BOT, TOP, Filters, _minutes, _ratio, percentile, ranked
from shop_app.models import Channel, InsightOrderDay, InsightTicket, Shop
from shop_app.schemas.insights import Count, DayRow, Headline, InsightsOut, Satisfaction, Speed, StockCount

T = InsightTicket
EVERYTHING = Filters()


@dataclass(slots=True)
class Tally:
    tickets: int = 0
    resolved: int = 0
    honest: int = 0
    awaiting: int = 0
    recontacted: int = 0
    bot_resolved: int = 0
    handed: int = 0
    closed: int = 0
    answered_first: int = 0
    met: int = 0
    firsts: list[float] = field(default_factory=list)
    resolutions: list[float] = field(default_factory=list)

    def add(self, row: Sequence[int]) -> None:
        (tickets, resolved, honest, awaiting, recontacted, bot_resolved, handed, closed, answered, met) = row
        self.tickets += tickets
        self.resolved += resolved
        self.honest += honest
        self.awaiting += awaiting
        self.recontacted += recontacted
        self.bot_resolved += bot_resolved
        self.handed += handed
        self.closed += closed
        self.answered_first += answered
        self.met += met


@dataclass(slots=True)
class Asked:
    sent: int = 0
    answered: int = 0
    total: int = 0
    satisfied: int = 0

    def satisfaction(self, key: str) -> Satisfaction:
        return Satisfaction(
            key=key,
            sent=self.sent,
            answered=self.answered,
            average=round(self.total / self.answered, 2) if self.answered else None,
            satisfied_rate=_ratio(self.satisfied, self.answered),
        )


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _filtered(shop_id: int, first: date, last: date, filters: Filters) -> list[ColumnElement[bool]]:
    where = [
        col(T.shop_id) == shop_id,
        col(T.day) >= first.toordinal(),
        col(T.day) <= last.toordinal(),
    ]
    if filters.channel:
        where.append(col(T.channel) == filters.channel)
    if filters.intent:
        where.append(col(T.intent) == filters.intent)
    if filters.language:
        where.append(col(T.language) == filters.language)
    if filters.agent_id is not None:
        where.append(col(T.agent_id) == filters.agent_id)
    return where


def _surveyed(shop_id: int, first: date, last: date, filters: Filters) -> list[ColumnElement[bool]]:
    where = [
        col(T.shop_id) == shop_id,
        col(T.csat_day) >= first.toordinal(),
        col(T.csat_day) <= last.toordinal(),
    ]
    if filters.channel:
        where.append(col(T.csat_channel) == filters.channel)
    if filters.intent:
        where.append(col(T.intent) == filters.intent)
    if filters.language:
        where.append(col(T.csat_language) == filters.language)
    if filters.agent_id is not None:
        where.append(col(T.csat_agent_id) == filters.agent_id)
    return where


@dataclass(slots=True)
class Summed:
    all: Tally
    days: dict[int, Tally]
    channels: dict[str, Tally]
    agents: dict[str, Tally]
    asked: Asked
    asked_days: dict[int, Asked]
    asked_channels: dict[str, Asked]
    asked_agents: dict[str, Asked]
    orders: dict[int, int]


async def _sum(
    session: AsyncSession,
    shop: Shop,
    first: date,
    last: date,
    filters: Filters,
    window: timedelta,
    now: datetime,
) -> Summed:
    assert shop.id is not None
    where = _filtered(shop.id, first, last, filters)
    seconds = window.total_seconds()
    came_back = and_(col(T.return_seconds).is_not(None), col(T.return_seconds) <= seconds)
    resolved = col(T.resolved) == true()
    reopened = col(T.reopened) == true()
    kept = and_(resolved, not_(reopened), not_(came_back))
    honest = and_(kept, col(T.resolved_at) <= now - window)
    targets = [
        (col(T.channel) == channel.value, first_response_minutes(shop, channel) * 60.0) for channel in Channel
    ]
    target = case(*targets, else_=3600.0)
    measured = (
        func.count(),
        _count(resolved),
        _count(honest),
        _count(and_(kept, col(T.resolved_at) > now - window)),
        _count(or_(reopened, and_(resolved, came_back))),
        _count(and_(honest, col(T.by_bot) == true())),
        _count(col(T.handoff_reason).is_not(None)),
        _count(or_(resolved, reopened)),
        _count(col(T.first_response_seconds).is_not(None)),
        _count(col(T.first_response_seconds) <= target),
    )
    every = Tally()
    days: dict[int, Tally] = defaultdict(Tally)
    channels: dict[str, Tally] = defaultdict(Tally)
    agents: dict[str, Tally] = defaultdict(Tally)

    def agent_key(agent_id: int | None, by_bot: bool) -> str | None:
        return str(agent_id) if agent_id is not None else BOT if by_bot else None

    # Core, not the ORM: plain numbers back, without the ORM's per-row work
    connection = await session.connection()

    # one GROUP BY of the finest grouping (a few rows a day), added up here by day, channel and agent
    query = (
        select(col(T.day), col(T.channel), col(T.agent_id), col(T.by_bot), *measured)
        .where(*where)
        .group_by(col(T.day), col(T.channel), col(T.agent_id), col(T.by_bot))
    )
    for day, channel, agent_id, by_bot, *counts in (await connection.execute(query)).all():
        numbers = [int(n or 0) for n in counts]
        for tally in (every, days[int(day)], channels[str(channel)]):
            tally.add(numbers)
        key = agent_key(agent_id, bool(by_bot))
        if key is not None:
            agents[key].add(numbers)
    durations = select(
        col(T.day),
        col(T.channel),
        col(T.agent_id),
        col(T.by_bot),
        col(T.first_response_seconds),
        col(T.resolution_seconds),
    ).where(*where, or_(col(T.first_response_seconds).is_not(None), col(T.resolution_seconds).is_not(None)))
    for day, channel, agent_id, by_bot, first_seconds, resolution in (
        await connection.execute(durations)
    ).all():
        key = agent_key(agent_id, bool(by_bot))
        groups = [every, channels[str(channel)]] + ([agents[key]] if key is not None else [])
        if first_seconds is not None:
            days[day].firsts.append(first_seconds)
            for tally in groups:
                tally.firsts.append(first_seconds)
        if resolution is not None:
            for tally in groups:
                tally.resolutions.append(resolution)
    asked = Asked()
    asked_days: dict[int, Asked] = defaultdict(Asked)
    asked_channels: dict[str, Asked] = defaultdict(Asked)
    asked_agents: dict[str, Asked] = defaultdict(Asked)
    surveys = (
        select(
            col(T.csat_day),
            col(T.csat_channel),
            col(T.csat_agent_id),
            col(T.csat_by_bot),
            func.count(),
            func.count(col(T.csat_score)),
            func.coalesce(func.sum(col(T.csat_score)), 0),
            _count(col(T.csat_score) >= 4),
        )
        .where(*_surveyed(shop.id, first, last, filters))
        .group_by(col(T.csat_day), col(T.csat_channel), col(T.csat_agent_id), col(T.csat_by_bot))
    )
    for sent_day, sent_by, agent, bot, sent, answered, total, satisfied in (
        await session.execute(surveys)
    ).all():
        key = BOT if bot else str(agent or "none")
        for each in (asked, asked_days[int(sent_day or 0)], asked_channels[str(sent_by)], asked_agents[key]):
            each.sent += int(sent)
            each.answered += int(answered)
            each.total += int(total or 0)
            each.satisfied += int(satisfied or 0)
    orders: dict[int, int] = {
        int(day): int(n)
        for day, n in (
            await session.execute(
                select(col(InsightOrderDay.day), col(InsightOrderDay.orders)).where(
                    col(InsightOrderDay.shop_id) == shop.id,
                    col(InsightOrderDay.day) >= first.toordinal(),
                    col(InsightOrderDay.day) <= last.toordinal(),
                )
            )
        ).all()
    }
    return Summed(every, days, channels, agents, asked, asked_days, asked_channels, asked_agents, orders)


def _speed(key: str, tally: Tally) -> Speed:
    return Speed(
        key=key,
        tickets=tally.tickets,
        first_response_median_minutes=_minutes(percentile(tally.firsts, 0.5)),
        first_response_p90_minutes=_minutes(percentile(tally.firsts, 0.9)),
        resolution_median_minutes=_minutes(percentile(tally.resolutions, 0.5)),
        resolution_p90_minutes=_minutes(percentile(tally.resolutions, 0.9)),
        first_response_target_met_rate=_ratio(tally.met, tally.answered_first),
    )


def _headline(summed: Summed) -> Headline:
    t = summed.all
    orders = sum(summed.orders.values())
    speed = _speed("all", t)
    csat = summed.asked.satisfaction("all")
    return Headline(
        orders=orders,
        tickets=t.tickets,
        inquiries_per_100_orders=round(100 * t.tickets / orders, 2) if orders else None,
        bot_resolved=t.bot_resolved,
        honestly_resolved=t.honest,
        resolved=t.resolved,
        awaiting_window=t.awaiting,
        recontacted=t.recontacted,
        handed_off=t.handed,
        automation_rate=_ratio(t.bot_resolved, t.tickets),
        honest_resolution_rate=_ratio(t.honest, t.tickets),
        recontact_rate=_ratio(t.recontacted, t.closed),
        handoff_rate=_ratio(t.handed, t.tickets),
        first_response_median_minutes=speed.first_response_median_minutes,
        first_response_p90_minutes=speed.first_response_p90_minutes,
        resolution_median_minutes=speed.resolution_median_minutes,
        resolution_p90_minutes=speed.resolution_p90_minutes,
        first_response_target_met_rate=speed.first_response_target_met_rate,
        csat_sent=csat.sent,
        csat_answered=csat.answered,
        csat_average=csat.average,
        csat_satisfied_rate=csat.satisfied_rate,
    )


def _days(start: date, end: date, summed: Summed) -> list[DayRow]:
    rows = []
    for ordinal in range(start.toordinal(), end.toordinal() + 1):
        t = summed.days.get(ordinal, Tally())
        orders = summed.orders.get(ordinal, 0)
        asked = summed.asked_days.get(ordinal)
        rows.append(
            DayRow(
                day=date.fromordinal(ordinal),
                orders=orders,
                tickets=t.tickets,
                inquiries_per_100_orders=round(100 * t.tickets / orders, 2) if orders else None,
                bot_resolved=t.bot_resolved,
                honestly_resolved=t.honest,
                recontacted=t.recontacted,
                handed_off=t.handed,
                first_response_median_minutes=_minutes(percentile(t.firsts, 0.5)),
                csat_average=round(asked.total / asked.answered, 2) if asked and asked.answered else None,
            )
        )
    return rows


async def _counted(
    session: AsyncSession, column: Any, where: list[ColumnElement[bool]], top: int | None = None
) -> list[Count]:
    query = select(column, func.count()).where(*where, column.is_not(None)).group_by(column)
    counted = Counter({str(key): int(n) for key, n in (await session.execute(query)).all()})
    return ranked(counted, top)  # ordered in Python: a database's collation never decides a tie


async def _stock(session: AsyncSession, where: list[ColumnElement[bool]]) -> list[StockCount]:
    stock: dict[tuple[str, str | None], list[int]] = defaultdict(lambda: [0, 0])
    rows = (await session.execute(select(col(T.stock)).where(*where, col(T.stock).is_not(None)))).scalars()
    for asked in rows:
        for product, variant, sold_out in asked or ():
            stock[(product, variant)][0] += 1
            stock[(product, variant)][1] += int(bool(sold_out))
    ranked = sorted(stock.items(), key=lambda item: (-item[1][0], item[0][0]))[:TOP]
    return [StockCount(product=p, variant=v, count=n, sold_out_asks=s) for (p, v), (n, s) in ranked]


async def insights(
    session: AsyncSession,
    *,
    shop: Shop,
    start: date,
    end: date,
    filters: Filters = EVERYTHING,
    recontact_window_days: int = 7,
    now: datetime | None = None,
) -> InsightsOut:
    """Every figure of the Insights page for ``start``..``end`` (local days, both included), from the
    rollup as it stands (``rollup.refresh`` brings it up to date first)."""
    assert shop.id is not None
    moment = now or datetime.now(UTC)
    window = timedelta(days=recontact_window_days)
    length = (end - start).days + 1
    current = await _sum(session, shop, start, end, filters, window, moment)
    before = await _sum(
        session, shop, start - timedelta(days=length), start - timedelta(days=1), filters, window, moment
    )
    where = _filtered(shop.id, start, end, filters)
    reasons = await _counted(session, col(T.handoff_reason), where)
    intents = await _counted(session, col(T.handoff_intent), where, TOP)
    states = await _counted(session, col(T.wismo_state), where)
    carriers = await _counted(session, col(T.wismo_carrier), where, TOP)
    return InsightsOut(
        start=start,
        end=end,
        timezone=shop.iana_timezone or "UTC",
        business_hours=Schedule.of(shop) is not None,
        recontact_window_days=recontact_window_days,
        current=_headline(current),
        previous=_headline(before),
        days=_days(start, end, current),
        speed_by_channel=[_speed(k, t) for k, t in sorted(current.channels.items())],
        speed_by_agent=[_speed(k, t) for k, t in sorted(current.agents.items())],
        handoff_reasons=reasons,
        handoff_intents=intents,
        wismo_by_state=states,
        wismo_by_carrier=carriers,
        stock_questions=await _stock(session, where),
        csat_by_channel=[a.satisfaction(k) for k, a in sorted(current.asked_channels.items())],
        csat_by_agent=[a.satisfaction(k) for k, a in sorted(current.asked_agents.items())],
    )
