"""Japanese charsets as Japanese mail clients write them.

Mail labelled ``Shift_JIS`` is written by Windows' code page 932 (NEC and IBM extensions: ①, ㈱, 髙), so it
is decoded as ``cp932``. Mail labelled ``ISO-2022-JP`` often carries the same extensions under ``ESC $ B``
(Windows' CP50220/50221), which no standard-library codec decodes; such a message is converted to its
Shift_JIS bytes (a fixed arithmetic mapping of JIS rows and cells) and decoded as ``cp932``.
"""

from __future__ import annotations

import codecs

_ALIASES = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "ms_kanji": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "csiso2022jp": "iso2022_jp_ext",
}
_ESC = 0x1B
_TWO_BYTE = (b"$B", b"$@")
_KANA = b"(I"


def codec_for(charset: str | None) -> str:
    """A standard-library codec for a MIME charset label; UTF-8 for a missing or unknown one."""
    label = (charset or "utf-8").strip().lower()
    name = _ALIASES.get(label, label)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def decode_text(data: bytes, charset: str | None) -> str:
    codec = codec_for(charset)
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        if codec.startswith("iso2022_jp"):
            return iso2022jp_to_cp932(data).decode("cp932", errors="replace")
        return data.decode(codec, errors="replace")


def iso2022jp_to_cp932(data: bytes) -> bytes:
    """The Shift_JIS (cp932) bytes of an ISO-2022-JP text: each JIS X 0208 pair (rows 1–94, the NEC rows
    included) mapped to its Shift_JIS pair, half-width kana (``ESC ( I``) to its single byte."""
    out = bytearray()
    mode = "ascii"
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == _ESC and i + 2 < len(data):
            designation = data[i + 1 : i + 3]
            mode = "jis" if designation in _TWO_BYTE else "kana" if designation == _KANA else "ascii"
            i += 3
            continue
        if mode == "jis" and byte not in (0x0A, 0x0D) and i + 1 < len(data):
            out += _jis_pair_to_sjis(byte, data[i + 1])
            i += 2
            continue
        out.append(byte + 0x80 if mode == "kana" and 0x21 <= byte <= 0x5F else byte)
        i += 1
    return bytes(out)


def _jis_pair_to_sjis(first: int, second: int) -> bytes:
    if not (0x21 <= first <= 0x7E and 0x21 <= second <= 0x7E):
        return b"?"
    row, cell = first - 0x20, second - 0x20
    lead = (row + 1) // 2 + (0x80 if row <= 62 else 0xC0)
    trail = cell + (0x3F if cell <= 63 else 0x40) if row % 2 else cell + 0x9E
    return bytes((lead, trail))
