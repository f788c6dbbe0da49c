# ruff: noqa: F811 - tests take the imported `desk` fixture by name
"""Issue 12's attack through the real widget: an anonymous visitor names an order number with a list of
postal codes, one of which is the order's, and walks the order numbers. Requests are signed the way the
simulated store's app proxy signs them and go into the running app; the shop holds fifty orders in transit
or refunded, with dates, amounts, a carrier and tracking numbers. No reply may carry any of them, and the
guessing is cut off per address and across the shop."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from sqlmodel import col

from devstore.app_proxy import signed_proxy_query
from shop_app.answers import forget_shop_cache
from shop_app.answers.templates import DEFAULTS
from shop_app.answers.verification import MAX_FAILED_ATTEMPTS_PER_SHOP, MAX_FAILED_ATTEMPTS_PER_SOURCE
from shop_app.database import transaction
from shop_app.formats.display import formatter
from shop_app.models import BotDecision, Fulfillment, Order, Shop
from shop_app.models.answers import TemplateKey
from tests.helpdesk.conftest import ALPHA, Desk, desk  # noqa: F401 - registers the fixture

pytestmark = pytest.mark.anyio

PROXY = "/proxy/support"
FIRST_ORDER = 1001
ORDER_COUNT = 50
# fifty distinct five-digit ZIP codes, one per order
ZIPS = [f"{(30303 + 1237 * i) % 90000 + 10000:05d}" for i in range(ORDER_COUNT)]
CARRIER = "UPS"
_nonce = itertools.count()


@dataclass(frozen=True)
class Seeded:
    number: int
    zip_code: str
    email: str
    details: tuple[str, ...]  # the texts a reply names this order by: tracking number, dates, amount


def _query(desk: Desk, customer_id: int | None = None) -> str:
    # a nonce per request: each request is signed afresh, as the store signs each one
    pairs = signed_proxy_query(
        [("n", str(next(_nonce)))],
        shop=ALPHA,
        customer_id=customer_id,
        path_prefix="/apps/support",
        now=time.time(),
        secret=desk.services.settings.api_secret.reveal(),
    )
    return urlencode(pairs)


async def _start(desk: Desk, message: str, *, address: str, customer_id: int | None = None) -> list[str]:
    """A new widget conversation from ``address``; the bot's replies."""
    answer = await desk.client.post(
        f"{PROXY}/conversations?{_query(desk, customer_id)}",
        json={"message": message},
        headers={"X-Forwarded-For": address},
    )
    assert answer.status_code == 201, answer.text
    return [m["body"] for m in answer.json()["messages"] if m["author"] == "bot"]


async def _seed_orders(desk: Desk) -> list[Seeded]:
    now = datetime.now(UTC)
    seeded: list[Seeded] = []
    shop_id = desk.shop_ids[ALPHA]
    async with transaction(desk.services.sessions) as session:
        shop = await session.get_one(Shop, shop_id)
        shop.name, shop.country_code, shop.currency_code = "Alpha", "US", "USD"
        shop.iana_timezone, shop.primary_locale = "America/New_York", "en"
        for index, zip_code in enumerate(ZIPS):
            number = FIRST_ORDER + index
            refunded = index % 5 == 4
            ordered = now - timedelta(days=3 + index)  # every date its own: a date names its order
            eta = now + timedelta(days=2 + index)
            refund = Decimal(f"{100 + index}.{index:02d}")
            tracking = f"1Z{number}X{index:04d}"
            order = Order(
                shop_id=shop_id,
                shopify_id=90_000 + number,
                name=f"#{number}",
                number=number,
                customer_shopify_id=70_000 + number,
                email=f"buyer{number}@example.com",
                created_at=ordered,
                updated_at=ordered,
                financial_status="REFUNDED" if refunded else "PAID",
                fulfillment_status="FULFILLED",
                currency="USD",
                total_price=str(refund),
                total_refunded=str(refund) if refunded else None,
                shipping_address={"zip": zip_code, "country_code": "US"},
            )
            session.add(order)
            await session.flush()
            assert order.id is not None
            session.add(
                Fulfillment(
                    shop_id=shop_id,
                    shopify_id=80_000 + number,
                    order_id=order.id,
                    status="SUCCESS",
                    display_status="IN_TRANSIT",
                    created_at=ordered + timedelta(days=1),
                    updated_at=ordered + timedelta(days=1),
                    estimated_delivery_at=eta,
                    tracking=[{"number": tracking, "company": CARRIER}],
                )
            )
            details = [tracking]
            for language in ("en", "ja"):
                fmt = formatter(language, "America/New_York", "USD")
                details += [fmt.day_text(ordered), fmt.day_text(eta), fmt.money_text(refund, "USD")]
            seeded.append(Seeded(number, zip_code, f"buyer{number}@example.com", tuple(details)))
    forget_shop_cache(shop_id)
    return seeded


