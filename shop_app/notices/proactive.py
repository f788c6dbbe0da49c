"""Proactive notices: the merchant's rules find orders in trouble (past their estimated delivery, tracking
silent for days, a fulfillment on hold, a failed delivery) and tell the customer before they ask.

A notice goes only to a customer who has written to the shop by LINE or email (their latest such ticket,
matched by the linked customer or the order's email) or who follows the shop on LINE with their customer
linked; on that ticket's channel, in its language; never in the quiet hours of the customer's time zone
(the shipping country's, when it has one zone; the shop's otherwise); at most the shop's daily cap a day;
and never twice for one situation: a row per situation, unique per shop, is written in the transaction
that posts the notice. The ticket is reopened, tagged ``proactive`` (the console lists such tickets first)
and given a note for the agents: that row and that note are the audit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.core import get_global
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.formats.display import formatter, time_zone
from shop_app.formats.order_words import normalise_code
from shop_app.helpdesk.tickets import post_message, update_ticket
from shop_app.i18n import catalogue, first_supported
from shop_app.models import (
    AuthorType,
    BotDecision,
    Channel,
    Contact,
    Fulfillment,
    FulfillmentOrder,
    LineUser,
    NoticeRule,
    NoticeSettings,
    Order,
    ProactiveNotice,
    Shop,
    Ticket,
    TicketStatus,
)
from shop_app.models.base import utcnow
from shop_app.notices.notice_settings import notice_settings, rule_choice

logger = logging.getLogger(__name__)

PROACTIVE_TAG = "proactive"
LOOKBACK_DAYS = 60
MAX_ORDERS_PER_RUN = 2000
FAILED_STATUSES = frozenset({"ATTEMPTED_DELIVERY", "FAILURE", "NOT_DELIVERED"})
DONE_STATUSES = frozenset({"DELIVERED", "PICKED_UP"})
GONE_STATUSES = frozenset({"CANCELED", "CANCELLED", "ERROR", "FAILURE_CANCELLED", "LABEL_VOIDED"})
OUTBOUND = (Channel.LINE, Channel.EMAIL)


@dataclass(frozen=True, slots=True)
class Situation:
    rule: NoticeRule
    key: str
    order: Order
    facts: dict[str, str]


@dataclass(slots=True)
class RunReport:
    sent: list[int] = field(default_factory=list)  # ProactiveNotice ids
    quiet: int = 0
    no_consent: int = 0
    capped: int = 0
    already: int = 0


def _last_event_at(fulfillment: Fulfillment) -> datetime:
    moments = [fulfillment.in_transit_at or fulfillment.created_at]
    for event in fulfillment.events or ():
        try:
            moments.append(datetime.fromisoformat(str(event.get("happened_at"))))
        except ValueError:
            continue
    return max(moments)


def _last_status(fulfillment: Fulfillment) -> str:
    events = fulfillment.events or []
    if events:
        return normalise_code(str(events[-1].get("status") or ""))
    return normalise_code(fulfillment.display_status)


def _tracking(fulfillment: Fulfillment) -> str:
    entries = [t for t in fulfillment.tracking or () if isinstance(t, dict) and t.get("number")]
    return " / ".join(
        " ".join(part for part in (str(t.get("company") or ""), str(t["number"])) if part) for t in entries
    )


def _situations(
    settings: NoticeSettings,
    order: Order,
    fulfillments: Sequence[Fulfillment],
    holds: Sequence[FulfillmentOrder],
    now: datetime,
) -> list[Situation]:
    found: list[Situation] = []
    late = rule_choice(settings, NoticeRule.LATE_DELIVERY)
    stale = rule_choice(settings, NoticeRule.STALE_TRACKING)
    for fulfillment in fulfillments:
        status = _last_status(fulfillment)
        if normalise_code(fulfillment.status) in GONE_STATUSES or fulfillment.delivered_at is not None:
            continue
        if status in DONE_STATUSES:
            continue
        facts = {"order": order.name, "tracking": _tracking(fulfillment)}
        if rule_choice(settings, NoticeRule.FAILED_DELIVERY).enabled and (
            status in FAILED_STATUSES or normalise_code(fulfillment.display_status) in FAILED_STATUSES
        ):
            found.append(
                Situation(
                    NoticeRule.FAILED_DELIVERY, f"failed_delivery:{fulfillment.shopify_id}", order, facts
                )
            )
            continue
        estimate = fulfillment.estimated_delivery_at
        if late.enabled and estimate is not None and estimate + timedelta(days=late.days or 0) < now:
            found.append(
                Situation(
                    NoticeRule.LATE_DELIVERY,
                    f"late_delivery:{fulfillment.shopify_id}:{estimate.date().isoformat()}",
                    order,
                    {**facts, "date": estimate.isoformat()},
                )
            )
            continue
        last = _last_event_at(fulfillment)
        if stale.enabled and last + timedelta(days=stale.days or 0) < now:
            found.append(
                Situation(
                    NoticeRule.STALE_TRACKING,
                    f"stale_tracking:{fulfillment.shopify_id}:{last.isoformat()}",
                    order,
                    {**facts, "date": last.isoformat()},
                )
            )
    if rule_choice(settings, NoticeRule.ON_HOLD).enabled:
        for hold in holds:
            found.append(
                Situation(NoticeRule.ON_HOLD, f"on_hold:{hold.shopify_id}", order, {"order": order.name})
            )
    return found


def customer_zone(shop: Shop, order: Order) -> ZoneInfo | Any:
    """The customer's time zone: their shipping country's when it has only one, else the shop's."""
    country = str(
        (order.shipping_address or {}).get("country_code")
        or (order.shipping_address or {}).get("countryCode")
        or ""
    )
    zones = get_global("territory_zones").get(country.upper(), []) if country else []
    if len(zones) == 1:
        return ZoneInfo(zones[0])
    return time_zone(shop.iana_timezone)


