"""The bot's answer to one shopper message: understand it, pick the order or product, check who may hear
about it, and reply, ask, hand to a person or stay silent. Every decision is stored (``bot_decisions``).

A wrong automatic answer is worse than a handoff: person-only intents, low confidence, anger, failed
verification, a reply it already gave and anything it cannot settle go to the agents' queue with a summary.
Once an agent has replied, or the bot has handed off, it stays silent in that ticket.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.answers.answer_settings import AnswerChoices, get_answer_settings
from shop_app.answers.order_status import (
    HANDOFF_STATES,
    PRIORITY_STATES,
    TEMPLATE_OF_STATE,
    OrderState,
    load_order_facts,
    order_context,
    order_state,
)
from shop_app.answers.shop_cache import cached, forget_shop, remember
from shop_app.answers.stock import answer_stock
from shop_app.answers.templates import (
    SAMPLES,
    TemplateGroup,
    TemplateKey,
    parse_key,
    render,
    render_reply,
    shop_templates,
)
from shop_app.answers.understanding.model import AUTO_ANSWER_THRESHOLD, Intent, ShopHints, Understanding
from shop_app.answers.verification import (
    Proof,
    Trust,
    failed_attempts,
    try_proof,
    within_limits,
)
from shop_app.errors import NotFound
from shop_app.formats.display import formatter
from shop_app.formats.order_words import normalise_code
from shop_app.helpdesk.tickets import post_message, update_ticket
from shop_app.models import (
    AuthorType,
    BotDecision,
    DecisionAction,
    Message,
    Order,
    OrderLineItem,
    Product,
    Shop,
    Ticket,
    TicketStatus,
    TicketVerification,
    Verification,
)
from shop_app.models.base import utcnow

Understander = Callable[..., Understanding]
DECISIONS: Table = BotDecision.__table__  # type: ignore[attr-defined]

HANDOFF_TAG = "bot-handoff"
PRIORITY_TAG = "priority"
HISTORY_MESSAGES = 50
RECENT_ORDERS = 5
OPEN_ORDER_DAYS = 30
HINTS_TTL_SECONDS = 300.0
CONFIG_TTL_SECONDS = 30.0
MAX_HINT_TITLES = 2000
_ORDER_NAME = re.compile(r"^(\D*?)(\d+)(\D*)$")
_NOT_RECEIVED = re.compile(
    r"(届いて(い)?(ない|ません)|届か(ない|ず)|届きません|受け取(って|れて)(い)?(ない|ません)|見当たら(ない|ず)|"
    r"not\s+(been\s+)?received|haven'?t\s+(got|gotten|received)|didn'?t\s+(get|receive)|never\s+(arrived|came)|"
    r"not\s+arrived|hasn'?t\s+arrived|can'?t\s+find)",
    re.IGNORECASE,
)


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


@dataclass(slots=True)
class _Outcome:
    action: DecisionAction
    key: TemplateKey | None
    context: dict[str, Any]
    reason: str
    verification: Verification = Verification.NOT_NEEDED
    order: Order | None = None
    order_name: str | None = None
    priority: bool = False
    extra: list[str] = field(default_factory=list)


# ---- shop hints (cached: the order name format and product titles change rarely)


async def shop_hints(session: AsyncSession, *, shop: Shop) -> ShopHints:
    assert shop.id is not None
    known = cached("hints", shop=shop, ttl_seconds=HINTS_TTL_SECONDS)
    if isinstance(known, ShopHints):
        return known
    name = (
        await session.execute(
            select(col(Order.name))
            .where(col(Order.shop_id) == shop.id)
            .order_by(col(Order.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    prefix, suffix = "#", ""
    found = _ORDER_NAME.match(name or "")
    if found:
        prefix, suffix = found[1], found[3]
    titles = (
        await session.execute(
            select(col(Product.title))
            .where(col(Product.shop_id) == shop.id, col(Product.status).is_distinct_from("ARCHIVED"))
            .order_by(col(Product.id))
            .limit(MAX_HINT_TITLES)
        )
    ).scalars()
    hints = ShopHints(
        order_prefix=prefix,
        order_suffix=suffix,
        default_region=shop.country_code,
        product_titles=tuple(titles),
    )
    remember("hints", shop=shop, value=hints)
    return hints


def forget_shop_cache(shop_id: int) -> None:
    forget_shop(shop_id)


async def shop_config(
    session: AsyncSession, *, shop: Shop
) -> tuple[AnswerChoices, dict[tuple[str, str], str]]:
    """The shop's settings and its own templates (every language)."""
    assert shop.id is not None
    known = cached("config", shop=shop, ttl_seconds=CONFIG_TTL_SECONDS)
    if isinstance(known, tuple):
        return known
    found = (
        await get_answer_settings(session, shop_id=shop.id),
        await shop_templates(session, shop_id=shop.id),
    )
    remember("config", shop=shop, value=found)
    return found


