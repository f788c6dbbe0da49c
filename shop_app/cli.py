"""The ``shop-app`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from shop_app.errors import SettingsError
from shop_app.logging_config import configure_logging
from shop_app.settings import Mode, Settings, add_development_encryption_key, load_settings

if TYPE_CHECKING:
    import httpx

    from shop_app.runtime import Services
    from shop_app.web_server import ServerConfig

PROGRESS_REFRESH_SECONDS = 0.25

DESCRIPTION = """\
Order Desk: a Shopify app that mirrors each store's orders, shipments, customers and stock beside every
support conversation. With no settings it runs on SQLite in ./.data with generated development secrets;
set DATABASE_URL (PostgreSQL) and the secrets listed in README.md for production.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shop-app", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the web app (migrates first on the embedded SQLite default)",
        description="Run the web app with uvicorn. On SQLite the database is migrated before starting; "
        "on PostgreSQL run `shop-app migrate` once per deploy instead.",
    )
    serve.add_argument("--host", help="address to bind (default SHOP_APP_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    serve.add_argument(
        "--timeout-keep-alive",
        type=_positive_int,
        metavar="SECONDS",
        help="close a connection idle this long between requests (default SHOP_APP_KEEP_ALIVE_SECONDS or 5)",
    )
    serve.add_argument(
        "--timeout-header",
        type=_positive_float,
        metavar="SECONDS",
        help="close a connection whose request line and headers are not in after this long, or whose body "
        "pauses this long (default SHOP_APP_HEADER_TIMEOUT_SECONDS or 10)",
    )
    serve.add_argument(
        "--limit-concurrency",
        type=_positive_int,
        metavar="N",
        help="connections and requests at once per process; more are answered 503 "
        "(default SHOP_APP_MAX_CONNECTIONS or 1000)",
    )
    serve.add_argument(
        "--timeout-graceful-shutdown",
        type=_positive_int,
        metavar="SECONDS",
        help="on shutdown, give requests in flight this long "
        "(default SHOP_APP_SHUTDOWN_TIMEOUT_SECONDS or 20)",
    )

    commands.add_parser(
        "migrate",
        help="bring the database schema up to date",
        description="Apply every pending Alembic migration (and, on PostgreSQL, install the job queue's "
        "tables once). Safe to run repeatedly.",
    )

    backup = commands.add_parser(
        "backup",
        help="back up the embedded SQLite database while the app runs",
        description="Copy the database into a new directory with SQLite's online backup API (one consistent "
        "snapshot; the app keeps running), with a manifest and, in development, the generated secrets. "
        "On PostgreSQL use pg_dump (see the README).",
    )
    backup.add_argument("path", help="a new (or empty) directory for the backup")
    restore = commands.add_parser(
        "restore",
        help="restore the embedded SQLite database from a backup (stop the app first)",
        description="Check the backup's integrity and put it in place of the database.",
    )
    restore.add_argument("path", help="a directory written by shop-app backup")
    restore.add_argument("--replace", action="store_true", help="overwrite an existing database")

    rotate = commands.add_parser(
        "rotate-keys",
        help="re-encrypt every stored secret with the newest encryption key",
        description="Re-encrypt stored access tokens and data exports with the first key of "
        "SHOP_APP_ENCRYPTION_KEYS. Add the new key in front of the list, run this, then drop the old key.",
    )
    rotate.add_argument(
        "--new-key",
        action="store_true",
        help="development only: generate a key and put it in front of the development key list first",
    )

    worker = commands.add_parser(
        "worker",
        help="run a background job worker (PostgreSQL deployments)",
        description="Run procrastinate jobs (webhook processing, subscriptions, sync). Start as many as "
        "needed, on any number of machines. On the embedded SQLite default jobs run inside `serve`.",
    )
    worker.add_argument("--concurrency", type=int, default=4, help="jobs run at once (default 4)")
    worker.add_argument(
        "--health-port",
        type=int,
        default=None,
        help="serve /healthz and /readyz on this port for a supervisor (default: none)",
    )
    worker.add_argument(
        "--health-host", default="127.0.0.1", help="the address --health-port listens on (default 127.0.0.1)"
    )

    mail = commands.add_parser(
        "mail",
        help="receive shoppers' email: an SMTP listener for the shops' support addresses",
        description="Listen for mail to the shops' support addresses and reply addresses (forward "
        "support@your-domain here, or point its MX at this host). Unknown recipients are refused; the bot "
        "answers as in chat and its replies leave through each shop's relay. Retries are sent by `serve` "
        "(SQLite) or the workers (PostgreSQL).",
    )
    mail.add_argument("--host", help="address to listen on (default SHOP_APP_MAIL_HOST or 127.0.0.1)")
    mail.add_argument("--port", type=int, help="port to listen on (default SHOP_APP_MAIL_PORT or 2525)")

    sync = commands.add_parser(
        "sync",
        help="sync one shop's mirror in the foreground, with a progress bar",
        description="Backfill the shop's mirror (resuming an interrupted backfill), then reconcile it, "
        "with a progress bar per resource; print a summary. Refused while another process syncs the shop.",
    )
    sync.add_argument("--shop", required=True, help="the shop's myshopify.com domain")
    sync.add_argument("--full", action="store_true", help="backfill everything again from the start")

    dev = commands.add_parser(
        "dev",
        help="run the simulated store and the app together, the app installed into the store",
        description="Start the simulated Shopify store and the app on their embedded defaults, install "
        "the app into the store's shops through the real install flow, and print the URLs to open. The "
        "database is migrated first (on PostgreSQL the job queue's tables too, and a job worker runs "
        "beside the app).",
    )
    dev.add_argument("--port", type=int, help="the app's port (default PORT or 8000)")
    dev.add_argument("--store-port", type=int, default=8081, help="the store's port (default 8081)")
    dev.add_argument(
        "--line-port", type=int, default=8082, help="the simulated LINE platform's port (default 8082)"
    )
    dev.add_argument(
        "--chatwoot-port", type=int, default=8083, help="the simulated Chatwoot's port (default 8083)"
    )
    dev.add_argument(
        "--zendesk-port", type=int, default=8084, help="the simulated Zendesk's port (default 8084)"
    )
    dev.add_argument("--orders", type=int, default=2000, help="orders generated per shop (default 2000)")
    dev.add_argument("--customers", type=int, default=400, help="customers per shop (default 400)")
    dev.add_argument("--products", type=int, default=40, help="products per shop (default 40)")
    dev.add_argument("--seed", type=int, default=1, help="seed of the generated data (default 1)")
    dev.add_argument("--activity", action="store_true", help="let the store place and ship orders on a clock")

    agent = commands.add_parser(
        "agent",
        help="add an agent to a shop's helpdesk (`shop-app agent add --help`)",
        description="Manage the people who answer a shop's tickets in the agent console.",
    )
    agent_commands = agent.add_subparsers(dest="agent_command", required=True, metavar="ACTION")
    agent_add = agent_commands.add_parser(
        "add",
        help="create a shop's agent, or change the role of the shop's agent with that email",
        description="An email has one account per shop (another shop's account with the same email is "
        "left alone). A new agent's password is read from SHOP_APP_AGENT_PASSWORD, or asked for at the "
        "prompt. A shop keeps at least one admin: its last admin cannot be made an agent.",
    )
    agent_add.add_argument("--shop", required=True, help="the shop's myshopify.com domain")
    agent_add.add_argument("--email", required=True)
    agent_add.add_argument(
        "--name",
        default="",
        help="the display name: its first word is shown to shoppers (without one they see the shop's "
        "name; never the email)",
    )
    agent_add.add_argument(
        "--role", choices=["admin", "agent"], help="a new agent's default is agent; an existing one's is kept"
    )
    agent_add.add_argument("--locale", choices=["en", "ja"], default="en", help="console language")

    api_key = commands.add_parser(
        "api-key",
        help="create an API key for a bot or another helpdesk (`shop-app api-key create --help`)",
        description="API keys call /api/v1 for one shop. The key is printed once and stored as a digest.",
    )
    key_commands = api_key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    key_create = key_commands.add_parser("create", help="create a key and print it once")
    key_create.add_argument("--shop", required=True, help="the shop's myshopify.com domain")
    key_create.add_argument("--name", required=True, help="what uses the key")
    key_create.add_argument(
        "--trusted",
        action="store_true",
        help="its callers verify shoppers themselves (order details allowed)",
    )

    zendesk = commands.add_parser(
        "zendesk",
        help="build the Zendesk Support app to upload (`shop-app zendesk package --help`)",
        description="Zendesk: the sidebar app whose iframe is the profile card.",
    )
    zendesk_commands = zendesk.add_subparsers(dest="zendesk_command", required=True, metavar="ACTION")
    zendesk_package = zendesk_commands.add_parser(
        "package",
        help="write the app's zip (manifest.json with signedUrls, assets, translations en/ja)",
        description='Writes the zip that `zcli apps:create` or Zendesk\'s "Upload private app" takes; its '
        "sidebar is this app's page for the shop, at SHOP_APP_URL.",
    )
    zendesk_package.add_argument("--shop", required=True, help="the shop's myshopify.com domain")
    zendesk_package.add_argument("--out", default="order-desk-zendesk.zip", help="the zip to write")

    devstore = commands.add_parser(
        "devstore",
        help="run only the simulated Shopify store (see `shop-app devstore --help`)",
        description="Run the simulated Shopify store on its own port. Arguments after `devstore` go to the "
        "store's own command line: `serve` (the default) or `generate`; `shop-app devstore serve --help`.",
        add_help=False,
    )
    devstore.add_argument("store_args", nargs=argparse.REMAINDER)

    classify = commands.add_parser(
        "classify",
        help="print what the bot understands of messages (intent, confidence, order number…) as JSON",
        description="Classify each message given as an argument, or each line of standard input when "
        "there are none, and print one JSON object per message: intent, confidence, auto (whether the bot "
        "would answer it by itself with a shop's default settings), order_ref, the entities read and the "
        "rules that fired. Needs no database.",
    )
    classify.add_argument("messages", nargs="*", help="messages (default: one per line on stdin)")
    classify.add_argument("--order-prefix", default="#", help="the shop's order-name prefix (default #)")
    classify.add_argument("--order-suffix", default="", help="the shop's order-name suffix")
    classify.add_argument("--region", help="country for phone numbers without a code, e.g. JP")
    classify.add_argument("--product", action="append", default=[], help="a product title (repeatable)")

    evaluate = commands.add_parser(
        "eval",
        help="measure the message classifier on a labelled corpus",
        description="Print precision and recall per intent, the automatic answers' precision and recall, "
        "and the share of person-only messages that would have been answered automatically, for the "
        "tuned part of the corpus, the held-out part and all of it. Exit 1 when any part misses a goal.",
    )
    evaluate.add_argument("--corpus", default="tests/answers/corpus.jsonl", help="JSON lines to read")
    evaluate.add_argument("--mistakes", action="store_true", help="also list the misclassified messages")
    return parser


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{raw!r} is not more than 0")
    return value


