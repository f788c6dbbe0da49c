"""What each webhook topic does. ``shopify.app.toml`` names the handler beside each subscription."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from integrations.shopify.webhook_payloads import CustomersDataRequest, CustomersRedact, ScopesUpdate
from shop_app.encryption import Cipher
from shop_app.models import Shop
from shop_app.services import compliance, shops

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WebhookContext:
    session: AsyncSession
    shop: Shop
    payload: dict[str, Any]
    cipher: Cipher
    digest_key: str


Handler = Callable[[WebhookContext], Awaitable[None]]


async def handle_app_uninstalled(context: WebhookContext) -> None:
    await shops.uninstall_shop(context.session, shop=context.shop)


async def handle_app_scopes_update(context: WebhookContext) -> None:
    update = ScopesUpdate.parse(context.payload)
    await shops.update_scopes(context.session, shop=context.shop, scopes=list(update.current))


def _subject(customer: Any, order_ids: tuple[int, ...]) -> compliance.CustomerSubject:
    return compliance.CustomerSubject(
        shopify_customer_id=customer.id, email=customer.email, phone=customer.phone, order_ids=order_ids
    )


async def handle_customers_data_request(context: WebhookContext) -> None:
    request = CustomersDataRequest.parse(context.payload)
    await compliance.export_customer_data(
        context.session,
        shop=context.shop,
        subject=_subject(request.customer, request.orders_requested),
        data_request_id=request.data_request_id,
        cipher=context.cipher,
        digest_key=context.digest_key,
    )


async def handle_customers_redact(context: WebhookContext) -> None:
    request = CustomersRedact.parse(context.payload)
    await compliance.redact_customer(
        context.session,
        shop=context.shop,
        subject=_subject(request.customer, request.orders_to_redact),
        digest_key=context.digest_key,
    )


async def handle_shop_redact(context: WebhookContext) -> None:
    await compliance.redact_shop(context.session, shop=context.shop)


HANDLERS: dict[str, Handler] = {
    "app/uninstalled": handle_app_uninstalled,
    "app/scopes_update": handle_app_scopes_update,
    "customers/data_request": handle_customers_data_request,
    "customers/redact": handle_customers_redact,
    "shop/redact": handle_shop_redact,
}

# Topics that are processed even after the app was uninstalled from the shop.
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
