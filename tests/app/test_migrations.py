from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import shop_app.models  # noqa: F401  (registers every table)
from alembic import command
from shop_app.database import alembic_config, migrate, sync_url


def _tables(database_url: str) -> set[str]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return {t for t in inspect(connection).get_table_names() if not t.startswith("procrastinate_")}
    finally:
        engine.dispose()


@pytest.fixture
def scratch_database_url(tmp_path: Path, postgres_url: str | None) -> Iterator[str]:
    """An empty database of the backend under test, dropped afterwards."""
    if postgres_url is None:
        yield f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"shop_app_migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(sync_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_test_database_at_head_has_no_pending_model_diff(database_url: str) -> None:
    command.check(alembic_config(database_url))


def test_migrations_build_every_model_table_and_leave_no_diff(scratch_database_url: str) -> None:
    migrate(scratch_database_url)
    assert _tables(scratch_database_url) == {*SQLModel.metadata.tables, "alembic_version"}
    command.check(alembic_config(scratch_database_url))


def test_downgrade_to_base_and_upgrade_again(scratch_database_url: str) -> None:
    config = alembic_config(scratch_database_url)
    migrate(scratch_database_url)
    command.downgrade(config, "base")
    assert _tables(scratch_database_url) == {"alembic_version"}
    migrate(scratch_database_url)
    assert _tables(scratch_database_url) == {*SQLModel.metadata.tables, "alembic_version"}
    command.check(config)
