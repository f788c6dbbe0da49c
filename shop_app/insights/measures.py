"""The Insights figures of one shop over a range of days in its time zone, counted honestly.

Read with a few SQL queries over our own tables (tickets, the bot's decisions, orders, fulfillments, CSAT
surveys), always scoped to the shop, then folded here:

- a *ticket* is one conversation; it belongs to the local day it was opened;
- it is *resolved* when its status is resolved now; *re-contacted* when it was reopened, or the same customer
  (the contact, or the Shopify customer it is linked to) opened another ticket within the re-contact window
  after the resolution about the same order, or, without an order, with the same intent;
- *honestly resolved*: resolved, the window over and no re-contact; *bot resolved*: the same, settled by the
  bot (the automation rate counts only these); a resolution whose window still runs is neither;
- times (first response, resolution) are counted in the shop's business hours when it has set them;
- a *handoff* is a ticket with a handoff among the bot's decisions; its reason is the first one's.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.formats.display import time_zone
from shop_app.helpdesk.business_hours import Schedule, first_response_minutes
from shop_app.models import (
    BotDecision,
    Channel,
    Contact,
    CsatSurvey,
    DecisionAction,
    Fulfillment,
    Order,
    Shop,
    Ticket,
    TicketStatus,
    Verification,
)
from shop_app.schemas.insights import (
    Count,
    DayRow,
    Headline,
    InsightsOut,
    Satisfaction,
    Speed,
    StockCount,
)

BOT = "bot"
MAX_DAYS = 366
TOP = 10
UNFULFILLED_BUCKETS = ((7, "unfulfilled_7d_plus"), (3, "unfulfilled_3_6d"), (0, "unfulfilled_0_2d"))


@dataclass(frozen=True, slots=True)
class Filters:
    channel: str | None = None
    intent: str | None = None
    language: str | None = None
    agent_id: int | None = None


@dataclass(slots=True)
class TicketFacts:
    id: int
    contact_id: int
    customer_id: int | None
    channel: str
    status: str
    agent_id: int | None
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    by_bot: bool
    reopened: bool
    language: str
    intent: str | None = None
    order_id: int | None = None
    handoff_reason: str | None = None
    handoff_intent: str | None = None
    wismo_state: str | None = None
    wismo_order: int | None = None
    wismo_asked_at: datetime | None = None
    stock: list[tuple[str, str | None, bool]] = field(default_factory=list)


def handoff_reason(reason: str, verification: str) -> str:
    """The bot's reason for a handoff, in the few kinds the merchant acts on."""
    if verification in (Verification.FAILED, Verification.LIMITED) or "verification" in reason:
        return "verification_failed"
    if reason.startswith("asked for a person"):
        return "asked_for_person"
    if reason.startswith("low confidence"):
        return "low_confidence"
    if "is for a person" in reason or reason.startswith("anger"):
        return "person_only_intent"
    if reason.startswith(("order late", "order delayed")):
        return "late_order"
    if reason.startswith("order "):
        return "order_problem"
    if "switched off" in reason:
        return "auto_reply_off"
    if reason.startswith("stock") or "variants" in reason:
        return "stock_unknown"
    return "other"


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def ranked(counted: Counter[str], top: int | None = None) -> list[Count]:
    """Most asked first; equal counts by key, so the order does not hang on the rows' order."""
    return [Count(key=k, count=n) for k, n in sorted(counted.items(), key=lambda kn: (-kn[1], kn[0]))[:top]]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _minutes(value: float | None) -> float | None:
    return round(value / 60, 1) if value is not None else None


