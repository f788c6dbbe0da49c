"""Emails as the app compares them: NFKC, trimmed, lower-case.

``normalise_email`` is for what a person typed (it refuses what is not shaped like an address);
``stored_email`` is for what Shopify sent (kept whatever its shape, so that nothing Shopify holds is lost).
"""

from __future__ import annotations

import re
import unicodedata

MAX_EMAIL_CHARS = 320
EMAIL_SHAPE = re.compile(r"[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+")


def normalise_email(raw: str) -> str | None:
    """The email as matching compares it (NFKC, trimmed, lower-case), or ``None`` if it is not one."""
    cleaned = unicodedata.normalize("NFKC", raw).strip().lower()
    if len(cleaned) > MAX_EMAIL_CHARS or EMAIL_SHAPE.fullmatch(cleaned) is None:
        return None
    return cleaned


def stored_email(email: str | None) -> str | None:
    """Emails as the mirror keeps them (and the helpdesk matches them): NFKC, trimmed, lower-case."""
    cleaned = unicodedata.normalize("NFKC", email or "").strip().lower()
    return cleaned or None
