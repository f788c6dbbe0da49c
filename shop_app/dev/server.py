"""``shop-app dev``: the simulated store and the app together on one machine, the app installed into the
store through the real install flow (authorize → approve → callback → code exchange), as a browser would.

The store is a separate program that stands where Shopify stands (``devstore``): this module only starts
it beside the app and talks to it over HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
import uvicorn

from devline.config import LineConfig
from devline.server import create_line_app
from devline.state import LineState
from devstore.config import AppProxy, StoreConfig
from devstore.server import create_store_app
from devzendesk.server import create_zendesk_app
from devzendesk.state import ZendeskState
from shop_app.dev.chatwoot import CHATWOOT_PORT, chatwoot_server_config, connect_demo_chatwoot
from shop_app.dev.line import DEMO_LINE_SHOP, LINE_PORT, connect_demo_channel, line_config, line_url
from shop_app.dev.mail import DevMail, dev_mail, mail_lines
from shop_app.dev.seed import ensure_demo_agent, seed_demo_tickets
from shop_app.dev.zendesk import ZENDESK_PORT, connect_demo_zendesk, zendesk_config, zendesk_url
from shop_app.jobs.procrastinate_queue import ProcrastinateQueue
from shop_app.lifespan import open_services, prepare_database
from shop_app.logging_config import python_level
from shop_app.main import create_app
from shop_app.settings import JobEngine, Settings, load_settings
from shop_app.web_server import ServerConfig

logger = logging.getLogger(__name__)

STORE_PORT = 8081
INSTALL_TIMEOUT_SECONDS = 60.0
WORKER_STOP_SECONDS = 3.0  # Ctrl+C: jobs still running then are cut short (and resume on the next start)


@dataclass(frozen=True, slots=True)
class DevOptions:
    store_port: int = STORE_PORT
    port: int | None = None  # the app's (default PORT or 8000)
    line_port: int = LINE_PORT
    chatwoot_port: int = CHATWOOT_PORT
    zendesk_port: int = ZENDESK_PORT
    orders: int = 2000
    customers: int = 400
    products: int = 40
    seed: int = 1
    activity: bool = False


def dev_settings(
    environ: Mapping[str, str],
    store_url: str,
    *,
    port: int | None = None,
    line: str | None = None,
    zendesk: str | None = None,
) -> Settings:
    """The embedded defaults, pointed at the simulated store instead of Shopify and at the simulated LINE
    platform (``line``) instead of LINE (and at ``port``, which also moves the app's URL unless
    SHOP_APP_URL names it)."""
    env = dict(environ)
    if port is not None:
        env["PORT"] = str(port)
    env.setdefault("SHOPIFY_SHOP_URL_TEMPLATE", f"{store_url}/s/{{shop}}")
    if line is not None:
        for name in ("LINE_API_URL", "LINE_DATA_API_URL", "LINE_ACCESS_URL"):
            env.setdefault(name, line)
    env.setdefault("SHOP_APP_REGISTER_WEBHOOKS", "1")
    if zendesk is not None:
        env.setdefault("ZENDESK_ZAF_SDK_URL", f"{zendesk}/zaf_sdk.min.js")
    return load_settings(env)


def store_config(settings: Settings, options: DevOptions) -> StoreConfig:
    return StoreConfig(
        data_dir=settings.data_dir / "devstore",
        port=options.store_port,
        apps={settings.api_key: settings.api_secret.reveal()},
        compliance_urls={settings.api_key: f"{settings.app_url}/webhooks/compliance"},
        app_urls={settings.api_key: f"{settings.app_url}/app"},
        app_proxies={settings.api_key: AppProxy(url=f"{settings.app_url}/proxy/support")},
        widget_script_url=f"{settings.app_url}/static/widget/widget.js",
        auto_approve=True,
        activity=options.activity,
        seed=options.seed,
        orders=options.orders,
        customers=options.customers,
        products=options.products,
    )


def app_server_config(settings: Settings) -> ServerConfig:
    """The app's server: the connection limits and the access log of ``serve`` (no secret query value);
    requests are printed only when SHOP_APP_LOG_LEVEL asks for DEBUG."""
    level = "DEBUG" if python_level(settings.log_level) <= logging.DEBUG else "WARNING"
    return ServerConfig(
        create_app(settings),
        limits=settings.connections,
        log_level=level,
        log_format=settings.log_format,
        host=settings.host,
        port=settings.port,
    )


def line_server_config(settings: Settings, config: LineConfig) -> tuple[ServerConfig, LineState]:
    app = create_line_app(config)
    server = ServerConfig(
        app, limits=settings.connections, log_level="WARNING", host=config.host, port=config.port
    )
    return server, app.state.line


def zendesk_server_config(settings: Settings, port: int) -> tuple[ServerConfig, ZendeskState]:
    app = create_zendesk_app(zendesk_config(port))
    server = ServerConfig(app, limits=settings.connections, log_level="WARNING", host="127.0.0.1", port=port)
    return server, app.state.zendesk


def store_server_config(settings: Settings, config: StoreConfig) -> ServerConfig:
    return ServerConfig(
        create_store_app(config),
        limits=settings.connections,
        log_level="WARNING",
        log_format=settings.log_format,
        host="127.0.0.1",
        port=config.port,
    )


async def install_through_browser(settings: Settings, shop: str) -> None:
    """Walk the authorization code grant as a browser does: cookies kept, redirects followed."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=INSTALL_TIMEOUT_SECONDS) as browser:
        response = await browser.get(f"{settings.app_url}/auth/install", params={"shop": shop})
    if response.status_code != 200 or response.url.path != "/app":
        raise RuntimeError(
            f"installing into {shop} failed: HTTP {response.status_code} at {response.url.path}"
        )