def _disclosed(replies: list[str], orders: list[Seeded]) -> set[int]:
    """The orders the replies tell about (a reply naming the carrier and nothing else tells about any)."""
    told: set[int] = set()
    for reply in replies:
        here = {order.number for order in orders if any(detail in reply for detail in order.details)}
        told |= here or ({order.number for order in orders} if CARRIER in reply else set())
    return told


async def _decisions(desk: Desk) -> list[BotDecision]:
    async with desk.services.sessions() as session:
        rows = await session.execute(select(BotDecision).order_by(col(BotDecision.id)))
        return list(rows.scalars())


async def test_an_order_number_with_several_postcodes_gets_the_wrong_details_reply(desk: Desk) -> None:
    # given the shop's orders, and visitors each at their own address
    orders = await _seed_orders(desk)
    right, other = orders[1].zip_code, orders[2].zip_code

    # when one names #1002 with its postcode and another, in English and in Japanese, one names it with
    # a wrong postcode, one sends the issue's message (every postcode), and one a single right postcode
    several = await _start(desk, f"Where is my order #1002? zip {other}, zip {right}", address="192.0.2.10")
    wrong = await _start(desk, "Where is my order #1002? zip 99999", address="192.0.2.11")
    several_ja = await _start(
        desk, f"注文番号1002はどこ？郵便番号{right}、郵便番号{other}", address="192.0.2.12"
    )
    wrong_ja = await _start(desk, "注文番号1002はどこ？郵便番号99999", address="192.0.2.13")
    listed = ", ".join(f"zip {z}" for z in ZIPS)
    issue = await _start(desk, f"Where is my order #1002? {listed}", address="192.0.2.14")
    single = await _start(desk, f"Where is my order #1002? zip {right}", address="192.0.2.15")

    # then several postcodes get exactly the reply wrong details get, the issue's message is handed to a
    # person (fifty guesses at once exhaust the conversation's allowance), and only a single right
    # postcode is answered
    assert several == wrong == [DEFAULTS[(TemplateKey.VERIFICATION_FAILED, "en")]]
    assert several_ja == wrong_ja == [DEFAULTS[(TemplateKey.VERIFICATION_FAILED, "ja")]]
    assert issue == [DEFAULTS[(TemplateKey.HANDOFF, "en")]]
    assert _disclosed(several + wrong + several_ja + wrong_ja + issue, orders) == set()
    assert _disclosed(single, orders) == {1002}
    rows = await _decisions(desk)
    assert [(row.verification, row.order_shopify_id) for row in rows] == [
        *[("failed", None)] * 4,
        ("limited", None),
        ("order_details", 90_000 + 1002),
    ]


