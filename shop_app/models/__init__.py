"""Tables. Every tenant table carries ``shop_id`` and is removed with its shop."""

from shop_app.models.compliance import ComplianceAudit, CustomerDataExport
from shop_app.models.oauth_state import OAuthState
from shop_app.models.shop import Shop, ShopCredential, ShopStatus
from shop_app.models.webhook_delivery import DeliveryStatus, WebhookDelivery

__all__ = [
    "ComplianceAudit",
    "CustomerDataExport",
    "DeliveryStatus",
    "OAuthState",
    "Shop",
    "ShopCredential",
    "ShopStatus",
    "WebhookDelivery",
]
