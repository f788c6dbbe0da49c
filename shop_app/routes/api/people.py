"""Contacts, Shopify customers (search and profile) and the shop's agents."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from shop_app.errors import Conflict, NotFound
from shop_app.helpdesk.agents import add_agent_to_shop, agent_label, remove_membership, shop_agents
from shop_app.helpdesk.contacts import ContactDetails, access_contact, search_customers, update_contact
from shop_app.helpdesk.profiles import ProfileTarget, build_profile
from shop_app.helpdesk.tickets import access_ticket
from shop_app.i18n import catalogue
from shop_app.live_events import LiveEvent
from shop_app.routes.api.auth import Caller, authenticate, require_admin
from shop_app.routes.api.io import (
    MAX_SHOPIFY_ID,
    SHOPIFY_ID,
    Endpoint,
    JSONModelResponse,
    TextQuery,
    path_id,
    read_body,
)
from shop_app.routes.api.locales import LOCALE, caller_locale
from shop_app.routes.api.presenters import contact_out, customer_hit
from shop_app.routes.request_state import services
from shop_app.schemas.profiles import CustomerProfile
from shop_app.schemas.tickets import (
    NO_NUL,
    AgentIn,
    AgentList,
    AgentOut,
    ContactOut,
    ContactUpdateIn,
    CustomerList,
    ProfileOut,
)


async def contact_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    contact_id = path_id(request, "contact_id")
    async with services(request).sessions() as session:
        contact = await access_contact(session, shop_id=caller.shop_id, contact_id=contact_id)
    return JSONModelResponse(contact_out(contact, shop=caller.shop))


async def update_contact_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    contact_id = path_id(request, "contact_id")
    body = await read_body(request, ContactUpdateIn)
    async with services(request).sessions() as session, session.begin():
        contact = await access_contact(session, shop_id=caller.shop_id, contact_id=contact_id)
        tickets = await update_contact(
            session,
            shop=caller.shop,
            contact=contact,
            changes=ContactDetails(name=body.name, email=body.email, phone=body.phone),
            fields=set(body.model_fields_set),
        )
        out = contact_out(contact, shop=caller.shop)
    for ticket in tickets:
        assert ticket.id is not None
        await services(request).events.publish(
            LiveEvent(shop_id=caller.shop_id, kind="ticket.updated", data={"ticket_id": ticket.id})
        )
    return JSONModelResponse(out)


SEARCH = TextQuery("q", "an email, a phone number, an order name or a name", 320, NO_NUL)


async def customers_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    query = SEARCH.read(request) or ""
    async with services(request).sessions() as session:
        found = await search_customers(session, shop=caller.shop, query=query)
    return JSONModelResponse(CustomerList(customers=[customer_hit(c, shop=caller.shop) for c in found]))


async def customer_profile_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    customer_id = path_id(request, "customer_id", upper=MAX_SHOPIFY_ID)
    locale = caller_locale(request, caller)
    async with services(request).sessions() as session:
        profile = await build_profile(
            session,
            shop=caller.shop,
            target=ProfileTarget(customer_shopify_id=customer_id, guest_email=None, guest_phone=None),
            locale=locale,
        )
    if profile.customer is None:  # not in this shop's mirror (or another shop's id)
        raise NotFound("No such customer", code="customer_not_found")
    return JSONModelResponse(ProfileOut(profile=profile))


async def ticket_profile_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    ticket_id = path_id(request, "ticket_id")
    locale = caller_locale(request, caller)
    profile: CustomerProfile | None = None
    async with services(request).sessions() as session:
        ticket = await access_ticket(session, shop_id=caller.shop_id, ticket_id=ticket_id)
        if ticket.customer_shopify_id or ticket.guest_email or ticket.guest_phone:
            profile = await build_profile(
                session,
                shop=caller.shop,
                target=ProfileTarget(
                    customer_shopify_id=ticket.customer_shopify_id,
                    guest_email=ticket.guest_email,
                    guest_phone=ticket.guest_phone,
                ),
                locale=locale,
                exclude_ticket_id=ticket_id,
            )
    return JSONModelResponse(ProfileOut(profile=profile))


async def agents_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    async with services(request).sessions() as session:
        members = await shop_agents(session, shop_id=caller.shop_id)
    return JSONModelResponse(
        AgentList(
            agents=[
                AgentOut(id=agent.id, name=agent_label(agent), email=agent.email, role=role)
                for agent, role in members
                if agent.id is not None
            ]
        )
    )


async def add_agent_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller)
    body = await read_body(request, AgentIn)
    async with services(request).sessions() as session, session.begin():
        try:
            added = await add_agent_to_shop(
                session,
                shop=caller.shop,
                email=body.email,
                name=body.name,
                password=body.password,
                role=body.role,
                locale=body.locale,
            )
        except Conflict as error:
            raise _in_callers_language(request, caller, error) from None
        agent = added.agent
        assert agent.id is not None
        out = AgentOut(id=agent.id, name=agent_label(agent), email=agent.email, role=added.role)
    return JSONModelResponse(out, status_code=201)


async def remove_agent_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller)
    agent_id = path_id(request, "agent_id")
    if agent_id == caller.agent_id:
        raise Conflict("Admins cannot remove themselves", code="cannot_remove_self")
    async with services(request).sessions() as session, session.begin():
        try:
            await remove_membership(session, shop_id=caller.shop_id, agent_id=agent_id)
        except Conflict as error:
            raise _in_callers_language(request, caller, error) from None
    return Response(status_code=204)


def _in_callers_language(request: Request, caller: Caller, error: Conflict) -> Conflict:
    """The refusal in the caller's language where the catalogue words it (``error.<code>``)."""
    words = catalogue(caller_locale(request, caller))
    if f"error.{error.code}" not in words.messages:
        return error
    return Conflict(words.text(f"error.{error.code}"), code=error.code)


