"""What ``understand`` reads in a shopper's message: intents, hard negatives, entities in both languages."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shop_app.answers.understanding import AUTO_ANSWER_THRESHOLD, Intent, ShopHints, understand
from shop_app.cli import main


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Where is my order #1001?", Intent.ORDER_STATUS),
        ("注文番号1001の荷物がまだ届きません", Intent.ORDER_STATUS),
        ("Is the navy hoodie in stock in M?", Intent.STOCK),
        ("ネイビーのパーカーのMサイズは在庫ありますか", Intent.STOCK),
        ("Please cancel order #1001", Intent.CANCEL),
        ("注文番号1001をキャンセルしたいです", Intent.CANCEL),
        ("I'd like to exchange the shirt for an L", Intent.RETURN_EXCHANGE),
        ("サイズが合わなかったので返品したいです", Intent.RETURN_EXCHANGE),
        ("I need to change my shipping address", Intent.ADDRESS_CHANGE),
        ("届け先を変更してください", Intent.ADDRESS_CHANGE),
        ("I was charged twice", Intent.BILLING_REFUND),
        ("返金はいつになりますか", Intent.BILLING_REFUND),
        ("The mug arrived broken", Intent.DAMAGED_WRONG_ITEM),
        ("違う商品が届きました", Intent.DAMAGED_WRONG_ITEM),
        ("Can I talk to a human?", Intent.HUMAN),
        ("担当者と話したいです", Intent.HUMAN),
        ("What material is the coat made of?", Intent.OTHER),
        ("ラッピングはできますか", Intent.POLICY),
    ],
)
def test_each_intent_is_recognised_in_both_languages(text: str, intent: Intent) -> None:
    assert understand(text).intent is intent


@pytest.mark.parametrize(
    "text",
    [
        "How long does shipping usually take?",
        "送料はいくらですか",
        "Do you ship to the US?",
    ],
)
def test_shipping_policy_questions_are_policy_questions_not_order_status(text: str) -> None:
    # the engine answers them only from a confidently matching policy passage or FAQ entry
    assert understand(text).intent is Intent.POLICY


def test_a_clearance_sale_is_not_answered_automatically() -> None:
    understood = understand("在庫処分セールはいつですか")

    assert understood.intent is Intent.OTHER
    assert not understood.auto_answerable


def test_a_cancel_request_that_names_an_order_is_cancel_not_order_status() -> None:
    understood = understand("Hi, order #1001 — I want to cancel it before it ships")

    assert understood.intent is Intent.CANCEL
    assert understood.order_ref == 1001
    assert not understood.auto_answerable


def test_a_clear_question_is_answered_automatically_and_a_vague_one_is_not() -> None:
    assert understand("Has my order #1001 shipped yet?").confidence >= AUTO_ANSWER_THRESHOLD
    vague = understand("hmm ok")
    assert vague.intent is Intent.OTHER
    assert vague.confidence < AUTO_ANSWER_THRESHOLD
    assert 0.0 <= vague.confidence <= 1.0


def test_typos_in_key_english_words_are_tolerated_and_explained() -> None:
    understood = understand("wher is my pakage, it hasnt arived")

    assert understood.intent is Intent.ORDER_STATUS
    assert "typo:pakage→package" in understood.reasons


def test_real_words_near_a_key_word_are_not_respelled() -> None:
    understood = understand("Is the black backpack back yet?")

    assert understood.intent is Intent.STOCK
    assert not any(reason.startswith("typo:black") for reason in understood.reasons)


@pytest.mark.parametrize(
    ("text", "hints", "refs"),
    [
        ("#1001", ShopHints(), (1001,)),
        ("order 1001 please", ShopHints(), (1001,)),
        ("1001", ShopHints(), (1001,)),
        ("注文番号1001です", ShopHints(), (1001,)),
        ("注文番号は１００１です", ShopHints(), (1001,)),
        ("＃１００２と#1003", ShopHints(), (1002, 1003)),
        ("SHOP-1001-JP はどこ", ShopHints(order_prefix="SHOP-", order_suffix="-JP"), (1001,)),
        ("my order ｓｈｏｐ-１００４-ｊｐ", ShopHints(order_prefix="SHOP-", order_suffix="-JP"), (1004,)),
        ("order AB7001 please", ShopHints(order_prefix="AB"), (7001,)),
    ],
)
def test_order_references_are_read_in_every_spelling(
    text: str, hints: ShopHints, refs: tuple[int, ...]
) -> None:
    assert understand(text, hints=hints).order_refs == refs


@pytest.mark.parametrize(
    "text",
    [
        "I paid 3000円",
        "Size 27cm in stock?",
        "call 090-1234-5678",
        "〒150-0001",
        "2024年に買った",
        "$1200 jacket",
    ],
)
def test_prices_sizes_phones_postal_codes_and_years_are_not_order_references(text: str) -> None:
    assert understand(text).order_refs == ()


def test_emails_phones_and_postal_codes_are_read_in_english() -> None:
    understood = understand(
        "Order 1001, email Ken.Sato@Example.com, phone +81 90 1234 5678, zip code 94107",
        hints=ShopHints(default_region="US"),
    )

    assert understood.emails == ("ken.sato@example.com",)
    assert understood.phones == ("+819012345678",)
    assert understood.postal_codes == ("94107",)
    assert understood.order_refs == (1001,)


def test_emails_phones_and_postal_codes_are_read_in_japanese_with_full_width_digits() -> None:
    understood = understand(
        "メールはｙｕｋｉ＠ｅｘａｍｐｌｅ．ｊｐ、電話は０９０－１２３４－５６７８、〒１５００００１です"
    )

    assert understood.emails == ("yuki@example.jp",)
    assert understood.phones == ("+819012345678",)
    assert understood.postal_codes == ("150-0001",)
    assert understood.language == "ja"


@pytest.mark.parametrize(
    ("text", "postal_codes"),
    [
        ("zip codes 30303, 80202 or 94103", ("30303", "80202", "94103")),
        ("ZIP: 30303 80202", ("30303", "80202")),
        ("郵便番号は1500001か1600022です", ("150-0001", "160-0022")),
        ("〒 150 ー 0001 と １６０ー００２２", ("150-0001", "160-0022")),
        ("postcodes SW1A 1AA / sw1a1aa, EC1A 1BB", ("SW1A 1AA", "EC1A 1BB")),
        ("〒150-0001、郵便番号1500001、150ー0001", ("150-0001",)),
    ],
)
def test_every_postal_code_of_a_message_is_read_once_however_spelled(
    text: str, postal_codes: tuple[str, ...]
) -> None:
    # each is a candidate proof: a list after one cue is every code of it, two spellings are one code
    assert understand(text).postal_codes == postal_codes


def test_emails_and_phones_are_read_once_however_spelled() -> None:
    understood = understand(
        "TARO.SATO@EXAMPLE.COM or taro.sato@example.com, 090-1234-5678 / ０９０１２３４５６７８"
    )

    assert understood.emails == ("taro.sato@example.com",)
    assert understood.phones == ("+819012345678",)
    assert not understood.angry  # an email in capitals is not shouting


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("Is this in size M?", ("M",)),
        ("Do you have it in XL or XXL", ("XL", "XXL")),
        ("Mサイズありますか", ("M",)),
        ("ネイビーのLは？", ("L",)),
        ("27cmと27.5センチ", ("27cm", "27.5cm")),
        ("フリーサイズですか", ("FREE",)),
        ("I'm looking for a hat", ()),
    ],
)
def test_sizes_are_read_in_a_canonical_spelling(text: str, sizes: tuple[str, ...]) -> None:
    assert understand(text).sizes == sizes


@pytest.mark.parametrize(
    ("text", "colours"),
    [
        ("navy or black?", ("navy", "black")),
        ("紺のパーカー", ("navy",)),
        ("ネイビーとブラック", ("navy", "black")),
        ("Grey hoodie, gray socks", ("grey",)),
        ("面白いデザインですね", ()),
        ("delivered on Monday", ()),
    ],
)
def test_colours_are_read_in_english_whatever_the_language(text: str, colours: tuple[str, ...]) -> None:
    assert understand(text).colours == colours


def test_product_mentions_prefer_the_shops_titles() -> None:
    hints = ShopHints(product_titles=("Linen Shirt", "Canvas Tote", "リネンシャツ"))

    assert understand("is the linen shirt in stock?", hints=hints).product_words == ("Linen Shirt",)
    assert understand("リネンシャツの在庫", hints=hints).product_words == ("リネンシャツ",)
    assert understand("do you have hoodies?").product_words == ("hoodie",)


def test_anger_is_flagged_in_both_languages() -> None:
    assert understand("This is ridiculous, where is my order?!").angry
    assert understand("まだ届かない。最悪です").angry
    assert understand("WHERE IS MY ORDER I PAID WEEKS AGO").angry
    assert not understand("Where is my order?").angry


def test_mixed_scripts_reply_in_japanese() -> None:
    understood = understand("order #1018 まだ届いてないです")

    assert understood.language == "ja"
    assert understood.intent is Intent.ORDER_STATUS
    assert understood.order_ref == 1018


def test_the_same_message_is_always_understood_the_same_way() -> None:
    texts = ["注文番号１００１の荷物がまだ届きません", "Is the navy hoodie in stock?", "cancel #5"]

    first = [understand(t) for t in texts]
    second = [understand(t) for t in reversed(texts)]

    assert first == list(reversed(second))


def test_classify_prints_one_json_object_per_message_argument(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["classify", "where is my order #1001", "在庫ありますか？"])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    rows = [json.loads(line) for line in lines]
    assert [row["intent"] for row in rows] == ["order_status", "stock"]
    assert rows[0]["order_ref"] == 1001
    assert rows[1]["order_ref"] is None
    assert all({"confidence", "reasons", "sizes"} <= row.keys() for row in rows)


def test_classify_reads_one_message_per_line_from_stdin() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shop_app.cli", "classify", "--order-prefix", "SHOP-", "--order-suffix=-JP"],
        input="SHOP-2002-JP はいつ届きますか\nDo you have it in XL?\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(row["intent"], row["order_ref"]) for row in rows] == [("order_status", 2002), ("stock", None)]
    assert rows[1]["sizes"] == ["XL"]
