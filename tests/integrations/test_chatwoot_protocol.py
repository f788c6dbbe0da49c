"""Chatwoot's protocol against its reference data: the signature vector, the reconstructed agent-bot
payloads, and what a stranger can send (Hypothesis): nothing but the documented shapes is parsed, no
forged header verifies, and the client retries a 429 then gives up."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.chatwoot.client import ChatwootClient
from integrations.chatwoot.errors import ChatwootParseError, ChatwootUnauthorized, ChatwootUnavailable
from integrations.chatwoot.payloads import (
    ConversationEvent,
    MessageEvent,
    MessageType,
    parse_body,
    parse_event,
)
from integrations.chatwoot.signatures import sign, verify_signature
from tests.conftest import SHARED

CHATWOOT = SHARED / "platform-reference" / "chatwoot"


def reference(name: str) -> dict[str, Any]:
    return dict(json.loads((CHATWOOT / name).read_text(encoding="utf-8")))


def test_the_reference_signature_verifies_and_nothing_else_does() -> None:
    vector = reference("webhook-signature-vector.json")
    body, headers, secret = vector["body"].encode(), vector["headers"], vector["secret"]
    stamp = int(headers["X-Chatwoot-Timestamp"])
    assert sign(body, secret=secret, timestamp=stamp) == headers["X-Chatwoot-Signature"]
    good = {"signature": headers["X-Chatwoot-Signature"], "timestamp": headers["X-Chatwoot-Timestamp"]}
    assert verify_signature(body, **good, secret=secret, now=stamp + 10)
    assert not verify_signature(body, **good, secret=secret, now=stamp + 301)  # stale
    assert not verify_signature(body, **good, secret=secret, now=stamp - 301)  # from the future
    assert not verify_signature(body + b" ", **good, secret=secret, now=stamp)
    assert not verify_signature(body, **good, secret="another-secret", now=stamp)
    assert not verify_signature(body, **good, secret="", now=stamp)
    assert not verify_signature(body, signature=None, timestamp=good["timestamp"], secret=secret, now=stamp)
    assert not verify_signature(body, signature=good["signature"], timestamp=None, secret=secret, now=stamp)


def test_the_reference_payloads_parse_as_chatwoot_defines_them() -> None:
    message = parse_event(reference("agent-bot-message-created.json"))
    assert isinstance(message, MessageEvent)
    assert message.message_type is MessageType.INCOMING and message.from_contact and not message.from_bot
    assert message.conversation.id == 17 and message.conversation.status == "pending"
    assert message.sender is not None and message.sender.email == "customer@example.com"
    status = parse_event(reference("agent-bot-conversation-status-changed.json"))
    assert isinstance(status, ConversationEvent) and status.status == "open"


def test_a_wrong_type_in_a_field_we_use_refuses_the_body() -> None:
    data = reference("agent-bot-message-created.json")
    for path, value in ((("conversation", "id"), "17"), (("message_type",), 0), (("private",), "false")):
        broken = json.loads(json.dumps(data))
        target = broken
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(ChatwootParseError):
            parse_event(broken)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=20,
    )
)
def test_any_json_a_stranger_signs_is_parsed_or_refused_never_crashes(data: object) -> None:
    body = json.dumps(data).encode()
    with contextlib.suppress(ChatwootParseError):  # refused is fine; any other error is the bug
        parse_body(body)


@settings(max_examples=200, deadline=None)
@given(signature=st.text(max_size=100), timestamp=st.text(max_size=20), body=st.binary(max_size=200))
def test_no_forged_header_verifies(signature: str, timestamp: str, body: bytes) -> None:
    assert not verify_signature(
        body, signature=signature, timestamp=timestamp, secret="the-real-secret", now=1e9
    )


async def test_the_client_retries_a_429_after_retry_after_then_reports_unavailable() -> None:
    calls: list[httpx.Request] = []
    waits: list[float] = []

    def busy(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(429, headers={"retry-after": "1"}, json={"error": "busy"})

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with httpx.AsyncClient(transport=httpx.MockTransport(busy)) as http:
        client = ChatwootClient(http, base_url="https://cw.test", account_id=1, token="t", sleep=sleep)
        with pytest.raises(ChatwootUnavailable):
            await client.create_message(5, "hello")
    assert len(calls) == 3 and waits == [1.0, 1.0]
    assert (
        calls[0].headers["api_access_token"] == "t"
        and calls[0].url.path == "/api/v1/accounts/1/conversations/5/messages"
    )


async def test_the_client_says_a_refused_token_apart() -> None:
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(401, json={}))
    ) as http:
        client = ChatwootClient(http, base_url="https://cw.test", account_id=1, token="secret-token")
        with pytest.raises(ChatwootUnauthorized):
            await client.profile()
        assert "secret-token" not in repr(client)
