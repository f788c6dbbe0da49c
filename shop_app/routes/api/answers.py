"""The answering bot over the API: ask for the decision on a customer message (and post it), read the
audit of a ticket's decisions, and manage the shop's reply templates and settings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import Response

from shop_app.answers import (
    DEFAULTS,
    LANGUAGES,
    AnswerChoices,
    TemplateKey,
    Trust,
    answer_message,
    forget_shop_cache,
    get_answer_settings,
    preview_template,
    save_template,
    shop_templates,
    ticket_decisions,
    update_answer_settings,
)
from shop_app.channels.self_service import self_service_turn
from shop_app.errors import NotFound
from shop_app.helpdesk import outbox
from shop_app.helpdesk.tickets import access_ticket
from shop_app.live_events import LiveEvent
from shop_app.models import AuthorType, BotDecision, DecisionAction, Message, Ticket
from shop_app.routes.api.auth import Caller, authenticate, require_admin
from shop_app.routes.api.io import Endpoint, JSONModelResponse, path_id, read_body
from shop_app.routes.api.presenters import message_out
from shop_app.routes.api.tickets import send_when_committed
from shop_app.routes.request_state import services
from shop_app.schemas.answers import (
    AnswerIn,
    AnswerOut,
    AnswerSettingsIn,
    AnswerSettingsOut,
    DecisionList,
    DecisionOut,
    ReplyTemplateIn,
    ReplyTemplateList,
    ReplyTemplateOut,
    TemplatePreviewIn,
    TemplatePreviewOut,
)


def decision_out(row: BotDecision) -> DecisionOut:
    assert row.id is not None
    return DecisionOut(
        id=row.id,
        ticket_id=row.ticket_id,
        message_id=row.message_id,
        reply_message_id=row.reply_message_id,
        action=DecisionAction(row.action).value,  # a loaded row holds the plain string
        reply=row.reply,
        intent=row.intent,
        confidence=row.confidence,
        language=row.language,
        order_id=row.order_shopify_id,
        order_name=row.order_name,
        verification=str(row.verification),
        reason=row.reason,
        priority=row.priority,
        created_at=row.created_at,
    )


def caller_trust(caller: Caller, ticket: Ticket) -> Trust:
    """Agents, the merchant and trusted API keys skip verification; another key's attempts are counted
    per key and contact."""
    if caller.api_key is None:
        who = f"agent:{caller.agent_id}" if caller.agent is not None else "admin"
        return Trust(trusted_caller=True, source=who)
    if caller.api_key.trusted:
        return Trust(trusted_caller=True, source=f"key:{caller.api_key.id}")
    return Trust(trusted_caller=False, source=f"key:{caller.api_key.id}:contact:{ticket.contact_id}")


async def _customer_message(session: AsyncSession, *, ticket: Ticket, message_id: int | None) -> Message:
    statement = select(Message).where(
        col(Message.ticket_id) == ticket.id, col(Message.author_type) == AuthorType.CUSTOMER
    )
    if message_id is not None:
        statement = statement.where(col(Message.id) == message_id)
    found = (await session.execute(statement.order_by(col(Message.id).desc()).limit(1))).scalar_one_or_none()
    if found is None:
        raise NotFound("No such customer message in this ticket", code="message_not_found")
    return found


async def answer_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    ticket_id = path_id(request, "ticket_id")
    body = await read_body(request, AnswerIn)
    async with services(request).sessions() as session, session.begin():
        ticket = await access_ticket(session, shop_id=caller.shop_id, ticket_id=ticket_id)
        message = await _customer_message(session, ticket=ticket, message_id=body.message_id)
        decision = await answer_message(
            session,
            shop=caller.shop,
            ticket=ticket,
            message=message,
            trust=caller_trust(caller, ticket),
            post=body.post,
        )
        assert decision.decision_id is not None
        row = await session.get_one(BotDecision, decision.decision_id)
        posted = await session.get(Message, decision.reply_message_id) if decision.reply_message_id else None
        leaving = await outbox.for_messages(session, [posted.id] if posted and posted.id else [])
        out = AnswerOut(
            decision=decision_out(row),
            message=message_out(posted, None, leaving[0].status if leaving else None) if posted else None,
        )
    await send_when_committed(request, leaving)
    turn = await self_service_turn(
        services(request), shop=caller.shop, ticket_id=ticket_id, request=decision.self_service
    )
    if turn is not None and turn.message_id is not None:  # its reply was sent and published
        async with services(request).sessions() as session:
            posted = await session.get_one(Message, turn.message_id)
            leaving = await outbox.for_messages(session, [turn.message_id])
        out.message = message_out(posted, None, leaving[0].status if leaving else None)
    bus = services(request).events
    for message_id in (decision.reply_message_id, decision.note_message_id):
        if message_id is not None:
            await bus.publish(
                LiveEvent(
                    shop_id=caller.shop_id,
                    kind="message.created",
                    data={"ticket_id": ticket_id, "message_id": message_id},
                )
            )
    if body.post:
        await bus.publish(
            LiveEvent(shop_id=caller.shop_id, kind="ticket.updated", data={"ticket_id": ticket_id})
        )
    return JSONModelResponse(out)


async def decisions_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    ticket_id = path_id(request, "ticket_id")
    async with services(request).sessions() as session:
        ticket = await access_ticket(session, shop_id=caller.shop_id, ticket_id=ticket_id)
        rows = await ticket_decisions(session, ticket=ticket)
    return JSONModelResponse(DecisionList(decisions=[decision_out(row) for row in rows]))


def _settings_out(choices: AnswerChoices) -> AnswerSettingsOut:
    return AnswerSettingsOut(auto_reply=choices.auto_reply, exact_stock_counts=choices.exact_stock_counts)


async def settings_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    if request.method == "GET":
        async with services(request).sessions() as session:
            return JSONModelResponse(
                _settings_out(await get_answer_settings(session, shop_id=caller.shop_id))
            )
    require_admin(caller)
    body = await read_body(request, AnswerSettingsIn)
    auto_reply = (
        None if body.auto_reply is None else {str(intent): on for intent, on in body.auto_reply.items()}
    )
    async with services(request).sessions() as session, session.begin():
        choices = await update_answer_settings(
            session, shop=caller.shop, auto_reply=auto_reply, exact_stock_counts=body.exact_stock_counts
        )
    forget_shop_cache(caller.shop_id)  # again after the commit: nothing cached the old rows meanwhile
    return JSONModelResponse(_settings_out(choices))


async def templates_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    async with services(request).sessions() as session:
        own = await shop_templates(session, shop_id=caller.shop_id)
    rows = [
        ReplyTemplateOut(
            key=key.value,
            language=language,
            body=own.get((key.value, language), DEFAULTS[(key, language)]),
            default_body=DEFAULTS[(key, language)],
            customised=(key.value, language) in own,
        )
        for key in TemplateKey
        for language in LANGUAGES
    ]
    return JSONModelResponse(ReplyTemplateList(templates=rows))


async def put_template_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller)
    key = str(request.path_params["key"])
    language = str(request.path_params["language"])
    body = await read_body(request, ReplyTemplateIn)
    async with services(request).sessions() as session, session.begin():
        row = await save_template(session, shop=caller.shop, key=key, language=language, body=body.body)
    forget_shop_cache(caller.shop_id)
    default = DEFAULTS[(TemplateKey(row.key), row.language)]
    return JSONModelResponse(
        ReplyTemplateOut(
            key=row.key, language=row.language, body=row.body, default_body=default, customised=True
        )
    )


async def preview_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_body(request, TemplatePreviewIn)
    async with services(request).sessions() as session:
        text = await preview_template(
            session,
            shop=caller.shop,
            key=body.key,
            language=body.language,
            body=body.body,
            order_id=body.order_id,
        )
    return JSONModelResponse(TemplatePreviewOut(text=text))


TICKET = "/api/v1/tickets/{ticket_id}"
NOT_FOUND = {404: "No such ticket (or message) in the caller's shop"}
TEMPLATE_PATH = {
    "key": {"type": "string", "enum": [key.value for key in TemplateKey]},
    "language": {"type": "string", "enum": list(LANGUAGES)},
}
ENDPOINTS = [
    Endpoint(
        "POST",
        TICKET + "/answer",
        answer_endpoint,
        "The bot's decision on a customer message (reply, ask, handoff or silent); with post, carried out",
        "answers",
        body=AnswerIn,
        response=AnswerOut,
        responses=NOT_FOUND,
    ),
    Endpoint(
        "GET",
        TICKET + "/decisions",
        decisions_endpoint,
        "Every decision the bot took in the ticket, oldest first (the audit)",
        "answers",
        response=DecisionList,
        responses=NOT_FOUND,
    ),
    Endpoint(
        "GET",
        "/api/v1/answer-settings",
        settings_endpoint,
        "Which intents the bot answers by itself; exact stock counts",
        "answers",
        response=AnswerSettingsOut,
    ),
    Endpoint(
        "PUT",
        "/api/v1/answer-settings",
        settings_endpoint,
        "Change the bot's settings (admins)",
        "answers",
        body=AnswerSettingsIn,
        response=AnswerSettingsOut,
        responses={403: "Not an admin of the shop"},
    ),
    Endpoint(
        "GET",
        "/api/v1/reply-templates",
        templates_endpoint,
        "Every reply template in Japanese and English: the shop's wording or the default",
        "answers",
        response=ReplyTemplateList,
    ),
    Endpoint(
        "PUT",
        "/api/v1/reply-templates/{key}/{language}",
        put_template_endpoint,
        "Save the shop's wording of a reply; a template that does not render is refused (400)",
        "answers",
        body=ReplyTemplateIn,
        response=ReplyTemplateOut,
        responses={
            403: "Not an admin of the shop",
            422: "The template does not render (the message says why)",
        },
        path_schemas=TEMPLATE_PATH,
    ),
    Endpoint(
        "POST",
        "/api/v1/reply-templates/preview",
        preview_endpoint,
        "Render a template against a real order of the shop (or sample data)",
        "answers",
        body=TemplatePreviewIn,
        response=TemplatePreviewOut,
        responses={
            404: "No such order in the shop",
            422: "The template does not render (the message says why)",
        },
    ),
]
