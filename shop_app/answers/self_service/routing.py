"""Inside the engine's transaction: whether a message starts or answers a self-service action, and what the
channel is to do about it once that transaction committed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.actions import policy as rules
from shop_app.answers.order_outcome import order_outcome
from shop_app.answers.outcome import Outcome, Understander, handoff
from shop_app.answers.self_service import SelfServiceRequest, Stage
from shop_app.answers.self_service.address_reading import read_address
from shop_app.answers.understanding.model import Intent, ShopHints, Understanding
from shop_app.answers.verification import Trust
from shop_app.models import (
    ActionKind,
    ActionStatus,
    BotDecision,
    DecisionAction,
    Message,
    OrderAction,
    Shop,
    Ticket,
    Verification,
)

SELF_SERVICE_INTENTS = {Intent.CANCEL: ActionKind.CANCEL, Intent.ADDRESS_CHANGE: ActionKind.ADDRESS}
VERIFIED = frozenset({Verification.STOREFRONT, Verification.ORDER_DETAILS, Verification.TRUSTED_CALLER})
CANCEL_PARAMETERS = {"reason": "CUSTOMER", "restock": True, "refund_to": "original", "notify": True}
# An address still unreadable after this many of the shopper's messages in the same line of questions
# goes to a person.
MAX_ADDRESS_TRIES = 2


async def waiting_action(session: AsyncSession, *, shop_id: int, ticket_id: int) -> OrderAction | None:
    """This ticket's action waiting for its shopper's yes (scoped by shop and ticket)."""
    statement = (
        select(OrderAction)
        .where(
            col(OrderAction.shop_id) == shop_id,
            col(OrderAction.ticket_id) == ticket_id,
            col(OrderAction.by_shopper).is_(True),
            col(OrderAction.status) == ActionStatus.PREVIEWED,
        )
        .order_by(col(OrderAction.id).desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalars().first()


async def asking_language(session: AsyncSession, *, shop_id: int, ticket_id: int) -> str | None:
    """The language the bot last spoke on this ticket (the one it asked for the shopper's yes in), so the
    yes/no buttons shown again later match it rather than the shop's language."""
    statement = (
        select(col(BotDecision.language))
        .where(col(BotDecision.shop_id) == shop_id, col(BotDecision.ticket_id) == ticket_id)
        .order_by(col(BotDecision.id).desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalars().first()


def answering(text: str, language: str, at: datetime) -> tuple[Outcome, SelfServiceRequest]:
    """The message answers the bot's restated action: the channel confirms, declines or hands off."""
    outcome = Outcome(
        DecisionAction.ASK, None, {}, "self-service: the shopper's answer to the restated action"
    )
    return outcome, SelfServiceRequest(Stage.ANSWER, language, text=text, at=at)


async def self_service_outcome(
    session: AsyncSession,
    *,
    shop: Shop,
    ticket: Ticket,
    seen: Understanding,
    text: str,
    question: Sequence[str],
    history: Sequence[Message],
    hints: ShopHints,
    trust: Trust,
    now: datetime,
    understand: Understander,
) -> tuple[Outcome, SelfServiceRequest | None] | None:
    """None when this is no self-service message (or the merchant has it off): the engine hands off."""
    kind = SELF_SERVICE_INTENTS.get(seen.intent)
    if kind is None:
        return None
    assert shop.id is not None
    policy = await rules.load_policy(session, shop_id=shop.id)
    if not (policy.bot_cancel if kind == ActionKind.CANCEL else policy.bot_address):
        return None
    found = await order_outcome(
        session, shop=shop, ticket=ticket, seen=seen, text=text, history=history, hints=hints,
        trust=trust, now=now, understand=understand,
    )  # fmt: skip
    order = found.order
    if order is None:  # which order, or the proof: asked as for an order-status answer (or handed off)
        found.reason = f"self-service {kind.value}: {found.reason}"
        return found, None
    if found.verification not in VERIFIED:
        return handoff(f"self-service {kind.value}: not verified", verification=found.verification), None
    verified = Outcome(
        DecisionAction.ASK, None, {}, f"self-service {kind.value}: preview after commit",
        verification=found.verification, order=order,
    )  # fmt: skip
    if kind == ActionKind.CANCEL:
        return verified, SelfServiceRequest(
            Stage.OFFER, seen.language, kind, order.shopify_id, dict(CANCEL_PARAMETERS), verified=True, at=now
        )
    read = read_address(text)
    for earlier in reversed(question):  # an address given in an earlier answer still counts
        if read.problem != "missing":
            break
        read = read_address(earlier)
    if read.address is not None:
        return verified, SelfServiceRequest(
            Stage.OFFER, seen.language, kind, order.shopify_id, read.address, verified=True, at=now
        )
    problem = read.problem or "missing"
    if len(question) >= MAX_ADDRESS_TRIES:
        verified.reason = f"self-service address: still unclear ({problem})"
        return verified, SelfServiceRequest(
            Stage.HANDOFF, seen.language, kind, order.shopify_id, verified=True, reason="unclear", at=now
        )
    verified.reason = f"self-service address: asking for it ({problem})"
    return verified, SelfServiceRequest(
        Stage.ASK_ADDRESS, seen.language, kind, order.shopify_id, verified=True, reason=problem, at=now
    )
