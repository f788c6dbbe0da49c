"""Routes of the demo storefront (``/s/{shop}/``) and the store admin page (``/s/{shop}/admin``)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from devstore.activity import NothingToChange, StoreActivity
from devstore.app_proxy import customer_email, customer_gid, signed_in_customer
from devstore.generator.people import display_name
from devstore.generator.shops import profile_for
from devstore.oauth import form_fields, host_param, sign_query
from devstore.records import SortKey
from devstore.state import StoreState
from devstore.storefront import templates
from devstore.tokens import mint_session_token
from devstore.webhooks import COMPLIANCE_TOPICS

logger = logging.getLogger(__name__)

STOREFRONT_TEXT = {
    "ja": {
        "tagline": "公式オンラインストア",
        "empty": "商品がありません。",
        "in_stock": "在庫あり",
        "sold_out": "在庫なし",
        "backorder": "予約受付中",
        "signed_in": "ログイン中",
        "sign_out": "ログアウト",
        "sign_in": "ログイン",
        "sign_in_as": "顧客としてログイン（メールアドレスまたはID）",
        "login_failed": "ログインできませんでした。",
    },
    "en": {
        "tagline": "Official online store",
        "empty": "No products yet.",
        "in_stock": "In stock",
        "sold_out": "Sold out",
        "backorder": "Backorder",
        "signed_in": "Signed in as",
        "sign_out": "Sign out",
        "sign_in": "Sign in",
        "sign_in_as": "Sign in as a customer (email or id)",
        "login_failed": "Could not sign in.",
    },
}
ACTIONS = (
    ("create_order", "Create order"),
    ("fulfil", "Fulfil an order"),
    ("advance_shipment", "Advance a shipment"),
    ("refund", "Refund an order"),
    ("cancel", "Cancel an order"),
    ("adjust_stock", "Adjust stock"),
    ("update_customer", "Update a customer"),
)
ORDER_ACTIONS = (
    ("mark_paid", "Pay"),
    ("fulfil", "Fulfil"),
    ("advance_shipment", "Advance"),
    ("refund", "Refund"),
    ("cancel", "Cancel"),
)
RECENT_ORDERS_SHOWN = 30
STOREFRONT_PRODUCTS_SHOWN = 60


def _format_money(bag: dict[str, Any] | None) -> str:
    if not bag:
        return ""
    money = bag.get("shopMoney", bag)
    amount = float(money["amount"])
    if money["currencyCode"] == "JPY":
        return f"¥{amount:,.0f}"
    return f"${amount:,.2f}" if money["currencyCode"] == "USD" else f"{amount:,.2f} {money['currencyCode']}"


def routes(state: StoreState, activity: StoreActivity) -> list[BaseRoute]:
    def lang_of(shop: str) -> str:
        return "ja" if profile_for(shop).japanese else "en"

    def shop_name(shop: str) -> str:
        doc = next(iter(state.records.iter_type(shop, "Shop")), None)
        return str(doc["name"]) if doc else shop

    async def storefront(request: Request) -> Response:
        shop = request.path_params["shop"]
        if shop not in state.known_shops():
            return Response("Not Found", status_code=404)
        lang = lang_of(shop)
        text = STOREFRONT_TEXT[lang]
        products = []
        for product in state.records.iter_type(shop, "Product"):
            if product.get("status") != "ACTIVE":
                continue
            variants = []
            for variant in product["variants"]:
                if variant["inventoryQuantity"] > 0:
                    css, label = "ok", text["in_stock"]
                elif variant["inventoryPolicy"] == "CONTINUE":
                    css, label = "warn", text["backorder"]
                else:
                    css, label = "bad", text["sold_out"]
                variants.append({"title": variant["title"], "css": css, "label": label})
            price = product["variants"][0]["price"]
            currency = "JPY" if lang == "ja" else "USD"
            products.append(
                {
                    "title": product["title"],
                    "product_type": product.get("productType", ""),
                    "price": _format_money({"amount": price, "currencyCode": currency}),
                    "variants": variants,
                }
            )
            if len(products) >= STOREFRONT_PRODUCTS_SHOWN:
                break
        customer_id = signed_in_customer(state, request, shop)
        customer = state.records.get(shop, customer_gid(customer_id)) if customer_id is not None else None
        context = {
            "shop": shop,
            "shop_name": shop_name(shop),
            "lang": lang,
            "t": text,
            "products": products,
            "widget_script_url": state.config.widget_script_url,
            "proxy_base": f"/s/{shop}/apps/support",
            "customer_name": (
                display_name(customer.get("firstName"), customer.get("lastName"))
                or customer_email(customer)
                or str(customer_id)
                if customer is not None
                else ""
            ),
            "login_failed": request.query_params.get("login") == "failed",
        }
        return templates.TemplateResponse(request, "storefront.html", context)

    async def admin(request: Request) -> Response:
        shop = request.path_params["shop"]
        if shop not in state.known_shops():
            return Response("Not Found", status_code=404)
        orders = []
        for row in state.records.page(
            shop, "Order", limit=RECENT_ORDERS_SHOWN, sort=SortKey.CREATED_AT, reverse=True
        ):
            order = row.doc
            address = order.get("shippingAddress") or {}
            orders.append(
                {
                    "id": order["id"],
                    "name": order["name"],
                    "created": order["createdAt"],
                    "customer": address.get("name") or order.get("email") or "",
                    "total": _format_money(order.get("totalPriceSet")),
                    "financial": order.get("displayFinancialStatus"),
                    "fulfillment": ("CANCELLED " if order.get("cancelledAt") else "")
                    + str(order.get("displayFulfillmentStatus")),
                    "shipments": [
                        f"{f['name']} {f['displayStatus']} "
                        + ", ".join(
                            f"{t.get('company')} {t.get('number')}" for t in f.get("trackingInfo", [])
                        )
                        for f in order.get("fulfillments", [])
                    ],
                }
            )
        installs = [
            {"client_id": i.client_id, "scope": i.scope, "openable": i.client_id in state.config.app_urls}
            for i in state.tokens.installs(shop)
        ]
        context = {
            "shop": shop,
            "shop_name": shop_name(shop),
            "lang": lang_of(shop),
            "installs": installs,
            "orders": orders,
            "actions": ACTIONS,
            "order_actions": ORDER_ACTIONS,
            "compliance_topics": sorted(COMPLIANCE_TOPICS),
            "webhook_stats": state.webhooks.stats(),
            "message": request.query_params.get("message", ""),
            "failed": request.query_params.get("failed") == "1",
        }
        return templates.TemplateResponse(request, "admin.html", context)

    async def admin_action(request: Request) -> Response:
        shop = request.path_params["shop"]
        action = request.path_params["action"]
        if shop not in state.known_shops():
            return Response("Not Found", status_code=404)
        fields = await form_fields(request)
        failed = False
        try:
            change = await perform(activity, shop, action, fields)
            message = change.description + (
                f" → webhooks: {', '.join(change.topics)}" if change.topics else ""
            )
        except (NothingToChange, ValueError) as error:
            failed, message = True, str(error)
        query = urlencode({"message": message, "failed": "1" if failed else "0"})
        return RedirectResponse(f"/s/{shop}/admin?{query}", status_code=303)

    async def open_app(request: Request) -> Response:
        """Open an embedded app as Shopify's admin does: signed query with a fresh session token."""
        shop = request.path_params["shop"]
        client_id = request.path_params["client_id"]
        app_url = state.config.app_urls.get(client_id)
        secret = state.config.secret_for(client_id)
        if app_url is None or secret is None or state.tokens.install(shop, client_id) is None:
            return Response("Not Found", status_code=404)
        params = {
            "embedded": "1",
            "host": host_param(shop),
            "id_token": mint_session_token(shop, client_id, secret, now=state.clock()),
            "locale": lang_of(shop),
            "shop": shop,
            "timestamp": str(int(state.clock())),
        }
        query = urlencode({**params, "hmac": sign_query(params, secret)})
        return RedirectResponse(f"{app_url}{'&' if '?' in app_url else '?'}{query}", status_code=302)

    return [
        Route("/s/{shop}/", storefront, methods=["GET"]),
        Route("/s/{shop}/admin", admin, methods=["GET"]),
        Route("/s/{shop}/admin/actions/{action}", admin_action, methods=["POST"]),
        Route("/s/{shop}/admin/apps/{client_id}", open_app, methods=["GET"]),
    ]


