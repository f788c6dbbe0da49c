"""Order actions for the console's order card and for bots: preview, confirm, approve or refuse, the audit
list, and the shop's action policy (admins)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from shop_app.actions import policy as rules
from shop_app.actions.flow import (
    Requester,
    access_action,
    access_order,
    action_events,
    confirm_action,
    decide_approval,
    describe,
    list_actions,
    preview_action,
)
from shop_app.formats.display import Formatter, formatter
from shop_app.live_events import LiveEvent
from shop_app.models import ActionKind, ActionPolicy, ActionStatus, OrderAction, OrderActionEvent
from shop_app.routes.api.auth import Caller, authenticate, require_admin
from shop_app.routes.api.io import (
    MAX_SHOPIFY_ID,
    SHOPIFY_ID,
    ChoiceQuery,
    Endpoint,
    JSONModelResponse,
    path_id,
    read_body,
)
from shop_app.routes.api.locales import LOCALE, caller_locale
from shop_app.routes.request_state import services
from shop_app.schemas.order_actions import (
    ActionEventOut,
    ActionIn,
    ActionList,
    ActionOut,
    ConfirmIn,
    DecisionIn,
    OrderActionsOut,
    PolicyIn,
    PolicyOut,
)

STATUS = ChoiceQuery("status", "only actions in this state", tuple(ActionStatus))
TAG = "order actions"


def requester(caller: Caller) -> Requester:
    return Requester(
        role=caller.role,
        agent_id=caller.agent_id,
        api_key_id=caller.api_key.id if caller.api_key is not None else None,
    )


def action_out(
    action: OrderAction,
    *,
    caller: Caller,
    locale: str,
    token: str | None = None,
    events: list[OrderActionEvent] | None = None,
) -> ActionOut:
    assert action.id is not None
    amount_text = None
    amounts_text: dict[str, str] = {}
    if action.amount is not None and action.currency:
        fmt = formatter(locale, caller.shop.iana_timezone, action.currency)
        amount_text = fmt.money_text(Decimal(action.amount))
        amounts_text = _amounts_text(fmt, action.preview.get("order") or {})
    return ActionOut(
        id=action.id,
        kind=action.kind,
        status=action.status,
        order_id=action.order_shopify_id,
        order_name=action.order_name,
        ticket_id=action.ticket_id,
        amount=action.amount,
        currency=action.currency,
        amount_text=amount_text,
        amounts_text=amounts_text,
        summary=describe(action, locale, timezone=caller.shop.iana_timezone),
        preview=action.preview,
        needs_approval=bool(action.preview.get("needs_approval")),
        errors=action.errors,
        requested_by_agent_id=action.requested_by_agent_id,
        by_shopper=action.by_shopper,
        decided_by_agent_id=action.decided_by_agent_id,
        expires_at=action.expires_at,
        created_at=action.created_at,
        confirmed_by_shopify_at=action.webhook_confirmed_at,
        token=token,
        events=[
            ActionEventOut(
                kind=event.kind,
                agent_id=event.agent_id,
                api_key_id=event.api_key_id,
                by_shopper=event.by_shopper,
                at=event.at,
            )
            for event in events or []
        ],
    )


def _amounts_text(fmt: Formatter, order: dict[str, Any]) -> dict[str, str]:
    """Shopify's figures kept with the preview, formatted: the total's parts and each line's subtotal."""
    texts: dict[str, str] = {}
    for name in ("subtotal", "tax", "shipping"):
        if order.get(name) is not None:
            texts[name] = fmt.money_text(Decimal(str(order[name])))
    for line in order.get("lines") or []:
        texts[f"line:{line['line_item_id']}"] = fmt.money_text(Decimal(str(line["subtotal"])))
    return texts


async def _publish(request: Request, caller: Caller, action: OrderAction) -> None:
    data = {"order_id": action.order_shopify_id}
    if action.ticket_id is not None:
        data["ticket_id"] = action.ticket_id
    await services(request).events.publish(
        LiveEvent(shop_id=caller.shop_id, kind="order_action.changed", data=data)
    )


async def order_actions_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    order_id = path_id(request, "order_id", upper=MAX_SHOPIFY_ID)
    locale = caller_locale(request, caller)
    async with services(request).sessions() as session:
        await access_order(session, shop_id=caller.shop_id, order_id=order_id)
        policy = await rules.load_policy(session, shop_id=caller.shop_id)
        found = await list_actions(session, shop_id=caller.shop_id, order_id=order_id, limit=20)
    available: list[str] = []
    hidden: dict[str, str] = {}
    for kind in ActionKind:
        if rules.missing_scope(caller.shop, kind) is not None:
            hidden[kind] = "scope_missing"
        elif not rules.allowed(policy, kind, caller.role):
            hidden[kind] = "action_not_allowed"
        else:
            available.append(kind)
    return JSONModelResponse(
        OrderActionsOut(
            available=available,
            hidden=hidden,
            actions=[action_out(action, caller=caller, locale=locale) for action in found],
        )
    )


async def preview_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_body(request, ActionIn)
    previewed = await preview_action(
        services(request),
        shop=caller.shop,
        requester=requester(caller),
        order_id=body.root.order_id,
        kind=ActionKind(body.root.kind),
        parameters=body.parameters(),
        ticket_id=body.root.ticket_id,
    )
    out = action_out(
        previewed.action, caller=caller, locale=caller_locale(request, caller), token=previewed.token
    )
    return JSONModelResponse(out, status_code=201)


async def confirm_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_body(request, ConfirmIn)
    action = await confirm_action(
        services(request), shop=caller.shop, requester=requester(caller), token=body.token
    )
    await _publish(request, caller, action)
    return JSONModelResponse(action_out(action, caller=caller, locale=caller_locale(request, caller)))


