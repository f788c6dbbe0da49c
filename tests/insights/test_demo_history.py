"""``shop-app dev``'s month of history: made once from the shop's mirror, and the Insights API shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shop_app.database import transaction
from shop_app.dev.history import seed_history
from shop_app.models import Customer, Order, Product, ProductVariant
from tests.helpdesk.conftest import ALPHA, BETA
from tests.insights.conftest import Desk


async def test_a_month_of_history_is_made_once_and_shows(desk: Desk) -> None:
    now = datetime.now(UTC)
    shop_id = desk.shop_ids[ALPHA]
    async with transaction(desk.services.sessions) as session:
        for n in range(20):
            session.add(
                Customer(
                    shop_id=shop_id,
                    shopify_id=100 + n,
                    email=f"c{n}@example.com",
                    first_name="花子",
                    last_name="山田",
                    updated_at=now,
                )
            )
            session.add(
                Order(
                    shop_id=shop_id,
                    shopify_id=900 + n,
                    name=f"#{1000 + n}",
                    customer_shopify_id=100 + n,
                    created_at=now - timedelta(days=n + 2),
                    updated_at=now,
                )
            )
        product = Product(shop_id=shop_id, shopify_id=5, title="Linen shirt", updated_at=now)
        session.add(product)
        await session.flush()
        assert product.id is not None
        session.add(ProductVariant(shop_id=shop_id, shopify_id=6, product_id=product.id, title="M"))

    made = await seed_history(desk.services.sessions, ALPHA)
    again = await seed_history(desk.services.sessions, ALPHA)

    assert made >= 30 * 2 and again == 0
    # the shop has no time zone: UTC days; the history spans the 31 days before today
    days = {"start": (now - timedelta(days=31)).date().isoformat(), "end": now.date().isoformat()}
    figures = (await desk.client.get("/api/v1/insights", params=days, headers=desk.key(ALPHA))).json()
    now_figures = figures["current"]
    assert now_figures["tickets"] == made
    assert (
        now_figures["bot_resolved"] > 0 and now_figures["handed_off"] > 0 and now_figures["csat_answered"] > 0
    )
    assert figures["wismo_by_state"] and figures["stock_questions"][0]["product"] == "Linen shirt"
    beta = (await desk.client.get("/api/v1/insights", headers=desk.key(BETA))).json()
    assert beta["current"]["tickets"] == 0  # Beta has no mirror: nothing made there
