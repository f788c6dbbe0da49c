"""After an action is sent: Shopify's webhook confirms it (``webhook_confirmed_at``, audited, shown on the
card), and an approval nobody decided in time is expired by the scheduled sweep (audited, on the ticket)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.actions.flow import confirm_action, decide_approval, preview_action
from shop_app.actions.upkeep import expire_approvals
from shop_app.database import transaction
from shop_app.errors import Conflict
from shop_app.jobs.tasks import run_notices
from shop_app.mirror.webhooks.action_confirmations import confirm_from_webhook
from shop_app.models import ActionKind, ActionStatus, OrderAction, OrderActionEvent
from shop_app.models.base import utcnow
from tests.actions.test_order_actions import JP_ADDRESS, Desk, _refundable
from tests.test_install_against_devstore import OTHER_SHOP, SHOP

pytestmark = pytest.mark.anyio


async def _action(desk: Desk, action_id: int | None) -> OrderAction:
    async with desk.services.sessions() as session:
        found: OrderAction = await session.get_one(OrderAction, action_id)
        return found


async def _kinds(desk: Desk, action_id: int | None) -> list[str]:
    async with desk.services.sessions() as session:
        statement = select(OrderActionEvent).where(col(OrderActionEvent.action_id) == action_id)
        return [e.kind for e in (await session.execute(statement)).scalars()]


async def _act(desk: Desk, kind: ActionKind, parameters: dict[str, Any], order_id: int) -> OrderAction:
    shop = desk.shops[SHOP]
    requester = desk.people["admin"]
    previewed = await preview_action(
        desk.services, shop=shop, requester=requester, order_id=order_id, kind=kind, parameters=parameters
    )
    done = await confirm_action(desk.services, shop=shop, requester=requester, token=previewed.token)
    assert done.status == ActionStatus.APPLIED, (kind, done.errors)
    return done


async def test_each_actions_webhook_confirms_it(desk: Desk) -> None:
    # given: one order's hold, release, note, tag, address, refund; another's cancellation
    order, line = await _refundable(desk)
    done = [
        await _act(desk, kind, parameters, order.shopify_id)
        for kind, parameters in (
            (ActionKind.HOLD, {"reason": "INCORRECT_ADDRESS"}),
            (ActionKind.RELEASE_HOLD, {}),
            (ActionKind.NOTE, {"note": "置き配希望"}),
            (ActionKind.TAG, {"tags": ["要確認"]}),
            (ActionKind.ADDRESS, JP_ADDRESS),
            (ActionKind.REFUND, {"lines": [{"line_item_id": line.shopify_id, "quantity": 1}]}),
        )
    ]
    other = next(o for o in await desk.orders(fulfillment_status="UNFULFILLED") if o.id != order.id)
    done.append(await _act(desk, ActionKind.CANCEL, {"reason": "CUSTOMER"}, other.shopify_id))

    # when: the store's webhooks arrive and are processed
    async def all_confirmed() -> bool:
        return all([(await _action(desk, a.id)).webhook_confirmed_at is not None for a in done])

    await desk.world.until(all_confirmed)
    # then: each is confirmed once, audited with its topic
    for action in done:
        assert (await _kinds(desk, action.id)).count("webhook_confirmed") == 1, action.kind


async def test_a_webhook_confirms_only_its_own_shops_matching_action(desk: Desk) -> None:
    order, _ = await _refundable(desk)
    note = await _act(desk, ActionKind.NOTE, {"note": "置き配希望"}, order.shopify_id)
    shop_id = desk.shops[SHOP].id or 0
    other_shop_id = desk.shops[OTHER_SHOP].id or 0
    later = utcnow() + timedelta(seconds=1)
    async with transaction(desk.services.sessions) as session:
        # another shop's delivery naming the same order id, and an update showing another note
        assert await confirm_from_webhook(
            session, shop_id=other_shop_id, topic="orders/updated",
            payload={"id": order.shopify_id, "note": "置き配希望"}, now=later,
        ) == []  # fmt: skip
        assert await confirm_from_webhook(
            session, shop_id=shop_id, topic="orders/updated",
            payload={"id": order.shopify_id, "note": "別のメモ"}, now=later,
        ) == []  # fmt: skip
        assert await confirm_from_webhook(
            session, shop_id=shop_id, topic="orders/cancelled", payload={"id": order.shopify_id}, now=later
        ) == []  # fmt: skip
        assert await confirm_from_webhook(
            session, shop_id=shop_id, topic="orders/updated",
            payload={"id": order.shopify_id, "note": "置き配希望"}, now=later,
        ) in ([note.id], [])  # fmt: skip  # [] when the store's own webhook was processed first
    assert (await _action(desk, note.id)).webhook_confirmed_at is not None
    assert (await _kinds(desk, note.id)).count("webhook_confirmed") == 1


async def _waiting(desk: Desk, ticket_id: int) -> OrderAction:
    await desk.set_policy(approval_amount="1", approval_hours=2)
    order, line = await _refundable(desk)
    shop = desk.shops[SHOP]
    agent = desk.people["agent"]
    previewed = await preview_action(
        desk.services, shop=shop, requester=agent, order_id=order.shopify_id, kind=ActionKind.REFUND,
        parameters={"lines": [{"line_item_id": line.shopify_id, "quantity": 1}]}, ticket_id=ticket_id,
    )  # fmt: skip
    waiting = await confirm_action(desk.services, shop=shop, requester=agent, token=previewed.token)
    assert waiting.status == ActionStatus.AWAITING_APPROVAL
    return waiting


async def test_the_sweep_expires_an_undecided_approval_and_the_requester_sees_it(desk: Desk) -> None:
    # given
    ticket_id = await desk.ticket()
    waiting = await _waiting(desk, ticket_id)
    # when: swept before the deadline, then after it
    before = await expire_approvals(desk.services, now=utcnow() + timedelta(hours=1))
    after = await expire_approvals(desk.services, now=utcnow() + timedelta(hours=3))
    again = await expire_approvals(desk.services, now=utcnow() + timedelta(hours=4))
    # then
    assert before == [] and after == [waiting.id] and again == []
    assert (await _action(desk, waiting.id)).status == ActionStatus.APPROVAL_EXPIRED
    assert (await _kinds(desk, waiting.id))[-1] == "approval_expired"
    notes = await desk.notes(ticket_id)
    assert notes[-1].startswith("承認期限切れ")
    with pytest.raises(Conflict):
        await decide_approval(
            desk.services, shop=desk.shops[SHOP], decider=desk.people["admin"], action_id=waiting.id or 0,
            approve=True,
        )  # fmt: skip
    assert await desk.applied() == {}


async def test_the_scheduled_task_runs_the_sweep(desk: Desk) -> None:
    ticket_id = await desk.ticket()
    waiting = await _waiting(desk, ticket_id)
    async with transaction(desk.services.sessions) as session:
        row = await session.get_one(OrderAction, waiting.id)
        row.expires_at = utcnow() - timedelta(minutes=1)
    await run_notices(desk.services)
    assert (await _action(desk, waiting.id)).status == ActionStatus.APPROVAL_EXPIRED
