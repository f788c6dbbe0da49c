"""``shop-app dev`` only: a realistic month of support history for each simulated shop, so the Insights page
is not empty on the first run. Made once per shop (when it has no ticket older than a day), from its mirrored
customers, orders and products: conversations on every channel over the last 30 days, the bot's decisions
(where-is-my-order answers with the order's real state, stock answers, handoffs with their reasons), agents'
replies and resolutions, a few customers coming back within the week, and CSAT answers. Never used in
production."""

from __future__ import annotations

import logging
import random
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.database import SessionFactory, transaction
from shop_app.formats.names_and_addresses import person_name
from shop_app.insights.csat import token_digest
from shop_app.models import (
    AuthorType,
    BotDecision,
    Channel,
    Contact,
    CsatSurvey,
    Customer,
    DecisionAction,
    Fulfillment,
    Membership,
    Message,
    Order,
    Product,
    ProductVariant,
    Shop,
    Ticket,
    TicketStatus,
    Verification,
)
from shop_app.shops.installation import get_shop

logger = logging.getLogger(__name__)

DAYS = 30
PER_DAY = (6, 16)
CHANNELS = (Channel.WEB_CHAT, Channel.LINE, Channel.EMAIL)
CHANNEL_WEIGHTS = (55, 30, 15)
QUESTIONS = {
    "ja": {
        "order_status": "注文した商品はいつ届きますか？",
        "stock": "{item}の在庫はありますか？",
        "cancel": "注文をキャンセルしたいです。",
        "return_exchange": "サイズが合わなかったので交換できますか？",
        "human": "担当の方とお話しできますか？",
        "other": "ギフト包装はできますか？",
    },
    "en": {
        "order_status": "Where is my order?",
        "stock": "Do you have the {item} in stock?",
        "cancel": "I would like to cancel my order.",
        "return_exchange": "Can I exchange this for another size?",
        "human": "Can I talk to a person, please?",
        "other": "Do you offer gift wrapping?",
    },
}
REPLIES = {
    "ja": (
        "ご連絡ありがとうございます。確認いたします。",
        "対応が完了しました。ほかにご不明な点があればお知らせください。",
    ),
    "en": ("Thanks for getting in touch, let me check.", "All done. Let us know if there is anything else."),
}
INTENT_WEIGHTS = (
    ("order_status", 45),
    ("stock", 20),
    ("cancel", 8),
    ("return_exchange", 9),
    ("human", 8),
    ("other", 10),
)


def _state(order: Order, fulfillments: list[Fulfillment], asked: datetime) -> str:
    shipped = [f for f in fulfillments if f.created_at <= asked]
    if not shipped:
        return "not_shipped"
    if all(f.delivered_at is not None and f.delivered_at <= asked for f in shipped):
        return "delivered"
    estimated = [f.estimated_delivery_at for f in shipped if f.estimated_delivery_at is not None]
    if estimated and max(estimated) < asked:
        return "late"
    return "in_transit"


async def seed_history(sessions: SessionFactory, domain: str, *, now: datetime | None = None) -> int:
    """The month of history for one shop; returns the number of tickets made (0 when it has history)."""
    moment = now or datetime.now(UTC)
    rng = random.Random(domain)
    async with transaction(sessions) as session:
        shop = await get_shop(session, domain)
        if shop is None or shop.id is None:
            return 0
        older = await session.execute(
            select(func.count()).where(
                col(Ticket.shop_id) == shop.id, col(Ticket.created_at) < moment - timedelta(days=1)
            )
        )
        if older.scalar_one():
            return 0
        customers = list(
            (
                await session.execute(
                    select(Customer)
                    .where(col(Customer.shop_id) == shop.id)
                    .order_by(col(Customer.id))
                    .limit(80)
                )
            ).scalars()
        )
        orders = list(
            (
                await session.execute(
                    select(Order)
                    .where(col(Order.shop_id) == shop.id)
                    .order_by(col(Order.created_at).desc())
                    .limit(300)
                )
            ).scalars()
        )
        items = (
            await session.execute(
                select(col(Product.title), col(ProductVariant.title))
                .join(ProductVariant, col(ProductVariant.product_id) == col(Product.id))
                .where(col(Product.shop_id) == shop.id)
                .order_by(col(ProductVariant.id))
                .limit(12)
            )
        ).all()
        agents = list(
            (
                await session.execute(
                    select(col(Membership.agent_id)).where(col(Membership.shop_id) == shop.id)
                )
            ).scalars()
        )
        if not customers or not orders:
            return 0
        shipments: dict[int, list[Fulfillment]] = {}
        for fulfillment in (
            await session.execute(
                select(Fulfillment).where(
                    col(Fulfillment.shop_id) == shop.id, col(Fulfillment.order_id).in_([o.id for o in orders])
                )
            )
        ).scalars():
            shipments.setdefault(fulfillment.order_id, []).append(fulfillment)
        made = await _fill(session, shop, rng, moment, customers, orders, shipments, list(items), agents)
    logger.info("demo history seeded shop=%s tickets=%s", domain, made)
    return made


