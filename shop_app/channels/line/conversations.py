"""The bot's turn for LINE events, run as a job after LINE got its 200.

Each stored event is applied once, in one transaction with marking it done: a text message becomes the
shopper's message in their LINE conversation (a ticket on the LINE channel) and the bot answers it as in
the widget, with the trust LINE can vouch for (a user linked to a Shopify customer through the account-link
flow is that customer; anyone else verifies by order number and details, with the same attempt limits);
stickers, images and other media are stored as a label (media with LINE's id, which the console opens) and
handed to a person; follow greets, unfollow is remembered, ``accountLink`` links, ``unsend`` replaces what
the shopper took back. The loading animation shows while the bot
works. Replies leave after the commit: by the event's reply token while it is valid, else by push.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.line.client import LineClient, Profile
from integrations.line.errors import LineError
from integrations.line.events import ContentType, EventType, LineEvent, LineParseError, parse_event
from integrations.line.messages import (
    LineMessage,
    QuickReply,
    text_message,
    text_messages,
    uri_button_message,
)
from shop_app.answers import Trust, answer_message
from shop_app.answers.engine import HANDOFF_TAG
from shop_app.answers.self_service import SelfServiceRequest
from shop_app.answers.understanding.model import Intent
from shop_app.channels import outbound
from shop_app.channels.line import account_links, inbox, message_refs
from shop_app.channels.line.cards import order_card, quick_replies, reply_messages, words
from shop_app.channels.line.connections import connection_for_shop, line_client
from shop_app.channels.line.sending import (
    event_retry_key,
    outbound_payload,
    send_parts,
)
from shop_app.channels.self_service import self_service_turn
from shop_app.database import transaction
from shop_app.helpdesk import outbox
from shop_app.helpdesk.tickets import open_ticket, post_message, update_ticket
from shop_app.i18n import catalogue
from shop_app.live_events import LiveEvent
from shop_app.logging_config import bound_log_context
from shop_app.models import (
    AuthorType,
    Channel,
    Contact,
    DecisionAction,
    LineConnection,
    LineEventStatus,
    LineUser,
    LineWebhookEvent,
    Message,
    Shop,
    Ticket,
    TicketStatus,
)
from shop_app.models.base import utcnow
from shop_app.notices.links import NoticeLinks
from shop_app.runtime import Services

logger = logging.getLogger(__name__)

LOADING_SECONDS = 20
# A conversation the bot or an agent resolved is taken up again when the shopper writes within this long;
# after it, their next message opens a new ticket.
REOPEN_WINDOW_SECONDS = 24 * 3600
MEDIA_KEYS = {
    ContentType.STICKER: "line.sticker",
    ContentType.IMAGE: "line.image",
    ContentType.VIDEO: "line.video",
    ContentType.AUDIO: "line.audio",
    ContentType.FILE: "line.file",
    ContentType.LOCATION: "line.location",
}
WITH_CONTENT = frozenset({ContentType.IMAGE, ContentType.VIDEO, ContentType.AUDIO, ContentType.FILE})

T = TypeVar("T")


@dataclass
class _Outcome:
    """What to do once the event's transaction committed."""

    ticket_id: int | None = None
    created: bool = False
    posted: list[int] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)  # the bot's answers, sent once committed
    direct: list[LineMessage] = field(default_factory=list)  # words outside any ticket (greeting, linking)
    issue_link_token: bool = False
    changed: list[int] = field(default_factory=list)  # messages whose text changed (unsent)
    # a self-service step to run once committed, and how its reply may use the event's reply token
    self_service: SelfServiceRequest | None = None
    reply_token: str | None = None
    received_at: datetime | None = None


async def process_line_events(services: Services, *, event_ids: list[int]) -> None:
    """Each event on its own: one that fails (a race between two new users, a database hiccup) stays
    pending for the inbox sweep and does not hold back the others. Every line written while an event is
    applied (the bot's decision among them) carries LINE's id of it, as the webhook's request did."""
    async with services.sessions() as session:
        rows = await session.execute(
            select(col(LineWebhookEvent.id), col(LineWebhookEvent.webhook_event_id)).where(
                col(LineWebhookEvent.id).in_(event_ids)
            )
        )
        webhook_ids: dict[int | None, str] = dict(rows.all())
    for event_id in sorted(event_ids):
        try:
            with bound_log_context(webhook_id=webhook_ids.get(event_id)):
                await apply_event(services, event_id=event_id)
        except SQLAlchemyError as error:
            logger.warning(
                "line event left for the sweep event_row=%s error=%s", event_id, type(error).__name__
            )


