"""An order action from preview to Shopify's answer.

``preview_action`` asks Shopify what the action will do (a refund's amounts and taxes from
``suggestedRefund``; what a cancellation refunds), keeps it as an ``OrderAction`` and returns a confirmation
token bound to it (shop, order, action, parameters, requester, moment). ``confirm_action`` checks the token
and either waits for an admin's approval (a refund or cancellation above the shop's amount) or sends the
mutation with an ``@idempotent`` key derived from the confirmed preview, so a double click, a retry or a
crash after sending acts once. ``decide_approval`` lets an admin other than the requester approve or refuse.
Every step is an ``OrderActionEvent``; the outcome is a note on the ticket and the order is read back into
the mirror at once (its webhook confirms it later).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.shopify.graphql_resources import gid_for
from shop_app.actions import policy as rules
from shop_app.actions.addresses import (
    address_problem,
    address_text,
    postcode_place,
    postcode_prefecture,
    shopify_address,
)
from shop_app.actions.shopify_calls import Suggestion, send, suggest_refund
from shop_app.database import transaction
from shop_app.errors import Conflict, Forbidden, NotFound, Unprocessable
from shop_app.formats.display import formatter
from shop_app.helpdesk.tickets import access_ticket, post_message
from shop_app.i18n import catalogue, first_supported
from shop_app.mirror.read_back import refresh_orders
from shop_app.models import (
    ActionEventKind,
    ActionKind,
    ActionStatus,
    AuthorType,
    Fulfillment,
    Order,
    OrderAction,
    OrderActionEvent,
    Role,
    Shop,
)
from shop_app.models.base import utcnow
from shop_app.runtime import admin_client
from shop_app.schemas.tickets import MAX_ROW_ID

if TYPE_CHECKING:
    from shop_app.runtime import Services

logger = logging.getLogger(__name__)

PREVIEW_LIFETIME_SECONDS = 15 * 60
FINISHED = frozenset(
    {
        ActionStatus.APPLIED,
        ActionStatus.REJECTED,
        ActionStatus.REFUSED,
        ActionStatus.EXPIRED,
        ActionStatus.APPROVAL_EXPIRED,
    }
)


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks: a signed-in agent, an API key (a bot or helpdesk, with the agent role), or the ticket's
    verified shopper through our bot."""

    role: Role
    agent_id: int | None = None
    api_key_id: int | None = None
    by_shopper: bool = False

    @property
    def identity(self) -> str:
        if self.agent_id is not None:
            return f"agent:{self.agent_id}"
        if self.api_key_id is not None:
            return f"key:{self.api_key_id}"
        return "shopper" if self.by_shopper else "nobody"


@dataclass(frozen=True, slots=True)
class Previewed:
    action: OrderAction
    token: str


def _id(value: int | None) -> int:
    assert value is not None
    return value


