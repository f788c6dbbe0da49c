"""Message objects for the Messaging API, built within LINE's limits: text of at most 5,000 UTF-16 code units,
Flex ``altText`` of at most 1,500, at most 13 quick-reply buttons with labels of at most 20 characters, at
most 5 messages per call, a bubble of at most 30 KB. Text is cut at a code point, never inside a surrogate
pair; the words a person reads come from the caller (already in the shopper's language).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT_UNITS = 5000
MAX_ALT_TEXT_UNITS = 1500
MAX_QUICK_REPLY_ITEMS = 13
MAX_QUICK_REPLY_LABEL_CHARS = 20
MAX_MESSAGES_PER_CALL = 5
MAX_BUBBLE_BYTES = 30 * 1024
MAX_BUTTON_LABEL_CHARS = 40
MAX_CARD_ITEMS = 10
MAX_CARD_TRACKING_BUTTONS = 5
MAX_URI_CHARS = 1000

LineMessage = dict[str, Any]


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, max_units: int) -> str:
    """``text`` cut to ``max_units`` UTF-16 code units (with an ellipsis when cut), whole code points only."""
    if utf16_units(text) <= max_units:
        return text
    out: list[str] = []
    used = 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        if used + width > max_units - 1:
            break
        out.append(ch)
        used += width
    return "".join(out) + "…"


MAX_URI_CHARS = 1000  # LINE's limit for a URI action


@dataclass(frozen=True, slots=True)
class QuickReply:
    """A button under the last message; tapping it sends ``text`` as the shopper's own message, or, with
    ``uri``, opens that page instead."""

    label: str
    text: str
    uri: str | None = None


def _action(item: QuickReply) -> dict[str, Any]:
    label = item.label[:MAX_QUICK_REPLY_LABEL_CHARS]
    if item.uri is not None:
        return {"type": "uri", "label": label, "uri": item.uri[:MAX_URI_CHARS]}
    return {"type": "message", "label": label, "text": cut(item.text, 300)}


def quick_reply(items: Sequence[QuickReply]) -> dict[str, Any]:
    return {"items": [{"type": "action", "action": _action(item)} for item in items[:MAX_QUICK_REPLY_ITEMS]]}


def split_text(text: str, max_units: int = MAX_TEXT_UNITS) -> list[str]:
    """``text`` in pieces of at most ``max_units`` UTF-16 code units, whole code points only, each piece
    ending at a line break where one is near (nothing is cut away)."""
    pieces: list[str] = []
    rest = text
    while utf16_units(rest) > max_units:
        used = 0
        end = 0
        for index, ch in enumerate(rest):
            width = 2 if ord(ch) > 0xFFFF else 1
            if used + width > max_units:
                break
            used += width
            end = index + 1
        newline = rest.rfind("\n", 0, end)
        cut_at = newline + 1 if newline >= end // 2 else end
        pieces.append(rest[:cut_at])
        rest = rest[cut_at:]
    pieces.append(rest)
    return [piece for piece in pieces if piece.strip()] or [text[:1] or "…"]


def text_messages(text: str, *, quick_replies: Sequence[QuickReply] = ()) -> list[LineMessage]:
    """A long text as several text messages (the quick replies on the last), none over LINE's limit."""
    messages = [text_message(piece) for piece in split_text(text)]
    if quick_replies:
        messages[-1]["quickReply"] = quick_reply(quick_replies)
    return messages


def text_message(text: str, *, quick_replies: Sequence[QuickReply] = ()) -> LineMessage:
    message: LineMessage = {"type": "text", "text": cut(text, MAX_TEXT_UNITS) or "…"}
    if quick_replies:
        message["quickReply"] = quick_reply(quick_replies)
    return message


def uri_button_message(text: str, *, label: str, uri: str, alt_text: str) -> LineMessage:
    """A small Flex bubble with one text and one link button (e.g. the account-link sign-in page)."""
    return {
        "type": "flex",
        "altText": cut(alt_text, MAX_ALT_TEXT_UNITS),
        "contents": {
            "type": "bubble",
            "body": {
                "type": "box",
                "layout": "vertical",
                "contents": [{"type": "text", "text": cut(text, 2000), "wrap": True}],
            },
            "footer": {
                "type": "box",
                "layout": "vertical",
                "contents": [
                    {
                        "type": "button",
                        "style": "primary",
                        "action": {"type": "uri", "label": label[:MAX_BUTTON_LABEL_CHARS], "uri": uri},
                    }
                ],
            },
        },
    }


