"""The Insights figures summed from the rollup (``shop_app.insights.rollup``) in SQL.

When the day summaries (``shop_app.insights.summary``) were summed for the asked re-contact window (the
setting's, always, for the API) the counts come from them: COARSE rows (a few dozen a day: channel, agent)
unless an intent or language filter needs the FINE ones, less the resolutions whose window still runs
(an index range of the last window's resolutions); the breakdowns (handoffs, WISMO, stock) likewise. For
another window the per-ticket facts are grouped instead. Medians and 90th percentiles are exact nearest
ranks (``measures.percentile``) over the range's stored durations: ``percentile_disc`` over grouping sets on
PostgreSQL, streamed from a covering index and ranked here on SQLite; the satisfaction answers are read from
a covering index too. Every figure is the one ``measures.insights`` computes directly
(tests/insights/test_rollup.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, literal_column, not_, or_, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from shop_app.helpdesk.business_hours import Schedule
from shop_app.insights import summary
from shop_app.insights.measures import BOT, TOP, Filters, _minutes, _ratio, percentile, ranked
from shop_app.models import (
    InsightDay,
    InsightDayKey,
    InsightOrderDay,
    InsightRollupState,
    InsightTicket,
    Shop,
)
from shop_app.models.insights import COARSE, FINE
from shop_app.schemas.insights import Count, DayRow, Headline, InsightsOut, Satisfaction, Speed, StockCount

T = InsightTicket
D = InsightDay
K = InsightDayKey
EVERYTHING = Filters()


AGENT_KEY: ColumnElement[str] = literal_column(
    "CASE WHEN agent_id IS NOT NULL THEN CAST(agent_id AS VARCHAR) WHEN by_bot THEN 'bot' END"
)  # no bound values: the very expression of the GROUP BY
SHARES = (0.5, 0.9)


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
    # nearest ranks worked out by the database: (metric, share) -> seconds
    known: dict[tuple[str, float], float | None] = field(default_factory=dict)

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

    def quantile(self, metric: str, share: float) -> float | None:
        if (metric, share) in self.known:
            return self.known[(metric, share)]
        return percentile(self.firsts if metric == "first" else self.resolutions, share)


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


def _where(
    table: Any,
    shop_id: int,
    first: date,
    last: date,
    filters: Filters,
    *,
    day: str = "day",
    channel: str = "channel",
    language: str = "language",
    agent: str = "agent_id",
    by_day: bool = True,
) -> list[ColumnElement[bool]]:
    """A range of local days of one shop's rows in ``table`` and the filters, by the columns named
    (``by_day`` False: the range an expression, so no index on the day is chosen for it)."""
    c = table.__table__.c
    days = c[day] if by_day else c[day] + 0
    where = [c.shop_id == shop_id, days >= first.toordinal(), days <= last.toordinal()]
    if filters.channel:
        where.append(c[channel] == filters.channel)
    if filters.intent:
        where.append(c.intent == filters.intent)
    if filters.language:
        where.append(c[language] == filters.language)
    if filters.agent_id is not None:
        where.append(c[agent] == filters.agent_id)
    return where


def agent_key(agent_id: int | None, by_bot: bool) -> str | None:
    """An agent's id, the bot, or None (a summary's no agent is 0: ids start at 1)."""
    return str(agent_id) if agent_id else BOT if by_bot else None


@dataclass(slots=True)
class Summed:
    all: Tally = field(default_factory=Tally)
    days: dict[int, Tally] = field(default_factory=lambda: defaultdict(Tally))
    channels: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    agents: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    asked: Asked = field(default_factory=Asked)
    asked_days: dict[int, Asked] = field(default_factory=lambda: defaultdict(Asked))
    asked_channels: dict[str, Asked] = field(default_factory=lambda: defaultdict(Asked))
    asked_agents: dict[str, Asked] = field(default_factory=lambda: defaultdict(Asked))
    orders: dict[int, int] = field(default_factory=dict)

    def tallies(self, day: int, channel: str, agent: str | None) -> list[Tally]:
        """Where one group of a day's tickets counts: the range, its day, its channel, its agent."""
        chosen = [self.all, self.days[day], self.channels[channel]]
        return [*chosen, self.agents[agent]] if agent is not None else chosen


