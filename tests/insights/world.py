"""A small history with every Insights figure worked out by hand (see test_measures.py).

Alpha (Asia/Tokyo, open Monday–Friday 09:00–18:00) from Sunday 1 to Tuesday 10 November 2026; Beta
(America/New_York, no hours) beside it, never to be counted in Alpha's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.models import (
    BotDecision,
    Channel,
    Contact,
    CsatSurvey,
    DecisionAction,
    Fulfillment,
    Order,
    Shop,
    Ticket,
    TicketStatus,
    Verification,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_18 = {day: {"opens": "09:00", "closes": "18:00"} for day in ("mon", "tue", "wed", "thu", "fri")}


def tokyo(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=TOKYO).astimezone(UTC)  # type: ignore[misc]


def new_york(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK).astimezone(UTC)  # type: ignore[misc]


def asked_where(*, order: int, state: str) -> dict[str, object]:
    """The bot's decision on a where-is-my-order question: it found ``order`` in ``state``."""
    return {
        "intent": "order_status",
        "order_shopify_id": order,
        "action": DecisionAction.REPLY,
        "reason": f"order {state}",
    }


def handed_over(intent: str, reason: str) -> dict[str, object]:
    """The bot's decision to hand a question of ``intent`` over to a person, for ``reason``."""
    return {"intent": intent, "action": DecisionAction.HANDOFF, "reason": reason}


@dataclass
class World:
    tickets: dict[str, int]
    agent_id: int


class Builder:
    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self.session = session
        self.shop_id = shop_id
        self.contacts: dict[str, int] = {}
        self.counter = 0

    async def contact(self, name: str, locale: str = "ja") -> int:
        if name not in self.contacts:
            row = Contact(shop_id=self.shop_id, name=name, email=f"{name}@example.com", locale=locale)
            self.session.add(row)
            await self.session.flush()
            assert row.id is not None
            self.contacts[name] = row.id
        return self.contacts[name]

    async def order(self, shopify_id: int, created: datetime, carrier: str | None = None) -> None:
        order = Order(
            shop_id=self.shop_id,
            shopify_id=shopify_id,
            name=f"#{shopify_id}",
            created_at=created,
            updated_at=created,
        )
        self.session.add(order)
        await self.session.flush()
        assert order.id is not None
        if carrier is not None:
            self.session.add(
                Fulfillment(
                    shop_id=self.shop_id,
                    shopify_id=shopify_id * 10,
                    order_id=order.id,
                    status="SUCCESS",
                    created_at=created,
                    updated_at=created,
                    tracking=[{"company": carrier, "number": "123", "url": None}],
                )
            )

    async def ticket(
        self,
        contact: str,
        channel: Channel,
        created: datetime,
        *,
        first_response: datetime | None = None,
        resolved: datetime | None = None,
        by_bot: bool = False,
        agent_id: int | None = None,
        reopened: datetime | None = None,
        decisions: tuple[dict[str, object], ...] = (),
        locale: str = "ja",
    ) -> int:
        ticket = Ticket(
            shop_id=self.shop_id,
            contact_id=await self.contact(contact, locale),
            channel=channel,
            status=TicketStatus.RESOLVED if resolved else TicketStatus.OPEN,
            assignee_id=agent_id,
            created_at=created,
            updated_at=created,
            last_message_at=created,
            first_response_at=first_response,
            resolved_at=resolved,
            resolved_by_bot=by_bot,
            reopened_at=reopened,
        )
        self.session.add(ticket)
        await self.session.flush()
        assert ticket.id is not None
        for each in decisions:
            fields: dict[str, object] = {
                "confidence": 0.9,
                "language": locale,
                "verification": Verification.NOT_NEEDED,
                "created_at": created,
                **each,
            }
            self.session.add(BotDecision(shop_id=self.shop_id, ticket_id=ticket.id, **fields))  # type: ignore[arg-type]
        await self.session.flush()
        return ticket.id

    async def survey(
        self,
        ticket_id: int,
        channel: Channel,
        sent: datetime,
        *,
        score: int | None,
        agent_id: int | None,
        by_bot: bool,
    ) -> None:
        self.counter += 1
        self.session.add(
            CsatSurvey(
                shop_id=self.shop_id,
                ticket_id=ticket_id,
                channel=channel,
                language="ja",
                agent_id=agent_id,
                by_bot=by_bot,
                token_digest=f"{self.shop_id:032x}{self.counter:032x}",
                resolved_at=sent - timedelta(hours=1),
                sent_at=sent,
                score=score,
                answered_at=sent + timedelta(minutes=5) if score is not None else None,
            )
        )


