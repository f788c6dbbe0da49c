"""The bot's replies as templates: defaults in code for English and polite Japanese, a shop's own wording
stored per key and language. Rendered by Jinja2's sandbox as plain text; a variable a template names but
the reply does not have is an error, so a bad template is refused when it is saved, never sent."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.answers.shop_cache import forget_shop
from shop_app.errors import BadRequest, Unprocessable
from shop_app.models import ReplyTemplate, Shop
from shop_app.models.answers import LANGUAGES, MAX_TEMPLATE_CHARS, TemplateGroup, TemplateKey
from shop_app.models.base import utcnow

log = logging.getLogger(__name__)

_TRACKING_EN = "{% if tracking_text %}\n\n{{ tracking_text }}\n{% endif %}"
_TRACKING_JA = _TRACKING_EN
_CLOSE_EN = "Let us know if there is anything else we can help with."
_CLOSE_JA = "ほかにご不明な点がございましたら、お気軽にお知らせください。"
# The delivery day and time slot asked for at checkout (配送希望日・時間帯), where the order has one.
_REQUESTED_EN = "{% if requested_delivery %} Requested delivery: {{ requested_delivery }}.{% endif %}"
_REQUESTED_JA = "{% if requested_delivery %}（ご希望のお届け日時：{{ requested_delivery }}）{% endif %}"

DEFAULTS: dict[tuple[TemplateKey, str], str] = {
    (TemplateKey.ORDER_UNFULFILLED, "en"): (
        "Thank you for your order {{ order_name }}. It has not shipped yet"
        "{% if ship_date %}; we expect to ship it on {{ ship_date }}{% endif %}." + _REQUESTED_EN + " "
        "We will email you the tracking details as soon as it leaves our warehouse."
    ),
    (TemplateKey.ORDER_UNFULFILLED, "ja"): (
        "ご注文{{ order_name }}をありがとうございます。現在、発送の準備を進めております。"
        "{% if ship_date %}{{ ship_date }}に発送の予定です。{% endif %}" + _REQUESTED_JA + ""
        "発送いたしましたら、追跡番号をメールでお知らせします。"
    ),
    (TemplateKey.ORDER_ON_HOLD, "en"): (
        "Your order {{ order_name }} is on hold for the moment, so it has not shipped yet. "
        "A member of our team will contact you about it shortly."
    ),
    (TemplateKey.ORDER_ON_HOLD, "ja"): (
        "ご注文{{ order_name }}は現在、発送を一時保留しております。"
        "担当者より改めてご連絡いたしますので、少々お待ちください。"
    ),
    (TemplateKey.ORDER_PARTIALLY_SHIPPED, "en"): (
        "Part of your order {{ order_name }} has shipped; the rest will follow"
        "{% if ship_date %} (expected to ship on {{ ship_date }}){% endif %}."
        + _REQUESTED_EN
        + _TRACKING_EN
        + _CLOSE_EN
    ),
    (TemplateKey.ORDER_PARTIALLY_SHIPPED, "ja"): (
        "ご注文{{ order_name }}の商品の一部を発送いたしました。残りの商品は準備ができ次第お送りします"
        "{% if ship_date %}（{{ ship_date }}発送予定）{% endif %}。"
        + _REQUESTED_JA
        + _TRACKING_JA
        + _CLOSE_JA
    ),
    (TemplateKey.ORDER_LABEL_CREATED, "en"): (
        "Your order {{ order_name }} is packed and its shipping label has been created; "
        "the carrier will pick it up soon."
        + _REQUESTED_EN
        + _TRACKING_EN
        + "Tracking updates may take a day to appear."
    ),
    (TemplateKey.ORDER_LABEL_CREATED, "ja"): (
        "ご注文{{ order_name }}は梱包が完了し、送り状を発行いたしました。まもなく配送業者へお渡しします。"
        + _REQUESTED_JA
        + _TRACKING_JA
        + "追跡情報の反映まで1日ほどかかる場合がございます。"
    ),
    (TemplateKey.ORDER_IN_TRANSIT, "en"): (
        "Your order {{ order_name }} has shipped and is on its way"
        "{% if eta %}; it should arrive by {{ eta }}{% endif %}." + _REQUESTED_EN + _TRACKING_EN + _CLOSE_EN
    ),
    (TemplateKey.ORDER_IN_TRANSIT, "ja"): (
        "ご注文{{ order_name }}は発送済みで、現在お届けに向かっております"
        "{% if eta %}（{{ eta }}お届け予定）{% endif %}。" + _REQUESTED_JA + _TRACKING_JA + _CLOSE_JA
    ),
    (TemplateKey.ORDER_OUT_FOR_DELIVERY, "en"): (
        "Good news: your order {{ order_name }} is out for delivery today."
        + _REQUESTED_EN
        + _TRACKING_EN
        + _CLOSE_EN
    ),
    (TemplateKey.ORDER_OUT_FOR_DELIVERY, "ja"): (
        "ご注文{{ order_name }}は本日配達中です。まもなくお届けいたします。"
        + _REQUESTED_JA
        + _TRACKING_JA
        + _CLOSE_JA
    ),
    (TemplateKey.ORDER_DELIVERED, "en"): (
        "Your order {{ order_name }} was delivered{% if delivered_on %} on {{ delivered_on }}{% endif %}. "
        "If you have not received it, reply here and a member of our team will look into it."
    ),
    (TemplateKey.ORDER_DELIVERED, "ja"): (
        "ご注文{{ order_name }}は{% if delivered_on %}{{ delivered_on }}に{% endif %}配達が完了しております。"
        "お受け取りになっていない場合は、こちらにご返信ください。担当者がお調べいたします。"
    ),
    (TemplateKey.ORDER_DELAYED, "en"): (
        "We are sorry: the delivery of your order {{ order_name }} is delayed."
        + _REQUESTED_EN
        + _TRACKING_EN
        + ""
        "A member of our team will check with the carrier and get back to you."
    ),
    (TemplateKey.ORDER_DELAYED, "ja"): (
        "大変申し訳ございません。ご注文{{ order_name }}のお届けに遅れが生じております。"
        + _REQUESTED_JA
        + _TRACKING_JA
        + "担当者が配送業者に確認のうえ、改めてご連絡いたします。"
    ),
    (TemplateKey.ORDER_LATE, "en"): (
        "We are sorry: your order {{ order_name }} "
        "{% if shipped %}was expected to arrive by {{ expected_on }} and has not arrived yet."
        "{% else %}was due to ship on {{ expected_on }} and has not shipped yet.{% endif %}"
        "{% if last_event %} The latest tracking update: {{ last_event }}"
        "{% if last_event_on %} ({{ last_event_on }}){% endif %}.{% endif %}"
        + _REQUESTED_EN
        + _TRACKING_EN
        + "A member of our team is looking into it now and will get back to you here."
    ),
    (TemplateKey.ORDER_LATE, "ja"): (
        "大変申し訳ございません。ご注文{{ order_name }}は"
        "{% if shipped %}{{ expected_on }}にお届けの予定でしたが、まだお届けできておりません。"
        "{% else %}{{ expected_on }}に発送の予定でしたが、まだ発送できておりません。{% endif %}"
        "{% if last_event %}最新の配送状況は「{{ last_event }}」"
        "{% if last_event_on %}（{{ last_event_on }}）{% endif %}です。{% endif %}"
        + _REQUESTED_JA
        + _TRACKING_JA
        + "担当者が確認のうえ、こちらで改めてご連絡いたします。"
    ),
    (TemplateKey.ORDER_FAILED_ATTEMPT, "en"): (
        "We are sorry: the carrier could not deliver your order {{ order_name }}." + _TRACKING_EN + ""
        "You can arrange redelivery with the carrier using the link above; "
        "a member of our team will also get in touch."
    ),
    (TemplateKey.ORDER_FAILED_ATTEMPT, "ja"): (
        "申し訳ございません。ご注文{{ order_name }}は、配送業者がお届けできずに持ち戻っております。"
        + _TRACKING_JA
        + "上記のリンクから再配達のご依頼が可能です。担当者からも改めてご連絡いたします。"
    ),
    (TemplateKey.ORDER_CANCELLED, "en"): (
        "Your order {{ order_name }} was cancelled{% if cancelled_on %} on {{ cancelled_on }}{% endif %}. "
        "If you did not expect this, reply here and a member of our team will help."
    ),
    (TemplateKey.ORDER_CANCELLED, "ja"): (
        "ご注文{{ order_name }}は{% if cancelled_on %}{{ cancelled_on }}に{% endif %}"
        "キャンセルされております。"
        "お心当たりがない場合は、こちらにご返信ください。担当者が確認いたします。"
    ),
    (TemplateKey.ORDER_REFUNDED, "en"): (
        "Your order {{ order_name }} has been refunded"
        "{% if refunded_amount %} ({{ refunded_amount }}){% endif %}. "
        "Depending on your card issuer, it can take a few days to show on your statement."
    ),
    (TemplateKey.ORDER_REFUNDED, "ja"): (
        "ご注文{{ order_name }}は返金の手続きが完了しております"
        "{% if refunded_amount %}（{{ refunded_amount }}）{% endif %}。"
        "カード会社によっては、明細への反映まで数日かかる場合がございます。"
    ),
    (TemplateKey.STOCK_IN_STOCK, "en"): (
        "{{ item }} is in stock{% if location %} at {{ location }}{% endif %}"
        "{% if available is not none %} ({{ available }} available){% endif %}."
    ),
    (TemplateKey.STOCK_IN_STOCK, "ja"): (
        "{{ item }}は{% if location %}{{ location }}に{% endif %}在庫がございます"
        "{% if available is not none %}（残り{{ available }}点）{% endif %}。"
    ),
    (TemplateKey.STOCK_LOW, "en"): (
        "{{ item }} is in stock{% if location %} at {{ location }}{% endif %}, but only "
        "{% if available is not none %}{{ available }}{% else %}a few{% endif %} left."
    ),
    (TemplateKey.STOCK_LOW, "ja"): (
        "{{ item }}は{% if location %}{{ location }}に{% endif %}在庫がございますが、"
        "残りわずか{% if available is not none %}（{{ available }}点）{% endif %}です。"
    ),
    (TemplateKey.STOCK_SOLD_OUT, "en"): (
        "Sorry, {{ item }} is sold out{% if location %} at {{ location }}{% endif %} at the moment."
    ),
    (TemplateKey.STOCK_SOLD_OUT, "ja"): (
        "申し訳ございません。{{ item }}は{% if location %}{{ location }}では{% endif %}現在在庫切れです。"
    ),
    (TemplateKey.STOCK_BACKORDER, "en"): (
        "{{ item }} is out of stock right now, but you can still order it; "
        "we will ship it as soon as it is back in stock."
    ),
    (TemplateKey.STOCK_BACKORDER, "ja"): (
        "{{ item }}は現在在庫切れですが、ご注文いただけます。入荷次第、順次発送いたします。"
    ),
    (TemplateKey.STOCK_RESTOCK, "en"): (
        "{{ item }} is sold out at the moment, but a restock is on its way"
        "{% if incoming is not none %} ({{ incoming }} incoming){% endif %}."
    ),
    (TemplateKey.STOCK_RESTOCK, "ja"): (
        "{{ item }}は現在在庫切れですが、再入荷を予定しております"
        "{% if incoming is not none %}（入荷予定{{ incoming }}点）{% endif %}。"
    ),
    (TemplateKey.STOCK_UNKNOWN, "en"): "We could not check the stock of {{ item }} just now.",
    (TemplateKey.STOCK_UNKNOWN, "ja"): "申し訳ございません。{{ item }}の在庫を確認できませんでした。",
    (TemplateKey.STOCK_ASK_VARIANT, "en"): (
        "Which {{ product }} would you like?{% for option in options %} "
        "{{ option.name }}: {{ option['values'] | join(', ') }}.{% endfor %}"
    ),
    (TemplateKey.STOCK_ASK_VARIANT, "ja"): (
        "{{ product }}のご希望をお知らせください。{% for option in options %}"
        "{{ option.name }}：{{ option['values'] | join('、') }}。{% endfor %}"
    ),
    (TemplateKey.STOCK_ASK_PRODUCT, "en"): (
        "Which product do you mean?{% if products %} {{ products | join(', ') }}{% endif %}"
    ),
    (TemplateKey.STOCK_ASK_PRODUCT, "ja"): (
        "どちらの商品についてのお問い合わせでしょうか。"
        "{% if products %}{{ products | join('、') }}{% endif %}"
    ),
    (TemplateKey.ASK_ORDER_NUMBER, "en"): (
        "I can check that for you. Please send your order number (for example {{ example_order }}) "
        "and the email address, phone number or postal code used for the order."
    ),
    (TemplateKey.ASK_ORDER_NUMBER, "ja"): (
        "お調べいたします。ご注文番号（例：{{ example_order }}）と、ご注文時のメールアドレス・電話番号・"
        "郵便番号のいずれかをお送りください。"
    ),
    (TemplateKey.ASK_VERIFICATION, "en"): (
        "To protect your details, please also send the email address, phone number or postal code "
        "used for order {{ order_name }}."
    ),
    (TemplateKey.ASK_VERIFICATION, "ja"): (
        "お客様情報保護のため、ご注文{{ order_name }}の際のメールアドレス・電話番号・郵便番号のいずれかを"
        "あわせてお送りください。"
    ),
    (TemplateKey.VERIFICATION_FAILED, "en"): (
        "Sorry, we could not confirm that order with those details. "
        "Please check the order number and the email address, phone number or postal code."
    ),
    (TemplateKey.VERIFICATION_FAILED, "ja"): (
        "申し訳ございません。いただいた情報ではご注文を確認できませんでした。"
        "ご注文番号と、メールアドレス・電話番号・郵便番号をご確認のうえ、もう一度お送りください。"
    ),
    (TemplateKey.CHOOSE_ORDER, "en"): (
        "Which order do you mean?{% for order in orders %}{{ '\\n' }}"
        "- {{ order.name }} ({{ order.ordered_on }})"
        "{% endfor %}"
    ),
    (TemplateKey.CHOOSE_ORDER, "ja"): (
        "どちらのご注文についてのお問い合わせでしょうか。{% for order in orders %}{{ '\\n' }}"
        "・{{ order.name }}（{{ order.ordered_on }}ご注文）{% endfor %}"
    ),
    (TemplateKey.POLICY_ANSWER, "en"): "{{ quote }}{% if url %}\n\nDetails: {{ url }}{% endif %}",
    (TemplateKey.POLICY_ANSWER, "ja"): (
        "{{ quote }}{% if url %}\n\n詳しくはこちらをご覧ください：{{ url }}{% endif %}"
    ),
    (TemplateKey.POLICY_RETURN_WINDOW, "en"): (
        "Order {{ order_name }} was delivered on {{ delivered_on }}. Returns are accepted within "
        "{{ days }} days of delivery, so you can return it until {{ until }}. If you would like to "
        "return it, reply here and we will help.{% if url %}\n\nDetails: {{ url }}{% endif %}"
    ),
    (TemplateKey.POLICY_RETURN_WINDOW, "ja"): (
        "ご注文{{ order_name }}は{{ delivered_on }}にお届けしております。返品はお届けから{{ days }}日以内、"
        "{{ until }}まで承ります。返品をご希望の場合は、こちらにご返信ください。"
        "{% if url %}\n\n詳しくはこちらをご覧ください：{{ url }}{% endif %}"
    ),
    (TemplateKey.HANDOFF, "en"): (
        "Thank you for your message. A member of our team will reply here as soon as possible."
    ),
    (TemplateKey.HANDOFF, "ja"): (
        "お問い合わせありがとうございます。担当者より順次ご返信いたしますので、少々お待ちください。"
    ),
}

_SAMPLE_TRACKING = "Yamato Transport 4444-1375-8703\nhttps://example.com/track?id=444413758703"
SAMPLES: dict[TemplateGroup, dict[str, Any]] = {
    TemplateGroup.ORDER: {
        "shop_name": "Example Shop",
        "order_name": "#1001",
        "ordered_on": "2026/11/20",
        "ship_date": "2026/11/24",
        "eta": "2026/11/26",
        "delivered_on": "2026/11/26",
        "cancelled_on": None,
        "refunded_amount": "¥3,300",
        "shipments": [{"carrier": "Yamato Transport", "tracking": [{"number": "444413758703", "url": None}]}],
        "tracking_text": _SAMPLE_TRACKING,
        "shipped": True,
        "expected_on": "2026/11/26",
        "last_event": "On the way",
        "last_event_on": "2026/11/25",
        "requested_delivery": "2026/11/26 14時〜16時",
        "requested_delivery_date": "2026/11/26",
        "requested_delivery_slot": "14時〜16時",
    },
    TemplateGroup.STOCK: {
        "shop_name": "Example Shop",
        "item": "T-shirt (M / Navy)",
        "product": "T-shirt",
        "variant": "M / Navy",
        "available": 12,
        "incoming": 20,
        "location": None,
        "options": [{"name": "Size", "values": ["S", "M", "L"]}],
        "products": ["T-shirt", "Long-sleeve T-shirt"],
    },
    TemplateGroup.GENERAL: {
        "shop_name": "Example Shop",
        "order_name": "#1001",
        "example_order": "#1001",
        "orders": [
            {"name": "#1001", "ordered_on": "2026/11/20"},
            {"name": "#1002", "ordered_on": "2026/11/21"},
        ],
        "quote": "Items can be returned within 30 days of delivery.",
        "delivered_on": "2026/11/20",
        "days": 30,
        "until": "2026/12/20",
        "source_title": "Refund policy",
        "url": "https://example.com/policies/refund-policy",
    },
}

_ENVIRONMENT = SandboxedEnvironment(
    undefined=StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


class TemplateRefused(Unprocessable):
    def __init__(self, problem: str) -> None:
        super().__init__(f"The template cannot be used: {problem}", code="invalid_template")
        self.problem = problem


def parse_key(key: str, language: str) -> tuple[TemplateKey, str]:
    try:
        chosen = TemplateKey(key)
    except ValueError:
        raise BadRequest(f"Unknown template '{key}'", code="unknown_template") from None
    if language not in LANGUAGES:
        raise BadRequest("The language is ja or en", code="unknown_language")
    return chosen, language


@lru_cache(maxsize=512)
def _compiled(body: str) -> Template:
    return _ENVIRONMENT.from_string(body)


def render(body: str, context: Mapping[str, Any]) -> str:
    """The text of a template; a Jinja error (syntax, undefined name, sandbox) is ``TemplateRefused``."""
    try:
        text = _compiled(body).render(**context)
    except TemplateError as error:
        raise TemplateRefused(str(error.message or error)) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as error:
        raise TemplateRefused(str(error)) from None
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def check_template(key: TemplateKey, body: str) -> str:
    """Renders against a sample reply of the key's kind; returns the sample text or raises."""
    if not body.strip():
        raise TemplateRefused("the template is empty")
    if len(body) > MAX_TEMPLATE_CHARS:
        raise TemplateRefused(f"the template is longer than {MAX_TEMPLATE_CHARS} characters")
    return render(body, SAMPLES[key.group])


