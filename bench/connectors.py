"""Connector latency (issue 15): for each helpdesk connector, the time from its webhook reaching the app to
the app's reply call reaching the helpdesk, and the profile card's load in the helpdesk's iframe, beside the
console sidebar's profile measured in the same run (the baseline every figure is printed against).

In process: the app with its lifespan and job workers on a fresh SQLite database; the helpdesk is the
simulated one (``devchatwoot``), reached through an httpx transport, which notes when each reply arrives.

- Chatwoot webhook in -> reply call: a signed agent-bot ``message_created`` (a new conversation each, from
  its own contact) sent at ``--rate`` a second (open loop) for ``--seconds``; measured from the send to the
  bot's first message call (its answer, or its private note when it hands off) reaching Chatwoot;
- card load: the dashboard app's page (``GET /connectors/chatwoot/card``) and its data
  (``POST /connectors/card/profile`` for a mirrored conversation), one after another, ``--cards`` times;
- console sidebar (baseline): ``GET /api/v1/tickets/{id}/profile`` for the same ticket, ``--cards`` times.

Goals (issue 15): reply p99 < 300 ms, card p99 < 150 ms. Figures only; the machine may be shared (its load
average is printed). Zendesk is the second entry in ``CONNECTORS``: a signed trigger webhook per new ticket ->
the bot's first ticket update reaching the simulated Zendesk (``devzendesk``); its card is the sidebar page
opened with a signed-URL JWT, then its data.

    python bench/connectors.py [--rate 20] [--seconds 10] [--cards 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load_generator import goal_line, load_average_line, open_loop, percentiles_ms  # noqa: E402

from devchatwoot.server import create_chatwoot_app  # noqa: E402
from devchatwoot.state import ChatwootState  # noqa: E402
from devzendesk.config import ZendeskConfig  # noqa: E402
from devzendesk.page import app_token  # noqa: E402
from devzendesk.server import create_zendesk_app  # noqa: E402
from devzendesk.state import ZendeskState  # noqa: E402
from integrations.chatwoot.signatures import sign  # noqa: E402
from integrations.shopify.oauth import AccessToken  # noqa: E402
from integrations.zendesk.payloads import TriggerKind  # noqa: E402
from integrations.zendesk.signatures import sign as zendesk_sign  # noqa: E402
from shop_app.connectors.chatwoot import CHATWOOT, card_url  # noqa: E402
from shop_app.connectors.storage import inbound_url, save_connector  # noqa: E402
from shop_app.connectors.zendesk import ZENDESK, sidebar_url  # noqa: E402
from shop_app.database import migrate, transaction  # noqa: E402
from shop_app.helpdesk.api_keys import create_api_key  # noqa: E402
from shop_app.main import create_app  # noqa: E402
from shop_app.models import (  # noqa: E402
    ConnectorConversation,
    Customer,
    Fulfillment,
    Order,
    OrderLineItem,
    Shop,
)
from shop_app.settings import Secret, Settings  # noqa: E402
from shop_app.shops.installation import install_shop  # noqa: E402

SHOP = "bench-connectors.myshopify.com"
CHATWOOT_URL = "https://chatwoot.bench"
ZENDESK_URL = "https://bench.zendesk.test"
ZENDESK_REPLY = re.compile(r"/api/v2/tickets/(\d+)\.json$")
TOKEN = re.compile(r'data-token="([^"]+)"')


@dataclass
class Bench:
    client: httpx.AsyncClient  # to the app
    jobs: Any
    settings: Settings
    services: Any
    shop_id: int
    api_key: str
    chatwoot: ChatwootState
    zendesk: ZendeskState
    # per connector: its conversation (Chatwoot) or ticket (Zendesk) id → when its event was sent, and
    # when the bot's first call for it reached the helpdesk
    sent_at: dict[str, dict[int, float]] = field(default_factory=lambda: {"Chatwoot": {}, "Zendesk": {}})
    arrived: dict[str, dict[int, float]] = field(default_factory=lambda: {"Chatwoot": {}, "Zendesk": {}})


async def settle(bench: Bench) -> None:
    """Until the bot's work (and what it set off: echoes, deliveries) is done."""
    for _ in range(5):
        await bench.jobs.drain()


