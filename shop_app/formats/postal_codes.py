"""Postal codes as the app compares them: ``〒150-0001``, ``１５０ー０００１`` and ``1500001`` are one code,
as are ``SW1A 1AA`` and ``sw1a1aa``. Full-width characters are read as their ASCII forms; spaces, hyphens of
every kind, the katakana long mark written as a hyphen and the postal mark are dropped; letters are upper
case."""

from __future__ import annotations

import re
import unicodedata

_POSTAL_NOISE = re.compile(r"[\s\-‐‑–—−ー〒]+")


def postal_key(code: str) -> str:
    return _POSTAL_NOISE.sub("", unicodedata.normalize("NFKC", code)).upper()