class OpenClock:
    """Seconds of open time between two moments (all of it when the shop has no business hours).

    The open spans from ``first`` to ``last`` (local days) are laid out once as POSIX seconds with the open
    time before each, so a duration is two binary searches; a moment outside them is counted day by day."""

    def __init__(
        self, schedule: Schedule | None, first: date | None = None, last: date | None = None
    ) -> None:
        self.schedule = schedule
        self._days: dict[date, tuple[float, float] | None] = {}
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._before: list[float] = []
        self._zone = schedule.zone if schedule is not None else UTC
        self._low, self._high = math.inf, -math.inf
        if schedule is not None and first is not None and last is not None:
            total = 0.0
            day = first
            while day <= last:
                span = self._span(day)
                if span is not None:
                    self._starts.append(span[0])
                    self._ends.append(span[1])
                    self._before.append(total)
                    total += span[1] - span[0]
                day += timedelta(days=1)
            # the laid-out stretch: from the first day's midnight to the day after the last
            after = last + timedelta(days=1)
            self._low = datetime(first.year, first.month, first.day, tzinfo=self._zone).timestamp()
            self._high = datetime(after.year, after.month, after.day, tzinfo=self._zone).timestamp()

    def _span(self, day: date) -> tuple[float, float] | None:
        assert self.schedule is not None
        if day not in self._days:
            span = self.schedule.open_span(day)
            self._days[day] = (span[0].timestamp(), span[1].timestamp()) if span is not None else None
        return self._days[day]

    def _open_before(self, moment: float) -> float:
        index = bisect_right(self._starts, moment) - 1
        if index < 0:
            return 0.0
        return self._before[index] + min(moment, self._ends[index]) - self._starts[index]

    def seconds(self, start: datetime, end: datetime) -> float:
        begin, finish = start.timestamp(), end.timestamp()
        if finish <= begin:
            return 0.0
        if self.schedule is None:
            return finish - begin
        if self._low <= begin and finish <= self._high:
            return self._open_before(finish) - self._open_before(begin)
        day = start.astimezone(self._zone).date() - timedelta(days=1)
        last = end.astimezone(self._zone).date()
        total = 0.0
        while day <= last:
            span = self._span(day)
            if span is not None:
                total += max(0.0, min(span[1], finish) - max(span[0], begin))
            day += timedelta(days=1)
        return total


def _utc_bounds(start: date, end: date, zone: tzinfo) -> tuple[datetime, datetime]:
    lo = datetime(start.year, start.month, start.day, tzinfo=zone).astimezone(UTC)
    after = end + timedelta(days=1)
    hi = datetime(after.year, after.month, after.day, tzinfo=zone).astimezone(UTC)
    return lo, hi


def _which(lo: datetime | None, hi: datetime | None, ids: Sequence[int] | None) -> list[ColumnElement[bool]]:
    """Tickets opened from ``lo`` up to ``hi``, or those of ``ids``, or (neither) all of them."""
    if ids is not None:
        return [col(Ticket.id).in_(ids)]
    return [col(Ticket.created_at) >= lo, col(Ticket.created_at) < hi] if lo and hi else []


async def _tickets(
    session: AsyncSession,
    *,
    shop_id: int,
    lo: datetime | None = None,
    hi: datetime | None = None,
    ids: Sequence[int] | None = None,
) -> list[TicketFacts]:
    query = (
        select(
            col(Ticket.id),
            col(Ticket.contact_id),
            col(Ticket.customer_shopify_id),
            col(Ticket.channel),
            col(Ticket.status),
            col(Ticket.assignee_id),
            col(Ticket.created_at),
            col(Ticket.first_response_at),
            col(Ticket.resolved_at),
            col(Ticket.resolved_by_bot),
            col(Ticket.reopened_at),
            col(Contact.locale),
        )
        .join(Contact, col(Contact.id) == col(Ticket.contact_id))
        .where(col(Ticket.shop_id) == shop_id, *_which(lo, hi, ids))
    )
    rows = (await session.execute(query)).all()
    return [
        TicketFacts(
            id=row[0] or 0,
            contact_id=row[1],
            customer_id=row[2],
            channel=str(row[3]),
            status=str(row[4]),
            agent_id=row[5],
            created_at=row[6],
            first_response_at=row[7],
            resolved_at=row[8],
            by_bot=bool(row[9]),
            reopened=row[10] is not None,
            language=(row[11] or "")[:2].lower() or "unknown",
        )
        for row in rows
    ]


