"""Entities in a folded message (see ``normalise.fold``): order references, emails, phones, postal codes,
sizes, colours and product words. Each finder returns what it read in one canonical spelling, once: the
emails, phones and postal codes are the candidate proofs a message offers (verification takes exactly one
of each kind), so two spellings of one code are one candidate and two codes are two, however written."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from shop_app.answers.understanding.normalise import fold
from shop_app.answers.understanding.postcodes import is_japanese_postcode
from shop_app.formats.emails import normalise_email
from shop_app.formats.phone_numbers import to_e164
from shop_app.formats.postal_codes import postal_key

EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}")
# A JP postal code (150-0001, 〒1500001, 〒 150 ー 0001) is read before phones so its digits are not taken
# for one. Folding made every hyphen "-"; many write the katakana long mark "ー" for one.
JP_POSTAL = re.compile(r"〒\s*(\d{3})\s*[-ー]?\s*(\d{4})(?!\d)|(?<![\d\-ー])(\d{3})[-ー](\d{4})(?![\d\-ー])")
# Other codes only after a cue, and then every code of a list ("zip codes 30303, 80202 or 94103").
POSTAL_CUE = re.compile(
    r"(?:zip(?: ?codes?)?|zips|postal ?codes?|post ?codes?|郵便番号)\s*(?:is|are|:|は)?\s*"
)
POSTAL_CODE = re.compile(
    r"([a-z]{1,2}\d[a-z\d]? ?\d[a-z]{2}|\d{5}(?:-\d{4})?|\d{3} ?[-ー]? ?\d{4})(?![a-z0-9\-ー])"
)
POSTAL_LIST_SEPARATOR = re.compile(r"\s*(?:[,/・;&]|(?:or|and)\b|または|もしくは|か|と|や)?\s*")
# Seven digits written without the hyphen (1600023): a postcode when Japan Post knows it and nothing
# marks it as an order number.
BARE_JP_POSTAL = re.compile(r"(?<![\da-z#-])(\d{7})(?![\d-])")
# A US ZIP code in an address ("Springfield, IL 62704"): a postcode, never an order number.
US_STATES = (
    "al|ak|az|ar|ca|co|ct|de|dc|fl|ga|hi|id|il|in|ia|ks|ky|la|me|md|ma|mi|mn|ms|mo|mt|ne|nv|nh|nj|nm|ny|nc|"
    "nd|oh|ok|or|pa|ri|sc|sd|tn|tx|ut|vt|va|wa|wv|wi|wy|pr"
)
US_STATE_ZIP = re.compile(rf",\s*(?:{US_STATES})\.?\s+(\d{{5}}(?:-\d{{4}})?)(?![\d-])")
PHONE = re.compile(r"(?<![a-z0-9+])(\+?\d[\d\- ()]{7,16}\d)(?![\d-])")
# An order reference spelled as one: "#1001", "no. 1001", "order 1001", "注文番号1001", "オーダー1001".
ORDER_CUE_WORDS = (
    r"(?:#|no\.?|number|nr\.?|order(?: number| no\.?| id| #)?|注文番号|注文no\.?|注文|ご注文|オーダー番号|"
    r"オーダー|受注番号|(?<!郵便)(?<!電話)番号)\s*(?:is|は|:)?\s*#?\s*"
)
ORDER_CUE = re.compile(ORDER_CUE_WORDS + r"(\d{3,10})(?!\d)")
ORDER_CUE_BEFORE = re.compile(ORDER_CUE_WORDS + r"$")
BARE_NUMBER = re.compile(
    r"(?<![\d.,$¥/:-])(\d{4,10})(?![\d.,/:-]|\s*(?:円|yen|cm|mm|個|点|枚|足|着|年|月|日|%|pcs))"
)

LETTER_SIZES = ("xxs", "xs", "xxl", "xl", "2xl", "3xl", "s", "m", "l")
SIZE_ALIAS = {"2xl": "XXL", "3xl": "XXXL"}
# A letter size alone is read only beside a size cue ("size m", "Mサイズ", "in m", "(m)").
CUED_LETTER_SIZE = re.compile(
    r"(?<![a-z])(?:size|サイズ|in|a|an|the)\s*:?\s*(xxs|xs|xxl|xl|2xl|3xl|s|m|l)(?![a-z0-9'])"
    r"|(?<![a-z0-9])(xxs|xs|xxl|xl|2xl|3xl|s|m|l)\s*(?:サイズ|size|ｻｲｽﾞ)"
    r"|\((xxs|xs|xxl|xl|2xl|3xl|s|m|l)\)"
    r"|(?<=[\u3040-\u30ff\u4e00-\u9fff])(xxs|xs|xxl|xl|2xl|3xl|s|m|l)(?![a-z0-9'])"
)
# Two-letter sizes are distinctive enough alone.
BARE_LONG_SIZE = re.compile(r"(?<![a-z0-9])(xxs|xs|xxl|xl|2xl|3xl)(?![a-z0-9])")
SHOE_SIZE = re.compile(r"(?<![\d.])(2\d|3[0-2])(\.5)?\s*(?:cm|センチ)")
FREE_SIZE = re.compile(r"フリーサイズ|free ?size|one ?size|ワンサイズ")

COLOURS: dict[str, tuple[str, ...]] = {
    "navy": ("navy", "ネイビー", "紺"),
    "black": ("black", "ブラック", "黒"),
    "white": ("white", "ホワイト", "白"),
    "red": ("red", "レッド", "赤"),
    "blue": ("blue", "ブルー", "青"),
    "green": ("green", "グリーン", "緑"),
    "grey": ("grey", "gray", "グレー", "グレイ", "灰色"),
    "beige": ("beige", "ベージュ"),
    "brown": ("brown", "ブラウン", "茶色"),
    "pink": ("pink", "ピンク"),
    "yellow": ("yellow", "イエロー", "黄色"),
    "purple": ("purple", "パープル", "紫"),
    "orange": ("orange", "オレンジ"),
    "khaki": ("khaki", "カーキ"),
    "ivory": ("ivory", "アイボリー"),
}
# Words that contain a colour's character without meaning the colour.
COLOUR_FALSE_FRIENDS = (
    "面白",
    "白菜",
    "赤ちゃん",
    "赤字",
    "黒字",
    "青春",
    "真っ白な状態",
    "明白",
    "告白",
    "空白",
)
PRODUCT_NOUNS = (
    "t-shirt", "tshirt", "shirt", "hoodie", "jacket", "sneakers", "sneaker", "shoes", "boots", "bag",
    "backpack", "tote", "dress", "skirt", "cap", "hat", "socks", "pants", "jeans", "coat", "sweater",
    "cardigan", "scarf", "mug", "candle", "wallet",
    "tシャツ", "シャツ", "パーカー", "ジャケット", "スニーカー", "ブーツ", "バッグ", "リュック", "トート",
    "ワンピース", "スカート", "キャップ", "帽子", "靴下", "ソックス", "パンツ", "デニム", "ジーンズ",
    "コート", "ニット", "セーター", "カーディガン", "マフラー", "マグ", "キャンドル", "財布", "靴",
)  # fmt: skip


T = TypeVar("T")


def _unique(items: list[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(items))


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the given spans replaced by spaces, so later finders skip them."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _unique_by(items: list[str], key: Callable[[str], str | None]) -> tuple[str, ...]:
    """The items once per key, in the order first seen (an item without a key is dropped)."""
    kept: dict[str, str] = {}
    for item in items:
        found = key(item)
        if found is not None and found not in kept:
            kept[found] = item
    return tuple(kept.values())


def find_emails(text: str) -> tuple[tuple[str, ...], str]:
    found = list(EMAIL.finditer(text))
    emails = [m.group(0).strip(".") for m in found]
    return _unique_by(emails, normalise_email), _blank(text, [m.span() for m in found])


def _postal_spelling(code: str) -> str:
    """``1500001`` and ``150 ー 0001`` as ``150-0001``; other codes upper case."""
    key = postal_key(code)
    return f"{key[:3]}-{key[3:]}" if len(key) == 7 and key.isdigit() else code.upper()


def find_postal_codes(text: str) -> tuple[tuple[str, ...], str]:
    codes: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in JP_POSTAL.finditer(text):
        head, tail = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        codes.append(f"{head}-{tail}")
        spans.append(m.span())
    text = _blank(text, spans)
    for cue in POSTAL_CUE.finditer(text):
        at = cue.end()
        while (code := POSTAL_CODE.match(text, at)) is not None:
            codes.append(_postal_spelling(code.group(1)))
            spans.append(code.span(1))
            separator = POSTAL_LIST_SEPARATOR.match(text, code.end())
            at = separator.end() if separator is not None else code.end()
    text = _blank(text, spans)
    for m in BARE_JP_POSTAL.finditer(text):
        if ORDER_CUE_BEFORE.search(text, 0, m.start()) is None and is_japanese_postcode(m.group(1)):
            codes.append(f"{m.group(1)[:3]}-{m.group(1)[3:]}")
            spans.append(m.span(1))
    for m in US_STATE_ZIP.finditer(text):
        codes.append(_postal_spelling(m.group(1)))
        spans.append(m.span(1))
    return _unique_by(codes, postal_key), _blank(text, spans)


def find_phones(text: str, *, default_region: str | None) -> tuple[tuple[str, ...], str]:
    phones: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in PHONE.finditer(text):
        raw = m.group(1)
        digits = re.sub(r"\D", "", raw)
        if len(digits) < 9:
            continue
        region = default_region or ("JP" if raw.startswith("0") else None)
        number = to_e164(raw, default_region=region)
        if number is not None:
            phones.append(number)
            spans.append(m.span(1))
    return _unique(phones), _blank(text, spans)


def _shop_order_pattern(prefix: str, suffix: str) -> re.Pattern[str] | None:
    prefix, suffix = fold(prefix), fold(suffix)
    if prefix in ("", "#") and not suffix:
        return None
    tail = rf"(?:{re.escape(suffix)})?" if suffix else ""
    return re.compile(rf"{re.escape(prefix)}\s*(\d{{1,10}}){tail}(?![\d])")


def find_order_refs(text: str, *, prefix: str, suffix: str) -> tuple[tuple[int, ...], list[str]]:
    """Order numbers: the shop's own name shape first, then cued numbers (#, 注文番号, order), then bare
    numbers of four or more digits. ``text`` has emails, phones and postal codes blanked already."""
    refs: list[int] = []
    reasons: list[str] = []
    spans: list[tuple[int, int]] = []
    shop_pattern = _shop_order_pattern(prefix, suffix)
    if shop_pattern is not None:
        for m in shop_pattern.finditer(text):
            refs.append(int(m.group(1)))
            spans.append(m.span())
        if spans:
            reasons.append("order_ref:shop_name")
    text = _blank(text, spans)
    cued = list(ORDER_CUE.finditer(text))
    if cued:
        refs.extend(int(m.group(1)) for m in cued)
        reasons.append("order_ref:cued")
        text = _blank(text, [m.span() for m in cued])
    if not refs:
        bare = [int(m.group(1)) for m in BARE_NUMBER.finditer(text)]
        if bare:
            refs.extend(bare)
            reasons.append("order_ref:bare_number")
    return _unique(refs), reasons


def find_sizes(text: str) -> tuple[str, ...]:
    sizes: list[str] = []
    for m in CUED_LETTER_SIZE.finditer(text):
        letter = next(g for g in m.groups() if g)
        sizes.append(SIZE_ALIAS.get(letter, letter.upper()))
    for m in BARE_LONG_SIZE.finditer(text):
        sizes.append(SIZE_ALIAS.get(m.group(1), m.group(1).upper()))
    for m in SHOE_SIZE.finditer(text):
        sizes.append(f"{m.group(1)}{m.group(2) or ''}cm")
    if FREE_SIZE.search(text):
        sizes.append("FREE")
    return _unique(sizes)


def _word_pattern(word: str) -> str:
    return rf"(?<![a-z]){re.escape(word)}s?(?![a-z])" if word.isascii() else re.escape(word)


COLOUR_OF_WORD = {word: colour for colour, words in COLOURS.items() for word in words}
COLOUR_WORDS = re.compile(
    "|".join(f"(?P<c{i}>{_word_pattern(word)})" for i, word in enumerate(COLOUR_OF_WORD))
)
COLOUR_BY_GROUP = {f"c{i}": colour for i, colour in enumerate(COLOUR_OF_WORD.values())}
FALSE_FRIENDS = re.compile("|".join(map(re.escape, COLOUR_FALSE_FRIENDS)))
# longest first, so "t-shirt" is read rather than "shirt" inside it
PRODUCT_WORDS = re.compile("|".join(_word_pattern(n) for n in sorted(PRODUCT_NOUNS, key=len, reverse=True)))


def find_colours(text: str) -> tuple[str, ...]:
    text = FALSE_FRIENDS.sub(" ", text)
    found = [COLOUR_BY_GROUP[m.lastgroup] for m in COLOUR_WORDS.finditer(text) if m.lastgroup]
    return _unique(found)


def find_product_words(text: str, titles: tuple[str, ...]) -> tuple[str, ...]:
    """Shop titles named in the message (whole, or every word of three or more letters), else product
    nouns from a small list."""
    matched: list[str] = []
    for title in titles:
        folded = fold(title)
        words = [w for w in re.split(r"[\s/|・-]+", folded) if len(w) >= 3 or not w.isascii()]
        if folded and (folded in text or (words and all(w in text for w in words))):
            matched.append(title)
    if matched:
        return _unique(matched)
    return _unique(
        [
            m.group(0).removesuffix("s")
            if m.group(0).isascii() and m.group(0).removesuffix("s") in PRODUCT_NOUNS
            else m.group(0)
            for m in PRODUCT_WORDS.finditer(text)
        ]
    )
