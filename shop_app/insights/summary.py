"""The Insights day summaries (``insight_days``, ``insight_day_keys``), kept beside the per-ticket facts
(``insight_tickets``) by the rollup, so a range's counts are a few hundred rows a day at most instead of
every ticket of it.

Each local day's rows are worked out again, whole, from that day's per-ticket facts whenever one of its
tickets was: the rollup passes the days it touched (all of them when it rebuilds). The counts hang on the
re-contact window and the first-response targets, so the rollup state's fingerprint includes them and a
read with another window falls back to the per-ticket facts (``summed``). What hangs on the moment of the
read (a resolution whose window still runs is not yet honest) is not summed: the reader takes it off from
the few resolutions of the last window (``ix_insight_tickets_shop_resolved_at``)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.helpdesk.business_hours import first_response_minutes
from shop_app.models import Channel, InsightDay, InsightDayKey, InsightTicket, Shop
from shop_app.models.insights import COARSE, FINE

T = InsightTicket
COUNTED = (
    "tickets",
    "resolved",
    "kept",
    "bot_kept",
    "recontacted",
    "handed",
    "closed",
    "answered_first",
    "met",
)
KINDS = ("handoff_reason", "handoff_intent", "wismo_state", "wismo_carrier")
# the per-ticket facts the summaries are made of
FACTS: tuple[Any, ...] = tuple(
    T.__table__.c[name]  # type: ignore[attr-defined]
    for name in (
        "day",
        "channel",
        "agent_id",
        "by_bot",
        "intent",
        "language",
        "resolved",
        "reopened",
        "return_seconds",
        "first_response_seconds",
        "handoff_reason",
        "handoff_intent",
        "wismo_state",
        "wismo_carrier",
        "stock",
    )
)
DEFAULT_TARGET = 3600.0
CHUNK = 500
BATCH = 5_000


def targets(shop: Shop) -> dict[str, float]:
    """Seconds of open time each channel's first response is due within."""
    return {channel.value: first_response_minutes(shop, channel) * 60.0 for channel in Channel}


