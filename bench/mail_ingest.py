"""Inbound email to ticket: p50/p99 from a sending server's connect to the listener's 250 (the ticket and
its message are committed before the 250), at a steady rate (20 mails/s by default), beside a bare
aiosmtpd listener that answers 250 without doing anything, measured in the same run.

Each mail is its own SMTP session (as sending servers do), from one of 200 shoppers (so replies thread
onto tickets as well as opening them), in Japanese (ISO-2022-JP, Shift_JIS, UTF-8 base64 in turn). The
bot's turn runs after the 250 and is not counted here.

    python bench/mail_ingest.py [--mails 400] [--rate 20] [--postgres postgresql://…/db]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from integrations.shopify.app_config import load_app_config  # noqa: E402
from integrations.shopify.oauth import AccessToken  # noqa: E402
from shop_app.channels.email.addresses import save_mail_settings  # noqa: E402
from shop_app.channels.email.listener import MailHandler, listening_port, start_listener  # noqa: E402
from shop_app.database import transaction  # noqa: E402
from shop_app.lifespan import open_services, prepare_database  # noqa: E402
from shop_app.settings import Secret, Settings  # noqa: E402
from shop_app.shops.installation import install_shop  # noqa: E402

ADDRESS = "help@bench.example"
TEXT = "注文番号1001の荷物はいつ届きますか？"


def mail(index: int) -> bytes:
    shopper = f"shopper{index % 200}@example.com"
    encodings = [
        ("ISO-2022-JP", "7bit", TEXT.encode("iso2022_jp")),
        ("Shift_JIS", "8bit", TEXT.encode("cp932")),
        ("UTF-8", "base64", base64.encodebytes(TEXT.encode())),
    ]
    charset, cte, body = encodings[index % 3]
    return (
        f"From: {shopper}\r\nTo: {ADDRESS}\r\nSubject: order {index}\r\nMessage-ID: <b{index}@example.com>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
    ).encode() + body


async def send_all(port: int, *, mails: int, rate: float) -> list[float]:
    timings: list[float] = []

    async def one(index: int) -> None:
        started = time.perf_counter()
        await aiosmtplib.send(
            mail(index),
            sender=f"shopper{index % 200}@example.com",
            recipients=[ADDRESS],
            hostname="127.0.0.1",
            port=port,
            start_tls=False,
        )
        timings.append(time.perf_counter() - started)

    tasks = []
    began = time.perf_counter()
    for index in range(mails):
        delay = began + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index)))
    await asyncio.gather(*tasks)
    return timings


class Bare:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


def summary(name: str, timings: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(timings, n=100)
    p50, p99 = cuts[49] * 1000, cuts[98] * 1000
    print(f"{name:<34} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   ({len(timings)} mails)")
    return p50, p99


async def measure(*, mails: int, rate: float, postgres: str | None = None) -> tuple[list[float], list[float]]:
    """Seconds per mail to the 250: a bare listener's, then the desk's (also run by bench/channels.py)."""
    data_dir = Path(tempfile.mkdtemp(prefix="mail-bench-"))
    settings = Settings(
        data_dir=data_dir,
        database_url=postgres or f"sqlite+aiosqlite:///{data_dir / 'bench.db'}",
        encryption_keys=(Secret(Fernet.generate_key().decode()),),
        session_secret=Secret("bench-session-secret"),
        api_secret=Secret("bench-secret"),
        app_config_path=ROOT / "shopify.app.toml",
    )
    settings = replace(settings, mail=replace(settings.mail, max_message_bytes=1_000_000))
    await prepare_database(settings)
    loop = asyncio.get_running_loop()
    bare = await loop.create_server(lambda: SMTP(Bare()), host="127.0.0.1", port=0)
    baseline = await send_all(listening_port(bare), mails=mails, rate=rate)
    bare.close()
    async with open_services(settings, app_config=load_app_config(settings.app_config_path)) as services:
        async with transaction(services.sessions) as session:
            token = AccessToken("shpat_bench", "read_orders", None, None, None)
            shop = await install_shop(
                session, domain="bench.myshopify.com", token=token, cipher=services.cipher
            )
            await save_mail_settings(
                session,
                shop=shop,
                cipher=services.cipher,
                support_address=ADDRESS,
                relay_host=None,
                relay_port=587,
                relay_starttls=True,
                relay_username=None,
                relay_password=None,
            )

        async def no_delivery(_: object, __: list[int]) -> None:
            return None

        handler = MailHandler(services, after_answer=no_delivery)
        server = await start_listener(services, handler, host="127.0.0.1", port=0)
        desk = await send_all(listening_port(server), mails=mails, rate=rate)
        await handler.drain()
        server.close()
    return baseline, desk


async def main(args: argparse.Namespace) -> None:
    baseline, desk = await measure(mails=args.mails, rate=args.rate, postgres=args.postgres)
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"inbound email at {args.rate:g} mails/s on {database}")
    base50, base99 = summary("bare aiosmtpd (250, no work)", baseline)
    p50, p99 = summary("mail → ticket (committed at 250)", desk)
    print(f"ratio to the bare listener: p50 ×{p50 / base50:.1f}, p99 ×{p99 / base99:.1f}; goal p99 < 500 ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=400)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--postgres", help="a PostgreSQL URL to run on instead of SQLite")
    asyncio.run(main(parser.parse_args()))
