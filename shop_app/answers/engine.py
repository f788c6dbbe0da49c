"""The bot's answer to one shopper message: understand it, pick the order or product, check who may hear
about it, and reply, ask, hand to a person or stay silent. Every decision is stored (``bot_decisions``).

A wrong automatic answer is worse than a handoff: person-only intents, low confidence, anger, failed
verification, a reply it already gave and anything it cannot settle go to the agents' queue with a summary.
Once an agent has replied, or the bot has handed off, it stays silent in that ticket.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.answers.order_outcome import order_outcome
from shop_app.answers.outcome import Outcome, Understander, handoff
from shop_app.answers.shop_config import shop_config, shop_hints
from shop_app.answers.stock import answer_stock
from shop_app.answers.templates import TemplateKey, render_reply
from shop_app.answers.understanding.model import AUTO_ANSWER_THRESHOLD, Intent, ShopHints, Understanding
from shop_app.answers.verification import Trust
from shop_app.helpdesk.tickets import post_message, update_ticket
from shop_app.models import (
    AuthorType,
    BotDecision,
    DecisionAction,
    Message,
    Shop,
    Ticket,
    TicketStatus,
    Verification,
)
from shop_app.models.base import utcnow

DECISIONS: Table = BotDecision.__table__  # type: ignore[attr-defined]

HANDOFF_TAG = "bot-handoff"
PRIORITY_TAG = "priority"
HISTORY_MESSAGES = 50


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
) -> Decision:
    """Decides, stores the decision, and with ``post`` (the default) posts the reply as a bot message and
    carries out a handoff (internal note with the summary, ticket open in the queue, tags)."""
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
    found = None
    if history:
        found = (
            await session.execute(
                select(DECISIONS.c.action, DECISIONS.c.intent, DECISIONS.c.confidence, DECISIONS.c.message_id)
                .where(DECISIONS.c.ticket_id == ticket.id)
                .order_by(DECISIONS.c.id.desc())
                .limit(1)
            )
        ).first()
    last = (
        None
        if found is None
        else _Asked(found.action, found.intent, float(found.confidence), found.message_id)
    )

    outcome: Outcome
    if any(m.author_type == AuthorType.AGENT for m in history):
        outcome = Outcome(DecisionAction.SILENT, None, {}, "an agent has replied in this ticket")
    elif HANDOFF_TAG in ticket.tags:
        outcome = Outcome(DecisionAction.SILENT, None, {}, "already handed to a person")
    else:
        seen = _continued(seen, last, history, hints, understand, message.body)
        outcome = await _decide(
            session,
            shop=shop,
            ticket=ticket,
            seen=seen,
            text=message.body,
            history=history,
            hints=hints,
            trust=trust,
            now=moment,
            understand=understand,
        )

    language = seen.language if seen.language in ("ja", "en") else "en"
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

    order = outcome.order
    reply_id: int | None = None
    note_id: int | None = None
    if post and reply is not None:
        reply_id = (await post_message(session, ticket=ticket, author_type=AuthorType.BOT, body=reply)).id
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
        created_at=moment,
    )
    if post and outcome.action == DecisionAction.HANDOFF:
        note = await post_message(
            session, ticket=ticket, author_type=AuthorType.NOTE, body=_summary(shop, row, history, seen)
        )
        note_id = note.id
        tags = [*ticket.tags, HANDOFF_TAG] + ([PRIORITY_TAG] if outcome.priority else [])
        await update_ticket(session, ticket=ticket, status=TicketStatus.OPEN, tags=tags)
    # a plain insert: the unit of work's flush costs more than the whole statement
    row.id = (
        await session.execute(
            insert(DECISIONS).values(**row.model_dump(exclude={"id"})).returning(DECISIONS.c.id)
        )
    ).scalar_one()
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
    )


@dataclass(frozen=True, slots=True)
class _Asked:
    """The ticket's latest decision, as far as a follow-up message needs it."""

    action: str
    intent: str
    confidence: float
    message_id: int | None


