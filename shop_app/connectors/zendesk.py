"""Zendesk: the bot answering in Zendesk tickets, and the profile card as a Support app's sidebar.

Inbound: our triggers (ticket created; public comment) notify a webhook signed with Zendesk's signature,
verified before the body is read (``integrations.zendesk.signatures``); the body carries ids only. The bot's
turn reads the ticket's comments back from the Tickets API: our own comments (the API user's) never
trigger us; a comment by anyone but the requester and us is an agent's, recorded on the mirror, and from
then on the bot is silent; the requester's latest public comment (each comment once, whichever trigger
brought it) is mirrored onto our ticket and answered by the same engine as every channel. Answers leave by
the outbox as public comments; a handoff is an internal note with the bot's summary, the ticket opened in
the handoff group, and a tag.

The sidebar: Zendesk loads our page with a signed-URL JWT (``integrations.zendesk.signed_urls``), checked
with the app's public key (fetched from the account, cached for an hour) for this account and installation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.zendesk.client import Comment, User, ZendeskClient
from integrations.zendesk.errors import (
    ZendeskApiError,
    ZendeskError,
    ZendeskNotFound,
    ZendeskUnauthorized,
    ZendeskUnavailable,
)
from integrations.zendesk.payloads import TriggerKind, ZendeskParseError, parse_trigger_event
from integrations.zendesk.signatures import (
    INVOCATION_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_webhook,
)
from integrations.zendesk.signed_urls import FORM_FIELD, InvalidAppToken, decode_app_token
from shop_app.answers import Trust, answer_message
from shop_app.channels import outbound
from shop_app.channels.outbound import GaveUp, RetryAfter, SendResult, Sent
from shop_app.connectors.conversations import (
    ExternalContact,
    bot_may_answer,
    console_reply_sent,
    mirror_conversation,
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
from shop_app.connectors.storage import connector_for_key, connector_secrets, inbound_url, origin_of
from shop_app.database import transaction
from shop_app.helpdesk import outbox
from shop_app.i18n import accepted_locales, supported_locale
from shop_app.live_events import EventKind, LiveEvent
from shop_app.models import (
    AuthorType,
    Connector,
    ConnectorConversation,
    ConnectorEvent,
    ConnectorEventStatus,
    ConnectorVendor,
    DecisionAction,
    Message,
    OutboxMessage,
    Shop,
    Ticket,
)
from shop_app.models.base import utcnow
from shop_app.runtime import Services
from shop_app.settings import Secret, Settings

logger = logging.getLogger(__name__)

HANDOFF_TAG = "order_desk_handoff"
PRIORITY_TAG = "order_desk_priority"
PUBLIC_KEY_TTL_SECONDS = 3600.0
MAX_CACHED_KEYS = 1000
# an unknown key is verified against this, so it costs what a known one does
_NO_SECRET = "unknown connector: no secret matches this"  # noqa: S105 - a placeholder, never a match
SIDEBAR_PATH = "/zendesk/sidebar"


def zendesk_client(services: Services, connector: Connector, secrets: Mapping[str, Secret]) -> ZendeskClient:
    return ZendeskClient(
        services.helpdesk,
        base_url=connector.base_url,
        email=str(connector.settings.get("email", "")),
        api_token=secrets["api_token"].reveal() if "api_token" in secrets else "",
    )


def sidebar_url(settings: Settings, connector: Connector) -> str:
    return f"{settings.app_url}{SIDEBAR_PATH}?key={connector.inbound_key}"


def _int_setting(connector: Connector, name: str) -> int | None:
    raw = connector.settings.get(name)
    text = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) <= 20 else None


class _PublicKeys:
    """The apps' public keys, per connector and app id, kept an hour (they change only with the app)."""

    def __init__(self) -> None:
        self._keys: dict[tuple[int, int], tuple[str, float]] = {}

    async def get(self, client: ZendeskClient, *, connector_id: int, app_id: int, fresh: bool = False) -> str:
        found = self._keys.get((connector_id, app_id))
        now = time.monotonic()
        if found is not None and not fresh and now - found[1] < PUBLIC_KEY_TTL_SECONDS:
            return found[0]
        pem = await client.app_public_key(app_id)
        if len(self._keys) >= MAX_CACHED_KEYS:
            self._keys.clear()
        self._keys[(connector_id, app_id)] = (pem, now)
        return pem

    def forget(self) -> None:
        self._keys.clear()


