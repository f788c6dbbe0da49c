"""Reply templates: defaults for every reply in English and polite Japanese; a shop's own wording is
stored per key and language and used in replies; a template that does not render (syntax, an unknown
variable, reaching outside the sandbox) is refused with the error; a preview renders against a real
order of the shop."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shop_app.answers import (
    DEFAULTS,
    LANGUAGES,
    TemplateKey,
    TemplateRefused,
    Trust,
    check_template,
    preview_template,
    save_template,
    shop_templates,
)
from shop_app.database import transaction
from shop_app.errors import NotFound
from shop_app.models import DecisionAction
from tests.answers.answer_world import HANAKO, World, world

__all__ = ["world"]

SIGNED_IN = Trust(storefront_customer_id=HANAKO, source="ip:198.51.100.4")
IN_TRANSIT = [
    {"display_status": "IN_TRANSIT", "tracking": [{"number": "444413758703", "company": "ヤマト運輸"}]}
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", list(TemplateKey))
def test_every_default_renders_and_japanese_is_polite(key: TemplateKey, language: str) -> None:
    text = check_template(key, DEFAULTS[(key, language)])

    assert text.strip()
    assert "{{" not in text
    assert "{%" not in text
    if language == "ja":
        assert any(
            polite in text for polite in ("です", "ます", "ください", "ございません", "でした", "でしょうか")
        ), text


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("Your order {{ order_name }", "unexpected"),
        ("Your order {{ tracking_number }}", "'tracking_number' is undefined"),
        ("{{ order_name.__class__.__mro__ }}", "unsafe"),
        ("{% for x in shipments %}{{ x }}", "for"),
        ("   ", "empty"),
    ],
)
def test_a_bad_template_is_refused_with_its_error(body: str, problem: str) -> None:
    with pytest.raises(TemplateRefused) as refused:
        check_template(TemplateKey.ORDER_IN_TRANSIT, body)

    assert problem in refused.value.problem
    assert refused.value.http_status == 422


def test_a_stock_variable_in_an_order_template_is_refused() -> None:
    with pytest.raises(TemplateRefused, match="'item' is undefined"):
        check_template(TemplateKey.ORDER_IN_TRANSIT, "{{ item }} is on its way")


@pytest.mark.anyio
async def test_the_shops_own_wording_is_used_in_its_replies_only(world: World) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)
    await world.add_order(1001, shop=world.beta, customer=HANAKO, shipments=IN_TRANSIT)
    async with transaction(world.sessions) as session:
        await save_template(
            session,
            shop=world.alpha,
            key="order_in_transit",
            language="en",
            body="Hi from {{ shop_name }}! {{ order_name }} is moving.\n{{ tracking_text }}",
        )

    alpha, _ = await world.ask("Where is my order #1001?", trust=SIGNED_IN)
    alpha_ja, _ = await world.ask("注文番号1001の配送状況を教えてください", trust=SIGNED_IN)
    beta, _ = await world.ask("Where is my order #1001?", trust=SIGNED_IN, shop=world.beta)

    assert alpha.action == DecisionAction.REPLY
    assert alpha.reply is not None
    assert alpha.reply.startswith(
        "Hi from Alpha! #1001 is moving.\nYamato Transport tracking number: 444413758703"
    )
    assert alpha_ja.reply == alpha_ja.reply and "お届けに向かっております" in (alpha_ja.reply or "")
    assert beta.reply is not None
    assert "Your order #1001 has shipped" in beta.reply


@pytest.mark.anyio
async def test_saving_a_bad_template_stores_nothing(world: World) -> None:
    with pytest.raises(TemplateRefused):
        async with transaction(world.sessions) as session:
            await save_template(session, shop=world.alpha, key="handoff", language="ja", body="{{ nope }}")

    async with world.sessions() as session:
        assert await shop_templates(session, shop_id=world.alpha.id or 0) == {}


@pytest.mark.anyio
async def test_preview_renders_against_a_real_order_of_the_shop(world: World) -> None:
    order = await world.add_order(
        1001,
        shipments=[{**IN_TRANSIT[0], "estimated_delivery_at": datetime(2026, 11, 24, 16, 0, tzinfo=UTC)}],
    )
    other = await world.add_order(1002, shop=world.beta)
    body = "{{ order_name }} / {{ eta }} / {{ shipments[0].tracking[0].url }}"

    async with world.sessions() as session:
        text = await preview_template(
            session,
            shop=world.alpha,
            key="order_in_transit",
            language="ja",
            body=body,
            order_id=order.shopify_id,
        )
        with pytest.raises(NotFound):
            await preview_template(
                session,
                shop=world.alpha,
                key="order_in_transit",
                language="ja",
                body=body,
                order_id=other.shopify_id,
            )
        with pytest.raises(TemplateRefused, match="'nope' is undefined"):
            await preview_template(
                session,
                shop=world.alpha,
                key="order_in_transit",
                language="en",
                body="{{ nope }}",
                order_id=order.shopify_id,
            )

    assert text == (
        "#1001 / 2026/11/25 / https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id=444413758703"
    )
