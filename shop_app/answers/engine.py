"""The bot's answer to one shopper message: understand it, pick the order or product, check who may hear
about it, and reply, ask, hand to a person or stay silent. Every decision is stored (``bot_decisions``).

A wrong automatic answer is worse than a handoff: person-only intents, low confidence, anger, failed
verification, a reply it already gave and anything it cannot settle go to the agents' queue with a summary.
Once an agent has replied, or the bot has handed off, it stays silent in that ticket.

The ticket's status says who it waits for: an answer settles it (resolved by the bot), a question waits
for the shopper (pending), a handoff for an agent (open); the shopper writing again reopens it. Replies
are in the conversation's language (``understanding.languages``), and what the shopper said while
answering the bot's questions (the product, a colour, then a size) is kept for the whole question.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.answers.handoff_notes import HandoffFacts, handoff_note
from shop_app.answers.order_outcome import order_outcome
from shop_app.answers.outcome import Outcome, Understander, handoff
from shop_app.answers.returns.window import asks_return_window, return_window_outcome
from shop_app.answers.self_service import SelfServiceRequest
from shop_app.answers.self_service.routing import answering, self_service_outcome, waiting_action
from shop_app.answers.shop_config import shop_config, shop_hints
from shop_app.answers.stock import answer_stock
from shop_app.answers.templates import render_reply
from shop_app.answers.understanding.intents import OWN_ORDER_REASON
from shop_app.answers.understanding.languages import conversation_language, fallback_language
from shop_app.answers.understanding.model import AUTO_ANSWER_THRESHOLD, Intent, ShopHints, Understanding
from shop_app.answers.verification import Trust
from shop_app.helpdesk.tickets import post_message, update_ticket
from shop_app.i18n import catalogue, first_supported
from shop_app.knowledge.search import best_answer
from shop_app.models import (
    Agent,
    AuthorType,
    BotDecision,
    Contact,
    DecisionAction,
    Message,
    Shop,
    Ticket,
    TicketStatus,
    Verification,
)
from shop_app.models.answers import TemplateKey
from shop_app.models.base import utcnow
from shop_app.notices.links import NoticeLinks, Offer
from shop_app.observability.metrics import record_bot_decision

logger = logging.getLogger(__name__)

DECISIONS: Table = BotDecision.__table__  # type: ignore[attr-defined]

RESTOCK_OFFERED = frozenset({TemplateKey.STOCK_SOLD_OUT, TemplateKey.STOCK_RESTOCK})
HANDOFF_TAG = "bot-handoff"
PRIORITY_TAG = "priority"
HISTORY_MESSAGES = 50
# How far back the decisions are read to find where the bot's current line of questions began.
QUESTION_DECISIONS = 10


@dataclass(frozen=True, slots=True)
class Decision:
    action: DecisionAction
    reply: str | None
    intent: Intent
    confidence: float
    language: str
    verification: Verification
    reason: str
    order_name: str | None = None
    order_id: int | None = None  # the Shopify order id
    priority: bool = False
    decision_id: int | None = None
    reply_message_id: int | None = None
    note_message_id: int | None = None
    restock_offer_url: str | None = None  # the signed link to ask for a back-in-stock notice, when offered
    # a self-service cancellation or address change: the channel runs it once this transaction committed
    self_service: SelfServiceRequest | None = None


def _default_understander() -> Understander:
    from shop_app.answers.understanding import understand

    return understand


# ---- the decision


async def answer_message(
    session: AsyncSession,
    *,
    shop: Shop,
    ticket: Ticket,
    message: Message,
    trust: Trust,
    now: datetime | None = None,
    post: bool = True,
    understander: Understander | None = None,
    links: NoticeLinks | None = None,
) -> Decision:
    """Decides, stores the decision, and with ``post`` (the default) posts the reply as a bot message and
    carries out a handoff (internal note with the summary, ticket open in the queue, tags). With ``links``,
    a sold-out answer ends with a signed link to ask for a back-in-stock notice (入荷お知らせ)."""
    assert shop.id is not None
    assert ticket.id is not None
    assert ticket.shop_id == shop.id
    assert message.ticket_id == ticket.id
    moment = now or utcnow()
    understand = understander or _default_understander()
    history: list[Message] = []
    if ticket.message_count > 1:  # the ticket's first message has nothing before it
        rows = await session.execute(
            select(Message)
            .where(col(Message.ticket_id) == ticket.id, col(Message.id) < message.id)
            .order_by(col(Message.id).desc())
            .limit(HISTORY_MESSAGES)
        )
        history = list(reversed(rows.scalars().all()))
    hints = await shop_hints(session, shop=shop)
    seen = understand(message.body, hints=hints)
    found = []
    if history:
        found = list(
            (
                await session.execute(
                    select(
                        DECISIONS.c.action, DECISIONS.c.intent, DECISIONS.c.confidence, DECISIONS.c.message_id
                    )
                    .where(DECISIONS.c.ticket_id == ticket.id)
                    .order_by(DECISIONS.c.id.desc())
                    .limit(QUESTION_DECISIONS)
                )
            ).all()
        )
    asked = [_Asked(row.action, row.intent, float(row.confidence), row.message_id) for row in found]
    last = asked[0] if asked else None
    said = [m.body for m in history if m.author_type == AuthorType.CUSTOMER]
    language = conversation_language(message.body, earlier=said)
    if language is None:  # nothing said in words yet: the shopper's chosen language, then the shop's
        language = fallback_language(await _fallback_languages(session, shop=shop, ticket=ticket))
    seen = replace(seen, language=language)

    outcome: Outcome
    request: SelfServiceRequest | None = None
    waiting = (
        await waiting_action(session, shop_id=shop.id, ticket_id=ticket.id)
        if ticket.message_count > 1
        else None
    )
    if any(m.author_type == AuthorType.AGENT for m in history):
        outcome = Outcome(DecisionAction.SILENT, None, {}, "an agent has replied in this ticket")
    elif HANDOFF_TAG in ticket.tags:
        outcome = Outcome(DecisionAction.SILENT, None, {}, "already handed to a person")
    elif waiting is not None:
        outcome, request = answering(message.body, seen.language, moment)
    elif last is not None and last.action == DecisionAction.REPLY and _thanks_only(seen):
        outcome = Outcome(DecisionAction.SILENT, None, {}, "thanked after the answer")
    else:
        question = _question_messages(asked, history)
        seen = _continued(seen, last, question, hints, understand)
        arguments: dict[str, Any] = {
            "shop": shop,
            "ticket": ticket,
            "seen": seen,
            "text": message.body,
            "question": [m.body for m in question],
            "history": history,
            "hints": hints,
            "trust": trust,
            "now": moment,
            "understand": understand,
        }
        self_service = None
        if not seen.angry and seen.confidence >= AUTO_ANSWER_THRESHOLD:
            self_service = await self_service_outcome(session, **arguments)
        if self_service is not None:
            outcome, request = self_service
        else:
            outcome = await _decide(session, **arguments)

    language = seen.language
    _, overrides = await shop_config(session, shop=shop)
    base = {"shop_name": shop.name or shop.domain}
    reply: str | None = None
    if outcome.key is not None:
        reply = render_reply(outcome.key, language, {**base, **outcome.context}, overrides=overrides)
    earlier = {m.body for m in history if m.author_type == AuthorType.BOT}
    if reply is not None and reply in earlier and outcome.action != DecisionAction.HANDOFF:
        outcome.action = DecisionAction.HANDOFF
        outcome.reason = f"would repeat itself ({outcome.reason})"
        reply = None
    if outcome.action == DecisionAction.HANDOFF and reply is None:
        reply = render_reply(TemplateKey.HANDOFF, language, base, overrides=overrides)

    offered = outcome.action == DecisionAction.REPLY and outcome.restock_offer is not None
    url: str | None = None
    if reply is not None and links is not None and offered and outcome.restock_offer is not None:
        variant_id, location_ids = outcome.restock_offer
        url = links.offer_url(Offer(shop.id, ticket.id, variant_id, location_ids))
        reply = reply + "\n\n" + catalogue(first_supported(language)).text("notices.stock.offer", url=url)

    order = outcome.order
    reply_id: int | None = None
    note_id: int | None = None
    if post and reply is not None:
        # a handoff notice tells the shopper a person will answer: it is no answer, so the first-response
        # clock (the agents' target) keeps running until one does
        posted = await post_message(
            session,
            ticket=ticket,
            author_type=AuthorType.BOT,
            body=reply,
            counts_as_response=outcome.action != DecisionAction.HANDOFF,
        )
        reply_id = posted.id
    row = BotDecision(
        shop_id=shop.id,
        ticket_id=ticket.id,
        message_id=message.id,
        reply_message_id=reply_id,
        intent=seen.intent.value,
        confidence=round(float(seen.confidence), 4),
        language=language,
        order_shopify_id=order.shopify_id if order is not None else None,
        order_name=order.name if order is not None else outcome.order_name,
        verification=outcome.verification,
        action=outcome.action,
        reply=reply,
        reason=outcome.reason[:255],
        priority=outcome.priority,
        product_title=(str(outcome.context.get("product") or "") or None) if seen.intent == "stock" else None,
        variant_title=(str(outcome.context.get("variant") or "") or None) if seen.intent == "stock" else None,
        created_at=moment,
    )
    if post and outcome.action == DecisionAction.HANDOFF:
        note = await post_message(
            session,
            ticket=ticket,
            author_type=AuthorType.NOTE,
            body=await _handoff_note(session, shop=shop, ticket=ticket, row=row, history=history),
        )
        note_id = note.id
        tags = [*ticket.tags, HANDOFF_TAG] + ([PRIORITY_TAG] if outcome.priority else [])
        await update_ticket(session, ticket=ticket, status=TicketStatus.OPEN, tags=tags)
    elif post and outcome.action == DecisionAction.REPLY:
        await update_ticket(session, ticket=ticket, status=TicketStatus.RESOLVED, by_bot=True)
    elif post and outcome.action == DecisionAction.ASK:
        await update_ticket(session, ticket=ticket, status=TicketStatus.PENDING, by_bot=True)
    elif post and outcome.reason == "thanked after the answer":
        await update_ticket(session, ticket=ticket, status=TicketStatus.RESOLVED, by_bot=True)
    # a plain insert: the unit of work's flush costs more than the whole statement
    row.id = (
        await session.execute(
            insert(DECISIONS).values(**row.model_dump(exclude={"id"})).returning(DECISIONS.c.id)
        )
    ).scalar_one()
    record_bot_decision(action=outcome.action, intent=seen.intent)
    logger.info(
        "bot decision action=%s intent=%s confidence=%.2f ticket=%s decision=%s",
        outcome.action.value,
        seen.intent.value,
        row.confidence,
        ticket.id,
        row.id,
    )
    return Decision(
        action=outcome.action,
        reply=reply,
        intent=seen.intent,
        confidence=row.confidence,
        language=language,
        verification=outcome.verification,
        reason=row.reason,
        order_name=row.order_name,
        order_id=row.order_shopify_id,
        priority=outcome.priority,
        decision_id=row.id,
        reply_message_id=reply_id,
        note_message_id=note_id,
        restock_offer_url=url,
        self_service=request if post else None,
    )


@dataclass(frozen=True, slots=True)
class _Asked:
    """The ticket's latest decision, as far as a follow-up message needs it."""

    action: str
    intent: str
    confidence: float
    message_id: int | None