async def test_walking_fifty_order_numbers_with_every_postcode_discloses_nothing(desk: Desk) -> None:
    # given fifty orders, and an attacker who sends each order number with all fifty postcodes, every
    # message from a new address (so no address limit holds them), in English and in Japanese
    orders = await _seed_orders(desk)
    english = ", ".join(f"zip {z}" for z in ZIPS)
    japanese = "、".join(f"郵便番号{z}" for z in ZIPS)

    # when they walk #1001 to #1050
    replies: list[str] = []
    for index, order in enumerate(orders):
        message = (
            f"Where is my order #{order.number}? {english}"
            if index % 2 == 0
            else f"注文番号{order.number}はどこですか？{japanese}"
        )
        replies += await _start(desk, message, address=f"198.51.100.{index + 1}")

    # then not one order's date, amount, carrier or tracking number is in any reply, and the shop-wide
    # limit hands every later try to a person within a handful of messages
    assert _disclosed(replies, orders) == set()
    rows = await _decisions(desk)
    assert len(rows) == ORDER_COUNT
    assert all(row.order_shopify_id is None for row in rows)
    assert {row.verification for row in rows} <= {"failed", "limited"}
    first_limited = next(i for i, row in enumerate(rows) if row.verification == "limited")
    assert first_limited <= MAX_FAILED_ATTEMPTS_PER_SHOP // MAX_FAILED_ATTEMPTS_PER_SOURCE
    assert all(row.verification == "limited" and row.action == "handoff" for row in rows[first_limited:])


async def test_one_address_is_cut_off_after_a_handful_of_order_numbers_whatever_the_message_shape(
    desk: Desk,
) -> None:
    # given one address that names four order numbers in one message, then one per conversation
    orders = await _seed_orders(desk)
    address = "203.0.113.50"
    replies = await _start(desk, "Where are #1001, #1002, #1003 and #1004? zip 99999", address=address)
    for order in orders[4 : 4 + MAX_FAILED_ATTEMPTS_PER_SOURCE]:
        replies += await _start(desk, f"where is order {order.number}? zip 99998", address=address)

    # when that address then sends a single right postcode, and another address does too
    cut_off = await _start(desk, f"Where is order #1030? zip {orders[29].zip_code}", address=address)
    elsewhere = await _start(desk, f"Where is order #1030? zip {orders[29].zip_code}", address="192.0.2.99")

    # then every order number counted: the address is handed to a person after the limit, and disclosed
    # nothing; another address is still answered
    rows = await _decisions(desk)
    verdicts = [row.verification for row in rows]
    assert verdicts[: MAX_FAILED_ATTEMPTS_PER_SOURCE - 4] == ["failed"] * (MAX_FAILED_ATTEMPTS_PER_SOURCE - 4)
    assert set(verdicts[MAX_FAILED_ATTEMPTS_PER_SOURCE - 4 : -1]) == {"limited"}
    assert verdicts[-1] == "order_details"
    assert _disclosed(replies + cut_off, orders) == set()
    assert _disclosed(elsewhere, orders) == {1030}


async def test_a_shop_wide_trip_hands_every_unsigned_proof_to_a_person(desk: Desk) -> None:
    # given many addresses, each guessing a single wrong postcode for a few order numbers
    orders = await _seed_orders(desk)
    tries = 0
    address = 0
    while tries < MAX_FAILED_ATTEMPTS_PER_SHOP:
        address += 1
        for order in orders[tries % ORDER_COUNT : tries % ORDER_COUNT + 3]:
            await _start(desk, f"Where is order #{order.number}? zip 99999", address=f"10.0.{address}.1")
            tries += 1

    # when a new address sends a single right postcode, and the order's signed-in customer asks
    anonymous = await _start(desk, f"Where is order #1001? zip {orders[0].zip_code}", address="10.9.9.9")
    signed_in = await _start(desk, "Where is my order #1001?", address="10.9.9.9", customer_id=71_001)

    # then the anonymous proof is not tried (a person takes it) and the signed-in customer is answered
    rows = await _decisions(desk)
    assert (rows[-2].verification, rows[-2].action, rows[-2].order_shopify_id) == ("limited", "handoff", None)
    assert anonymous == [DEFAULTS[(TemplateKey.HANDOFF, "en")]]
    assert _disclosed(anonymous, orders) == set()
    assert rows[-1].verification == "storefront"
    assert _disclosed(signed_in, orders) == {1001}
