""" "Can I return order #1043?" answered from two facts together, never from the policy alone: the day the
order was delivered (from the mirror's shipments) and the return window the merchant confirmed in the admin
(prefilled from the refund policy's words, ``knowledge.return_window``).

The order is chosen and the shopper verified exactly as for an order's status (``order_outcome``): an
unverified shopper is asked for the order's details first. Only a delivered order still inside its window
is answered ("delivered on 2026/11/20; returns within 30 days, so until 2026/12/20", with the policy's
link); an order not delivered yet, a delivery day the mirror does not know, a window that has ended or a
shop that has not set its window goes to a person with those facts in the decision's reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.answers.order_outcome import order_outcome
from shop_app.answers.order_status import OrderState, load_order_facts, order_state
from shop_app.answers.outcome import Outcome, Understander, handoff
from shop_app.answers.understanding.intents import OWN_ORDER_REASON
from shop_app.answers.understanding.model import Intent, ShopHints, Understanding
from shop_app.answers.verification import Trust
from shop_app.formats.display import formatter, time_zone
from shop_app.knowledge.return_window import REFUND_POLICY, detect_return_window
from shop_app.models import DecisionAction, Message, Order, Shop, ShopPolicy, Ticket, Verification
from shop_app.models.answers import TemplateKey

WINDOW_INTENTS = frozenset({Intent.RETURN_EXCHANGE, Intent.POLICY})
# "can I (still) return…", "until when…", "返品できますか", "返品の期限": whether or until when, not "please
# take it back" (a return to arrange is a person's work)
_ASKS_WINDOW = re.compile(
    r"\b(?:can|could|may)\s+(?:i|we)\s+(?:still\s+)?return\b|\b(?:able|eligible|too late)\s+to\s+return\b"
    r"|\breturn(?:s)?\s+(?:window|deadline|period)\b|\bstill\s+(?:be\s+)?return(?:ed|able)?\b"
    r"|\b(?:until|by)\s+when\b.*\breturn|\breturn\b.*\b(?:until|by)\s+when\b|\blast\s+day\s+to\s+return\b"
    r"|返品(?:は|が|って)?(?:でき|出来|可能|受け付け|間に合)|返品(?:の)?期限|いつまで(?:に)?返品|返品.*いつまで|まだ返品",
    re.IGNORECASE,
)


def asks_return_window(seen: Understanding, texts: Sequence[str], *, continued: bool) -> bool:
    """Whether the message (with the earlier ones of the bot's question) asks if, or until when, the
    shopper's own order can be returned."""
    if seen.intent not in WINDOW_INTENTS or seen.angry:
        return False
    own = bool(seen.order_refs) or OWN_ORDER_REASON in seen.reasons or continued
    return own and any(_ASKS_WINDOW.search(unicodedata.normalize("NFKC", text)) for text in texts)


async def return_window_outcome(
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
    days: int | None,
) -> Outcome:
    assert shop.id is not None
    if days is None:
        return handoff("return question about an order; the shop's return window is not set")
    policy = (
        await session.execute(
            select(ShopPolicy).where(
                col(ShopPolicy.shop_id) == shop.id, col(ShopPolicy.policy_type) == REFUND_POLICY
            )
        )
    ).scalar_one_or_none()
    detected = detect_return_window(policy.body) if policy is not None else None
    source = detected.label if detected is not None and detected.days == days else "the merchant's setting"
    url = policy.url if policy is not None else None

    async def window_reply(
        session: AsyncSession,
        *,
        shop: Shop,
        order: Order,
        seen: Understanding,
        text: str,
        verification: Verification,
        now: datetime,
    ) -> Outcome:
        facts = await load_order_facts(session, order=order)
        state = order_state(facts, now=now, timezone=shop.iana_timezone)
        delivered = [f.delivered_at for f in facts.fulfillments if f.delivered_at is not None]
        window = f"window {days} days ({source})"
        if state != OrderState.DELIVERED or not delivered:
            why = "delivery day unknown" if state == OrderState.DELIVERED else f"order {state.value}"
            return Outcome(
                DecisionAction.HANDOFF,
                None,
                {},
                f"return question: {order.name} {why}; {window}",
                verification=verification,
                order=order,
            )
        zone = time_zone(shop.iana_timezone)
        delivered_day = max(delivered).astimezone(zone).date()
        until = delivered_day + timedelta(days=days)
        facts_text = (
            f"{order.name} delivered {delivered_day.isoformat()}, {window}, until {until.isoformat()}"
        )
        if now.astimezone(zone).date() > until:
            return Outcome(
                DecisionAction.HANDOFF,
                None,
                {},
                f"return window ended: {facts_text}",
                verification=verification,
                order=order,
            )
        fmt = formatter(seen.language, shop.iana_timezone, shop.currency_code)
        context = {
            "order_name": order.name,
            "delivered_on": fmt.day_text(delivered_day),
            "days": days,
            "until": fmt.day_text(until),
            "url": url,
        }
        return Outcome(
            DecisionAction.REPLY,
            TemplateKey.POLICY_RETURN_WINDOW,
            context,
            f"return window: {facts_text}",
            verification=verification,
            order=order,
        )

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
        reply=window_reply,
    )
