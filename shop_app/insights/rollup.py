"""The Insights rollup: one row of facts per ticket (``insight_tickets``) and each local day's orders
(``insight_order_days``), so the API sums rows in SQL instead of folding a year of tickets in Python.

Brought up to date incrementally: only the tickets changed since the shop's last run (``updated_at``, a new
decision of the bot, a survey sent or answered, an order of a WISMO question synced) and every ticket of the
same people (an earlier ticket's re-contact depends on the later ones) are worked out again, with the very
functions of ``measures`` that the direct computation uses. A change of the shop's time zone or business
hours rebuilds the shop's rows. The API runs it before reading (so its figures are never stale) and the
scheduled reconciliation runs it for every shop, so a read finds little to do. Changes are read from a few
seconds before the last run (``SLACK``), so a transaction that committed late is not missed.

The day summaries (``summary``) are kept in the same transaction: a rebuild sums them from the rows written;
an incremental run takes the changed tickets' facts as they were out of them and puts the new ones in, and
sums again any day that counts a ticket no longer there (erased)."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.database import SessionFactory
from shop_app.formats.display import time_zone
from shop_app.helpdesk.business_hours import Schedule
from shop_app.insights import summary
from shop_app.insights.measures import (
    UNFULFILLED_BUCKETS,
    OpenClock,
    TicketFacts,
    _decide,
    _tickets,
    _utc_bounds,
)
from shop_app.models import (
    BotDecision,
    CsatSurvey,
    Fulfillment,
    InsightOrderDay,
    InsightRollupState,
    InsightTicket,
    Order,
    Shop,
    ShopStatus,
    Ticket,
    TicketStatus,
)
from shop_app.models.base import utcnow

logger = logging.getLogger(__name__)
SLACK = timedelta(seconds=30)
# how stale a read may find the rollup: the API brings it up to date when its last run is older
FRESH = timedelta(minutes=1)
CHUNK = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_WINDOW_DAYS = 7  # the setting's default (``Settings.recontact_window_days``)


@dataclass(frozen=True, slots=True)
class Refreshed:
    tickets: int
    rebuilt: bool


def _chunks(values: Iterable[int]) -> list[list[int]]:
    ordered = sorted(values)
    return [ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)]


async def _ids(session: AsyncSession, query: Any) -> set[int]:
    return {int(value) for value in (await session.execute(query)).scalars() if value is not None}


async def _changed(session: AsyncSession, shop_id: int, since: datetime) -> set[int]:
    ids = await _ids(
        session, select(col(Ticket.id)).where(col(Ticket.shop_id) == shop_id, col(Ticket.updated_at) >= since)
    )
    ids |= await _ids(
        session,
        select(col(BotDecision.ticket_id)).where(
            col(BotDecision.shop_id) == shop_id, col(BotDecision.created_at) >= since
        ),
    )
    ids |= await _ids(
        session,
        select(col(CsatSurvey.ticket_id)).where(
            col(CsatSurvey.shop_id) == shop_id,
            or_(col(CsatSurvey.sent_at) >= since, col(CsatSurvey.answered_at) >= since),
        ),
    )
    orders = await _ids(
        session,
        select(col(Order.shopify_id)).where(col(Order.shop_id) == shop_id, col(Order.updated_at) >= since),
    )
    for chunk in _chunks(orders):
        ids |= await _ids(
            session,
            select(col(InsightTicket.ticket_id)).where(
                col(InsightTicket.shop_id) == shop_id, col(InsightTicket.wismo_order).in_(chunk)
            ),
        )
    return ids


async def _people(session: AsyncSession, shop_id: int, ids: set[int]) -> set[int]:
    """``ids`` and every ticket of the same contacts and the same Shopify customers."""
    contacts: set[int] = set()
    customers: set[int] = set()
    for chunk in _chunks(ids):
        rows = await session.execute(
            select(col(Ticket.contact_id), col(Ticket.customer_shopify_id)).where(
                col(Ticket.shop_id) == shop_id, col(Ticket.id).in_(chunk)
            )
        )
        for contact, customer in rows:
            contacts.add(contact)
            if customer is not None:
                customers.add(customer)
    found = set(ids)
    for chunk in _chunks(contacts):
        found |= await _ids(
            session,
            select(col(Ticket.id)).where(col(Ticket.shop_id) == shop_id, col(Ticket.contact_id).in_(chunk)),
        )
    for chunk in _chunks(customers):
        found |= await _ids(
            session,
            select(col(Ticket.id)).where(
                col(Ticket.shop_id) == shop_id, col(Ticket.customer_shopify_id).in_(chunk)
            ),
        )
    return found


def return_seconds(facts: Sequence[TicketFacts]) -> dict[int, float]:
    """For each ticket with a resolution: seconds from it to the same customer's next ticket about the same
    order (or, without one, the same intent), the rule of ``measures._returned`` without its window."""
    by_person: dict[tuple[str, int], list[TicketFacts]] = defaultdict(list)
    for each in facts:
        by_person[("contact", each.contact_id)].append(each)
        if each.customer_id is not None:
            by_person[("customer", each.customer_id)].append(each)
    found: dict[int, float] = {}
    for group in by_person.values():
        if len(group) < 2:
            continue
        for earlier in group:
            if earlier.resolved_at is None:
                continue
            for later in group:
                if later.id == earlier.id or later.created_at <= earlier.resolved_at:
                    continue
                same = (
                    later.order_id == earlier.order_id
                    if earlier.order_id is not None
                    else later.intent == earlier.intent
                )
                if same:
                    seconds = (later.created_at - earlier.resolved_at).total_seconds()
                    if seconds < found.get(earlier.id, float("inf")):
                        found[earlier.id] = seconds
    return found


async def _load(session: AsyncSession, shop_id: int, ids: set[int] | None) -> list[TicketFacts]:
    if ids is None:
        facts = await _tickets(session, shop_id=shop_id)
        await _decide(session, shop_id=shop_id, tickets={f.id: f for f in facts})
        return facts
    loaded: list[TicketFacts] = []
    for chunk in _chunks(ids):
        part = await _tickets(session, shop_id=shop_id, ids=chunk)
        await _decide(session, shop_id=shop_id, tickets={f.id: f for f in part}, ids=chunk)
        loaded.extend(part)
    return loaded


async def _orders_of(session: AsyncSession, shop_id: int, shopify_ids: set[int]) -> dict[int, datetime]:
    placed: dict[int, datetime] = {}
    for chunk in _chunks(shopify_ids):
        rows = await session.execute(
            select(col(Order.shopify_id), col(Order.created_at)).where(
                col(Order.shop_id) == shop_id, col(Order.shopify_id).in_(chunk)
            )
        )
        placed.update({int(k): v for k, v in rows.all()})
    return placed


async def _carriers(session: AsyncSession, shop_id: int, shopify_ids: set[int]) -> dict[int, str]:
    carriers: dict[int, str] = {}
    for chunk in _chunks(shopify_ids):
        rows = await session.execute(
            select(col(Order.shopify_id), col(Fulfillment.tracking))
            .join(Fulfillment, col(Fulfillment.order_id) == col(Order.id))
            .where(col(Order.shop_id) == shop_id, col(Order.shopify_id).in_(chunk))
            .order_by(col(Fulfillment.id))
        )
        for order_id, tracking in rows.all():
            company = next((str(t.get("company")) for t in tracking or () if t.get("company")), None)
            if company and order_id not in carriers:
                carriers[order_id] = company
    return carriers


def _wismo_state(facts: TicketFacts, placed: dict[int, datetime]) -> str | None:
    state = facts.wismo_state
    if state == "not_shipped" and facts.wismo_order in placed and facts.wismo_asked_at is not None:
        waited = max(0, (facts.wismo_asked_at - placed[facts.wismo_order]).days)
        state = next(name for floor, name in UNFULFILLED_BUCKETS if waited >= floor)
    return state


async def _rows(
    session: AsyncSession, shop: Shop, facts: list[TicketFacts], keep: set[int] | None, now: datetime
) -> list[dict[str, Any]]:
    assert shop.id is not None
    zone = time_zone(shop.iana_timezone)
    schedule = Schedule.of(shop)
    clock = OpenClock(schedule)
    if schedule is not None and facts:
        earliest = min(t.created_at for t in facts).astimezone(schedule.zone).date() - timedelta(days=2)
        latest = max(max(t.created_at for t in facts), now).astimezone(schedule.zone).date()
        clock = OpenClock(schedule, earliest, latest + timedelta(days=2))
    returns = return_seconds(facts)
    chosen = [f for f in facts if keep is None or f.id in keep]
    placed = await _orders_of(
        session, shop.id, {f.wismo_order for f in chosen if f.wismo_state == "not_shipped" and f.wismo_order}
    )
    carriers = await _carriers(session, shop.id, {f.wismo_order for f in chosen if f.wismo_order is not None})
    surveys: dict[int, tuple[Any, ...]] = {}
    for chunk in _chunks(f.id for f in chosen):
        rows = await session.execute(
            select(
                col(CsatSurvey.ticket_id),
                col(CsatSurvey.channel),
                col(CsatSurvey.agent_id),
                col(CsatSurvey.by_bot),
                col(CsatSurvey.sent_at),
                col(CsatSurvey.score),
                col(CsatSurvey.language),
            ).where(col(CsatSurvey.shop_id) == shop.id, col(CsatSurvey.ticket_id).in_(chunk))
        )
        surveys.update({row[0]: tuple(row) for row in rows.all()})
    out = []
    for f in chosen:
        resolved = f.status == TicketStatus.RESOLVED and f.resolved_at is not None
        survey = surveys.get(f.id)
        out.append(
            {
                "ticket_id": f.id,
                "shop_id": shop.id,
                "day": f.created_at.astimezone(zone).date().toordinal(),
                "channel": f.channel,
                "intent": f.intent,
                "language": f.language[:8],
                "agent_id": f.agent_id,
                "by_bot": f.by_bot,
                "resolved": resolved,
                "reopened": f.reopened,
                "resolved_at": f.resolved_at,
                "return_seconds": returns.get(f.id),
                "first_response_seconds": clock.seconds(f.created_at, f.first_response_at)
                if f.first_response_at is not None
                else None,
                "resolution_seconds": clock.seconds(f.created_at, f.resolved_at)
                if resolved and f.resolved_at is not None
                else None,
                "handoff_reason": f.handoff_reason,
                "handoff_intent": f.handoff_intent,
                "wismo_state": _wismo_state(f, placed),
                "wismo_order": f.wismo_order,
                "wismo_carrier": carriers.get(f.wismo_order, "none") if f.wismo_order is not None else None,
                "stock": [list(s) for s in sorted(set(f.stock), key=repr)] or None,
                "csat_day": survey[4].astimezone(zone).date().toordinal() if survey else None,
                "csat_channel": str(survey[1]) if survey else None,
                "csat_language": survey[6] if survey else None,
                "csat_agent_id": survey[2] if survey else None,
                "csat_by_bot": bool(survey[3]) if survey else False,
                "csat_score": survey[5] if survey else None,
            }
        )
    return out


async def _order_days(session: AsyncSession, shop_id: int, zone: tzinfo, since: datetime | None) -> None:
    """Count again the orders of every local day an order changed on (all days when ``since`` is None)."""
    if since is None:
        await session.execute(delete(InsightOrderDay).where(col(InsightOrderDay.shop_id) == shop_id))
        moments = list(
            (
                await session.execute(select(col(Order.created_at)).where(col(Order.shop_id) == shop_id))
            ).scalars()
        )
        counted = Counter(m.astimezone(zone).date() for m in moments)
    else:
        touched = {
            m.astimezone(zone).date()
            for m in (
                await session.execute(
                    select(col(Order.created_at)).where(
                        col(Order.shop_id) == shop_id, col(Order.updated_at) >= since
                    )
                )
            ).scalars()
        }
        if not touched:
            return
        first, last = min(touched), max(touched)
        lo, hi = _utc_bounds(first, last, zone)
        moments = list(
            (
                await session.execute(
                    select(col(Order.created_at)).where(
                        col(Order.shop_id) == shop_id, col(Order.created_at) >= lo, col(Order.created_at) < hi
                    )
                )
            ).scalars()
        )
        counted = Counter(m.astimezone(zone).date() for m in moments)
        await session.execute(
            delete(InsightOrderDay).where(
                col(InsightOrderDay.shop_id) == shop_id,
                col(InsightOrderDay.day) >= first.toordinal(),
                col(InsightOrderDay.day) <= last.toordinal(),
            )
        )
    if counted:
        await session.execute(
            insert(InsightOrderDay),
            [{"shop_id": shop_id, "day": day.toordinal(), "orders": n} for day, n in counted.items()],
        )


async def refresh(
    session: AsyncSession,
    shop: Shop,
    *,
    now: datetime | None = None,
    unless_within: timedelta | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> Refreshed:
    """Bring ``shop``'s rollup (per-ticket facts and day summaries for the re-contact window of
    ``window_days``) up to date in ``session`` (the caller commits); nothing to do when it was brought up to
    date less than ``unless_within`` ago (and the time zone, hours, targets and window are the same)."""
    assert shop.id is not None
    started = now or utcnow()
    state = (
        await session.execute(
            select(InsightRollupState).where(col(InsightRollupState.shop_id) == shop.id).with_for_update()
        )
    ).scalar_one_or_none()
    fingerprint = summary.fingerprint(shop, window_days)
    zone_name = shop.iana_timezone or ""
    if state is None:
        state = InsightRollupState(shop_id=shop.id, since=EPOCH, refreshed_at=EPOCH, zone="", hours="")
        session.add(state)
        await session.flush()
    rebuild = state.refreshed_at == EPOCH or state.zone != zone_name or state.hours != fingerprint
    if not rebuild and unless_within is not None and started - state.refreshed_at < unless_within:
        return Refreshed(0, False)
    zone = time_zone(shop.iana_timezone)
    window = timedelta(days=window_days)
    before: list[dict[str, Any]] = []
    if rebuild:
        await session.execute(delete(InsightTicket).where(col(InsightTicket.shop_id) == shop.id))
        rows = await _rows(session, shop, await _load(session, shop.id, None), None, started)
        await _order_days(session, shop.id, zone, None)
    else:
        affected = await _people(session, shop.id, await _changed(session, shop.id, state.since))
        rows = []
        if affected:
            context = await _people(session, shop.id, affected)
            rows = await _rows(session, shop, await _load(session, shop.id, context), affected, started)
            for chunk in _chunks(affected):
                before.extend(await summary.old_facts(session, shop.id, chunk))
                await session.execute(delete(InsightTicket).where(col(InsightTicket.ticket_id).in_(chunk)))
        await _order_days(session, shop.id, zone, state.since)
    for index in range(0, len(rows), 5_000):
        await session.execute(insert(InsightTicket), rows[index : index + 5_000])
    if rebuild:
        await summary.write(session, shop, window, None, rows)
    else:
        # the tickets' counts as they were taken out of the summaries, as they are now put in
        await summary.change(session, shop, window, before, rows)
        stale = await summary.stale_days(session, shop.id)
        if stale:
            await summary.write(session, shop, window, stale)
    state.since = started - SLACK
    state.refreshed_at = started
    state.zone = zone_name
    state.hours = fingerprint
    session.add(state)
    await session.flush()
    return Refreshed(len(rows), rebuild)


async def refresh_all(sessions: SessionFactory, window_days: int = DEFAULT_WINDOW_DAYS) -> int:
    """The scheduled run: every installed shop's rollup, each in its own transaction. Returns the rows
    written."""
    async with sessions() as session:
        shops = list(
            (
                await session.execute(
                    select(Shop).where(col(Shop.status) == ShopStatus.INSTALLED).order_by(col(Shop.id))
                )
            ).scalars()
        )
    written = 0
    for shop in shops:
        try:
            async with sessions() as session, session.begin():
                written += (await refresh(session, shop, window_days=window_days)).tickets
        except Exception:
            logger.exception("insights rollup failed shop_id=%s", shop.id)
    return written