async def _decide(
    session: AsyncSession,
    *,
    shop_id: int,
    tickets: dict[int, TicketFacts],
    lo: datetime | None = None,
    hi: datetime | None = None,
    ids: Sequence[int] | None = None,
) -> None:
    """Fold the bot's decisions into each ticket's facts (its intent and language are the first one's)."""
    rows = (
        await session.execute(
            select(
                col(BotDecision.ticket_id),
                col(BotDecision.intent),
                col(BotDecision.language),
                col(BotDecision.order_shopify_id),
                col(BotDecision.action),
                col(BotDecision.reason),
                col(BotDecision.verification),
                col(BotDecision.product_title),
                col(BotDecision.variant_title),
                col(BotDecision.created_at),
            )
            .join(Ticket, col(Ticket.id) == col(BotDecision.ticket_id))
            .where(
                col(BotDecision.shop_id) == shop_id,
                col(Ticket.shop_id) == shop_id,
                *_which(lo, hi, ids),
            )
            .order_by(col(BotDecision.ticket_id), col(BotDecision.id))
        )
    ).all()
    for ticket_id, intent, language, order_id, action, reason, verification, product, variant, at in rows:
        facts = tickets.get(ticket_id)
        if facts is None:
            continue
        if facts.intent is None:
            facts.intent = intent
            if language:
                facts.language = language
        if facts.order_id is None and order_id is not None:
            facts.order_id = order_id
        if action == DecisionAction.HANDOFF and facts.handoff_reason is None:
            facts.handoff_reason = handoff_reason(reason, str(verification))
            facts.handoff_intent = intent
        if intent == "order_status" and facts.wismo_state is None and reason.startswith("order "):
            facts.wismo_state = reason.removeprefix("order ").split()[0] if reason != "order " else None
            facts.wismo_order = order_id
            facts.wismo_asked_at = at
        if intent == "stock" and product:
            sold_out = reason.startswith(("stock sold_out", "sold out"))
            facts.stock.append((product, variant, sold_out))


def _returned(facts: Sequence[TicketFacts], window: timedelta) -> set[int]:
    """Ids of resolved tickets the same customer came back about within the window."""
    by_person: dict[tuple[str, int], list[TicketFacts]] = defaultdict(list)
    for each in facts:
        by_person[("contact", each.contact_id)].append(each)
        if each.customer_id is not None:
            by_person[("customer", each.customer_id)].append(each)
    back: set[int] = set()
    for group in by_person.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda f: f.created_at)
        for earlier in group:
            if earlier.resolved_at is None or earlier.id in back:
                continue
            until = earlier.resolved_at + window
            for later in group:
                if later.id == earlier.id or not earlier.resolved_at < later.created_at <= until:
                    continue
                same = (
                    later.order_id == earlier.order_id
                    if earlier.order_id is not None
                    else later.intent == earlier.intent
                )
                if same:
                    back.add(earlier.id)
                    break
    return back


@dataclass(slots=True)
class Folded:
    """One period's tickets with what was decided about each."""

    tickets: list[TicketFacts]
    recontacted: set[int]
    honest: set[int]
    awaiting: set[int]
    first_response: dict[int, float]
    resolution: dict[int, float]
    met: dict[int, bool]


def _fold(
    shop: Shop, tickets: list[TicketFacts], returned: set[int], window: timedelta, now: datetime
) -> Folded:
    schedule = Schedule.of(shop)
    clock = OpenClock(schedule)
    if schedule is not None and tickets:
        zone = schedule.zone
        earliest = min(t.created_at for t in tickets).astimezone(zone).date() - timedelta(days=2)
        latest = max(max(t.created_at for t in tickets), now)
        clock = OpenClock(schedule, earliest, latest.astimezone(zone).date() + timedelta(days=2))
    recontacted: set[int] = set()
    honest: set[int] = set()
    awaiting: set[int] = set()
    first: dict[int, float] = {}
    resolution: dict[int, float] = {}
    met: dict[int, bool] = {}
    targets = {channel.value: first_response_minutes(shop, channel) * 60 for channel in Channel}
    for each in tickets:
        if each.first_response_at is not None:
            seconds = clock.seconds(each.created_at, each.first_response_at)
            first[each.id] = seconds
            met[each.id] = seconds <= targets.get(each.channel, 3600)
        if each.status != TicketStatus.RESOLVED or each.resolved_at is None:
            if each.reopened:
                recontacted.add(each.id)
            continue
        resolution[each.id] = clock.seconds(each.created_at, each.resolved_at)
        if each.reopened or each.id in returned:
            recontacted.add(each.id)
        elif each.resolved_at + window <= now:
            honest.add(each.id)
        else:
            awaiting.add(each.id)
    return Folded(tickets, recontacted, honest, awaiting, first, resolution, met)


