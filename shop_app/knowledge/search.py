"""The shop's knowledge as one BM25 index (its enabled FAQ entries' question variants and its policies'
passages) and the question "what would the bot quote for this message, and how sure is it?".

An index is built once per shop and state of its knowledge: the stamp (how many entries and policies, and
when the latest changed) is read on every query, so an edit in any process is seen at the next question.
A match is confident when the document holds most of the question's weight (``coverage``): a question
about something the shop never wrote about, or that shares only common words with it, is not.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.knowledge.bm25 import Bm25Index
from shop_app.knowledge.passages import policy_passages, quote
from shop_app.knowledge.tokens import tokenise
from shop_app.models import FaqEntry, ShopPolicy

# A match answers only when the document holds at least this share of the question's idf weight…
CONFIDENT_COVERAGE = 0.5
# …and its BM25 score is at least this (not one word that most passages share).
CONFIDENT_SCORE = 1.0
# Policies shoppers ask about; privacy and terms are legal text for a person to interpret.
ANSWERED_POLICIES = frozenset({"REFUND_POLICY", "SHIPPING_POLICY", "CONTACT_INFORMATION", "TERMS_OF_SALE"})
CACHED_SHOPS = 64


@dataclass(frozen=True, slots=True)
class Source:
    kind: str  # "faq" or "policy"
    row_id: int
    label: str  # "faq:12", "policy:REFUND_POLICY#3" (the passage's position)
    language: str | None  # a FAQ variant's language; a policy's is the shop's own
    title: str
    text: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Match:
    source: Source
    score: float
    coverage: float
    matched: tuple[str, ...]

    @property
    def confident(self) -> bool:
        return self.coverage >= CONFIDENT_COVERAGE and self.score >= CONFIDENT_SCORE

    @property
    def quote(self) -> str:
        """A FAQ entry's answer whole (the merchant wrote it as the answer); a policy passage's start."""
        return self.source.text if self.source.kind == "faq" else quote(self.source.text)

    def explain(self) -> str:
        """For the decision's reason and the "try it" box: which entry or passage, and its figures."""
        return f"{self.source.label} score {self.score:.2f} coverage {self.coverage:.2f}"


Tokeniser = Callable[[str], list[str]]


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    sources: tuple[Source, ...]
    index: Bm25Index
    tokeniser: Tokeniser = field(default=tokenise)

    def search(self, text: str, *, language: str | None = None, limit: int = 5) -> list[Match]:
        """The best sources for ``text``, one per FAQ entry or passage, best first; FAQ answers only in
        ``language`` when given."""
        hits = self.index.search(self.tokeniser(text), limit=limit * 4)
        matches: list[Match] = []
        seen: set[str] = set()
        for hit in hits:
            source = self.sources[hit.document]
            if language is not None and source.kind == "faq" and source.language != language:
                continue
            if source.label in seen:
                continue
            seen.add(source.label)
            matches.append(Match(source, round(hit.score, 4), round(hit.coverage, 4), hit.matched))
            if len(matches) == limit:
                break
        return matches


def build_knowledge(
    entries: list[FaqEntry], policies: list[ShopPolicy], *, tokeniser: Tokeniser = tokenise
) -> KnowledgeBase:
    """The index of the enabled entries' questions and the quoted policies' passages (``tokeniser``: the
    benchmark compares another)."""
    sources: list[Source] = []
    documents: list[list[str]] = []
    for entry in entries:
        if not entry.enabled or entry.id is None:
            continue
        for language, questions, answer in (
            ("ja", entry.questions_ja, entry.answer_ja),
            ("en", entry.questions_en, entry.answer_en),
        ):
            if not answer.strip():
                continue
            for question in questions:
                source = Source("faq", entry.id, f"faq:{entry.id}", language, question, answer, entry.link)
                sources.append(source)
                documents.append(tokeniser(question))
    for policy in policies:
        if policy.policy_type not in ANSWERED_POLICIES or policy.id is None:
            continue
        for position, (heading, passage) in enumerate(policy_passages(policy.body), start=1):
            title = f"{policy.title} — {heading}" if heading else policy.title
            label = f"policy:{policy.policy_type}#{position}"
            sources.append(Source("policy", policy.id, label, None, title, passage, policy.url))
            # a heading says what its passage is about: its words count twice
            documents.append(tokeniser(f"{heading or ''} {heading or ''} {passage}"))
    return KnowledgeBase(tuple(sources), Bm25Index(documents), tokeniser)


_built: OrderedDict[tuple[int, tuple[Any, ...]], KnowledgeBase] = OrderedDict()


async def _stamp(session: AsyncSession, *, shop_id: int) -> tuple[Any, ...]:
    faq = (
        await session.execute(
            select(func.count(), func.max(col(FaqEntry.updated_at)), func.max(col(FaqEntry.id))).where(
                col(FaqEntry.shop_id) == shop_id
            )
        )
    ).one()
    policies = (
        await session.execute(
            select(func.count(), func.max(col(ShopPolicy.updated_at)), func.max(col(ShopPolicy.id))).where(
                col(ShopPolicy.shop_id) == shop_id
            )
        )
    ).one()
    return (*faq, *policies)


async def shop_knowledge(session: AsyncSession, *, shop_id: int) -> KnowledgeBase:
    stamp = await _stamp(session, shop_id=shop_id)
    key = (shop_id, stamp)
    base = _built.get(key)
    if base is not None:
        _built.move_to_end(key)
        return base
    entries = list(
        (
            await session.execute(
                select(FaqEntry)
                .where(col(FaqEntry.shop_id) == shop_id, col(FaqEntry.enabled))
                .order_by(col(FaqEntry.id))
            )
        ).scalars()
    )
    policies = list(
        (
            await session.execute(
                select(ShopPolicy).where(col(ShopPolicy.shop_id) == shop_id).order_by(col(ShopPolicy.id))
            )
        ).scalars()
    )
    base = build_knowledge(entries, policies)
    for old in [old for old in _built if old[0] == shop_id]:
        del _built[old]
    _built[key] = base
    while len(_built) > CACHED_SHOPS:
        _built.popitem(last=False)
    return base


async def search_knowledge(
    session: AsyncSession, *, shop_id: int, text: str, language: str | None = None, limit: int = 5
) -> list[Match]:
    base = await shop_knowledge(session, shop_id=shop_id)
    return base.search(text, language=language, limit=limit)


async def best_answer(
    session: AsyncSession, *, shop_id: int, text: str, language: str
) -> tuple[Match | None, Match | None]:
    """(the confident match, else None; the best match, confident or not, for the reason)."""
    matches = await search_knowledge(session, shop_id=shop_id, text=text, language=language, limit=1)
    best = matches[0] if matches else None
    return (best if best is not None and best.confident else None), best
