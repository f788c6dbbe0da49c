"""The signed links of a back-in-stock offer, confirmation and cancellation.

A link carries its subject (shop, ticket, variant; or a subscription) signed with the app's session
secret under a salt per purpose, so a cancel link cannot confirm and an offer cannot cancel. itsdangerous
checks the signature (in constant time) before it decodes a byte of the payload; the decoded payload is
then checked for its exact shape. Any failure is ``None``: the route answers the same 404 whatever was
wrong, so a guesser learns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

from shop_app.runtime import Services

OFFER_MAX_AGE_SECONDS = 14 * 86400
CONFIRM_MAX_AGE_SECONDS = 3 * 86400
CANCEL_MAX_AGE_SECONDS = 400 * 86400  # longer than any subscription lasts
MAX_TOKEN_CHARS = 600
MAX_ID = 2**63 - 1
MAX_LOCATIONS = 50


class Purpose(StrEnum):
    OFFER = "offer"
    CONFIRM = "confirm"
    CANCEL = "cancel"


_MAX_AGE = {
    Purpose.OFFER: OFFER_MAX_AGE_SECONDS,
    Purpose.CONFIRM: CONFIRM_MAX_AGE_SECONDS,
    Purpose.CANCEL: CANCEL_MAX_AGE_SECONDS,
}


@dataclass(frozen=True, slots=True)
class Offer:
    shop_id: int
    ticket_id: int
    variant_shopify_id: int
    location_shopify_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SubscriptionRef:
    shop_id: int
    subscription_id: int


def _id(value: Any) -> int | None:
    return value if type(value) is int and 0 < value <= MAX_ID else None


@dataclass(frozen=True, slots=True)
class NoticeLinks:
    base_url: str
    secret: str

    @classmethod
    def of(cls, services: Services) -> NoticeLinks:
        return cls(base_url=services.settings.app_url, secret=services.digest_key)

    def _serializer(self, purpose: Purpose) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=f"notices.stock.{purpose.value}")

    def offer_url(self, offer: Offer) -> str:
        token = self._serializer(Purpose.OFFER).dumps(
            [offer.shop_id, offer.ticket_id, offer.variant_shopify_id, list(offer.location_shopify_ids)]
        )
        return f"{self.base_url}/notices/stock/offer/{token}"

    def subscription_url(self, purpose: Purpose, ref: SubscriptionRef) -> str:
        token = self._serializer(purpose).dumps([ref.shop_id, ref.subscription_id])
        return f"{self.base_url}/notices/stock/{purpose.value}/{token}"

    def _loads(self, purpose: Purpose, token: str) -> Any:
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        try:
            return self._serializer(purpose).loads(token, max_age=_MAX_AGE[purpose])
        except BadData:
            return None

    def read_offer(self, token: str) -> Offer | None:
        data = self._loads(Purpose.OFFER, token)
        if not isinstance(data, list) or len(data) != 4 or not isinstance(data[3], list):
            return None
        shop_id, ticket_id, variant_id = _id(data[0]), _id(data[1]), _id(data[2])
        locations = [_id(value) for value in data[3][: MAX_LOCATIONS + 1]]
        if shop_id is None or ticket_id is None or variant_id is None or len(locations) > MAX_LOCATIONS:
            return None
        if any(location is None for location in locations):
            return None
        return Offer(shop_id, ticket_id, variant_id, tuple(v for v in locations if v is not None))

    def read_subscription(self, purpose: Purpose, token: str) -> SubscriptionRef | None:
        if purpose == Purpose.OFFER:
            return None
        data = self._loads(purpose, token)
        if not isinstance(data, list) or len(data) != 2:
            return None
        shop_id, subscription_id = _id(data[0]), _id(data[1])
        if shop_id is None or subscription_id is None:
            return None
        return SubscriptionRef(shop_id, subscription_id)