ADMINS = {403: "Only the shop's admins"}
ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/tickets/{ticket_id}/profile",
        ticket_profile_endpoint,
        "The profile of the ticket's linked customer or guest (null when unlinked)",
        "profiles",
        response=ProfileOut,
        query=(LOCALE,),
        responses={404: "No such ticket in the caller's shop"},
    ),
    Endpoint(
        "GET",
        "/api/v1/customers",
        customers_endpoint,
        "Find customers by email, phone, order name or name",
        "profiles",
        response=CustomerList,
        query=(SEARCH,),
    ),
    Endpoint(
        "GET",
        "/api/v1/customers/{customer_id}/profile",
        customer_profile_endpoint,
        "A Shopify customer's profile: orders, shipments, stock, earlier tickets",
        "profiles",
        response=ProfileOut,
        query=(LOCALE,),
        responses={404: "No such customer in the shop"},
        path_schemas={"customer_id": SHOPIFY_ID},
    ),
    Endpoint(
        "GET",
        "/api/v1/contacts/{contact_id}",
        contact_endpoint,
        "A contact",
        "contacts",
        response=ContactOut,
        responses={404: "No such contact in the caller's shop"},
    ),
    Endpoint(
        "PATCH",
        "/api/v1/contacts/{contact_id}",
        update_contact_endpoint,
        "Correct a contact's name, email or phone (its tickets are matched again)",
        "contacts",
        body=ContactUpdateIn,
        response=ContactOut,
        responses={
            404: "No such contact in the caller's shop",
            422: "A phone number that is no number of the shop's country (nor +E.164)",
        },
    ),
    Endpoint("GET", "/api/v1/agents", agents_endpoint, "The shop's agents", "agents", response=AgentList),
    Endpoint(
        "POST",
        "/api/v1/agents",
        add_agent_endpoint,
        "Add an agent to the shop, or change a member's role (admins). An email has one account per "
        "shop: another shop's agent with the same email is a different account, never touched",
        "agents",
        body=AgentIn,
        response=AgentOut,
        status=201,
        responses={
            **ADMINS,
            409: "That would leave the shop without an admin",
            422: "A new agent without a password",
        },
    ),
    Endpoint(
        "DELETE",
        "/api/v1/agents/{agent_id}",
        remove_agent_endpoint,
        "Remove an agent from the shop (admins); their tickets return to the queue",
        "agents",
        status=204,
        responses={
            **ADMINS,
            404: "No such agent in the shop",
            409: "Admins cannot remove themselves, and the shop keeps its last admin",
        },
    ),
]
