"""Channel latency: LINE's webhook and the bot's LINE answer, beside the storefront widget measured in the
same run (issue 14). In process: the app with its lifespan and job workers on a fresh SQLite database, its
outgoing calls on a fake LINE (httpx.MockTransport) that notes when each reply or push arrives.

- LINE ack: the time from sending a signed webhook (one text event from its own user) to its 200;
- LINE answer delivered: from the same send to the reply (or push) call reaching LINE;
- email: a mail's SMTP session to the listener's 250 (its ticket and message committed), at ``--mail-rate``
  a second for ``--mails`` mails, each a session of its own, beside a bare aiosmtpd listener in the same
  run (``bench/mail_ingest.py`` alone runs this part, also on PostgreSQL);
- widget: a new storefront conversation (``POST /proxy/support/conversations``, signed app proxy query),
  which answers with the bot's reply in the same request: the baseline all are printed against.

Webhooks are sent at ``--rate`` a second (open loop) for ``--seconds``; widget conversations one after
another, ``--widget`` of them, before the LINE load; mail after it. Goals (issue 14): LINE ack p99 < 50 ms,
answer p99 < 300 ms; mail to ticket p99 < 500 ms. Figures only; the machine may be shared (its load
average is printed).

    python bench/channels.py [--rate 50] [--seconds 10] [--widget 200] [--mail-rate 20] [--mails 400]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import mail_ingest  # noqa: E402  (bench/mail_ingest.py: the email part)
from load_generator import goal_line, load_average_line  # noqa: E402
from load_generator import percentiles_ms as percentiles  # noqa: E402

from integrations.line.signatures import sign  # noqa: E402
from integrations.shopify.app_proxy import sign_app_proxy_query  # noqa: E402
from integrations.shopify.oauth import AccessToken  # noqa: E402
from shop_app.channels.line.connections import connect_line  # noqa: E402
from shop_app.database import migrate, transaction  # noqa: E402
from shop_app.main import create_app  # noqa: E402
from shop_app.settings import Secret, Settings  # noqa: E402
from shop_app.shops.installation import install_shop  # noqa: E402

SHOP = "bench-line.myshopify.com"
API_SECRET = "shpss_bench_" + "0123abcd" * 4
CHANNEL_SECRET = "bench-channel-secret-0123456789ab"
LINE_TOKEN = "bench-line-token"
LINE_API = "https://api.line.bench"


class FakeLine:
    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}  # LINE user id → when its answer reached LINE
        self.reply_users: dict[str, str] = {}  # reply token → LINE user id

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path in ("/v2/bot/message/reply", "/v2/bot/message/push"):
            body = json.loads(request.content)
            user = body.get("to") or self.reply_users.get(body.get("replyToken", ""), "")
            self.arrived.setdefault(user, time.perf_counter())
            return httpx.Response(
                200, json={"sentMessages": [{"id": "1"}]}, headers={"x-line-request-id": "r"}
            )
        if path == "/v2/bot/chat/loading/start":
            return httpx.Response(202, json={})
        if path.startswith("/v2/bot/profile/"):
            return httpx.Response(
                200, json={"userId": path.rsplit("/", 1)[-1], "displayName": "Bench", "language": "ja"}
            )
        return httpx.Response(404, json={"message": "Not found"})


async def run(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-channels-"))
    database_url = f"sqlite+aiosqlite:///{data_dir / 'app.db'}"
    migrate(database_url)
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        app_url="https://app.bench",
        api_key="bench-client-id",
        api_secret=Secret(API_SECRET),
        encryption_keys=(Secret(Fernet.generate_key().decode()),),
        session_secret=Secret("bench-session-secret-0123456789"),
        app_config_path=ROOT / "shopify.app.toml",
        register_webhooks=False,
        reconcile_interval_seconds=0,
        line_api_url=LINE_API,
    )
    settings = replace(settings)
    line = FakeLine()
    async with httpx.AsyncClient(transport=httpx.MockTransport(line)) as http:
        app = create_app(settings, http=http)
        async with app.router.lifespan_context(app) as state:
            assert state is not None
            services = state["services"]

            async def wrapped(scope: Any, receive: Any, send: Any) -> None:
                if scope["type"] == "http":
                    scope = {**scope, "state": dict(state)}
                await app(scope, receive, send)

            async with transaction(services.sessions) as session:
                token = AccessToken(
                    access_token="shpat_bench",
                    scope="read_orders",
                    expires_at=time.time() + 86400,
                    refresh_token=None,
                    refresh_token_expires_at=None,
                )
                shop = await install_shop(session, domain=SHOP, token=token, cipher=services.cipher)
                shop.name, shop.primary_locale = "ベンチ", "ja"
                connection = await connect_line(
                    session,
                    shop=shop,
                    cipher=services.cipher,
                    channel_id="1650000000",
                    channel_secret=CHANNEL_SECRET,
                    access_token=LINE_TOKEN,
                )
                key = connection.webhook_key
            transport = httpx.ASGITransport(app=wrapped, client=("203.0.113.9", 5000))
            async with httpx.AsyncClient(transport=transport, base_url=settings.app_url) as client:
                widget = await widget_run(client, args.widget)
                ack, answer = await line_run(client, line, key, state["jobs"], args.rate, args.seconds)
    bare_mail, mail = await mail_ingest.measure(mails=args.mails, rate=args.mail_rate)
    report(widget, ack, answer, args)
    report_mail(widget, bare_mail, mail, args)


async def widget_run(client: httpx.AsyncClient, count: int) -> list[float]:
    times = []
    for i in range(count):
        params = {
            "n": secrets.token_hex(8),
            "shop": SHOP,
            "logged_in_customer_id": "",
            "path_prefix": "/apps/support",
            "timestamp": str(int(time.time())),
        }
        params["signature"] = sign_app_proxy_query(params, API_SECRET)
        started = time.perf_counter()
        answer = await client.post(
            f"/proxy/support/conversations?{urlencode(params)}",
            json={"message": "担当者と話したいです" if i % 2 else "在庫はありますか？"},
            headers={"x-forwarded-for": f"198.51.100.{i % 250}"},
        )
        times.append(time.perf_counter() - started)
        assert answer.status_code == 201, answer.text
    return times


async def line_run(
    client: httpx.AsyncClient, line: FakeLine, key: str, jobs: Any, rate: float, seconds: float
) -> tuple[list[float], list[float]]:
    sent_at: dict[str, float] = {}
    acks: list[float] = []

    async def one(i: int) -> None:
        user = f"U{i:032x}"
        reply_token = secrets.token_hex(16)
        line.reply_users[reply_token] = user
        event = {
            "type": "message",
            "mode": "active",
            "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": user},
            "webhookEventId": f"01BENCH{i:020d}",
            "deliveryContext": {"isRedelivery": False},
            "replyToken": reply_token,
            "message": {
                "id": str(i),
                "type": "text",
                "text": "担当者と話したいです" if i % 2 else "在庫はありますか？",
            },
        }
        body = json.dumps({"destination": "U" + "0" * 32, "events": [event]}).encode()
        started = time.perf_counter()
        sent_at[user] = started
        answer = await client.post(
            f"/line/webhook/{key}",
            content=body,
            headers={"x-line-signature": sign(body, channel_secret=CHANNEL_SECRET)},
        )
        acks.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text

    total = int(rate * seconds)
    begun = time.perf_counter()
    tasks = []
    for i in range(total):
        await asyncio.sleep(max(0.0, begun + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    await jobs.drain()
    answers = [line.arrived[user] - started for user, started in sent_at.items() if user in line.arrived]
    missing = len(sent_at) - len(answers)
    if missing:
        print(f"answers missing: {missing}")
    return acks, answers


def report(widget: list[float], ack: list[float], answer: list[float], args: argparse.Namespace) -> None:
    w50, w99 = percentiles(widget)
    print(load_average_line())
    print(
        f"widget conversation (baseline), {len(widget)} one after another: p50 {w50:.1f} ms, p99 {w99:.1f} ms"
    )
    for name, values, goal in (
        (f"LINE webhook 200 at {args.rate:g}/s", ack, 50.0),
        (f"LINE webhook in -> reply call at {args.rate:g}/s", answer, 300.0),
    ):
        print(goal_line(name, values, baseline=widget, baseline_name="widget", goal_ms=goal, noun="events"))


def report_mail(widget: list[float], bare: list[float], mail: list[float], args: argparse.Namespace) -> None:
    w50, w99 = percentiles(widget)
    b50, b99 = percentiles(bare)
    p50, p99 = percentiles(mail)
    print(f"bare aiosmtpd listener at {args.mail_rate:g} mails/s: p50 {b50:.1f} ms, p99 {b99:.1f} ms")
    print(
        f"email in -> ticket at {args.mail_rate:g} mails/s: p50 {p50:.1f} ms ({p50 / w50:.2f}x widget, "
        f"{p50 / b50:.1f}x bare), p99 {p99:.1f} ms ({p99 / w99:.2f}x widget, {p99 / b99:.1f}x bare); "
        f"goal p99 < 500 ms: {'met' if p99 < 500 else 'missed'} ({len(mail)} mails)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--widget", type=int, default=200)
    parser.add_argument("--mail-rate", type=float, default=20.0)
    parser.add_argument("--mails", type=int, default=400)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
