"""Alembic environment. The URL comes from the caller (``shop-app migrate``) or ``DATABASE_URL``."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from sqlalchemy import DateTime, create_engine, pool
from sqlmodel import SQLModel

import shop_app.models  # noqa: F401  (registers every table)
from alembic import context
from shop_app.database import sync_url
from shop_app.models.base import UTCDateTime
from shop_app.settings import load_settings

config = context.config
if config.config_file_name and not config.attributes.get("database_url"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _url() -> str:
    explicit = config.attributes.get("database_url")
    if explicit:
        return str(explicit)
    return sync_url(load_settings().database_url)


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Revisions import only alembic, sqlalchemy and sqlmodel: render app types as their base types."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and type(obj).__module__.startswith("sqlmodel"):
        autogen_context.imports.add("import sqlmodel")
        return f"sqlmodel.sql.sqltypes.{type(obj).__name__}(length={getattr(obj, 'length', None)!r})"
    return False


def _compare_type(
    context: Any, inspected: Any, metadata: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    if isinstance(metadata_type, UTCDateTime):
        return not isinstance(inspected_type, DateTime)
    return None


def _include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """procrastinate's tables (installed by ``shop-app migrate`` on PostgreSQL) are not the models':
    without this, autogenerate and ``alembic check`` see them as tables to drop."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def run_migrations() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_item=_render_item,
            compare_type=_compare_type,
            include_name=_include_name,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