async def replies_after(
    bench: Bench, name: str, args: argparse.Namespace, one: Callable[[int], Awaitable[None]]
) -> list[float]:
    """``one(i)`` sends event ``i`` (noting when in ``sent_at``) at ``--rate`` a second, open loop, for
    ``--seconds``; the figures are send → the bot's first call reaching the helpdesk (``arrived``)."""
    await open_loop(int(args.rate * args.seconds), args.rate, one)
    await settle(bench)
    sent_at, arrived = bench.sent_at[name], bench.arrived[name]
    replies = [arrived[key] - started for key, started in sent_at.items() if key in arrived]
    if len(replies) < len(sent_at):
        print(f"{name} replies missing: {len(sent_at) - len(replies)}")
    return replies


async def card_loads(
    bench: Bench,
    count: int,
    open_page: Callable[[dict[str, str]], Awaitable[httpx.Response]],
    *,
    conversation_id: str,
    signed: Callable[[], dict[str, str]] = dict,
) -> list[float]:
    """The card as the helpdesk loads it, ``count`` times one after another: its page (``open_page``, the
    vendor's way, with what ``signed`` gives: the helpdesk's proof, made before the clock starts: it is
    the helpdesk's work, not ours), then its data for a mirrored conversation of the seeded customer."""
    cards: list[float] = []
    for _ in range(count):
        proof = signed()
        started = time.perf_counter()
        page = await open_page(proof)
        found = TOKEN.search(page.text)
        assert page.status_code == 200, page.text
        assert found is not None, page.text
        data = await bench.client.post(
            "/connectors/card/profile",
            json={"conversation_id": conversation_id},
            headers={"Authorization": f"Card {found.group(1)}"},
        )
        cards.append(time.perf_counter() - started)
        assert data.status_code == 200, data.text
        assert "#1005" in data.text, data.text
    return cards


async def seed(services: Any) -> tuple[int, str]:
    now = datetime.now(UTC)
    async with transaction(services.sessions) as session:
        token = AccessToken(
            access_token="shpat_bench",
            scope="read_orders",
            expires_at=time.time() + 86400,
            refresh_token=None,
            refresh_token_expires_at=None,
        )
        shop = await install_shop(session, domain=SHOP, token=token, cipher=services.cipher)
        shop.name, shop.primary_locale, shop.country_code, shop.currency_code = "ベンチ", "ja", "JP", "JPY"
        assert shop.id is not None
        session.add(
            Customer(
                shop_id=shop.id,
                shopify_id=7001,
                first_name="花子",
                last_name="山田",
                email="hanako@example.jp",
                orders_count=5,
                amount_spent="16000.00",
                currency="JPY",
                updated_at=now,
                created_at=now,
            )
        )
        for n in range(5):
            order = Order(
                shop_id=shop.id,
                shopify_id=8001 + n,
                name=f"#{1001 + n}",
                number=1001 + n,
                customer_shopify_id=7001,
                email="hanako@example.jp",
                created_at=now - timedelta(days=10 - n),
                updated_at=now,
                financial_status="PAID",
                fulfillment_status="FULFILLED",
                currency="JPY",
                total_price="3200.00",
                subtotal_price="3200.00",
                shipping_address={"zip": "150-0001", "country_code": "JP"},
            )
            session.add(order)
            await session.flush()
            assert order.id is not None
            session.add(
                OrderLineItem(
                    shop_id=shop.id, shopify_id=9101 + n, order_id=order.id, title="リネンシャツ", quantity=1
                )
            )
            session.add(
                Fulfillment(
                    shop_id=shop.id,
                    shopify_id=9201 + n,
                    order_id=order.id,
                    status="SUCCESS",
                    display_status="IN_TRANSIT",
                    created_at=now,
                    updated_at=now,
                    tracking=[{"company": "Yamato (JA)", "number": f"12345678901{n}", "url": None}],
                )
            )
        _row, key = await create_api_key(session, shop=shop, name="bench")
        return shop.id, key


