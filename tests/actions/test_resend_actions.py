"""Sending Shopify's emails again: the order's invoice (``orderInvoiceSend``) and a shipment's shipping
notice (``fulfillmentTrackingInfoUpdate`` with ``notifyCustomer``, its tracking unchanged), each previewed,
confirmed once however often confirmed, refused in Shopify's words, and the notice confirmed by its
``fulfillments/update`` webhook. Emails are counted on the store's side."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from integrations.shopify.graphql_resources import gid_for
from shop_app.actions.flow import confirm_action, preview_action
from shop_app.actions.shopify_calls import send
from shop_app.errors import Forbidden, Unprocessable
from shop_app.models import ActionKind, ActionStatus, Fulfillment, Order, OrderAction
from shop_app.runtime import admin_client
from tests.actions.test_order_actions import Desk, _refundable
from tests.test_install_against_devstore import SHOP

pytestmark = pytest.mark.anyio


def _emails(desk: Desk, order: Order) -> list[dict[str, Any]]:
    doc = desk.world.store.store.records.get(SHOP, gid_for("Order", order.shopify_id))
    return list(doc.get("_emailsSent") or [])


async def _shipped(desk: Desk) -> tuple[Order, Fulfillment]:
    async with desk.services.sessions() as session:
        rows = await session.execute(
            select(Order, Fulfillment)
            .join(Fulfillment, col(Fulfillment.order_id) == col(Order.id))
            .where(col(Order.shop_id) == desk.shops[SHOP].id, col(Order.email).is_not(None))
            .order_by(col(Fulfillment.id))
        )
        for order, shipment in rows:
            if any(t.get("number") for t in shipment.tracking) and shipment.status.upper() == "SUCCESS":
                return order, shipment
    raise AssertionError("no shipped order with tracking in the store")


async def test_the_invoice_email_is_sent_again_once_though_confirmed_twice(desk: Desk) -> None:
    order, _ = await _refundable(desk)
    shop = desk.shops[SHOP]
    agent = desk.people["agent"]
    previewed = await preview_action(
        desk.services, shop=shop, requester=agent, order_id=order.shopify_id, kind=ActionKind.RESEND_INVOICE,
        parameters={},
    )  # fmt: skip
    assert previewed.action.amount is None and not previewed.action.preview["needs_approval"]
    first = await confirm_action(desk.services, shop=shop, requester=agent, token=previewed.token)
    second = await confirm_action(desk.services, shop=shop, requester=agent, token=previewed.token)
    assert first.status == second.status == ActionStatus.APPLIED
    assert await desk.applied() == {"orderInvoiceSend": 1}
    assert [(e["kind"], e["to"]) for e in _emails(desk, order)] == [("invoice", order.email)]


async def test_the_shipping_email_is_sent_again_with_the_same_tracking_and_its_webhook_confirms_it(
    desk: Desk,
) -> None:
    order, shipment = await _shipped(desk)
    shop = desk.shops[SHOP]
    agent = desk.people["agent"]
    tracking = next(t for t in shipment.tracking if t.get("number"))
    previewed = await preview_action(
        desk.services, shop=shop, requester=agent, order_id=order.shopify_id, kind=ActionKind.RESEND_SHIPPING,
        parameters={},
    )  # fmt: skip
    assert previewed.action.parameters["fulfillment_id"] == shipment.shopify_id
    assert previewed.action.preview["tracking"]["number"] == tracking["number"]
    done = await confirm_action(desk.services, shop=shop, requester=agent, token=previewed.token)
    assert done.status == ActionStatus.APPLIED, done.errors
    assert await desk.applied() == {"fulfillmentTrackingInfoUpdate": 1}
    assert [e["kind"] for e in _emails(desk, order)] == ["shipping"]

    async def confirmed() -> bool:
        async with desk.services.sessions() as session:
            row = await session.get_one(OrderAction, done.id)
            return row.webhook_confirmed_at is not None

    await desk.world.until(confirmed)


async def test_an_order_without_a_shipment_is_refused_before_shopify(desk: Desk) -> None:
    order, _ = await _refundable(desk)
    with pytest.raises(Unprocessable) as refused:
        await preview_action(
            desk.services, shop=desk.shops[SHOP], requester=desk.people["agent"], order_id=order.shopify_id,
            kind=ActionKind.RESEND_SHIPPING, parameters={},
        )  # fmt: skip
    assert refused.value.code == "no_shipment"
    assert await desk.applied() == {}


async def test_shopify_refuses_an_unknown_shipment_and_an_unknown_order_in_words(desk: Desk) -> None:
    client = admin_client(desk.services, desk.shops[SHOP])
    shipment = await send(
        client, ActionKind.RESEND_SHIPPING, key="k-1",
        variables={"fulfillmentId": gid_for("Fulfillment", 999_999_999), "tracking": {"number": "123"}},
    )  # fmt: skip
    invoice = await send(
        client, ActionKind.RESEND_INVOICE, key="k-2", variables={"id": gid_for("Order", 999_999_999)}
    )
    assert not shipment.applied and shipment.errors == ["Fulfillment does not exist."]
    assert not invoice.applied and invoice.errors == ["Order does not exist"]
    assert await desk.applied() == {}


async def test_without_the_write_scope_the_resends_are_refused(desk: Desk) -> None:
    order, _ = await _refundable(desk)
    shop = desk.shops[SHOP]
    shop.scopes = ",".join(s for s in shop.scopes.split(",") if not s.startswith("write_"))
    for kind in (ActionKind.RESEND_INVOICE, ActionKind.RESEND_SHIPPING):
        with pytest.raises(Forbidden) as refused:
            await preview_action(
                desk.services, shop=shop, requester=desk.people["admin"], order_id=order.shopify_id, kind=kind,
                parameters={},
            )  # fmt: skip
        assert refused.value.code == "scope_missing"
    assert await desk.applied() == {}