class Zendesk:
    name = ConnectorVendor.ZENDESK
    fields: Sequence[FormField] = (
        FormField("base_url", FieldKind.URL),  # https://{subdomain}.zendesk.com
        FormField("account", FieldKind.TEXT, max_chars=63),  # the subdomain
        FormField("email", FieldKind.TEXT, max_chars=254),  # the API token's user
        FormField("api_token", FieldKind.SECRET),
        FormField("signing_secret", FieldKind.SECRET),
        FormField("handoff_group_id", FieldKind.TEXT, required=False, max_chars=20, digits=True),
        FormField("app_id", FieldKind.TEXT, required=False, max_chars=20, digits=True),
        FormField("installation_id", FieldKind.TEXT, required=False, max_chars=20, digits=True),
    )

    def __init__(self) -> None:
        self.public_keys = _PublicKeys()

    def origin(self, connector: Connector) -> str:
        return origin_of(connector.base_url)

    def setup_urls(self, settings: Settings, connector: Connector) -> dict[str, str]:
        return {"webhook": inbound_url(settings, connector), "sidebar": sidebar_url(settings, connector)}

    async def check(
        self, services: Services, connector: Connector, secrets: Mapping[str, Secret]
    ) -> CheckResult:
        client = zendesk_client(services, connector, secrets)
        try:
            await client.me()
            app_id = _int_setting(connector, "app_id")
            if app_id is not None:
                await client.app_public_key(app_id)
        except ZendeskUnauthorized:
            return CheckResult.TOKEN_REFUSED
        except ZendeskNotFound:
            return CheckResult.NOT_FOUND
        except ZendeskUnavailable as error:
            return CheckResult.UNREACHABLE if error.status_code == 0 else CheckResult.REFUSED
        except ZendeskApiError as error:
            return CheckResult.NOT_A_HELPDESK if error.status_code < 300 else CheckResult.REFUSED
        except (httpx.HTTPError, ValueError, KeyError):
            return CheckResult.NOT_A_HELPDESK
        return CheckResult.OK

    def verify(
        self, inbound: Inbound, secrets: Mapping[str, Secret] | None, *, now: float
    ) -> Verified | Refused:
        secret = secrets["signing_secret"].reveal() if secrets and "signing_secret" in secrets else _NO_SECRET
        verdict = verify_webhook(
            inbound.body,
            signature=inbound.headers.get(SIGNATURE_HEADER),
            timestamp=inbound.headers.get(TIMESTAMP_HEADER),
            secrets=[secret],
            now=_utc(now),
        )
        if verdict.refusal is not None:
            return Refused(verdict.refusal.value)
        try:
            event = parse_trigger_event(inbound.body)
        except ZendeskParseError as error:
            return Refused(str(error))
        invocation = inbound.headers.get(INVOCATION_HEADER, "")
        # Zendesk keeps the invocation id on its retries; without one the signature (timestamp + body) is
        # the delivery's identity
        delivery = (
            invocation[:100] if invocation.isascii() and invocation else inbound.headers[SIGNATURE_HEADER]
        )
        return Verified(
            delivery_id=f"zendesk:{delivery}",
            event={
                "kind": event.kind.value,
                "ticket_id": event.ticket_id,
                "requester_id": event.requester_id,
            },
        )

    reads_first = True

    async def prepare(
        self, services: Services, *, connector: Connector, event: dict[str, Any]
    ) -> dict[str, Any]:
        """The trigger's body carries ids only: the API user (once), the ticket's comments and, when the
        requester wrote last, the requester, read before the bot's transaction opens."""
        TriggerKind(event["kind"])  # stored by verify: a kind we know
        ticket_id, requester_id = int(event["ticket_id"]), int(event["requester_id"])
        client = zendesk_client(services, connector, connector_secrets(services.cipher, connector))
        bot_id = _int_setting(connector, "bot_user_id")
        me = await client.me() if bot_id is None else None
        comments = await client.comments(ticket_id)
        public = [comment for comment in comments if comment.public]
        person = await client.user(requester_id) if public and public[-1].author_id == requester_id else None
        return {
            **event,
            "bot_user_id": me.id if me is not None else bot_id,
            "comments": comments,
            "requester": person,
        }

    async def apply(
        self,
        services: Services,
        session: AsyncSession,
        *,
        connector: Connector,
        shop: Shop,
        event: dict[str, Any],
    ) -> AfterCommit | None:
        return await _bot_turn(services, session, connector=connector, shop=shop, event=event)

    async def card_viewer(self, services: Services, inbound: Inbound) -> CardViewer | None:
        token = inbound.form.get(FORM_FIELD, "")
        async with services.sessions() as session:
            connector = await connector_for_key(session, vendor=self.name, key=inbound.query.get("key", ""))
        if connector is None or connector.id is None or connector.paused or not token:
            return None
        app_id, installation_id = (
            _int_setting(connector, "app_id"),
            _int_setting(connector, "installation_id"),
        )
        if app_id is None or installation_id is None:
            return None
        client = zendesk_client(services, connector, connector_secrets(services.cipher, connector))
        try:
            for fresh in (False, True):
                pem = await self.public_keys.get(
                    client, connector_id=connector.id, app_id=app_id, fresh=fresh
                )
                try:
                    decode_app_token(
                        token,
                        public_key_pem=pem,
                        subdomain=connector.account,
                        installation_id=installation_id,
                    )
                    break
                except InvalidAppToken as error:
                    # a key kept from before the app was uploaded again: fetched once more, then refused
                    if fresh or "signature" not in str(error):
                        raise
        except ZendeskError as error:
            logger.info(
                "zendesk public key unavailable connector_id=%s error=%s", connector.id, type(error).__name__
            )
            return None
        except InvalidAppToken as error:
            logger.info("zendesk signed url refused connector_id=%s reason=%s", connector.id, error)
            return None
        # the agent's browser's language until the app framework says the agent's own (``card.js``)
        accepted = (supported_locale(x) for x in accepted_locales(inbound.headers.get("accept-language")))
        return CardViewer(connector_id=connector.id, locale=next((x for x in accepted if x), None))


