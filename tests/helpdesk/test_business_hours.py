"""Business hours and first-response targets: when a shop is open, what a shopper writing outside the hours
is told (in each language, in the shop's time zone), and when a ticket's first answer is due, across time
zones, a change to summer time and a holiday. The clock is moved with time-machine where code reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from shop_app.helpdesk.business_hours import (
    ResponseState,
    Schedule,
    acknowledgement,
    first_response,
    response_due,
)
from shop_app.models import Channel, Shop, Ticket, TicketStatus
from shop_app.models.base import utcnow

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_18 = {day: {"opens": "09:00", "closes": "18:00"} for day in ("mon", "tue", "wed", "thu", "fri")}


def _shop(
    *,
    zone: str | None = "Asia/Tokyo",
    hours_zone: str | None = None,
    holidays: list[str] | None = None,
    **extra: Any,
) -> Shop:
    hours = {"timezone": hours_zone, "week": WEEKDAYS_9_TO_18, "holidays": holidays or []}
    return Shop(
        id=1, domain="alpha.myshopify.com", name="Alpha", iana_timezone=zone, business_hours=hours, **extra
    )


def _at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


def test_a_shop_without_hours_is_always_open_and_says_nothing() -> None:
    shop = Shop(id=1, domain="alpha.myshopify.com", iana_timezone="Asia/Tokyo")

    assert Schedule.of(shop) is None
    assert acknowledgement(shop, _at(TOKYO, 2026, 12, 5, 3, 0), "ja") is None


def test_inside_hours_the_shopper_is_told_nothing() -> None:
    # Thursday 3 December 2026, 10:00 in Tokyo (01:00 UTC)
    assert acknowledgement(_shop(), _at(TOKYO, 2026, 12, 3, 10, 0), "en") is None


def test_after_closing_the_shopper_is_told_when_the_team_is_back_in_japanese_and_english() -> None:
    # Thursday 19:30 in Tokyo: back Friday 09:00, a chat answered within an open hour: by 10:00
    now = _at(TOKYO, 2026, 12, 3, 19, 30)

    japanese = acknowledgement(_shop(), now, "ja")
    english = acknowledgement(_shop(), now, "en-US")

    assert japanese is not None and english is not None
    assert "営業時間外" in japanese and "2026/12/04 9:00" in japanese and "2026/12/04 10:00" in japanese
    assert "JST" in japanese
    assert "business hours" in english and "Dec 4, 2026, 9:00" in english and "Dec 4, 2026, 10:00" in english


def test_a_weekend_message_by_email_is_due_a_working_day_later() -> None:
    # Saturday 5 December, 12:00 in Tokyo; email's target is 24 open hours: 9 each day from Monday 09:00
    now = _at(TOKYO, 2026, 12, 5, 12, 0)

    due = response_due(_shop(), Channel.EMAIL, now)
    text = acknowledgement(_shop(), now, "en", channel=Channel.EMAIL)

    # Monday 9h + Tuesday 9h + Wednesday 6h → Wednesday 15:00
    assert due == _at(TOKYO, 2026, 12, 9, 15, 0)
    assert text is not None and "Dec 7, 2026, 9:00" in text and "Dec 9, 2026, 3:00" in text


def test_a_holiday_is_closed_all_day_and_the_next_open_day_counts() -> None:
    shop = _shop(holidays=["2026-12-31", "2027-01-01"])
    new_years_eve_morning = _at(TOKYO, 2026, 12, 31, 10, 0)  # a Thursday

    assert Schedule.of(shop) is not None
    text = acknowledgement(shop, new_years_eve_morning, "ja")

    assert text is not None and "2027/01/04 9:00" in text  # Friday the 1st is a holiday too: Monday
    assert response_due(shop, Channel.WEB_CHAT, new_years_eve_morning) == _at(TOKYO, 2027, 1, 4, 10, 0)


def test_hours_in_another_zone_than_the_shops_are_read_in_that_zone() -> None:
    # a Tokyo shop whose desk works New York hours; 08:30 in New York is closed, back at 09:00 (EST)
    shop = _shop(hours_zone="America/New_York")
    now = _at(NEW_YORK, 2026, 12, 3, 8, 30)

    text = acknowledgement(shop, now, "en")

    assert text is not None and "Dec 3, 2026, 9:00" in text and "EST" in text
    assert acknowledgement(shop, _at(NEW_YORK, 2026, 12, 3, 9, 0), "en") is None


def test_the_first_response_clock_stops_at_closing_and_runs_again_across_a_change_to_summer_time() -> None:
    # Friday 6 March 2026, 17:30 in New York, one open hour: 30 minutes Friday, 30 from Monday 09:00; the
    # clocks went forward on Sunday the 8th, so Monday 09:30 is 13:30 UTC (not 14:30)
    shop = _shop(zone="America/New_York")
    start = _at(NEW_YORK, 2026, 3, 6, 17, 30)

    due = response_due(shop, Channel.WEB_CHAT, start)

    assert due == datetime(2026, 3, 9, 13, 30, tzinfo=UTC)


def test_hours_that_never_open_say_so_and_targets_fall_back_to_the_clock() -> None:
    shop = Shop(
        id=1,
        domain="alpha.myshopify.com",
        iana_timezone="Asia/Tokyo",
        business_hours={"timezone": None, "week": {}, "holidays": []},
    )
    now = _at(TOKYO, 2026, 12, 3, 10, 0)

    assert acknowledgement(shop, now, "en") is not None
    assert "as soon as" in (acknowledgement(shop, now, "en") or "")
    assert response_due(shop, Channel.WEB_CHAT, now) == now + timedelta(hours=1)


def test_a_tickets_first_response_is_due_then_overdue_then_met_or_missed() -> None:
    shop = _shop(first_response_minutes={"web_chat": 30})
    opened = _at(TOKYO, 2026, 12, 3, 10, 0)
    ticket = Ticket(id=1, shop_id=1, contact_id=1, channel=Channel.WEB_CHAT, created_at=opened)

    with time_machine.travel(opened + timedelta(minutes=10), tick=False):
        due = first_response(shop, ticket, now=utcnow())
    with time_machine.travel(opened + timedelta(minutes=45), tick=False):
        late = first_response(shop, ticket, now=utcnow())
    ticket.first_response_at = opened + timedelta(minutes=20)
    met = first_response(shop, ticket, now=opened + timedelta(days=1))
    ticket.first_response_at = opened + timedelta(minutes=40)
    missed = first_response(shop, ticket, now=opened + timedelta(days=1))
    ticket.first_response_at, ticket.status = None, TicketStatus.RESOLVED
    settled = first_response(shop, ticket, now=opened + timedelta(days=1))

    assert due is not None and due.state is ResponseState.DUE and due.target_minutes == 30
    assert due.due_at == opened + timedelta(minutes=30)
    assert late is not None and late.state is ResponseState.OVERDUE
    assert met is not None and met.state is ResponseState.MET
    assert missed is not None and missed.state is ResponseState.MISSED
    assert settled is None


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(["Asia/Tokyo", "America/New_York", "Europe/London", "Australia/Lord_Howe"]),
)
def test_a_due_time_is_always_open_time_and_never_before_the_target(start: datetime, zone: str) -> None:
    shop = _shop(zone=zone, holidays=["2026-12-31"])
    schedule = Schedule.of(shop)
    assert schedule is not None

    due = response_due(shop, Channel.WEB_CHAT, start)

    assert due - start >= timedelta(hours=1)
    # the moment just before the due time is open (the clock ran up to it)
    assert schedule.is_open(due - timedelta(seconds=1))


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_outside_hours_text_exists_in_both_languages(locale: str) -> None:
    text = acknowledgement(_shop(), _at(TOKYO, 2026, 12, 6, 3, 0), locale)

    assert text is not None and "{" not in text
