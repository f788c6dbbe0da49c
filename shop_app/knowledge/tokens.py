"""Words for retrieval, in Japanese and English, without a dictionary or a network.

English: lower-case words, minus a short stop list, with a small suffix stemmer ("returns", "returned" and
"return" are one word). Japanese has no spaces, so each run of Japanese script becomes overlapping
character bigrams (送料無料 → 送料 料無 無料), skipping every bigram with hiragana in it, which are
particles, endings and okurigana (ですか, 料は, 教え); a lone kanji or katakana character is kept.
``bench/knowledge.py`` compares this with SudachiPy's analyser on the same questions; the README says why
bigrams were chosen.
"""

from __future__ import annotations

import re
import unicodedata

# A question longer than this is cut: shoppers put the question first, and the cost stays bounded.
MAX_QUERY_CHARS = 2000

_TOKEN = re.compile(
    r"[a-z0-9]+(?:'[a-z]+)?|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヵヶー]+"
)
_HIRAGANA = re.compile(r"^[\u3040-\u309fー]+$")
_HAS_HIRAGANA = re.compile(r"[\u3040-\u309f]")
_LATIN = re.compile(r"^[a-z0-9]")

_STOP_WORDS = """a about an and any are as at be been but by can could do does did for from get got has have
hello hi how i i'm if in into is it it's its me my of on or our please so that the their them then there these
they this those to us was we were what when where which will with would you your you're yours"""
# Words that frame a question about a policy without saying which ("what is your policy on…", "how much",
# "条件を教えて"): they would otherwise count as words the shop never wrote about.
_FRAME_WORDS = """policy policies rule rules much many long know tell like want need possible option options
info information offer general generally usually"""
STOP_WORDS = frozenset(_STOP_WORDS.split()) | frozenset(_FRAME_WORDS.split())
FRAME_BIGRAMS = frozenset(
    {"条件", "方法", "規定", "ポリ", "リシ", "シー", "可能", "対応", "場合", "教え", "質問"}
)


def stem(word: str) -> str:
    """A crude, consistent English stem: enough that inflections of one word meet."""
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    else:
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
                word = word[: -len(suffix)]
                break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] in "bdgmnprt":
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def tokenise(text: str) -> list[str]:
    tokens: list[str] = []
    for match in _TOKEN.finditer(fold(text[:MAX_QUERY_CHARS])):
        run = match.group()
        if _LATIN.match(run):
            if run not in STOP_WORDS:
                tokens.append(stem(run.replace("'", "")))
            continue
        if len(run) == 1:
            if not _HIRAGANA.match(run):
                tokens.append(run)
            continue
        for start in range(len(run) - 1):
            pair = run[start : start + 2]
            if not _HAS_HIRAGANA.search(pair) and pair not in FRAME_BIGRAMS:
                tokens.append(pair)
    return tokens
