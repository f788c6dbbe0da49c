"""Email in ``shop-app dev``: the SMTP listener in the app's process, each demo shop given a support
address (``support@<shop domain>``), and a stand-in for the merchant's relay that keeps every reply as an
``.eml`` file in ``.data/dev-mailbox`` instead of sending it on."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from shop_app.channels.email.addresses import mail_settings, save_mail_settings
from shop_app.channels.email.listener import MailHandler, listening_port, start_listener
from shop_app.database import transaction
from shop_app.lifespan import open_services
from shop_app.settings import Settings
from shop_app.shops.installation import get_shop

MAILBOX_DIR = "dev-mailbox"


class Mailbox:
    """aiosmtpd handler: every message it is given becomes a file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        raw = envelope.original_content or b""
        (self.folder / f"{secrets.token_hex(6)}.eml").write_bytes(raw)
        return "250 Kept"


@dataclass(frozen=True, slots=True)
class DevMail:
    port: int
    relay_port: int
    addresses: dict[str, str]
    mailbox: Path


@asynccontextmanager
async def dev_mail(settings: Settings, shops: tuple[str, ...]) -> AsyncIterator[DevMail]:
    loop = asyncio.get_running_loop()
    folder = settings.data_dir / MAILBOX_DIR
    relay = await loop.create_server(
        lambda: SMTP(Mailbox(folder), hostname="dev-relay"), host="127.0.0.1", port=0
    )
    relay_port = listening_port(relay)
    async with open_services(settings, listen=False) as services:
        addresses: dict[str, str] = {}
        async with transaction(services.sessions) as session:
            for domain in shops:
                shop = await get_shop(session, domain)
                if shop is None or shop.id is None:
                    continue
                current = await mail_settings(session, shop_id=shop.id)
                keep_own = current is not None and current.relay_host not in (None, "127.0.0.1")
                address = current.support_address if current else f"support@{domain}"
                if not keep_own:
                    await save_mail_settings(
                        session,
                        shop=shop,
                        cipher=services.cipher,
                        support_address=address,
                        relay_host="127.0.0.1",
                        relay_port=relay_port,
                        relay_starttls=False,
                        relay_username=None,
                        relay_password="",
                    )
                addresses[domain] = address
        handler = MailHandler(services)
        server = await start_listener(services, handler)
        try:
            yield DevMail(listening_port(server), relay_port, addresses, folder)
        finally:
            server.close()
            relay.close()
            await handler.drain()


def mail_lines(mail: DevMail) -> list[str]:
    lines = [f"  email: SMTP listener on port {mail.port} (shop-app mail); replies kept in {mail.mailbox}"]
    for domain, address in mail.addresses.items():
        lines.append(f"    {domain}: write to {address}")
    lines.append(
        "    try: python3 -c \"import smtplib; smtplib.SMTP('127.0.0.1', "
        f"{mail.port}).sendmail('you@example.com', ['{next(iter(mail.addresses.values()), '')}'], "
        "'From: you@example.com\\nSubject: hello\\n\\nWhere is my order #1001?')\""
    )
    return lines