@dataclass(frozen=True, slots=True)
class Range:
    """What one ``_sum`` is asked: the shop, its days, the filters, the window and the moment of reading;
    ``summaries`` when the day summaries are current for this window (else the per-ticket facts)."""

    shop: Shop
    first: date
    last: date
    filters: Filters
    window: timedelta
    now: datetime
    summaries: bool

    @property
    def shop_id(self) -> int:
        assert self.shop.id is not None
        return self.shop.id

    def where(self, table: Any = T, **columns: Any) -> list[ColumnElement[bool]]:
        return _where(table, self.shop_id, self.first, self.last, self.filters, **columns)


async def _counts_from_tickets(connection: AsyncConnection, asked: Range, summed: Summed) -> None:
    """The counts from the per-ticket facts: one GROUP BY of the finest grouping (a few rows a day)."""
    seconds = asked.window.total_seconds()
    came_back = and_(col(T.return_seconds).is_not(None), col(T.return_seconds) <= seconds)
    resolved = col(T.resolved) == true()
    reopened = col(T.reopened) == true()
    kept = and_(resolved, not_(reopened), not_(came_back))
    honest = and_(kept, col(T.resolved_at) <= asked.now - asked.window)
    due = summary.targets(asked.shop)
    target = case(*[(col(T.channel) == k, v) for k, v in due.items()], else_=summary.DEFAULT_TARGET)
    query = (
        select(
            col(T.day),
            col(T.channel),
            col(T.agent_id),
            col(T.by_bot),
            func.count(),
            _count(resolved),
            _count(honest),
            _count(and_(kept, col(T.resolved_at) > asked.now - asked.window)),
            _count(or_(reopened, and_(resolved, came_back))),
            _count(and_(honest, col(T.by_bot) == true())),
            _count(col(T.handoff_reason).is_not(None)),
            _count(or_(resolved, reopened)),
            _count(col(T.first_response_seconds).is_not(None)),
            _count(col(T.first_response_seconds) <= target),
        )
        .where(*asked.where())
        .group_by(col(T.day), col(T.channel), col(T.agent_id), col(T.by_bot))
    )
    for day, channel, agent_id, by_bot, *counts in (await connection.execute(query)).all():
        numbers = [int(n or 0) for n in counts]
        for tally in summed.tallies(int(day), str(channel), agent_key(agent_id, bool(by_bot))):
            tally.add(numbers)


async def _counts_from_summaries(connection: AsyncConnection, asked: Range, summed: Summed) -> None:
    """The counts from the day summaries, less the resolutions whose window still runs (not yet honest)."""
    grain = FINE if asked.filters.intent or asked.filters.language else COARSE
    group = (col(D.day), col(D.channel), col(D.agent_id), col(D.by_bot))
    query = (
        select(*group, *(func.sum(getattr(D, name)) for name in summary.COUNTED))
        .where(*asked.where(D), col(D.grain) == grain)
        .group_by(*group)
    )
    since = asked.now - asked.window
    kept_lately = and_(
        col(T.resolved) == true(),
        col(T.reopened) == false(),
        col(T.resolved_at) > since,
        or_(col(T.return_seconds).is_(None), col(T.return_seconds) > asked.window.total_seconds()),
    )
    # counted here, not grouped in SQL: a GROUP BY in the order of the day index would have the planner
    # read the range's every ticket by it instead of the last window's resolutions by theirs
    lately = select(col(T.day), col(T.channel), col(T.agent_id), col(T.by_bot)).where(
        *asked.where(by_day=False), kept_lately
    )
    waiting = Counter(
        (int(day), str(channel), agent_id or summary.NO_AGENT, bool(by_bot))
        for day, channel, agent_id, by_bot in (await connection.execute(lately)).all()
    )
    for day, channel, agent_id, by_bot, *counts in (await connection.execute(query)).all():
        tickets, resolved, kept, bot_kept, recontacted, handed, closed, answered, met = (
            int(n or 0) for n in counts
        )
        awaiting = waiting.get((int(day), str(channel), agent_id, bool(by_bot)), 0)
        bot_awaiting = awaiting if by_bot else 0
        numbers = (
            tickets,
            resolved,
            kept - awaiting,
            awaiting,
            recontacted,
            bot_kept - bot_awaiting,
            handed,
            closed,
            answered,
            met,
        )
        for tally in summed.tallies(int(day), str(channel), agent_key(agent_id, bool(by_bot))):
            tally.add(numbers)


