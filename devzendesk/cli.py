"""``python -m devzendesk [--port N] [--webhook-url URL] [--sidebar-url URL]``: the simulated Zendesk."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from devzendesk.config import DEFAULT_PORT, ZendeskConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="devzendesk", description="A simulated Zendesk Support account")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--subdomain", default="devzendesk")
    parser.add_argument("--webhook-url", default="", help="the endpoint our triggers' webhook notifies")
    parser.add_argument("--sidebar-url", default="", help="the Support app's server-side sidebar page")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = ZendeskConfig(
        host=args.host,
        port=args.port,
        subdomain=args.subdomain,
        webhook_url=args.webhook_url,
        sidebar_url=args.sidebar_url,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    import uvicorn

    from devzendesk.server import create_zendesk_app

    # credentials are not printed: GET /_devzendesk/account shows them, as Zendesk's admin center does
    print(f"devzendesk account {config.subdomain}: credentials at GET {config.base_url}/_devzendesk/account")
    uvicorn.run(create_zendesk_app(config), host=config.host, port=config.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
