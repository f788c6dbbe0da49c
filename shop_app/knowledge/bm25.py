"""Okapi BM25 over short documents (FAQ question variants, policy passages), with sparse postings.

Small and our own rather than ``rank_bm25``: that package has not had a release since 2022, scores every
document of the corpus for each query through numpy arrays, and does not say which words of a query
matched, which the "try it" box and the decision audit show. The idf is Lucene's, which is never negative
(a word in most documents still counts a little).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

K1 = 1.2
B = 0.75


@dataclass(frozen=True, slots=True)
class Hit:
    document: int
    score: float
    # the share of the query's weight (idf) that this document holds, 0..1
    coverage: float
    matched: tuple[str, ...]


class Bm25Index:
    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        self.size = len(documents)
        self.lengths = [len(tokens) for tokens in documents]
        self.average_length = (sum(self.lengths) / self.size) if self.size else 0.0
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for number, tokens in enumerate(documents):
            for term, count in Counter(tokens).items():
                self.postings.setdefault(term, []).append((number, count))
        self.unknown_idf = self._idf(0)

    def _idf(self, frequency: int) -> float:
        return math.log(1.0 + (self.size - frequency + 0.5) / (frequency + 0.5))

    def idf(self, term: str) -> float:
        return self._idf(len(self.postings.get(term, ())))

    def search(self, query: Sequence[str], *, limit: int = 5) -> list[Hit]:
        """The best documents for the query, best first; a word the index does not know weighs as much as
        the rarest word, so a question about something the shop never wrote about finds little cover."""
        if not self.size:
            return []
        terms = Counter(query)
        total_weight = sum(self.idf(term) * count for term, count in terms.items())
        scores: dict[int, float] = {}
        matched: dict[int, list[str]] = {}
        for term, query_count in terms.items():
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = self._idf(len(postings))
            for document, count in postings:
                norm = K1 * (1.0 - B + B * self.lengths[document] / (self.average_length or 1.0))
                scores[document] = scores.get(document, 0.0) + query_count * idf * count * (K1 + 1.0) / (
                    count + norm
                )
                matched.setdefault(document, []).append(term)
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [
            Hit(
                document=document,
                score=score,
                coverage=(
                    sum(self.idf(term) * terms[term] for term in matched[document]) / total_weight
                    if total_weight
                    else 0.0
                ),
                matched=tuple(matched[document]),
            )
            for document, score in best
        ]
