"""``shop-app dev``'s email: each demo shop gets a support address, mail to it opens a ticket, and the
bot's reply lands in the dev mailbox as an .eml file."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import replace

import aiosmtplib

from shop_app.dev.mail import dev_mail
from shop_app.lifespan import open_services
from shop_app.settings import MailLimits, Settings
from tests.factories import installed_shop


async def test_dev_mail_gives_each_shop_an_address_and_keeps_replies(settings: Settings) -> None:
    settings = replace(settings, mail=MailLimits(port=0))
    async with open_services(settings) as services:
        await installed_shop(services.sessions, services.cipher, "alpha.myshopify.com")
        await installed_shop(services.sessions, services.cipher, "beta.myshopify.com")
    async with dev_mail(settings, ("alpha.myshopify.com", "beta.myshopify.com")) as mail:
        assert mail.addresses == {
            "alpha.myshopify.com": "support@alpha.myshopify.com",
            "beta.myshopify.com": "support@beta.myshopify.com",
        }
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=mail.port, start_tls=False) as smtp:
            await smtp.sendmail(
                "taro@example.com",
                ["support@alpha.myshopify.com"],
                b"From: taro@example.com\r\nSubject: order\r\nMessage-ID: <d1@example.com>\r\n\r\n"
                b"Where is my order #1001?\r\n",
            )
        for _ in range(200):
            if mail.mailbox.exists() and any(mail.mailbox.iterdir()):
                break
            await asyncio.sleep(0.05)
        [kept] = list(mail.mailbox.iterdir())
    reply = email.message_from_bytes(kept.read_bytes(), policy=email.policy.default)
    assert reply["To"] == "taro@example.com"
    assert reply["In-Reply-To"] == "<d1@example.com>"
    assert reply["Auto-Submitted"] == "auto-replied"
