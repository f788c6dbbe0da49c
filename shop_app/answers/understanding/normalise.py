"""One spelling of a message for the rules: NFKC (full-width → half-width), lower case, single spaces,
and key English words with a typo put back to their dictionary form."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

JAPANESE_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
ASCII_WORD = re.compile(r"[a-z]+")
# Japanese punctuation NFKC leaves alone but the rules treat as plain spacing or hyphens.
EXTRA_FOLDS = str.maketrans(
    {"〜": "~", "‐": "-", "−": "-", "—": "-", "–": "-", "、": " ", "。": " ", "　": " "}
)

# Words the rules look for; a shopper's spelling within a small edit distance is read as the word.
KEY_WORDS = frozenset(
    {
        "order", "orders", "ordered", "where", "package", "parcel", "shipped", "shipping", "shipment",
        "tracking", "track", "delivery", "delivered", "arrive", "arrived", "arriving", "status", "update",
        "received", "stock", "available", "availability", "restock", "restocked", "cancel", "cancelled",
        "canceled", "cancellation", "refund", "refunded", "return", "exchange", "damaged", "broken",
        "address", "human", "person", "someone", "representative", "agent", "charged", "charge", "payment",
        "invoice", "receipt", "wrong", "missing", "defective", "still", "yet", "when", "dispatched",
        "sold", "size", "colour", "color", "change", "please", "thanks", "hello", "customer",
        "service", "support", "speak", "talk", "money", "back", "credit", "card", "twice",
    }
)  # fmt: skip
MIN_FUZZY_WORD_CHARS = 5
# Ordinary words a letter away from a key word ("here" from "where", "black" from "back"), kept as written.
PROTECTED_WORDS = frozenset(
    {
        "here", "ever", "wear", "tack", "stuck", "stack", "ship", "shop", "sale", "bake", "black", "blue",
        "brown", "green", "white", "orange", "older", "alter", "sorry", "chance", "change", "charge", "store",
        "stores", "sized", "seize", "spend", "speaks", "talks", "tracks", "sole", "solo", "other", "odder",
        "where", "there", "wrote", "cards", "carts", "cart", "honey", "money", "check", "cheque", "person",
        "persons", "human", "humans", "agents", "pleased", "thank", "backs", "packs", "pack", "track",
    }
)  # fmt: skip


def is_japanese(text: str) -> bool:
    return JAPANESE_CHARS.search(text) is not None


def fold(text: str) -> str:
    """NFKC, lower case, Japanese punctuation folded, runs of spaces as one."""
    folded = unicodedata.normalize("NFKC", text).translate(EXTRA_FOLDS).lower()
    return " ".join(folded.split())


def _within_one_edit(word: str, target: str) -> bool:
    """Damerau distance ≤ 1: one letter added, dropped, changed, or two neighbours swapped."""
    if abs(len(word) - len(target)) > 1 or word == target:
        return word == target
    if len(word) == len(target):
        diffs = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and word[diffs[0]] == target[diffs[1]]
            and word[diffs[1]] == target[diffs[0]]
        )
    short, long = (word, target) if len(word) < len(target) else (target, word)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@lru_cache(maxsize=4096)
def correct_word(word: str) -> str:
    """The key word a shopper meant, or the word unchanged. Short words are left alone (too many
    neighbours), and a word that is a key word already is kept."""
    if word in KEY_WORDS or word in PROTECTED_WORDS or len(word) < MIN_FUZZY_WORD_CHARS - 1:
        return word
    if len(word) < MIN_FUZZY_WORD_CHARS:
        # a four-letter word is read as a key word only with a letter dropped ("wher", "oder")
        longer = sorted(k for k in KEY_WORDS if len(k) == len(word) + 1 and _within_one_edit(word, k))
        return longer[0] if len(longer) == 1 else word
    candidates = sorted(key for key in KEY_WORDS if key[0] == word[0] and _within_one_edit(word, key))
    if not candidates:
        candidates = sorted(key for key in KEY_WORDS if len(key) >= 6 and _within_one_edit(word, key))
    return candidates[0] if len(candidates) == 1 else word


def correct_typos(text: str) -> tuple[str, tuple[str, ...]]:
    """The folded text with key English words respelled, and the corrections made ("recieved→received")."""
    corrections: list[str] = []

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        fixed = correct_word(word)
        if fixed != word:
            corrections.append(f"{word}→{fixed}")
        return fixed

    return ASCII_WORD.sub(fix, text), tuple(corrections)
