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

``--database-url`` runs it on PostgreSQL (jobs still in this process, ``--workers`` of them: the fake LINE
is this process's transport). ``--profile N`` instead sends N events one at a time and prints, per event,
the SQL statements, transactions, LINE calls and CPU of the webhook and of the job, beside a widget
conversation's (with ``--profile-out``, a cProfile for pstats). The LINE answers delivered per second
under load are printed against the widget's conversations per second, a capacity ratio that a shared
machine's load affects less than the latencies.

Webhooks are sent at ``--rate`` a second (open loop) for ``--seconds``; widget conversations one after
another, ``--widget`` of them, before the LINE load; mail after it. Goals (issue 14): LINE ack p99 < 50 ms,
answer p99 < 300 ms; mail to ticket p99 < 500 ms. Figures only; the machine may be shared (its load
average is printed).

    python bench/channels.py [--rate 50] [--seconds 10] [--widget 200] [--mail-rate 20] [--mails 400]
                             [--database-url postgresql://…/db] [--workers 2] [--profile N [--profile-out F]]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
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
from sqlalchemy import event
from sqlalchemy.engine import Engine

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
from shop_app.settings import JobEngine, Secret, Settings  # noqa: E402
from shop_app.shops.installation import install_shop  # noqa: E402

SHOP = "bench-line.myshopify.com"
RUN = secrets.token_hex(4)  # this run's LINE users and events are new on a database used before
API_SECRET = "shpss_bench_" + "0123abcd" * 4
CHANNEL_SECRET = "bench-channel-secret-0123456789ab"
LINE_TOKEN = "bench-line-token"
LINE_API = "https://api.line.bench"


class FakeLine:
    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}  # LINE user id → when its answer reached LINE
        self.reply_users: dict[str, str] = {}  # reply token → LINE user id
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls += 1
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
    database_url = args.database_url or f"sqlite+aiosqlite:///{data_dir / 'app.db'}"
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
    # jobs in this process on either database (the fake LINE is this process's HTTP transport)
    settings = replace(settings, job_engine=JobEngine.IN_PROCESS, webhook_workers=args.workers)
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
                if args.profile:
                    await profile_run(client, line, key, state["jobs"], args.profile, args.profile_out)
                    return
                widget = await widget_run(client, args.widget)
                ack, answer, delivered = await line_run(
                    client, line, key, state["jobs"], args.rate, args.seconds
                )
    bare_mail, mail = await mail_ingest.measure(
        mails=args.mails, rate=args.mail_rate, postgres=args.database_url
    )
    report(widget, ack, answer, delivered, args)
    report_mail(widget, bare_mail, mail, args)


async def widget_run(client: httpx.AsyncClient, count: int, first: int = 0) -> list[float]:
    times = []
    for i in range(first, first + count):
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


def line_event(line: FakeLine, i: int) -> tuple[str, bytes]:
    """One text event from LINE user number ``i`` (a new user each time), signed: (user id, body)."""
    user = f"U{RUN}{i:024x}"
    reply_token = secrets.token_hex(16)
    line.reply_users[reply_token] = user
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": f"01B{RUN}{i:015d}",
        "deliveryContext": {"isRedelivery": False},
        "replyToken": reply_token,
        "message": {
            "id": str(i),
            "type": "text",
            "text": "担当者と話したいです" if i % 2 else "在庫はありますか？",
        },
    }
    return user, json.dumps({"destination": "U" + "0" * 32, "events": [event]}).encode()


async def line_run(
    client: httpx.AsyncClient, line: FakeLine, key: str, jobs: Any, rate: float, seconds: float
) -> tuple[list[float], list[float], float]:
    sent_at: dict[str, float] = {}
    acks: list[float] = []

    async def one(i: int) -> None:
        user, body = line_event(line, i)
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
    last = max((line.arrived[user] for user in sent_at if user in line.arrived), default=begun)
    return acks, answers, len(answers) / max(last - begun, 1e-9)


