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
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
GROUPING = ("grain", "day", "channel", "agent_id", "by_bot", "intent", "language")
# the unique key of each summary table after ``shop_id``
UNIQUE = {"insight_days": GROUPING, "insight_day_keys": (*GROUPING, "kind", "key", "variant")}
NONE = ""  # no intent, language or variant (or, COARSE, all of them): a value, so the unique key holds
NO_AGENT = 0
KEY_CHARS = 255
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
    """The grouping of a FINE row (NONE for a missing agent, intent or language)."""
    return (
        int(fact["day"]),
        str(fact["channel"]),
        fact["agent_id"] or NO_AGENT,
        bool(fact["by_bot"]),
        fact["intent"] or NONE,
        fact["language"] or NONE,
    )


def _keys(fact: Mapping[str, Any]) -> Iterable[tuple[str, str, str, int]]:
    for kind in KINDS:
        if fact[kind] is not None:
            yield kind, str(fact[kind])[:KEY_CHARS], NONE, 0
    for product, variant, sold_out in fact["stock"] or ():
        yield "stock", str(product)[:KEY_CHARS], str(variant or NONE)[:KEY_CHARS], int(bool(sold_out))


@dataclass(slots=True)
class Sums:
    """Summary rows being worked out: per grouping (the unique key of the table), the counted numbers."""

    days: dict[tuple[Any, ...], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 9))
    keys: dict[tuple[Any, ...], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def add(
        self, facts: Iterable[Mapping[str, Any]], window: timedelta, due: Mapping[str, float], sign: int = 1
    ) -> None:
        """Count ``facts`` in (``sign`` -1: take them out, the facts a ticket had until now)."""
        for fact in facts:
            dims = _dims(fact)
            day, channel, agent_id, by_bot = dims[:4]
            numbers = counts(fact, window, due)
            for key in ((FINE, *dims), (COARSE, day, channel, agent_id, by_bot, NONE, NONE)):
                total = self.days[key]
                for index, number in enumerate(numbers):
                    total[index] += sign * number
            for kind, value, variant, sold_out in _keys(fact):
                for key in ((FINE, *dims), (COARSE, day, NONE, NO_AGENT, False, NONE, NONE)):
                    tally = self.keys[(*key, kind, value, variant)]
                    tally[0] += sign
                    tally[1] += sign * sold_out

    def rows(self, shop_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The ``insight_days`` and ``insight_day_keys`` rows (or the changes to them), nothing unchanged."""
        days = [
            {
                "shop_id": shop_id,
                **dict(zip(GROUPING, key, strict=True)),
                **dict(zip(COUNTED, n, strict=True)),
            }
            for key, n in self.days.items()
            if any(n)
        ]
        keys = [
            {
                "shop_id": shop_id,
                **dict(zip((*GROUPING, "kind", "key", "variant"), key, strict=True)),
                "count": n,
                "sold_out": sold_out,
            }
            for key, (n, sold_out) in self.keys.items()
            if n or sold_out
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
    sums = Sums()
    sums.add(facts, window, targets(shop))
    day_rows, key_rows = sums.rows(shop.id)
    for table, rows in ((InsightDay, day_rows), (InsightDayKey, key_rows)):
        for index in range(0, len(rows), BATCH):
            await session.execute(insert(table), rows[index : index + BATCH])
    return len(day_rows) + len(key_rows)


async def old_facts(session: AsyncSession, shop_id: int, ticket_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The facts ``ticket_ids`` are counted with until now (before the rollup writes them again)."""
    rows = await session.execute(
        select(*FACTS).where(col(T.shop_id) == shop_id, col(T.ticket_id).in_(ticket_ids))
    )
    return [dict(row._mapping) for row in rows]


async def change(
    session: AsyncSession,
    shop: Shop,
    window: timedelta,
    before: Iterable[Mapping[str, Any]],
    after: Iterable[Mapping[str, Any]],
) -> int:
    """Take ``before`` (some tickets' facts until now) out of the summaries and count ``after`` (their facts
    now) in: an upsert adding the difference to each grouping touched (the unique indexes), then the
    groupings left with nothing deleted. Returns the groupings changed."""
    assert shop.id is not None
    due = targets(shop)
    sums = Sums()
    sums.add(before, window, due, sign=-1)
    sums.add(after, window, due)
    day_rows, key_rows = sums.rows(shop.id)
    dialect = (await session.connection()).dialect.name
    upsert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    for table, rows, numbers, empty in (
        (InsightDay, day_rows, COUNTED, col(InsightDay.tickets) == 0),
        (InsightDayKey, key_rows, ("count", "sold_out"), col(InsightDayKey.count) == 0),
    ):
        if not rows:
            continue
        columns = table.__table__.c  # type: ignore[union-attr]
        statement = upsert(table)
        statement = statement.on_conflict_do_update(
            index_elements=["shop_id", *UNIQUE[table.__tablename__]],
            set_={name: columns[name] + statement.excluded[name] for name in numbers},
        )
        for index in range(0, len(rows), BATCH):
            await session.execute(statement, rows[index : index + BATCH])
        days = sorted({int(row["day"]) for row in rows})
        for index in range(0, len(days), CHUNK):
            await session.execute(
                delete(table).where(
                    col(table.shop_id) == shop.id, col(table.day).in_(days[index : index + CHUNK]), empty
                )
            )
    return len(day_rows) + len(key_rows)
