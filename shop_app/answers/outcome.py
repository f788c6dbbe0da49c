"""What one decision step comes to before its reply is rendered (``Outcome``: the action, the template
and its context, the reason), the handoff shortcut, and the ``Understander`` the steps are given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shop_app.answers.understanding.model import Understanding
from shop_app.models import DecisionAction, Order, Verification
from shop_app.models.answers import TemplateKey

Understander = Callable[..., Understanding]


@dataclass(slots=True)
class Outcome:
    action: DecisionAction
    key: TemplateKey | None
    context: dict[str, Any]
    reason: str
    verification: Verification = Verification.NOT_NEEDED
    order: Order | None = None
    order_name: str | None = None
    priority: bool = False
    extra: list[str] = field(default_factory=list)
    # a sold-out variant the shopper may ask to hear about: (variant id, location ids)
    restock_offer: tuple[int, tuple[int, ...]] | None = None


def handoff(
    reason: str, *, priority: bool = False, verification: Verification = Verification.NOT_NEEDED
) -> Outcome:
    return Outcome(DecisionAction.HANDOFF, None, {}, reason, verification=verification, priority=priority)
