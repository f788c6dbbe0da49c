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

import asyncio
import logging
import weakref
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
from shop_app.channels.line.connections import line_client
from shop_app.channels.line.sending import event_retry_key, outbound_payload, send_held, send_parts
from shop_app.channels.outbound import SendResult
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
    LineUser,
    LineWebhookEvent,
    Message,
    OutboxMessage,
    Shop,
    Ticket,
    TicketStatus,
)
from shop_app.models.base import utcnow
from shop_app.notices.links import NoticeLinks
from shop_app.runtime import Services

logger = logging.getLogger(__name__)

LOADING_SECONDS = 20
# The answer waits at most this long for the loading animation's call, so as not to arrive before it
LOADING_WAIT_SECONDS = 1.0
# LINE users whose events one job applies at once (one user's own events always one after another): their
# LINE calls overlap; kept well under the database pool, so the webhooks' inserts always find a connection
USERS_AT_ONCE = 4
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
    held: list[OutboxMessage] = field(default_factory=list)  # the bot's answers, sent once committed
    user: LineUser | None = None
    direct: list[LineMessage] = field(default_factory=list)  # words outside any ticket (greeting, linking)
    issue_link_token: bool = False
    changed: list[int] = field(default_factory=list)  # messages whose text changed (unsent)
    # a self-service step to run once committed, and how its reply may use the event's reply token
    self_service: SelfServiceRequest | None = None
    reply_token: str | None = None
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What one read found for a batch of events: the waiting events, their shops, connections and the
    LINE users already known (their display names: the profile is asked for only once per user)."""

    rows: list[LineWebhookEvent]
    shops: dict[int, Shop]
    connections: dict[int, LineConnection]
    users: dict[tuple[int, str], LineUser]


async def _snapshot(services: Services, event_ids: list[int]) -> _Snapshot:
    # a read, taken in its turn: on SQLite every transaction holds the file's write lock, and one taken
    # outside the turns would leave the webhooks' inserts to SQLite's sleeping busy handler
    async with transaction(services.sessions) as session:
        rows = await inbox.pending_events(session, event_ids)
        shop_ids = sorted({row.shop_id for row in rows})
        if not shop_ids:
            return _Snapshot([], {}, {}, {})
        shops = await session.execute(select(Shop).where(col(Shop.id).in_(shop_ids)))
        connections = await session.execute(
            select(LineConnection).where(col(LineConnection.shop_id).in_(shop_ids))
        )
        line_user_ids = sorted({_source_user(row) for row in rows} - {""})
        users = await session.execute(
            select(LineUser).where(
                col(LineUser.shop_id).in_(shop_ids), col(LineUser.line_user_id).in_(line_user_ids)
            )
        )
        return _Snapshot(
            rows=rows,
            shops={shop.id: shop for shop in shops.scalars() if shop.id is not None},
            connections={connection.shop_id: connection for connection in connections.scalars()},
            users={(user.shop_id, user.line_user_id): user for user in users.scalars()},
        )


def _source_user(row: LineWebhookEvent) -> str:
    source = row.event.get("source") if isinstance(row.event, dict) else None
    user_id = source.get("userId") if isinstance(source, dict) else None
    return user_id if isinstance(user_id, str) else ""


def _parsed(row: LineWebhookEvent) -> LineEvent | None:
    try:
        return parse_event(dict(row.event))
    except LineParseError:
        logger.warning("line event unreadable shop_id=%s event_row=%s", row.shop_id, row.id)
        return None


async def process_line_events(services: Services, *, event_ids: list[int]) -> None:
    """A batch of events: one read for all of them, then each LINE user's events in order, several users at
    once (their LINE calls overlap). Each event is applied in one transaction with marking it done; one that
    fails (a race between two new users, a database hiccup) stays pending for the inbox sweep and does not
    hold back the others. The bot's answers are sent as soon as their event committed, and what LINE said
    of them is recorded for the whole batch in one transaction. Every line written while an event is
    applied (the bot's decision among them) carries LINE's id of it, as the webhook's request did."""
    snapshot = await _snapshot(services, event_ids)
    groups: dict[tuple[int, str], list[tuple[LineWebhookEvent, LineEvent]]] = {}
    idle: list[int] = []
    for row in snapshot.rows:
        event = _parsed(row)
        shop = snapshot.shops.get(row.shop_id)
        connection = snapshot.connections.get(row.shop_id)
        if (
            event is None
            or shop is None
            or not shop.is_active
            or connection is None
            or not connection.enabled
            or event.source_type != "user"
            or event.user_id is None
        ):
            idle.append(row.id or 0)
            continue
        groups.setdefault((row.shop_id, event.user_id), []).append((row, event))
    if idle:
        async with transaction(services.sessions) as session:
            await inbox.take_events(session, idle)
    sent: list[tuple[OutboxMessage, SendResult]] = []
    at_once = asyncio.Semaphore(USERS_AT_ONCE)

    async def one_user(key: tuple[int, str], items: list[tuple[LineWebhookEvent, LineEvent]]) -> None:
        async with at_once, _user_turn(key):
            await _apply_user_events(services, snapshot, key, items, sent)

    await asyncio.gather(*(one_user(key, items) for key, items in groups.items()))
    if sent:
        await outbound.record_results(services, sent)


_user_turns: weakref.WeakValueDictionary[tuple[int, str], asyncio.Lock] = weakref.WeakValueDictionary()


def _user_turn(key: tuple[int, str]) -> asyncio.Lock:
    """One LINE user's events are applied one after another in this process, whichever job holds them
    (across processes, the user's row lock orders them)."""
    lock = _user_turns.get(key)
    if lock is None:
        lock = _user_turns[key] = asyncio.Lock()
    return lock


async def _apply_user_events(
    services: Services,
    snapshot: _Snapshot,
    key: tuple[int, str],
    items: list[tuple[LineWebhookEvent, LineEvent]],
    sent: list[tuple[OutboxMessage, SendResult]],
) -> None:
    shop = snapshot.shops[key[0]]
    connection = snapshot.connections[key[0]]
    client = line_client(services, connection)
    known = snapshot.users.get(key)
    # the loading animation runs beside the bot's work; the answer waits for it only so as not to overtake it
    loading = None
    if any(event.type is EventType.MESSAGE and not event.standby for _, event in items):
        loading = asyncio.create_task(
            _quietly(client.show_loading(key[1], seconds=LOADING_SECONDS), "loading")
        )
        _courtesies.add(loading)
        loading.add_done_callback(_courtesies.discard)
    profile: Profile | None = None
    if (known is None or known.display_name is None) and any(
        event.type is not EventType.UNFOLLOW for _, event in items
    ):
        profile = await _quietly(client.profile(key[1]), "profile")
    for row, event in items:
        try:
            with bound_log_context(webhook_id=row.webhook_event_id):
                await _apply_event(
                    services,
                    row=row,
                    event=event,
                    shop=shop,
                    client=client,
                    profile=profile,
                    loading=loading,
                    sent=sent,
                )
        except SQLAlchemyError as error:
            logger.warning(
                "line event left for the sweep event_row=%s error=%s", row.id, type(error).__name__
            )


async def sweep_line_events(services: Services, *, older_than_seconds: float) -> None:
    async with services.sessions() as session:
        event_ids = await inbox.unfinished_event_ids(session, older_than_seconds=older_than_seconds)
    if event_ids:
        logger.info("line event sweep count=%s", len(event_ids))
        await process_line_events(services, event_ids=event_ids)


async def _apply_event(
    services: Services,
    *,
    row: LineWebhookEvent,
    event: LineEvent,
    shop: Shop,
    client: LineClient,
    profile: Profile | None,
    loading: asyncio.Task[None] | None,
    sent: list[tuple[OutboxMessage, SendResult]],
) -> None:
    assert row.id is not None
    async with transaction(services.sessions) as session:
        if not await inbox.take_events(session, [row.id]):
            return  # applied already (a redelivered job, the sweep)
        outcome = await _apply(
            session,
            shop=await session.merge(shop, load=False),
            event=event,
            profile=profile,
            received_at=row.received_at,
            links=NoticeLinks.of(services),
        )
    await _after_commit(services, shop, client, event, outcome, loading, sent)


_courtesies: set[asyncio.Task[None]] = set()


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
    outcome.user = user
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
    prior = await message_refs.prior_ref(session, shop_id=shop.id, line_message_id=message.id)
    if prior is not None and prior.unsent_at is not None:
        # the shopper took it back before we read it: it is kept as unsent, and nobody answers it
        ticket, posted, created = await _post_customer_message(
            session, shop=shop, user=user, body=text("line.unsent")
        )
        await message_refs.remember(
            session, shop_id=shop.id, line_message_id=message.id, message_id=_id(posted), prior=prior
        )
        outcome.ticket_id, outcome.created, outcome.posted = ticket.id, created, [_id(posted)]
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
        outcome.user = user
        await message_refs.remember(
            session, shop_id=shop.id, line_message_id=message.id, message_id=outcome.posted[0], prior=prior
        )
        return outcome
    label = text(MEDIA_KEYS.get(message.type, "line.other_content"))
    ticket, posted, created = await _post_customer_message(session, shop=shop, user=user, body=label)
    await message_refs.remember(
        session,
        shop_id=shop.id,
        line_message_id=message.id,
        message_id=_id(posted),
        kind=message.type.value if message.type in WITH_CONTENT else None,
        prior=prior,
    )
    outcome.ticket_id, outcome.created, outcome.posted = ticket.id, created, [_id(posted)]
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
) -> tuple[Ticket, Message, bool]:
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
        return ticket, message, True
    message = await post_message(session, ticket=ticket, author_type=AuthorType.CUSTOMER, body=body)
    return ticket, message, False


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
    ticket, message, created = await _post_customer_message(session, shop=shop, user=user, body=body)
    outcome.ticket_id, outcome.created, outcome.posted = ticket.id, created, [_id(message)]
    if event.standby:
        return outcome  # another channel answers this chat now: LINE gives no reply token, nothing is sent
    trust = Trust(
        storefront_customer_id=user.customer_shopify_id,
        trusted_caller=False,
        # attempts are counted per LINE user: new conversations do not buy new guesses
        source=f"line:{user.id}",
    )
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
        outbox.hold(row)  # sent once committed, by this job: nobody else takes it meanwhile
        outcome.held.append(row)
    await session.flush()
    return outcome


def _id(message: Message) -> int:
    assert message.id is not None
    return message.id


async def _after_commit(
    services: Services,
    shop: Shop,
    client: LineClient,
    event: LineEvent,
    outcome: _Outcome,
    loading: asyncio.Task[None] | None,
    sent: list[tuple[OutboxMessage, SendResult]],
) -> None:
    assert shop.id is not None
    user = outcome.user
    if loading is not None and (outcome.held or outcome.direct or outcome.issue_link_token):
        await asyncio.wait({loading}, timeout=LOADING_WAIT_SECONDS)
    if outcome.held and user is not None:
        for item in outcome.held:
            sent.append((item, await send_held(client, item, to=user.line_user_id)))
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
