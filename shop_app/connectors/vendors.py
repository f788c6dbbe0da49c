"""The vendor modules: one line each."""

from __future__ import annotations

from shop_app.connectors.chatwoot import CHATWOOT
from shop_app.connectors.registry import Vendor
from shop_app.connectors.zendesk import ZENDESK

_MODULES: tuple[Vendor, ...] = (CHATWOOT, ZENDESK)
VENDORS: dict[str, Vendor] = {vendor.name.value: vendor for vendor in _MODULES}


def vendor_for(name: str) -> Vendor | None:
    return VENDORS.get(name)


def all_vendors() -> list[Vendor]:
    return list(VENDORS.values())
