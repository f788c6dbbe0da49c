"""Chatwoot: the agent bot, the dashboard app (the profile card) and the contact's custom attributes.

Inbound: Chatwoot posts the bot's events to ``/connectors/chatwoot/hook/{key}``, signed with the bot's
secret (``X-Chatwoot-Signature``, Chatwoot v4.13.0+), checked before the body is parsed; a stale timestamp
is refused and a delivery id is applied once. Only an ``incoming``, non-private message from a contact in a
``pending`` conversation is answered, by the same engine as the widget and LINE, through Chatwoot's API with
the bot's token; our own messages (sender ``agent_bot``), activity and template messages never trigger us.
A handoff posts a private note with the bot's summary and opens the conversation (pending → open); an
agent's reply silences the bot in that conversation until an agent hands it back (status → pending). The
conversation is mirrored by a ticket of ours (its id, inbox, status), so decisions and analytics work the
same. With a user's token, the matched customer's id, order count, total spent and last order state are
written to the contact's custom attributes.

The dashboard app is ``/connectors/chatwoot/card?connector={id}&key={signed key}``: the key is an HMAC of
the connector with the app's session secret (a per-account key, shown in the admin page). Chatwoot posts
the conversation and contact to it unsigned; they only choose whom to show to the holder of that key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.chatwoot.client import ChatwootClient, RateLimiter
from integrations.chatwoot.errors import (
    ChatwootApiError,
    ChatwootError,
    ChatwootNotChatwoot,
    ChatwootNotFound,
    ChatwootUnauthorized,
    ChatwootUnavailable,
)
from integrations.chatwoot.payloads import (
    ChatwootEvent,
    ConversationEvent,
    ConversationStatus,
    MessageEvent,
    MessageType,
    Sender,
    parse_body,
    parse_event,
)
from integrations.chatwoot.signatures import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)
from shop_app.answers import Trust, answer_message
from shop_app.channels import outbound
from shop_app.connectors.conversations import (
    ExternalContact,
    bot_may_answer,
    console_reply_sent,
    find_mirror,
    mirror_conversation,
    mirrored_ticket,
    post_agent_reply,
    post_customer_message,
)
from shop_app.connectors.registry import (
    AfterCommit,
    CardViewer,
    CheckResult,
    FieldKind,
    FormField,
    Inbound,
    Refused,
    Verified,
)
from shop_app.connectors.storage import access_connector, connector_secrets, inbound_url, origin_of
from shop_app.database import transaction
from shop_app.helpdesk import outbox
from shop_app.helpdesk.tickets import post_message, update_ticket
from shop_app.i18n import accepted_locales, first_supported
from shop_app.live_events import EventKind, LiveEvent
from shop_app.models import (
    AuthorType,
    Connector,
    ConnectorConversation,
    ConnectorVendor,
    Customer,
    DecisionAction,
    Message,
    Order,
    OutboxMessage,
    Shop,
    Ticket,
    TicketStatus,
)
from shop_app.models.base import utcnow
from shop_app.runtime import Services
from shop_app.settings import Secret, Settings

logger = logging.getLogger(__name__)

CARD_PATH = "/connectors/chatwoot/card"
CARD_KEY_CHARS = 43
ATTACHMENT_LABEL = "[attachment]"
# For an unknown key: the same HMAC work as for a real one, so timing tells nothing.
_NO_SECRET = hashlib.sha256(b"no connector").hexdigest()
ATTRIBUTE_PREFIX = "orderdesk_"


@dataclass(frozen=True, slots=True)
class _Posted:
    shop_id: int
    ticket_id: int | None = None
    created: bool = False
    message_ids: list[int] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)
    contact_id: int | None = None
    ticket: Ticket | None = None  # read after the commit: linked to a customer by then, or not


def card_key(settings: Settings, connector: Connector) -> str:
    message = f"chatwoot-card|{connector.id}|{connector.account}|{connector.inbound_key}".encode()
    digest = hmac.new(settings.session_secret.reveal().encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def card_url(settings: Settings, connector: Connector) -> str:
    query = urlencode({"connector": connector.id, "key": card_key(settings, connector)})
    return f"{settings.app_url}{CARD_PATH}?{query}"


class ChatwootVendor:
    name = ConnectorVendor.CHATWOOT
    fields: Sequence[FormField] = (
        FormField("base_url", FieldKind.URL),
        FormField("account", FieldKind.TEXT, max_chars=12, digits=True),
        FormField("bot_token", FieldKind.SECRET, max_chars=200),
        FormField("bot_secret", FieldKind.SECRET, max_chars=200),
        FormField("user_token", FieldKind.SECRET, required=False, max_chars=200),
    )

    def __init__(self) -> None:
        self._limiters: dict[int, RateLimiter] = {}

    def origin(self, connector: Connector) -> str:
        return origin_of(connector.base_url)

    def setup_urls(self, settings: Settings, connector: Connector) -> dict[str, str]:
        return {"bot": inbound_url(settings, connector), "dashboard_app": card_url(settings, connector)}

    def client(self, services: Services, connector: Connector, token: Secret) -> ChatwootClient:
        assert connector.id is not None
        limiter = self._limiters.setdefault(connector.id, RateLimiter())
        return ChatwootClient(
            services.helpdesk,
            base_url=connector.base_url,
            account_id=int(connector.account),
            token=token.reveal(),
            limiter=limiter,
        )

    async def check(
        self, services: Services, connector: Connector, secrets: Mapping[str, Secret]
    ) -> CheckResult:
        """With a user's token: the profile must list the account. Without: the bot token must reach the
        account (a status toggle on conversation 0 answers 404 with a good token, 401 with a bad one)."""
        try:
            if "user_token" in secrets:
                profile = await self.client(services, connector, secrets["user_token"]).profile()
                if int(connector.account) not in profile.account_ids:
                    return CheckResult.NOT_FOUND
            # no conversation has display id 0: a good token gets 404, a bad one 401
            with contextlib.suppress(ChatwootNotFound):
                await self.client(services, connector, secrets["bot_token"]).toggle_status(0, "pending")
            return CheckResult.OK
        except ChatwootUnauthorized:
            return CheckResult.TOKEN_REFUSED
        except ChatwootNotChatwoot:
            return CheckResult.NOT_A_HELPDESK
        except ChatwootNotFound:
            return CheckResult.NOT_FOUND
        except ChatwootUnavailable as error:
            return (
                CheckResult.UNREACHABLE
                if error.status_code in (0, 429) or error.status_code >= 500
                else CheckResult.REFUSED
            )
        except ChatwootApiError:
            return CheckResult.REFUSED

    def verify(
        self, inbound: Inbound, secrets: Mapping[str, Secret] | None, *, now: float
    ) -> Verified | Refused:
        secret = secrets["bot_secret"].reveal() if secrets and "bot_secret" in secrets else _NO_SECRET
        signed = verify_signature(
            inbound.body,
            signature=inbound.headers.get(SIGNATURE_HEADER),
            timestamp=inbound.headers.get(TIMESTAMP_HEADER),
            secret=secret,
            now=now,
        )
        if not signed or secrets is None:
            return Refused("signature")
        try:
            data, event = parse_body(inbound.body)
        except ChatwootError:
            return Refused("body")
        delivery = (inbound.headers.get(DELIVERY_HEADER) or "").strip()[:100]
        if not delivery:
            delivery = "sha256:" + hashlib.sha256(inbound.body).hexdigest()
        return Verified(delivery_id=delivery, event=data, store=_acted_on(event))

    async def card_viewer(self, services: Services, inbound: Inbound) -> CardViewer | None:
        raw_id = inbound.query.get("connector", "")
        presented = inbound.query.get("key", "")
        if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 10 or len(presented) > 100:
            return None
        async with services.sessions() as session:
            connector = await session.get(Connector, int(raw_id))
        if connector is None or connector.vendor != ConnectorVendor.CHATWOOT:
            return None
        expected = card_key(services.settings, connector)
        if not hmac.compare_digest(expected.encode(), presented.encode()):
            return None
        assert connector.id is not None
        locale = first_supported(
            inbound.query.get("locale"), *accepted_locales(inbound.headers.get("accept-language"))
        )
        return CardViewer(connector_id=connector.id, locale=locale)

    reads_first = False

    async def prepare(
        self, services: Services, *, connector: Connector, event: dict[str, Any]
    ) -> dict[str, Any]:
        return event  # Chatwoot's webhook carries the message, its sender and the conversation

    async def apply(
        self,
        services: Services,
        session: AsyncSession,
        *,
        connector: Connector,
        shop: Shop,
        event: dict[str, Any],
    ) -> AfterCommit | None:
        try:
            parsed = parse_event(event)
        except ChatwootError:
            logger.warning("chatwoot event unreadable connector_id=%s", connector.id)
            return None
        if isinstance(parsed, MessageEvent) and parsed.event == "message_created":
            posted = await self._message(session, connector=connector, shop=shop, event=parsed)
        elif isinstance(parsed, ConversationEvent):
            posted = await self._conversation(session, connector=connector, event=parsed)
        else:
            return None
        if posted is None:
            return None

        async def after() -> None:
            await self._after_commit(services, connector, posted)

        return after

    async def _message(
        self, session: AsyncSession, *, connector: Connector, shop: Shop, event: MessageEvent
    ) -> _Posted | None:
        assert shop.id is not None
        if event.from_bot or event.message_type in (MessageType.ACTIVITY, MessageType.TEMPLATE):
            return None  # our own replies and notes, and Chatwoot's own lines, never trigger us
        conversation = event.conversation
        contact = conversation.meta.sender if conversation.meta and conversation.meta.sender else None
        if event.from_contact and event.sender is not None:
            contact = event.sender
        mirror = await mirror_conversation(
            session,
            connector=connector,
            external_id=str(conversation.id),
            inbox=str(event.inbox.id),
            status=conversation.status.value,
            contact_id=str(contact.id) if contact is not None else None,
        )
        body = (event.content or "").strip() or ATTACHMENT_LABEL
        if event.from_agent:
            if event.private:
                ticket = await mirrored_ticket(session, mirror=mirror)
                if ticket is not None:
                    written = await post_message(
                        session, ticket=ticket, author_type=AuthorType.NOTE, body=body
                    )
                    return _Posted(shop_id=shop.id, ticket_id=ticket.id, message_ids=[written.id or 0])
                return None
            message = await post_agent_reply(session, mirror=mirror, body=body)
            if message is None:
                return None
            return _Posted(shop_id=shop.id, ticket_id=message.ticket_id, message_ids=[message.id or 0])
        if not event.from_contact or event.private:
            return None
        ticket, message, created = await post_customer_message(
            session, shop=shop, connector=connector, mirror=mirror, person=_person(contact), body=body
        )
        posted = _Posted(
            shop_id=shop.id,
            ticket_id=ticket.id,
            created=created,
            message_ids=[message.id or 0],
            contact_id=contact.id if contact is not None else None,
            ticket=ticket,
        )
        if conversation.status is not ConversationStatus.PENDING or not bot_may_answer(mirror):
            return posted  # an agent has it: mirrored, not answered
        if body == ATTACHMENT_LABEL:
            return posted
        trust = Trust(
            storefront_customer_id=None,
            trusted_caller=False,
            # attempts are counted per Chatwoot contact: new conversations do not buy new guesses
            source=f"chatwoot:{connector.id}:{contact.id if contact else conversation.id}",
        )
        decision = await answer_message(session, shop=shop, ticket=ticket, message=message, trust=trust)
        for message_id in (decision.reply_message_id, decision.note_message_id):
            if message_id is not None:
                posted.message_ids.append(message_id)
        payload = {"conversation_id": conversation.id}
        for row in await outbox.for_messages(
            session, [decision.reply_message_id] if decision.reply_message_id else []
        ):
            row.payload = {**(row.payload or {}), **payload}
            if row.id is not None:
                posted.outbox_ids.append(row.id)
        if decision.action == DecisionAction.HANDOFF:
            mirror.handed_off_at = utcnow()
            note = await session.get(Message, decision.note_message_id) if decision.note_message_id else None
            if note is not None:
                handoff = await outbox.record(
                    session, ticket=ticket, message=note, payload={**payload, "private": True, "open": True}
                )
                if handoff.id is not None:
                    posted.outbox_ids.append(handoff.id)
        return posted

    async def _conversation(
        self, session: AsyncSession, *, connector: Connector, event: ConversationEvent
    ) -> _Posted | None:
        mirror = await find_mirror(session, connector=connector, external_id=str(event.id), lock=True)
        if mirror is None:
            return None
        mirror.status = event.status.value
        mirror.updated_at = utcnow()
        if event.status is ConversationStatus.PENDING:
            mirror.handed_off_at = None  # an agent handed it back to the bot
            mirror.agent_replied_at = None
        ticket = await mirrored_ticket(session, mirror=mirror)
        if ticket is not None and event.status is ConversationStatus.RESOLVED:
            await update_ticket(session, ticket=ticket, status=TicketStatus.RESOLVED)
        await session.flush()
        return _Posted(shop_id=mirror.shop_id, ticket_id=ticket.id if ticket else None)

    async def _after_commit(self, services: Services, connector: Connector, posted: _Posted) -> None:
        # the helpdesk's reply call first: the consoles' live events (NOTIFY round trips) may follow it
        if posted.outbox_ids:
            await outbound.deliver(services, posted.outbox_ids)
        if posted.ticket_id is not None:
            if posted.created:
                await services.events.publish(
                    LiveEvent(
                        shop_id=posted.shop_id,
                        kind=EventKind.TICKET_CREATED,
                        data={"ticket_id": posted.ticket_id},
                    )
                )
            for message_id in posted.message_ids:
                await services.events.publish(
                    LiveEvent(
                        shop_id=posted.shop_id,
                        kind=EventKind.MESSAGE_CREATED,
                        data={"ticket_id": posted.ticket_id, "message_id": message_id},
                    )
                )
            await services.events.publish(
                LiveEvent(
                    shop_id=posted.shop_id,
                    kind=EventKind.TICKET_UPDATED,
                    data={"ticket_id": posted.ticket_id},
                )
            )
        linked = posted.ticket is not None and posted.ticket.customer_shopify_id is not None
        if linked and posted.contact_id is not None and posted.ticket_id is not None:
            # (a guest's contact gets nothing: no session, no call)
            await self.write_contact_attributes(
                services, connector, ticket_id=posted.ticket_id, contact_id=posted.contact_id
            )

    async def write_contact_attributes(
        self, services: Services, connector: Connector, *, ticket_id: int, contact_id: int
    ) -> bool:
        """The matched customer's id, order count, total spent and last order state on the Chatwoot contact
        (only with a user's token: a bot's may not touch contacts)."""
        secrets = connector_secrets(services.cipher, connector)
        if "user_token" not in secrets:
            return False
        async with services.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None or ticket.shop_id != connector.shop_id or ticket.customer_shopify_id is None:
                return False
            attributes = await contact_attributes(
                session, shop_id=connector.shop_id, customer_id=ticket.customer_shopify_id
            )
        try:
            await self.client(services, connector, secrets["user_token"]).update_contact_attributes(
                contact_id, attributes
            )
        except ChatwootError as error:
            logger.info("chatwoot contact attributes not written: %s", type(error).__name__)
            return False
        return True


async def contact_attributes(session: AsyncSession, *, shop_id: int, customer_id: int) -> dict[str, Any]:
    customer = (
        await session.execute(
            select(Customer).where(col(Customer.shop_id) == shop_id, col(Customer.shopify_id) == customer_id)
        )
    ).scalar_one_or_none()
    last = (
        await session.execute(
            select(Order)
            .where(col(Order.shop_id) == shop_id, col(Order.customer_shopify_id) == customer_id)
            .order_by(col(Order.created_at).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    spent: float | None = None
    if customer is not None and customer.amount_spent:
        try:
            spent = float(Decimal(customer.amount_spent))
        except InvalidOperation:
            spent = None
    state = None
    if last is not None:
        state = (
            "CANCELLED" if last.cancelled_at else (last.fulfillment_status or last.financial_status or None)
        )
    return {
        f"{ATTRIBUTE_PREFIX}customer_id": str(customer_id),
        f"{ATTRIBUTE_PREFIX}orders_count": customer.orders_count if customer is not None else None,
        f"{ATTRIBUTE_PREFIX}total_spent": spent,
        f"{ATTRIBUTE_PREFIX}currency": customer.currency if customer is not None else None,
        f"{ATTRIBUTE_PREFIX}last_order_state": state,
        f"{ATTRIBUTE_PREFIX}last_order": last.name if last is not None else None,
    }


def _acted_on(event: ChatwootEvent) -> bool:
    """Whether ``apply`` could do anything with it: our own echoes, activity and template lines, edits
    and events we do not follow are answered and dropped, never stored."""
    if isinstance(event, MessageEvent):
        return (
            event.event == "message_created"
            and not event.from_bot
            and event.message_type in (MessageType.INCOMING, MessageType.OUTGOING)
        )
    return isinstance(event, ConversationEvent)


def _person(sender: Sender | None) -> ExternalContact:
    if sender is None:
        return ExternalContact(external_id=None)
    return ExternalContact(
        external_id=str(sender.id), name=sender.name, email=sender.email, phone=sender.phone_number
    )


async def send_chatwoot(
    services: Services, item: OutboxMessage, message: Message, ticket: Ticket
) -> outbound.SendResult:
    """The outbox's sender for Chatwoot tickets: the message into the conversation with the bot's token
    (private for a note), then, for a handoff, the conversation opened for the agents."""
    async with services.sessions() as session:
        connector = await access_connector(session, shop_id=ticket.shop_id, vendor=ConnectorVendor.CHATWOOT)
        conversation_id = (item.payload or {}).get("conversation_id")
        if connector is not None and not isinstance(conversation_id, int):
            mirror = (
                await session.execute(
                    select(ConnectorConversation).where(
                        col(ConnectorConversation.connector_id) == connector.id,
                        col(ConnectorConversation.ticket_id) == ticket.id,
                    )
                )
            ).scalar_one_or_none()
            conversation_id = (
                int(mirror.external_id) if mirror is not None and mirror.external_id.isdigit() else None
            )
    if connector is None or connector.paused or not isinstance(conversation_id, int):
        return outbound.GaveUp("no Chatwoot conversation for this ticket")
    client = CHATWOOT.client(services, connector, connector_secrets(services.cipher, connector)["bot_token"])
    payload = item.payload or {}
    try:
        sent_id = await client.create_message(
            conversation_id, message.body, private=bool(payload.get("private"))
        )
        if payload.get("open"):
            await client.toggle_status(conversation_id, "open")
    except ChatwootUnavailable as error:
        return outbound.RetryAfter(f"chatwoot {error.status_code}", error.retry_after_seconds)
    except ChatwootApiError as error:
        return outbound.GaveUp(f"chatwoot refused ({error.status_code})")
    if message.author_type == AuthorType.AGENT:
        async with transaction(services.sessions) as session:
            await console_reply_sent(session, ticket=ticket)
    return outbound.Sent(external_id=str(sent_id))


CHATWOOT = ChatwootVendor()
