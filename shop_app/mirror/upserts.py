"""The mirror's upsert machinery: batched, dialect-aware upserts where the newest version wins, children
replaced with their parent, and deletion tombstones.

Each writer (``shop_app.mirror.writes``) is a handful of Core statements for a whole batch: a read of
what is stored, one multi-row
``INSERT … ON CONFLICT (shop_id, shopify_id) DO UPDATE … WHERE excluded.updated_at >= table.updated_at``
(so an older version never overwrites a newer one, even between two writers racing), and for parents
whose child collection is given, one DELETE of the children no longer there and one upsert of the rest.

Shopify's ``updated_at`` has whole seconds, so two changes within one second carry the same time. A
version with the same time as the stored one is therefore applied (the later write wins): dropping it
would lose the second change for good, while applying it can at worst put back a same-second older
version when deliveries are reordered, which the next reconciliation (GraphQL's current state, written
the same way) repairs.

A deleted record leaves a tombstone (``DeletedRecord``), so a late or replayed update does not bring it
back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, case, delete, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.shopify import resources
from shop_app.database import affected_rows
from shop_app.mirror.rows import Row
from shop_app.models import DeletedRecord
from shop_app.models.base import utcnow

DELETED: Table = DeletedRecord.__table__  # type: ignore[attr-defined]

# Keys per statement stay far below SQLite's and asyncpg's bound-parameter limits.
KEYS_PER_STATEMENT = 500

Key = tuple[Any, ...]
_T = TypeVar("_T")
R = TypeVar("R", resources.Customer, resources.Order, resources.Product)


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int = 0
    updated: int = 0  # stored row was older and is now replaced
    unchanged: int = 0  # same updated_at: only synced_at bumped
    stale: int = 0  # incoming older than stored: ignored
    changed_ids: tuple[int, ...] = ()  # shopify ids inserted or updated (reconciliation reports them)

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            inserted=self.inserted + other.inserted,
            updated=self.updated + other.updated,
            unchanged=self.unchanged + other.unchanged,
            stale=self.stale + other.stale,
            changed_ids=self.changed_ids + other.changed_ids,
        )


@dataclass(frozen=True, slots=True)
class Spec:
    """How one table is upserted."""

    table: Table
    key: tuple[str, ...] = ("shopify_id",)
    keep_if_null: frozenset[str] = frozenset()  # None = unknown: keeps what is stored
    fill_if_empty: frozenset[str] = frozenset()  # JSON lists: an equal version fills an empty one
    insert_only: frozenset[str] = frozenset()  # set on insert, never on update
    guarded: bool = True  # False: children written with their parent, which was guarded


# Newest wins ----------------------------------------------------------------------------------------


def newest_versions(records: Sequence[_T], *, key: Any) -> list[_T]:
    """One record per id, the newest (the last given among equals), in first-seen order."""
    chosen: dict[Any, _T] = {}
    for record in records:
        current = chosen.get(key(record))
        if current is None or not _older(record, current):
            chosen[key(record)] = record
    return list(chosen.values())


def _older(record: Any, than: Any) -> bool:
    mine, theirs = getattr(record, "updated_at", None), getattr(than, "updated_at", None)
    return mine is not None and theirs is not None and bool(mine < theirs)


def chunks(items: Sequence[_T], size: int = KEYS_PER_STATEMENT) -> Iterable[Sequence[_T]]:
    """Pieces of ``size``, and what is left in pieces of powers of two: each statement's text then takes
    one of a dozen shapes, not one per count of rows. Every new shape is a statement the driver keeps
    prepared (sqlite3 keeps 128 per connection, each the size of its thousands of parameters): with one
    shape per batch size, a long bulk import grew the process by about 100 MiB."""
    start = 0
    while start < len(items):
        left = len(items) - start
        step = size if left >= size else 1 << (left.bit_length() - 1)
        yield items[start : start + step]
        start += step


# Statements -----------------------------------------------------------------------------------------


async def _dialect(session: AsyncSession) -> str:
    return (await session.connection()).dialect.name


def _key_match(table: Table, key: tuple[str, ...], keys: Sequence[Key]) -> ColumnElement[bool]:
    if len(key) == 1:
        return table.c[key[0]].in_([k[0] for k in keys])
    return tuple_(*(table.c[name] for name in key)).in_(list(keys))


@cache
def _upsert_statement(dialect: str, spec: Spec, columns: tuple[str, ...]) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = spec.table
    statement = insert(table)
    excluded = statement.excluded
    conflict = ("shop_id", *spec.key)
    set_: dict[str, Any] = {}
    guard: ColumnElement[bool] | None = None
    if spec.guarded:
        incoming, stored = excluded.updated_at, table.c.updated_at
        newer: ColumnElement[bool] = incoming >= stored  # same second: the later write wins (see above)
        guard = incoming >= stored
        if table.c.updated_at.nullable:  # no time to order by: the incoming version wins
            newer = or_(incoming.is_(None), stored.is_(None), newer)
            guard = or_(incoming.is_(None), stored.is_(None), guard)
        for name in columns:
            if name in conflict or name in spec.insert_only or name == "synced_at":
                continue
            new, old = excluded[name], table.c[name]
            if name in spec.keep_if_null:
                set_[name] = case((newer, func.coalesce(new, old)), else_=func.coalesce(old, new))
            elif name in spec.fill_if_empty:
                set_[name] = case(
                    (or_(newer, func.json_array_length(old) == 0), new),
                    else_=old,
                )
            else:
                set_[name] = case((newer, new), else_=old)
    else:
        set_ = {
            name: excluded[name] for name in columns if name not in conflict and name not in spec.insert_only
        }
    set_["synced_at"] = excluded.synced_at
    return statement.on_conflict_do_update(index_elements=list(conflict), set_=set_, where=guard).returning(
        table.c.id, *(table.c[name] for name in spec.key)
    )


async def upsert(
    session: AsyncSession, spec: Spec, shop_id: int, rows: Sequence[Row], *, authoritative: bool = False
) -> tuple[UpsertResult, dict[Key, int]]:
    """Upsert rows of one shop; the result, and the row id of every record not stale, by key.

    ``authoritative`` writes (a GraphQL read of the whole record) take every column as given: a ``None``
    there is Shopify saying "empty", not "unknown", so nothing stored is kept in its place."""
    if not rows:
        return UpsertResult(), {}
    if authoritative:
        spec = replace(spec, keep_if_null=frozenset(), fill_if_empty=frozenset())
    table = spec.table
    by_key: dict[Key, Row] = {}
    for row in rows:  # a key twice in one statement is an error on PostgreSQL: the newest wins
        key = tuple(row[name] for name in spec.key)
        current = by_key.get(key)
        if current is None or not _row_older(row, current):
            by_key[key] = row
    keys = list(by_key)
    stored: dict[Key, datetime | None] = {}
    if spec.guarded:
        for chunk in chunks(keys):
            found = await session.execute(
                select(table.c.updated_at, *(table.c[name] for name in spec.key)).where(
                    table.c.shop_id == shop_id, _key_match(table, spec.key, chunk)
                )
            )
            for found_row in found:
                stored[tuple(found_row[1:])] = found_row[0]
    columns = tuple(next(iter(by_key.values())))
    statement = _upsert_statement(await _dialect(session), spec, columns)
    written: dict[Key, int] = {}
    for row_chunk in chunks(list(by_key.values())):
        returned = await session.execute(statement, list(row_chunk))
        for returned_row in returned:
            written[tuple(returned_row[1:])] = returned_row[0]
    inserted = updated = unchanged = stale = 0
    changed: list[int] = []
    for key, row in by_key.items():
        if key not in written:
            stale += 1
        elif key not in stored:
            inserted += 1
            changed.append(key[0])
        elif spec.guarded and _same_time(stored[key], row.get("updated_at")):
            unchanged += 1
        else:
            updated += 1
            changed.append(key[0])
    result = UpsertResult(
        inserted=inserted, updated=updated, unchanged=unchanged, stale=stale, changed_ids=tuple(changed)
    )
    return result, written


def _row_older(row: Row, than: Row) -> bool:
    mine, theirs = row.get("updated_at"), than.get("updated_at")
    return mine is not None and theirs is not None and bool(mine < theirs)


def _same_time(stored: datetime | None, incoming: datetime | None) -> bool:
    return stored is not None and incoming is not None and stored == incoming


# Children -------------------------------------------------------------------------------------------


async def delete_children_not_in(
    session: AsyncSession,
    table: Table,
    shop_id: int,
    *,
    parent_column: str,
    parent_ids: Sequence[int],
    keep: Sequence[int],
) -> None:
    """Children of these parents that are not among ``keep`` (child ids are unique within a shop)."""
    kept = set(keep)
    for chunk in chunks(parent_ids):
        found = await session.execute(
            select(table.c.id, table.c.shopify_id).where(
                table.c.shop_id == shop_id, table.c[parent_column].in_(list(chunk))
            )
        )
        gone = [row.id for row in found if row.shopify_id not in kept]
        for gone_chunk in chunks(gone):
            await session.execute(delete(table).where(table.c.id.in_(list(gone_chunk))))


async def replace_children(
    session: AsyncSession,
    spec: Spec,
    shop_id: int,
    *,
    parent_column: str,
    parent_ids: Sequence[int],
    rows: Sequence[Row],
) -> None:
    await delete_children_not_in(
        session,
        spec.table,
        shop_id,
        parent_column=parent_column,
        parent_ids=parent_ids,
        keep=[row["shopify_id"] for row in rows],
    )
    await upsert(session, spec, shop_id, rows)


# Deletions ------------------------------------------------------------------------------------------


async def record_deletion(session: AsyncSession, shop_id: int, resource: str, shopify_id: int) -> None:
    insert = pg_insert if await _dialect(session) == "postgresql" else sqlite_insert
    await session.execute(
        insert(DELETED)
        .values(shop_id=shop_id, resource=resource, shopify_id=shopify_id, deleted_at=utcnow())
        .on_conflict_do_nothing(index_elements=["shop_id", "resource", "shopify_id"])
    )


async def without_deleted(
    session: AsyncSession, shop_id: int, resource: str, records: Sequence[R]
) -> list[R]:
    """The records Shopify has not deleted (a late or replayed update must not bring one back)."""
    ids = [record.shopify_id for record in records]
    deleted: set[int] = set()
    for chunk in chunks(ids):
        found = await session.execute(
            select(DELETED.c.shopify_id).where(
                DELETED.c.shop_id == shop_id, DELETED.c.resource == resource, DELETED.c.shopify_id.in_(chunk)
            )
        )
        deleted.update(found.scalars())
    return [record for record in records if record.shopify_id not in deleted]


async def delete_record(session: AsyncSession, table: Table, shop_id: int, shopify_id: int) -> bool:
    result = await session.execute(
        delete(table).where(table.c.shop_id == shop_id, table.c.shopify_id == shopify_id)
    )
    return affected_rows(result) > 0
