"""The bot's self-service cancellation and address change, against the simulated store: restated in the
shopper's language, done only after an explicit yes through the agents' idempotent path (counted on the
store's side), and every refusal handed to a person with the preview on the ticket."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from shop_app.actions.self_service import BUTTON_PREFIX, BotStep, Step, answer, offer, reading
from shop_app.models import ActionEventKind, ActionKind, ActionStatus, Order, OrderActionEvent
from tests.actions.test_order_actions import JP_ADDRESS, Desk, _refundable
from tests.test_install_against_devstore import SHOP

pytestmark = pytest.mark.anyio
CANCEL = {"reason": "CUSTOMER", "restock": True, "refund_to": "original"}


def _soon(order: Order) -> datetime:
    return order.created_at + timedelta(minutes=10)


async def _events(desk: Desk, action_id: int | None) -> list[str]:
    async with desk.services.sessions() as session:
        statement = select(OrderActionEvent).where(
            col(OrderActionEvent.action_id) == action_id,
            # Shopify's webhook confirms an applied action whenever it arrives (tested on its own)
            col(OrderActionEvent.kind) != ActionEventKind.WEBHOOK_CONFIRMED,
        )
        return [e.kind for e in (await session.execute(statement)).scalars()]


async def _offer(
    desk: Desk,
    order: Order,
    ticket_id: int,
    kind: ActionKind = ActionKind.CANCEL,
    *,
    parameters: dict[str, Any] | None = None,
    verified: bool = True,
    language: str = "ja",
    now: datetime | None = None,
) -> BotStep:
    return await offer(
        desk.services, shop=desk.shops[SHOP], ticket_id=ticket_id, order_id=order.shopify_id, kind=kind,
        parameters=dict(CANCEL if parameters is None else parameters), verified=verified, language=language,
        now=now or _soon(order),
    )  # fmt: skip


async def test_a_verified_shopper_cancels_after_saying_yes_and_a_replayed_yes_acts_once(desk: Desk) -> None:
    # given
    await desk.set_policy(bot_cancel=True, bot_window_minutes=120)
    order, line = await _refundable(desk)
    ticket_id = await desk.ticket()
    shop = desk.shops[SHOP]
    # when
    offered = await _offer(desk, order, ticket_id)
    # then: restated in Japanese with the order, the item and the refund, and nothing done yet
    assert offered.step == Step.CONFIRM and offered.action is not None
    assert order.name in offered.reply and line.title in offered.reply and "返金" in offered.reply
    assert "￥" in offered.reply or "円" in offered.reply
    assert [label for label, _ in offered.buttons] == ["はい", "いいえ"]
    assert await desk.applied() == {}
    # when: the yes button, then the same yes again
    done = await answer(desk.services, shop=shop, ticket_id=ticket_id, button=offered.buttons[0][1],
                        language="ja", now=_soon(order))  # fmt: skip
    again = await answer(desk.services, shop=shop, ticket_id=ticket_id, text="はい", language="ja")
    # then
    assert done is not None and done.step == Step.DONE and "キャンセルしました" in done.reply
    assert again is None  # nothing waits any more
    assert await desk.applied() == {"orderCancel": 1}
    assert (await desk.order(order.shopify_id)).cancelled_at is not None
    assert await _events(desk, offered.action.id) == [
        ActionEventKind.PREVIEWED, ActionEventKind.SHOPPER_CONFIRMED, ActionEventKind.APPLIED
    ]  # fmt: skip


async def test_an_address_change_reads_the_japanese_address_back_and_is_done_on_a_typed_yes(
    desk: Desk,
) -> None:
    await desk.set_policy(bot_address=True)
    order, _ = await _refundable(desk)
    ticket_id = await desk.ticket()
    offered = await _offer(desk, order, ticket_id, ActionKind.ADDRESS, parameters=JP_ADDRESS)
    assert offered.step == Step.CONFIRM
    assert "〒530-0001" in offered.reply and "大阪府大阪市北区梅田1-1-1" in offered.reply
    done = await answer(desk.services, shop=desk.shops[SHOP], ticket_id=ticket_id, text="ＹＥＳ！",
                        language="ja", now=_soon(order))  # fmt: skip
    assert done is not None and done.step == Step.DONE
    assert await desk.applied() == {"orderUpdate": 1}
    mirrored = await desk.order(order.shopify_id)
    assert mirrored.shipping_address is not None and mirrored.shipping_address.get("zip") == "530-0001"


async def test_a_postcode_outside_the_prefecture_is_unclear_and_handed_off(desk: Desk) -> None:
    await desk.set_policy(bot_address=True)
    order, _ = await _refundable(desk)
    ticket_id = await desk.ticket()
    step = await _offer(desk, order, ticket_id, ActionKind.ADDRESS,
                        parameters={**JP_ADDRESS, "province_code": "JP-13"})  # fmt: skip
    assert step.step == Step.HANDOFF and step.reason == "unclear"
    assert any("不明確" in note for note in await desk.notes(ticket_id))
    assert await desk.applied() == {}


@pytest.mark.parametrize(
    ("policy", "verified", "later", "reason"),
    [
        ({"bot_cancel": True}, False, 0, "not_verified"),
        ({"bot_cancel": False}, True, 0, "switched_off"),
        ({"bot_cancel": True, "bot_window_minutes": 120}, True, 121, "outside_window"),
        ({"bot_cancel": True, "approval_amount": "1"}, True, 0, "over_limit"),
    ],
)
async def test_refusals_hand_off_with_the_reason_and_never_act(
    desk: Desk, policy: dict[str, Any], verified: bool, later: int, reason: str
) -> None:
    await desk.set_policy(**policy)
    order, _ = await _refundable(desk)
    ticket_id = await desk.ticket()
    step = await _offer(desk, order, ticket_id, verified=verified,
                        now=order.created_at + timedelta(minutes=10 + later))  # fmt: skip
    assert step.step == Step.HANDOFF and step.reason == reason
    notes = await desk.notes(ticket_id)
    assert notes and notes[-1].startswith("ボットは自動で実行しませんでした")
    if reason in {"outside_window", "over_limit"}:  # the preview is ready for the agent
        assert step.action is not None and "プレビュー" in notes[-1]
        assert step.action.status != ActionStatus.PREVIEWED or (await _events(desk, step.action.id))
    assert await answer(desk.services, shop=desk.shops[SHOP], ticket_id=ticket_id, text="はい",
                        language="ja") is None  # fmt: skip
    assert await desk.applied() == {}


async def test_a_fulfilled_order_is_handed_off_with_its_preview(desk: Desk) -> None:
    await desk.set_policy(bot_cancel=True, bot_window_minutes=7 * 24 * 60)
    order = next(
        o for o in await desk.orders() if o.fulfillment_status in {"FULFILLED", "PARTIALLY_FULFILLED"}
    )
    ticket_id = await desk.ticket()
    step = await _offer(desk, order, ticket_id, language="en")
    assert step.step == Step.HANDOFF and step.reason == "fulfilled"
    assert step.reply == "A member of our team will take care of this and reply here."
    assert await desk.applied() == {}


async def test_a_no_changes_nothing_and_an_unclear_answer_hands_off(desk: Desk) -> None:
    await desk.set_policy(bot_cancel=True)
    order, _ = await _refundable(desk)
    shop = desk.shops[SHOP]
    first, second = await desk.ticket(), await desk.ticket()
    said_no = await _offer(desk, order, first, language="en")
    declined = await answer(desk.services, shop=shop, ticket_id=first, text="No.", language="en")
    assert declined is not None and declined.step == Step.DECLINED
    assert said_no.action is not None
    assert ActionEventKind.SHOPPER_DECLINED in await _events(desk, said_no.action.id)
    assert await answer(desk.services, shop=shop, ticket_id=first, text="yes", language="en") is None
    await _offer(desk, order, second)
    unclear = await answer(desk.services, shop=shop, ticket_id=second, text="うーん、たぶん", language="ja",
                           now=_soon(order))  # fmt: skip
    assert unclear is not None and unclear.step == Step.HANDOFF and unclear.reason == "unclear"
    assert await desk.applied() == {}


async def test_another_conversations_yes_never_confirms(desk: Desk) -> None:
    await desk.set_policy(bot_cancel=True)
    order, _ = await _refundable(desk)
    shop = desk.shops[SHOP]
    mine, theirs = await desk.ticket(), await desk.ticket()
    offered = await _offer(desk, order, mine)
    assert offered.action is not None
    # the other conversation types yes and presses this action's button: nothing waits there
    assert await answer(desk.services, shop=shop, ticket_id=theirs, text="はい", language="ja") is None
    assert await answer(desk.services, shop=shop, ticket_id=theirs, button=offered.buttons[0][1],
                        language="ja") is None  # fmt: skip
    # a button naming another action does not confirm this one
    forged = await answer(desk.services, shop=shop, ticket_id=mine,
                          button=f"{BUTTON_PREFIX}:{(offered.action.id or 0) + 1}:yes", language="ja")  # fmt: skip
    assert forged is not None and forged.step == Step.HANDOFF
    assert await desk.applied() == {}


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40))
def test_only_an_explicit_yes_reads_as_yes(text: str) -> None:
    said = reading(text)
    if said == "yes":
        import unicodedata

        core = unicodedata.normalize("NFKC", text).strip().lower().rstrip(" 。．.!！?？、,")
        assert core in {"yes", "y", "ok", "okay", "confirm", "yes please", "はい", "はい、お願いします",
                        "お願いします"}  # fmt: skip


def test_typed_answers() -> None:
    assert [reading(t) for t in ("はい", "はい。", "Yes!", "ｙｅｓ", "いいえ", "no", "yes but", "")] == [
        "yes", "yes", "yes", "yes", "no", "no", "unclear", "unclear"
    ]  # fmt: skip
    assert Decimal("1") > 0