async def sweep_line_events(services: Services, *, older_than_seconds: float) -> None:
    async with services.sessions() as session:
        event_ids = await inbox.unfinished_event_ids(session, older_than_seconds=older_than_seconds)
    if event_ids:
        logger.info("line event sweep count=%s", len(event_ids))
        await process_line_events(services, event_ids=event_ids)


async def apply_event(services: Services, *, event_id: int) -> None:
    async with services.sessions() as session:
        row = await session.get(LineWebhookEvent, event_id)
        if row is None or row.status != LineEventStatus.PENDING:
            return
        shop = await session.get(Shop, row.shop_id)
        connection = await connection_for_shop(session, shop_id=row.shop_id)
        raw = dict(row.event)
        received_at = row.received_at
    event: LineEvent | None
    try:
        event = parse_event(raw)
    except LineParseError:
        logger.warning("line event unreadable shop_id=%s event_row=%s", row.shop_id, event_id)
        event = None
    usable = (
        event is not None
        and shop is not None
        and shop.is_active
        and connection is not None
        and connection.enabled
        and event.source_type == "user"
        and event.user_id is not None
    )
    if not usable:
        await _finish_without_acting(services, event_id)
        return
    assert event is not None
    assert shop is not None
    assert connection is not None
    assert event.user_id is not None
    client = line_client(services, connection)
    async with services.sessions() as session:
        user = await _line_user(session, shop_id=row.shop_id, line_user_id=event.user_id)
    if event.type is EventType.MESSAGE and not event.standby:
        await _quietly(client.show_loading(event.user_id, seconds=LOADING_SECONDS), "loading")
    profile: Profile | None = None
    if (user is None or user.display_name is None) and event.type is not EventType.UNFOLLOW:
        profile = await _quietly(client.profile(event.user_id), "profile")
    async with transaction(services.sessions) as session:
        claimed = await inbox.claim_event(session, event_id=event_id)
        if claimed is None:
            return
        shop = await session.get_one(Shop, shop.id)
        outcome = await _apply(
            session,
            shop=shop,
            event=event,
            profile=profile,
            received_at=received_at,
            links=NoticeLinks.of(services),
        )
        inbox.mark_done(claimed)
        line_user = await _line_user(session, shop_id=row.shop_id, line_user_id=event.user_id)
    await _after_commit(services, shop, connection, client, event, line_user, outcome)


async def _finish_without_acting(services: Services, event_id: int) -> None:
    async with transaction(services.sessions) as session:
        claimed = await inbox.claim_event(session, event_id=event_id)
        if claimed is not None:
            inbox.mark_done(claimed)


async def _quietly(call: Awaitable[T], what: str) -> T | None:
    """A courtesy call (the loading animation, the profile): its failure never stops the answer."""
    try:
        return await call
    except LineError as error:
        logger.info("line %s call failed: %s", what, type(error).__name__)
        return None


async def _line_user(
    session: AsyncSession, *, shop_id: int, line_user_id: str, lock: bool = False
) -> LineUser | None:
    """The shop's LINE user; with ``lock``, held until the transaction ends, so one user's events are
    applied one after another however many workers run (two new users racing meet the unique key, and the
    loser's event is applied by the next sweep)."""
    statement = select(LineUser).where(
        col(LineUser.shop_id) == shop_id, col(LineUser.line_user_id) == line_user_id
    )
    return (await session.execute(statement.with_for_update() if lock else statement)).scalar_one_or_none()


