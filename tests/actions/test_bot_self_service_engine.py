"""The bot's self-service through the answer engine, against the simulated store: a shopper's message is
understood (cancel / address change), the order found and the shopper proved as for an order-status
answer, the address read from the text, the action restated after the engine's transaction, and done only
on an explicit yes (counted on the store's side). Every refusal hands off with nothing done."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.answers import Trust, answer_message
from shop_app.answers.engine import HANDOFF_TAG, Decision
from shop_app.answers.self_service import SelfServiceRequest, Stage
from shop_app.answers.self_service.turn import Turn, take_turn
from shop_app.channels.self_service import self_service_turn
from shop_app.database import transaction
from shop_app.helpdesk.contacts import ContactDetails, find_or_create_contact
from shop_app.helpdesk.tickets import open_ticket, post_message
from shop_app.models import (
    ActionStatus,
    AuthorType,
    Channel,
    DecisionAction,
    Message,
    Order,
    OrderAction,
    Ticket,
    TicketStatus,
)
from tests.actions.test_order_actions import Desk, _refundable
from tests.test_install_against_devstore import SHOP

pytestmark = pytest.mark.anyio


class Chat:
    """One shopper's conversation: each message goes through the engine, then the channel's turn."""

    def __init__(self, desk: Desk, order: Order, *, signed_in: bool = True) -> None:
        self.desk = desk
        self.order = order
        self.trust = Trust(
            storefront_customer_id=order.customer_shopify_id if signed_in else None, source="ip:203.0.113.9"
        )
        self.ticket_id: int | None = None
        self.decisions: list[Decision] = []

    async def say(self, text: str) -> Turn | None:
        shop = self.desk.shops[SHOP]
        async with transaction(self.desk.services.sessions) as session:
            if self.ticket_id is None:
                contact = await find_or_create_contact(
                    session, shop=shop, details=ContactDetails(name="花子", email="hanako@example.jp"),
                    storefront_customer_id=self.trust.storefront_customer_id,
                )  # fmt: skip
                ticket, message = await open_ticket(
                    session, shop=shop, contact=contact, channel=Channel.WEB_CHAT, subject="", first_message=text
                )  # fmt: skip
                self.ticket_id = ticket.id
            else:
                ticket = await session.get_one(Ticket, self.ticket_id)
                message = await post_message(
                    session, ticket=ticket, author_type=AuthorType.CUSTOMER, body=text
                )
            decision = await answer_message(
                session, shop=shop, ticket=ticket, message=message, trust=self.trust,
                now=self.order.created_at + timedelta(minutes=10),
            )  # fmt: skip
        self.decisions.append(decision)
        assert self.ticket_id is not None
        return await self_service_turn(
            self.desk.services, shop=shop, ticket_id=self.ticket_id, request=decision.self_service
        )

    async def ticket(self) -> Ticket:
        async with self.desk.services.sessions() as session:
            found: Ticket = await session.get_one(Ticket, self.ticket_id)
            return found

    async def actions(self) -> list[OrderAction]:
        async with self.desk.services.sessions() as session:
            statement = select(OrderAction).where(col(OrderAction.ticket_id) == self.ticket_id)
            return list((await session.execute(statement)).scalars())

    async def bot_said(self) -> list[str]:
        async with self.desk.services.sessions() as session:
            statement = select(Message).where(
                col(Message.ticket_id) == self.ticket_id, col(Message.author_type) == AuthorType.BOT
            )
            return [m.body for m in (await session.execute(statement)).scalars()]


async def _signed_order(desk: Desk) -> Order:
    for order in await desk.orders(financial_status="PAID", fulfillment_status="UNFULFILLED"):
        if order.customer_shopify_id is not None and await desk.lines(order):
            return order
    raise AssertionError("no paid unfulfilled order with a customer in the store")


async def test_a_signed_in_shopper_cancels_in_japanese_with_the_yes_button(desk: Desk) -> None:
    # given
    await desk.set_policy(bot_cancel=True)
    order = await _signed_order(desk)
    chat = Chat(desk, order)
    # when
    asked = await chat.say(f"注文{order.name}をキャンセルしたいです")
    # then: restated with the order and the refund, yes/no offered, nothing done yet
    assert asked is not None and asked.reply is not None
    assert order.name in asked.reply and "返金" in asked.reply, await desk.notes(chat.ticket_id or 0)
    assert asked.choices == [("はい", "はい"), ("いいえ", "いいえ")]
    assert chat.decisions[0].action == DecisionAction.ASK and chat.decisions[0].intent == "cancel"
    assert (await chat.ticket()).status == TicketStatus.PENDING
    assert await desk.applied() == {}
    # when: the button's word
    done = await chat.say(asked.choices[0][1])
    # then
    assert done is not None and done.reply is not None and "キャンセルしました" in done.reply
    assert await desk.applied() == {"orderCancel": 1}
    assert (await desk.order(order.shopify_id)).cancelled_at is not None
    [action] = await chat.actions()
    assert action.status == ActionStatus.APPLIED and action.by_shopper
    assert (await chat.ticket()).status == TicketStatus.RESOLVED
    assert await chat.bot_said() == [asked.reply, done.reply]


async def test_a_doubled_yes_acts_once(desk: Desk) -> None:
    await desk.set_policy(bot_cancel=True)
    order = await _signed_order(desk)
    chat = Chat(desk, order)
    await chat.say(f"Please cancel my order {order.name}")
    assert chat.ticket_id is not None
    yes = SelfServiceRequest(Stage.ANSWER, "en", text="yes")
    # the same confirmation delivered twice (a retried request)
    first = await take_turn(desk.services, shop=desk.shops[SHOP], ticket_id=chat.ticket_id, request=yes)
    second = await take_turn(desk.services, shop=desk.shops[SHOP], ticket_id=chat.ticket_id, request=yes)
    assert first.reply is not None and "cancelled" in first.reply
    assert second.step is None and second.message_id is None
    assert await desk.applied() == {"orderCancel": 1}


async def test_an_english_address_in_the_message_is_read_back_and_changed_on_a_typed_yes(desk: Desk) -> None:
    await desk.set_policy(bot_address=True)
    order = await _signed_order(desk)
    chat = Chat(desk, order)
    asked = await chat.say(
        f"I moved! Please change the shipping address of order {order.name} to 42 Oak Avenue Apt 5B, "
        "Portland, OR 97201"
    )
    assert asked is not None and asked.reply is not None
    assert "42 Oak Avenue" in asked.reply and "Portland" in asked.reply and "97201" in asked.reply
    assert asked.choices == [("Yes", "Yes"), ("No", "No")]
    done = await chat.say("Yes.")
    assert done is not None and done.reply is not None and "new address" in done.reply
    assert await desk.applied() == {"orderUpdate": 1}
    mirrored = await desk.order(order.shopify_id)
    assert mirrored.shipping_address is not None and mirrored.shipping_address.get("zip") == "97201"


async def test_the_bot_asks_for_the_address_then_checks_the_postcode(desk: Desk) -> None:
    await desk.set_policy(bot_address=True)
    order = await _signed_order(desk)
    chat = Chat(desk, order)
    asked = await chat.say(f"{order.name}の住所を変更したい")
    assert asked is not None and asked.reply is not None and "郵便番号" in asked.reply
    assert asked.choices == []
    # a postcode of another prefecture: asked again, nothing previewed
    again = await chat.say("〒530-0001 東京都大阪市北区梅田1-1-1")
    assert again is not None and again.reply is not None and "読み取れません" in again.reply
    assert await chat.actions() == []
    # then the right one: restated, postcode first
    restated = await chat.say("〒530-0001 大阪府大阪市北区梅田1-1-1 梅田ビル101です")
    assert restated is not None and restated.reply is not None
    assert "〒530-0001" in restated.reply and "大阪府大阪市北区梅田1-1-1" in restated.reply
    done = await chat.say("はい")
    assert done is not None and done.reply is not None
    assert await desk.applied() == {"orderUpdate": 1}
    mirrored = await desk.order(order.shopify_id)
    assert mirrored.shipping_address is not None and mirrored.shipping_address.get("zip") == "530-0001"


async def test_an_address_unclear_three_times_goes_to_a_person(desk: Desk) -> None:
    await desk.set_policy(bot_address=True)
    order = await _signed_order(desk)
    chat = Chat(desk, order)
    await chat.say(f"{order.name}の住所を変更したい")
    await chat.say("〒530-0001 大阪府大阪市中央区1-1")
    handed = await chat.say("〒530-0001 東京都渋谷区1-1")
    assert handed is not None and handed.reply is not None and "担当者" in handed.reply
    assert HANDOFF_TAG in (await chat.ticket()).tags
    assert await desk.applied() == {}


async def _refused(desk: Desk, order: Order, text: str, **chat: Any) -> Chat:
    talk = Chat(desk, order, **chat)
    await talk.say(text)
    assert await desk.applied() == {}
    return talk


async def test_switched_off_hands_off_and_previews_nothing(desk: Desk) -> None:
    order = await _signed_order(desk)
    chat = await _refused(desk, order, f"注文{order.name}をキャンセルしたい")
    assert chat.decisions[0].action == DecisionAction.HANDOFF
    assert await chat.actions() == []


async def test_an_unproved_shopper_is_asked_for_proof_and_nothing_is_previewed(desk: Desk) -> None:
    await desk.set_policy(bot_cancel=True)
    order = await _signed_order(desk)
    chat = await _refused(desk, order, f"Please cancel order {order.name}", signed_in=False)
    assert chat.decisions[0].action == DecisionAction.ASK
    assert chat.decisions[0].self_service is None and await chat.actions() == []
    # a wrong proof neither
    await chat.say("my email is someone-else@example.com")
    assert chat.decisions[1].self_service is None and await chat.actions() == []


async def test_outside_the_window_or_over_the_limit_hands_off_with_the_preview(desk: Desk) -> None:
    await desk.set_policy(bot_cancel=True, approval_amount="1")
    order = await _signed_order(desk)
    chat = await _refused(desk, order, f"Please cancel my order {order.name}")
    [action] = await chat.actions()
    assert action.status == ActionStatus.EXPIRED  # the preview is kept for the agent, never sent
    notes = await desk.notes(chat.ticket_id or 0)
    assert any("上限" in note for note in notes)
    assert HANDOFF_TAG in (await chat.ticket()).tags
    await desk.set_policy(bot_cancel=True, approval_amount=None, bot_window_minutes=5)
    other = Chat(desk, order)
    await other.say(f"Please cancel my order {order.name}")
    assert any("受付時間" in note for note in await desk.notes(other.ticket_id or 0))
    assert await desk.applied() == {}


async def test_a_fulfilled_order_is_handed_off(desk: Desk) -> None:
    await desk.set_policy(bot_cancel=True)
    order = next(
        o
        for o in await desk.orders()
        if o.fulfillment_status in {"FULFILLED", "PARTIALLY_FULFILLED"} and o.customer_shopify_id is not None
    )
    chat = await _refused(desk, order, f"Please cancel my order {order.name}")
    assert any("発送済み" in note for note in await desk.notes(chat.ticket_id or 0))


async def test_no_declines_and_an_unclear_answer_hands_off(desk: Desk) -> None:
    await desk.set_policy(bot_cancel=True)
    order, _ = await _refundable(desk)
    if order.customer_shopify_id is None:
        order = await _signed_order(desk)
    declined = Chat(desk, order)
    await declined.say(f"Please cancel my order {order.name}")
    said = await declined.say("No")
    assert said is not None and said.reply is not None and "nothing has been changed" in said.reply
    unclear = Chat(desk, order)
    await unclear.say(f"Please cancel my order {order.name}")
    handed = await unclear.say("hmm, what would the refund be exactly?")
    assert handed is not None and handed.reply is not None and "team" in handed.reply
    assert HANDOFF_TAG in (await unclear.ticket()).tags
    assert await desk.applied() == {}
