"""How well ``understand`` does on a labelled corpus: precision and recall per intent, and what matters
most for the bot, the automatic answers (precision, recall for the answerable intents, and how many
person-only messages would have been answered automatically).

The corpus is JSON lines ``{"text", "lang", "intent", "order_ref"?, "holdout"?}``. ``holdout`` marks the
held-out part: messages written after the rules were tuned and never tuned on (a message the rules got
wrong there stays wrong there; a fix is made on new messages of the tuned part). Each part is reported
and judged against the goals on its own, so the tuned figures cannot hide how the rules do on new text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shop_app.answers.understanding import AUTO_INTENTS, Intent, Understanding, understand


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    text: str
    language: str
    intent: Intent
    order_ref: int | None
    holdout: bool


@dataclass(frozen=True, slots=True)
class IntentScore:
    intent: Intent
    support: int
    predicted: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.support if self.support else 1.0


@dataclass(frozen=True, slots=True)
class Evaluation:
    messages: int
    per_intent: tuple[IntentScore, ...]
    auto_answered: int
    auto_correct: int
    auto_recall: dict[Intent, float]
    person_only: int
    person_only_auto_answered: int
    order_refs_expected: int
    order_refs_found: int
    mistakes: tuple[tuple[LabelledMessage, Understanding], ...]

    @property
    def auto_precision(self) -> float:
        return self.auto_correct / self.auto_answered if self.auto_answered else 1.0

    @property
    def false_auto_rate(self) -> float:
        """Wrong automatic answers among all messages."""
        return (self.auto_answered - self.auto_correct) / self.messages if self.messages else 0.0

    @property
    def person_only_auto_share(self) -> float:
        return self.person_only_auto_answered / self.person_only if self.person_only else 0.0

    @property
    def accuracy(self) -> float:
        return sum(score.correct for score in self.per_intent) / self.messages if self.messages else 1.0


def load_corpus(path: Path) -> list[LabelledMessage]:
    messages = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise ValueError(f"{path}:{number}: not a labelled message")
        ref = row.get("order_ref")
        messages.append(
            LabelledMessage(
                text=row["text"],
                language=str(row["lang"]),
                intent=Intent(row["intent"]),
                order_ref=int(ref) if ref is not None else None,
                holdout=bool(row.get("holdout", False)),
            )
        )
    return messages


def evaluate(messages: Sequence[LabelledMessage]) -> Evaluation:
    predictions = [(message, understand(message.text)) for message in messages]
    per_intent = []
    for intent in Intent:
        support = sum(1 for m, _ in predictions if m.intent is intent)
        predicted = sum(1 for _, u in predictions if u.intent is intent)
        correct = sum(1 for m, u in predictions if m.intent is intent and u.intent is intent)
        per_intent.append(IntentScore(intent, support, predicted, correct))
    auto = [(m, u) for m, u in predictions if u.auto]
    auto_recall = {}
    for intent in AUTO_INTENTS:
        support = sum(1 for m, _ in predictions if m.intent is intent)
        hits = sum(1 for m, u in auto if m.intent is intent and u.intent is intent)
        auto_recall[intent] = hits / support if support else 1.0
    person_only = [(m, u) for m, u in predictions if m.intent not in AUTO_INTENTS]
    with_ref = [(m, u) for m, u in predictions if m.order_ref is not None]
    return Evaluation(
        messages=len(predictions),
        per_intent=tuple(per_intent),
        auto_answered=len(auto),
        auto_correct=sum(1 for m, u in auto if m.intent is u.intent),
        auto_recall=auto_recall,
        person_only=len(person_only),
        person_only_auto_answered=sum(1 for _, u in person_only if u.auto),
        order_refs_expected=len(with_ref),
        order_refs_found=sum(1 for m, u in with_ref if u.order_ref == m.order_ref),
        mistakes=tuple((m, u) for m, u in predictions if m.intent is not u.intent),
    )


def report_lines(title: str, evaluation: Evaluation) -> Iterable[str]:
    yield f"{title}: {evaluation.messages} messages, accuracy {evaluation.accuracy:.3f}"
    yield f"  {'intent':<24}{'support':>8}{'precision':>11}{'recall':>8}"
    for score in evaluation.per_intent:
        yield f"  {score.intent.value:<24}{score.support:>8}{score.precision:>11.3f}{score.recall:>8.3f}"
    yield (
        f"  automatic answers: {evaluation.auto_answered}, precision {evaluation.auto_precision:.3f}, "
        f"false automatic answers {evaluation.false_auto_rate:.1%} of all messages"
    )
    for intent in sorted(evaluation.auto_recall):
        yield f"  automatic recall {intent.value}: {evaluation.auto_recall[intent]:.3f}"
    yield (
        f"  person-only messages answered automatically: {evaluation.person_only_auto_answered} of "
        f"{evaluation.person_only} ({evaluation.person_only_auto_share:.1%})"
    )
    yield f"  order references read: {evaluation.order_refs_found} of {evaluation.order_refs_expected}"


# The measured-quality goals of the bot's automatic answers.
GOAL_AUTO_PRECISION = 0.97
GOAL_AUTO_RECALL = 0.90
GOAL_MAX_FALSE_AUTO_RATE = 0.02
# Policy answers quote the shop's own rules: a question wrongly read as one is answered wrongly.
GOAL_POLICY_PRECISION = 0.97


def missed_goals(evaluation: Evaluation) -> list[str]:
    """The goals this evaluation misses, in words; empty when all are met."""
    missed = []
    if evaluation.auto_precision < GOAL_AUTO_PRECISION:
        missed.append(f"automatic precision {evaluation.auto_precision:.3f} < {GOAL_AUTO_PRECISION}")
    for intent, recall in sorted(evaluation.auto_recall.items()):
        if recall < GOAL_AUTO_RECALL:
            missed.append(f"automatic recall of {intent.value} {recall:.3f} < {GOAL_AUTO_RECALL}")
    policy = next(score for score in evaluation.per_intent if score.intent is Intent.POLICY)
    if policy.predicted and policy.precision < GOAL_POLICY_PRECISION:
        missed.append(f"policy precision {policy.precision:.3f} < {GOAL_POLICY_PRECISION}")
    if evaluation.false_auto_rate > GOAL_MAX_FALSE_AUTO_RATE:
        missed.append(
            f"false automatic answers {evaluation.false_auto_rate:.3f} > {GOAL_MAX_FALSE_AUTO_RATE}"
        )
    return missed


TUNED = "tuned"
HELD_OUT = "held out"
ALL = "all"


@dataclass(frozen=True, slots=True)
class PartReport:
    title: str
    evaluation: Evaluation
    missed: tuple[str, ...]


def evaluate_parts(messages: Sequence[LabelledMessage]) -> list[PartReport]:
    """The tuned part, the held-out part and the whole corpus, each evaluated and judged apart (a part
    with no messages is left out)."""
    parts = [
        (TUNED, [m for m in messages if not m.holdout]),
        (HELD_OUT, [m for m in messages if m.holdout]),
        (ALL, list(messages)),
    ]
    reports = []
    for title, part in parts:
        if part:
            evaluation = evaluate(part)
            reports.append(PartReport(title, evaluation, tuple(missed_goals(evaluation))))
    return reports