async def build(
    session: AsyncSession, *, alpha_id: int, beta_id: int, agent_id: int, beta_agent_id: int
) -> World:
    alpha = await session.get_one(Shop, alpha_id)
    alpha.iana_timezone = "Asia/Tokyo"
    alpha.business_hours = {"timezone": None, "week": WEEKDAYS_9_TO_18, "holidays": []}
    beta = await session.get_one(Shop, beta_id)
    beta.iana_timezone = "America/New_York"
    beta.business_hours = None

    a = Builder(session, alpha_id)
    await a.order(1001, tokyo(2026, 10, 30, 12, 0), carrier="Yamato")  # the previous period
    await a.order(1002, tokyo(2026, 11, 1, 0, 30))  # 31 October in UTC: Alpha's 1 November
    for shopify_id, day in ((1003, 2), (1004, 5), (1005, 9)):
        await a.order(shopify_id, tokyo(2026, 11, day, 9, 0))
    tickets: dict[str, int] = {}
    tickets["t1"] = await a.ticket(
        "c1",
        Channel.WEB_CHAT,
        tokyo(2026, 11, 2, 10, 0),
        first_response=tokyo(2026, 11, 2, 10, 0, 30),
        resolved=tokyo(2026, 11, 2, 10, 1),
        by_bot=True,
        decisions=(asked_where(order=1001, state="in_transit"),),
    )
    tickets["t2"] = await a.ticket(
        "c2",
        Channel.WEB_CHAT,
        tokyo(2026, 11, 2, 17, 30),
        first_response=tokyo(2026, 11, 3, 9, 31),
        resolved=tokyo(2026, 11, 3, 10, 30),
        agent_id=agent_id,
        locale="en",
        decisions=(handed_over("cancel", "cancel is for a person"),),
    )
    tickets["t3"] = await a.ticket(
        "c1",
        Channel.EMAIL,
        tokyo(2026, 11, 4, 12, 0),
        first_response=tokyo(2026, 11, 4, 13, 0),
        resolved=tokyo(2026, 11, 4, 14, 0),
        agent_id=agent_id,
        decisions=(asked_where(order=1001, state="delivered"),),
    )
    tickets["t4"] = await a.ticket(
        "c3",
        Channel.LINE,
        tokyo(2026, 11, 5, 20, 0),
        first_response=tokyo(2026, 11, 5, 20, 0, 10),
        reopened=tokyo(2026, 11, 5, 21, 0),
        decisions=(
            {
                "intent": "stock",
                "action": DecisionAction.REPLY,
                "reason": "stock sold_out (policy deny)",
                "product_title": "Tee",
                "variant_title": "M",
            },
        ),
    )
    tickets["t5"] = await a.ticket(
        "c4",
        Channel.WEB_CHAT,
        tokyo(2026, 11, 6, 11, 0),
        decisions=(handed_over("human", "asked for a person"),),
    )
    tickets["t6"] = await a.ticket(
        "c5",
        Channel.WEB_CHAT,
        tokyo(2026, 11, 9, 10, 0),
        first_response=tokyo(2026, 11, 9, 10, 0, 30),
        resolved=tokyo(2026, 11, 9, 10, 2),
        by_bot=True,
        decisions=(asked_where(order=1002, state="not_shipped"),),
    )
    # c5 back about the same order 7 days and 58 minutes after t6 was resolved: past the window
    tickets["t7"] = await a.ticket(
        "c5",
        Channel.WEB_CHAT,
        tokyo(2026, 11, 16, 11, 0),
        decisions=(asked_where(order=1002, state="not_shipped"),),
    )
    for name, channel, sent, score, by in (
        ("t2", Channel.WEB_CHAT, tokyo(2026, 11, 3, 12, 0), 5, agent_id),
        ("t6", Channel.WEB_CHAT, tokyo(2026, 11, 9, 11, 0), 3, None),  # the bot's
        ("t3", Channel.EMAIL, tokyo(2026, 11, 4, 15, 0), None, agent_id),
    ):
        await a.survey(tickets[name], channel, sent, score=score, agent_id=by, by_bot=by is None)

    b = Builder(session, beta_id)
    await b.order(2001, new_york(2026, 11, 3, 9, 0))
    tickets["beta"] = await b.ticket(
        "c1",  # the same name and email as Alpha's c1, in another shop
        Channel.WEB_CHAT,
        new_york(2026, 11, 3, 10, 0),
        first_response=new_york(2026, 11, 3, 10, 0, 5),
        resolved=new_york(2026, 11, 3, 10, 1),
        by_bot=True,
        decisions=(asked_where(order=2001, state="in_transit"),),
    )
    await b.survey(
        tickets["beta"],
        Channel.WEB_CHAT,
        new_york(2026, 11, 3, 11, 0),
        score=1,
        agent_id=beta_agent_id,
        by_bot=False,
    )
    await session.flush()
    return World(tickets=tickets, agent_id=agent_id)