def _positive_int(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number above 0")
    return int(raw)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "devstore":
        from devstore.cli import main as devstore_main

        store_args = list(args.store_args)
        if not store_args or store_args[0] not in {"serve", "generate", "-h", "--help"}:
            store_args = ["serve", *store_args]
        return devstore_main(store_args)
    if args.command == "classify":
        return _classify(args)
    if args.command == "eval":
        return _evaluate(corpus=args.corpus, show_mistakes=args.mistakes)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"shop-app: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    if args.command == "serve":
        return serve(settings, args)
    if args.command == "migrate":
        migrate(settings)
        return 0
    if args.command in ("backup", "restore"):
        return _backup_or_restore(settings, args)
    if args.command == "rotate-keys":
        if args.new_key:
            if settings.mode is not Mode.DEVELOPMENT:
                print("shop-app: --new-key is for development; set SHOP_APP_ENCRYPTION_KEYS", file=sys.stderr)
                return 2
            add_development_encryption_key(settings.data_dir)
            settings = load_settings()
        counts = asyncio.run(_rotate(settings))
        print(", ".join(f"{name}: {count} re-encrypted" for name, count in counts.items()))
        return 0
    if args.command == "worker":
        return asyncio.run(
            _worker(
                settings,
                concurrency=args.concurrency,
                health=(args.health_host, args.health_port) if args.health_port is not None else None,
            )
        )
    if args.command == "mail":
        try:
            return asyncio.run(run_mail(settings, host=args.host, port=args.port))
        except KeyboardInterrupt:
            return 0
    if args.command == "sync":
        return asyncio.run(run_sync(settings, shop=args.shop, full=args.full))
    if args.command == "zendesk":
        from pathlib import Path

        from shop_app.connectors.zendesk_app import shop_sidebar_url, write_app_zip

        sidebar = asyncio.run(shop_sidebar_url(settings, args.shop))
        if sidebar is None:
            print(
                f"shop-app: {args.shop} has no Zendesk connector: set it up on /app/connectors",
                file=sys.stderr,
            )
            return 2
        written = write_app_zip(Path(args.out), app_url=settings.app_url, sidebar=sidebar)
        print(f"wrote {written}: upload it with `zcli apps:create` or as a private app in Zendesk")
        return 0
    if args.command in ("agent", "api-key"):
        return _accounts(settings, args)
    if args.command == "dev":
        from shop_app.dev.server import DevOptions, run_dev

        options = DevOptions(
            port=args.port,
            store_port=args.store_port,
            line_port=args.line_port,
            chatwoot_port=args.chatwoot_port,
            zendesk_port=args.zendesk_port,
            orders=args.orders,
            customers=args.customers,
            products=args.products,
            seed=args.seed,
            activity=args.activity,
        )
        try:
            return asyncio.run(run_dev(options))
        except KeyboardInterrupt:
            return 0
    return 2


def _accounts(settings: Settings, args: argparse.Namespace) -> int:
    import getpass
    import os

    from shop_app.agent_commands import add_agent, new_api_key
    from shop_app.errors import AppError
    from shop_app.models import Role

    try:
        if args.command == "api-key":
            key = asyncio.run(new_api_key(settings, shop=args.shop, name=args.name, trusted=args.trusted))
            print(key)
            print("Keep this key now: it is not shown again.", file=sys.stderr)
            return 0
        password = os.environ.get("SHOP_APP_AGENT_PASSWORD")
        if password is None and sys.stdin.isatty():
            password = getpass.getpass("Password for a new agent (ignored if the shop has them): ") or None
        outcome = asyncio.run(
            add_agent(
                settings,
                shop=args.shop,
                email=args.email,
                name=args.name,
                password=password,
                role=Role(args.role) if args.role else None,
                locale=args.locale,
            )
        )
    except AppError as error:
        print(f"shop-app: {error.message}", file=sys.stderr)
        return 1
    print(outcome)
    return 0


def _classify(args: argparse.Namespace) -> int:
    import json

    from shop_app.answers.understanding import ShopHints, understand

    hints = ShopHints(
        order_prefix=args.order_prefix,
        order_suffix=args.order_suffix,
        default_region=args.region,
        product_titles=tuple(args.product),
    )
    messages = args.messages or (line.rstrip("\r\n") for line in sys.stdin)
    out = sys.stdout
    for message in messages:
        out.write(json.dumps(understand(message, hints=hints).as_dict(), ensure_ascii=False) + "\n")
    out.flush()
    return 0


def _evaluate(*, corpus: str, show_mistakes: bool) -> int:
    from pathlib import Path

    from shop_app.answers.evaluation import evaluate_parts, load_corpus, report_lines

    try:
        messages = load_corpus(Path(corpus))
    except (OSError, ValueError) as error:
        print(f"shop-app: cannot read the corpus: {error}", file=sys.stderr)
        return 2
    reports = evaluate_parts(messages)
    for report in reports:
        print("\n".join(report_lines(report.title, report.evaluation)))
        if show_mistakes:
            for message, understood in report.evaluation.mistakes:
                print(f"    {message.intent.value} → {understood.intent.value} ({understood.confidence:.2f})")
    missed = [(report.title, goal) for report in reports for goal in report.missed]
    for title, goal in missed:
        print(f"goal missed ({title}): {goal}")
    return 1 if missed else 0


def _backup_or_restore(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from shop_app.operations.backups import BackupError, backup, restore

    try:
        if args.command == "backup":
            report = backup(settings, Path(args.path))
        else:
            report = restore(settings, Path(args.path), replace_existing=args.replace)
    except BackupError as error:
        print(f"shop-app {args.command}: {error.message}", file=sys.stderr)
        return 1
    verb = "backed up to" if args.command == "backup" else "restored from"
    print(
        f"shop-app {args.command}: {verb} {report.path} ({report.size_bytes:,} bytes, "
        f"schema {report.revision}, {sum(report.rows.values()):,} rows"
        + (", with the development secrets" if report.secrets_included else "")
        + ")"
    )
    if args.command == "restore":
        migrate(settings)  # a backup from an older version is brought up to this one
    return 0


def migrate(settings: Settings) -> None:
    from shop_app.lifespan import prepare_database

    asyncio.run(prepare_database(settings))


async def refuse_unready_database(settings: Settings, command: str) -> bool:
    """True (with the reason and what to do printed) when ``command`` must not start on this database."""
    from sqlalchemy.exc import OperationalError

    from shop_app.lifespan import database_not_ready

    try:
        reason = await database_not_ready(settings)
    except (OperationalError, OSError) as error:
        reason = f"the database cannot be reached ({type(error).__name__})"
    if reason is None:
        return False
    print(
        f"shop-app {command}: {reason}. Run `shop-app migrate` first (once per deploy, with the same "
        f"DATABASE_URL), then start `shop-app {command}` again.",
        file=sys.stderr,
    )
    return True


def serve_config(settings: Settings, args: argparse.Namespace) -> ServerConfig:
    """The uvicorn configuration ``serve`` runs: the app from the environment (each worker reads it), the
    connection limits of ``settings`` with the command line's overrides, an access log without secret
    query values."""
    from shop_app.web_server import ServerConfig

    overrides = {
        "keep_alive_seconds": args.timeout_keep_alive,
        "header_timeout_seconds": args.timeout_header,
        "max_connections": args.limit_concurrency,
        "shutdown_timeout_seconds": args.timeout_graceful_shutdown,
    }
    return ServerConfig(
        "shop_app.main:app_from_environment",
        factory=True,
        limits=replace(settings.connections, **{k: v for k, v in overrides.items() if v is not None}),
        log_level=settings.log_level,
        log_format=settings.log_format,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        proxy_headers=True,
    )


def serve(settings: Settings, args: argparse.Namespace) -> int:
    from shop_app.web_server import run_server

    if settings.is_sqlite:
        migrate(settings)
    elif asyncio.run(refuse_unready_database(settings, "serve")):
        return 1
    from shop_app.operations.metrics import clear_multiprocess_directory

    clear_multiprocess_directory()  # the last run's values: a restarted target's counters start at zero
    return run_server(serve_config(settings, args))


async def _rotate(settings: Settings) -> dict[str, int]:
    from shop_app.database import make_engine, make_session_factory, transaction
    from shop_app.encryption import Cipher
    from shop_app.shops.key_rotation import rotate_encryption

    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            return await rotate_encryption(session, Cipher(settings.encryption_keys))
    finally:
        await engine.dispose()


async def run_sync(
    settings: Settings,
    *,
    shop: str,
    full: bool,
    http: httpx.AsyncClient | None = None,
    console: Console | None = None,
) -> int:
    """``shop-app sync``: backfill (resuming, or from scratch with ``full``) and reconcile one shop in the
    foreground, a progress bar per resource drawn from the sync state the services write."""
    from integrations.shopify.errors import InvalidShopDomain, ShopifyError
    from integrations.shopify.shop_domains import normalise_shop_domain
    from shop_app.lifespan import open_services
    from shop_app.mirror.backfill import backfill_shop
    from shop_app.mirror.reconciliation import reconcile_shop
    from shop_app.mirror.sync_states import describe, get_sync_state
    from shop_app.shops.installation import get_shop

    out = console or Console()
    try:
        domain = normalise_shop_domain(shop)
    except InvalidShopDomain:
        out.print(f"shop-app: {shop!r} is not a *.myshopify.com domain", markup=False)
        return 2
    async with open_services(settings, http=http, listen=False) as services:
        async with services.sessions() as session:
            found = await get_shop(session, domain)
        if found is None or found.id is None or not found.is_active:
            out.print(f"shop-app: {domain} is not installed", markup=False)
            return 1
        shop_id = found.id

        async def view() -> dict[str, Any]:
            async with services.sessions() as session:
                return describe(await get_sync_state(session, shop_id=shop_id))

        if (await view())["running"]:
            out.print(
                f"A sync of {domain} is running in another process; try again when it ends.", markup=False
            )
            return 1
        bars = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=out,
        )
        shown: dict[str, TaskID] = {}

        async def refresh() -> None:
            for name, entry in (await view())["resources"].items():
                if name not in shown:
                    shown[name] = bars.add_task(name, total=entry["total"])
                bars.update(shown[name], completed=entry["done"], total=entry["total"])

        async def watch() -> None:
            while True:
                await refresh()
                await asyncio.sleep(PROGRESS_REFRESH_SECONDS)

        started = time.monotonic()
        with bars:
            watcher = asyncio.create_task(watch())
            try:
                await backfill_shop(services, shop_id=shop_id, full=full)
                report = await reconcile_shop(services, shop_id=shop_id)
            except ShopifyError as error:
                out.print(f"shop-app: the sync stopped: {type(error).__name__}: {error}", markup=False)
                return 1
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
                await refresh()
        final = await view()
    elapsed = time.monotonic() - started
    out.print(f"Synced {domain} in {elapsed:.1f} s", markup=False)
    for name, entry in final["resources"].items():
        out.print(f"  {name:<10} {entry['done']:>8} of {entry['total']} ({entry['mode']})", markup=False)
    if report.get("skipped"):
        out.print(f"  reconciliation skipped: {report.get('reason')}", markup=False)
    else:
        out.print(f"  reconciliation repaired {report.get('repaired', 0)} records", markup=False)
    if final["last_error"]:
        out.print(f"  last error: {final['last_error']}", markup=False)
    return 0


async def run_mail(settings: Settings, *, host: str | None = None, port: int | None = None) -> int:
    from shop_app.channels.email.listener import MailHandler, listening_port, start_listener
    from shop_app.lifespan import open_services

    if await refuse_unready_database(settings, "mail"):
        return 1
    async with open_services(settings, listen=False) as services:
        handler = MailHandler(services)
        server = await start_listener(services, handler, host=host, port=port)
        print(f"Order Desk mail: listening for SMTP on port {listening_port(server)}", flush=True)
        try:
            await server.serve_forever()
        finally:
            server.close()
            await handler.drain()
    return 0


async def _worker(settings: Settings, *, concurrency: int, health: tuple[str, int] | None = None) -> int:
    from shop_app.jobs.procrastinate_queue import ProcrastinateQueue
    from shop_app.lifespan import open_services

    if settings.is_sqlite:
        print(
            "shop-app: workers need PostgreSQL; on SQLite jobs run inside `shop-app serve`", file=sys.stderr
        )
        return 2
    if await refuse_unready_database(settings, "worker"):
        return 1
    from shop_app.observability.metrics import record_metrics

    record_metrics(settings.metrics_enabled)
    # a worker publishes live events (NOTIFY) but has no consoles to deliver them to: no LISTEN
    async with open_services(settings, listen=False) as services:
        queue = ProcrastinateQueue(services)
        await queue.start()
        async with serving_health(services, health):
            try:
                await queue.run_worker(concurrency=concurrency)
            finally:
                await queue.stop()
    return 0


@contextlib.asynccontextmanager
async def serving_health(services: Services, address: tuple[str, int] | None) -> AsyncIterator[None]:
    """/healthz and /readyz on ``address`` (host, port) while the block runs; nothing when None."""
    if address is None:
        yield
        return
    import uvicorn

    from shop_app.routes.health import health_app

    host, port = address
    server = uvicorn.Server(
        uvicorn.Config(health_app(services), host=host, port=port, log_level="warning", access_log=False)
    )
    serving = asyncio.create_task(server.serve(), name="worker-health")
    try:
        yield
    finally:
        server.should_exit = True
        await serving


if __name__ == "__main__":
    raise SystemExit(main())