def _question_messages(asked: Sequence[_Asked], history: Sequence[Message]) -> list[Message]:
    """The shopper's messages since the bot's current line of questions began (its latest decisions, all
    questions about the same intent): what they said while answering it, oldest first."""
    if not asked or asked[0].action != DecisionAction.ASK:
        return []
    first = asked[0]
    for decision in asked:
        if decision.action != DecisionAction.ASK or decision.intent != asked[0].intent:
            break
        first = decision
    if first.message_id is None:
        return []
    return [m for m in history if m.author_type == AuthorType.CUSTOMER and (m.id or 0) >= first.message_id]


def _continued(
    seen: Understanding,
    last: _Asked | None,
    question: Sequence[Message],
    hints: ShopHints,
    understand: Understander,
) -> Understanding:
    """An answer to the bot's own question ("which size?", "your email?") continues that question's intent:
    the messages since the question began and this one are read together, the newest word winning (a
    product, an order number, a size, a colour), so nothing the shopper already said is asked again."""
    if (
        last is None
        or last.action != DecisionAction.ASK
        or last.intent
        not in (
            Intent.ORDER_STATUS,
            Intent.STOCK,
            Intent.CANCEL,
            Intent.ADDRESS_CHANGE,
            Intent.RETURN_EXCHANGE,
            Intent.POLICY,
        )
    ):
        return seen
    if seen.intent not in (Intent.OTHER, Intent(last.intent)) and seen.confidence >= AUTO_ANSWER_THRESHOLD:
        return seen
    if seen.angry or seen.intent == Intent.HUMAN:
        return seen
    if not question:
        return seen
    earlier = [understand(m.body, hints=hints) for m in reversed(question)]  # newest first

    def newest(pick: Callable[[Understanding], tuple[Any, ...]]) -> tuple[Any, ...]:
        return pick(seen) or next((pick(e) for e in earlier if pick(e)), ())

    return Understanding(
        intent=Intent(last.intent),
        confidence=max(seen.confidence, float(last.confidence)),
        language=seen.language,
        order_refs=newest(lambda u: u.order_refs),
        emails=seen.emails,
        phones=seen.phones,
        postal_codes=seen.postal_codes,
        sizes=newest(lambda u: u.sizes),
        colours=newest(lambda u: u.colours),
        product_words=newest(lambda u: u.product_words),
        angry=seen.angry,
        reasons=(*seen.reasons, f"continues the bot's question ({last.intent})"),
    )


