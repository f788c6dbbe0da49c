"""The new part of a reply: earlier messages quoted below it and the sender's signature removed, by
``mail-parser-reply`` (its English and Japanese patterns, plus the Japanese headers it lacks).

Its Japanese patterns know only Gmail's 「2026年12月1日(火) 10:15 名前 <addr>:」; Japanese mail clients
also write 「…さんは書きました:」 (Thunderbird), 「2026/12/01 10:15、名前 のメッセージ:」 (Apple Mail) and
Outlook's 差出人:/送信日時:/宛先:/件名: block. They are added as one more language of the library's
own table, so the library still does the splitting, the quote levels and the signatures.
"""

from __future__ import annotations

from mailparser_reply import EmailMessage
from mailparser_reply.constants import MAIL_LANGUAGES, QUOTED_MATCH_INCLUDE

JAPANESE_CLIENTS = "ja-clients"

MAIL_LANGUAGES.setdefault(
    JAPANESE_CLIENTS,
    {
        "wrote_header": [
            r"^(" + QUOTED_MATCH_INCLUDE + r".{1,200}(?:さんは書きました|さんが書きました|wrote)[:：])$",
            r"^(" + QUOTED_MATCH_INCLUDE + r".{1,200}の?メッセージ[:：])$",
            r"^(" + QUOTED_MATCH_INCLUDE + r"-{3,}\s*(?:元のメッセージ|Original Message)\s*-{3,})$",
        ],
        "from_header": r"((?:(?:^|\n|\n"
        + QUOTED_MATCH_INCLUDE
        + r")[* ]*(?:差出人|送信者|送信日時|日付|宛先|件名|CC|Cc)[:：][ *]*(?:\s{,2}).*){2,}(?:\n.*){,1})",
        "disclaimers": [],
        "signatures": [],
        "sent_from": r"(?:(?:iPhone|iPad|Android|Outlook)(?=から送信))",
    },
)

LANGUAGES = ["en", "ja", JAPANESE_CLIENTS]


def new_text(body: str) -> str:
    """What the sender wrote this time. Falls back to the whole body when stripping leaves nothing (a
    message that is all quote, or a sender who writes below the quote)."""
    # keep_hyphen_lists: a shopper's "- navy, M" list is not a signature
    replies = EmailMessage(text=body, languages=LANGUAGES, keep_hyphen_lists=True).read().replies
    latest = replies[0].body.strip() if replies else ""
    return latest or body.strip()
