"""The Insights figures (``GET /api/v1/insights``) and their days as CSV (``GET /api/v1/insights.csv``):
for a range of days in the shop's time zone (the last 30 by default), filtered by channel, intent, language
and agent; always the caller's shop only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from shop_app.answers.understanding.model import Intent
from shop_app.errors import Unprocessable
from shop_app.formats.display import time_zone
from shop_app.insights.measures import MAX_DAYS, Filters
from shop_app.insights.rollup import FRESH, refresh
from shop_app.insights.summed import insights
from shop_app.models import Channel, Shop
from shop_app.models.answers import LANGUAGES
from shop_app.routes.api.auth import authenticate
from shop_app.routes.api.io import ChoiceQuery, Endpoint, JSONModelResponse, TextQuery
from shop_app.routes.request_state import services
from shop_app.schemas.insights import DayRow, InsightsOut

DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DEFAULT_DAYS = 30
START = TextQuery(
    "start", "The first day (YYYY-MM-DD, the shop's time zone); default 29 days before end", 10, DAY_PATTERN
)
END = TextQuery(
    "end", "The last day, included (YYYY-MM-DD); default today in the shop's time zone", 10, DAY_PATTERN
)
CHANNEL = ChoiceQuery("channel", "Only this channel's tickets", tuple(c.value for c in Channel))
INTENT = ChoiceQuery(
    "intent", "Only tickets whose first question had this intent", tuple(i.value for i in Intent)
)
LANGUAGE = ChoiceQuery("language", "Only tickets in this language", LANGUAGES)
AGENT = TextQuery("agent", "Only tickets assigned to this agent (an id)", 10, r"^[1-9][0-9]{0,9}$")
QUERY = (START, END, CHANNEL, INTENT, LANGUAGE, AGENT)
REFUSED = {422: "A day that is not in the calendar, start after end, or more than 366 days"}


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Unprocessable(f"'{name}' is not a day of the calendar", code="invalid_range") from None


def read_range(request: Request, zone_name: str | None) -> tuple[date, date]:
    raw_end = END.read(request)
    raw_start = START.read(request)
    end = _day(raw_end, "end") if raw_end else datetime.now(UTC).astimezone(time_zone(zone_name)).date()
    start = _day(raw_start, "start") if raw_start else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise Unprocessable("'start' comes after 'end'", code="invalid_range")
    if (end - start).days + 1 > MAX_DAYS:
        raise Unprocessable(f"A range is at most {MAX_DAYS} days", code="invalid_range")
    return start, end


def read_filters(request: Request) -> Filters:
    agent = AGENT.read(request)
    return Filters(
        channel=CHANNEL.read(request),
        intent=INTENT.read(request),
        language=LANGUAGE.read(request),
        agent_id=int(agent) if agent else None,
    )


async def figures_for(request: Request, shop: Shop) -> InsightsOut:
    """The figures of the request's range and filters for ``shop`` (the caller's, already authenticated)."""
    start, end = read_range(request, shop.iana_timezone)
    filters = read_filters(request)
    app = services(request)
    async with app.sessions() as session:
        # the changes since the last run unless it ran within the minute (the scheduled run keeps them few)
        window = app.settings.recontact_window_days
        await refresh(session, shop, unless_within=FRESH, window_days=window)
        await session.commit()
        return await insights(
            session, shop=shop, start=start, end=end, filters=filters, recontact_window_days=window
        )


async def figures(request: Request) -> InsightsOut:
    caller = await authenticate(request)
    return await figures_for(request, caller.shop)


async def read_endpoint(request: Request) -> Response:
    return JSONModelResponse(await figures(request))


def days_csv(out: InsightsOut) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = list(DayRow.model_fields)
    writer.writerow(columns)
    for row in out.days:
        shown = row.model_dump(mode="json")
        writer.writerow(["" if shown[c] is None else shown[c] for c in columns])
    return buffer.getvalue()


async def csv_endpoint(request: Request) -> Response:
    out = await figures(request)
    name = f"insights-{out.start.isoformat()}-{out.end.isoformat()}.csv"
    return Response(
        days_csv(out),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/insights",
        read_endpoint,
        "Insights: inquiries per 100 orders, honest automation, re-contacts, handoffs, speed, CSAT",
        "insights",
        response=InsightsOut,
        query=QUERY,
        responses=REFUSED,
    ),
    Endpoint(
        "GET",
        "/api/v1/insights.csv",
        csv_endpoint,
        "The same figures, one row per day, as CSV (text/csv)",
        "insights",
        query=QUERY,
        responses=REFUSED,
    ),
]
