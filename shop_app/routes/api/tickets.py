"""Tickets, their messages and their link to a Shopify customer."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from integrations.shopify.app_proxy import verify_app_proxy_query
from shop_app.answers.ticket_subjects import new_ticket_subject
from shop_app.channels.attachments import FILE_HEADERS, attachments_of, mail_attachment, served_type
from shop_app.errors import Forbidden, NotFound, Unauthorized
from shop_app.helpdesk import outbox
from shop_app.helpdesk.contacts import ContactDetails, find_or_create_contact
from shop_app.helpdesk.customer_matching import link_ticket_by_agent, rematch_ticket, unlink_ticket
from shop_app.helpdesk.ticket_tags import shop_tags
from shop_app.helpdesk.tickets import (
    CURSOR_PATTERN,
    MAX_LIST_LIMIT,
    TicketView,
    access_ticket,
    list_tickets,
    open_ticket,
    post_message,
    ticket_messages,
    ticket_row,
    update_ticket,
)
from shop_app.jobs.tasks import TaskName
from shop_app.live_events import LiveEvent
from shop_app.models import AuthorType, Channel, Message, OutboxMessage, TicketStatus
from shop_app.models.base import utcnow
from shop_app.models.helpdesk import MAX_TAG_CHARS
from shop_app.routes.api.auth import Caller, authenticate
from shop_app.routes.api.io import (
    MAX_ROW_ID,
    ChoiceQuery,
    Endpoint,
    IntQuery,
    JSONModelResponse,
    TextQuery,
    path_id,
    read_body,
)
from shop_app.routes.api.locales import LOCALE, caller_locale
from shop_app.routes.api.presenters import message_out, ticket_detail, ticket_summary
from shop_app.routes.request_state import jobs, services
from shop_app.schemas.tickets import (
    NO_NUL,
    LinkIn,
    MessageIn,
    MessageList,
    MessageOut,
    TagCount,
    TagList,
    TicketDetail,
    TicketIn,
    TicketList,
    TicketUpdateIn,
)


def out_id(message: Message) -> int:
    assert message.id is not None
    return message.id


async def send_when_committed(request: Request, leaving: list[OutboxMessage]) -> None:
    """Queue the sending of replies that leave by LINE or email (call after the commit: the sweep sends
    whatever a crash between the two left behind)."""
    ids = [item.id for item in leaving if item.id is not None]
    if ids:
        await jobs(request).enqueue(TaskName.DELIVER_OUTBOX, outbox_ids=ids)


async def _publish(request: Request, caller: Caller, kind: str, **data: int) -> None:
    await services(request).events.publish(LiveEvent(shop_id=caller.shop_id, kind=kind, data=dict(data)))


STATUS = ChoiceQuery("status", "only tickets in this state", tuple(TicketStatus))
VIEW = ChoiceQuery("view", "all (the default), mine (signed-in agents) or unassigned", tuple(TicketView))
SEARCH = TextQuery(
    "q", "an order name (#1001), an email, a phone number, or words of a subject or name", 320, NO_NUL
)
CHANNEL = ChoiceQuery("channel", "only tickets that came in on this channel", tuple(Channel))
TAG = TextQuery(
    "tag",
    "only tickets with this tag (read as tags are written: VIP finds vip; a text that is no tag finds none)",
    MAX_TAG_CHARS * 4,
    NO_NUL,
)
LIMIT = IntQuery("limit", "tickets per page", lower=1, upper=MAX_LIST_LIMIT, default=25)
CURSOR = TextQuery("cursor", "next_cursor of the previous page", 40, CURSOR_PATTERN, code="invalid_cursor")
AFTER_ID = IntQuery("after_id", "only messages after this id", lower=0, upper=MAX_ROW_ID, default=0)


async def list_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    status = STATUS.read(request)
    view = TicketView(VIEW.read(request) or TicketView.ALL)
    if view is TicketView.MINE and caller.agent is None:
        raise Forbidden("'mine' is for signed-in agents", code="agents_only")
    channel = CHANNEL.read(request)
    now = utcnow()
    async with services(request).sessions() as session:
        page = await list_tickets(
            session,
            shop=caller.shop,
            status=TicketStatus(status) if status else None,
            view=view,
            agent_id=caller.agent_id,
            query=SEARCH.read(request) or "",
            channel=Channel(channel) if channel else None,
            tag=TAG.read(request),
            limit=LIMIT.read(request),
            cursor=CURSOR.read(request),
        )
    return JSONModelResponse(
        TicketList(
            tickets=[ticket_summary(row, shop=caller.shop, now=now) for row in page.rows],
            next_cursor=page.next_cursor,
        )
    )


async def tags_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    async with services(request).sessions() as session:
        found = await shop_tags(session, shop_id=caller.shop_id)
    return JSONModelResponse(TagList(tags=[TagCount(tag=tag, tickets=count) for tag, count in found]))


def _storefront_customer_id(request: Request, identity: dict[str, str] | None, caller: Caller) -> int | None:
    """The logged-in customer a storefront (app proxy) signature vouches for, if one was sent."""
    if identity is None:
        return None
    settings = services(request).settings
    verdict = verify_app_proxy_query(
        identity, secrets=[s.reveal() for s in settings.api_secrets], now=time.time()
    )
    if verdict.identity is None or verdict.identity.shop != caller.shop.domain:
        raise Unauthorized(
            "The storefront identity is not signed for this shop", code="invalid_storefront_identity"
        )
    return verdict.identity.logged_in_customer_id


async def create_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_body(request, TicketIn)
    customer_id = _storefront_customer_id(request, body.storefront_identity, caller)
    details = ContactDetails(
        name=body.contact.name, email=body.contact.email, phone=body.contact.phone, locale=body.contact.locale
    )
    async with services(request).sessions() as session, session.begin():
        contact = await find_or_create_contact(
            session, shop=caller.shop, details=details, storefront_customer_id=customer_id
        )
        ticket, message = await open_ticket(
            session,
            shop=caller.shop,
            contact=contact,
            channel=body.channel,
            subject=body.subject.strip()
            or await new_ticket_subject(session, shop=caller.shop, first_message=body.message),
            first_message=body.message,
        )
        detail = await ticket_detail(
            session,
            await ticket_row(session, ticket=ticket),
            shop=caller.shop,
            locale=caller_locale(request, caller),
        )
    assert ticket.id is not None
    assert message.id is not None
    await _publish(request, caller, "ticket.created", ticket_id=ticket.id)
    await _publish(request, caller, "message.created", ticket_id=ticket.id, message_id=message.id)
    return JSONModelResponse(detail, status_code=201)


async def detail_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    ticket_id = path_id(request, "ticket_id")
    async with services(request).sessions() as session:
        ticket = await access_ticket(session, shop_id=caller.shop_id, ticket_id=ticket_id)
        detail = await ticket_detail(
            session,
            await ticket_row(session, ticket=ticket),
            shop=caller.shop,
            locale=caller_locale(request, caller),
        )
    return JSONModelResponse(detail)


async def update_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    ticket_id = path_id(request, "ticket_id")
    body = await read_body(request, TicketUpdateIn)
    async with services(request).sessions() as session, session.begin():
        ticket = await access_ticket(session, shop_id=caller.shop_id, ticket_id=ticket_id)
        await update_ticket(
            session,
            ticket=ticket,
            status=body.status,
            assignee_id=body.assignee_id,
            assign="assignee_id" in body.model_fields_set,
            tags=body.tags,
            subject=body.subject,
        )
        detail = await ticket_detail(
            session,
            await ticket_row(session, ticket=ticket),
            shop=caller.shop,
            locale=caller_locale(request, caller),
        )
    await _publish(request, caller, "ticket.updated", ticket_id=ticket_id)
    return JSONModelResponse(detail)


def _author(caller: Caller, body: MessageIn) -> AuthorType:
    """API keys post as the customer, the bot or a note; agents (and the merchant) reply or add a note: a
    caller sending the other's field asks to write as someone it is not."""
    if caller.api_key is not None:
        if body.kind is not None:
            raise Forbidden("API keys send 'author_type', not 'kind'", code="author_not_allowed")
        return AuthorType(body.author_type or "bot")
    if body.author_type is not None:
        raise Forbidden("Agents send 'kind' (reply or note)", code="author_not_allowed")
    return AuthorType.NOTE if body.kind == "note" else AuthorType.AGENT


