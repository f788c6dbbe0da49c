"""Retrieval: Japanese and English words, BM25 ranking, policy passages cut from HTML as plain text, the
confidence a match needs; and inputs a stranger controls (any text, huge text, hostile HTML) never fail or
leak markup."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shop_app.knowledge.bm25 import Bm25Index
from shop_app.knowledge.passages import MAX_PASSAGE_CHARS, MAX_QUOTE_CHARS, policy_passages, quote
from shop_app.knowledge.search import build_knowledge
from shop_app.knowledge.tokens import MAX_QUERY_CHARS, tokenise
from shop_app.models import FaqEntry, ShopPolicy
from tests.knowledge.policy_texts import SHIPPING_EN, records


def test_english_words_meet_whatever_their_inflection() -> None:
    assert tokenise("Returns and exchanges") == tokenise("return exchange")
    assert tokenise("What is your shipping policy?") == ["ship"]
    assert "polic" not in tokenise("policies")


def test_japanese_is_cut_into_bigrams_without_particles_or_endings() -> None:
    assert tokenise("送料はいくらですか") == ["送料"]
    assert tokenise("海外発送はできますか？") == ["海外", "外発", "発送"]
    assert tokenise("返品の条件を教えてください") == ["返品"]  # 条件 frames the question, 教え is okurigana
    assert tokenise("ＥＭＳ") == ["ems"]  # full-width folded


def test_bm25_ranks_the_document_holding_the_rare_words_first() -> None:
    index = Bm25Index([["ship", "cost"], ["ship", "time"], ["return", "day"]])

    [best, second] = index.search(["ship", "cost"], limit=2)

    assert best.document == 0 and second.document == 1
    assert best.score > second.score
    assert best.coverage == 1.0 and second.coverage < 0.5
    assert best.matched == ("ship", "cost")


def test_a_word_the_shop_never_wrote_about_lowers_the_coverage() -> None:
    index = Bm25Index([["ship", "cost"], ["ship", "time"], ["return", "day"]])

    [hit] = index.search(["ship", "mars"], limit=1)

    assert hit.coverage < 0.5


def test_policy_html_becomes_plain_passages_under_their_headings() -> None:
    passages = policy_passages(SHIPPING_EN)

    assert [heading for heading, _ in passages] == [
        "Shipping times",
        "Shipping costs",
        "International shipping",
    ]
    assert all("<" not in text and "alert" not in text for _, text in passages)
    assert passages[1][1].startswith("Shipping costs a flat 800 yen")


def test_a_long_paragraph_is_cut_at_sentence_ends_and_a_quote_is_brief() -> None:
    sentence = "配送は通常2日から4日かかります。"
    [(_, first), *rest] = policy_passages(f"<p>{sentence * 60}</p>")

    assert rest
    assert len(first) <= MAX_PASSAGE_CHARS and first.endswith("。")
    assert len(quote(first)) <= MAX_QUOTE_CHARS and quote(first).endswith("。")


def test_a_faq_entry_answers_only_in_its_language_and_when_switched_on() -> None:
    entry = FaqEntry(
        id=1,
        shop_id=1,
        questions_ja=["ラッピングはできますか"],
        questions_en=["Do you offer gift wrapping?"],
        answer_ja="1点300円です。",
        answer_en="",
    )
    off = FaqEntry(
        id=2, shop_id=1, questions_en=["Do you offer gift wrapping?"], answer_en="Yes", enabled=False
    )
    base = build_knowledge([entry, off], [])

    assert [m.source.label for m in base.search("ラッピングはできますか", language="ja")] == ["faq:1"]
    assert base.search("Do you offer gift wrapping?", language="en") == []  # no English answer, 2 is off


def test_privacy_and_terms_are_not_quoted() -> None:
    privacy = ShopPolicy(
        id=3,
        shop_id=1,
        policy_type="PRIVACY_POLICY",
        title="Privacy",
        body="<p>We keep your shipping address.</p>",
    )
    base = build_knowledge([], [privacy])

    assert base.search("shipping address") == []


def test_the_demo_shipping_policy_answers_a_shipping_cost_question() -> None:
    policies = [
        ShopPolicy(id=n, shop_id=1, policy_type=r.policy_type, title=r.title, body=r.body, url=r.url)
        for n, r in enumerate(records("en"), start=1)
    ]
    [best] = build_knowledge([], policies).search("What are your shipping costs?", limit=1)

    assert best.confident
    assert best.source.label == "policy:SHIPPING_POLICY#2"


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=3000))
def test_any_text_is_tokenised_and_searched_without_failing(text: str) -> None:
    base = build_knowledge(
        [], [ShopPolicy(id=1, shop_id=1, policy_type="SHIPPING_POLICY", title="S", body=text)]
    )

    for match in base.search(text):
        assert 0.0 <= match.coverage <= 1.0 + 1e-9
        assert "<script" not in match.quote.lower() or "<script" in text.lower()


@settings(max_examples=50, deadline=None)
@given(
    html=st.lists(
        st.sampled_from(
            [
                "<p>",
                "</p>",
                "<h2>",
                "<script>",
                "</script>",
                "<li>",
                "送料",
                "ship ",
                "&amp;",
                "<!--",
                "-->",
                "<br>",
                "\x00",
            ]
        ),
        max_size=300,
    )
)
def test_hostile_or_broken_policy_html_never_leaks_a_tag(html: list[str]) -> None:
    for _, text in policy_passages("".join(html)):
        assert "<p>" not in text and "<script>" not in text and "<h2>" not in text


def test_a_huge_question_is_cut_before_it_is_read() -> None:
    base = build_knowledge(
        [], [ShopPolicy(id=1, shop_id=1, policy_type="SHIPPING_POLICY", title="S", body=SHIPPING_EN)]
    )
    huge = "送料 shipping " * 200_000

    tokens = tokenise(huge)
    [best, *_] = base.search(huge)

    assert len(tokens) <= MAX_QUERY_CHARS  # the cost of a question is bounded by its first characters
    assert best.source.label.startswith("policy:SHIPPING_POLICY")


def test_a_faq_answer_is_given_whole_and_a_policy_passage_briefly() -> None:
    long_answer = "ギフトラッピングは1点につき300円で承ります。" * 12
    entry = FaqEntry(id=1, shop_id=1, questions_ja=["ラッピングはできますか"], answer_ja=long_answer)
    policy = ShopPolicy(
        id=2,
        shop_id=1,
        policy_type="SHIPPING_POLICY",
        title="配送",
        body=f"<h2>送料</h2><p>{'送料は800円です。' * 40}</p>",
    )
    base = build_knowledge([entry], [policy])

    [faq] = base.search("ラッピングはできますか", language="ja", limit=1)
    [passage] = base.search("送料", language="ja", limit=1)

    assert faq.quote == long_answer
    assert len(passage.quote) <= MAX_QUOTE_CHARS
