"""Whatever a bot (or a stranger with a token) sends, the API answers as LINE does: 200, or 400 with a
``details`` entry per problem, or 401; never a crash, never a message shown that was refused."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devline.channels import Sender
from devline.state import LineState
from tests.devline.conftest import ACCESS_TOKEN, CHANNEL_ID, OTHER_TOKEN, USER_ID, bearer, friend

pytestmark = pytest.mark.anyio

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
actions = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "postback", "uri", "camera", "bogus"])},
    optional={
        "label": st.text(max_size=45),
        "text": st.text(max_size=20),
        "data": st.text(max_size=20),
        "uri": st.sampled_from(["https://example.com/t", "javascript:alert(1)", "", "tel:0312345678"]),
    },
)
components = st.recursive(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "button", "image", "separator", "filler", "widget"])},
        optional={
            "text": st.text(max_size=20),
            "action": actions,
            "url": st.sampled_from(["https://x.test/a.png", "x"]),
        },
    ),
    lambda children: st.fixed_dictionaries(
        {"type": st.just("box"), "layout": st.sampled_from(["vertical", "horizontal", "baseline", "z"])},
        optional={"contents": st.lists(children, max_size=3)},
    ),
    max_leaves=6,
)
bubbles = st.fixed_dictionaries(
    {"type": st.sampled_from(["bubble", "bubble", "carousel"])},
    optional={
        "header": components,
        "body": components,
        "footer": components,
        "contents": st.lists(json_values, max_size=2),
    },
)
messages = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=30) | json_values}),
    st.fixed_dictionaries(
        {"type": st.just("flex")},
        optional={
            "altText": st.text(max_size=20) | json_values,
            "contents": bubbles | json_values,
            "quickReply": st.fixed_dictionaries(
                {
                    "items": st.lists(
                        st.fixed_dictionaries({"type": st.just("action"), "action": actions}), max_size=15
                    )
                }
            )
            | json_values,
        },
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["sticker", "image", "template", "imagemap", "location", "audio", "fax"])},
        optional={"packageId": json_values, "originalContentUrl": json_values, "altText": json_values},
    ),
    json_values,
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "to": st.sampled_from([USER_ID, "U" + "9" * 32, "nobody"]) | json_values,
        "messages": st.lists(messages, max_size=7) | json_values,
        "notificationDisabled": json_values,
    },
)
DETAILS_HEADLINE = re.compile(r"The request body has (\d+) error\(s\)")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
async def test_any_push_is_answered_200_or_lines_400_and_only_accepted_messages_are_shown(
    client: httpx.AsyncClient, state: LineState, body: dict[str, Any]
) -> None:
    await friend(client)
    user = state.channels[CHANNEL_ID].users[USER_ID]
    shown_before = sum(1 for entry in user.entries if entry.sender is Sender.BOT)

    answer = await client.post("/v2/bot/message/push", headers=bearer(), content=json.dumps(body))

    shown = sum(1 for entry in user.entries if entry.sender is Sender.BOT) - shown_before
    assert answer.status_code in (200, 400), answer.text
    assert answer.headers["x-line-request-id"]
    if answer.status_code == 200:
        assert len(answer.json()["sentMessages"]) == len(body["messages"]) == shown
        return
    assert shown == 0
    error = answer.json()
    assert isinstance(error["message"], str)
    if "details" in error:
        headline = DETAILS_HEADLINE.fullmatch(error["message"])
        assert headline and int(headline[1]) == len(error["details"]) > 0
        for detail in error["details"]:
            assert set(detail) == {"message", "property"}
            assert detail["property"].startswith(("messages", "to", "notificationDisabled"))


near_misses = st.sampled_from(
    [
        f"Bearer {ACCESS_TOKEN}",
        f"bearer {OTHER_TOKEN}",
        f"Bearer  {ACCESS_TOKEN}",
        f"Bearer {ACCESS_TOKEN} ",
        f"Bearer {ACCESS_TOKEN[:-1]}",
        f"Bearer {ACCESS_TOKEN}{ACCESS_TOKEN}",
        f"Bearer {ACCESS_TOKEN.upper()}",
        f"Token {ACCESS_TOKEN}",
        ACCESS_TOKEN,
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=near_misses | st.text(max_size=80).filter(lambda value: value.isprintable()))
async def test_no_authorization_header_but_the_channels_own_gets_in(
    client: httpx.AsyncClient, header: str
) -> None:
    answer = await client.get("/v2/bot/info", headers={"Authorization": header.encode()})

    scheme, _, token = header.strip().partition(" ")
    accepted = scheme.lower() == "bearer" and token in (ACCESS_TOKEN, OTHER_TOKEN)
    assert answer.status_code == (200 if accepted else 401)
    assert set(answer.json()) == {"message"} or accepted