async def _durations(connection: AsyncConnection, asked: Range, summed: Summed) -> None:
    """Exact nearest-rank medians and 90th percentiles of the durations (``measures.percentile``): in
    PostgreSQL by ``percentile_disc`` over grouping sets, elsewhere streamed from the covering index."""
    first, resolution = col(T.first_response_seconds), col(T.resolution_seconds)
    where = [*asked.where(), or_(first.is_not(None), resolution.is_not(None))]
    if connection.dialect.name == "postgresql":
        ranks = [
            func.percentile_disc(literal_column(repr(share))).within_group(column)
            for column in (first, resolution)
            for share in SHARES
        ]
        on_day, on_channel = col(T.day), col(T.channel)
        query = (
            select(
                func.grouping(on_day),
                func.grouping(on_channel),
                func.grouping(AGENT_KEY),
                on_day,
                on_channel,
                AGENT_KEY,
            )
            .add_columns(*ranks)
            .where(*where)
            .group_by(func.grouping_sets(tuple_(), tuple_(on_day), tuple_(on_channel), tuple_(AGENT_KEY)))
        )
        for by_day, by_channel, by_agent, at, sent_by, agent, *values in (
            await connection.execute(query)
        ).all():
            if not by_day:
                tally = summed.days[int(at)]
            elif not by_channel:
                tally = summed.channels[str(sent_by)]
            elif not by_agent:
                if agent is None:
                    continue
                tally = summed.agents[str(agent)]
            else:
                tally = summed.all
            metrics = [(m, share) for m in ("first", "resolution") for share in SHARES]
            tally.known.update(zip(metrics, values, strict=True))
        return
    grouping = (col(T.day), col(T.channel), col(T.agent_id), col(T.by_bot))
    rows = (await connection.execute(select(*grouping, first, resolution).where(*where))).all()
    # the covering index returns the rows grouped: each group's tallies are found once
    for (day, channel, agent_id, by_bot), group in groupby(rows, key=itemgetter(0, 1, 2, 3)):
        tallies = summed.tallies(int(day), str(channel), agent_key(agent_id, bool(by_bot)))
        durations = list(group)
        firsts = [row[4] for row in durations if row[4] is not None]
        resolutions = [row[5] for row in durations if row[5] is not None]
        for index, tally in enumerate(tallies):
            tally.firsts.extend(firsts)
            if index != 1:  # a day's resolutions are not shown
                tally.resolutions.extend(resolutions)


async def _surveys(connection: AsyncConnection, asked: Range, summed: Summed) -> None:
    """The satisfaction answers, from the covering index of the per-ticket facts."""
    group = (col(T.csat_day), col(T.csat_channel), col(T.csat_agent_id), col(T.csat_by_bot))
    query = (
        select(
            *group,
            func.count(),
            func.count(col(T.csat_score)),
            func.coalesce(func.sum(col(T.csat_score)), 0),
            _count(col(T.csat_score) >= 4),
        )
        .where(
            *asked.where(
                day="csat_day", channel="csat_channel", language="csat_language", agent="csat_agent_id"
            )
        )
        .group_by(*group)
    )
    for sent_day, sent_by, agent, bot, sent, answered, total, satisfied in (
        await connection.execute(query)
    ).all():
        key = BOT if bot else str(agent or "none")
        for each in (
            summed.asked,
            summed.asked_days[int(sent_day or 0)],
            summed.asked_channels[str(sent_by)],
            summed.asked_agents[key],
        ):
            each.sent += int(sent)
            each.answered += int(answered)
            each.total += int(total or 0)
            each.satisfied += int(satisfied or 0)


async def _sum(session: AsyncSession, asked: Range) -> Summed:
    summed = Summed()
    # Core, not the ORM: plain numbers back, without the ORM's per-row work
    connection = await session.connection()
    if asked.summaries:
        await _counts_from_summaries(connection, asked, summed)
    else:
        await _counts_from_tickets(connection, asked, summed)
    await _durations(connection, asked, summed)
    await _surveys(connection, asked, summed)
    orders = select(col(InsightOrderDay.day), col(InsightOrderDay.orders)).where(
        col(InsightOrderDay.shop_id) == asked.shop_id,
        col(InsightOrderDay.day) >= asked.first.toordinal(),
        col(InsightOrderDay.day) <= asked.last.toordinal(),
    )
    summed.orders = {int(day): int(n) for day, n in (await connection.execute(orders)).all()}
    return summed


def _speed(key: str, tally: Tally) -> Speed:
    return Speed(
        key=key,
        tickets=tally.tickets,
        first_response_median_minutes=_minutes(tally.quantile("first", 0.5)),
        first_response_p90_minutes=_minutes(tally.quantile("first", 0.9)),
        resolution_median_minutes=_minutes(tally.quantile("resolution", 0.5)),
        resolution_p90_minutes=_minutes(tally.quantile("resolution", 0.9)),
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
                first_response_median_minutes=_minutes(t.quantile("first", 0.5)),
                csat_average=round(asked.total / asked.answered, 2) if asked and asked.answered else None,
            )
        )
    return rows


