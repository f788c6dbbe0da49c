"""The bot's self-service cancellation and address change for a verified shopper.

``offer`` checks the shop's switches and limits (the bot's self-service on for that action, the order not
fulfilled nor partly fulfilled nor cancelled, still inside the merchant's window, a cancellation not above
the amount limit), previews the action through ``flow.preview_action`` with the shopper as requester and
restates it in the shopper's language: the order, its items and the refund, or the new address read back
formatted for its country (a Japanese postcode checked against the prefecture). The pending confirmation is
the ticket's own previewed shopper action: ``answer`` finds it by shop and ticket only, so another
conversation's "yes" never reaches it, and confirming goes through ``flow.confirm_action`` (the agents'
idempotent path), so a replayed "yes" acts once. Anything refused or unclear hands off with the preview
written for the agent as a note on the ticket.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from shop_app.actions import policy as rules
from shop_app.actions.flow import (
    FINISHED,
    Requester,
    access_order,
    confirm_action,
    confirmation_token,
    describe,
    move_status,
    preview_action,
    record_event,
)
from shop_app.database import transaction
from shop_app.errors import AppError
from shop_app.formats.display import formatter
from shop_app.formats.order_words import normalise_code
from shop_app.helpdesk.tickets import access_ticket, post_message
from shop_app.i18n import catalogue, first_supported
from shop_app.models import (
    ActionEventKind,
    ActionKind,
    ActionPolicy,
    ActionStatus,
    AuthorType,
    Order,
    OrderAction,
    Role,
    Shop,
)
from shop_app.models.base import utcnow

if TYPE_CHECKING:
    from shop_app.runtime import Services

SHOPPER = Requester(role=Role.AGENT, by_shopper=True)
SELF_SERVICE = frozenset({ActionKind.CANCEL, ActionKind.ADDRESS})
BUTTON_PREFIX = "bot-action"
_YES = frozenset(
    {"yes", "y", "ok", "okay", "confirm", "yes please", "はい", "はい、お願いします", "お願いします"}
)
_NO = frozenset({"no", "n", "no thanks", "cancel that", "いいえ", "やめます", "やめる", "しません"})
_PUNCTUATION = re.compile(r"[\s。．.!！?？、,]+$")


class Step(StrEnum):
    CONFIRM = "confirm"  # restated, waiting for the shopper's yes
    DONE = "done"  # Shopify did it
    DECLINED = "declined"  # the shopper said no
    HANDOFF = "handoff"  # a person takes over; the preview is on the ticket


@dataclass(frozen=True, slots=True)
class BotStep:
    step: Step
    reply: str
    reason: str
    action: OrderAction | None = None
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (label, payload): LINE quick replies


def refusal(
    policy: ActionPolicy, kind: ActionKind, order: Order, amount: Decimal | None, now: datetime
) -> str | None:
    """Why the bot may not do this by itself, or None."""
    if kind not in SELF_SERVICE:
        return "not_self_service"
    if not (policy.bot_cancel if kind == ActionKind.CANCEL else policy.bot_address):
        return "switched_off"
    if order.cancelled_at is not None:
        return "cancelled"
    if normalise_code(order.fulfillment_status) in {"FULFILLED", "PARTIALLY_FULFILLED", "PARTIAL"}:
        return "fulfilled"
    if now > order.created_at + timedelta(minutes=policy.bot_window_minutes):
        return "outside_window"
    limit = rules.approval_limit(policy)
    if kind == ActionKind.CANCEL and limit is not None and (amount is None or amount > limit):
        return "over_limit"
    return None


def reading(text: str) -> str:
    """``yes``, ``no`` or ``unclear``: a typed はい/yes (any width, trailing punctuation) or a button."""
    said = _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text).strip().lower())
    if said in _YES:
        return "yes"
    if said in _NO:
        return "no"
    return "unclear"


def _button_reading(payload: str, action_id: int | None) -> str:
    prefix, _, rest = payload.partition(":")
    number, _, answer = rest.partition(":")
    if prefix != BUTTON_PREFIX or number != str(action_id) or answer not in {"yes", "no"}:
        return "unclear"  # a button of another action (or conversation) never confirms this one
    return answer


def _restated(action: OrderAction, language: str, shop: Shop) -> str:
    words = catalogue(language)
    order = action.preview.get("order") or {}
    fmt = formatter(language, shop.iana_timezone, action.currency or shop.currency_code)
    items = words.text("bot.self_service.item_separator").join(
        words.text("bot.self_service.item", name=line["name"], quantity=line["quantity"])
        for line in order.get("lines") or []
    )
    if action.kind == ActionKind.CANCEL:
        refund = fmt.money_text(Decimal(action.amount or "0"))
        return words.text(
            "bot.self_service.confirm_cancel", order=action.order_name, items=items, refund=refund
        )
    address = "\n".join(action.preview.get("address_lines") or [])
    return words.text("bot.self_service.confirm_address", order=action.order_name, address=address)


def _buttons(action: OrderAction, language: str) -> list[tuple[str, str]]:
    words = catalogue(language)
    return [
        (words.text("bot.self_service.button_yes"), f"{BUTTON_PREFIX}:{action.id}:yes"),
        (words.text("bot.self_service.button_no"), f"{BUTTON_PREFIX}:{action.id}:no"),
    ]


async def hand_off(
    services: Services,
    shop: Shop,
    ticket_id: int,
    language: str,
    reason: str,
    action: OrderAction | None = None,
) -> BotStep:
    """The agents' note (in the shop's language): why the bot stopped and, when there is one, the preview."""
    locale = first_supported(shop.primary_locale)
    words = catalogue(locale)
    body = words.text("bot.self_service.note", reason=words.text(f"bot.self_service.reason.{reason}"))
    if action is not None:
        body += "\n" + words.text(
            "bot.self_service.note_preview", summary=describe(action, locale, timezone=shop.iana_timezone)
        )
        if action.preview.get("address_lines"):
            body += "\n" + "\n".join(action.preview["address_lines"])
    async with transaction(services.sessions) as session:
        ticket = await access_ticket(session, shop_id=shop.id or 0, ticket_id=ticket_id)
        await post_message(
            session, ticket=ticket, author_type=AuthorType.NOTE, body=body, counts_as_response=False
        )
    return BotStep(Step.HANDOFF, catalogue(language).text("bot.self_service.handoff"), reason, action)


async def offer(
    services: Services,
    *,
    shop: Shop,
    ticket_id: int,
    order_id: int,
    kind: ActionKind,
    parameters: dict[str, Any],
    verified: bool,
    language: str,
    now: datetime | None = None,
) -> BotStep:
    """Restate the action and ask for a yes, or hand off saying why (the preview ready for the agent)."""
    moment = now or utcnow()
    language = first_supported(language)
    if not verified:
        return await hand_off(services, shop, ticket_id, language, "not_verified")
    async with services.sessions() as session:
        policy = await rules.load_policy(session, shop_id=shop.id or 0)
        order = await access_order(session, shop_id=shop.id or 0, order_id=order_id)
        await access_ticket(session, shop_id=shop.id or 0, ticket_id=ticket_id)
    total = Decimal(order.total_price) if order.total_price else None
    early = refusal(policy, kind, order, total, moment)
    if early in {"not_self_service", "switched_off"}:
        return await hand_off(services, shop, ticket_id, language, early or "")
    try:
        previewed = await preview_action(
            services,
            shop=shop,
            requester=SHOPPER,
            order_id=order_id,
            kind=kind,
            parameters=parameters,
            ticket_id=ticket_id,
        )
    except AppError:
        return await hand_off(services, shop, ticket_id, language, early or "unclear")
    action = previewed.action
    amount = None if action.amount is None else Decimal(action.amount)
    shopify_says = "fulfilled" if "fulfilled" in action.preview.get("warnings", []) else None
    if "cancelled" in action.preview.get("warnings", []):
        shopify_says = "cancelled"
    why = early or shopify_says or refusal(policy, kind, order, amount, moment)
    if why is not None:
        async with transaction(services.sessions) as session:
            await move_status(session, action, {ActionStatus.PREVIEWED}, ActionStatus.EXPIRED)
            record_event(session, action, ActionEventKind.DENIED, SHOPPER, why)
        return await hand_off(services, shop, ticket_id, language, why, action)
    return BotStep(
        Step.CONFIRM,
        _restated(action, language, shop),
        "asked to confirm",
        action,
        _buttons(action, language),
    )


async def pending(services: Services, *, shop: Shop, ticket_id: int) -> OrderAction | None:
    """This ticket's action waiting for its shopper's yes (scoped by shop and ticket)."""
    async with services.sessions() as session:
        statement = (
            select(OrderAction)
            .where(
                col(OrderAction.shop_id) == shop.id,
                col(OrderAction.ticket_id) == ticket_id,
                col(OrderAction.by_shopper).is_(True),
                col(OrderAction.status) == ActionStatus.PREVIEWED,
            )
            .order_by(col(OrderAction.id).desc())
            .limit(1)
        )
        return (await session.execute(statement)).scalars().first()


async def answer(
    services: Services,
    *,
    shop: Shop,
    ticket_id: int,
    text: str = "",
    button: str | None = None,
    language: str,
    now: datetime | None = None,
) -> BotStep | None:
    """The shopper's answer to the restated action: None when nothing in this ticket waits for one."""
    language = first_supported(language)
    action = await pending(services, shop=shop, ticket_id=ticket_id)
    if action is None:
        return None
    said = _button_reading(button, action.id) if button is not None else reading(text)
    if said == "unclear":
        return await hand_off(services, shop, ticket_id, language, "unclear", action)
    if said == "no":
        async with transaction(services.sessions) as session:
            if await move_status(session, action, {ActionStatus.PREVIEWED}, ActionStatus.REFUSED):
                record_event(session, action, ActionEventKind.SHOPPER_DECLINED, SHOPPER)
        return BotStep(
            Step.DECLINED, catalogue(language).text("bot.self_service.declined"), "said no", action
        )
    token = confirmation_token(services.digest_key, action, SHOPPER)
    try:
        done = await confirm_action(services, shop=shop, requester=SHOPPER, token=token, confirmed_at=now)
    except AppError:
        return await hand_off(services, shop, ticket_id, language, "expired", action)
    if done.status == ActionStatus.APPLIED:
        return BotStep(
            Step.DONE, catalogue(language).text(f"bot.self_service.done_{done.kind}"), "done", done
        )
    reason = "approval" if done.status == ActionStatus.AWAITING_APPROVAL else "shopify_refused"
    if done.status in FINISHED - {ActionStatus.REJECTED}:
        reason = "expired"
    return await hand_off(services, shop, ticket_id, language, reason, done)