async def messages_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    ticket_id = path_id(request, "ticket_id")
    after_id = AFTER_ID.read(request)
    async with services(request).sessions() as session:
        ticket = await access_ticket(session, shop_id=caller.shop_id, ticket_id=ticket_id)
        rows = await ticket_messages(session, ticket=ticket, after_id=after_id)
        ids = [m.id for m, _ in rows if m.id is not None]
        deliveries = await outbox.delivery_states(session, ids)
        files = await attachments_of(session, shop_id=caller.shop_id, message_ids=ids)
    return JSONModelResponse(
        MessageList(
            messages=[message_out(m, a, deliveries.get(m.id or 0), files.get(m.id or 0)) for m, a in rows]
        )
    )


async def attachment_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    ticket_id = path_id(request, "ticket_id")
    attachment_id = path_id(request, "attachment_id")
    app = services(request)
    async with app.sessions() as session:
        await access_ticket(session, shop_id=caller.shop_id, ticket_id=ticket_id)
        stored = await mail_attachment(
            session,
            shop_id=caller.shop_id,
            ticket_id=ticket_id,
            attachment_id=attachment_id,
            data_dir=app.settings.data_dir,
        )
    if stored is None:
        raise NotFound("No such attachment", code="attachment_not_found")
    media_type, disposition = served_type(stored.content_type)
    return FileResponse(
        stored.path,
        media_type=media_type,
        filename=stored.filename,
        content_disposition_type=disposition,
        headers=FILE_HEADERS,
    )