async def chatwoot_section(bench: Bench, args: argparse.Namespace) -> dict[str, list[float]]:
    state = bench.chatwoot
    account = state.add_account("ベンチ")
    inbox = state.add_inbox(account, "Website")
    user = state.add_user(account, name="Agent", email="agent@bench.example")
    bot = state.add_bot(account, name="Order Desk", outgoing_url="pending")
    async with transaction(bench.services.sessions) as session:
        shop = await session.get_one(Shop, bench.shop_id)
        connector = await save_connector(
            session,
            shop=shop,
            cipher=bench.services.cipher,
            vendor=CHATWOOT,
            values={
                "base_url": CHATWOOT_URL,
                "account": str(account.id),
                "bot_token": bot.access_token,
                "bot_secret": bot.secret,
                "user_token": user.access_token,
            },
        )
    bot.outgoing_url = inbound_url(bench.settings, connector)
    state.set_agent_bot(inbox, bot)

    sent_at = bench.sent_at["Chatwoot"]

    async def one(i: int) -> None:
        contact = state.add_contact(account, name=f"客{i}", email=f"guest{i}@example.jp")
        # the conversation exists in Chatwoot; its message reaches the app from here, timed
        inbox.agent_bot_id = None
        chat, message = await state.contact_says(
            account, inbox, contact, "担当者と話したいです" if i % 2 else "在庫はありますか？"
        )
        inbox.agent_bot_id = bot.id
        chat.status = "pending"
        body = json.dumps(state.message_payload(account, chat, message), ensure_ascii=False).encode()
        stamp = int(time.time())
        started = time.perf_counter()
        sent_at[chat.display_id] = started
        answer = await bench.client.post(
            bot.outgoing_url,
            content=body,
            headers={
                "content-type": "application/json",
                "x-chatwoot-timestamp": str(stamp),
                "x-chatwoot-signature": sign(body, secret=bot.secret, timestamp=stamp),
                "x-chatwoot-delivery": f"bench-{i}",
            },
        )
        assert answer.status_code == 200, answer.text

    replies = await replies_after(bench, "Chatwoot", args, one)

    # the card for a mirrored conversation of the seeded customer
    contact = state.add_contact(account, name="山田 花子", email="hanako@example.jp")
    chat, _ = await state.contact_says(
        account, inbox, contact, "#1005 hanako@example.jp 注文はいつ届きますか"
    )
    await settle(bench)
    url = card_url(bench.settings, connector)
    cards = await card_loads(
        bench,
        args.cards,
        lambda _proof: bench.client.get(url, headers={"accept-language": "ja"}),
        conversation_id=str(chat.display_id),
    )
    return {"reply": replies, "card": cards, "ticket": [float(await ticket_of(bench, chat.display_id))]}