async def decision_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    action_id = path_id(request, "action_id")
    body = await read_body(request, DecisionIn)
    action = await decide_approval(
        services(request),
        shop=caller.shop,
        decider=requester(caller),
        action_id=action_id,
        approve=body.approve,
    )
    await _publish(request, caller, action)
    return JSONModelResponse(action_out(action, caller=caller, locale=caller_locale(request, caller)))


async def detail_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    action_id = path_id(request, "action_id")
    async with services(request).sessions() as session:
        action = await access_action(session, shop_id=caller.shop_id, action_id=action_id)
        events = await action_events(session, shop_id=caller.shop_id, action_ids=[action_id])
    return JSONModelResponse(
        action_out(action, caller=caller, locale=caller_locale(request, caller), events=events)
    )


async def list_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    status = STATUS.read(request)
    locale = caller_locale(request, caller)
    async with services(request).sessions() as session:
        found = await list_actions(
            session, shop_id=caller.shop_id, status=ActionStatus(status) if status else None, limit=100
        )
        events = await action_events(
            session, shop_id=caller.shop_id, action_ids=[a.id for a in found if a.id]
        )
    by_action: dict[int, list[OrderActionEvent]] = {}
    for event in events:
        if event.action_id is not None:
            by_action.setdefault(event.action_id, []).append(event)
    return JSONModelResponse(
        ActionList(
            actions=[
                action_out(a, caller=caller, locale=locale, events=by_action.get(a.id or 0, []))
                for a in found
            ]
        )
    )


def policy_out(policy: ActionPolicy, caller: Caller) -> PolicyOut:
    return PolicyOut(
        roles={kind: rules.roles_for(policy, kind) for kind in ActionKind},
        approval_amount=policy.approval_amount,
        approval_hours=policy.approval_hours,
        bot_cancel=policy.bot_cancel,
        bot_address=policy.bot_address,
        bot_window_minutes=policy.bot_window_minutes,
        missing_scopes=sorted(set(rules.NEEDED_SCOPES.values()) - rules.granted_scopes(caller.shop)),
    )


async def policy_read_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    async with services(request).sessions() as session:
        policy = await rules.load_policy(session, shop_id=caller.shop_id)
    return JSONModelResponse(policy_out(policy, caller))


async def policy_write_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller)
    body = await read_body(request, PolicyIn)
    async with services(request).sessions() as session, session.begin():
        policy = await rules.load_policy(session, shop_id=caller.shop_id)
        policy.roles = {**policy.roles, **{kind: list(roles) for kind, roles in body.roles.items()}}
        policy.approval_amount = body.approval_amount
        policy.approval_hours = body.approval_hours
        policy.bot_cancel = body.bot_cancel
        policy.bot_address = body.bot_address
        policy.bot_window_minutes = body.bot_window_minutes
        await rules.save_policy(session, policy=policy)
    return JSONModelResponse(policy_out(policy, caller))


ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/orders/{order_id}/actions",
        order_actions_endpoint,
        "The actions this caller may take on an order (and why others are hidden), and those taken",
        TAG,
        response=OrderActionsOut,
        query=(LOCALE,),
        path_schemas={"order_id": SHOPIFY_ID},
    ),
    Endpoint(
        "POST",
        "/api/v1/order-action-previews",
        preview_endpoint,
        "Preview an action (Shopify computes a refund's amounts); returns the token that confirms it",
        TAG,
        body=ActionIn,
        response=ActionOut,
        status=201,
        query=(LOCALE,),
        responses={
            403: "The shop has not granted the write scope, or the caller's role may not",
            404: "No such order (or ticket) in this shop",
            422: "An address that cannot be used (a Japanese postcode outside its prefecture…)",
        },
    ),
    Endpoint(
        "POST",
        "/api/v1/order-action-confirmations",
        confirm_endpoint,
        "Confirm a previewed action: it is sent once to Shopify (or waits for an admin's approval)",
        TAG,
        body=ConfirmIn,
        response=ActionOut,
        query=(LOCALE,),
        responses={
            403: "A token that is not this caller's preview",
            404: "No such action in this shop",
            409: "The preview expired",
        },
    ),
    Endpoint(
        "POST",
        "/api/v1/order-actions/{action_id}/decision",
        decision_endpoint,
        "Approve or refuse an action waiting for approval (an admin other than who asked)",
        TAG,
        body=DecisionIn,
        response=ActionOut,
        query=(LOCALE,),
        responses={403: "Not an admin, or the admin who asked", 409: "Not waiting for approval"},
    ),
    Endpoint(
        "GET",
        "/api/v1/order-actions/{action_id}",
        detail_endpoint,
        "One action with its audit trail",
        TAG,
        response=ActionOut,
        query=(LOCALE,),
    ),
    Endpoint(
        "GET",
        "/api/v1/order-actions",
        list_endpoint,
        "The audit: the latest actions with who did what and when",
        TAG,
        response=ActionList,
        query=(STATUS, LOCALE),
    ),
    Endpoint(
        "GET",
        "/api/v1/order-action-policy",
        policy_read_endpoint,
        "Who may do which action, the approval amount and the bot's self-service",
        TAG,
        response=PolicyOut,
    ),
    Endpoint(
        "PUT",
        "/api/v1/order-action-policy",
        policy_write_endpoint,
        "Set who may do which action, the approval amount and the bot's self-service (admins)",
        TAG,
        body=PolicyIn,
        response=PolicyOut,
        responses={403: "Only the shop's admins"},
    ),
]