def _speed(key: str, group: list[TicketFacts], folded: Folded) -> Speed:
    firsts = [folded.first_response[t.id] for t in group if t.id in folded.first_response]
    resolutions = [folded.resolution[t.id] for t in group if t.id in folded.resolution]
    met = [folded.met[t.id] for t in group if t.id in folded.met]
    return Speed(
        key=key,
        tickets=len(group),
        first_response_median_minutes=_minutes(percentile(firsts, 0.5)),
        first_response_p90_minutes=_minutes(percentile(firsts, 0.9)),
        resolution_median_minutes=_minutes(percentile(resolutions, 0.5)),
        resolution_p90_minutes=_minutes(percentile(resolutions, 0.9)),
        first_response_target_met_rate=_ratio(sum(met), len(met)),
    )


@dataclass(frozen=True, slots=True)
class Survey:
    ticket_id: int
    channel: str
    agent_id: int | None
    by_bot: bool
    sent_at: datetime
    score: int | None
    language: str


def _satisfaction(key: str, surveys: Iterable[Survey]) -> Satisfaction:
    listed = list(surveys)
    scores = [s.score for s in listed if s.score is not None]
    return Satisfaction(
        key=key,
        sent=len(listed),
        answered=len(scores),
        average=round(sum(scores) / len(scores), 2) if scores else None,
        satisfied_rate=_ratio(sum(1 for s in scores if s >= 4), len(scores)),
    )


