"""The SMTP listener (aiosmtpd) in the running event loop: the merchant forwards their support address to
it, or points the domain's MX at it.

Recipients are checked at RCPT: an address that leads to no shop is refused with 550, so the listener
relays for no one. A message larger than the limit is refused at DATA (552, by aiosmtpd's
``data_size_limit``). With a certificate (``SHOP_APP_MAIL_TLS_CERT``/``_KEY``) it offers STARTTLS. A
message is stored before the 250 that accepts it; the bot answers afterwards, so the sender is never kept
waiting for it."""

from __future__ import annotations

import asyncio
import logging
import ssl
import weakref
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from integrations.mail.parsing import MalformedMail, parse_mail
from shop_app.channels.email.addresses import Route, route_recipient
from shop_app.channels.email.inbound import Received, answer_mail, receive_mail
from shop_app.channels.email.sending import send_email
from shop_app.channels.outbound import deliver, register_sender
from shop_app.channels.self_service import self_service_turn
from shop_app.database import transaction
from shop_app.helpdesk import outbox
from shop_app.live_events import EventKind, LiveEvent
from shop_app.models import Channel, Message, Shop, Ticket
from shop_app.notices.links import NoticeLinks
from shop_app.runtime import Services

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 20

AfterReceived = Callable[[Services, list[int]], Awaitable[None]]


async def deliver_replies(services: Services, message_ids: list[int]) -> None:
    """Send the bot's replies at once (the outbox holds them; its sweep retries what fails)."""
    register_sender(Channel.EMAIL, send_email)
    async with services.sessions() as db:
        items = await outbox.for_messages(db, message_ids)
    ids = [item.id for item in items if item.id is not None]
    if ids:
        await deliver(services, ids)


class MailHandler:
    """aiosmtpd's handler. ``after_answer`` runs with the ids of the bot's replies once they are
    committed: by default the outbox sends them."""

    def __init__(self, services: Services, *, after_answer: AfterReceived | None = deliver_replies) -> None:
        self._services = services
        self._after_answer = after_answer
        self._work: set[asyncio.Task[None]] = set()
        # each envelope's accepted routes, from RCPT to DATA (no second lookup per recipient)
        self._routes: weakref.WeakKeyDictionary[Envelope, dict[tuple[int, int | None], Route]] = (
            weakref.WeakKeyDictionary()
        )

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        async with self._services.sessions() as db:
            route = await route_recipient(db, address)
        if route is None:
            return "550 5.1.1 No such recipient here"
        self._routes.setdefault(envelope, {}).setdefault((route.shop_id, route.ticket_id), route)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        limits = self._services.settings.mail
        if len(raw) > limits.max_message_bytes:
            return "552 5.3.4 Message too big"
        try:
            mail = parse_mail(
                raw,
                # the null sender (bounces) arrives as "<>"
                envelope_sender="" if envelope.mail_from in ("", "<>") else envelope.mail_from,
                max_attachment_bytes=limits.max_attachment_bytes,
                max_attachments=limits.max_attachments,
            )
        except MalformedMail as error:
            logger.info("mail refused reason=malformed detail=%s", error)
            return "550 5.6.0 This message cannot be read"
        received: list[Received] = []
        routes = self._routes.pop(envelope, {})
        try:
            async with transaction(self._services.sessions) as db:
                for route in routes.values():
                    data_dir = self._services.settings.data_dir
                    received.append(await receive_mail(db, route=route, mail=mail, data_dir=data_dir))
        except Exception as error:
            # nothing was stored: the sending server keeps the message and tries again (a 4xx), and the
            # reason stays in our log, not in the reply
            logger.warning("mail not stored error=%s", type(error).__name__)
            return "451 4.3.0 Temporary failure, please try again later"
        for item in received:
            if item.ticket is not None and item.message is not None:
                logger.info(
                    "mail received shop_id=%s ticket_id=%s opened=%s",
                    item.ticket.shop_id,
                    item.ticket.id,
                    item.opened,
                )
                await self._publish(item.ticket, [item.message.id], created=item.opened)
                self._spawn(self._answer(item.ticket.id, item.message.id, mail.sender))
        return "250 2.0.0 Message accepted"

    async def _publish(self, ticket: Ticket, message_ids: list[int | None], *, created: bool) -> None:
        """What the consoles show at once: the new ticket or message."""
        assert ticket.id is not None
        events = self._services.events
        if created:
            await events.publish(
                LiveEvent(ticket.shop_id, EventKind.TICKET_CREATED, {"ticket_id": ticket.id})
            )
        for message_id in message_ids:
            if message_id is not None:
                data = {"ticket_id": ticket.id, "message_id": message_id}
                await events.publish(LiveEvent(ticket.shop_id, EventKind.MESSAGE_CREATED, data))
        await events.publish(LiveEvent(ticket.shop_id, EventKind.TICKET_UPDATED, {"ticket_id": ticket.id}))

    async def _shop(self, shop_id: int) -> Shop | None:
        async with self._services.sessions() as session:
            return await session.get(Shop, shop_id)

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def _answer(self, ticket_id: int | None, message_id: int | None, sender: str) -> None:
        assert ticket_id is not None
        assert message_id is not None
        try:
            async with transaction(self._services.sessions) as db:
                ticket = await db.get_one(Ticket, ticket_id)
                message = await db.get_one(Message, message_id)
                decision = await answer_mail(
                    db, ticket=ticket, message=message, sender=sender, links=NoticeLinks.of(self._services)
                )
            await self._publish(ticket, [decision.reply_id, decision.note_id], created=False)
            reply_id = decision.reply_id
            if reply_id is not None and self._after_answer is not None:
                await self._after_answer(self._services, [reply_id])
            shop = await self._shop(ticket.shop_id)
            if shop is not None:
                await self_service_turn(
                    self._services, shop=shop, ticket_id=ticket_id, request=decision.self_service
                )
        except Exception:
            # the message is stored and in the agents' queue; the bot's turn is lost, not the mail
            logger.exception("bot answer to mail failed ticket_id=%s", ticket_id)

    async def drain(self) -> None:
        """Wait for the bot's answers under way (tests, and a graceful stop)."""
        while self._work:
            await asyncio.gather(*list(self._work), return_exceptions=True)


async def start_listener(
    services: Services, handler: MailHandler, *, host: str | None = None, port: int | None = None
) -> asyncio.Server:
    """Listens in the running loop (``port=0``: a free port; read it from the server's socket)."""
    limits = services.settings.mail
    loop = asyncio.get_running_loop()
    tls: ssl.SSLContext | None = None
    if limits.tls_cert is not None and limits.tls_key is not None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(limits.tls_cert, limits.tls_key)
    factory: Callable[[], Any] = partial(
        SMTP,
        handler,
        tls_context=tls,
        require_starttls=False,  # sending servers that cannot do TLS still deliver (as MX hosts allow)
        data_size_limit=limits.max_message_bytes,
        enable_SMTPUTF8=True,
        decode_data=False,
        hostname="order-desk",
        ident="Order Desk",
    )
    return await loop.create_server(
        factory, host=limits.host if host is None else host, port=limits.port if port is None else port
    )


def listening_port(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])