async def _user(
    session: AsyncSession, *, shop: Shop, line_user_id: str, profile: Profile | None, following: bool = True
) -> LineUser:
    """The LINE user as a contact of the shop (its display name from LINE's profile)."""
    assert shop.id is not None
    user = await _line_user(session, shop_id=shop.id, line_user_id=line_user_id, lock=True)
    now = utcnow()
    if user is None:
        contact = Contact(shop_id=shop.id, name=profile.display_name if profile else None)
        contact.locale = _language(profile)
        session.add(contact)
        await session.flush()
        assert contact.id is not None
        user = LineUser(shop_id=shop.id, line_user_id=line_user_id, contact_id=contact.id, created_at=now)
        session.add(user)
    if profile is not None:
        user.display_name = profile.display_name or user.display_name
        user.language = _language(profile) or user.language
        contact = await session.get_one(Contact, user.contact_id)
        contact.name = contact.name or profile.display_name or None
        contact.locale = contact.locale or _language(profile)
    user.following = following
    user.updated_at = now
    await session.flush()
    return user


def _language(profile: Profile | None) -> str | None:
    if profile is None or not profile.language:
        return None
    return profile.language.split("-")[0][:20]


async def _apply(
    session: AsyncSession,
    *,
    shop: Shop,
    event: LineEvent,
    profile: Profile | None,
    received_at: datetime,
    links: NoticeLinks | None = None,
) -> _Outcome:
    assert event.user_id is not None
    outcome = _Outcome()
    if event.type is EventType.UNFOLLOW:
        existing = await _line_user(session, shop_id=shop.id or 0, line_user_id=event.user_id, lock=True)
        if existing is not None:
            existing.following = False
            existing.updated_at = utcnow()
        return outcome
    if event.type is EventType.UNSEND:
        return await _unsend(session, shop=shop, event=event)
    if event.type not in (EventType.MESSAGE, EventType.FOLLOW, EventType.POSTBACK, EventType.ACCOUNT_LINK):
        return outcome
    user = await _user(session, shop=shop, line_user_id=event.user_id, profile=profile)
    text = catalogue(words(user.language or shop.primary_locale)).text
    if event.type is EventType.FOLLOW:
        outcome.direct = [
            text_message(text("line.greeting", shop_name=shop.name or shop.domain)),
        ]
        outcome.issue_link_token = user.customer_shopify_id is None
        return outcome
    if event.type is EventType.ACCOUNT_LINK:
        assert event.link is not None
        linked = event.link.ok and await account_links.complete_link(
            session, shop=shop, user=user, nonce=event.link.nonce or ""
        )
        outcome.direct = [text_message(text("line.link.done" if linked else "line.link.failed"))]
        return outcome
    if event.type is EventType.POSTBACK:
        data = event.postback_data or ""
        if data == "action=link":
            outcome.issue_link_token = True
        elif data == "action=unlink":
            await account_links.unlink(session, shop=shop, user=user)
            outcome.direct = [text_message(text("line.link.unlinked"))]
        return outcome
    assert event.message is not None
    assert shop.id is not None
    message = event.message
    if await message_refs.unsent_already(session, shop_id=shop.id, line_message_id=message.id):
        # the shopper took it back before we read it: it is kept as unsent, and nobody answers it
        ticket, posted, created = await _post_customer_message(
            session, shop=shop, user=user, body=text("line.unsent")
        )
        await message_refs.remember(session, shop_id=shop.id, line_message_id=message.id, message_id=posted)
        outcome.ticket_id, outcome.created, outcome.posted = ticket.id, created, [posted]
        return outcome
    if message.type is ContentType.TEXT and message.text is not None:
        said = message.text.strip()
        if _is_keyword(said, "line.unlink.keywords"):
            await account_links.unlink(session, shop=shop, user=user)
            outcome.direct = [text_message(text("line.link.unlinked"))]
            return outcome
        if _is_keyword(said, "line.link.keywords"):
            outcome.issue_link_token = True
            return outcome
        outcome = await _customer_said(
            session,
            shop=shop,
            user=user,
            body=message.text,
            event=event,
            received_at=received_at,
            links=links,
        )
        await message_refs.remember(
            session, shop_id=shop.id, line_message_id=message.id, message_id=outcome.posted[0]
        )
        return outcome
    label = text(MEDIA_KEYS.get(message.type, "line.other_content"))
    ticket, posted, created = await _post_customer_message(session, shop=shop, user=user, body=label)
    await message_refs.remember(
        session,
        shop_id=shop.id,
        line_message_id=message.id,
        message_id=posted,
        kind=message.type.value if message.type in WITH_CONTENT else None,
    )
    outcome.ticket_id, outcome.created, outcome.posted = ticket.id, created, [posted]
    await _hand_to_person(session, ticket=ticket, kind=label, language=user.language or shop.primary_locale)
    return outcome