def in_quiet_hours(settings: NoticeSettings, moment: datetime, zone: Any) -> bool:
    local = moment.astimezone(zone)
    minute = local.hour * 60 + local.minute
    start, end = settings.quiet_start_minutes, settings.quiet_end_minutes
    if start == end:
        return False
    return start <= minute < end if start < end else (minute >= start or minute < end)


async def _recipient(session: AsyncSession, *, shop_id: int, order: Order) -> Ticket | None:
    """The customer's latest LINE or email ticket, if they wrote to us or follow us on LINE."""
    conditions = []
    if order.customer_shopify_id is not None:
        conditions.append(col(Ticket.customer_shopify_id) == order.customer_shopify_id)
    if order.email:
        conditions.append(func.lower(col(Contact.email)) == order.email.strip().lower())
    tickets: list[Ticket] = []
    if conditions:
        tickets = list(
            (
                await session.execute(
                    select(Ticket)
                    .join(Contact, col(Contact.id) == col(Ticket.contact_id))
                    .where(
                        col(Ticket.shop_id) == shop_id,
                        col(Contact.shop_id) == shop_id,
                        col(Ticket.channel).in_(OUTBOUND),
                        or_(*conditions),
                    )
                    .order_by(col(Ticket.last_message_at).desc(), col(Ticket.id).desc())
                    .limit(5)
                )
            ).scalars()
        )
    if order.customer_shopify_id is not None:
        friend = (
            (
                await session.execute(
                    select(LineUser).where(
                        col(LineUser.shop_id) == shop_id,
                        col(LineUser.customer_shopify_id) == order.customer_shopify_id,
                        col(LineUser.ticket_id).is_not(None),
                    )
                )
            )
            .scalars()
            .first()
        )
        if friend is not None and friend.ticket_id is not None:
            ticket = await session.get(Ticket, friend.ticket_id)
            if ticket is not None and ticket.shop_id == shop_id and all(t.id != ticket.id for t in tickets):
                tickets.append(ticket)
                tickets.sort(key=lambda t: t.last_message_at, reverse=True)
    for ticket in tickets:
        if ticket.channel == Channel.LINE:
            user = (
                (
                    await session.execute(
                        select(LineUser).where(
                            col(LineUser.shop_id) == shop_id, col(LineUser.contact_id) == ticket.contact_id
                        )
                    )
                )
                .scalars()
                .first()
            )
            if user is None or not user.following:
                continue  # blocked the account: LINE would refuse, and they said no
        return ticket
    return None


async def _language(session: AsyncSession, *, shop: Shop, ticket: Ticket) -> str:
    chosen = (
        await session.execute(
            select(col(BotDecision.language))
            .where(col(BotDecision.ticket_id) == ticket.id)
            .order_by(col(BotDecision.id).desc())
            .limit(1)
        )
    ).scalar()
    user_language = None
    if ticket.channel == Channel.LINE:
        user_language = (
            await session.execute(
                select(col(LineUser.language)).where(
                    col(LineUser.shop_id) == ticket.shop_id, col(LineUser.contact_id) == ticket.contact_id
                )
            )
        ).scalar()
    contact = await session.get(Contact, ticket.contact_id)
    return first_supported(chosen, user_language, contact.locale if contact else None, shop.primary_locale)


def notice_text(rule: NoticeRule, language: str, facts: dict[str, str]) -> str:
    text = catalogue(first_supported(language)).text
    tracking = text("notices.proactive.tracking", tracking=facts["tracking"]) if facts.get("tracking") else ""
    body = text(f"notices.proactive.{rule.value}", order=facts.get("order", ""), date=facts.get("date", ""))
    return "\n".join(part for part in (body, tracking, text("notices.proactive.person_looking")) if part)


def preview(rule: NoticeRule, language: str, *, shop: Shop, now: datetime | None = None) -> str:
    """The message as a customer would read it, for the admin, with an example order."""
    day = formatter(language, shop.iana_timezone, None).day_text((now or utcnow()) - timedelta(days=2))
    facts = {"order": "#1001", "date": day}
    if rule != NoticeRule.ON_HOLD:
        facts["tracking"] = "ヤマト運輸 1234-5678-9012" if language == "ja" else "UPS 1Z999AA10123456784"
    return notice_text(rule, language, facts)


