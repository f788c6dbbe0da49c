"""A new conversation's subject: what it is about in the shop's language with the order it names, or its
first sentence trimmed; never the whole first message repeated. The demo's conversations get the same."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from shop_app.answers.shop_cache import forget_shop
from shop_app.answers.ticket_subjects import subject_from_message
from shop_app.answers.understanding.model import ShopHints
from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.dev.seed import seed_demo_tickets
from shop_app.formats.ticket_subjects import ELLIPSIS, SUBJECT_MAX_CHARS, first_sentence, ticket_subject
from shop_app.models import Contact, Customer, Order, Shop, Ticket
from shop_app.settings import Settings

HINTS = ShopHints(default_region="JP")


@pytest.mark.parametrize(
    ("message", "ja", "en"),
    [
        ("注文#1004はいつ届きますか？", "配送状況の確認 #1004", "Order status #1004"),
        ("Where is my order #1004?", "配送状況の確認 #1004", "Order status #1004"),
        ("Hi, my parcel has not arrived yet. Could you check where it is?", "配送状況の確認", "Order status"),
        ("Do you have the navy T-shirt in size M?", "在庫の確認", "Stock question"),
        ("担当者と話したいです", "担当者との対応を希望", "Asks for a person"),
        ("返品したいです。サイズが合いませんでした", "返品・交換", "Return or exchange"),
    ],
)
def test_a_subject_says_what_the_message_is_about_in_the_shops_language(
    message: str, ja: str, en: str
) -> None:
    assert subject_from_message(message, hints=HINTS, locale="ja") == ja
    assert subject_from_message(message, hints=HINTS, locale="en-US") == en
    assert ja != message and en != message


def test_the_order_takes_the_shops_own_name_format() -> None:
    hints = ShopHints(order_prefix="HN-", default_region="JP")
    assert (
        subject_from_message("注文HN-1004はいつ届きますか？", hints=hints, locale="ja")
        == "配送状況の確認 HN-1004"
    )


def test_another_question_keeps_its_first_sentence_trimmed() -> None:
    message = (
        "Is there a shop in Kyoto I can visit when I travel there next spring with my family? "
        "We would love to try the tea."
    )
    subject = subject_from_message(message, hints=HINTS, locale="en")
    assert subject == "Is there a shop in Kyoto I can visit…"


@pytest.mark.parametrize(
    ("message", "subject"),
    [
        ("先日注文した商品が届きません。確認してください", "先日注文した商品が届きません。"),
        ("\n\n  hello\tworld  \nsecond line", "hello world"),
        ("Thanks. Bye", "Thanks."),
        ("v1.2 of the app", "v1.2 of the app"),
        ("あ" * 100, "あ" * (SUBJECT_MAX_CHARS - 1) + ELLIPSIS),
        ("   \n\t ", ""),
    ],
)
def test_a_first_sentence_is_one_trimmed_line(message: str, subject: str) -> None:
    assert first_sentence(message) == subject
    assert ticket_subject(message) == subject


@given(st.text(max_size=400))
def test_any_first_message_gives_one_short_line_from_its_start(message: str) -> None:
    subject = first_sentence(message)
    assert len(subject) <= SUBJECT_MAX_CHARS
    assert "\n" not in subject and "\r" not in subject
    assert subject == subject.strip()
    assert not any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in subject)
    # taken from the message's start, with invisible characters read as spaces
    plain = "".join(
        " " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in message
    )
    assert subject.removesuffix(ELLIPSIS).rstrip() in " ".join(plain.split())


async def test_the_demo_conversations_have_subjects_and_family_name_first(settings: Settings) -> None:
    # given: a Japanese shop whose first sync mirrored two customers with orders
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        shop = Shop(domain="hinode.myshopify.com", primary_locale="ja", country_code="JP")
        session.add(shop)
        await session.flush()
        assert shop.id is not None
        for number, (first, last) in enumerate((("恵", "井上"), ("翔太", "中村")), start=1):
            session.add(
                Customer(
                    shop_id=shop.id,
                    shopify_id=number,
                    first_name=first,
                    last_name=last,
                    email=f"c{number}@example.jp",
                    created_at=now,
                    updated_at=now,
                )
            )
            session.add(
                Order(
                    shop_id=shop.id,
                    shopify_id=100 + number,
                    name=f"#{1000 + number}",
                    customer_shopify_id=number,
                    created_at=now - timedelta(days=1),
                    updated_at=now,
                )
            )
    forget_shop(shop.id)
    # when: the demo seeds its conversations
    await seed_demo_tickets(settings, ("hinode.myshopify.com",))
    # then: subjects in the shop's language that are not the first message, names family name first
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Ticket.subject, Contact.name)
                .join(Contact, col(Contact.id) == col(Ticket.contact_id))
                .order_by(col(Ticket.id))
            )
        ).all()
    await engine.dispose()
    # (the three conversations the demo opens come first; a month of history follows them)
    assert [tuple(row) for row in rows[:3]] == [
        ("配送状況の確認", "井上 恵"),
        ("配送状況の確認", "中村 翔太"),
        ("在庫の確認", "Guest"),
    ]