def _continued(
    seen: Understanding,
    last: _Asked | None,
    history: Sequence[Message],
    hints: ShopHints,
    understand: Understander,
    current: str,
) -> Understanding:
    """An answer to the bot's own question ("which size?", "your email?") continues that question's intent:
    the earlier message and this one are read together."""
    if (
        last is None
        or last.action != DecisionAction.ASK
        or last.intent not in (Intent.ORDER_STATUS, Intent.STOCK)
    ):
        return seen
    if seen.intent not in (Intent.OTHER, Intent(last.intent)) and seen.confidence >= AUTO_ANSWER_THRESHOLD:
        return seen
    if seen.angry or seen.intent == Intent.HUMAN:
        return seen
    asked = next((m for m in reversed(history) if m.id == last.message_id), None)
    if asked is None:
        return seen
    earlier = understand(asked.body, hints=hints)
    return Understanding(
        intent=Intent(last.intent),
        confidence=max(seen.confidence, float(last.confidence)),
        language=_reply_language(text=current, seen=seen, earlier=earlier),
        order_refs=seen.order_refs or earlier.order_refs,
        emails=seen.emails,
        phones=seen.phones,
        postal_codes=seen.postal_codes,
        sizes=tuple(dict.fromkeys((*seen.sizes, *earlier.sizes))),
        colours=tuple(dict.fromkeys((*seen.colours, *earlier.colours))),
        product_words=seen.product_words or earlier.product_words,
        angry=seen.angry,
        reasons=(*seen.reasons, f"continues the bot's question ({last.intent})"),
    )


_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_ENTITY_NOISE = re.compile(r"\S+@\S+|[\d\W_]+")
_LATIN_WORD = re.compile(r"[a-z]{2,}", re.IGNORECASE)


def _reply_language(*, text: str, seen: Understanding, earlier: Understanding) -> str:
    """A bare email, number or size answers in the language the conversation was in."""
    rest = _ENTITY_NOISE.sub(" ", unicodedata.normalize("NFKC", text))
    if _JAPANESE.search(rest):
        return "ja"
    if len(_LATIN_WORD.findall(rest)) >= 2:
        return seen.language
    return earlier.language


async def _decide(
    session: AsyncSession,
    *,
    shop: Shop,
    ticket: Ticket,
    seen: Understanding,
    text: str,
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
    if seen.intent not in (Intent.ORDER_STATUS, Intent.STOCK):
        return handoff(f"{seen.intent.value} is for a person")
    if seen.confidence < AUTO_ANSWER_THRESHOLD:
        return handoff(f"low confidence ({seen.confidence:.2f} < {AUTO_ANSWER_THRESHOLD})")
    if not choices.answers(seen.intent):
        return handoff(f"automatic {seen.intent.value} replies are switched off")
    if seen.intent == Intent.STOCK:
        found = await answer_stock(
            session,
            shop=shop,
            understanding=seen,
            text=text,
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
        return Outcome(action, found.key, found.context, found.reason)
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


def _summary(shop: Shop, row: BotDecision, history: Sequence[Message], seen: Understanding) -> str:
    japanese = (shop.primary_locale or "").lower().startswith("ja")
    said = [m for m in history if m.author_type == AuthorType.BOT]
    order = row.order_name or ("なし" if japanese else "none")
    if japanese:
        lines = [
            f"ボットから引き継ぎ{'（優先）' if row.priority else ''}：{row.reason}",
            f"意図：{row.intent}（確信度 {row.confidence:.2f}）",
            f"注文：{order}（本人確認：{row.verification}）",
            f"ボットの返信数：{len(said)}",
        ]
        if said:
            lines.append(f"直前の返信：{said[-1].body[:200]}")
    else:
        lines = [
            f"Bot handoff{' (priority)' if row.priority else ''}: {row.reason}",
            f"Intent: {row.intent} (confidence {row.confidence:.2f})",
            f"Order: {order} (verification: {row.verification})",
            f"Bot replies so far: {len(said)}",
        ]
        if said:
            lines.append(f"Last bot reply: {said[-1].body[:200]}")
    if seen.reasons:
        lines.append(("判断理由：" if japanese else "Why: ") + ", ".join(seen.reasons[:6]))
    return "\n".join(lines)
