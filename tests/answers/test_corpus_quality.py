"""The labelled corpus is big and varied enough, and the classifier meets the bot's goals on it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from shop_app.answers.evaluation import (
    GOAL_POLICY_PRECISION,
    LabelledMessage,
    evaluate,
    load_corpus,
    missed_goals,
)
from shop_app.answers.understanding import Intent, understand
from shop_app.cli import main

CORPUS = Path(__file__).with_name("corpus.jsonl")


@pytest.fixture(scope="module")
def corpus() -> list[LabelledMessage]:
    return load_corpus(CORPUS)


def test_the_corpus_has_at_least_400_messages_half_japanese_half_english(
    corpus: list[LabelledMessage],
) -> None:
    languages = Counter(message.language for message in corpus)

    assert len(corpus) >= 400
    assert set(languages) == {"en", "ja"}
    assert abs(languages["en"] - languages["ja"]) <= len(corpus) * 0.05


def test_the_corpus_has_every_intent_in_both_languages(corpus: list[LabelledMessage]) -> None:
    seen = {(message.intent, message.language) for message in corpus}

    assert seen == {(intent, language) for intent in Intent for language in ("en", "ja")}


def test_the_corpus_has_no_duplicate_messages(corpus: list[LabelledMessage]) -> None:
    texts = Counter(message.text for message in corpus)

    assert [text for text, count in texts.items() if count > 1] == []


def test_the_corpus_labels_its_language_by_its_script(corpus: list[LabelledMessage]) -> None:
    mislabelled = [m.text for m in corpus if understand(m.text).language != m.language]

    assert mislabelled == []


@pytest.mark.parametrize(
    "needle",
    ["How long does shipping usually take?", "送料はいくら", "在庫処分セール", "cancel order #", "１"],
)
def test_the_corpus_holds_the_hard_cases(corpus: list[LabelledMessage], needle: str) -> None:
    assert any(needle.lower() in message.text.lower() for message in corpus)


def test_every_labelled_order_reference_is_read(corpus: list[LabelledMessage]) -> None:
    wrong = [
        (m.text, m.order_ref, understand(m.text).order_refs)
        for m in corpus
        if (m.order_ref is None) != (understand(m.text).order_ref is None)
        or (m.order_ref is not None and understand(m.text).order_ref != m.order_ref)
    ]

    assert wrong == []


def test_the_automatic_answers_meet_the_goals_on_the_whole_corpus(corpus: list[LabelledMessage]) -> None:
    evaluation = evaluate(corpus)

    assert missed_goals(evaluation) == []
    assert evaluation.person_only_auto_share <= 0.02


def test_the_automatic_answers_meet_the_goals_on_the_held_out_messages(corpus: list[LabelledMessage]) -> None:
    held_out = [message for message in corpus if message.holdout]
    evaluation = evaluate(held_out)

    assert len(held_out) >= 40
    assert missed_goals(evaluation) == []


def test_policy_questions_are_in_both_parts_and_read_precisely_on_the_held_out_part(
    corpus: list[LabelledMessage],
) -> None:
    held_out = [message for message in corpus if message.holdout]
    policy = next(s for s in evaluate(held_out).per_intent if s.intent is Intent.POLICY)

    assert {m.language for m in held_out if m.intent is Intent.POLICY} == {"en", "ja"}
    assert sum(1 for m in corpus if m.intent is Intent.POLICY and not m.holdout) >= 40
    assert policy.support >= 15
    assert policy.precision >= GOAL_POLICY_PRECISION


def test_a_policy_precision_below_the_goal_is_a_missed_goal() -> None:
    # every message labelled other but read as a policy question
    wrong = [
        LabelledMessage(text, "en", Intent.OTHER, None, True)
        for text in ("What is your return policy?", "Do you ship to Canada?")
    ]

    assert any(goal.startswith("policy precision") for goal in missed_goals(evaluate(wrong)))


def test_eval_prints_precision_and_recall_per_intent(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", "--corpus", str(CORPUS)])

    out = capsys.readouterr().out
    assert code == 0
    for intent in Intent:
        assert intent.value in out
    assert "person-only messages answered automatically" in out
    assert "held out:" in out


def test_the_held_out_part_covers_every_intent_and_a_tenth_of_the_corpus(
    corpus: list[LabelledMessage],
) -> None:
    held_out = [message for message in corpus if message.holdout]
    seen = {message.intent for message in held_out}

    assert len(held_out) >= len(corpus) / 10
    assert seen == set(Intent)
    assert {message.language for message in held_out} == {"en", "ja"}


def test_eval_prints_the_tuned_and_the_held_out_figures_apart(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", "--corpus", str(CORPUS)])

    out = capsys.readouterr().out
    tuned = sum(1 for message in load_corpus(CORPUS) if not message.holdout)
    held_out = sum(1 for message in load_corpus(CORPUS) if message.holdout)
    assert code == 0
    assert f"tuned: {tuned} messages" in out
    assert f"held out: {held_out} messages" in out
    assert out.count("automatic answers:") == 3  # tuned, held out, all


def test_eval_exits_1_when_only_the_held_out_part_misses_a_goal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a tuned part the rules read right, and a small held-out part whose one order question is labelled
    # stock: on the whole corpus the wrong answer is diluted below every goal, on the held-out part it is not
    tuned = [
        row
        for row in (json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines())
        if not row.get("holdout")
    ]
    held_out = [
        {"text": "Where is my order #1001?", "lang": "en", "intent": "stock", "holdout": True},
        {"text": "在庫はありますか？", "lang": "ja", "intent": "stock", "holdout": True},
    ]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in tuned + held_out), "utf-8")

    code = main(["eval", "--corpus", str(mixed)])

    out = capsys.readouterr().out
    assert code == 1
    assert "goal missed (held out): automatic precision" in out
    assert "goal missed (tuned)" not in out


def test_eval_exits_1_when_a_goal_is_missed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a corpus whose labels say the order-status questions are stock questions: every automatic answer is wrong
    rows = [
        {"text": "Where is my order #1001?", "lang": "en", "intent": "stock"},
        {"text": "注文した商品がまだ届きません", "lang": "ja", "intent": "stock"},
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows), encoding="utf-8")

    code = main(["eval", "--corpus", str(bad)])

    assert code == 1
    assert "goal missed (tuned): automatic precision" in capsys.readouterr().out