async def post_message_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    ticket_id = path_id(request, "ticket_id")
    body = await read_body(request, MessageIn)
    author = _author(caller, body)
    async with services(request).sessions() as session, session.begin():
        ticket = await access_ticket(session, shop_id=caller.shop_id, ticket_id=ticket_id)
        message = await post_message(
            session, ticket=ticket, author_type=author, body=body.body, agent_id=caller.agent_id
        )
        leaving = await outbox.for_messages(session, [out_id(message)])
        out = message_out(message, caller.agent, leaving[0].status if leaving else None)
    await send_when_committed(request, leaving)
    await _publish(request, caller, "message.created", ticket_id=ticket_id, message_id=out.id)
    await _publish(request, caller, "ticket.updated", ticket_id=ticket_id)
    return JSONModelResponse(out, status_code=201)


async def link_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    ticket_id = path_id(request, "ticket_id")
    body = await read_body(request, LinkIn) if request.method == "PUT" else None
    async with services(request).sessions() as session, session.begin():
        ticket = await access_ticket(session, shop_id=caller.shop_id, ticket_id=ticket_id)
        if body is not None:
            await link_ticket_by_agent(
                session,
                shop=caller.shop,
                ticket=ticket,
                customer_shopify_id=body.customer_id,
                agent_id=caller.agent_id,
            )
        elif request.method == "DELETE":
            await unlink_ticket(session, ticket=ticket, agent_id=caller.agent_id)
        else:
            await rematch_ticket(session, shop=caller.shop, ticket=ticket)
        detail = await ticket_detail(
            session,
            await ticket_row(session, ticket=ticket),
            shop=caller.shop,
            locale=caller_locale(request, caller),
        )
    await _publish(request, caller, "ticket.updated", ticket_id=ticket_id)
    return JSONModelResponse(detail)


TICKET = "/api/v1/tickets/{ticket_id}"
NOT_FOUND = {404: "No such ticket in the caller's shop"}
ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/tickets",
        list_endpoint,
        "List tickets, newest activity first",
        "tickets",
        response=TicketList,
        query=(STATUS, VIEW, CHANNEL, TAG, SEARCH, LIMIT, CURSOR),
        responses={403: "'mine' from a caller that is no signed-in agent"},
    ),
    Endpoint(
        "GET",
        "/api/v1/tags",
        tags_endpoint,
        "The shop's ticket tags, most used first",
        "tickets",
        response=TagList,
    ),
    Endpoint(
        "POST",
        "/api/v1/tickets",
        create_endpoint,
        "Open a ticket with its first message",
        "tickets",
        body=TicketIn,
        response=TicketDetail,
        status=201,
        query=(LOCALE,),
        responses={
            401: "Missing, invalid or expired credentials, or a storefront identity not signed for the shop"
        },
    ),
    Endpoint(
        "GET",
        TICKET,
        detail_endpoint,
        "A ticket with its customer link",
        "tickets",
        response=TicketDetail,
        query=(LOCALE,),
        responses=NOT_FOUND,
    ),
    Endpoint(
        "PATCH",
        TICKET,
        update_endpoint,
        "Change status, assignee, tags or subject",
        "tickets",
        body=TicketUpdateIn,
        response=TicketDetail,
        query=(LOCALE,),
        responses={
            404: "No such ticket, or no such agent (assignee_id), in the caller's shop",
            422: "A tag that is empty, too long or holds a control character once written as tags are",
        },
    ),
    Endpoint(
        "GET",
        TICKET + "/messages",
        messages_endpoint,
        "The conversation, oldest first",
        "messages",
        response=MessageList,
        query=(AFTER_ID,),
        responses=NOT_FOUND,
    ),
    Endpoint(
        "GET",
        TICKET + "/attachments/{attachment_id}",
        attachment_endpoint,
        "A file the shopper attached to an email (pictures shown, anything else downloaded)",
        "messages",
        file=True,
        responses={404: "No such ticket or attachment in the caller's shop, or its file is gone"},
    ),
    Endpoint(
        "POST",
        TICKET + "/messages",
        post_message_endpoint,
        "Reply, add an internal note, or post as customer or bot",
        "messages",
        body=MessageIn,
        response=MessageOut,
        status=201,
        responses={**NOT_FOUND, 403: "'kind' from an API key, or 'author_type' from an agent"},
    ),
    Endpoint(
        "PUT",
        TICKET + "/link",
        link_endpoint,
        "Link the ticket to a Shopify customer (by an agent)",
        "linking",
        body=LinkIn,
        response=TicketDetail,
        query=(LOCALE,),
        responses={404: "No such ticket, or no such customer, in the caller's shop"},
    ),
    Endpoint(
        "DELETE",
        TICKET + "/link",
        link_endpoint,
        "Unlink; automatic matching then leaves the ticket alone",
        "linking",
        response=TicketDetail,
        query=(LOCALE,),
        responses=NOT_FOUND,
    ),
    Endpoint(
        "POST",
        TICKET + "/link/rematch",
        link_endpoint,
        "Match the ticket's contact again",
        "linking",
        response=TicketDetail,
        query=(LOCALE,),
        responses=NOT_FOUND,
    ),
]
