"""The embedded admin's Insights page: its figures as an HTML fragment of server-drawn SVG charts (each with
its numbers in a table a click away), for the page's script to show (``GET /api/admin/insights``, App
Bridge session token). The same query as ``GET /api/v1/insights``; the CSV is that API's."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from shop_app.i18n import catalogue, first_supported
from shop_app.insights.charts import count_bars, day_chart
from shop_app.routes.api.insights import figures_for
from shop_app.routes.embedded_admin import authenticate_admin
from shop_app.routes.request_state import templates
from shop_app.schemas.insights import Headline, InsightsOut

# headline measures: (field, format, whether a rise is good)
HEADLINE = (
    ("inquiries_per_100_orders", "number", False),
    ("orders", "count", True),
    ("tickets", "count", None),
    ("automation_rate", "percent", True),
    ("honest_resolution_rate", "percent", True),
    ("recontact_rate", "percent", False),
    ("handoff_rate", "percent", False),
    ("first_response_median_minutes", "minutes", False),
    ("first_response_p90_minutes", "minutes", False),
    ("resolution_median_minutes", "minutes", False),
    ("first_response_target_met_rate", "percent", True),
    ("csat_average", "score", True),
)


def shown(value: float | int | None, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "percent":
        return f"{100 * value:.1f}%"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "minutes":
        return f"{value:,.1f}"
    if kind == "score":
        return f"{value:.2f}"
    return f"{value:,.2f}"


def change(now: Headline, before: Headline, name: str, kind: str, rise_good: bool | None) -> dict[str, str]:
    current = getattr(now, name)
    previous = getattr(before, name)
    if current is None or previous is None:
        return {"text": "", "tone": "neutral", "direction": "none"}
    delta = current - previous
    if kind == "percent":
        text = f"{100 * delta:+.1f} pt"
    elif kind == "count":
        text = f"{int(delta):+,}"
    else:
        text = f"{delta:+,.2f}"
    direction = "up" if delta > 0 else "down" if delta < 0 else "none"
    tone = "neutral" if rise_good is None or delta == 0 else ("good" if (delta > 0) == rise_good else "bad")
    return {"text": text, "tone": tone, "direction": direction}


def fragment_context(out: InsightsOut, locale: str) -> dict[str, object]:
    days = [row.day for row in out.days]
    messages = catalogue(locale)
    charts = {
        "volume": day_chart(days, [("tickets", [row.tickets for row in out.days])], bars=True),
        "per_orders": day_chart(
            days, [("inquiries_per_100_orders", [row.inquiries_per_100_orders for row in out.days])]
        ),
        "resolution": day_chart(
            days,
            [
                ("honestly_resolved", [row.honestly_resolved for row in out.days]),
                ("bot_resolved", [row.bot_resolved for row in out.days]),
                ("recontacted", [row.recontacted for row in out.days]),
            ],
        ),
        "first_response": day_chart(
            days, [("first_response_median_minutes", [row.first_response_median_minutes for row in out.days])]
        ),
        "csat": day_chart(days, [("csat_average", [row.csat_average for row in out.days])]),
    }

    def word(prefix: str, key: str) -> str:
        full = f"{prefix}.{key}"
        text = messages.text(full)
        return key.replace("_", " ") if text == full else text

    counts = {
        "handoff_reasons": count_bars(
            [(word("admin.insights.reason", c.key), c.count) for c in out.handoff_reasons]
        ),
        "handoff_intents": count_bars(
            [(word("admin.insights.intent", c.key), c.count) for c in out.handoff_intents]
        ),
        "wismo_by_state": count_bars(
            [(word("admin.insights.state", c.key), c.count) for c in out.wismo_by_state]
        ),
        "wismo_by_carrier": count_bars(
            [
                (messages.text("admin.insights.no_carrier") if c.key == "none" else c.key, c.count)
                for c in out.wismo_by_carrier
            ]
        ),
        "stock_questions": count_bars(
            [(s.product + (f" / {s.variant}" if s.variant else ""), s.count) for s in out.stock_questions]
        ),
    }
    headline = [
        {
            "name": name,
            "value": shown(getattr(out.current, name), kind),
            "previous": shown(getattr(out.previous, name), kind),
            "change": change(out.current, out.previous, name, kind, rise_good),
        }
        for name, kind, rise_good in HEADLINE
    ]
    return {
        "out": out,
        "charts": charts,
        "counts": counts,
        "headline": headline,
        "word": word,
        "shown": shown,
    }


async def figures_fragment(request: Request) -> Response:
    admin = await authenticate_admin(request)
    out = await figures_for(request, admin.shop)
    locale = first_supported(request.query_params.get("locale"), admin.shop.primary_locale)
    context = {"t": catalogue(locale).text, "locale": locale, **fragment_context(out, locale)}
    response = templates(request).TemplateResponse(request, "admin/insights_figures.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


routes: list[BaseRoute] = [Route("/api/admin/insights", figures_fragment, methods=["GET"])]