async def _wait_started(server: uvicorn.Server) -> None:
    while not server.started:
        if server.should_exit:
            raise RuntimeError("a server stopped while starting")
        await asyncio.sleep(0.05)


async def _run_worker(settings: Settings) -> None:
    """On PostgreSQL the app's jobs go to procrastinate: run a worker beside the servers, as
    ``shop-app worker`` would."""
    async with open_services(settings, listen=False) as services:
        queue = ProcrastinateQueue(services)
        await queue.start()
        try:
            await queue.run_worker(
                concurrency=4, install_signal_handlers=False, shutdown_graceful_timeout=WORKER_STOP_SECONDS
            )
        finally:
            await queue.stop()


async def run_dev(options: DevOptions, *, environ: Mapping[str, str] | None = None) -> int:
    store_url = f"http://127.0.0.1:{options.store_port}"
    settings = dev_settings(
        os.environ if environ is None else environ,
        store_url,
        port=options.port,
        line=line_url(options.line_port),
        zendesk=zendesk_url(options.zendesk_port),
    )
    await prepare_database(settings)
    config = store_config(settings, options)
    print(
        f"Preparing the simulated store in {config.data_dir} (the first run generates its data)…", flush=True
    )
    store = uvicorn.Server(store_server_config(settings, config))
    app = uvicorn.Server(app_server_config(settings))
    line_server, line_state = line_server_config(settings, line_config(options.line_port))
    line = uvicorn.Server(line_server)
    servers = [asyncio.create_task(store.serve()), asyncio.create_task(app.serve())]
    servers.append(asyncio.create_task(line.serve()))
    chatwoot_server, chatwoot_state = chatwoot_server_config(settings, options.chatwoot_port)
    chatwoot = uvicorn.Server(chatwoot_server)
    servers.append(asyncio.create_task(chatwoot.serve()))
    zendesk_server, zendesk_account = zendesk_server_config(settings, options.zendesk_port)
    zendesk = uvicorn.Server(zendesk_server)
    servers.append(asyncio.create_task(zendesk.serve()))
    if settings.job_engine is JobEngine.PROCRASTINATE:
        servers.append(asyncio.create_task(_run_worker(settings)))
    try:
        await asyncio.gather(
            _wait_started(store),
            _wait_started(app),
            _wait_started(line),
            _wait_started(chatwoot),
            _wait_started(zendesk),
        )
        for shop in config.shops:
            await install_through_browser(settings, shop)
        line_shop = DEMO_LINE_SHOP if DEMO_LINE_SHOP in config.shops else config.shops[0]
        chat_url = await connect_demo_channel(settings, line_state, shop_domain=line_shop)
        chatwoot_page = await connect_demo_chatwoot(settings, chatwoot_state, shop_domain=line_shop)
        zendesk_ticket = await connect_demo_zendesk(settings, zendesk_account, shop_domain=line_shop)
        email, password = await ensure_demo_agent(settings, config.shops)
        seeding = asyncio.create_task(seed_demo_tickets(settings, config.shops))
        async with dev_mail(settings, config.shops) as mail:
            _print_urls(
                settings,
                store_url,
                config.shops,
                agent=(email, password),
                mail=mail,
                line=(line_shop, chat_url),
                chatwoot=chatwoot_page,
                zendesk=zendesk_ticket,
            )
            # until Ctrl+C stops the servers (or one of the tasks fails: its error is raised here)
            stopped, _running = await asyncio.wait(servers, return_when=asyncio.FIRST_COMPLETED)
        seeding.cancel()
        for task in stopped:
            task.result()
    finally:
        store.should_exit = app.should_exit = line.should_exit = True
        chatwoot.should_exit = zendesk.should_exit = True
        for worker in servers[5:]:
            worker.cancel()
        await asyncio.gather(*servers, return_exceptions=True)
    return 0


def _print_urls(
    settings: Settings,
    store_url: str,
    shops: tuple[str, ...],
    *,
    agent: tuple[str, str],
    mail: DevMail,
    line: tuple[str, str | None] | None = None,
    chatwoot: str | None = None,
    zendesk: str | None = None,
) -> None:
    lines = ["", "Order Desk is running on its embedded defaults, installed into the simulated store.", ""]
    for shop in shops:
        lines += [
            f"  {shop}",
            f"    store admin (opens the embedded app with a session token): {store_url}/s/{shop}/admin",
            f"    demo storefront with the chat widget:                      {store_url}/s/{shop}/",
        ]
    if line is not None and line[1] is not None:
        lines += [
            "",
            f"  LINE chat page (a LINE user of {line[0]}, simulated): {line[1]}",
        ]
    if chatwoot is not None:
        lines += [f"  Chatwoot conversation with the Order Desk card (simulated Chatwoot): {chatwoot}"]
    if zendesk is not None:
        lines += ["", f"  Zendesk ticket with the Order Desk sidebar (simulated): {zendesk}"]
    lines += [
        "",
        f"  agent console: {settings.app_url}/console  (shop {shops[0]}, {agent[0]}, password {agent[1]})",
        f"  API document:  {settings.app_url}/api/v1/openapi.json",
        f"  app health:    {settings.app_url}/healthz",
        *mail_lines(mail),
        "  Each shop's first sync started after its install; watch it on the embedded page or run",
        "  `shop-app sync --shop DOMAIN`. Three demo conversations appear once customers are mirrored.",
        "  Stop with Ctrl+C.",
        "",
    ]
    print("\n".join(lines), flush=True)