async def shop_templates(
    session: AsyncSession, *, shop_id: int, language: str | None = None
) -> dict[tuple[str, str], str]:
    statement = select(col(ReplyTemplate.key), col(ReplyTemplate.language), col(ReplyTemplate.body)).where(
        col(ReplyTemplate.shop_id) == shop_id
    )
    if language is not None:
        statement = statement.where(col(ReplyTemplate.language) == language)
    rows = await session.execute(statement)
    return {(key, lang): body for key, lang, body in rows}


def render_reply(
    key: TemplateKey, language: str, context: Mapping[str, Any], *, overrides: Mapping[tuple[str, str], str]
) -> str:
    """The shop's wording when it renders, else the default (a stored template that fails on a real reply
    is logged and replaced, so the shopper still gets an answer)."""
    own = overrides.get((key.value, language))
    if own is not None:
        try:
            return render(own, context)
        except TemplateRefused:
            log.warning("reply template failed at send key=%s language=%s", key.value, language)
    return render(DEFAULTS[(key, language)], context)


async def save_template(
    session: AsyncSession, *, shop: Shop, key: str, language: str, body: str
) -> ReplyTemplate:
    chosen, lang = parse_key(key, language)
    check_template(chosen, body)
    assert shop.id is not None
    row = (
        await session.execute(
            select(ReplyTemplate).where(
                col(ReplyTemplate.shop_id) == shop.id,
                col(ReplyTemplate.key) == chosen.value,
                col(ReplyTemplate.language) == lang,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = ReplyTemplate(shop_id=shop.id, key=chosen.value, language=lang, body=body)
        session.add(row)
    row.body = body
    row.updated_at = utcnow()
    await session.flush()
    forget_shop(shop.id)
    return row


async def delete_template(session: AsyncSession, *, shop: Shop, key: str, language: str) -> None:
    chosen, lang = parse_key(key, language)
    row = (
        await session.execute(
            select(ReplyTemplate).where(
                col(ReplyTemplate.shop_id) == shop.id,
                col(ReplyTemplate.key) == chosen.value,
                col(ReplyTemplate.language) == lang,
            )
        )
    ).scalar_one_or_none()
    if row is not None:
        await session.delete(row)
        await session.flush()
        assert shop.id is not None
        forget_shop(shop.id)