def order_name(number: int, hints: ShopHints) -> str:
    return f"{hints.order_prefix}{number}{hints.order_suffix}"


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

    outcome: _Outcome
    if any(m.author_type == AuthorType.AGENT for m in history):
        outcome = _Outcome(DecisionAction.SILENT, None, {}, "an agent has replied in this ticket")
    elif HANDOFF_TAG in ticket.tags:
        outcome = _Outcome(DecisionAction.SILENT, None, {}, "already handed to a person")
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
) -> _Outcome:
    choices, _ = await shop_config(session, shop=shop)
    if seen.intent == Intent.HUMAN:
        return _handoff("asked for a person")
    if seen.angry:
        return _handoff("anger or complaint", priority=True)
    if seen.intent not in (Intent.ORDER_STATUS, Intent.STOCK):
        return _handoff(f"{seen.intent.value} is for a person")
    if seen.confidence < AUTO_ANSWER_THRESHOLD:
        return _handoff(f"low confidence ({seen.confidence:.2f} < {AUTO_ANSWER_THRESHOLD})")
    if not choices.answers(seen.intent):
        return _handoff(f"automatic {seen.intent.value} replies are switched off")
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
        return _Outcome(action, found.key, found.context, found.reason)
    return await _order_outcome(
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


def _handoff(
    reason: str, *, priority: bool = False, verification: Verification = Verification.NOT_NEEDED
) -> _Outcome:
    return _Outcome(DecisionAction.HANDOFF, None, {}, reason, verification=verification, priority=priority)


async def _order_outcome(
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
) -> _Outcome:
    # Only this conversation's own signature counts: a contact may have been signed in once, and a later
    # unsigned conversation reusing it (same email typed by anyone) must prove itself again.
    storefront_id = trust.storefront_customer_id
    reference = seen.order_ref
    if reference is None:
        for earlier in reversed([m for m in history if m.author_type == AuthorType.CUSTOMER][-10:]):
            reference = understand(earlier.body, hints=hints).order_ref
            if reference is not None:
                break
    example: dict[str, Any] = {"example_order": order_name(1001, hints), "order_name": None, "orders": []}

    if reference is None:
        customer_id = storefront_id or (ticket.customer_shopify_id if trust.trusted_caller else None)
        if customer_id is None:
            return _Outcome(
                DecisionAction.ASK,
                TemplateKey.ASK_ORDER_NUMBER,
                example,
                "no order named",
                verification=Verification.NEEDED,
            )
        verification = Verification.TRUSTED_CALLER if storefront_id is None else Verification.STOREFRONT
        orders = list(
            (
                await session.execute(
                    select(Order)
                    .where(col(Order.shop_id) == shop.id, col(Order.customer_shopify_id) == customer_id)
                    .order_by(col(Order.created_at).desc(), col(Order.id).desc())
                    .limit(RECENT_ORDERS)
                )
            ).scalars()
        )
        if not orders:
            return _Outcome(
                DecisionAction.ASK,
                TemplateKey.ASK_ORDER_NUMBER,
                example,
                "the customer has no orders",
                verification=verification,
            )
        recent = now - timedelta(days=OPEN_ORDER_DAYS)
        open_orders = [
            o
            for o in orders
            if o.cancelled_at is None
            and (normalise_code(o.fulfillment_status) != "FULFILLED" or o.created_at >= recent)
        ]
        if len(open_orders) > 1:
            fmt = formatter(seen.language, shop.iana_timezone, shop.currency_code)
            listed = [{"name": o.name, "ordered_on": fmt.day_text(o.created_at)} for o in open_orders]
            return _Outcome(
                DecisionAction.ASK,
                TemplateKey.CHOOSE_ORDER,
                {**example, "orders": listed},
                f"{len(open_orders)} open orders",
                verification=verification,
            )
        chosen = open_orders[0] if open_orders else orders[0]
        return await _order_reply(
            session, shop=shop, order=chosen, seen=seen, text=text, verification=verification
        )

    name = order_name(reference, hints)
    proved_here = (
        select(col(TicketVerification.id))
        .where(
            col(TicketVerification.ticket_id) == ticket.id, col(TicketVerification.order_id) == col(Order.id)
        )
        .exists()
    )
    found = (
        await session.execute(
            select(Order, proved_here.label("proved")).where(
                col(Order.shop_id) == shop.id,
                col(Order.name).in_(list(dict.fromkeys([name, f"#{reference}", str(reference)]))),
            )
        )
    ).all()
    candidates = [order for order, _ in found]
    proved_ids = {order.id for order, proved in found if proved and order.id is not None}
    if trust.trusted_caller:
        if not candidates:
            return _Outcome(
                DecisionAction.ASK,
                TemplateKey.VERIFICATION_FAILED,
                example,
                "no such order",
                verification=Verification.TRUSTED_CALLER,
                order_name=name,
            )
        return await _order_reply(
            session,
            shop=shop,
            order=candidates[0],
            seen=seen,
            text=text,
            verification=Verification.TRUSTED_CALLER,
        )
    if storefront_id is not None:
        own = next((o for o in candidates if o.customer_shopify_id == storefront_id), None)
        if own is not None:
            return await _order_reply(
                session, shop=shop, order=own, seen=seen, text=text, verification=Verification.STOREFRONT
            )
    already = next((o for o in candidates if o.id in proved_ids), None)
    if already is not None:
        return await _order_reply(
            session, shop=shop, order=already, seen=seen, text=text, verification=Verification.ORDER_DETAILS
        )
    proof = Proof(emails=seen.emails, phones=seen.phones, postal_codes=seen.postal_codes)
    asked = {**example, "order_name": name}
    if not proof:
        return _Outcome(
            DecisionAction.ASK,
            TemplateKey.ASK_VERIFICATION,
            asked,
            "order details need proof",
            verification=Verification.NEEDED,
            order_name=name,
        )
    per_ticket, per_source = await failed_attempts(session, ticket=ticket, source=trust.source, now=now)
    if not within_limits((per_ticket, per_source)):
        return _handoff("verification attempts exhausted", verification=Verification.LIMITED)
    proved = await try_proof(
        session,
        ticket=ticket,
        source=trust.source,
        candidates=candidates,
        proof=proof,
        default_region=shop.country_code,
        now=now,
        already_proved=proved_ids,
    )
    if proved is None:
        if not within_limits((per_ticket + 1, per_source + 1)):
            return _handoff("verification failed; attempts exhausted", verification=Verification.LIMITED)
        return _Outcome(
            DecisionAction.ASK,
            TemplateKey.VERIFICATION_FAILED,
            asked,
            "order number and details do not match",
            verification=Verification.FAILED,
            order_name=name,
        )
    return await _order_reply(
        session, shop=shop, order=proved, seen=seen, text=text, verification=Verification.ORDER_DETAILS
    )


async def _order_reply(
    session: AsyncSession,
    *,
    shop: Shop,
    order: Order,
    seen: Understanding,
    text: str,
    verification: Verification,
) -> _Outcome:
    facts = await load_order_facts(session, order=order)
    state = order_state(facts)
    context = order_context(facts, shop=shop, language=seen.language)
    key = TEMPLATE_OF_STATE[state]
    if state == OrderState.DELIVERED and _NOT_RECEIVED.search(unicodedata.normalize("NFKC", text)):
        return _Outcome(
            DecisionAction.HANDOFF,
            None,
            {},
            "delivered but not received",
            verification=verification,
            order=order,
            priority=True,
        )
    if state in HANDOFF_STATES:
        return _Outcome(
            DecisionAction.HANDOFF,
            key,
            context,
            f"order {state.value}",
            verification=verification,
            order=order,
            priority=state in PRIORITY_STATES,
        )
    return _Outcome(
        DecisionAction.REPLY, key, context, f"order {state.value}", verification=verification, order=order
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


# ---- audit and preview


async def ticket_decisions(session: AsyncSession, *, ticket: Ticket, limit: int = 200) -> list[BotDecision]:
    rows = await session.execute(
        select(BotDecision)
        .where(col(BotDecision.ticket_id) == ticket.id)
        .order_by(col(BotDecision.id))
        .limit(limit)
    )
    return list(rows.scalars())


async def preview_template(
    session: AsyncSession, *, shop: Shop, key: str, language: str, body: str, order_id: int | None
) -> str:
    """The template rendered against a real order of the shop (its Shopify id), or the sample reply."""
    chosen, lang = parse_key(key, language)
    context = dict(SAMPLES[chosen.group])
    if order_id is not None:
        order = (
            await session.execute(
                select(Order).where(col(Order.shop_id) == shop.id, col(Order.shopify_id) == order_id)
            )
        ).scalar_one_or_none()
        if order is None:
            raise NotFound("No such order", code="order_not_found")
        if chosen.group == TemplateGroup.ORDER:
            context = order_context(await load_order_facts(session, order=order), shop=shop, language=lang)
        elif chosen.group == TemplateGroup.GENERAL:
            day = formatter(lang, shop.iana_timezone, shop.currency_code).day_text(order.created_at)
            context.update(order_name=order.name, orders=[{"name": order.name, "ordered_on": day}])
        else:
            item = (
                await session.execute(
                    select(OrderLineItem)
                    .where(col(OrderLineItem.order_id) == order.id)
                    .order_by(col(OrderLineItem.id))
                    .limit(1)
                )
            ).scalar_one_or_none()
            if item is not None:
                context.update(
                    product=item.title,
                    variant=item.variant_title,
                    item=item.title + (f" ({item.variant_title})" if item.variant_title else ""),
                )
    context["shop_name"] = shop.name or shop.domain
    return render(body, context)