def _utc(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


# ---- the bot's turn -----------------------------------------------------------------------------------


async def _seen_once(session: AsyncSession, *, connector: Connector, comment_id: int) -> bool:
    """True the first time this comment is taken up (two triggers, or two deliveries, may bring the same
    one): remembered as a done event of the connector, checked while the mirror's row is locked."""
    assert connector.id is not None
    delivery_id = f"comment:{comment_id}"
    seen = await session.execute(
        select(col(ConnectorEvent.id)).where(
            col(ConnectorEvent.connector_id) == connector.id, col(ConnectorEvent.delivery_id) == delivery_id
        )
    )
    if seen.first() is not None:
        return False
    now = utcnow()
    session.add(
        ConnectorEvent(
            shop_id=connector.shop_id,
            connector_id=connector.id,
            delivery_id=delivery_id,
            status=ConnectorEventStatus.DONE,
            received_at=now,
            processed_at=now,
        )
    )
    await session.flush()
    return True


async def _bot_turn(
    services: Services, session: AsyncSession, *, connector: Connector, shop: Shop, event: dict[str, Any]
) -> AfterCommit | None:
    ticket_id, requester_id = int(event["ticket_id"]), int(event["requester_id"])
    bot_id: int = event["bot_user_id"]
    if _int_setting(connector, "bot_user_id") != bot_id:
        # the API token's user (whose comments are ours), remembered in the connector's settings
        connector.settings = {**connector.settings, "bot_user_id": str(bot_id)}
    comments: list[Comment] = event["comments"]
    public = [comment for comment in comments if comment.public]
    if not public or public[-1].author_id == bot_id:
        return None  # our own comment came back through the trigger: never a turn of ours
    mirror = await mirror_conversation(
        session,
        connector=connector,
        external_id=str(ticket_id),
        inbox=None,
        status=None,
        contact_id=str(requester_id),
    )
    agents = [c for c in comments if c.author_id not in (requester_id, bot_id)]
    if agents and mirror.agent_replied_at is None:
        await post_agent_reply(session, mirror=mirror, body=agents[-1].body)
    latest: Comment = public[-1]
    if latest.author_id != requester_id or not await _seen_once(
        session, connector=connector, comment_id=latest.id
    ):
        return _publisher(services, shop, mirror.ticket_id, created=False, posted=[])
    person: User | None = event["requester"]
    if person is None:
        return None
    ticket, message, created = await post_customer_message(
        session,
        shop=shop,
        connector=connector,
        mirror=mirror,
        person=ExternalContact(
            external_id=str(requester_id), name=person.name, email=person.email, locale=person.locale
        ),
        body=latest.body,
    )
    assert message.id is not None
    posted = [message.id]
    if not bot_may_answer(mirror):
        return _publisher(services, shop, ticket.id, created=created, posted=posted)
    decision = await answer_message(
        session,
        shop=shop,
        ticket=ticket,
        message=message,
        # attempts are counted per Zendesk requester: new tickets do not buy new guesses
        trust=Trust(trusted_caller=False, source=f"zendesk:{connector.id}:{requester_id}"),
    )
    outbox_ids: list[int] = []
    for row in await outbox.for_messages(session, [m for m in (decision.reply_message_id,) if m]):
        if row.id is not None:
            outbox_ids.append(row.id)
    if decision.action == DecisionAction.HANDOFF and decision.note_message_id is not None:
        mirror.handed_off_at = utcnow()
        note = await session.get_one(Message, decision.note_message_id)
        row = await outbox.record(
            session, ticket=ticket, message=note, payload={"zendesk_priority": decision.priority}
        )
        if row.id is not None:
            outbox_ids.append(row.id)
    posted += [m for m in (decision.reply_message_id, decision.note_message_id) if m is not None]
    publish = _publisher(services, shop, ticket.id, created=created, posted=posted)

    async def after() -> None:
        # the helpdesk's reply call first: the consoles' live events (NOTIFY round trips) may follow it
        if outbox_ids:
            await outbound.deliver(services, outbox_ids)
        await publish()

    return after


def _publisher(
    services: Services, shop: Shop, ticket_id: int | None, *, created: bool, posted: list[int]
) -> AfterCommit:
    async def publish() -> None:
        if ticket_id is None or shop.id is None:
            return
        if created:
            await services.events.publish(
                LiveEvent(shop_id=shop.id, kind=EventKind.TICKET_CREATED, data={"ticket_id": ticket_id})
            )
        for message_id in posted:
            await services.events.publish(
                LiveEvent(
                    shop_id=shop.id,
                    kind=EventKind.MESSAGE_CREATED,
                    data={"ticket_id": ticket_id, "message_id": message_id},
                )
            )
        await services.events.publish(
            LiveEvent(shop_id=shop.id, kind=EventKind.TICKET_UPDATED, data={"ticket_id": ticket_id})
        )

    return publish


# ---- sending (the outbox's sender for Channel.ZENDESK) --------------------------------------------------


async def send_zendesk(
    services: Services, item: OutboxMessage, message: Message, ticket: Ticket
) -> SendResult:
    """A bot or agent message as a public comment; the bot's handoff note as an internal note that opens the
    ticket in the handoff group, then the handoff tag."""
    async with services.sessions() as session:
        mirror = (
            await session.execute(
                select(ConnectorConversation).where(
                    col(ConnectorConversation.ticket_id) == ticket.id,
                    col(ConnectorConversation.shop_id) == ticket.shop_id,
                )
            )
        ).scalar_one_or_none()
        connector = await session.get(Connector, mirror.connector_id) if mirror is not None else None
    if mirror is None or connector is None or connector.shop_id != ticket.shop_id:
        return GaveUp("not_mirrored")
    if connector.paused:
        return RetryAfter("connector_paused", seconds=3600.0)
    client = zendesk_client(services, connector, connector_secrets(services.cipher, connector))
    external_id = int(mirror.external_id)
    try:
        if message.author_type == AuthorType.NOTE:
            await client.add_comment(
                external_id,
                message.body,
                public=False,
                group_id=_int_setting(connector, "handoff_group_id"),
                status="open",
            )
            priority = bool((item.payload or {}).get("zendesk_priority"))
            await client.add_tags(external_id, [HANDOFF_TAG, *([PRIORITY_TAG] if priority else [])])
        else:
            await client.add_comment(external_id, message.body, public=True)
    except ZendeskUnavailable as error:
        return RetryAfter(f"zendesk_{error.status_code}", seconds=error.retry_after_seconds)
    except ZendeskApiError as error:
        return GaveUp(f"zendesk_{error.status_code}")
    if message.author_type == AuthorType.AGENT:
        async with transaction(services.sessions) as session:
            await console_reply_sent(session, ticket=ticket)
    return Sent()


ZENDESK = Zendesk()
