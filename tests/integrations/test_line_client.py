"""The Messaging API client against LINE's documented answers (httpx.MockTransport): retries on 429 and 5xx
honouring Retry-After, the push retry key, LINE's error shapes, and logs without tokens or messages."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

from integrations.line.client import LineClient
from integrations.line.errors import InvalidReplyToken, LineNotFound, LineUnauthorized, LineUnavailable
from integrations.line.messages import text_message
from tests.conftest import SHARED

TOKEN = "channel-access-token-SECRET-0123456789"
LINE = SHARED / "platform-reference" / "line"


class Recorder:
    def __init__(self, answers: list[httpx.Response]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)


def client(recorder: Callable[[httpx.Request], httpx.Response], slept: list[float]) -> LineClient:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    return LineClient(http, access_token=TOKEN, api_url="https://api.line.test", sleep=sleep)


async def test_a_429_is_retried_after_what_retry_after_says() -> None:
    recorder = Recorder(
        [
            httpx.Response(429, json={"message": "Too Many Requests"}, headers={"retry-after": "2"}),
            httpx.Response(200, json={"sentMessages": [{"id": "1"}]}, headers={"x-line-request-id": "req-2"}),
        ]
    )
    slept: list[float] = []
    sent = await client(recorder, slept).reply("token-1", [text_message("hi")])
    assert sent.request_id == "req-2" and slept == [2.0] and len(recorder.requests) == 2
    assert recorder.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(recorder.requests[1].content) == {
        "replyToken": "token-1",
        "messages": [{"type": "text", "text": "hi"}],
    }


async def test_5xx_is_retried_and_gives_up_with_the_request_id_after_the_last_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder(
        [
            httpx.Response(503, json={"message": "down"}, headers={"x-line-request-id": f"r{i}"})
            for i in range(3)
        ]
    )
    slept: list[float] = []
    with pytest.raises(LineUnavailable) as raised:
        await client(recorder, slept).push("Uabc", [text_message("a secret body")], retry_key="k")
    assert raised.value.request_id == "r2" and len(recorder.requests) == 3 and len(slept) == 2
    assert "request_id=r0" in caplog.text and "request_id=r2" in caplog.text
    assert TOKEN not in caplog.text and "a secret body" not in caplog.text


async def test_a_long_retry_after_is_handed_to_the_caller_instead_of_slept() -> None:
    recorder = Recorder(
        [httpx.Response(429, json={"message": "Too Many Requests"}, headers={"retry-after": "120"})]
    )
    slept: list[float] = []
    with pytest.raises(LineUnavailable) as raised:
        await client(recorder, slept).push("Uabc", [text_message("x")], retry_key="k")
    assert raised.value.retry_after_seconds == 120.0 and slept == []


async def test_the_monthly_limit_is_not_retried_at_once() -> None:
    recorder = Recorder([httpx.Response(429, json={"message": "You have reached your monthly limit."})])
    with pytest.raises(LineUnavailable) as raised:
        await client(recorder, []).push("Uabc", [text_message("x")], retry_key="k")
    assert raised.value.retry_after_seconds == 3600.0 and len(recorder.requests) == 1


async def test_a_push_keeps_its_retry_key_across_retries_and_a_409_for_it_counts_as_sent() -> None:
    reference = json.loads((LINE / "error-response-409-retry-key.json").read_text())
    recorder = Recorder(
        [
            httpx.Response(500, json={"message": "Internal error"}),
            httpx.Response(409, json=reference["body"], headers=reference["headers"]),
        ]
    )
    sent = await client(recorder, []).push("Uabc", [text_message("x")], retry_key="7f0e-key")
    assert [r.headers["x-line-retry-key"] for r in recorder.requests] == ["7f0e-key", "7f0e-key"]
    assert sent.request_id == reference["headers"]["x-line-accepted-request-id"]


async def test_an_expired_reply_token_is_told_apart() -> None:
    recorder = Recorder([httpx.Response(400, json={"message": "Invalid reply token"})])
    with pytest.raises(InvalidReplyToken):
        await client(recorder, []).reply("old", [text_message("x")])
    assert "x-line-retry-key" not in recorder.requests[0].headers  # LINE refuses the key on reply


async def test_a_refused_token_and_a_missing_profile_raise_their_own_errors() -> None:
    recorder = Recorder(
        [
            httpx.Response(
                401,
                json={
                    "message": "Authentication failed. Confirm that the access token in the authorization header is valid."
                },
            ),
            httpx.Response(404, json={"message": "Not found"}),
        ]
    )
    line = client(recorder, [])
    with pytest.raises(LineUnauthorized):
        await line.bot_info()
    with pytest.raises(LineNotFound):
        await line.profile("U/../x")
    assert recorder.requests[1].url.raw_path == b"/v2/bot/profile/U%2F..%2Fx"


async def test_more_than_five_messages_are_refused_before_any_call() -> None:
    recorder = Recorder([])
    with pytest.raises(ValueError, match="1 to 5"):
        await client(recorder, []).reply("t", [text_message(str(i)) for i in range(6)])
    assert recorder.requests == []


async def test_loading_seconds_are_rounded_to_lines_steps() -> None:
    recorder = Recorder([httpx.Response(202, json={}), httpx.Response(202, json={})])
    line = client(recorder, [])
    await line.show_loading("Uabc", seconds=7)
    await line.show_loading("Uabc", seconds=600)
    assert [json.loads(r.content)["loadingSeconds"] for r in recorder.requests] == [10, 60]


async def test_bot_info_profile_and_link_token() -> None:
    recorder = Recorder(
        [
            httpx.Response(200, json={"userId": "Ubot", "basicId": "@shop", "displayName": "Shop"}),
            httpx.Response(200, json={"userId": "Uabc", "displayName": "花子", "language": "ja"}),
            httpx.Response(200, json={"linkToken": "NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY"}),
        ]
    )
    line = client(recorder, [])
    assert (await line.bot_info()).display_name == "Shop"
    assert (await line.profile("Uabc")).display_name == "花子"
    assert await line.issue_link_token("Uabc") == "NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY"
    assert recorder.requests[2].url.path == "/v2/bot/user/Uabc/linkToken"
    assert TOKEN not in repr(line)


async def test_the_loading_animation_is_not_retried() -> None:
    recorder = Recorder(
        [httpx.Response(429, json={"message": "Too Many Requests"}, headers={"retry-after": "1"})]
    )
    slept: list[float] = []
    with pytest.raises(LineUnavailable):
        await client(recorder, slept).show_loading("Uabc")
    assert len(recorder.requests) == 1 and slept == []
