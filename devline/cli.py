"""``python -m devline [--port N] [--channel …]``: the simulated LINE platform on its own."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from devline.config import DEFAULT_PORT, ChannelConfig, LineConfig


def _channel(text: str) -> ChannelConfig:
    """``CHANNEL_ID:SECRET:ACCESS_TOKEN[:WEBHOOK_URL]`` (the URL may hold colons)."""
    parts = text.split(":", 3)
    if len(parts) < 3 or not all(parts[:3]):
        raise argparse.ArgumentTypeError("expected CHANNEL_ID:SECRET:ACCESS_TOKEN[:WEBHOOK_URL]")
    channel_id, secret, token = parts[:3]
    webhook_url = parts[3] if len(parts) == 4 else ""
    return ChannelConfig.generate(
        display_name=f"devline {channel_id}",
        channel_id=channel_id,
        channel_secret=secret,
        access_token=token,
        webhook_url=webhook_url,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="devline", description="A simulated LINE platform (Messaging API)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--public-url", default="")
    parser.add_argument(
        "--channel",
        action="append",
        type=_channel,
        default=[],
        metavar="CHANNEL_ID:SECRET:ACCESS_TOKEN[:WEBHOOK_URL]",
        help="a channel that exists at start (repeatable); without one, a demo channel is made",
    )
    parser.add_argument("--webhook-url", default="", help="the demo channel's webhook URL")
    parser.add_argument("--no-redelivery", action="store_true", help="the demo channel does not redeliver")
    parser.add_argument("--webhook-time-scale", type=float, default=1.0, help="multiplies redelivery delays")
    return parser


def config_from(args: argparse.Namespace) -> LineConfig:
    channels = tuple(args.channel) or (
        ChannelConfig.generate(
            display_name="devline demo", webhook_url=args.webhook_url, redelivery=not args.no_redelivery
        ),
    )
    return LineConfig(
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        channels=channels,
        webhook_time_scale=args.webhook_time_scale,
    )


def main(argv: Sequence[str] | None = None) -> int:
    config = config_from(build_parser().parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    import uvicorn

    from devline.server import create_line_app

    for channel in config.channels:
        # credentials are not printed: GET /_devline/channels shows them, as LINE Developers' console does
        chat_page = f"{config.base_url}/chat/{channel.channel_id}"
        print(f"channel {channel.channel_id} ({channel.display_name}): chat page {chat_page}")
    print(f"channel secrets and access tokens: GET {config.base_url}/_devline/channels")
    uvicorn.run(create_line_app(config), host=config.host, port=config.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
