"""A shop's notice settings, with the defaults every shop starts from (every rule off, quiet 21:00–09:00)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.errors import BadRequest
from shop_app.models import NoticeRule, NoticeSettings
from shop_app.models.base import utcnow
from shop_app.models.notices import DEFAULT_LATE_GRACE_DAYS, DEFAULT_STALE_TRACKING_DAYS

MINUTES_PER_DAY = 24 * 60
MAX_DAILY_CAP = 10_000
MAX_SUBSCRIPTION_DAYS = 365
MAX_RULE_DAYS = 60
# each rule's number parameter (days), where it has one
RULE_DAYS: dict[NoticeRule, tuple[str, int]] = {
    NoticeRule.LATE_DELIVERY: ("grace_days", DEFAULT_LATE_GRACE_DAYS),
    NoticeRule.STALE_TRACKING: ("days", DEFAULT_STALE_TRACKING_DAYS),
}


@dataclass(frozen=True, slots=True)
class RuleChoice:
    rule: NoticeRule
    enabled: bool
    days: int | None


def rule_choice(settings: NoticeSettings, rule: NoticeRule) -> RuleChoice:
    stored = settings.rules.get(rule.value)
    stored = stored if isinstance(stored, dict) else {}
    days: int | None = None
    if rule in RULE_DAYS:
        name, default = RULE_DAYS[rule]
        value = stored.get(name)
        days = value if type(value) is int and 0 <= value <= MAX_RULE_DAYS else default
    return RuleChoice(rule, stored.get("enabled") is True, days)


async def notice_settings(session: AsyncSession, *, shop_id: int) -> NoticeSettings:
    """The shop's settings (the defaults, not stored, when it has never saved any)."""
    return await session.get(NoticeSettings, shop_id) or NoticeSettings(shop_id=shop_id)


def _bounded(value: Any, low: int, high: int, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{field} must be a whole number", code=f"invalid_{field}") from None
    if not low <= number <= high:
        raise BadRequest(f"{field} must be between {low} and {high}", code=f"invalid_{field}")
    return number


async def save_notice_settings(
    session: AsyncSession,
    *,
    shop_id: int,
    enabled: set[NoticeRule],
    days: dict[NoticeRule, Any],
    quiet_start_minutes: Any,
    quiet_end_minutes: Any,
    daily_cap: Any,
    subscription_days: Any,
) -> NoticeSettings:
    settings = await session.get(NoticeSettings, shop_id) or NoticeSettings(shop_id=shop_id)
    rules: dict[str, Any] = {}
    for rule in NoticeRule:
        entry: dict[str, Any] = {"enabled": rule in enabled}
        if rule in RULE_DAYS:
            name, default = RULE_DAYS[rule]
            raw = days.get(rule)
            entry[name] = default if raw in (None, "") else _bounded(raw, 0, MAX_RULE_DAYS, "days")
        rules[rule.value] = entry
    settings.rules = rules
    settings.quiet_start_minutes = _bounded(quiet_start_minutes, 0, MINUTES_PER_DAY - 1, "quiet_start")
    settings.quiet_end_minutes = _bounded(quiet_end_minutes, 0, MINUTES_PER_DAY - 1, "quiet_end")
    settings.daily_cap = _bounded(daily_cap, 0, MAX_DAILY_CAP, "daily_cap")
    settings.subscription_days = _bounded(subscription_days, 1, MAX_SUBSCRIPTION_DAYS, "subscription_days")
    settings.updated_at = utcnow()
    session.add(settings)
    await session.flush()
    return settings
