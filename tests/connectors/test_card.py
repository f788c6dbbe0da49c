"""The profile card served to Chatwoot's dashboard app: its key, its frame and script policy, and that it
only ever shows the connector's own shop's customers, whatever the (unsigned) page context says."""

from __future__ import annotations

import re

import anyio
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop_app.connectors.cards import card_token, read_card_token
from shop_app.connectors.registry import CardViewer
from shop_app.live_events import InProcessBus, LiveEvent
from shop_app.routes.connectors import CARD_EVENT_KINDS
from shop_app.routes.live import stream
from tests.connectors.conftest import CHATWOOT_URL, ChatwootDesk
from tests.helpdesk.conftest import ALPHA, BETA

TOKEN = re.compile(r'data-token="([^"]+)"')


def directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


async def open_card(desk: ChatwootDesk, shop: str = ALPHA, **headers: str) -> str:
    answer = await desk.client.get(await desk.card_url(shop), headers=headers)
    assert answer.status_code == 200, answer.text
    found = TOKEN.search(answer.text)
    assert found is not None
    return found.group(1)


async def card(desk: ChatwootDesk, token: str, **context: object) -> httpx.Response:
    return await desk.client.post(
        "/connectors/card/profile", json=context, headers={"Authorization": f"Card {token}"}
    )


async def test_the_card_page_is_framed_by_the_chatwoot_origin_only_and_runs_our_script_only(
    chatwoot_desk: ChatwootDesk,
) -> None:
    answer = await chatwoot_desk.client.get(await chatwoot_desk.card_url(), headers={"accept-language": "ja"})
    assert answer.status_code == 200
    policy = directives(answer)
    assert policy["frame-ancestors"] == [CHATWOOT_URL]
    assert policy["script-src"] == ["'self'"]
    assert "<script>" not in answer.text  # no inline script
    assert 'lang="ja"' in answer.text and "ヘルプデスクから会話を受け取る" in answer.text
    assert 'src="/static/connectors/chatwoot.js"' in answer.text


async def test_a_wrong_or_other_connectors_key_opens_no_card(chatwoot_desk: ChatwootDesk) -> None:
    alpha = await chatwoot_desk.card_url(ALPHA)
    beta = await chatwoot_desk.card_url(BETA)
    beta_key = beta.split("key=")[1]
    forged = alpha.split("key=")[0] + "key=" + beta_key
    for url in (forged, alpha.split("&key=")[0], alpha + "x", "/connectors/chatwoot/card?connector=99&key=a"):
        answer = await chatwoot_desk.client.get(url)
        assert answer.status_code == 401, url
        assert "data-token" not in answer.text


async def test_the_card_shows_the_mirrored_conversations_customer_in_the_agents_language(
    chatwoot_desk: ChatwootDesk,
) -> None:
    await chatwoot_desk.seed_order()
    contact = chatwoot_desk.contact(email="hanako@example.jp")
    chat = await chatwoot_desk.says(contact, "注文 #1001 はいつ届きますか？")
    await chatwoot_desk.says(contact, "#1001 hanako@example.jp", conversation=chat)
    token = await open_card(chatwoot_desk, **{"accept-language": "ja-JP,ja;q=0.9"})
    answer = await card(chatwoot_desk, token, conversation_id=str(chat.display_id))
    assert answer.status_code == 200
    assert "#1001" in answer.text and "リネンシャツ" in answer.text and "123456789012" in answer.text
    assert "ヤマト運輸" in answer.text and "注文" in answer.text
    english = await card(
        chatwoot_desk,
        await open_card(chatwoot_desk, **{"accept-language": "en"}),
        conversation_id=str(chat.display_id),
    )
    assert "Orders" in english.text or "orders" in english.text.lower()


async def test_another_shops_customer_is_never_shown_through_a_connector(chatwoot_desk: ChatwootDesk) -> None:
    # given BETA holds a customer and a mirrored conversation of its own
    await chatwoot_desk.seed_order(BETA, email="beta-buyer@example.com")
    beta_contact = chatwoot_desk.contact(BETA, name="Ben", email="beta-buyer@example.com")
    beta_chat = await chatwoot_desk.says(beta_contact, "where is order #1001?", shop=BETA)
    beta_token = await open_card(chatwoot_desk, BETA)
    shown = await card(chatwoot_desk, beta_token, email="beta-buyer@example.com")
    assert "#1001" in shown.text  # BETA's own card shows it
    # when ALPHA's card is asked for BETA's conversation id and BETA's customer's email and phone
    alpha_token = await open_card(chatwoot_desk, ALPHA)
    for context in (
        {"conversation_id": str(beta_chat.display_id)},
        {"email": "beta-buyer@example.com"},
        {"email": "beta-buyer@example.com", "conversation_id": str(beta_chat.display_id)},
    ):
        answer = await card(chatwoot_desk, alpha_token, **context)
        # then nothing of BETA's appears
        assert answer.status_code == 200
        assert "#1001" not in answer.text and "beta-buyer" not in answer.text
        assert 'data-role="no-match"' in answer.text


async def test_the_card_data_needs_a_valid_card_token(chatwoot_desk: ChatwootDesk) -> None:
    token = await open_card(chatwoot_desk)
    for header in (
        "",
        "Card ",
        f"Card {token}x",
        f"Bearer {token}",
        "Card " + card_token(CardViewer(connector_id=1), key="not-the-session-secret"),
    ):
        answer = await chatwoot_desk.client.post(
            "/connectors/card/profile", json={}, headers={"Authorization": header} if header else {}
        )
        assert answer.status_code == 401, header


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_no_string_a_stranger_sends_reads_as_a_card_token(raw: str) -> None:
    assert read_card_token(raw, key="session-secret-for-the-test") is None


async def test_the_cards_stream_carries_only_its_shops_changes_of_the_kinds_a_card_shows() -> None:
    bus = InProcessBus()
    events = stream(bus, shop_id=1, lifetime_seconds=30, stopping=anyio.Event(), kinds=CARD_EVENT_KINDS)
    opening = await anext(events)
    assert opening.comment == "live"
    await bus.publish(LiveEvent(shop_id=1, kind="message.created", data={"ticket_id": 1, "message_id": 2}))
    await bus.publish(LiveEvent(shop_id=2, kind="orders.changed", data={"order_ids": [9]}))
    await bus.publish(LiveEvent(shop_id=1, kind="orders.changed", data={"order_ids": [5]}))
    got = await anext(events)
    assert got.event == "orders.changed" and got.data == '{"order_ids":[5]}'
    await events.aclose()