async def _unsend(session: AsyncSession, *, shop: Shop, event: LineEvent) -> _Outcome:
    """The shopper unsent a message: what it said is no longer shown, in the console or anywhere else."""
    outcome = _Outcome()
    if event.unsent_message_id is None or shop.id is None:
        return outcome
    user = await _line_user(session, shop_id=shop.id, line_user_id=event.user_id or "", lock=True)
    text = catalogue(words((user.language if user else None) or shop.primary_locale)).text
    changed = await message_refs.unsend(
        session, shop_id=shop.id, line_message_id=event.unsent_message_id, placeholder=text("line.unsent")
    )
    if changed is not None:
        outcome.ticket_id, outcome.changed = changed.ticket_id, [changed.id or 0]
    return outcome


def _is_keyword(said: str, key: str) -> bool:
    folded = said.casefold().strip("。.!！ ")
    return any(folded in catalogue(lang).text(key).casefold().split("|") for lang in ("ja", "en"))


async def _post_customer_message(
    session: AsyncSession, *, shop: Shop, user: LineUser, body: str
) -> tuple[Ticket, int, bool]:
    """The shopper's message in their LINE conversation: the current ticket, reopened when it was resolved
    recently, else a new one."""
    now = utcnow()
    ticket = await session.get(Ticket, user.ticket_id) if user.ticket_id is not None else None
    if ticket is not None and (
        ticket.shop_id != shop.id
        or (
            ticket.status == TicketStatus.RESOLVED
            and (
                ticket.resolved_at is None
                or now - ticket.resolved_at > timedelta(seconds=REOPEN_WINDOW_SECONDS)
            )
        )
    ):
        ticket = None
    if ticket is None:
        contact = await session.get_one(Contact, user.contact_id)
        ticket, message = await open_ticket(
            session, shop=shop, contact=contact, channel=Channel.LINE, subject="", first_message=body
        )
        user.ticket_id = ticket.id
        assert message.id is not None
        return ticket, message.id, True
    message = await post_message(session, ticket=ticket, author_type=AuthorType.CUSTOMER, body=body)
    assert message.id is not None
    return ticket, message.id, False


async def _hand_to_person(session: AsyncSession, *, ticket: Ticket, kind: str, language: str | None) -> None:
    text = catalogue(words(language)).text
    await post_message(
        session, ticket=ticket, author_type=AuthorType.NOTE, body=text("line.media_note", kind=kind)
    )
    tags = ticket.tags if HANDOFF_TAG in ticket.tags else [*ticket.tags, HANDOFF_TAG]
    await update_ticket(session, ticket=ticket, status=TicketStatus.OPEN, tags=tags)


async def _customer_said(
    session: AsyncSession,
    *,
    shop: Shop,
    user: LineUser,
    body: str,
    event: LineEvent,
    received_at: datetime,
    links: NoticeLinks | None = None,
) -> _Outcome:
    outcome = _Outcome()
    ticket, message_id, created = await _post_customer_message(session, shop=shop, user=user, body=body)
    outcome.ticket_id, outcome.created, outcome.posted = ticket.id, created, [message_id]
    if event.standby:
        return outcome  # another channel answers this chat now: LINE gives no reply token, nothing is sent
    trust = Trust(
        storefront_customer_id=user.customer_shopify_id,
        trusted_caller=False,
        # attempts are counted per LINE user: new conversations do not buy new guesses
        source=f"line:{user.id}",
    )
    message = await session.get_one(Message, message_id)
    decision = await answer_message(
        session, shop=shop, ticket=ticket, message=message, trust=trust, links=links
    )
    for posted in (decision.reply_message_id, decision.note_message_id):
        if posted is not None:
            outcome.posted.append(posted)
    if decision.self_service is not None:
        outcome.self_service = decision.self_service
        outcome.reply_token, outcome.received_at = event.reply_token, received_at
    if decision.reply_message_id is None or decision.reply is None:
        return outcome
    messages = reply_messages(
        decision.reply, language=decision.language, restock_offer_url=decision.restock_offer_url
    )
    if (
        decision.action == DecisionAction.REPLY
        and decision.intent == Intent.ORDER_STATUS
        and decision.order_id is not None
    ):
        card = await order_card(
            session,
            shop=shop,
            order_shopify_id=decision.order_id,
            language=decision.language,
            alt_text=decision.reply,
        )
        if card is not None:
            messages = [text_message(decision.reply), card]
    payload = outbound_payload(reply_token=event.reply_token, received_at=received_at, messages=messages)
    # the outbox row post_message recorded with the answer gets, in the same transaction, what LINE needs
    for row in await outbox.for_messages(session, [decision.reply_message_id]):
        row.payload = {**(row.payload or {}), **payload}
        if row.id is not None:
            outcome.outbox_ids.append(row.id)
    return outcome


