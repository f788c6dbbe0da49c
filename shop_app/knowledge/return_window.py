"""The return window a refund policy states ("within 30 days of delivery", 「商品到着後30日以内」), read from
its passages so the admin can prefill the merchant's setting and show where the number came from.

Only a passage about returns counts (its heading or text speaks of returns or refunds); a passage about
exchanges alone, or a number of days that is not a window ("ships in 2 days"), does not. The bot never
answers from this reading directly: the merchant confirms the number in the admin first.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shop_app.knowledge.passages import policy_passages, quote

REFUND_POLICY = "REFUND_POLICY"
MAX_WINDOW_DAYS = 365
_RETURNS = re.compile(r"返品|返金|return|refund", re.IGNORECASE)
_WINDOW = re.compile(
    r"(?:within|up to|no later than)\s+(\d{1,3})\s*(?:calendar\s+|business\s+)?days?"
    r"|(\d{1,3})[ -]days?\s+(?:return|refund|of\s+(?:delivery|receipt|receiving))"
    r"|(\d{1,3})\s*日(?:以内|間以内|まで)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class DetectedWindow:
    days: int
    label: str  # the passage, as the bot's audit names it: "policy:REFUND_POLICY#1"
    text: str  # the passage's start, as the admin shows it


def detect_return_window(body: str) -> DetectedWindow | None:
    """The first window of days stated in a passage about returns of the refund policy ``body``."""
    for position, (heading, passage) in enumerate(policy_passages(body), start=1):
        folded = unicodedata.normalize("NFKC", f"{heading or ''} {passage}")
        if not _RETURNS.search(folded):
            continue
        for found in _WINDOW.finditer(unicodedata.normalize("NFKC", passage)):
            days = int(next(group for group in found.groups() if group))
            if 1 <= days <= MAX_WINDOW_DAYS:
                return DetectedWindow(days, f"policy:{REFUND_POLICY}#{position}", quote(passage))
    return None
