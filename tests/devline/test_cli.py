from __future__ import annotations

import pytest

from devline.cli import build_parser, config_from


def test_channels_given_on_the_command_line_keep_their_credentials_and_webhook_url() -> None:
    args = build_parser().parse_args(
        ["--port", "9000", "--channel", "2001:secret-1:token-1:http://127.0.0.1:8000/line/webhook/hinode"]
    )

    config = config_from(args)

    [channel] = config.channels
    assert (channel.channel_id, channel.channel_secret, channel.access_tokens) == (
        "2001",
        "secret-1",
        ("token-1",),
    )
    assert channel.webhook_url == "http://127.0.0.1:8000/line/webhook/hinode"
    assert config.base_url == "http://127.0.0.1:9000"
    assert "secret-1" not in repr(channel) and "token-1" not in repr(channel)


def test_without_channels_a_demo_channel_is_made() -> None:
    config = config_from(build_parser().parse_args(["--webhook-url", "http://127.0.0.1:8000/line"]))

    [channel] = config.channels
    assert channel.webhook_url == "http://127.0.0.1:8000/line"
    assert channel.bot_user_id.startswith("U") and len(channel.bot_user_id) == 33


def test_a_channel_without_its_token_is_refused() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--channel", "2001:secret-only"])
