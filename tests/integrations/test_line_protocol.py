"""LINE's protocol, checked against LINE's own published examples: signatures, webhook events, messages."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.line.events import ContentType, EventType, LineParseError, parse_webhook_body
from integrations.line.messages import (
    MAX_ALT_TEXT_UNITS,
    MAX_BUBBLE_BYTES,
    MAX_TEXT_UNITS,
    CardItem,
    CardTracking,
    OrderCard,
    QuickReply,
    batches,
    cut,
    order_card_message,
    split_text,
    text_message,
    text_messages,
    utf16_units,
)
from integrations.line.signatures import sign, verify_signature
from tests.conftest import SHARED

LINE = SHARED / "platform-reference" / "line"


def reference(name: str) -> bytes:
    return (LINE / name).read_bytes()


def test_lines_published_signature_vector_verifies() -> None:
    vector = json.loads(reference("signature-vector.json"))
    body = vector["body"].encode()
    assert verify_signature(body, vector["x-line-signature"], channel_secret=vector["channel_secret"])
    assert sign(body, channel_secret=vector["channel_secret"]) == vector["x-line-signature"]


@pytest.mark.parametrize(
    ("body", "signature", "secret"),
    [
        (b'{"events":[]}', None, "secret"),
        (b'{"events":[]}', "", "secret"),
        (b'{"events":[]}', sign(b'{"events":[]}', channel_secret="other secret"), "secret"),
        (b'{"events":[1]}', sign(b'{"events":[]}', channel_secret="secret"), "secret"),
        (b'{"events":[]}', sign(b'{"events":[]}', channel_secret="secret") + "=", "secret"),
        (b"\xff\xfe", sign(b"\xff\xfe", channel_secret="secret"), "secret"),
        (b'{"events":[]}', "é" * 44, "secret"),
        (b'{"events":[]}', sign(b'{"events":[]}', channel_secret=""), ""),
    ],
)
def test_forged_or_missing_signatures_are_refused(body: bytes, signature: str | None, secret: str) -> None:
    assert not verify_signature(body, signature, channel_secret=secret)


@given(body=st.binary(max_size=2000), secret=st.text(min_size=1, max_size=64), other=st.binary(max_size=200))
def test_a_signature_holds_for_its_own_body_and_secret_only(body: bytes, secret: str, other: bytes) -> None:
    signature = sign(body, channel_secret=secret)
    try:
        body.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    assert verify_signature(body, signature, channel_secret=secret) is utf8
    if other != body:
        assert not verify_signature(other, signature, channel_secret=secret)
    assert not verify_signature(body, signature, channel_secret=secret + "x")


@given(header=st.text(max_size=200))
def test_any_made_up_header_is_refused(header: str) -> None:
    body = b'{"destination":"U0","events":[]}'
    if header == sign(body, channel_secret="s3cret"):
        return
    assert not verify_signature(body, header, channel_secret="s3cret")


def test_every_published_event_parses() -> None:
    text = parse_webhook_body(reference("webhook-text-message.json")).events[0]
    assert (text.type, text.user_id, text.reply_token) == (
        EventType.MESSAGE,
        "U80696558e1aa831...",
        "757913772c4646b784d4b7ce46d12671",
    )
    assert text.message is not None and text.message.type is ContentType.TEXT
    assert text.message.text == "Hello, world" and not text.is_redelivery and not text.standby
    follow = parse_webhook_body(reference("webhook-follow.json")).events[0]
    assert follow.type is EventType.FOLLOW and follow.webhook_event_id == "01HMQGW40RZJPJM3RAJP7BHC2Q"
    unfollow = parse_webhook_body(reference("webhook-unfollow.json")).events[0]
    assert unfollow.type is EventType.UNFOLLOW and unfollow.reply_token is None
    postback = parse_webhook_body(reference("webhook-postback.json")).events[0]
    assert postback.postback_data == "storeId=12345"
    link = parse_webhook_body(reference("webhook-account-link.json")).events[0]
    assert link.link is not None and link.link.ok and link.link.nonce == "xxxxxxxxxxxxxxx"
    group = parse_webhook_body(reference("webhook-text-message-group-mention.json")).events[0]
    assert group.source_type == "group" and group.user_id == "U4af4980629..."
    unsend = parse_webhook_body(reference("webhook-unsend.json")).events[0]
    assert unsend.type is EventType.UNSEND and unsend.unsent_message_id == "325708"


def test_an_unfamiliar_event_type_does_not_refuse_the_others() -> None:
    body = json.loads(reference("webhook-text-message.json"))
    body["events"].insert(0, {**body["events"][0], "type": "somethingNew", "webhookEventId": "01OTHER"})
    del body["events"][0]["message"]
    events = parse_webhook_body(json.dumps(body).encode()).events
    assert [e.type for e in events] == [EventType.OTHER, EventType.MESSAGE]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"[]",
        b'{"events": {}}',
        b'{"events": [1]}',
        b'{"events": [{"type": "message", "timestamp": 1, "webhookEventId": "x"}]}',
        b'{"events": [{"type": "follow", "timestamp": "1", "webhookEventId": "x"}]}',
        b'{"events": [{"type": "follow", "timestamp": 1}]}',
        b'{"events": [{"type": "follow", "timestamp": 1, "webhookEventId": "x", "source": []}]}',
    ],
)
def test_bodies_of_the_wrong_shape_are_refused(raw: bytes) -> None:
    with pytest.raises(LineParseError):
        parse_webhook_body(raw)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=30,
    )
)
def test_any_json_either_parses_or_is_refused_cleanly(data: object) -> None:
    with contextlib.suppress(LineParseError):
        parse_webhook_body(json.dumps({"destination": "U", "events": [data]}).encode())


def test_text_is_cut_to_lines_limit_in_utf16_units_without_splitting_a_character() -> None:
    emoji = "😀" * 3000  # 6,000 UTF-16 units
    message = text_message(emoji)
    assert utf16_units(message["text"]) <= MAX_TEXT_UNITS
    assert message["text"].endswith("…") and "\ud83d" not in message["text"]
    assert text_message("short")["text"] == "short"
    assert cut("あいう", 3) == "あいう"


def test_quick_replies_are_at_most_thirteen_with_short_labels() -> None:
    items = [QuickReply(label="担当者と話したいのでお願いします" * 2, text="担当者と話す")] * 20
    message = text_message("hi", quick_replies=items)
    buttons = message["quickReply"]["items"]
    assert len(buttons) == 13
    assert all(len(b["action"]["label"]) <= 20 and b["action"]["type"] == "message" for b in buttons)


def card(**changes: object) -> OrderCard:
    fields: dict[str, object] = {
        "title": "ご注文 #1001",
        "state": "発送済み",
        "items_heading": "商品",
        "items": [CardItem("リネンシャツ ネイビー M", 1), CardItem("靴下", 2)],
        "tracking_heading": "配送状況",
        "trackings": [
            CardTracking("ヤマト運輸 1234-5678-9012", "https://track.example/1234"),
            CardTracking("佐川急便 4444", "javascript:alert(1)"),
        ],
        "track_button_label": "追跡",
        "alt_text": "ご注文 #1001 は発送済みです。ヤマト運輸 1234-5678-9012",
    }
    fields.update(changes)
    return OrderCard(**fields)  # type: ignore[arg-type]


def test_an_order_card_is_a_flex_bubble_with_its_text_alternative_and_a_button_per_safe_tracking_link() -> (
    None
):
    message = order_card_message(card(), quick_replies=[QuickReply("注文状況", "注文状況")])
    assert message["type"] == "flex" and message["contents"]["type"] == "bubble"
    assert message["altText"] == "ご注文 #1001 は発送済みです。ヤマト運輸 1234-5678-9012"
    texts = json.dumps(message, ensure_ascii=False)
    assert "リネンシャツ ネイビー M" in texts and "× 2" in texts and "発送済み" in texts
    buttons = message["contents"]["footer"]["contents"]
    assert [b["action"]["uri"] for b in buttons] == ["https://track.example/1234"]
    assert message["quickReply"]["items"][0]["action"]["text"] == "注文状況"


def test_a_huge_order_card_stays_under_lines_bubble_and_alt_text_limits() -> None:
    message = order_card_message(card(items=[CardItem("長い商品名" * 40, 1)] * 200, alt_text="あ" * 5000))
    assert len(json.dumps(message["contents"], ensure_ascii=False).encode()) <= MAX_BUBBLE_BYTES
    assert utf16_units(message["altText"]) <= MAX_ALT_TEXT_UNITS


def test_messages_go_in_calls_of_five() -> None:
    assert [len(b) for b in batches([text_message(str(i)) for i in range(12)])] == [5, 5, 2]


@given(st.text(alphabet=st.sampled_from(["あ", "a", "😀", "\n", " "]), max_size=12_000))
def test_a_long_text_is_split_into_messages_within_the_limit_losing_nothing(text: str) -> None:
    pieces = split_text(text)
    assert all(utf16_units(piece) <= MAX_TEXT_UNITS for piece in pieces)
    if text.strip():
        assert "".join(pieces).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
    messages = text_messages(text, quick_replies=[QuickReply("注文状況", "注文状況")])
    assert "quickReply" in messages[-1] and all("quickReply" not in m for m in messages[:-1])