class Counter:
    """SQL statements, transactions and write transactions of every engine in the process, LINE calls and
    CPU time, between ``start`` and ``stop``."""

    WRITES = ("INSERT", "UPDATE", "DELETE")

    def __init__(self, line: FakeLine) -> None:
        self.line = line
        self.statements = self.transactions = self.writes = self.line_calls = 0
        self.cpu = 0.0
        self._writing: set[int] = set()
        self._started_cpu = 0.0
        self._started_calls = 0
        self._on = False
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "begin", self._begin)
        event.listen(Engine, "commit", self._commit)

    def _statement(self, connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not self._on or statement.startswith(("BEGIN", "PRAGMA")):
            return
        self.statements += 1
        if statement.lstrip().upper().startswith(self.WRITES):
            self._writing.add(id(connection))

    def _begin(self, _connection: Any) -> None:
        if self._on:
            self.transactions += 1

    def _commit(self, connection: Any) -> None:
        if id(connection) in self._writing:
            self._writing.discard(id(connection))
            self.writes += 1 if self._on else 0

    def start(self) -> None:
        self._on = True
        self._started_cpu = time.process_time()
        self._started_calls = self.line.calls

    def stop(self) -> None:
        self._on = False
        self.cpu += time.process_time() - self._started_cpu
        self.line_calls += self.line.calls - self._started_calls

    def line_of(self, name: str, count: int) -> str:
        return (
            f"{name}: {self.statements / count:.1f} SQL statements, {self.transactions / count:.1f} "
            f"transactions ({self.writes / count:.1f} writing), {self.line_calls / count:.1f} LINE calls, "
            f"{self.cpu * 1000 / count:.1f} ms CPU"
        )


async def profile_run(
    client: httpx.AsyncClient, line: FakeLine, key: str, jobs: Any, count: int, profile_out: str | None
) -> None:
    """One event at a time, after a warm-up: per event, the webhook's work (to its 200) and the job's
    (to the reply call), counted. With ``profile_out``, a cProfile of the whole of both, for pstats."""
    profiler = cProfile.Profile() if profile_out else None
    webhook, job, widget = Counter(line), Counter(line), Counter(line)
    for i in range(count + 1):
        user, body = line_event(line, 10_000_000 + i)
        warm = i == 0
        if profiler and not warm:
            profiler.enable()
        if not warm:
            webhook.start()
        answer = await client.post(
            f"/line/webhook/{key}",
            content=body,
            headers={"x-line-signature": sign(body, channel_secret=CHANNEL_SECRET)},
        )
        if not warm:
            webhook.stop()
            job.start()
        await jobs.drain()
        if not warm:
            job.stop()
        if profiler and not warm:
            profiler.disable()
        assert answer.status_code == 200, answer.text
        assert user in line.arrived, "no answer reached LINE"
        if not warm:
            widget.start()
        await widget_run(client, 1, first=i)
        if not warm:
            widget.stop()
    print(f"per event, {count} events one at a time ({load_average_line()}):")
    print("  " + webhook.line_of("LINE webhook to 200", count))
    print("  " + job.line_of("LINE job to reply call", count))
    print("  " + widget.line_of("widget conversation (baseline)", count))
    if profiler and profile_out:
        profiler.dump_stats(profile_out)
        print(f"  profile written to {profile_out} (python -m pstats {profile_out})")


def report(
    widget: list[float], ack: list[float], answer: list[float], delivered: float, args: argparse.Namespace
) -> None:
    w50, w99 = percentiles(widget)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{load_average_line()}; {database}, {args.workers} workers")
    print(
        f"widget conversation (baseline), {len(widget)} one after another: p50 {w50:.1f} ms, p99 {w99:.1f} ms"
    )
    widget_rate = len(widget) / sum(widget) if widget else float("nan")
    print(
        f"LINE answers delivered per second at {args.rate:g}/s offered: {delivered:.1f} "
        f"({delivered / widget_rate:.2f}x the widget's {widget_rate:.1f} conversations/s one after another)"
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
    parser.add_argument(
        "--database-url", help="PostgreSQL to run on (migrated here; default: a fresh SQLite file)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="in-process job workers (default 2, as serve's)"
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="count the work of N events one at a time, and stop",
    )
    parser.add_argument("--profile-out", help="with --profile: write a cProfile of the events here")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