async def _fill(
    session: AsyncSession,
    shop: Shop,
    rng: random.Random,
    moment: datetime,
    customers: list[Customer],
    orders: list[Order],
    shipments: dict[int, list[Fulfillment]],
    items: list[tuple[str, str | None]],
    agents: list[int],
) -> int:
    assert shop.id is not None
    language = "ja" if (shop.primary_locale or "").startswith("ja") else "en"
    contacts: dict[int, Contact] = {}
    by_customer: dict[int, list[Order]] = {}
    for order in orders:
        if order.customer_shopify_id is not None:
            by_customer.setdefault(order.customer_shopify_id, []).append(order)
    made = 0
    intents = [name for name, _ in INTENT_WEIGHTS]
    weights = [weight for _, weight in INTENT_WEIGHTS]
    for day in range(DAYS, 0, -1):
        # fewer questions as the month goes on, more orders than ever: the trend a merchant hopes for
        count = rng.randint(*PER_DAY) - (DAYS - day) // 10
        for _ in range(max(2, count)):
            customer = rng.choice(customers)
            if customer.id not in contacts:
                contact = Contact(
                    shop_id=shop.id,
                    name=person_name(customer.first_name, customer.last_name) or "Customer",
                    email=customer.email,
                    locale=language,
                    storefront_customer_id=customer.shopify_id,
                )
                session.add(contact)
                await session.flush()
                contacts[customer.id or 0] = contact
            contact = contacts[customer.id or 0]
            created = moment - timedelta(days=day, seconds=rng.randrange(0, 86_400))
            intent = rng.choices(intents, weights=weights)[0]
            channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
            order = rng.choice(by_customer.get(customer.shopify_id, orders))
            item = rng.choice(items) if items else ("T-shirt", "M")
            question = QUESTIONS[language][intent].format(item=item[0])
            decision: dict[str, object] = {"intent": intent, "action": DecisionAction.HANDOFF}
            by_bot = False
            if intent == "order_status":
                state = _state(order, shipments.get(order.id or 0, []), created)
                late = state == "late"
                decision = {
                    "intent": intent,
                    "action": DecisionAction.HANDOFF if late else DecisionAction.REPLY,
                    "reason": f"order {state}",
                    "order_shopify_id": order.shopify_id,
                    "order_name": order.name,
                    "verification": Verification.STOREFRONT,
                }
                by_bot = not late and rng.random() < 0.85
            elif intent == "stock":
                sold_out = rng.random() < 0.3
                decision = {
                    "intent": intent,
                    "action": DecisionAction.REPLY,
                    "reason": "stock sold_out (policy deny)" if sold_out else "stock in_stock (policy deny)",
                    "product_title": item[0][:512],
                    "variant_title": (item[1] or None) if item[1] != "Default Title" else None,
                }
                by_bot = rng.random() < 0.8
            elif intent == "human":
                decision["reason"] = "asked for a person"
            elif intent == "other":
                decision["reason"] = (
                    "low confidence (0.42 < 0.6)" if rng.random() < 0.6 else "other is for a person"
                )
            else:
                decision["reason"] = f"{intent} is for a person"
            agent = None if by_bot or not agents else rng.choice(agents)
            answered = created + (
                timedelta(seconds=rng.randrange(2, 20))
                if by_bot
                else timedelta(minutes=rng.randrange(4, 300))
            )
            resolved = rng.random() < (0.97 if by_bot else 0.85)
            done = answered + timedelta(minutes=rng.randrange(1, 30 if by_bot else 900)) if resolved else None
            if done is not None and done > moment:
                done = None
            reopened = done is not None and rng.random() < 0.05
            ticket = Ticket(
                shop_id=shop.id,
                contact_id=contact.id or 0,
                channel=channel,
                status=TicketStatus.RESOLVED if done and not reopened else TicketStatus.OPEN,
                subject=question[:80],
                assignee_id=agent,
                customer_shopify_id=customer.shopify_id,
                message_count=3 if done else 2,
                created_at=created,
                updated_at=done or answered,
                last_message_at=done or answered,
                first_response_at=answered if answered <= moment else None,
                resolved_at=done if done and not reopened else None,
                resolved_by_bot=by_bot and done is not None and not reopened,
                reopened_at=done + timedelta(hours=2) if reopened and done else None,
            )
            session.add(ticket)
            await session.flush()
            assert ticket.id is not None
            first_message = Message(
                shop_id=shop.id,
                ticket_id=ticket.id,
                author_type=AuthorType.CUSTOMER,
                body=question,
                created_at=created,
            )
            session.add(first_message)
            await session.flush()
            session.add(
                BotDecision(
                    shop_id=shop.id,
                    ticket_id=ticket.id,
                    message_id=first_message.id,
                    confidence=round(rng.uniform(0.45, 0.98), 2),
                    language=language,
                    created_at=created,
                    **{"verification": Verification.NOT_NEEDED, **decision},  # type: ignore[arg-type]
                )
            )
            author = AuthorType.BOT if by_bot else AuthorType.AGENT
            replies = REPLIES[language]
            session.add(
                Message(
                    shop_id=shop.id,
                    ticket_id=ticket.id,
                    author_type=author,
                    agent_id=agent,
                    body=replies[0],
                    created_at=answered,
                )
            )
            if done is not None:
                session.add(
                    Message(
                        shop_id=shop.id,
                        ticket_id=ticket.id,
                        author_type=author,
                        agent_id=agent,
                        body=replies[1],
                        created_at=done,
                    )
                )
                if not reopened and rng.random() < 0.45 and done + timedelta(hours=1) < moment:
                    session.add(
                        CsatSurvey(
                            shop_id=shop.id,
                            ticket_id=ticket.id,
                            channel=channel,
                            language=language,
                            agent_id=agent,
                            by_bot=by_bot,
                            token_digest=token_digest(secrets.token_urlsafe(24)),
                            resolved_at=done,
                            sent_at=done + timedelta(hours=1),
                            score=rng.choices((None, 1, 2, 3, 4, 5), weights=(30, 3, 5, 12, 30, 40))[0],
                            answered_at=done + timedelta(hours=2),
                        )
                    )
            made += 1
    await session.flush()
    return made
