"""What first users tripped over in the bot's reading of a message: a bare postcode taken for an order
number, short status questions handed off, questions about the shop itself, a programme or a change to
an order answered automatically, and ``classify`` not saying whether the bot would answer."""

from __future__ import annotations

import json

import pytest

from shop_app.answers.understanding import Intent, understand
from shop_app.answers.understanding.postcodes import is_japanese_postcode
from shop_app.cli import main


def test_a_bare_seven_digit_japanese_postcode_is_a_postcode_not_an_order_number() -> None:
    bare = understand("1600023")
    in_words = understand("郵便番号は1600023です")

    assert bare.postal_codes == ("160-0023",)
    assert bare.order_refs == ()
    assert in_words.postal_codes == ("160-0023",)
    assert in_words.order_refs == ()


def test_seven_digits_that_are_no_postcode_or_are_cued_as_an_order_stay_an_order_number() -> None:
    assert is_japanese_postcode("1600023")
    assert not is_japanese_postcode("1234567")
    assert understand("1234567").order_refs == (1234567,)
    assert understand("注文番号1600023の状況は？").order_refs == (1600023,)
    assert understand("order #1600023").postal_codes == ()


def test_an_order_number_beside_a_hyphenated_postcode_keeps_both() -> None:
    understood = understand("#1004 160-0023")

    assert understood.order_refs == (1004,)
    assert understood.postal_codes == ("160-0023",)


@pytest.mark.parametrize(
    "text",
    ["郵便番号は10001です", "My zip code is 10001", "zip: 10001", "郵便番号：10001-4321でお願いします"],
)
def test_a_us_zip_is_read_as_a_postcode_in_japanese_as_in_english(text: str) -> None:
    understood = understand(text)

    assert understood.postal_codes[0].startswith("10001")
    assert understood.order_refs == ()


@pytest.mark.parametrize(
    "text",
    ["#1004の状況は？", "status of #1004?", "#1004 どうなってますか", "#1004 status?", "注文1004の状態は？"],
)
def test_short_status_questions_with_an_order_number_are_order_status_questions(text: str) -> None:
    understood = understand(text)

    assert understood.intent is Intent.ORDER_STATUS
    assert understood.order_ref == 1004
    assert understood.auto


@pytest.mark.parametrize(
    "text",
    [
        "Is there a shop in Kyoto I can visit?",
        "Do you have a rewards program?",
        "京都に店舗はありますか？",
        "ポイント制度はありますか",
    ],
)
def test_the_shop_itself_or_a_programme_is_a_policy_question_not_stock(text: str) -> None:
    # answered only from the shop's FAQ entries or policies, when one matches confidently
    assert understand(text).intent is Intent.POLICY


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Can I add an item to my order #1004?", Intent.ORDER_CHANGE),
        ("Could you change the size on my order from M to L before it ships?", Intent.ORDER_CHANGE),
        ("注文#1004に商品を追加できますか？", Intent.ORDER_CHANGE),
        ("注文したTシャツのサイズをMからLに変更できますか", Intent.ORDER_CHANGE),
    ],
)
def test_a_change_to_an_order_is_for_a_person(text: str, intent: Intent) -> None:
    understood = understand(text)

    assert understood.intent is intent
    assert not understood.auto


def test_a_stock_question_at_a_named_store_is_still_a_stock_question() -> None:
    understood = understand("Is the tote bag in stock at the Osaka shop?")

    assert understood.intent is Intent.STOCK
    assert understood.auto


def test_classify_says_whether_the_bot_would_answer_by_itself(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "classify",
            "Where is my order #1001?",
            "What material is the coat made of?",
            "This is ridiculous, where is my order #1001??",
            "hmm",
            "What is your return policy?",
        ]
    )

    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert [row["auto"] for row in rows] == [True, False, False, False, True]
    assert rows[4]["intent"] == "policy"
    assert list(rows[0])[:3] == ["intent", "confidence", "auto"]