async def _after_commit(
    services: Services,
    shop: Shop,
    connection: LineConnection,
    client: LineClient,
    event: LineEvent,
    user: LineUser | None,
    outcome: _Outcome,
) -> None:
    assert shop.id is not None
    if outcome.ticket_id is not None:
        if outcome.created:
            await services.events.publish(
                LiveEvent(shop_id=shop.id, kind="ticket.created", data={"ticket_id": outcome.ticket_id})
            )
        for message_id in outcome.posted:
            await services.events.publish(
                LiveEvent(
                    shop_id=shop.id,
                    kind="message.created",
                    data={"ticket_id": outcome.ticket_id, "message_id": message_id},
                )
            )
        for message_id in outcome.changed:
            await services.events.publish(
                LiveEvent(
                    shop_id=shop.id,
                    kind="message.updated",
                    data={"ticket_id": outcome.ticket_id, "message_id": message_id},
                )
            )
        await services.events.publish(
            LiveEvent(shop_id=shop.id, kind="ticket.updated", data={"ticket_id": outcome.ticket_id})
        )
    if outcome.outbox_ids:
        await outbound.deliver(services, outcome.outbox_ids)
    if outcome.self_service is not None and outcome.ticket_id is not None:
        request = outcome.self_service

        def line_outbound(reply: str, choices: list[tuple[str, str]]) -> dict[str, object]:
            """The reply with yes/no quick replies when it asks for one (a tap sends the word)."""
            buttons = [QuickReply(label=label, text=said) for label, said in choices]
            return outbound_payload(
                reply_token=outcome.reply_token,
                received_at=outcome.received_at,
                messages=text_messages(reply, quick_replies=buttons or quick_replies(request.language)),
            )

        await self_service_turn(
            services, shop=shop, ticket_id=outcome.ticket_id, request=request, outbound=line_outbound
        )
    direct = list(outcome.direct)
    if outcome.issue_link_token and user is not None:
        direct += await _link_offer(services, shop, client, user)
    if direct and user is not None:
        usable = event.reply_token if event.reply_token and not event.standby else None
        await send_parts(
            client,
            to=user.line_user_id,
            parts=[direct[:5]],
            reply_token=usable,
            keys=[event_retry_key(shop.id, event.webhook_event_id)],
        )


async def _link_offer(
    services: Services, shop: Shop, client: LineClient, user: LineUser
) -> list[LineMessage]:
    text = catalogue(words(user.language or shop.primary_locale)).text
    try:
        link_token = await client.issue_link_token(user.line_user_id)
    except LineError as error:
        logger.info("line link token refused: %s", type(error).__name__)
        return [text_message(text("line.link.unavailable"), quick_replies=quick_replies(user.language))]
    async with transaction(services.sessions) as session:
        stored = await session.get_one(LineUser, user.id)
        await account_links.record_link_token(session, user=stored, link_token=link_token)
    return [
        uri_button_message(
            text("line.link.offer"),
            label=text("line.link.button"),
            uri=account_links.link_page_url(services.settings.shop_url(shop.domain), link_token),
            alt_text=text("line.link.offer"),
        )
    ]
