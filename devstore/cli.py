"""``python -m devstore.cli serve|generate``; ``shop-app devstore`` calls ``main(["serve", ...])``."""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from devstore.config import DEFAULT_SHOPS, AppProxy, StoreConfig
from devstore.generator import generate_store
from devstore.records import RecordStore


def _app_credentials(text: str) -> tuple[str, str]:
    client_id, sep, secret = text.partition(":")
    if not sep or not client_id or not secret:
        raise argparse.ArgumentTypeError("expected CLIENT_ID:SECRET")
    return client_id, secret


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError("expected CLIENT_ID=URL")
    return key, value


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path(".data/devstore"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders", type=int, default=2000, help="orders per shop")
    parser.add_argument("--customers", type=int, default=400, help="customers per shop")
    parser.add_argument("--products", type=int, default=40, help="products per shop")
    parser.add_argument("--shop", action="append", dest="shops", help="shop domain (repeatable)")
    parser.add_argument("--regenerate", action="store_true", help="delete the store's documents first")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="devstore", description="A simulated Shopify store")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the store")
    _data_options(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8081)
    serve.add_argument("--public-url", default="")
    serve.add_argument(
        "--app", action="append", type=_app_credentials, default=[], metavar="CLIENT_ID:SECRET"
    )
    serve.add_argument("--app-url", action="append", type=_pair, default=[], metavar="CLIENT_ID=URL")
    serve.add_argument(
        "--app-proxy",
        action="append",
        type=_pair,
        default=[],
        metavar="CLIENT_ID=URL",
        help="forward the storefront's /apps/support/… to URL, signed as Shopify's app proxy does",
    )
    serve.add_argument("--compliance-url", action="append", type=_pair, default=[], metavar="CLIENT_ID=URL")
    serve.add_argument("--auto-approve", action="store_true")
    serve.add_argument("--activity", action="store_true", help="make store changes on a clock")
    serve.add_argument("--activity-interval", type=float, default=5.0, help="seconds between changes")
    serve.add_argument("--webhook-time-scale", type=float, default=1.0)
    serve.add_argument("--widget-script-url", default="")
    generate = commands.add_parser("generate", help="only generate the store's data")
    _data_options(generate)
    return parser


def _config(args: argparse.Namespace) -> StoreConfig:
    extra = {}
    if args.command == "serve":
        extra = {
            "host": args.host,
            "port": args.port,
            "public_url": args.public_url,
            "apps": dict(args.app),
            "app_urls": dict(args.app_url),
            "app_proxies": {client_id: AppProxy(url=url) for client_id, url in args.app_proxy},
            "compliance_urls": dict(args.compliance_url),
            "auto_approve": args.auto_approve,
            "activity": args.activity,
            "activity_interval_seconds": args.activity_interval,
            "webhook_time_scale": args.webhook_time_scale,
            "widget_script_url": args.widget_script_url,
        }
    return StoreConfig(
        data_dir=args.data_dir,
        shops=tuple(args.shops or DEFAULT_SHOPS),
        seed=args.seed,
        orders=args.orders,
        customers=args.customers,
        products=args.products,
        **extra,
    )


def _remove_documents(data_dir: Path) -> None:
    for name in ("store.db", "store.db-wal", "store.db-shm"):
        (data_dir / name).unlink(missing_ok=True)


def _generate(config: StoreConfig) -> int:
    records = RecordStore(config.data_dir / "store.db")
    try:
        started = time.perf_counter()
        report = generate_store(
            records,
            shops=config.shops,
            seed=config.seed,
            orders=config.orders,
            customers=config.customers,
            products=config.products,
            now=datetime.now(UTC).replace(minute=0, second=0, microsecond=0),
            progress=lambda line: print(line, flush=True),
        )
        elapsed = time.perf_counter() - started
    finally:
        records.close()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for shop in report.shops:
        print(
            f"{shop.shop}: {shop.orders:,} orders, {shop.customers:,} customers, {shop.products:,} products "
            f"({shop.variants:,} variants), {shop.locations} locations"
        )
    print(f"generated {report.orders:,} orders in {elapsed:.1f} s, peak memory {peak_mib:.0f} MiB")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = _config(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.regenerate:
        _remove_documents(config.data_dir)
    if args.command == "generate":
        config.data_dir.mkdir(parents=True, exist_ok=True)
        return _generate(config)
    import uvicorn

    from devstore.server import create_store_app

    if not config.apps:
        print("warning: no --app CLIENT_ID:SECRET given; OAuth will refuse every client", file=sys.stderr)
    uvicorn.run(create_store_app(config), host=config.host, port=config.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