def fingerprint(shop: Shop, window_days: int) -> str:
    """What the stored rows depend on besides the tickets: business hours (durations), first-response
    targets and the re-contact window (the summaries)."""
    text = json.dumps(
        [shop.business_hours, targets(shop), window_days], sort_keys=True, default=str, ensure_ascii=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def counts(fact: Mapping[str, Any], window: timedelta, due: Mapping[str, float]) -> tuple[int, ...]:
    """One ticket's contribution to each of ``COUNTED`` (the rules of ``measures._fold``)."""
    resolved = bool(fact["resolved"])
    reopened = bool(fact["reopened"])
    returned = fact["return_seconds"]
    back = returned is not None and returned <= window.total_seconds()
    kept = resolved and not reopened and not back
    first = fact["first_response_seconds"]
    return (
        1,
        int(resolved),
        int(kept),
        int(kept and bool(fact["by_bot"])),
        int(reopened or (resolved and back)),
        int(fact["handoff_reason"] is not None),
        int(resolved or reopened),
        int(first is not None),
        int(first is not None and first <= due.get(str(fact["channel"]), DEFAULT_TARGET)),
    )


def _dims(fact: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        int(fact["day"]),
        str(fact["channel"]),
        fact["agent_id"],
        bool(fact["by_bot"]),
        fact["intent"],
        fact["language"],
    )


def _keys(fact: Mapping[str, Any]) -> Iterable[tuple[str, str, str | None, int]]:
    for kind in KINDS:
        if fact[kind] is not None:
            yield kind, str(fact[kind]), None, 0
    for product, variant, sold_out in fact["stock"] or ():
        yield "stock", str(product), variant, int(bool(sold_out))


def summarise(
    shop_id: int, facts: Iterable[Mapping[str, Any]], window: timedelta, due: Mapping[str, float]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``insight_days`` and ``insight_day_keys`` rows (both grains) of ``facts`` (whole days)."""
    summed: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(COUNTED))
    keyed: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for fact in facts:
        dims = _dims(fact)
        day, channel, agent_id, by_bot = dims[:4]
        numbers = counts(fact, window, due)
        for key in ((FINE, *dims), (COARSE, day, channel, agent_id, by_bot, None, None)):
            total = summed[key]
            for index, number in enumerate(numbers):
                total[index] += number
        for kind, value, variant, sold_out in _keys(fact):
            for key in ((FINE, *dims), (COARSE, day, "", None, False, None, None)):
                tally = keyed[(*key, kind, value[:512], variant[:512] if variant else variant)]
                tally[0] += 1
                tally[1] += sold_out
    names = ("grain", "day", "channel", "agent_id", "by_bot", "intent", "language")
    days = [
        {"shop_id": shop_id, **dict(zip(names, key, strict=True)), **dict(zip(COUNTED, n, strict=True))}
        for key, n in summed.items()
    ]
    keys = [
        {
            "shop_id": shop_id,
            **dict(zip(names, key[:7], strict=True)),
            "kind": key[7],
            "key": key[8],
            "variant": key[9],
            "count": n,
            "sold_out": sold_out,
        }
        for key, (n, sold_out) in keyed.items()
    ]
    return days, keys


async def _facts(session: AsyncSession, shop_id: int, days: Sequence[int] | None) -> list[dict[str, Any]]:
    """The per-ticket facts of ``days`` (every day when None)."""
    if days is None:
        rows = await session.execute(select(*FACTS).where(col(T.shop_id) == shop_id))
        return [dict(row._mapping) for row in rows]
    facts: list[dict[str, Any]] = []
    for index in range(0, len(days), CHUNK):
        rows = await session.execute(
            select(*FACTS).where(col(T.shop_id) == shop_id, col(T.day).in_(days[index : index + CHUNK]))
        )
        facts.extend(dict(row._mapping) for row in rows)
    return facts


async def stale_days(session: AsyncSession, shop_id: int) -> set[int]:
    """The days whose summaries count tickets that are no longer there (a ticket erased, its facts with it:
    the rollup never sees it change): two sums when nothing is missing, the days compared when one is."""
    facts = select(func.count()).where(col(T.shop_id) == shop_id)
    summed = select(func.coalesce(func.sum(col(InsightDay.tickets)), 0)).where(
        col(InsightDay.shop_id) == shop_id, col(InsightDay.grain) == COARSE
    )
    if (await session.execute(facts)).scalar_one() == (await session.execute(summed)).scalar_one():
        return set()
    held = dict(
        (
            await session.execute(
                select(col(T.day), func.count()).where(col(T.shop_id) == shop_id).group_by(col(T.day))
            )
        ).all()
    )
    counted = dict(
        (
            await session.execute(
                select(col(InsightDay.day), func.sum(col(InsightDay.tickets)))
                .where(col(InsightDay.shop_id) == shop_id, col(InsightDay.grain) == COARSE)
                .group_by(col(InsightDay.day))
            )
        ).all()
    )
    return {int(day) for day in held.keys() | counted.keys() if held.get(day, 0) != counted.get(day, 0)}


async def write(
    session: AsyncSession,
    shop: Shop,
    window: timedelta,
    days: Iterable[int] | None = None,
    facts: Iterable[Mapping[str, Any]] | None = None,
) -> int:
    """Sum again the local ``days`` of ``shop`` from their per-ticket facts, or every day (``days`` None;
    from ``facts`` when given, the shop's rows just written). Returns the summary rows written."""
    assert shop.id is not None
    chosen = None if days is None else sorted(set(days))
    for table in (InsightDay, InsightDayKey):
        if chosen is None:
            await session.execute(delete(table).where(col(table.shop_id) == shop.id))
            continue
        for index in range(0, len(chosen), CHUNK):
            await session.execute(
                delete(table).where(
                    col(table.shop_id) == shop.id, col(table.day).in_(chosen[index : index + CHUNK])
                )
            )
    if chosen is not None or facts is None:
        facts = await _facts(session, shop.id, chosen) if chosen != [] else []
    day_rows, key_rows = summarise(shop.id, facts, window, targets(shop))
    for table, rows in ((InsightDay, day_rows), (InsightDayKey, key_rows)):
        for index in range(0, len(rows), BATCH):
            await session.execute(insert(table), rows[index : index + BATCH])
    return len(day_rows) + len(key_rows)
