from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import weakref
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import CursorResult, Result, create_engine, event, pool
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from alembic import command

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SQLITE_BUSY_TIMEOUT_MS = 10_000
# PRAGMA user_version of a SQLite file whose free space has been zeroed once (see _wipe_free_space_once)
SQLITE_FREE_SPACE_WIPED = 1

SessionFactory = async_sessionmaker[AsyncSession]


def sync_url(url: str) -> str:
    return url.replace("sqlite+aiosqlite://", "sqlite://", 1)


def make_engine(url: str, **options: Any) -> AsyncEngine:
    # statements' parameters (message bodies, names, addresses) stay out of logs and error messages
    options.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        # One connection per process: SQLite allows one writer at a time, and connections of the same
        # process contending for it fall into SQLite's sleeping busy handler (up to 100 ms a turn).
        # Queueing for the single connection in the pool is far cheaper.
        options.setdefault("pool_size", 1)
        options.setdefault("max_overflow", 0)
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 10)
    options.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **options)


def make_writer_engine(url: str) -> AsyncEngine | None:
    """On SQLite, an engine of its own for the webhook inbox's group commit: one connection that the reads
    and the processing never hold, so the INSERTs never wait behind them for the pool (WAL lets the
    readers go on while it writes; SQLite's busy handler orders it with the other connection's writes).
    None on PostgreSQL, whose pool already gives every writer its own connection."""
    if not url.startswith("sqlite"):
        return None
    return make_engine(url)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN is switched off; transactions start in _sqlite_begin_immediate.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted and overwritten content is zeroed in the file, so an erased customer's bytes do not stay
    # in free space (see clear_erased_pages for the write-ahead log).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    """Take the write lock when a transaction starts, waiting up to the busy timeout. With SQLite's
    default deferred BEGIN, a transaction that reads and then writes fails at once with "database is
    locked" if another process wrote in between (e.g. ``shop-app sync`` beside ``serve``); starting
    immediate makes it wait its turn instead. It also makes SAVEPOINTs work with the driver."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


async def clear_erased_pages(sessions: SessionFactory) -> None:
    """After a privacy erasure has committed, on SQLite: copy the write-ahead log into the database file
    and truncate it, so the old versions of the erased rows leave the log as well (the file itself holds
    none: ``secure_delete``). Waits for readers up to the busy timeout; a checkpoint that could not
    finish is logged, and the next one completes it. PostgreSQL keeps dead tuples until VACUUM (README)."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        busy, log_frames, checkpointed = await connection.run_sync(_truncate_wal)
    if busy:
        logger.warning(
            "wal checkpoint after erasure incomplete frames=%s copied=%s", log_frames, checkpointed
        )


def _truncate_wal(connection: Any) -> tuple[int, int, int]:
    # the driver's own cursor: no BEGIN (a checkpoint cannot run inside a transaction)
    cursor = connection.connection.cursor()
    try:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, log_frames, checkpointed = cursor.fetchone()
    finally:
        cursor.close()
    return int(busy), int(log_frames), int(checkpointed)


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


class WriteTurns:
    """Turns at a SQLite file's one write lock among this process's connections, urgent ones first.

    SQLite lets one connection write at a time, and a connection that finds the lock taken sleeps in its
    busy handler (1, 2, 5 … 100 ms a turn) while the holder may take the lock again at once: the webhook
    inbox's writer, on a connection of its own, would starve behind the processing's back-to-back
    transactions. Taking a turn here first, in asyncio, queues them fairly and lets the inbox's INSERTs
    (``urgent``) go before anything else waiting. Other processes still meet at the busy handler.
    """

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if not self._held and not self._urgent and not self._others:
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._others).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the turn was handed over just as this waiter was cancelled
            else:
                with contextlib.suppress(ValueError):
                    (self._urgent if urgent else self._others).remove(waiter)
            raise

    def _release(self) -> None:
        for waiters in (self._urgent, self._others):
            while waiters:
                waiter = waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the turn passes on: still held
                    return
        self._held = False


_write_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, WriteTurns]] = (
    weakref.WeakKeyDictionary()
)


def write_turns(sessions: SessionFactory) -> WriteTurns | None:
    """The turns at the write lock of the SQLite file these sessions use (None on PostgreSQL)."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return None
    per_file = _write_turns.setdefault(asyncio.get_running_loop(), {})
    return per_file.setdefault(str(engine.url.database), WriteTurns())


@asynccontextmanager
async def transaction(sessions: SessionFactory, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
    """A session whose work commits on success and rolls back on any error. On SQLite it first takes its
    turn at the file's write lock (``WriteTurns``; ``urgent``: the webhook inbox's INSERTs)."""
    turns = write_turns(sessions)
    if turns is None:
        async with sessions() as session, session.begin():
            yield session
        return
    async with turns.turn(urgent=urgent), sessions() as session, session.begin():
        yield session


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["database_url"] = sync_url(database_url)
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    if database_url.startswith("sqlite"):
        Path(database_url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)
    if database_url.startswith("sqlite"):
        _wipe_free_space_once(Path(database_url.split("///", 1)[1]))


def _wipe_free_space_once(path: Path) -> None:
    """Rows deleted before ``secure_delete`` was on (where SQLite is not built with it on) may still
    lie in the file's free space: rebuild the file once (VACUUM) so that none does, and mark it done."""
    connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version >= SQLITE_FREE_SPACE_WIPED:
            return
        connection.execute("PRAGMA secure_delete=ON")
        connection.execute("VACUUM")
        connection.execute(f"PRAGMA user_version={SQLITE_FREE_SPACE_WIPED}")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as error:
        # another process holds the file: the next start tries again
        logger.warning("sqlite free space not wiped error=%s", error)
    finally:
        connection.close()


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    applied: tuple[str, ...]  # the database's current revisions (none: never migrated)
    pending: tuple[str, ...]  # this code's revisions the database has not applied, oldest first


def migration_status(database_url: str) -> MigrationStatus:
    """Where the database stands against this code's Alembic revisions. A database migrated by a newer
    deploy (a revision this code does not know) is ahead, not behind: nothing is pending."""
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            current = tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    return migration_status_of(current, database_url)


def migration_status_of(current: tuple[str, ...], database_url: str) -> MigrationStatus:
    """Where a database whose current revisions are ``current`` stands against this code's."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    applied: set[str] = set()
    for revision in current:
        try:
            applied.update(r.revision for r in script.iterate_revisions(revision, "base"))
        except CommandError:
            return MigrationStatus(applied=current, pending=())
    pending = tuple(r.revision for r in reversed(list(script.walk_revisions())) if r.revision not in applied)
    return MigrationStatus(applied=current, pending=pending)


def affected_rows(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (``execute`` is typed as returning a plain ``Result``)."""
    return int(cast(CursorResult[Any], result).rowcount)