def _thanks_only(seen: Understanding) -> bool:
    """ "Thanks" or "OK" and nothing else, after an answer: nothing for anyone to do."""
    return seen.intent == Intent.OTHER and any(r.split("+")[0] in _THANKS_RULES for r in seen.reasons)


_THANKS_RULES = frozenset({"en:thanks", "ja:thanks"})


async def _fallback_languages(session: AsyncSession, *, shop: Shop, ticket: Ticket) -> list[str | None]:
    """When the messages do not say: the language the shopper chose (the widget's), then the shop's."""
    contact = await session.get(Contact, ticket.contact_id)
    return [contact.locale if contact is not None else None, shop.primary_locale]


async def _decide(
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
) -> Outcome:
    choices, _ = await shop_config(session, shop=shop)
    if seen.intent == Intent.HUMAN:
        return handoff("asked for a person")
    if seen.angry:
        return handoff("anger or complaint", priority=True)
    if asks_return_window(seen, [*question, text], continued=bool(question)):
        # "can I return order #1043?": the order's delivery day and the shop's window, never the policy alone
        if seen.confidence < AUTO_ANSWER_THRESHOLD:
            return handoff(f"low confidence ({seen.confidence:.2f} < {AUTO_ANSWER_THRESHOLD})")
        if not choices.answers(Intent.POLICY):
            return handoff("automatic policy replies are switched off")
        return await return_window_outcome(
            session,
            shop=shop,
            ticket=ticket,
            seen=seen,
            text=text,
            history=history,
            hints=hints,
            trust=trust,
            now=now,
            understand=understand,
            days=choices.return_window_days,
        )
    if seen.intent not in (Intent.ORDER_STATUS, Intent.STOCK, Intent.POLICY):
        return handoff(f"{seen.intent.value} is for a person")
    if seen.confidence < AUTO_ANSWER_THRESHOLD:
        return handoff(f"low confidence ({seen.confidence:.2f} < {AUTO_ANSWER_THRESHOLD})")
    if not choices.answers(seen.intent):
        return handoff(f"automatic {seen.intent.value} replies are switched off")
    if seen.intent == Intent.POLICY:
        return await policy_outcome(session, shop=shop, seen=seen, text=text)
    if seen.intent == Intent.STOCK:
        found = await answer_stock(
            session,
            shop=shop,
            understanding=seen,
            texts=[*question, text],
            exact_counts=choices.exact_stock_counts,
            understander=understand,
        )
        action = (
            DecisionAction.HANDOFF
            if found.handoff
            else (
                DecisionAction.ASK
                if found.key in (TemplateKey.STOCK_ASK_PRODUCT, TemplateKey.STOCK_ASK_VARIANT)
                else DecisionAction.REPLY
            )
        )
        offer = None
        if found.key in RESTOCK_OFFERED and found.variant_shopify_id is not None:
            offer = (found.variant_shopify_id, found.location_shopify_ids)
        return Outcome(action, found.key, found.context, found.reason, restock_offer=offer)
    return await order_outcome(
        session,
        shop=shop,
        ticket=ticket,
        seen=seen,
        text=text,
        history=history,
        hints=hints,
        trust=trust,
        now=now,
        understand=understand,
    )


