"""Saved replies (macros): a shop's ready answers, written by its admins, inserted by agents into the
reply box with the conversation's facts filled in.

The text is a Jinja template reduced to plain text and ``{{ field }}``: it is parsed by Jinja's sandbox and
refused unless every node is text or one of ``FIELDS`` (no filters, attributes, calls, loops or blocks), so
an admin's text (or whoever got an admin's session) can read nothing but those fields and cannot make the
rendering loop or grow. The values are inserted once, as text: a customer called ``{{ shop_name }}`` stays
so. The result is plain text for the reply box (the console shows it as text, never as HTML).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.errors import Conflict, NotFound, Unprocessable
from shop_app.formats.display import ui_locale
from shop_app.helpdesk.agents import shopper_facing_name
from shop_app.helpdesk.profiles import ProfileTarget, build_profile
from shop_app.models import Agent, Contact, SavedReply, Shop, Ticket
from shop_app.models.base import utcnow
from shop_app.schemas.profiles import CustomerProfile

MAX_ROW_ID = 2**31 - 1
MAX_SAVED_REPLIES_PER_SHOP = 500


class Field(StrEnum):
    CUSTOMER_NAME = "customer_name"  # family name first for Japanese names
    ORDER_NUMBER = "order_number"  # the newest order's name (#1001)
    ORDER_STATUS = "order_status"  # its state in plain words, in the reply's language
    TRACKING_NUMBER = "tracking_number"  # its newest shipment's first tracking number
    AGENT_NAME = "agent_name"  # the agent inserting it, as shoppers see them
    SHOP_NAME = "shop_name"


FIELDS = frozenset(Field)
_ENVIRONMENT = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


def check_template(text: str) -> frozenset[Field]:
    """The fields the text uses; refused (400 ``invalid_saved_reply``) unless it is text and fields only."""
    try:
        tree = _ENVIRONMENT.parse(text)
    except TemplateSyntaxError as error:
        raise Unprocessable(f"Line {error.lineno}: {error.message}", code="invalid_saved_reply") from None
    used: set[Field] = set()
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            raise Unprocessable("Only text and {{ fields }} are allowed", code="invalid_saved_reply")
        for part in node.nodes:
            if isinstance(part, nodes.TemplateData):
                continue
            if isinstance(part, nodes.Name) and part.ctx == "load" and part.name in FIELDS:
                used.add(Field(part.name))
                continue
            shown = part.name if isinstance(part, nodes.Name) else type(part).__name__.lower()
            raise Unprocessable(
                f"Unknown field '{shown}': use {', '.join(sorted(FIELDS))}", code="invalid_saved_reply"
            )
    return frozenset(used)


def render_template(text: str, values: dict[Field, str]) -> str:
    check_template(text)
    return _ENVIRONMENT.from_string(text).render({field.value: values.get(field, "") for field in Field})


@dataclass(frozen=True, slots=True)
class Rendered:
    body: str
    missing: list[Field]  # fields the text uses that this conversation has no value for (left empty)


async def field_values(
    session: AsyncSession, *, shop: Shop, ticket: Ticket, agent: Agent | None, locale: str
) -> dict[Field, str]:
    values: dict[Field, str] = {Field.SHOP_NAME: shop.name or shop.domain}
    if agent is not None and (name := shopper_facing_name(agent.name, shop_name=shop.name)):
        values[Field.AGENT_NAME] = name
    contact = await session.get(Contact, ticket.contact_id)
    if contact is not None and contact.name:
        values[Field.CUSTOMER_NAME] = contact.name
    if ticket.customer_shopify_id is not None or ticket.guest_email or ticket.guest_phone:
        profile = await build_profile(
            session,
            shop=shop,
            target=ProfileTarget(ticket.customer_shopify_id, ticket.guest_email, ticket.guest_phone),
            locale=locale,
            exclude_ticket_id=ticket.id,
            orders_limit=1,
        )
        values.update(_profile_values(profile))
    return values


def _profile_values(profile: CustomerProfile) -> dict[Field, str]:
    values: dict[Field, str] = {}
    if profile.customer is not None and profile.customer.name:
        values[Field.CUSTOMER_NAME] = profile.customer.name
    if profile.orders:
        order = profile.orders[0]
        values[Field.ORDER_NUMBER] = order.name
        values[Field.ORDER_STATUS] = order.fulfillment_status.text
        if order.cancelled_at is not None:
            values[Field.ORDER_STATUS] = order.cancel_reason or order.financial_status.text
        numbers = [t.number for shipment in order.shipments for t in shipment.tracking]
        if numbers:
            values[Field.TRACKING_NUMBER] = numbers[0]
    return values


async def render_saved_reply(
    session: AsyncSession, *, shop: Shop, ticket: Ticket, agent: Agent | None, saved_reply: SavedReply
) -> Rendered:
    used = check_template(saved_reply.body)
    values = await field_values(session, shop=shop, ticket=ticket, agent=agent, locale=saved_reply.locale)
    return Rendered(
        body=render_template(saved_reply.body, values),
        missing=sorted(field for field in used if not values.get(field)),
    )


# ---- the shop's saved replies


async def list_saved_replies(
    session: AsyncSession, *, shop_id: int, locale: str | None = None
) -> list[SavedReply]:
    statement = select(SavedReply).where(col(SavedReply.shop_id) == shop_id)
    if locale is not None:
        statement = statement.where(col(SavedReply.locale) == locale)
    rows = await session.execute(
        statement.order_by(col(SavedReply.locale), col(SavedReply.title), col(SavedReply.id))
    )
    return list(rows.scalars())


async def access_saved_reply(session: AsyncSession, *, shop_id: int, saved_reply_id: int) -> SavedReply:
    row = await session.get(SavedReply, saved_reply_id) if 0 < saved_reply_id <= MAX_ROW_ID else None
    if row is None or row.shop_id != shop_id:
        raise NotFound("No such saved reply", code="saved_reply_not_found")
    return row


async def _title_taken(session: AsyncSession, row: SavedReply) -> bool:
    with session.no_autoflush:  # the row's new title is not written before it is checked
        found = await session.execute(
            select(col(SavedReply.id)).where(
                col(SavedReply.shop_id) == row.shop_id,
                col(SavedReply.locale) == row.locale,
                col(SavedReply.title) == row.title,
                col(SavedReply.id) != (row.id or 0),
            )
        )
    return found.first() is not None


async def _save(session: AsyncSession, row: SavedReply) -> SavedReply:
    if await _title_taken(session, row):
        raise Conflict("A saved reply with this title exists in this language", code="saved_reply_exists")
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:  # the same title saved at the same moment by someone else
        raise Conflict(
            "A saved reply with this title exists in this language", code="saved_reply_exists"
        ) from None
    return row


async def create_saved_reply(
    session: AsyncSession, *, shop_id: int, locale: str, title: str, body: str, agent_id: int | None
) -> SavedReply:
    check_template(body)
    count = len(await list_saved_replies(session, shop_id=shop_id))
    if count >= MAX_SAVED_REPLIES_PER_SHOP:
        raise Unprocessable(
            f"A shop has at most {MAX_SAVED_REPLIES_PER_SHOP} saved replies", code="too_many_saved_replies"
        )
    now = utcnow()
    row = SavedReply(
        shop_id=shop_id,
        locale=ui_locale(locale).value,
        title=title,
        body=body,
        updated_by_id=agent_id,
        created_at=now,
        updated_at=now,
    )
    return await _save(session, row)


async def update_saved_reply(
    session: AsyncSession,
    *,
    row: SavedReply,
    locale: str | None,
    title: str | None,
    body: str | None,
    agent_id: int | None,
) -> SavedReply:
    if body is not None:
        check_template(body)
        row.body = body
    if locale is not None:
        row.locale = ui_locale(locale).value
    if title is not None:
        row.title = title
    row.updated_by_id = agent_id
    row.updated_at = utcnow()
    return await _save(session, row)


async def delete_saved_reply(session: AsyncSession, *, row: SavedReply) -> None:
    await session.delete(row)
    await session.flush()
