"""Saved replies (macros): the shop's admins write them; agents list them and have one filled in for a
ticket, to insert into the reply box."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from shop_app.helpdesk.saved_replies import (
    access_saved_reply,
    create_saved_reply,
    delete_saved_reply,
    list_saved_replies,
    render_saved_reply,
    update_saved_reply,
)
from shop_app.helpdesk.tickets import access_ticket
from shop_app.i18n import SUPPORTED_LOCALES
from shop_app.routes.api.auth import authenticate, require_admin
from shop_app.routes.api.io import ChoiceQuery, Endpoint, JSONModelResponse, path_id, read_body
from shop_app.routes.api.presenters import saved_reply_out
from shop_app.routes.request_state import services
from shop_app.schemas.tickets import (
    RenderedReply,
    SavedReplyIn,
    SavedReplyList,
    SavedReplyOut,
    SavedReplyUpdateIn,
)

LANGUAGE = ChoiceQuery("locale", "only the saved replies in this language", tuple(SUPPORTED_LOCALES))


async def list_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    locale = LANGUAGE.read(request)
    async with services(request).sessions() as session:
        rows = await list_saved_replies(session, shop_id=caller.shop_id, locale=locale)
    return JSONModelResponse(SavedReplyList(saved_replies=[saved_reply_out(row) for row in rows]))


async def create_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller)
    body = await read_body(request, SavedReplyIn)
    async with services(request).sessions() as session, session.begin():
        row = await create_saved_reply(
            session,
            shop_id=caller.shop_id,
            locale=body.locale,
            title=body.title,
            body=body.body,
            agent_id=caller.agent_id,
        )
        out = saved_reply_out(row)
    return JSONModelResponse(out, status_code=201)


async def update_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller)
    saved_reply_id = path_id(request, "saved_reply_id")
    body = await read_body(request, SavedReplyUpdateIn)
    async with services(request).sessions() as session, session.begin():
        row = await access_saved_reply(session, shop_id=caller.shop_id, saved_reply_id=saved_reply_id)
        await update_saved_reply(
            session, row=row, locale=body.locale, title=body.title, body=body.body, agent_id=caller.agent_id
        )
        out = saved_reply_out(row)
    return JSONModelResponse(out)


async def delete_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller)
    saved_reply_id = path_id(request, "saved_reply_id")
    async with services(request).sessions() as session, session.begin():
        row = await access_saved_reply(session, shop_id=caller.shop_id, saved_reply_id=saved_reply_id)
        out = saved_reply_out(row)
        await delete_saved_reply(session, row=row)
    return JSONModelResponse(out)


async def render_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    ticket_id = path_id(request, "ticket_id")
    saved_reply_id = path_id(request, "saved_reply_id")
    async with services(request).sessions() as session:
        ticket = await access_ticket(session, shop_id=caller.shop_id, ticket_id=ticket_id)
        row = await access_saved_reply(session, shop_id=caller.shop_id, saved_reply_id=saved_reply_id)
        rendered = await render_saved_reply(
            session, shop=caller.shop, ticket=ticket, agent=caller.agent, saved_reply=row
        )
    return JSONModelResponse(
        RenderedReply(body=rendered.body, missing_fields=[field.value for field in rendered.missing])
    )


ADMINS = 403
SAVED_REPLY = "/api/v1/saved-replies/{saved_reply_id}"
UNUSABLE = "A text with anything between braces but the fields, or that does not parse"
TAKEN = "Another saved reply of this language has this title, or the shop has 500 already"
ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/saved-replies",
        list_endpoint,
        "The shop's saved replies, by language and title",
        "saved replies",
        response=SavedReplyList,
        query=(LANGUAGE,),
    ),
    Endpoint(
        "POST",
        "/api/v1/saved-replies",
        create_endpoint,
        "Write a saved reply (admins)",
        "saved replies",
        body=SavedReplyIn,
        response=SavedReplyOut,
        status=201,
        responses={ADMINS: "Only the shop's admins", 409: TAKEN, 422: UNUSABLE},
    ),
    Endpoint(
        "PATCH",
        SAVED_REPLY,
        update_endpoint,
        "Change a saved reply (admins)",
        "saved replies",
        body=SavedReplyUpdateIn,
        response=SavedReplyOut,
        responses={ADMINS: "Only the shop's admins", 404: "No such saved reply", 409: TAKEN, 422: UNUSABLE},
    ),
    Endpoint(
        "DELETE",
        SAVED_REPLY,
        delete_endpoint,
        "Delete a saved reply (admins); answers what it was",
        "saved replies",
        response=SavedReplyOut,
        responses={ADMINS: "Only the shop's admins", 404: "No such saved reply"},
    ),
    Endpoint(
        "GET",
        "/api/v1/tickets/{ticket_id}/saved-replies/{saved_reply_id}",
        render_endpoint,
        "A saved reply filled in for this ticket (the customer, their newest order, the agent, the shop)",
        "saved replies",
        response=RenderedReply,
        responses={404: "No such ticket or saved reply in the caller's shop"},
    ),
]