@dataclass(frozen=True, slots=True)
class CardItem:
    title: str
    quantity: int


@dataclass(frozen=True, slots=True)
class CardTracking:
    label: str  # e.g. "ヤマト運輸 1234-5678-9012"
    url: str | None


@dataclass(frozen=True, slots=True)
class OrderCard:
    """An order as a Flex bubble. Every word is the caller's, in the shopper's language; ``alt_text`` is
    the plain-text alternative LINE shows in notifications and where Flex cannot be shown."""

    title: str  # "ご注文 #1001"
    state: str  # "発送済み"
    items_heading: str
    items: Sequence[CardItem]
    tracking_heading: str
    trackings: Sequence[CardTracking] = field(default_factory=tuple)
    track_button_label: str = "Track"
    alt_text: str = ""
    more_items_label: str = "…"


def order_card_message(card: OrderCard, *, quick_replies: Sequence[QuickReply] = ()) -> LineMessage:
    shown = list(card.items[:MAX_CARD_ITEMS])
    bubble = _order_bubble(card, shown)
    while len(json.dumps(bubble, ensure_ascii=False).encode()) > MAX_BUBBLE_BYTES and len(shown) > 1:
        shown.pop()  # LINE refuses a bubble over its limit whole: drop items from the end instead
        bubble = _order_bubble(card, shown)
    message: LineMessage = {
        "type": "flex",
        "altText": cut(card.alt_text or card.title, MAX_ALT_TEXT_UNITS),
        "contents": bubble,
    }
    if quick_replies:
        message["quickReply"] = quick_reply(quick_replies)
    return message


def _order_bubble(card: OrderCard, shown: Sequence[CardItem]) -> dict[str, Any]:
    grey = "#888888"
    body: list[dict[str, Any]] = [
        {"type": "text", "text": cut(card.title, 200), "weight": "bold", "size": "lg", "wrap": True},
        {"type": "text", "text": cut(card.state, 200), "color": "#1DB446", "weight": "bold", "wrap": True},
        {"type": "separator", "margin": "md"},
        {"type": "text", "text": cut(card.items_heading, 100), "size": "xs", "color": grey, "margin": "md"},
    ]
    for item in shown:
        body.append(
            {
                "type": "box",
                "layout": "horizontal",
                "contents": [
                    {
                        "type": "text",
                        "text": cut(item.title, 200) or "-",
                        "wrap": True,
                        "flex": 5,
                        "size": "sm",
                    },
                    {"type": "text", "text": f"× {item.quantity}", "flex": 1, "size": "sm", "align": "end"},
                ],
            }
        )
    if len(shown) < len(card.items):
        body.append({"type": "text", "text": card.more_items_label, "size": "xs", "color": grey})
    if card.trackings:
        body.append({"type": "separator", "margin": "md"})
        body.append({"type": "text", "text": cut(card.tracking_heading, 100), "size": "xs", "color": grey})
        body.extend(
            {"type": "text", "text": cut(t.label, 200), "size": "sm", "wrap": True}
            for t in card.trackings[: MAX_CARD_TRACKING_BUTTONS * 2]
        )
    buttons = [
        {
            "type": "button",
            "style": "link",
            "height": "sm",
            "action": {
                "type": "uri",
                "label": cut(f"{card.track_button_label} {t.label}", MAX_BUTTON_LABEL_CHARS),
                "uri": t.url,
            },
        }
        for t in card.trackings
        if t.url and t.url.startswith("https://") and len(t.url) <= MAX_URI_CHARS
    ][:MAX_CARD_TRACKING_BUTTONS]
    bubble: dict[str, Any] = {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
    }
    if buttons:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": buttons}
    return bubble


def batches(messages: Sequence[LineMessage]) -> list[list[LineMessage]]:
    """Messages in calls of at most five."""
    return [
        list(messages[i : i + MAX_MESSAGES_PER_CALL]) for i in range(0, len(messages), MAX_MESSAGES_PER_CALL)
    ]
