"""The bot's answer about an order: which order the shopper means (named, or their recent open ones), whether
they may hear about it (storefront sign-in, trusted caller, proof by order details) and the outcome its
state calls for. A proof by order details also links the conversation to that order's customer."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Awaitable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.answers.order_status import (
    HANDOFF_STATES,
    PRIORITY_STATES,
    TEMPLATE_OF_STATE,
    OrderState,
    load_order_facts,
    order_context,
    order_state,
)
from shop_app.answers.outcome import Outcome, Understander, handoff
from shop_app.answers.shop_config import order_name
from shop_app.answers.understanding.model import ShopHints, Understanding
from shop_app.answers.verification import Proof, Trust, failed_attempts, tries_in, try_proof
from shop_app.formats.display import formatter
from shop_app.formats.order_words import normalise_code
from shop_app.helpdesk.customer_matching import link_verified_order
from shop_app.models import (
    AuthorType,
    DecisionAction,
    Message,
    Order,
    Shop,
    Ticket,
    TicketVerification,
    Verification,
)
from shop_app.models.answers import TemplateKey

logger = logging.getLogger(__name__)

RECENT_ORDERS = 5
OPEN_ORDER_DAYS = 30
_NOT_RECEIVED = re.compile(
    r"(届いて(い)?(ない|ません)|届か(ない|ず)|届きません|受け取(って|れて)(い)?(ない|ません)|見当たら(ない|ず)|"
    r"not\s+(been\s+)?received|haven'?t\s+(got|gotten|received)|didn'?t\s+(get|receive)|never\s+(arrived|came)|"
    r"not\s+arrived|hasn'?t\s+arrived|can'?t\s+find)",
    re.IGNORECASE,
)


class OrderReply(Protocol):
    def __call__(
        self,
        session: AsyncSession,
        *,
        shop: Shop,
        order: Order,
        seen: Understanding,
        text: str,
        verification: Verification,
        now: datetime,
    ) -> Awaitable[Outcome]: ...


async def order_outcome(
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
    reply: OrderReply | None = None,
) -> Outcome:
    """``reply``: what to answer about the order once it is chosen and the shopper may hear about it
    (its status by default; the return window step passes its own)."""
    answer = reply or _order_reply
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
            return Outcome(
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
            return Outcome(
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
            return Outcome(
                DecisionAction.ASK,
                TemplateKey.CHOOSE_ORDER,
                {**example, "orders": listed},
                f"{len(open_orders)} open orders",
                verification=verification,
            )
        chosen = open_orders[0] if open_orders else orders[0]
        return await answer(
            session, shop=shop, order=chosen, seen=seen, text=text, verification=verification, now=now
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
            return Outcome(
                DecisionAction.ASK,
                TemplateKey.VERIFICATION_FAILED,
                example,
                "no such order",
                verification=Verification.TRUSTED_CALLER,
                order_name=name,
            )
        return await answer(
            session,
            shop=shop,
            order=candidates[0],
            seen=seen,
            text=text,
            verification=Verification.TRUSTED_CALLER,
            now=now,
        )
    if storefront_id is not None:
        own = next((o for o in candidates if o.customer_shopify_id == storefront_id), None)
        if own is not None:
            return await answer(
                session,
                shop=shop,
                order=own,
                seen=seen,
                text=text,
                verification=Verification.STOREFRONT,
                now=now,
            )
    already = next((o for o in candidates if o.id in proved_ids), None)
    if already is not None:
        return await answer(
            session,
            shop=shop,
            order=already,
            seen=seen,
            text=text,
            verification=Verification.ORDER_DETAILS,
            now=now,
        )
    proof = Proof.offered(
        emails=seen.emails,
        phones=seen.phones,
        postal_codes=seen.postal_codes,
        default_region=shop.country_code,
    )
    asked = {**example, "order_name": name}
    if not proof:
        return Outcome(
            DecisionAction.ASK,
            TemplateKey.ASK_VERIFICATION,
            asked,
            "order details need proof",
            verification=Verification.NEEDED,
            order_name=name,
        )
    failures = await failed_attempts(session, ticket=ticket, source=trust.source, now=now)
    if failures.shop_wide:
        return handoff("verification attempts exhausted across the shop", verification=Verification.LIMITED)
    if not failures.within_limits():
        return handoff("verification attempts exhausted", verification=Verification.LIMITED)
    # every order number the message named counts as tried, though only the first is looked up
    tries = tries_in(proof, order_refs=len(seen.order_refs))
    proved = await try_proof(
        session,
        ticket=ticket,
        source=trust.source,
        candidates=candidates,
        proof=proof,
        tries=tries,
        default_region=shop.country_code,
        now=now,
        already_proved=proved_ids,
    )
    if proved is None:
        # several candidates of one kind get the very reply wrong details get: whether one was right is
        # never told
        why = (
            "order number and details do not match" if proof.one_of_each_kind else "several candidate proofs"
        )
        if failures.trips_shop(adding=tries):
            logger.warning("verification attempts exhausted across the shop shop_id=%s", shop.id)
        if not failures.within_limits(adding=tries):
            return handoff(f"{why}; attempts exhausted", verification=Verification.LIMITED)
        return Outcome(
            DecisionAction.ASK,
            TemplateKey.VERIFICATION_FAILED,
            asked,
            why,
            verification=Verification.FAILED,
            order_name=name,
        )
    await link_verified_order(session, ticket=ticket, order=proved)
    return await answer(
        session,
        shop=shop,
        order=proved,
        seen=seen,
        text=text,
        verification=Verification.ORDER_DETAILS,
        now=now,
    )


async def _order_reply(
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
    context = order_context(facts, shop=shop, language=seen.language)
    key = TEMPLATE_OF_STATE[state]
    if state == OrderState.DELIVERED and _NOT_RECEIVED.search(unicodedata.normalize("NFKC", text)):
        return Outcome(
            DecisionAction.HANDOFF,
            None,
            {},
            "delivered but not received",
            verification=verification,
            order=order,
            priority=True,
        )
    if state in HANDOFF_STATES:
        return Outcome(
            DecisionAction.HANDOFF,
            key,
            context,
            f"order {state.value}",
            verification=verification,
            order=order,
            priority=state in PRIORITY_STATES,
        )
    return Outcome(
        DecisionAction.REPLY, key, context, f"order {state.value}", verification=verification, order=order
    )
