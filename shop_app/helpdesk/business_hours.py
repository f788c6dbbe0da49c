"""Business hours and first-response targets, per shop.

A shop's hours (``Shop.business_hours``, set in the embedded admin) are opening and closing times per
weekday in one time zone (the shop's unless another is named), and holidays (whole days, closed). A shop
without hours is always open. Outside them, the shopper is told when a person will answer:
``acknowledgement`` is that sentence, for every channel (the widget now; LINE and email call it too).

A first-response target is a number of open minutes per channel (``Shop.first_response_minutes`` over
``DEFAULT_FIRST_RESPONSE_MINUTES``): a chat written at 17:30 with a one-hour target and hours to 18:00 is due
at 09:30 on the next open day.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.errors import Unprocessable
from shop_app.formats.display import formatter, time_zone, ui_locale
from shop_app.i18n import catalogue
from shop_app.models import Channel, Shop, Ticket, TicketStatus
from shop_app.models.base import utcnow
from shop_app.schemas.desk_settings import BusinessHours, DeskSettings, DeskSettingsIn

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
# a schedule whose every day is closed (or a holiday) has no next opening: look no further than this
MAX_DAYS_AHEAD = 400
DEFAULT_FIRST_RESPONSE_MINUTES: Mapping[Channel, int] = {
    Channel.WEB_CHAT: 60,
    Channel.LINE: 60,
    Channel.API: 60,
    Channel.EMAIL: 24 * 60,
}


def clock_minutes(text: str) -> int:
    """``"09:30"`` → 570; ``"24:00"`` (closing at midnight) → 1440."""
    hours, _, minutes = text.partition(":")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True, slots=True)
class Schedule:
    zone_name: str
    # weekday (0 = Monday) → (opens, closes) in minutes after midnight, opens < closes
    week: Mapping[int, tuple[int, int]]
    holidays: frozenset[date]

    @classmethod
    def of(cls, shop: Shop) -> Schedule | None:
        stored: dict[str, Any] | None = shop.business_hours
        if not stored:
            return None
        week: dict[int, tuple[int, int]] = {}
        for index, name in enumerate(WEEKDAYS):
            hours = (stored.get("week") or {}).get(name)
            if hours:
                week[index] = (clock_minutes(hours["opens"]), clock_minutes(hours["closes"]))
        return cls(
            zone_name=stored.get("timezone") or shop.iana_timezone or "UTC",
            week=week,
            holidays=frozenset(date.fromisoformat(day) for day in stored.get("holidays") or ()),
        )

    @property
    def zone(self) -> tzinfo:
        return time_zone(self.zone_name)

    def _span(self, day: date) -> tuple[datetime, datetime] | None:
        hours = self.week.get(day.weekday())
        if hours is None or day in self.holidays:
            return None
        midnight = datetime(day.year, day.month, day.day)
        opens, closes = (
            (midnight + timedelta(minutes=minutes)).replace(tzinfo=self.zone).astimezone(UTC)
            for minutes in hours
        )
        return opens, closes

    def open_span(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's opening and closing moments (UTC); ``None`` when closed all day."""
        return self._span(day)

    def _spans_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open spans that end after ``moment``, soonest first, up to ``MAX_DAYS_AHEAD`` days on."""
        first = moment.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(MAX_DAYS_AHEAD + 1):
            span = self._span(first + timedelta(days=offset))
            if span is not None and span[1] > moment:
                yield span

    def is_open(self, moment: datetime) -> bool:
        day = moment.astimezone(self.zone).date()
        for each in (day - timedelta(days=1), day):
            span = self._span(each)
            if span is not None and span[0] <= moment < span[1]:
                return True
        return False

    def next_opening(self, moment: datetime) -> datetime | None:
        """``moment`` itself when open; else when the next open span starts."""
        for opens, _closes in self._spans_from(moment):
            return max(opens, moment)
        return None

    def add_open_time(self, start: datetime, duration: timedelta) -> datetime | None:
        """The moment ``duration`` of open time after ``start``; ``None`` if the hours never open."""
        left = duration
        for opens, closes in self._spans_from(start):
            begin = max(opens, start)
            if begin + left <= closes:
                return begin + left
            left -= closes - begin
        return None


def first_response_minutes(shop: Shop, channel: Channel | str) -> int:
    chosen = Channel(channel)
    stored = (shop.first_response_minutes or {}).get(chosen.value)
    # a channel added later without a default of its own is answered like a chat
    return int(stored) if stored else DEFAULT_FIRST_RESPONSE_MINUTES.get(chosen, 60)


def response_due(shop: Shop, channel: Channel | str, since: datetime) -> datetime:
    """When a person should have answered a message sent at ``since`` (open time counted)."""
    target = timedelta(minutes=first_response_minutes(shop, channel))
    schedule = Schedule.of(shop)
    due = schedule.add_open_time(since, target) if schedule is not None else None
    return due if due is not None else since + target


class ResponseState(StrEnum):
    DUE = "due"  # not answered yet, still in time
    OVERDUE = "overdue"  # not answered, past the target
    MET = "met"  # answered in time
    MISSED = "missed"  # answered, but late


@dataclass(frozen=True, slots=True)
class FirstResponse:
    target_minutes: int
    due_at: datetime
    state: ResponseState


def first_response(shop: Shop, ticket: Ticket, *, now: datetime) -> FirstResponse | None:
    """Where the ticket stands against its channel's target; ``None`` for one resolved unanswered (nobody
    owes it an answer)."""
    due = response_due(shop, ticket.channel, ticket.created_at)
    answered = ticket.first_response_at
    if answered is None and ticket.status == TicketStatus.RESOLVED:
        return None
    if answered is not None:
        state = ResponseState.MET if answered <= due else ResponseState.MISSED
    else:
        state = ResponseState.DUE if now <= due else ResponseState.OVERDUE
    return FirstResponse(first_response_minutes(shop, ticket.channel), due, state)


def acknowledgement(
    shop: Shop, now: datetime, locale: str | None, *, channel: Channel = Channel.WEB_CHAT
) -> str | None:
    """What the shopper is told on writing outside business hours: when the team is back and by when a
    person will answer, in the shop's time zone and the shopper's language. ``None`` while open (or when
    the shop has no hours)."""
    schedule = Schedule.of(shop)
    if schedule is None or schedule.is_open(now):
        return None
    messages = catalogue(ui_locale(locale).value)
    opens = schedule.next_opening(now)
    if opens is None:
        return messages.text("shopper.after_hours.closed")
    fmt = formatter(locale, schedule.zone_name, None)
    local_opens = opens.astimezone(schedule.zone)
    local_due = response_due(shop, channel, now).astimezone(schedule.zone)
    return messages.text(
        "shopper.after_hours",
        opens=fmt.moment_text(local_opens),
        due=fmt.moment_text(local_due),
        zone=local_opens.tzname() or "",
    )


# ---- the settings, as the embedded admin reads and writes them


def desk_settings(shop: Shop) -> DeskSettings:
    return DeskSettings(
        business_hours=BusinessHours.model_validate(shop.business_hours, strict=False)
        if shop.business_hours
        else None,
        first_response_minutes={channel: first_response_minutes(shop, channel) for channel in Channel},
        shop_timezone=shop.iana_timezone,
    )


async def save_desk_settings(session: AsyncSession, *, shop: Shop, settings: DeskSettingsIn) -> Shop:
    hours = settings.business_hours
    if hours is not None:
        for day, span in hours.week.items():
            if clock_minutes(span.closes) <= clock_minutes(span.opens):
                raise Unprocessable(
                    f"{day}: the closing time must come after the opening time", code="invalid_business_hours"
                )
        hours = hours.model_copy(update={"holidays": sorted(set(hours.holidays))})
    row = await session.get_one(Shop, shop.id)
    row.business_hours = hours.model_dump(mode="json") if hours is not None else None
    targets = {**(row.first_response_minutes or {})}
    targets.update({channel.value: minutes for channel, minutes in settings.first_response_minutes.items()})
    row.first_response_minutes = targets or None
    row.updated_at = utcnow()
    await session.flush()
    return row