@dataclass(slots=True)
class Breakdowns:
    reasons: list[Count]
    intents: list[Count]
    states: list[Count]
    carriers: list[Count]
    stock: list[StockCount]


def _breakdowns(
    counted: dict[str, Counter[str]], stock: dict[tuple[str, str | None], list[int]]
) -> Breakdowns:
    # ordered in Python: a database's collation never decides a tie
    ordered = sorted(stock.items(), key=lambda item: (-item[1][0], item[0][0]))[:TOP]
    return Breakdowns(
        reasons=ranked(counted["handoff_reason"]),
        intents=ranked(counted["handoff_intent"], TOP),
        states=ranked(counted["wismo_state"]),
        carriers=ranked(counted["wismo_carrier"], TOP),
        stock=[StockCount(product=p, variant=v, count=n, sold_out_asks=s) for (p, v), (n, s) in ordered],
    )


async def _breakdowns_from_tickets(session: AsyncSession, asked: Range) -> Breakdowns:
    counted: dict[str, Counter[str]] = {}
    for kind in summary.KINDS:
        column = getattr(T, kind)
        query = select(column, func.count()).where(*asked.where(), column.is_not(None)).group_by(column)
        counted[kind] = Counter({str(key): int(n) for key, n in (await session.execute(query)).all()})
    stock: dict[tuple[str, str | None], list[int]] = defaultdict(lambda: [0, 0])
    rows = await session.execute(select(col(T.stock)).where(*asked.where(), col(T.stock).is_not(None)))
    for each in rows.scalars():
        for product, variant, sold_out in each or ():
            stock[(product, variant)][0] += 1
            stock[(product, variant)][1] += int(bool(sold_out))
    return _breakdowns(counted, stock)


async def _breakdowns_from_summaries(session: AsyncSession, asked: Range) -> Breakdowns:
    """The breakdowns from the day summaries: over everything (COARSE) unless a filter needs the FINE rows."""
    f = asked.filters
    grain = FINE if f.channel or f.intent or f.language or f.agent_id is not None else COARSE
    group = (col(K.kind), col(K.key), col(K.variant))
    query = (
        select(*group, func.sum(col(K.count)), func.sum(col(K.sold_out)))
        .where(*asked.where(K), col(K.grain) == grain)
        .group_by(*group)
    )
    counted: dict[str, Counter[str]] = defaultdict(Counter)
    stock: dict[tuple[str, str | None], list[int]] = {}
    for kind, key, variant, n, sold_out in (await session.execute(query)).all():
        if kind == "stock":
            stock[(str(key), variant or None)] = [int(n), int(sold_out)]
        else:
            counted[str(kind)][str(key)] += int(n)
    return _breakdowns(counted, stock)


async def current_summaries(session: AsyncSession, shop: Shop, window_days: int) -> bool:
    """Whether the shop's day summaries were summed for this window (and its hours and targets as now)."""
    stored = (
        await session.execute(
            select(col(InsightRollupState.hours)).where(col(InsightRollupState.shop_id) == shop.id)
        )
    ).scalar_one_or_none()
    return stored == summary.fingerprint(shop, window_days)


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
    rollup as it stands (``rollup.refresh`` brings it up to date first): from the day summaries when they
    were summed for this window, else from the per-ticket facts."""
    assert shop.id is not None
    moment = now or datetime.now(UTC)
    window = timedelta(days=recontact_window_days)
    length = (end - start).days + 1
    summaries = await current_summaries(session, shop, recontact_window_days)
    asked = Range(shop, start, end, filters, window, moment, summaries)
    current = await _sum(session, asked)
    before = await _sum(
        session,
        replace(asked, first=start - timedelta(days=length), last=start - timedelta(days=1)),
    )
    if summaries:
        broken_down = await _breakdowns_from_summaries(session, asked)
    else:
        broken_down = await _breakdowns_from_tickets(session, asked)
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
        handoff_reasons=broken_down.reasons,
        handoff_intents=broken_down.intents,
        wismo_by_state=broken_down.states,
        wismo_by_carrier=broken_down.carriers,
        stock_questions=broken_down.stock,
        csat_by_channel=[a.satisfaction(k) for k, a in sorted(current.asked_channels.items())],
        csat_by_agent=[a.satisfaction(k) for k, a in sorted(current.asked_agents.items())],
    )