async def zendesk_section(bench: Bench, args: argparse.Namespace) -> dict[str, list[float]]:
    """Zendesk: a signed trigger webhook per new ticket (each its own requester) -> the bot's first ticket
    update (its public comment, or its internal note when it hands off) reaching Zendesk; the sidebar's
    signed-URL page and its data for a mirrored ticket. The simulated account's rate limit is lifted:
    what is timed is the app, not Zendesk's quota."""
    state = bench.zendesk
    async with transaction(bench.services.sessions) as session:
        shop = await session.get_one(Shop, bench.shop_id)
        connector = await save_connector(
            session,
            shop=shop,
            cipher=bench.services.cipher,
            vendor=ZENDESK,
            values={
                "base_url": ZENDESK_URL,
                "account": state.config.subdomain,
                "email": state.config.admin_email,
                "api_token": state.config.api_token,
                "signing_secret": state.config.signing_secret,
                "handoff_group_id": str(state.returns_group),
                "app_id": str(state.config.app_id),
                "installation_id": str(state.config.installation_id),
            },
        )
    hook = inbound_url(bench.settings, connector)
    sent_at = bench.sent_at["Zendesk"]

    async def one(i: int) -> None:
        requester = state.add_user(f"客{i}", f"zguest{i}@example.jp")
        ticket = state.open_ticket(
            requester=requester,
            subject="問い合わせ",
            body="担当者と話したいです" if i % 2 else "在庫はありますか？",
        )
        sent_at[ticket.id] = time.perf_counter()
        answer = await zendesk_trigger(bench, hook, ticket.id, requester.id, invocation=f"bench-{i}")
        assert answer.status_code == 200, answer.text

    replies = await replies_after(bench, "Zendesk", args, one)

    # the sidebar for a mirrored ticket of the seeded customer
    hanako = state.add_user("山田 花子", "hanako@example.jp")
    ticket = state.open_ticket(
        requester=hanako, subject="配送", body="#1005 hanako@example.jp 注文はいつ届きますか"
    )
    await zendesk_trigger(bench, hook, ticket.id, hanako.id, invocation="bench-card")
    await settle(bench)
    url = sidebar_url(bench.settings, connector) + f"&origin={ZENDESK_URL}&app_guid=bench"
    state.clock = time.time
    cards = await card_loads(
        bench,
        args.cards,
        lambda proof: bench.client.post(url, data=proof),
        conversation_id=str(ticket.id),
        signed=lambda: {"token": app_token(state)},  # Zendesk signs each load
    )
    return {"reply": replies, "card": cards, "ticket": [float(await ticket_of(bench, ticket.id))]}


async def zendesk_trigger(
    bench: Bench, hook: str, ticket_id: int, requester_id: int, *, invocation: str
) -> httpx.Response:
    """Zendesk's signed trigger webhook for a new ticket, as our trigger's body has it."""
    body = json.dumps(
        {
            "kind": TriggerKind.TICKET_CREATED.value,
            "ticket_id": str(ticket_id),
            "requester_id": str(requester_id),
        }
    ).encode()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return await bench.client.post(
        hook,
        content=body,
        headers={
            "content-type": "application/json",
            "x-zendesk-webhook-invocation-id": invocation,
            "x-zendesk-webhook-signature-timestamp": stamp,
            "x-zendesk-webhook-signature": zendesk_sign(
                body, timestamp=stamp, secret=bench.zendesk.config.signing_secret
            ),
        },
    )


async def ticket_of(bench: Bench, display_id: int) -> int:
    async with bench.services.sessions() as session:
        mirror = (
            await session.execute(
                select(ConnectorConversation).where(ConnectorConversation.external_id == str(display_id))
            )
        ).scalar_one()
    assert mirror.ticket_id is not None
    return mirror.ticket_id