def _headline(orders: int, folded: Folded, tickets: list[TicketFacts], surveys: list[Survey]) -> Headline:
    ids = {t.id for t in tickets}
    resolved = [t for t in tickets if t.id in folded.resolution]
    speed = _speed("all", tickets, folded)
    csat = _satisfaction("all", surveys)
    bot_resolved = sum(1 for t in resolved if t.by_bot and t.id in folded.honest)
    honest = len(folded.honest & ids)
    recontacted = len(folded.recontacted & ids)
    handed = sum(1 for t in tickets if t.handoff_reason is not None)
    return Headline(
        orders=orders,
        tickets=len(tickets),
        inquiries_per_100_orders=round(100 * len(tickets) / orders, 2) if orders else None,
        bot_resolved=bot_resolved,
        honestly_resolved=honest,
        resolved=len(resolved),
        awaiting_window=len(folded.awaiting & ids),
        recontacted=recontacted,
        handed_off=handed,
        automation_rate=_ratio(bot_resolved, len(tickets)),
        honest_resolution_rate=_ratio(honest, len(tickets)),
        recontact_rate=_ratio(recontacted, len({t.id for t in resolved} | (folded.recontacted & ids))),
        handoff_rate=_ratio(handed, len(tickets)),
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


def _wanted(facts: TicketFacts, filters: Filters) -> bool:
    if filters.intent and facts.intent != filters.intent:
        return False
    if filters.language and facts.language != filters.language:
        return False
    return not (filters.agent_id is not None and facts.agent_id != filters.agent_id)


async def _order_days(
    session: AsyncSession, *, shop_id: int, lo: datetime, hi: datetime, zone: tzinfo
) -> Counter[date]:
    moments = (
        await session.execute(
            select(col(Order.created_at)).where(
                col(Order.shop_id) == shop_id, col(Order.created_at) >= lo, col(Order.created_at) < hi
            )
        )
    ).scalars()
    return Counter(moment.astimezone(zone).date() for moment in moments)


async def _surveys(session: AsyncSession, *, shop_id: int, lo: datetime, hi: datetime) -> list[Survey]:
    rows = (
        await session.execute(
            select(
                col(CsatSurvey.ticket_id),
                col(CsatSurvey.channel),
                col(CsatSurvey.agent_id),
                col(CsatSurvey.by_bot),
                col(CsatSurvey.sent_at),
                col(CsatSurvey.score),
                col(CsatSurvey.language),
            ).where(
                col(CsatSurvey.shop_id) == shop_id,
                col(CsatSurvey.sent_at) >= lo,
                col(CsatSurvey.sent_at) < hi,
            )
        )
    ).all()
    return [Survey(r[0], str(r[1]), r[2], bool(r[3]), r[4], r[5], r[6]) for r in rows]


@dataclass(slots=True)
class Period:
    orders: Counter[date]
    tickets: list[TicketFacts]
    folded: Folded
    surveys: list[Survey]


async def _period(
    session: AsyncSession,
    *,
    shop: Shop,
    start: date,
    end: date,
    filters: Filters,
    window: timedelta,
    now: datetime,
) -> Period:
    assert shop.id is not None
    zone = time_zone(shop.iana_timezone)
    lo, hi = _utc_bounds(start, end, zone)
    # the tickets of the period and those of the window after it (the same customers coming back)
    reach = hi + window
    everything = await _tickets(session, shop_id=shop.id, lo=lo, hi=reach)
    by_id = {t.id: t for t in everything}
    await _decide(session, shop_id=shop.id, lo=lo, hi=reach, tickets=by_id)
    returned = _returned(everything, window)
    chosen = [
        t
        for t in everything
        if t.created_at < hi and (not filters.channel or t.channel == filters.channel) and _wanted(t, filters)
    ]
    folded = _fold(shop, chosen, returned, window, now)
    intents = {t.id: t.intent for t in everything}
    surveys = [
        s
        for s in await _surveys(session, shop_id=shop.id, lo=lo, hi=hi)
        if (not filters.channel or s.channel == filters.channel)
        and (filters.agent_id is None or s.agent_id == filters.agent_id)
        and (not filters.language or s.language == filters.language)
        and (not filters.intent or intents.get(s.ticket_id) == filters.intent)
    ]
    orders = await _order_days(session, shop_id=shop.id, lo=lo, hi=hi, zone=zone)
    return Period(orders, chosen, folded, surveys)


async def _wismo_carriers(session: AsyncSession, *, shop_id: int, tickets: list[TicketFacts]) -> list[Count]:
    asked = {t.wismo_order for t in tickets if t.wismo_order is not None}
    if not asked:
        return []
    carriers: dict[int, str] = {}
    chunk = sorted(asked)
    for index in range(0, len(chunk), 500):
        rows = (
            await session.execute(
                select(col(Order.shopify_id), col(Fulfillment.tracking))
                .join(Fulfillment, col(Fulfillment.order_id) == col(Order.id))
                .where(col(Order.shop_id) == shop_id, col(Order.shopify_id).in_(chunk[index : index + 500]))
                .order_by(col(Fulfillment.id))
            )
        ).all()
        for order_id, tracking in rows:
            company = next((str(t.get("company")) for t in tracking or () if t.get("company")), None)
            if company and order_id not in carriers:
                carriers[order_id] = company
    counted = Counter(carriers.get(t.wismo_order, "none") for t in tickets if t.wismo_order is not None)
    return ranked(counted, TOP)


async def _wismo_states(session: AsyncSession, *, shop_id: int, tickets: list[TicketFacts]) -> list[Count]:
    unshipped = {t.wismo_order for t in tickets if t.wismo_state == "not_shipped" and t.wismo_order}
    placed: dict[int, datetime] = {}
    chunk = sorted(o for o in unshipped if o is not None)
    for index in range(0, len(chunk), 500):
        rows = await session.execute(
            select(col(Order.shopify_id), col(Order.created_at)).where(
                col(Order.shop_id) == shop_id, col(Order.shopify_id).in_(chunk[index : index + 500])
            )
        )
        placed.update(dict(rows.all()))
    counted: Counter[str] = Counter()
    for t in tickets:
        if t.wismo_state is None:
            continue
        state = t.wismo_state
        if state == "not_shipped" and t.wismo_order in placed and t.wismo_asked_at is not None:
            waited = max(0, (t.wismo_asked_at - placed[t.wismo_order]).days)
            state = next(name for floor, name in UNFULFILLED_BUCKETS if waited >= floor)
        counted[state] += 1
    return ranked(counted)


def _days(zone: tzinfo, start: date, end: date, period: Period) -> list[DayRow]:
    by_day: dict[date, list[TicketFacts]] = defaultdict(list)
    for t in period.tickets:
        by_day[t.created_at.astimezone(zone).date()].append(t)
    scores: dict[date, list[int]] = defaultdict(list)
    for s in period.surveys:
        if s.score is not None:
            scores[s.sent_at.astimezone(zone).date()].append(s.score)
    folded = period.folded
    rows = []
    day = start
    while day <= end:
        group = by_day.get(day, [])
        orders = period.orders.get(day, 0)
        firsts = [folded.first_response[t.id] for t in group if t.id in folded.first_response]
        rows.append(
            DayRow(
                day=day,
                orders=orders,
                tickets=len(group),
                inquiries_per_100_orders=round(100 * len(group) / orders, 2) if orders else None,
                bot_resolved=sum(1 for t in group if t.by_bot and t.id in folded.honest),
                honestly_resolved=sum(1 for t in group if t.id in folded.honest),
                recontacted=sum(1 for t in group if t.id in folded.recontacted),
                handed_off=sum(1 for t in group if t.handoff_reason is not None),
                first_response_median_minutes=_minutes(percentile(firsts, 0.5)),
                csat_average=round(sum(scores[day]) / len(scores[day]), 2) if scores.get(day) else None,
            )
        )
        day += timedelta(days=1)
    return rows


async def insights(
    session: AsyncSession,
    *,
    shop: Shop,
    start: date,
    end: date,
    filters: Filters = Filters(),
    recontact_window_days: int = 7,
    now: datetime | None = None,
) -> InsightsOut:
    """Every figure of the Insights page for ``start``..``end`` (local days, both included)."""
    assert shop.id is not None
    moment = now or datetime.now(UTC)
    window = timedelta(days=recontact_window_days)
    zone = time_zone(shop.iana_timezone)
    length = (end - start).days + 1
    current = await _period(
        session, shop=shop, start=start, end=end, filters=filters, window=window, now=moment
    )
    before = await _period(
        session,
        shop=shop,
        start=start - timedelta(days=length),
        end=start - timedelta(days=1),
        filters=filters,
        window=window,
        now=moment,
    )
    tickets = current.tickets
    folded = current.folded
    by_channel: dict[str, list[TicketFacts]] = defaultdict(list)
    by_agent: dict[str, list[TicketFacts]] = defaultdict(list)
    for t in tickets:
        by_channel[t.channel].append(t)
        if t.agent_id is not None:
            by_agent[str(t.agent_id)].append(t)
        elif t.by_bot:
            by_agent[BOT].append(t)
    reasons = Counter(str(t.handoff_reason) for t in tickets if t.handoff_reason is not None)
    intents = Counter(str(t.handoff_intent) for t in tickets if t.handoff_intent is not None)
    stock: dict[tuple[str, str | None], list[int]] = defaultdict(lambda: [0, 0])
    for t in tickets:
        for product, variant, sold_out in {(p, v, s) for p, v, s in t.stock}:
            stock[(product, variant)][0] += 1
            stock[(product, variant)][1] += int(sold_out)
    surveys_by_channel: dict[str, list[Survey]] = defaultdict(list)
    surveys_by_agent: dict[str, list[Survey]] = defaultdict(list)
    for s in current.surveys:
        surveys_by_channel[s.channel].append(s)
        surveys_by_agent[BOT if s.by_bot else str(s.agent_id or "none")].append(s)
    return InsightsOut(
        start=start,
        end=end,
        timezone=shop.iana_timezone or "UTC",
        business_hours=Schedule.of(shop) is not None,
        recontact_window_days=recontact_window_days,
        current=_headline(sum(current.orders.values()), folded, tickets, current.surveys),
        previous=_headline(sum(before.orders.values()), before.folded, before.tickets, before.surveys),
        days=_days(zone, start, end, current),
        speed_by_channel=[_speed(key, group, folded) for key, group in sorted(by_channel.items())],
        speed_by_agent=[_speed(key, group, folded) for key, group in sorted(by_agent.items())],
        handoff_reasons=ranked(reasons),
        handoff_intents=ranked(intents, TOP),
        wismo_by_state=await _wismo_states(session, shop_id=shop.id, tickets=tickets),
        wismo_by_carrier=await _wismo_carriers(session, shop_id=shop.id, tickets=tickets),
        stock_questions=[
            StockCount(product=p, variant=v, count=n, sold_out_asks=s)
            for (p, v), (n, s) in sorted(stock.items(), key=lambda item: (-item[1][0], item[0][0]))[:TOP]
        ],
        csat_by_channel=[_satisfaction(k, g) for k, g in sorted(surveys_by_channel.items())],
        csat_by_agent=[_satisfaction(k, g) for k, g in sorted(surveys_by_agent.items())],
    )
