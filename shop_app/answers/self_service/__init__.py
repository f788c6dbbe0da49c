"""The bot's self-service order actions inside the answer engine.

``routing`` runs in the engine's transaction: a "please cancel my order" / 「注文をキャンセルしたい」 or
"change my shipping address" / 「住所を変更したい」 from a shopper, when the merchant turned that
self-service on, finds the order and proves the shopper as for an order-status answer, reads the new
address from the message (``address_reading``), and hands the channel a ``SelfServiceRequest``; a "yes"
or "no" to the bot's restated action is one too. The engine posts nothing for it: the Shopify calls
cannot run inside the engine's transaction (it holds the database's write lock on SQLite), so the
channel runs ``turn.take_turn`` once that transaction committed, and sends its reply as it sends the
others (LINE with quick-reply buttons, the widget with yes/no buttons, email where a typed yes counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shop_app.models import ActionKind


class Stage(StrEnum):
    OFFER = "offer"  # preview and restate the action, asking for a yes
    ANSWER = "answer"  # the shopper's answer to the restated action
    ASK_ADDRESS = "ask_address"  # no readable address yet: ask for it
    HANDOFF = "handoff"  # unclear again: a person takes over


@dataclass(frozen=True, slots=True)
class SelfServiceRequest:
    stage: Stage
    language: str
    kind: ActionKind | None = None
    order_id: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    verified: bool = False
    text: str = ""
    reason: str = ""  # why the address is asked again, or why it is handed off
    at: datetime | None = None  # the message's moment: the merchant's window is counted to it
