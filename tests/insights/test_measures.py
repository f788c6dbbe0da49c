"""Every Insights figure for a small history worked out by hand (tests/insights/world.py), read through the
API: the 7-day re-contact window, business hours, a reopened ticket, several channels and two time zones,
another shop never counted, the filters and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shop_app.helpdesk.business_hours import Schedule
from shop_app.insights.measures import Filters, OpenClock, insights, percentile
from shop_app.models import Shop
from tests.helpdesk.conftest import ALPHA, BETA
from tests.insights.conftest import Desk
from tests.insights.world import World, tokyo

RANGE = {"start": "2026-11-01", "end": "2026-11-10"}


async def _figures(desk: Desk, shop: str = ALPHA, **query: Any) -> dict[str, Any]:
    answer = await desk.client.get("/api/v1/insights", params={**RANGE, **query}, headers=desk.key(shop))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_the_headline_figures_match_the_hand_count(desk: Desk, world: World) -> None:
    figures = await _figures(desk)
    now = figures["current"]

    assert figures["timezone"] == "Asia/Tokyo" and figures["business_hours"] is True
    # orders 1002 (00:30 on 1 Nov in Tokyo, still 31 Oct in UTC), 1003, 1004, 1005; t1–t6 (t7 is after the range)
    assert now["orders"] == 4 and now["tickets"] == 6
    assert now["inquiries_per_100_orders"] == 150.0
    # resolved now: t1 t2 t3 t6; t1 came back (t3, same customer, same order, 2 days later); t4 was reopened
    assert now["resolved"] == 4 and now["recontacted"] == 2
    assert now["honestly_resolved"] == 3 and now["bot_resolved"] == 1  # t6 only: t1 does not count
    assert now["automation_rate"] == round(1 / 6, 4) and now["honest_resolution_rate"] == 0.5
    assert now["recontact_rate"] == 0.4  # 2 of the 5 ever closed (t1 t2 t3 t4 t6)
    assert now["handed_off"] == 2 and now["handoff_rate"] == round(2 / 6, 4)
    assert now["awaiting_window"] == 0
    # first responses in open time: t1 0.5, t2 61 (17:30–18:00 and 09:00–09:31), t3 60, t4 0 (after hours), t6 0.5
    assert now["first_response_median_minutes"] == 0.5 and now["first_response_p90_minutes"] == 61.0
    assert now["first_response_target_met_rate"] == 0.8  # t2 missed its hour
    # resolutions: t1 1, t6 2, t2 120 (30 + 90), t3 120
    assert now["resolution_median_minutes"] == 2.0 and now["resolution_p90_minutes"] == 120.0
    assert (now["csat_sent"], now["csat_answered"], now["csat_average"], now["csat_satisfied_rate"]) == (
        3,
        2,
        4.0,
        0.5,
    )
    before = figures["previous"]
    assert before["orders"] == 1 and before["tickets"] == 0 and before["inquiries_per_100_orders"] == 0.0


async def test_breakdowns_match_the_hand_count(desk: Desk, world: World) -> None:
    figures = await _figures(desk)
    counts = lambda rows: {row["key"]: row["count"] for row in rows}  # noqa: E731

    assert counts(figures["handoff_reasons"]) == {"person_only_intent": 1, "asked_for_person": 1}
    assert counts(figures["handoff_intents"]) == {"cancel": 1, "human": 1}
    # t6 asked 8 days after ordering, unshipped
    assert counts(figures["wismo_by_state"]) == {"in_transit": 1, "delivered": 1, "unfulfilled_7d_plus": 1}
    assert counts(figures["wismo_by_carrier"]) == {"Yamato": 2, "none": 1}
    assert figures["stock_questions"] == [{"product": "Tee", "variant": "M", "count": 1, "sold_out_asks": 1}]
    channels = {row["key"]: row for row in figures["speed_by_channel"]}
    assert set(channels) == {"web_chat", "email", "line"}
    assert (
        channels["web_chat"]["tickets"] == 4 and channels["web_chat"]["first_response_median_minutes"] == 0.5
    )
    assert channels["email"]["first_response_median_minutes"] == 60.0
    assert channels["email"]["first_response_target_met_rate"] == 1.0  # email's target is a day
    agents = {row["key"]: row for row in figures["speed_by_agent"]}
    assert agents[str(world.agent_id)]["tickets"] == 2 and agents["bot"]["tickets"] == 2
    csat_channels = {row["key"]: row for row in figures["csat_by_channel"]}
    assert csat_channels["web_chat"] == {
        "key": "web_chat",
        "sent": 2,
        "answered": 2,
        "average": 4.0,
        "satisfied_rate": 0.5,
    }
    assert csat_channels["email"]["answered"] == 0 and csat_channels["email"]["average"] is None
    csat_agents = {row["key"]: row for row in figures["csat_by_agent"]}
    assert csat_agents["bot"]["average"] == 3.0 and csat_agents[str(world.agent_id)]["average"] == 5.0


async def test_days_are_the_shops_local_days(desk: Desk, world: World) -> None:
    days = {row["day"]: row for row in (await _figures(desk))["days"]}

    assert len(days) == 10
    assert days["2026-11-01"]["orders"] == 1 and days["2026-11-01"]["tickets"] == 0
    assert days["2026-11-02"]["tickets"] == 2 and days["2026-11-02"]["inquiries_per_100_orders"] == 200.0
    assert days["2026-11-02"]["recontacted"] == 1 and days["2026-11-02"]["handed_off"] == 1
    assert days["2026-11-09"]["bot_resolved"] == 1 and days["2026-11-09"]["csat_average"] == 3.0


async def test_filters(desk: Desk, world: World) -> None:
    chat = (await _figures(desk, channel="web_chat"))["current"]
    english = (await _figures(desk, language="en"))["current"]
    agent = (await _figures(desk, agent=str(world.agent_id)))["current"]
    orders = (await _figures(desk, intent="order_status"))["current"]

    assert chat["tickets"] == 4 and chat["csat_sent"] == 2
    assert english["tickets"] == 1 and english["handed_off"] == 1
    assert agent["tickets"] == 2 and agent["honestly_resolved"] == 2 and agent["csat_sent"] == 2
    assert orders["tickets"] == 3 and orders["recontacted"] == 1 and orders["bot_resolved"] == 1


async def test_another_shops_data_is_never_counted(desk: Desk, world: World) -> None:
    beta = await _figures(desk, shop=BETA)
    alpha = await _figures(desk)

    assert beta["timezone"] == "America/New_York" and beta["business_hours"] is False
    assert beta["current"]["tickets"] == 1 and beta["current"]["orders"] == 1
    assert beta["current"]["csat_average"] == 1.0 and beta["current"]["bot_resolved"] == 1
    # Beta's c1 has Alpha's c1's name and email: a different customer, no re-contact either way
    assert alpha["current"]["csat_average"] == 4.0
    assert 1.0 not in [row["average"] for row in alpha["csat_by_agent"]]
    # Alpha's agent filter with Beta's agent: nothing
    other = (await _figures(desk, agent=str(desk.agent_ids["agent@beta.test"])))["current"]
    assert other["tickets"] == 0 and other["csat_sent"] == 0


async def test_the_re_contact_window_is_a_setting(desk: Desk, world: World) -> None:
    # t7 came 7 days 58 minutes after t6 was resolved: outside 7 days, inside 8
    async with desk.services.sessions() as session:
        shop = await session.get_one(Shop, desk.shop_ids[ALPHA])
        seven = await insights(
            session, shop=shop, start=tokyo(2026, 11, 1, 12).date(), end=tokyo(2026, 11, 10, 12).date()
        )
        eight = await insights(
            session,
            shop=shop,
            start=tokyo(2026, 11, 1, 12).date(),
            end=tokyo(2026, 11, 10, 12).date(),
            recontact_window_days=8,
        )
        early = await insights(
            session,
            shop=shop,
            start=tokyo(2026, 11, 1, 12).date(),
            end=tokyo(2026, 11, 10, 12).date(),
            now=tokyo(2026, 11, 12, 0, 0),
        )
    assert seven.current.bot_resolved == 1 and eight.current.bot_resolved == 0
    assert eight.current.recontacted == 3
    # three days after t6's resolution its window still runs: neither honest nor re-contacted yet
    assert early.current.awaiting_window == 1 and early.current.bot_resolved == 0


async def test_csv_export_has_one_row_per_day(desk: Desk, world: World) -> None:
    answer = await desk.client.get("/api/v1/insights.csv", params=RANGE, headers=desk.key(ALPHA))

    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "insights-2026-11-01-2026-11-10.csv" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 10
    assert (
        rows[1]["day"] == "2026-11-02"
        and rows[1]["tickets"] == "2"
        and rows[1]["inquiries_per_100_orders"] == "200.0"
    )


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-11-10", "end": "2026-11-01"},
        {"start": "2025-01-01", "end": "2026-11-01"},
        {"start": "2026-02-30"},
        {"end": "0000-00-00"},
    ],
)
async def test_impossible_ranges_are_refused(desk: Desk, query: dict[str, str]) -> None:
    answer = await desk.client.get("/api/v1/insights", params=query, headers=desk.key(ALPHA))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_range"


@pytest.mark.parametrize(
    "query",
    [
        {"start": "20261101"},
        {"channel": "fax"},
        {"agent": "0"},
        {"agent": "1 OR 1=1"},
        {"language": "fr"},
    ],
)
async def test_bad_queries_are_refused(desk: Desk, query: dict[str, str]) -> None:
    answer = await desk.client.get("/api/v1/insights", params=query, headers=desk.key(ALPHA))
    assert answer.status_code == 400, answer.text


async def test_without_credentials_nothing_is_told(desk: Desk) -> None:
    assert (await desk.client.get("/api/v1/insights")).status_code == 401
    assert (await desk.client.get("/api/v1/insights.csv")).status_code == 401


def test_percentile_is_the_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.9) == 4.0


def test_open_time_counts_only_business_hours_across_a_weekend() -> None:
    shop = Shop(id=1, domain="a.myshopify.com", iana_timezone="Asia/Tokyo")
    shop.business_hours = {
        "timezone": None,
        "week": {"fri": {"opens": "09:00", "closes": "18:00"}, "mon": {"opens": "09:00", "closes": "18:00"}},
    }
    clock = OpenClock(Schedule.of(shop))
    # Friday 17:00 to Monday 10:00: one hour on Friday, one on Monday
    assert clock.seconds(tokyo(2026, 11, 6, 17, 0), tokyo(2026, 11, 9, 10, 0)) == 7200.0
    assert OpenClock(None).seconds(tokyo(2026, 11, 6, 17, 0), tokyo(2026, 11, 9, 10, 0)) == 65 * 3600.0
    assert Filters().agent_id is None


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=40 * 86_400),
    length=st.integers(min_value=0, max_value=10 * 86_400),
)
def test_the_laid_out_clock_counts_as_the_day_by_day_one(start: int, length: int) -> None:
    shop = Shop(id=1, domain="a.myshopify.com", iana_timezone="America/New_York")
    shop.business_hours = {
        "timezone": None,
        "week": {"mon": {"opens": "09:00", "closes": "18:00"}, "sat": {"opens": "22:00", "closes": "24:00"}},
        "holidays": ["2026-11-09"],
    }
    schedule = Schedule.of(shop)
    origin = datetime(2026, 10, 20, tzinfo=UTC)  # across the end of summer time (1 November)
    a = origin + timedelta(seconds=start)
    b = a + timedelta(seconds=length)
    laid_out = OpenClock(schedule, date(2026, 10, 15), date(2026, 12, 15))
    assert laid_out.seconds(a, b) == pytest.approx(OpenClock(schedule).seconds(a, b))