async def sent_today(session: AsyncSession, *, shop: Shop, now: datetime) -> int:
    zone = time_zone(shop.iana_timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    count = await session.execute(
        select(func.count()).where(
            col(ProactiveNotice.shop_id) == shop.id, col(ProactiveNotice.created_at) >= midnight
        )
    )
    return int(count.scalar_one())


async def run_rules(session: AsyncSession, *, shop: Shop, now: datetime | None = None) -> RunReport:
    """Evaluate the shop's enabled rules once: post each new situation's notice (and record it)."""
    assert shop.id is not None
    now = now or utcnow()
    report = RunReport()
    settings = await notice_settings(session, shop_id=shop.id)
    if not any(rule_choice(settings, rule).enabled for rule in NoticeRule):
        return report
    orders = list(
        (
            await session.execute(
                select(Order)
                .where(
                    col(Order.shop_id) == shop.id,
                    col(Order.cancelled_at).is_(None),
                    col(Order.created_at) >= now - timedelta(days=LOOKBACK_DAYS),
                )
                .order_by(col(Order.created_at).desc())
                .limit(MAX_ORDERS_PER_RUN)
            )
        ).scalars()
    )
    if not orders:
        return report
    order_ids = [o.id for o in orders]
    fulfillments: dict[int, list[Fulfillment]] = {}
    for row in (
        await session.execute(
            select(Fulfillment).where(
                col(Fulfillment.shop_id) == shop.id, col(Fulfillment.order_id).in_(order_ids)
            )
        )
    ).scalars():
        fulfillments.setdefault(row.order_id, []).append(row)
    holds: dict[int, list[FulfillmentOrder]] = {}
    for hold in (
        await session.execute(
            select(FulfillmentOrder).where(
                col(FulfillmentOrder.shop_id) == shop.id,
                col(FulfillmentOrder.order_id).in_(order_ids),
                func.upper(col(FulfillmentOrder.status)) == "ON_HOLD",
            )
        )
    ).scalars():
        holds.setdefault(hold.order_id, []).append(hold)
    sent_count = await sent_today(session, shop=shop, now=now)
    for order in orders:
        assert order.id is not None
        zone = customer_zone(shop, order)
        found = _situations(settings, order, fulfillments.get(order.id, []), holds.get(order.id, []), now)
        for situation in found:
            already = await session.execute(
                select(col(ProactiveNotice.id)).where(
                    col(ProactiveNotice.shop_id) == shop.id, col(ProactiveNotice.situation) == situation.key
                )
            )
            if already.first() is not None:
                report.already += 1
                continue
            if in_quiet_hours(settings, now, zone):
                report.quiet += 1
                continue
            if sent_count >= settings.daily_cap:
                report.capped += 1
                continue
            ticket = await _recipient(session, shop_id=shop.id, order=order)
            if ticket is None:
                report.no_consent += 1
                continue
            notice_id = await _send(
                session, shop=shop, ticket=ticket, situation=situation, zone=zone, now=now
            )
            if notice_id is None:
                report.already += 1
                continue
            report.sent.append(notice_id)
            sent_count += 1
    if report.sent or report.capped:
        logger.info(
            "proactive notices shop_id=%s sent=%s quiet=%s capped=%s no_consent=%s",
            shop.id,
            len(report.sent),
            report.quiet,
            report.capped,
            report.no_consent,
        )
    return report


async def _send(
    session: AsyncSession, *, shop: Shop, ticket: Ticket, situation: Situation, zone: Any, now: datetime
) -> int | None:
    assert shop.id is not None
    language = await _language(session, shop=shop, ticket=ticket)
    facts = dict(situation.facts)
    if "date" in facts:  # the day in the customer's language and time zone
        facts["date"] = formatter(language, str(zone), None).day_text(datetime.fromisoformat(facts["date"]))
    row = ProactiveNotice(
        shop_id=shop.id,
        rule=situation.rule,
        situation=situation.key[:200],
        order_shopify_id=situation.order.shopify_id,
        ticket_id=ticket.id,
        channel=ticket.channel,
        language=language,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return None  # another run sent it meanwhile
    body = notice_text(situation.rule, language, facts)
    message = await post_message(
        session, ticket=ticket, author_type=AuthorType.BOT, body=body, counts_as_response=False
    )
    note = catalogue(first_supported(shop.primary_locale)).text(
        "notices.proactive.note",
        rule=catalogue(first_supported(shop.primary_locale)).text(
            f"admin.notices.rule.{situation.rule.value}"
        ),
        order=situation.order.name,
    )
    await post_message(session, ticket=ticket, author_type=AuthorType.NOTE, body=note)
    tags = ticket.tags if PROACTIVE_TAG in ticket.tags else [*ticket.tags, PROACTIVE_TAG]
    await update_ticket(session, ticket=ticket, status=TicketStatus.OPEN, tags=tags)
    row.message_id = message.id
    session.add(row)
    await session.flush()
    return row.id