async def sidebar_run(bench: Bench, ticket_id: int, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = await bench.client.get(
            f"/api/v1/tickets/{ticket_id}/profile",
            headers={"Authorization": f"Bearer {bench.api_key}", "Accept-Language": "ja"},
        )
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
        assert "#1005" in answer.text, answer.text
    return times


Section = Callable[[Bench, argparse.Namespace], Awaitable[dict[str, list[float]]]]
CONNECTORS: dict[str, Section] = {"Chatwoot": chatwoot_section, "Zendesk": zendesk_section}


async def run(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-connectors-"))
    database_url = f"sqlite+aiosqlite:///{data_dir / 'app.db'}"
    migrate(database_url)
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        app_url="https://app.bench",
        api_key="bench-client-id",
        api_secret=Secret("shpss_bench_" + "0123abcd" * 4),
        encryption_keys=(Secret(Fernet.generate_key().decode()),),
        session_secret=Secret("bench-session-secret-0123456789-abcdef"),
        app_config_path=ROOT / "shopify.app.toml",
        register_webhooks=False,
        reconcile_interval_seconds=0,
    )
    arrived: dict[str, dict[int, float]] = {"Chatwoot": {}, "Zendesk": {}}
    simulator_holder: dict[str, httpx.AsyncClient] = {}
    message_path = re.compile(r"/conversations/(\d+)/messages$")

    # each simulated helpdesk: its address, its client, the bot's reply call (method, path) and its id's name
    helpdesks = {
        "Zendesk": (ZENDESK_URL, "zendesk", "PUT", ZENDESK_REPLY),
        "Chatwoot": (CHATWOOT_URL, "client", "POST", message_path),
    }

    async def outgoing(request: httpx.Request) -> httpx.Response:
        for name, (base, holder, method, reply_path) in helpdesks.items():
            if not str(request.url).startswith(base):
                continue
            reply = reply_path.search(request.url.path)
            if reply and request.method == method:
                arrived[name].setdefault(int(reply.group(1)), time.perf_counter())
            answer = await simulator_holder[holder].request(
                request.method, str(request.url), content=request.content, headers=dict(request.headers)
            )
            return httpx.Response(answer.status_code, content=answer.content, headers=dict(answer.headers))
        return httpx.Response(404, json={"errors": "Not Found"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(outgoing)) as http:
        app = create_app(settings, http=http)
        async with app.router.lifespan_context(app) as state:
            assert state is not None
            services = state["services"]

            async def wrapped(scope: Any, receive: Any, send: Any) -> None:
                if scope["type"] == "http":
                    scope = {**scope, "state": dict(state)}
                await app(scope, receive, send)

            transport = httpx.ASGITransport(app=wrapped, client=("203.0.113.9", 5000))
            async with httpx.AsyncClient(transport=transport, base_url=settings.app_url) as client:
                simulator = create_chatwoot_app(base_url=CHATWOOT_URL, http=client)
                simulator_holder["client"] = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=simulator), base_url=CHATWOOT_URL
                )
                zendesk = create_zendesk_app(
                    ZendeskConfig(public_url=ZENDESK_URL, subdomain="bench", requests_per_minute=1_000_000),
                    http=client,
                )
                simulator_holder["zendesk"] = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=zendesk), base_url=ZENDESK_URL
                )
                shop_id, api_key = await seed(services)
                bench = Bench(
                    client,
                    state["jobs"],
                    settings,
                    services,
                    shop_id,
                    api_key,
                    simulator.state.chatwoot,
                    zendesk.state.zendesk,
                    arrived=arrived,
                )
                results = {name: await section(bench, args) for name, section in CONNECTORS.items()}
                ticket_id = int(next(iter(results.values()))["ticket"][0])
                sidebar = await sidebar_run(bench, ticket_id, args.cards)
                await simulator_holder["client"].aclose()
                await simulator_holder["zendesk"].aclose()
    report(sidebar, results, args)


def report(
    sidebar: list[float], results: dict[str, dict[str, list[float]]], args: argparse.Namespace
) -> None:
    s50, s99 = percentiles_ms(sidebar)
    print(load_average_line())
    print(
        f"console sidebar profile (baseline), {len(sidebar)} one after another: p50 {s50:.1f} ms, p99 {s99:.1f} ms"
    )
    for name, figures in results.items():
        for label, key, goal, noun in (
            (f"{name} webhook in -> reply call at {args.rate:g}/s", "reply", 300.0, "events"),
            (f"{name} card load (page + data)", "card", 150.0, "loads"),
        ):
            print(
                goal_line(
                    label, figures[key], baseline=sidebar, baseline_name="sidebar", goal_ms=goal, noun=noun
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--cards", type=int, default=200)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
