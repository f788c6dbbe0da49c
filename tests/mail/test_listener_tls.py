"""With a certificate, the listener offers STARTTLS and mail arrives over it."""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import replace
from pathlib import Path

import aiosmtplib
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shop_app.channels.email.listener import MailHandler, listening_port, start_listener
from shop_app.settings import MailLimits
from tests.mail.conftest import ALPHA_ADDRESS, MailWorld
from tests.mail.test_inbound import ENCODINGS


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.desk.example")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def test_mail_arrives_over_starttls(mail_world: MailWorld, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
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
