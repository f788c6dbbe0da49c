"""With a certificate, the listener offers STARTTLS and mail arrives over it."""

from __future__ import annotations

import ssl
from dataclasses import replace
from pathlib import Path

import aiosmtplib

from shop_app.channels.email.listener import MailHandler, listening_port, start_listener
from shop_app.settings import MailLimits
from tests.factories import self_signed_certificate
from tests.mail.conftest import ALPHA_ADDRESS, MailWorld
from tests.mail.test_inbound import ENCODINGS


async def test_mail_arrives_over_starttls(mail_world: MailWorld, tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    services = replace(
        mail_world.services,
        settings=replace(mail_world.services.settings, mail=MailLimits(tls_cert=cert, tls_key=key)),
    )
    handler = MailHandler(services)
    server = await start_listener(services, handler, host="127.0.0.1", port=0)
    client_tls = ssl.create_default_context(cafile=str(cert))
    client_tls.check_hostname = False
    try:
        async with aiosmtplib.SMTP(
            hostname="127.0.0.1", port=listening_port(server), start_tls=True, tls_context=client_tls
        ) as smtp:
            await smtp.sendmail("taro@example.com", [ALPHA_ADDRESS], ENCODINGS["shift_jis"]())
        await handler.drain()
    finally:
        server.close()
        await server.wait_closed()
    assert len(await mail_world.tickets(mail_world.alpha)) == 1


async def test_without_a_certificate_no_starttls_is_offered(mail_world: MailWorld) -> None:
    import pytest

    with pytest.raises(aiosmtplib.SMTPException, match="STARTTLS"):
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=mail_world.port, start_tls=True):
            pass
