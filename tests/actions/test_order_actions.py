"""Order actions end to end: the app installed into the simulated store, its mirror imported, agents of
two shops acting on orders. Doubles are counted on the store's side (``/_devstore/mutations/{shop}``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from shop_app.actions.flow import Requester, action_id_of, confirm_action, decide_approval, preview_action
from shop_app.actions.flow import _variables as action_variables
from shop_app.actions.policy import load_policy, save_policy
from shop_app.actions.shopify_calls import send
from shop_app.database import transaction
from shop_app.errors import Conflict, Forbidden, NotFound, Unprocessable
from shop_app.helpdesk.agents import add_membership, create_agent
from shop_app.helpdesk.contacts import ContactDetails, find_or_create_contact
from shop_app.helpdesk.tickets import open_ticket
from shop_app.models import (
    ActionKind,
    ActionStatus,
    AuthorType,
    Channel,
    Message,
    Order,
    OrderAction,
    OrderActionEvent,
    OrderLineItem,
    Role,
    Shop,
)
from shop_app.models.base import utcnow
from shop_app.runtime import admin_client
from shop_app.settings import Settings
from tests.test_install_against_devstore import OTHER_SHOP, SHOP, STORE_HOST, World, world

pytestmark = pytest.mark.anyio
WRITE_SCOPES = ",write_orders,write_merchant_managed_fulfillment_orders"


@dataclass
class Desk:
    world: World
    shops: dict[str, Shop] = field(default_factory=dict)
    people: dict[str, Requester] = field(default_factory=dict)

    @property
    def services(self) -> Any:
        return self.world.services

    async def applied(self, shop: str = SHOP) -> dict[str, int]:
        answer = await self.world.browser.get(f"http://{STORE_HOST}/_devstore/mutations/{shop}")
        counts: dict[str, int] = answer.json()
        return counts

    async def orders(self, shop: str = SHOP, **wanted: Any) -> list[Order]:
        async with self.services.sessions() as session:
            statement = select(Order).where(
                Order.shop_id == self.shops[shop].id, Order.cancelled_at.is_(None)
            )  # type: ignore[union-attr]
            rows = list((await session.execute(statement)).scalars())
        return [o for o in rows if all(getattr(o, key) == value for key, value in wanted.items())]

    async def order(self, order_id: int, shop: str = SHOP) -> Order:
        async with self.services.sessions() as session:
            statement = select(Order).where(
                Order.shop_id == self.shops[shop].id, Order.shopify_id == order_id
            )
            return (await session.execute(statement)).scalars().one()

    async def lines(self, order: Order) -> list[OrderLineItem]:
        async with self.services.sessions() as session:
            statement = select(OrderLineItem).where(OrderLineItem.order_id == order.id)
            return list((await session.execute(statement)).scalars())

    async def ticket(self, shop: str = SHOP) -> int:
        async with transaction(self.services.sessions) as session:
            contact = await find_or_create_contact(
                session, shop=self.shops[shop], details=ContactDetails(name="花子", email="hanako@example.jp")
            )
            ticket, _ = await open_ticket(
                session,
                shop=self.shops[shop],
                contact=contact,
                channel=Channel.WEB_CHAT,
                subject="返金",
                first_message="返金してください",
            )
            assert ticket.id is not None
            return ticket.id

    async def notes(self, ticket_id: int) -> list[str]:
        async with self.services.sessions() as session:
            statement = select(Message).where(
                Message.ticket_id == ticket_id, Message.author_type == AuthorType.NOTE
            )
            return [m.body for m in (await session.execute(statement)).scalars()]

    async def set_policy(self, shop: str = SHOP, **values: Any) -> None:
        async with transaction(self.services.sessions) as session:
            policy = await load_policy(session, shop_id=self.shops[shop].id or 0)
            for key, value in values.items():
                setattr(policy, key, value)
            await save_policy(session, policy=policy)


@pytest.fixture
async def desk(settings: Settings, tmp_path: Any) -> AsyncIterator[Desk]:
    async with world(settings, tmp_path / "store") as running:
        for domain in (SHOP, OTHER_SHOP):
            page = await running.browser.get("https://app.test/auth/install", params={"shop": domain})
            assert page.status_code == 200
        await running.jobs.drain()
        found = Desk(world=running)
        async with transaction(running.services.sessions) as session:
            for domain in (SHOP, OTHER_SHOP):
                shop = (await session.execute(select(Shop).where(Shop.domain == domain))).scalars().one()
                shop.scopes += WRITE_SCOPES  # the merchant granted the optional scopes
                shop.primary_locale = "ja" if domain == SHOP else "en"
                found.shops[domain] = shop
            for name, domain, role in (
                ("admin", SHOP, Role.ADMIN),
                ("second_admin", SHOP, Role.ADMIN),
                ("agent", SHOP, Role.AGENT),
                ("other_admin", OTHER_SHOP, Role.ADMIN),
            ):
                agent = await create_agent(
                    session, email=f"{name}@{domain}", name=name, password="pw-0123456789"
                )
                await add_membership(session, shop=found.shops[domain], agent=agent, role=role)
                found.people[name] = Requester(role=role, agent_id=agent.id)
        yield found


async def _refundable(desk: Desk) -> tuple[Order, OrderLineItem]:
    for order in await desk.orders(financial_status="PAID", fulfillment_status="UNFULFILLED"):
        lines = await desk.lines(order)
        if lines:
            return order, lines[0]
    raise AssertionError("no paid unfulfilled order in the store")


async def test_an_agent_refunds_one_line_once_though_confirming_twice(desk: Desk) -> None:
    # given
    order, line = await _refundable(desk)
    ticket_id = await desk.ticket()
    agent = desk.people["agent"]
    # when
    previewed = await preview_action(
        desk.services,
        shop=desk.shops[SHOP],
        requester=agent,
        order_id=order.shopify_id,
        kind=ActionKind.REFUND,
        parameters={"lines": [{"line_item_id": line.shopify_id, "quantity": 1}], "restock": True},
        ticket_id=ticket_id,
    )
    first = await confirm_action(desk.services, shop=desk.shops[SHOP], requester=agent, token=previewed.token)
    second = await confirm_action(
        desk.services, shop=desk.shops[SHOP], requester=agent, token=previewed.token
    )
    # then
    assert Decimal(previewed.action.amount or "0") == Decimal(line.unit_price or "0")
    assert previewed.action.preview["order"]["lines"][0]["quantity"] == 1
    assert first.status == second.status == ActionStatus.APPLIED
    assert await desk.applied() == {"refundCreate": 1}
    mirrored = await desk.order(order.shopify_id)
    assert Decimal(mirrored.total_refunded or "0") == Decimal(line.unit_price or "0")
    assert mirrored.financial_status == "PARTIALLY_REFUNDED"
    [note] = await desk.notes(ticket_id)
    assert note.startswith("Shopifyで実行しました：返金・" + order.name)
    async with desk.services.sessions() as session:
        kinds = [e.kind for e in (await session.execute(select(OrderActionEvent))).scalars()]
    # Shopify's webhook confirms the refund whenever it arrives (tested on its own): not part of this order
    assert [kind for kind in kinds if kind != "webhook_confirmed"] == ["previewed", "confirmed", "applied"]


async def test_a_crash_after_sending_is_resent_with_the_same_key_and_acts_once(desk: Desk) -> None:
    order, line = await _refundable(desk)
    agent = desk.people["agent"]
    shop = desk.shops[SHOP]
    previewed = await preview_action(
        desk.services,
        shop=shop,
        requester=agent,
        order_id=order.shopify_id,
        kind=ActionKind.REFUND,
        parameters={"lines": [{"line_item_id": line.shopify_id, "quantity": 1}]},
    )
    action = previewed.action
    # the process sent the mutation and died before it recorded Shopify's answer
    async with transaction(desk.services.sessions) as session:
        row = await session.get_one(OrderAction, action.id)
        row.status = ActionStatus.SENDING
    await send(
        admin_client(desk.services, shop),
        action.kind,
        key=action.idempotency_key,
        variables=action_variables(action),
    )
    done = await confirm_action(desk.services, shop=shop, requester=agent, token=previewed.token)
    assert done.status == ActionStatus.APPLIED
    assert await desk.applied() == {"refundCreate": 1}


async def test_shopifys_refusal_is_recorded_in_words_on_the_timeline(desk: Desk) -> None:
    order = next(
        o for o in await desk.orders() if o.fulfillment_status in {"FULFILLED", "PARTIALLY_FULFILLED"}
    )
    ticket_id = await desk.ticket()
    admin = desk.people["admin"]
    previewed = await preview_action(
        desk.services, shop=desk.shops[SHOP], requester=admin, order_id=order.shopify_id,
        kind=ActionKind.CANCEL, parameters={"reason": "CUSTOMER", "restock": True}, ticket_id=ticket_id,
    )  # fmt: skip
    assert "fulfilled" in previewed.action.preview["warnings"]
    done = await confirm_action(desk.services, shop=desk.shops[SHOP], requester=admin, token=previewed.token)
    assert done.status == ActionStatus.REJECTED
    assert done.errors == ["Cannot cancel an order that has fulfillments"]
    [note] = await desk.notes(ticket_id)
    assert note.startswith("Shopifyが受け付けませんでした：注文をキャンセル")
    assert "Shopifyの回答：Cannot cancel an order that has fulfillments" in note
    assert await desk.applied() == {}


async def test_an_admin_cancels_an_unfulfilled_order_and_the_mirror_follows(desk: Desk) -> None:
    order, _ = await _refundable(desk)
    admin = desk.people["admin"]
    previewed = await preview_action(
        desk.services, shop=desk.shops[SHOP], requester=admin, order_id=order.shopify_id,
        kind=ActionKind.CANCEL, parameters={"reason": "CUSTOMER", "restock": True, "refund_to": "original"},
    )  # fmt: skip
    assert Decimal(previewed.action.amount or "0") == Decimal(order.total_price or "0")
    done = await confirm_action(desk.services, shop=desk.shops[SHOP], requester=admin, token=previewed.token)
    assert done.status == ActionStatus.APPLIED
    mirrored = await desk.order(order.shopify_id)
    assert mirrored.cancelled_at is not None and mirrored.financial_status == "REFUNDED"
    assert await desk.applied() == {"orderCancel": 1}


async def test_an_agent_without_the_right_is_refused_before_anything_is_asked(desk: Desk) -> None:
    order, _ = await _refundable(desk)
    with pytest.raises(Forbidden) as refused:
        await preview_action(
            desk.services, shop=desk.shops[SHOP], requester=desk.people["agent"], order_id=order.shopify_id,
            kind=ActionKind.CANCEL, parameters={},
        )  # fmt: skip
    assert refused.value.code == "action_not_allowed"


async def test_without_the_write_scope_the_actions_are_refused(desk: Desk) -> None:
    order, _ = await _refundable(desk)
    shop = desk.shops[SHOP]
    shop.scopes = shop.scopes.replace(WRITE_SCOPES, "")
    with pytest.raises(Forbidden) as refused:
        await preview_action(
            desk.services, shop=shop, requester=desk.people["admin"], order_id=order.shopify_id,
            kind=ActionKind.NOTE, parameters={"note": "x"},
        )  # fmt: skip
    assert refused.value.code == "scope_missing"


async def test_another_shops_order_and_action_are_not_found(desk: Desk) -> None:
    theirs, _ = (await desk.orders(OTHER_SHOP))[0], None
    with pytest.raises(NotFound):
        await preview_action(
            desk.services, shop=desk.shops[SHOP], requester=desk.people["admin"], order_id=theirs.shopify_id,
            kind=ActionKind.NOTE, parameters={"note": "x"},
        )  # fmt: skip
    order, _ = await _refundable(desk)
    mine = await preview_action(
        desk.services, shop=desk.shops[SHOP], requester=desk.people["admin"], order_id=order.shopify_id,
        kind=ActionKind.NOTE, parameters={"note": "x"},
    )  # fmt: skip
    with pytest.raises(NotFound):
        await confirm_action(
            desk.services, shop=desk.shops[OTHER_SHOP], requester=desk.people["other_admin"], token=mine.token
        )
    assert await desk.applied() == {}


async def test_a_token_is_bound_to_its_requester_and_expires(desk: Desk) -> None:
    order, _ = await _refundable(desk)
    shop = desk.shops[SHOP]
    mine = await preview_action(
        desk.services, shop=shop, requester=desk.people["agent"], order_id=order.shopify_id,
        kind=ActionKind.TAG, parameters={"tags": ["VIP"]},
    )  # fmt: skip
    with pytest.raises(Forbidden):
        await confirm_action(desk.services, shop=shop, requester=desk.people["admin"], token=mine.token)
    forged = mine.token[:-1] + ("0" if mine.token[-1] != "0" else "1")
    with pytest.raises(Forbidden):
        await confirm_action(desk.services, shop=shop, requester=desk.people["agent"], token=forged)
    with pytest.raises(Conflict):
        await confirm_action(
            desk.services, shop=shop, requester=desk.people["agent"], token=mine.token,
            confirmed_at=utcnow() + timedelta(hours=1),
        )  # fmt: skip
    assert await desk.applied() == {}


async def test_a_refund_over_the_limit_waits_for_another_admin(desk: Desk) -> None:
    # given: approval above 1 (any refund)
    await desk.set_policy(approval_amount="1")
    order, line = await _refundable(desk)
    shop = desk.shops[SHOP]
    admin = desk.people["admin"]
    previewed = await preview_action(
        desk.services, shop=shop, requester=admin, order_id=order.shopify_id, kind=ActionKind.REFUND,
        parameters={"lines": [{"line_item_id": line.shopify_id, "quantity": 1}]},
    )  # fmt: skip
    # when confirmed, it waits
    waiting = await confirm_action(desk.services, shop=shop, requester=admin, token=previewed.token)
    assert waiting.status == ActionStatus.AWAITING_APPROVAL
    assert await desk.applied() == {}
    # then: never by the requester, never by an agent, never by another shop's admin
    for decider, error in (
        (admin, Forbidden),
        (desk.people["agent"], Forbidden),
    ):
        with pytest.raises(error):
            await decide_approval(
                desk.services, shop=shop, decider=decider, action_id=waiting.id or 0, approve=True
            )
    with pytest.raises(NotFound):
        await decide_approval(
            desk.services, shop=desk.shops[OTHER_SHOP], decider=desk.people["other_admin"],
            action_id=waiting.id or 0, approve=True,
        )  # fmt: skip
    approved = await decide_approval(
        desk.services, shop=shop, decider=desk.people["second_admin"], action_id=waiting.id or 0, approve=True
    )
    assert approved.status == ActionStatus.APPLIED
    assert approved.decided_by_agent_id == desk.people["second_admin"].agent_id
    assert await desk.applied() == {"refundCreate": 1}
    with pytest.raises(Conflict):
        await decide_approval(
            desk.services,
            shop=shop,
            decider=desk.people["second_admin"],
            action_id=waiting.id or 0,
            approve=True,
        )


async def test_a_refused_approval_never_reaches_shopify(desk: Desk) -> None:
    await desk.set_policy(approval_amount="1")
    order, line = await _refundable(desk)
    shop = desk.shops[SHOP]
    agent = desk.people["agent"]
    previewed = await preview_action(
        desk.services, shop=shop, requester=agent, order_id=order.shopify_id, kind=ActionKind.REFUND,
        parameters={"lines": [{"line_item_id": line.shopify_id, "quantity": 1}]},
    )  # fmt: skip
    waiting = await confirm_action(desk.services, shop=shop, requester=agent, token=previewed.token)
    refused = await decide_approval(
        desk.services, shop=shop, decider=desk.people["admin"], action_id=waiting.id or 0, approve=False
    )
    assert refused.status == ActionStatus.REFUSED
    again = await confirm_action(desk.services, shop=shop, requester=agent, token=previewed.token)
    assert again.status == ActionStatus.REFUSED
    assert await desk.applied() == {}


JP_ADDRESS = {"address1": "梅田1-1-1", "city": "大阪市北区", "zip": "530-0001", "country_code": "JP"}


async def test_a_japanese_address_is_checked_against_its_prefecture_then_changed(desk: Desk) -> None:
    order, _ = await _refundable(desk)
    shop = desk.shops[SHOP]
    agent = desk.people["agent"]
    with pytest.raises(Unprocessable) as wrong:
        await preview_action(
            desk.services, shop=shop, requester=agent, order_id=order.shopify_id, kind=ActionKind.ADDRESS,
            parameters={**JP_ADDRESS, "province_code": "JP-13"},
        )  # fmt: skip
    assert wrong.value.code == "postcode_prefecture"
    previewed = await preview_action(
        desk.services, shop=shop, requester=agent, order_id=order.shopify_id, kind=ActionKind.ADDRESS,
        parameters=JP_ADDRESS,
    )  # fmt: skip
    assert previewed.action.parameters["province_code"] == "JP-27"
    assert previewed.action.preview["address_lines"][:2] == ["〒530-0001", "大阪府大阪市北区梅田1-1-1"]
    done = await confirm_action(desk.services, shop=shop, requester=agent, token=previewed.token)
    assert done.status == ActionStatus.APPLIED
    mirrored = await desk.order(order.shopify_id)
    assert mirrored.shipping_address is not None and mirrored.shipping_address.get("zip") == "530-0001"


async def test_hold_release_note_and_tag(desk: Desk) -> None:
    order, _ = await _refundable(desk)
    shop = desk.shops[SHOP]
    agent = desk.people["agent"]
    for kind, parameters in (
        (ActionKind.HOLD, {"reason": "INCORRECT_ADDRESS", "notes": "住所確認中"}),
        (ActionKind.RELEASE_HOLD, {}),
        (ActionKind.NOTE, {"note": "置き配希望"}),
        (ActionKind.TAG, {"tags": ["要確認"]}),
    ):
        previewed = await preview_action(
            desk.services,
            shop=shop,
            requester=agent,
            order_id=order.shopify_id,
            kind=kind,
            parameters=parameters,
        )
        done = await confirm_action(desk.services, shop=shop, requester=agent, token=previewed.token)
        assert done.status == ActionStatus.APPLIED, (kind, done.errors)
    mirrored = await desk.order(order.shopify_id)
    assert mirrored.note == "置き配希望" and "要確認" in mirrored.tags
    assert await desk.applied() == {
        "fulfillmentOrderHold": 1,
        "fulfillmentOrderReleaseHold": 1,
        "orderUpdate": 1,
        "tagsAdd": 1,
    }


async def test_a_bot_refunds_through_the_api_and_sees_why_actions_are_hidden(desk: Desk) -> None:
    from shop_app.helpdesk.api_keys import create_api_key

    order, line = await _refundable(desk)
    async with transaction(desk.services.sessions) as session:
        _row, key = await create_api_key(session, shop=desk.shops[SHOP], name="bot")
    headers = {"Authorization": f"Bearer {key}"}
    browser = desk.world.browser
    available = await browser.get(
        f"https://app.test/api/v1/orders/{order.shopify_id}/actions", headers=headers
    )
    assert available.status_code == 200
    assert "refund" in available.json()["available"]
    assert available.json()["hidden"] == {"cancel": "action_not_allowed"}
    body = {
        "kind": "refund",
        "order_id": order.shopify_id,
        "lines": [{"line_item_id": line.shopify_id, "quantity": 1}],
    }
    preview = await browser.post(
        "https://app.test/api/v1/order-action-previews", params={"locale": "ja"}, json=body, headers=headers
    )
    assert preview.status_code == 201, preview.text
    assert preview.json()["summary"].startswith("返金・" + order.name)
    assert preview.json()["amount_text"].startswith("￥")
    # Shopify's figures formatted for the console's preview: the parts of the total and the line's own
    figures = preview.json()["amounts_text"]
    assert set(figures) == {"subtotal", "tax", "shipping", f"line:{line.shopify_id}"}
    assert figures[f"line:{line.shopify_id}"] == preview.json()["amount_text"]
    assert all(text.startswith("￥") for text in figures.values())
    confirmed = await browser.post(
        "https://app.test/api/v1/order-action-confirmations",
        json={"token": preview.json()["token"]},
        headers=headers,
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "applied"
    theirs = (await desk.orders(OTHER_SHOP))[0]
    missing = await browser.get(
        f"https://app.test/api/v1/orders/{theirs.shopify_id}/actions", headers=headers
    )
    assert missing.status_code == 404
    assert await desk.applied() == {"refundCreate": 1}


@given(
    head=st.one_of(
        st.integers(min_value=2**31, max_value=10**10 - 1).map(str), st.sampled_from(["0", "", "-1", "１２"])
    )
)
def test_a_confirmation_naming_no_possible_action_is_refused_before_any_lookup(head: str) -> None:
    # an id past the database's integer (or none at all) never reaches a query: PostgreSQL would refuse it
    with pytest.raises(Forbidden):
        action_id_of(f"{head}.{'0' * 64}")
