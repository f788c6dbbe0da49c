"""The checks LINE makes on the messages a bot sends, reported as LINE reports them: one detail per
problem, each with its message and the property's path (``messages[0].contents.body.contents[1].action``).

Text lengths count UTF-16 code units, as LINE does (an emoji outside the BMP counts two)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_MESSAGES = 5
MAX_TEXT_LENGTH = 5000
MAX_ALT_TEXT_LENGTH = 1500
MAX_TEMPLATE_ALT_TEXT_LENGTH = 400
MAX_QUICK_REPLY_ITEMS = 13
MAX_QUICK_REPLY_LABEL_LENGTH = 20
MAX_ACTION_LABEL_LENGTH = 40
MAX_ACTION_TEXT_LENGTH = 300
MAX_POSTBACK_DATA_LENGTH = 300
MAX_URI_LENGTH = 1000
MAX_BUBBLE_BYTES = 30 * 1024
MAX_CAROUSEL_BYTES = 50 * 1024
MAX_CAROUSEL_BUBBLES = 12

MESSAGE_TYPES = ("text", "image", "video", "audio", "location", "sticker", "template", "imagemap", "flex")
FLEX_CONTAINERS = ("bubble", "carousel")
BOX_LAYOUTS = ("horizontal", "vertical", "baseline")
COMPONENT_TYPES = ("box", "button", "image", "video", "icon", "text", "span", "separator", "filler")
ACTION_TYPES = (
    "postback",
    "message",
    "uri",
    "datetimepicker",
    "camera",
    "cameraRoll",
    "location",
    "clipboard",
)
URI_SCHEMES = ("http://", "https://", "line://", "tel:", "mailto:")

MAY_NOT_BE_EMPTY = "May not be empty"


@dataclass(frozen=True, slots=True)
class Detail:
    message: str
    property: str

    def as_json(self) -> dict[str, str]:
        return {"message": self.message, "property": self.property}


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _one_of(values: tuple[str, ...]) -> str:
    return f"Must be one of the following values: [{', '.join(values)}]"


class _Checker:
    def __init__(self) -> None:
        self.details: list[Detail] = []

    def fail(self, message: str, path: str) -> None:
        self.details.append(Detail(message, path))

    def text(self, value: Any, path: str, *, max_length: int, required: bool = True) -> None:
        if value is None or value == "":
            if required:
                self.fail(MAY_NOT_BE_EMPTY, path)
            return
        if not isinstance(value, str):
            self.fail("Must be a string", path)
        elif utf16_length(value) > max_length:
            self.fail(f"Length must be between 0 and {max_length}", path)

    def uri(self, value: Any, path: str, *, https_only: bool = False) -> None:
        self.text(value, path, max_length=MAX_URI_LENGTH if not https_only else 2000)
        if isinstance(value, str) and value:
            schemes = ("https://",) if https_only else URI_SCHEMES
            if not value.startswith(schemes):
                self.fail("Must be a valid HTTPS URL" if https_only else "Invalid URI scheme", path)

    def action(self, action: Any, path: str, *, label_max: int = MAX_ACTION_LABEL_LENGTH) -> None:
        if not isinstance(action, dict):
            self.fail(MAY_NOT_BE_EMPTY, path)
            return
        kind = action.get("type")
        if kind not in ACTION_TYPES:
            self.fail(_one_of(ACTION_TYPES), f"{path}.type")
            return
        if "label" in action:
            self.text(action["label"], f"{path}.label", max_length=label_max)
        if kind == "message":
            self.text(action.get("text"), f"{path}.text", max_length=MAX_ACTION_TEXT_LENGTH)
        elif kind == "postback":
            self.text(action.get("data"), f"{path}.data", max_length=MAX_POSTBACK_DATA_LENGTH)
            self.text(action.get("displayText"), f"{path}.displayText", max_length=300, required=False)
        elif kind == "uri":
            self.uri(action.get("uri"), f"{path}.uri")

    def quick_reply(self, quick_reply: Any, path: str) -> None:
        items = quick_reply.get("items") if isinstance(quick_reply, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_QUICK_REPLY_ITEMS:
            self.fail(f"Size must be between 1 and {MAX_QUICK_REPLY_ITEMS}", f"{path}.items")
            return
        for index, item in enumerate(items):
            item_path = f"{path}.items[{index}]"
            if not isinstance(item, dict) or item.get("type") != "action":
                self.fail(_one_of(("action",)), f"{item_path}.type")
                continue
            action = item.get("action")
            self.action(action, f"{item_path}.action", label_max=MAX_QUICK_REPLY_LABEL_LENGTH)
            if isinstance(action, dict) and action.get("type") in ("message", "postback", "uri"):
                label_path = f"{item_path}.action.label"
                self.text(action.get("label"), label_path, max_length=MAX_QUICK_REPLY_LABEL_LENGTH)

    # flex

    def flex(self, message: dict[str, Any], path: str) -> None:
        self.text(message.get("altText"), f"{path}.altText", max_length=MAX_ALT_TEXT_LENGTH)
        contents = message.get("contents")
        if not isinstance(contents, dict):
            self.fail(MAY_NOT_BE_EMPTY, f"{path}.contents")
            return
        kind = contents.get("type")
        size = len(json.dumps(contents, ensure_ascii=False, separators=(",", ":")).encode())
        if kind == "bubble":
            if size > MAX_BUBBLE_BYTES:
                self.fail("Size must be at most 30 KB", f"{path}.contents")
            self.bubble(contents, f"{path}.contents")
        elif kind == "carousel":
            if size > MAX_CAROUSEL_BYTES:
                self.fail("Size must be at most 50 KB", f"{path}.contents")
            bubbles = contents.get("contents")
            if not isinstance(bubbles, list) or not 1 <= len(bubbles) <= MAX_CAROUSEL_BUBBLES:
                self.fail(f"Size must be between 1 and {MAX_CAROUSEL_BUBBLES}", f"{path}.contents.contents")
                return
            for index, bubble in enumerate(bubbles):
                bubble_path = f"{path}.contents.contents[{index}]"
                if not isinstance(bubble, dict) or bubble.get("type") != "bubble":
                    self.fail(_one_of(("bubble",)), f"{bubble_path}.type")
                else:
                    self.bubble(bubble, bubble_path)
        else:
            self.fail(_one_of(FLEX_CONTAINERS), f"{path}.contents.type")

    def bubble(self, bubble: dict[str, Any], path: str) -> None:
        blocks = [name for name in ("header", "hero", "body", "footer") if name in bubble]
        if not blocks:
            self.fail("At least one block must be specified", path)
        for name in blocks:
            block = bubble[name]
            if name == "hero" and isinstance(block, dict) and block.get("type") in ("image", "video"):
                self.component(block, f"{path}.{name}")
            elif not isinstance(block, dict) or block.get("type") != "box":
                self.fail(_one_of(("box",)), f"{path}.{name}.type")
            else:
                self.component(block, f"{path}.{name}")
        if "action" in bubble:
            self.action(bubble["action"], f"{path}.action")

    def component(self, component: Any, path: str, depth: int = 0) -> None:
        if depth > 20:
            self.fail("Nesting is too deep", path)
            return
        if not isinstance(component, dict):
            self.fail(MAY_NOT_BE_EMPTY, path)
            return
        kind = component.get("type")
        if kind not in COMPONENT_TYPES:
            self.fail(_one_of(COMPONENT_TYPES), f"{path}.type")
            return
        if kind == "box":
            if component.get("layout") not in BOX_LAYOUTS:
                self.fail(_one_of(BOX_LAYOUTS), f"{path}.layout")
            children = component.get("contents")
            if not isinstance(children, list):
                self.fail(MAY_NOT_BE_EMPTY, f"{path}.contents")
                return
            for index, child in enumerate(children):
                self.component(child, f"{path}.contents[{index}]", depth + 1)
        elif kind == "text":
            if not component.get("contents"):
                self.text(component.get("text"), f"{path}.text", max_length=MAX_TEXT_LENGTH)
        elif kind == "span":
            self.text(component.get("text"), f"{path}.text", max_length=MAX_TEXT_LENGTH)
        elif kind == "button":
            self.action(component.get("action"), f"{path}.action")
        elif kind in ("image", "icon"):
            self.uri(component.get("url"), f"{path}.url", https_only=True)
        if kind != "button" and "action" in component:
            self.action(component["action"], f"{path}.action")

    # messages

    def message(self, message: Any, path: str) -> None:
        if not isinstance(message, dict):
            self.fail(MAY_NOT_BE_EMPTY, path)
            return
        kind = message.get("type")
        if kind not in MESSAGE_TYPES:
            self.fail(_one_of(MESSAGE_TYPES), f"{path}.type")
            return
        if kind == "text":
            self.text(message.get("text"), f"{path}.text", max_length=MAX_TEXT_LENGTH)
        elif kind == "sticker":
            self.text(message.get("packageId"), f"{path}.packageId", max_length=64)
            self.text(message.get("stickerId"), f"{path}.stickerId", max_length=64)
        elif kind in ("image", "video"):
            self.uri(message.get("originalContentUrl"), f"{path}.originalContentUrl", https_only=True)
            self.uri(message.get("previewImageUrl"), f"{path}.previewImageUrl", https_only=True)
        elif kind == "audio":
            self.uri(message.get("originalContentUrl"), f"{path}.originalContentUrl", https_only=True)
        elif kind == "location":
            self.text(message.get("title"), f"{path}.title", max_length=100)
            self.text(message.get("address"), f"{path}.address", max_length=100)
        elif kind == "template":
            self.text(message.get("altText"), f"{path}.altText", max_length=MAX_TEMPLATE_ALT_TEXT_LENGTH)
            if not isinstance(message.get("template"), dict):
                self.fail(MAY_NOT_BE_EMPTY, f"{path}.template")
        elif kind == "imagemap":
            self.uri(message.get("baseUrl"), f"{path}.baseUrl", https_only=True)
            self.text(message.get("altText"), f"{path}.altText", max_length=MAX_TEMPLATE_ALT_TEXT_LENGTH)
        elif kind == "flex":
            self.flex(message, path)
        if "quickReply" in message:
            self.quick_reply(message["quickReply"], f"{path}.quickReply")


def check_messages(messages: Any) -> list[Detail]:
    """Every problem with a request's ``messages`` (1 to 5 message objects)."""
    checker = _Checker()
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        checker.fail(f"Size must be between 1 and {MAX_MESSAGES}", "messages")
        return checker.details
    for index, message in enumerate(messages):
        checker.message(message, f"messages[{index}]")
    return checker.details


def check_text(value: Any, path: str, *, max_length: int, required: bool = True) -> list[Detail]:
    checker = _Checker()
    checker.text(value, path, max_length=max_length, required=required)
    return checker.details
