"""Looks at the database the way an auditor would: every table, found by inspection, not by the models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, Table, create_engine, func, inspect, select
from sqlalchemy import table as table_clause

from shop_app.database import sync_url
from shop_app.encryption import Cipher
from shop_app.errors import SettingsError

Rows = dict[str, list[dict[str, Any]]]


def _tables(database_url: str) -> tuple[Any, list[str]]:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        names = sorted(inspect(connection).get_table_names())
    return engine, names


def row_counts(database_url: str) -> dict[str, int]:
    engine, names = _tables(database_url)
    try:
        with engine.connect() as connection:
            return {
                name: int(connection.scalar(select(func.count()).select_from(table_clause(name))) or 0)
                for name in names
            }
    finally:
        engine.dispose()


def all_rows(database_url: str) -> Rows:
    engine, names = _tables(database_url)
    try:
        with engine.connect() as connection:
            metadata = MetaData()
            rows: Rows = {}
            for name in names:
                table = Table(name, metadata, autoload_with=connection)
                rows[name] = [dict(row) for row in connection.execute(select(table)).mappings()]
            return rows
    finally:
        engine.dispose()


def columns_by_table(database_url: str) -> dict[str, dict[str, Any]]:
    engine, names = _tables(database_url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            return {name: {c["name"]: c["type"] for c in inspector.get_columns(name)} for name in names}
    finally:
        engine.dispose()


def text_values(database_url: str, cipher: Cipher, *, skip_shop_id: int | None = None) -> list[str]:
    """Every text value in every row of every table (``ciphertext`` columns decrypted), except the rows
    of ``skip_shop_id``."""
    values: list[str] = []
    for table, rows in all_rows(database_url).items():
        for row in rows:
            if skip_shop_id is not None and (
                row.get("shop_id") == skip_shop_id or (table == "shops" and row.get("id") == skip_shop_id)
            ):
                continue
            for name, value in row.items():
                if value is None:
                    continue
                if name == "ciphertext":
                    try:
                        values.append(cipher.decrypt(str(value)))
                    except SettingsError:
                        values.append(str(value))
                else:
                    values.append(str(value))
    return values
