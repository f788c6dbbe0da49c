"""A shop's FAQ entries: list, create, update, switch on or off. Every getter is scoped by shop (another
shop's entry is a 404). Texts are stored as typed; pages show them as text, never as HTML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.errors import Conflict, NotFound, Unprocessable
from shop_app.models import FaqEntry
from shop_app.models.base import utcnow
from shop_app.models.knowledge import MAX_FAQ_ANSWER_CHARS, MAX_FAQ_QUESTION_CHARS, MAX_FAQ_QUESTIONS

MAX_FAQ_ENTRIES_PER_SHOP = 1000
MAX_ROW_ID = 2**31 - 1
MAX_LINK_CHARS = 2000


@dataclass(frozen=True, slots=True)
class FaqDraft:
    questions_ja: Sequence[str]
    questions_en: Sequence[str]
    answer_ja: str
    answer_en: str
    link: str | None = None
    enabled: bool = True


def _questions(values: Sequence[str]) -> list[str]:
    kept: list[str] = []
    for value in values:
        text = " ".join(value.split())
        if not text or text in kept:
            continue
        if len(text) > MAX_FAQ_QUESTION_CHARS:
            raise Unprocessable(
                f"A question is longer than {MAX_FAQ_QUESTION_CHARS} characters", code="invalid_faq"
            )
        kept.append(text)
    if len(kept) > MAX_FAQ_QUESTIONS:
        raise Unprocessable(f"At most {MAX_FAQ_QUESTIONS} questions per language", code="invalid_faq")
    return kept


def _link(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    link = value.strip()
    parts = urlsplit(link)
    if len(link) > MAX_LINK_CHARS or parts.scheme not in ("https", "http") or not parts.netloc:
        raise Unprocessable("The link must be an http(s) address", code="invalid_faq")
    return link


def checked(draft: FaqDraft) -> FaqDraft:
    """The draft cleaned (spaces, empty and repeated questions), or 422 ``invalid_faq``."""
    ja, en = _questions(draft.questions_ja), _questions(draft.questions_en)
    answer_ja, answer_en = draft.answer_ja.strip(), draft.answer_en.strip()
    for answer in (answer_ja, answer_en):
        if len(answer) > MAX_FAQ_ANSWER_CHARS:
            raise Unprocessable(
                f"An answer is longer than {MAX_FAQ_ANSWER_CHARS} characters", code="invalid_faq"
            )
    if not ((ja and answer_ja) or (en and answer_en)):
        raise Unprocessable(
            "Write at least one question and its answer in Japanese or in English", code="invalid_faq"
        )
    return FaqDraft(ja, en, answer_ja, answer_en, _link(draft.link), draft.enabled)


async def list_faq_entries(session: AsyncSession, *, shop_id: int) -> list[FaqEntry]:
    rows = await session.execute(
        select(FaqEntry).where(col(FaqEntry.shop_id) == shop_id).order_by(col(FaqEntry.id))
    )
    return list(rows.scalars())


async def access_faq_entry(session: AsyncSession, *, shop_id: int, entry_id: int) -> FaqEntry:
    if not 0 < entry_id <= MAX_ROW_ID:
        raise NotFound("No such FAQ entry", code="faq_not_found")
    entry = await session.get(FaqEntry, entry_id)
    if entry is None or entry.shop_id != shop_id:
        raise NotFound("No such FAQ entry", code="faq_not_found")
    return entry


async def create_faq_entry(session: AsyncSession, *, shop_id: int, draft: FaqDraft) -> FaqEntry:
    clean = checked(draft)
    count = (await session.execute(select(func.count()).where(col(FaqEntry.shop_id) == shop_id))).scalar_one()
    if count >= MAX_FAQ_ENTRIES_PER_SHOP:
        raise Conflict(f"A shop has at most {MAX_FAQ_ENTRIES_PER_SHOP} FAQ entries", code="faq_limit")
    entry = FaqEntry(shop_id=shop_id)
    _apply(entry, clean)
    session.add(entry)
    await session.flush()
    return entry


async def update_faq_entry(
    session: AsyncSession, *, shop_id: int, entry_id: int, draft: FaqDraft
) -> FaqEntry:
    entry = await access_faq_entry(session, shop_id=shop_id, entry_id=entry_id)
    _apply(entry, checked(draft))
    await session.flush()
    return entry


async def set_faq_entry_enabled(
    session: AsyncSession, *, shop_id: int, entry_id: int, enabled: bool
) -> FaqEntry:
    entry = await access_faq_entry(session, shop_id=shop_id, entry_id=entry_id)
    entry.enabled = enabled
    entry.updated_at = utcnow()
    await session.flush()
    return entry


async def delete_faq_entry(session: AsyncSession, *, shop_id: int, entry_id: int) -> None:
    entry = await access_faq_entry(session, shop_id=shop_id, entry_id=entry_id)
    await session.delete(entry)
    await session.flush()


def _apply(entry: FaqEntry, draft: FaqDraft) -> None:
    entry.questions_ja = list(draft.questions_ja)
    entry.questions_en = list(draft.questions_en)
    entry.answer_ja = draft.answer_ja
    entry.answer_en = draft.answer_en
    entry.link = draft.link
    entry.enabled = draft.enabled
    entry.updated_at = utcnow()