async def policy_outcome(session: AsyncSession, *, shop: Shop, seen: Understanding, text: str) -> Outcome:
    """A quote from the FAQ entry or policy passage that matches confidently, with its link; any other
    question about the shopper's own order needs that order's facts, so a person (whether, and until when,
    it can be returned is the return window step's: ``returns.window``)."""
    assert shop.id is not None
    found, best = await best_answer(session, shop_id=shop.id, text=text, language=seen.language)
    nearest = f" (nearest {best.explain()})" if best is not None else ""
    if OWN_ORDER_REASON in seen.reasons:
        return handoff(f"policy question about the shopper's own order{nearest}")
    if found is None:
        return handoff(f"no confident policy answer{nearest}")
    context = {"quote": found.quote, "source_title": found.source.title, "url": found.source.url}
    return Outcome(
        DecisionAction.REPLY, TemplateKey.POLICY_ANSWER, context, f"answered from {found.explain()}"
    )


async def _handoff_note(
    session: AsyncSession, *, shop: Shop, ticket: Ticket, row: BotDecision, history: Sequence[Message]
) -> str:
    """The agents' note, in the assignee's language, else the shop's."""
    assignee = await session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    facts = HandoffFacts(
        reason=row.reason,
        intent=row.intent,
        confidence=row.confidence,
        order_name=row.order_name,
        verification=row.verification,
        priority=row.priority,
        bot_replies=[m.body for m in history if m.author_type == AuthorType.BOT],
    )
    return handoff_note(
        facts, locale=(assignee.locale if assignee is not None else shop.primary_locale) or "en"
    )
