"""What the bot understands of one shopper's message: the intent, a confidence and the entities named."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Intent(StrEnum):
    ORDER_STATUS = "order_status"
    STOCK = "stock"
    POLICY = "policy"  # the shop's own rules and facts: shipping, returns, payment, wrapping, hours, stores
    CANCEL = "cancel"
    RETURN_EXCHANGE = "return_exchange"
    ADDRESS_CHANGE = "address_change"
    ORDER_CHANGE = "order_change"  # add to, remove from or change an order already placed
    BILLING_REFUND = "billing_refund"
    DAMAGED_WRONG_ITEM = "damaged_or_wrong_item"
    HUMAN = "human"
    OTHER = "other"


# The intents the bot may answer by itself; every other intent goes to a person.
AUTO_INTENTS = frozenset({Intent.ORDER_STATUS, Intent.STOCK, Intent.POLICY})
# An automatic answer needs at least this confidence; below it the caller hands off.
AUTO_ANSWER_THRESHOLD = 0.6


@dataclass(frozen=True, slots=True)
class ShopHints:
    """What the shop tells the classifier: how its order names look and what it sells."""

    order_prefix: str = "#"
    order_suffix: str = ""
    default_region: str | None = None
    product_titles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Understanding:
    intent: Intent
    confidence: float
    language: str
    order_refs: tuple[int, ...]
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    postal_codes: tuple[str, ...]
    sizes: tuple[str, ...]
    colours: tuple[str, ...]
    product_words: tuple[str, ...]
    angry: bool
    reasons: tuple[str, ...]

    @property
    def order_ref(self) -> int | None:
        return self.order_refs[0] if self.order_refs else None

    @property
    def auto_answerable(self) -> bool:
        """An intent the bot may answer, read with enough confidence."""
        return self.intent in AUTO_INTENTS and self.confidence >= AUTO_ANSWER_THRESHOLD

    @property
    def auto(self) -> bool:
        """Whether the engine answers this message by itself with a shop's default settings (every
        automatic intent on): answerable, and no anger or complaint, which always goes to a person."""
        return self.auto_answerable and not self.angry

    def as_dict(self) -> dict[str, object]:
        return {
            "intent": self.intent.value,
            "confidence": self.confidence,
            "auto": self.auto,
            "language": self.language,
            "order_ref": self.order_ref,
            "order_refs": list(self.order_refs),
            "emails": list(self.emails),
            "phones": list(self.phones),
            "postal_codes": list(self.postal_codes),
            "sizes": list(self.sizes),
            "colours": list(self.colours),
            "product_words": list(self.product_words),
            "angry": self.angry,
            "reasons": list(self.reasons),
        }