def _canonical(parameters: dict[str, Any]) -> str:
    return json.dumps(parameters, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _signature(key: str, action: OrderAction, identity: str) -> str:
    message = "|".join(
        (
            str(action.shop_id),
            str(action.id),
            str(action.order_shopify_id),
            action.kind,
            _canonical(action.parameters),
            identity,
            str(int(action.created_at.timestamp())),
        )
    )
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def confirmation_token(key: str, action: OrderAction, requester: Requester) -> str:
    return f"{action.id}.{_signature(key, action, requester.identity)}"


def idempotency_key(key: str, action: OrderAction) -> str:
    """Derived from the previewed action alone: every send of this action carries the same key."""
    material = f"order-action|{action.shop_id}|{action.id}|{action.kind}|{_canonical(action.parameters)}"
    return hmac.new(key.encode(), material.encode(), hashlib.sha256).hexdigest()[:64]


def action_id_of(token: str) -> int:
    head, _, _ = token.partition(".")
    if not head.isascii() or not head.isdigit() or len(head) > 10 or not 0 < int(head) <= MAX_ROW_ID:
        raise Forbidden("The confirmation is not valid", code="invalid_confirmation")
    return int(head)


async def access_action(session: AsyncSession, *, shop_id: int, action_id: int) -> OrderAction:
    action = await session.get(OrderAction, action_id)
    if action is None or action.shop_id != shop_id:
        raise NotFound("No such action", code="action_not_found")
    return action


async def access_order(session: AsyncSession, *, shop_id: int, order_id: int) -> Order:
    statement = select(Order).where(col(Order.shop_id) == shop_id, col(Order.shopify_id) == order_id)
    order = (await session.execute(statement)).scalars().first()
    if order is None:
        raise NotFound("No such order", code="order_not_found")
    return order


def record_event(
    session: AsyncSession,
    action: OrderAction,
    kind: ActionEventKind,
    requester: Requester | None,
    detail: str = "",
) -> None:
    """Audit one step of the action: who (an agent, a key, the shopper, or the app itself) and what."""
    session.add(
        OrderActionEvent.of(
            action,
            kind,
            agent_id=requester.agent_id if requester else None,
            api_key_id=requester.api_key_id if requester else None,
            by_shopper=requester.by_shopper if requester else False,
            detail=detail,
        )
    )


def check_allowed(shop: Shop, policy: Any, kind: ActionKind, requester: Requester) -> None:
    missing = rules.missing_scope(shop, kind)
    if missing is not None:
        raise Forbidden(f"The shop has not granted {missing} yet", code="scope_missing")
    if not requester.by_shopper and not rules.allowed(policy, kind, requester.role):
        raise Forbidden("Your role may not do this action", code="action_not_allowed")


def _refund_lines(parameters: dict[str, Any], restock_type: str) -> list[dict[str, Any]]:
    return [
        {"lineItemId": gid_for("LineItem", int(line["line_item_id"])), "quantity": int(line["quantity"]),
         "restockType": restock_type}
        for line in parameters.get("lines") or []
    ]  # fmt: skip


def _restock_type(parameters: dict[str, Any], suggestion_status: str) -> str:
    if not parameters.get("restock"):
        return "NO_RESTOCK"
    return "RETURN" if suggestion_status in {"FULFILLED", "PARTIALLY_FULFILLED"} else "CANCEL"


async def _suggestion(
    services: Services, shop: Shop, kind: ActionKind, order_id: int, parameters: dict[str, Any]
) -> Suggestion:
    client = admin_client(services, shop)
    if kind == ActionKind.REFUND:
        first = await suggest_refund(client, order_id=order_id)
        if first is None:
            raise NotFound("No such order", code="order_not_found")
        restock = _restock_type(parameters, first.fulfillment_status)
        found = await suggest_refund(
            client,
            order_id=order_id,
            lines=_refund_lines(parameters, restock),
            refund_shipping=bool(parameters.get("shipping")),
        )
    else:
        found = await suggest_refund(client, order_id=order_id, full=kind == ActionKind.CANCEL)
    if found is None:
        raise NotFound("No such order", code="order_not_found")
    return found


def _normalised(kind: ActionKind, parameters: dict[str, Any], suggestion: Suggestion) -> dict[str, Any]:
    chosen = dict(parameters)
    if kind == ActionKind.ADDRESS:
        problem = address_problem(chosen)
        if problem is not None:
            raise Unprocessable(catalogue("en").text(problem), code=problem.rsplit(".", 1)[-1])
        if str(chosen.get("country_code") or "").upper() == "JP" and not chosen.get("province_code"):
            chosen["province_code"] = postcode_prefecture(str(chosen.get("zip") or ""))
    if kind in {ActionKind.HOLD, ActionKind.RELEASE_HOLD} and not chosen.get("fulfillment_order_id"):
        wanted = {"OPEN", "SCHEDULED"} if kind == ActionKind.HOLD else {"ON_HOLD"}
        candidates = [fo_id for fo_id, status in suggestion.fulfillment_orders if status in wanted]
        if not candidates:
            raise Unprocessable("No fulfillment order can be changed so", code="no_fulfillment_order")
        chosen["fulfillment_order_id"] = candidates[0]
    if kind == ActionKind.REFUND:
        chosen["restock_type"] = _restock_type(parameters, suggestion.fulfillment_status)
    return chosen


async def _shipment(session: AsyncSession, order: Order, parameters: dict[str, Any]) -> dict[str, Any]:
    """The shipment whose notice is sent again, with its tracking as the mirror has it: the one named, else
    the latest with a tracking number. Shopify sends the notice when the tracking is written again with
    ``notifyCustomer``, so the same tracking goes back unchanged."""
    statement = (
        select(Fulfillment)
        .where(col(Fulfillment.shop_id) == order.shop_id, col(Fulfillment.order_id) == order.id)
        .order_by(col(Fulfillment.created_at).desc())
    )
    wanted = parameters.get("fulfillment_id")
    for shipment in (await session.execute(statement)).scalars():
        if wanted is not None and str(shipment.shopify_id) != str(wanted):
            continue
        tracking = next((t for t in shipment.tracking if t.get("number")), None)
        if tracking is None or str(shipment.status).upper() in {"CANCELLED", "ERROR", "FAILURE"}:
            continue
        return {
            "fulfillment_id": shipment.shopify_id,
            "company": tracking.get("company"),
            "number": tracking.get("number"),
            "url": tracking.get("url"),
        }
    raise Unprocessable("The order has no shipment with a tracking number", code="no_shipment")


def _preview_of(kind: ActionKind, parameters: dict[str, Any], suggestion: Suggestion) -> dict[str, Any]:
    preview: dict[str, Any] = {"order": suggestion.as_json()}
    if kind == ActionKind.ADDRESS:
        preview["address_lines"] = address_text({**parameters, "province": _prefecture_name(parameters)})
    if kind == ActionKind.RESEND_SHIPPING:
        preview["tracking"] = {name: parameters.get(name) for name in ("company", "number", "url")}
    warnings = []
    if suggestion.cancelled:
        warnings.append("cancelled")
    if suggestion.fulfillment_status in {"FULFILLED", "PARTIALLY_FULFILLED"}:
        warnings.append("fulfilled")
    preview["warnings"] = warnings
    return preview


def _prefecture_name(parameters: dict[str, Any]) -> str:
    if str(parameters.get("country_code") or "").upper() != "JP":
        return str(parameters.get("province_code") or "")
    place = postcode_place(str(parameters.get("zip") or ""))
    return "" if place is None else place[1]


def _amount(kind: ActionKind, suggestion: Suggestion) -> Decimal | None:
    return suggestion.amount if kind in rules.MONEY_ACTIONS else None


async def preview_action(
    services: Services,
    *,
    shop: Shop,
    requester: Requester,
    order_id: int,
    kind: ActionKind,
    parameters: dict[str, Any],
    ticket_id: int | None = None,
) -> Previewed:
    shop_id = _id(shop.id)
    if requester.identity == "nobody":
        raise Forbidden("Actions are requested by an agent, an API key or the bot", code="agents_only")
    async with services.sessions() as session:
        policy = await rules.load_policy(session, shop_id=shop_id)
        order = await access_order(session, shop_id=shop_id, order_id=order_id)
        if ticket_id is not None:
            await access_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
        check_allowed(shop, policy, kind, requester)
        if kind == ActionKind.RESEND_SHIPPING:
            parameters = await _shipment(session, order, parameters)
    suggestion = await _suggestion(services, shop, kind, order_id, parameters)
    chosen = _normalised(kind, parameters, suggestion)
    amount = _amount(kind, suggestion)
    async with transaction(services.sessions) as session:
        action = OrderAction(
            shop_id=shop_id,
            ticket_id=ticket_id,
            order_shopify_id=order_id,
            order_name=order.name,
            kind=kind,
            parameters=chosen,
            preview=_preview_of(kind, chosen, suggestion),
            amount=None if amount is None else str(amount),
            currency=suggestion.currency or order.currency,
            requested_by_agent_id=requester.agent_id,
            requested_by_api_key_id=requester.api_key_id,
            by_shopper=requester.by_shopper,
            idempotency_key="",
            expires_at=utcnow() + timedelta(seconds=PREVIEW_LIFETIME_SECONDS),
        )
        action.preview["needs_approval"] = rules.needs_approval(policy, kind, amount)
        session.add(action)
        await session.flush()
        action.idempotency_key = idempotency_key(services.digest_key, action)
        record_event(session, action, ActionEventKind.PREVIEWED, requester, _canonical(action.preview))
    return Previewed(action=action, token=confirmation_token(services.digest_key, action, requester))


def _requested_by(action: OrderAction) -> Requester:
    return Requester(
        role=Role.AGENT,
        agent_id=action.requested_by_agent_id,
        api_key_id=action.requested_by_api_key_id,
        by_shopper=action.by_shopper,
    )


async def move_status(
    session: AsyncSession, action: OrderAction, frm: set[ActionStatus], to: ActionStatus, **values: Any
) -> bool:
    """Move the action's status only if it is still in ``frm`` (one winner among concurrent requests)."""
    statement = (
        update(OrderAction)
        .where(col(OrderAction.id) == action.id, col(OrderAction.status).in_([s.value for s in frm]))
        .values(status=to, updated_at=utcnow(), **values)
    )
    result = await session.execute(statement)
    return bool(cast(CursorResult[Any], result).rowcount == 1)


async def confirm_action(
    services: Services, *, shop: Shop, requester: Requester, token: str, confirmed_at: datetime | None = None
) -> OrderAction:
    shop_id = _id(shop.id)
    action_id = action_id_of(token)
    now = confirmed_at or utcnow()
    async with transaction(services.sessions) as session:
        action = await access_action(session, shop_id=shop_id, action_id=action_id)
        expected = confirmation_token(services.digest_key, action, requester)
        if not hmac.compare_digest(expected.encode(), token.encode()):
            raise Forbidden("The confirmation does not match this preview", code="invalid_confirmation")
        if action.status in FINISHED or action.status == ActionStatus.AWAITING_APPROVAL:
            return action  # a double click or a retry: the first confirmation's outcome
        if action.status == ActionStatus.PREVIEWED:
            if now > action.created_at + timedelta(seconds=PREVIEW_LIFETIME_SECONDS):
                await move_status(session, action, {ActionStatus.PREVIEWED}, ActionStatus.EXPIRED)
                raise Conflict("The preview has expired: preview again", code="preview_expired")
            policy = await rules.load_policy(session, shop_id=shop_id)
            check_allowed(shop, policy, action.kind, requester)
            amount = None if action.amount is None else Decimal(action.amount)
            kind = ActionEventKind.SHOPPER_CONFIRMED if requester.by_shopper else ActionEventKind.CONFIRMED
            if rules.needs_approval(policy, action.kind, amount):
                deadline = now + timedelta(hours=policy.approval_hours)
                if await move_status(
                    session,
                    action,
                    {ActionStatus.PREVIEWED},
                    ActionStatus.AWAITING_APPROVAL,
                    expires_at=deadline,
                ):
                    record_event(session, action, kind, requester)
                    record_event(
                        session,
                        action,
                        ActionEventKind.APPROVAL_REQUESTED,
                        requester,
                        f"{action.amount} {action.currency}",
                    )
                    await note_on_ticket(
                        session, services, shop, action, "actions.timeline.approval_requested"
                    )
                await session.refresh(action)
                return action
            if await move_status(session, action, {ActionStatus.PREVIEWED}, ActionStatus.SENDING):
                record_event(session, action, kind, requester)
    return await _execute(services, shop=shop, action_id=action_id)


async def decide_approval(
    services: Services, *, shop: Shop, decider: Requester, action_id: int, approve: bool
) -> OrderAction:
    shop_id = _id(shop.id)
    async with transaction(services.sessions) as session:
        action = await access_action(session, shop_id=shop_id, action_id=action_id)
        if decider.role != Role.ADMIN or decider.api_key_id is not None:
            raise Forbidden("Only an admin approves actions", code="admin_only")
        # the merchant in the embedded admin (no agent account) is never the requester: only agents,
        # keys and shoppers request
        if decider.agent_id is not None and decider.agent_id == action.requested_by_agent_id:
            raise Forbidden("An action is approved by someone other than who asked", code="self_approval")
        if action.status != ActionStatus.AWAITING_APPROVAL:
            raise Conflict("This action is not waiting for approval", code="not_awaiting_approval")
        if utcnow() > action.expires_at:
            await expire_approval(session, services, shop, action)
            await session.refresh(action)
            return action
        if not approve:
            if await move_status(
                session,
                action,
                {ActionStatus.AWAITING_APPROVAL},
                ActionStatus.REFUSED,
                decided_by_agent_id=decider.agent_id,
            ):
                record_event(session, action, ActionEventKind.APPROVAL_REFUSED, decider)
                await note_on_ticket(session, services, shop, action, "actions.timeline.approval_refused")
            await session.refresh(action)
            return action
        moved = await move_status(
            session,
            action,
            {ActionStatus.AWAITING_APPROVAL},
            ActionStatus.SENDING,
            decided_by_agent_id=decider.agent_id,
        )
        if moved:
            record_event(session, action, ActionEventKind.APPROVED, decider)
    return await _execute(services, shop=shop, action_id=action_id)


async def expire_approval(session: AsyncSession, services: Services, shop: Shop, action: OrderAction) -> bool:
    """Nobody decided before the deadline: the action expires (audited) and its ticket says so, so the
    requester sees it. False when another request settled it first."""
    if not await move_status(
        session, action, {ActionStatus.AWAITING_APPROVAL}, ActionStatus.APPROVAL_EXPIRED
    ):
        return False
    record_event(session, action, ActionEventKind.APPROVAL_EXPIRED, None, action.expires_at.isoformat())
    await session.refresh(action)
    await note_on_ticket(session, services, shop, action, "actions.timeline.approval_expired")
    return True


def _variables(action: OrderAction) -> dict[str, Any]:
    p = action.parameters
    order_gid = gid_for("Order", action.order_shopify_id)
    if action.kind == ActionKind.CANCEL:
        method: dict[str, Any] = (
            {"storeCreditRefund": {}}
            if p.get("refund_to") == "store_credit"
            else {"originalPaymentMethodsRefund": True}
        )
        return {
            "orderId": order_gid,
            "reason": p.get("reason", "CUSTOMER"),
            "restock": bool(p.get("restock")),
            "notifyCustomer": bool(p.get("notify")),
            "refundMethod": method,
            "staffNote": p.get("staff_note"),
        }
    if action.kind == ActionKind.REFUND:
        order = action.preview["order"]
        refund_input: dict[str, Any] = {
            "orderId": order_gid,
            "notify": bool(p.get("notify")),
            "note": p.get("note"),
            "refundLineItems": _refund_lines(p, str(p.get("restock_type", "NO_RESTOCK"))),
        }
        if p.get("shipping"):
            refund_input["shipping"] = {"fullRefund": True}
        if order.get("parent_transaction") and Decimal(order["amount"]) > 0:
            refund_input["transactions"] = [
                {
                    "orderId": order_gid,
                    "parentId": order["parent_transaction"],
                    "amount": order["amount"],
                    "gateway": order.get("gateway") or "manual",
                    "kind": "REFUND",
                }
            ]
        return {"input": refund_input}
    if action.kind == ActionKind.ADDRESS:
        return {"input": {"id": order_gid, "shippingAddress": shopify_address(p)}}
    if action.kind == ActionKind.NOTE:
        return {"input": {"id": order_gid, "note": p.get("note", "")}}
    if action.kind == ActionKind.TAG:
        return {"id": order_gid, "tags": list(p.get("tags") or [])}
    if action.kind == ActionKind.RESEND_INVOICE:
        return {"id": order_gid}
    if action.kind == ActionKind.RESEND_SHIPPING:
        tracking = {name: p[name] for name in ("company", "number", "url") if p.get(name)}
        return {"fulfillmentId": gid_for("Fulfillment", int(p["fulfillment_id"])), "tracking": tracking}
    fulfillment_order = gid_for("FulfillmentOrder", int(p["fulfillment_order_id"]))
    if action.kind == ActionKind.HOLD:
        return {
            "id": fulfillment_order,
            "hold": {"reason": p.get("reason", "OTHER"), "reasonNotes": p.get("notes")},
        }
    return {"id": fulfillment_order}


async def _execute(services: Services, *, shop: Shop, action_id: int) -> OrderAction:
    """Send a confirmed action (status SENDING) with its key; record Shopify's answer once."""
    shop_id = _id(shop.id)
    async with services.sessions() as session:
        action = await access_action(session, shop_id=shop_id, action_id=action_id)
    if action.status != ActionStatus.SENDING:
        return action
    answer = await send(
        admin_client(services, shop), action.kind, key=action.idempotency_key, variables=_variables(action)
    )
    status = ActionStatus.APPLIED if answer.applied else ActionStatus.REJECTED
    async with transaction(services.sessions) as session:
        action = await access_action(session, shop_id=shop_id, action_id=action_id)
        moved = await move_status(
            session,
            action,
            {ActionStatus.SENDING},
            status,
            shopify_answer=answer.raw,
            errors=answer.errors,
            applied_at=utcnow() if answer.applied else None,
        )
        if moved:
            event = ActionEventKind.APPLIED if answer.applied else ActionEventKind.REJECTED
            record_event(
                session, action, event, None, json.dumps(answer.raw, ensure_ascii=False, default=str)
            )
            await session.refresh(action)
            key = "actions.timeline.applied" if answer.applied else "actions.timeline.rejected"
            await note_on_ticket(session, services, shop, action, key)
        await session.refresh(action)
    if answer.applied:
        await refresh_orders(services, shop=shop, order_ids=[action.order_shopify_id])
    logger.info(
        "order action finished shop_id=%s action_id=%s kind=%s status=%s",
        shop_id,
        action_id,
        action.kind,
        status,
    )
    return action


def describe(action: OrderAction, locale: str, *, timezone: str | None = None) -> str:
    """One line in words: what the action is, on which order, for how much, and Shopify's refusal."""
    words = catalogue(first_supported(locale))
    what = words.text(f"actions.kind.{action.kind}")
    money = ""
    if action.amount is not None and action.currency:
        money = formatter(locale, timezone, action.currency).money_text(Decimal(action.amount))
    text = words.text("actions.summary", action=what, order=action.order_name, amount=money).strip()
    if action.errors:
        text += " " + words.text("actions.shopify_said", errors="; ".join(action.errors))
    return text


async def note_on_ticket(
    session: AsyncSession, services: Services, shop: Shop, action: OrderAction, key: str
) -> None:
    if action.ticket_id is None:
        return
    ticket = await access_ticket(session, shop_id=action.shop_id, ticket_id=action.ticket_id)
    locale = first_supported(shop.primary_locale)
    body = catalogue(locale).text(key, summary=describe(action, locale, timezone=shop.iana_timezone))
    await post_message(
        session, ticket=ticket, author_type=AuthorType.NOTE, body=body, counts_as_response=False
    )


async def list_actions(
    session: AsyncSession,
    *,
    shop_id: int,
    order_id: int | None = None,
    status: ActionStatus | None = None,
    limit: int = 50,
) -> list[OrderAction]:
    statement = select(OrderAction).where(col(OrderAction.shop_id) == shop_id)
    if order_id is not None:
        statement = statement.where(col(OrderAction.order_shopify_id) == order_id)
    if status is not None:
        statement = statement.where(col(OrderAction.status) == status)
    statement = statement.order_by(col(OrderAction.id).desc()).limit(limit)
    return list((await session.execute(statement)).scalars().all())


async def action_events(
    session: AsyncSession, *, shop_id: int, action_ids: list[int]
) -> list[OrderActionEvent]:
    if not action_ids:
        return []
    statement = (
        select(OrderActionEvent)
        .where(col(OrderActionEvent.shop_id) == shop_id, col(OrderActionEvent.action_id).in_(action_ids))
        .order_by(col(OrderActionEvent.id))
    )
    return list((await session.execute(statement)).scalars().all())