async def perform(activity: StoreActivity, shop: str, action: str, fields: dict[str, str]) -> Any:
    """Run one named change with the fields of a form or JSON body."""
    order = fields.get("order") or None
    if action == "create_order":
        return await activity.create_order(shop)
    if action == "mark_paid":
        return await activity.mark_paid(shop, order)
    if action == "hold":
        return await activity.hold(shop, order)
    if action == "fulfil":
        return await activity.fulfil(shop, order)
    if action == "advance_shipment":
        return await activity.advance_shipment(shop, order, status=fields.get("status") or None)
    if action == "refund":
        return await activity.refund(shop, order)
    if action == "cancel":
        return await activity.cancel(shop, order)
    if action == "adjust_stock":
        delta = fields.get("delta")
        return await activity.adjust_stock(
            shop, fields.get("variant") or None, delta=int(delta) if delta else None
        )
    if action == "update_customer":
        return await activity.update_customer(shop, fields.get("customer") or None)
    if action == "uninstall_app":
        return await activity.uninstall_app(shop, fields.get("client_id", ""))
    if action == "send_compliance":
        return await activity.send_compliance(
            shop,
            fields.get("topic", ""),
            customer_gid=fields.get("customer") or None,
            client_id=fields.get("client_id") or None,
        )
    raise ValueError(f"unknown change: {action}")
