"""Inbound calls a vendor verified, stored before the helpdesk is answered (each delivery id once per
connector: a replay stores nothing), then applied by a job: each in one transaction with marking it done,
the vendor's after-commit work (sending, publishing) once committed. A sweep takes up those whose job was
lost."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.connectors.registry import Vendor
from shop_app.connectors.vendors import vendor_for
from shop_app.database import transaction
from shop_app.logging_config import bound_log_context
from shop_app.models import Connector, ConnectorEvent, ConnectorEventStatus, Shop
from shop_app.models.base import utcnow
from shop_app.runtime import Services

logger = logging.getLogger(__name__)

EVENTS = ConnectorEvent.__table__  # type: ignore[attr-defined]
MAX_SWEPT_EVENTS = 500


@cache
def _insert_statement(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(EVENTS)
        .on_conflict_do_nothing(index_elements=["connector_id", "delivery_id"])
        .returning(EVENTS.c.id)
    )


async def record_event(
    session: AsyncSession, *, connector: Connector, delivery_id: str, event: dict[str, Any]
) -> int | None:
    """The stored event's id; ``None`` when this delivery was received before."""
    dialect = (await session.connection()).dialect.name
    row = {
        "shop_id": connector.shop_id,
        "connector_id": connector.id,
        "delivery_id": delivery_id[:100],
        "status": ConnectorEventStatus.PENDING,
        "event": event,
        "received_at": utcnow(),
    }
    return (await session.execute(_insert_statement(dialect), [row])).scalar_one_or_none()


async def process_connector_events(services: Services, *, event_ids: Sequence[int]) -> None:
    """Each event on its own: one that fails stays pending for the sweep and holds back no other."""
    for event_id in sorted(event_ids):
        try:
            await apply_event(services, event_id=event_id)
        except SQLAlchemyError as error:
            logger.warning(
                "connector event left for the sweep event_row=%s error=%s", event_id, type(error).__name__
            )


async def apply_event(services: Services, *, event_id: int, prepared: dict[str, Any] | None = None) -> None:
    """The event applied and marked done in one transaction. A vendor that must read from the helpdesk's
    API first (``reads_first``: Zendesk's trigger carries ids only) does so outside any transaction, so no
    write lock waits on the network: its first turn only finds the event, the second applies it (a worker
    that took it meanwhile leaves it done, and this one does nothing)."""
    after = None
    read_first: tuple[Vendor, Connector, dict[str, Any]] | None = None
    async with transaction(services.sessions) as session:
        row = (
            await session.execute(
                select(ConnectorEvent)
                .where(
                    col(ConnectorEvent.id) == event_id,
                    col(ConnectorEvent.status) == ConnectorEventStatus.PENDING,
                )
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        if row is None:
            return
        connector = await session.get(Connector, row.connector_id)
        shop = await session.get(Shop, row.shop_id)
        vendor = vendor_for(connector.vendor) if connector is not None else None
        with bound_log_context(webhook_id=row.delivery_id):
            if (
                connector is not None
                and vendor is not None
                and not connector.paused
                and shop is not None
                and shop.is_active
            ):
                if vendor.reads_first and prepared is None:
                    read_first = (vendor, connector, dict(row.event))
                else:
                    after = await vendor.apply(
                        services, session, connector=connector, shop=shop, event=prepared or dict(row.event)
                    )
        if read_first is None:
            row.status = ConnectorEventStatus.DONE
            row.processed_at = utcnow()
            row.event = {}  # the message now lives in its ticket; no copy of what people said is kept here
    if read_first is not None:
        vendor, connector, event = read_first
        with bound_log_context(webhook_id=f"connector-event:{event_id}"):
            prepared = await vendor.prepare(services, connector=connector, event=event)
        await apply_event(services, event_id=event_id, prepared=prepared)
        return
    if after is not None:
        await after()


async def sweep_connector_events(services: Services, *, older_than_seconds: float) -> None:
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    async with services.sessions() as session:
        rows = await session.execute(
            select(col(ConnectorEvent.id))
            .where(
                col(ConnectorEvent.status) == ConnectorEventStatus.PENDING,
                col(ConnectorEvent.received_at) < cutoff,
            )
            .order_by(col(ConnectorEvent.id))
            .limit(MAX_SWEPT_EVENTS)
        )
        event_ids = [event_id for event_id in rows.scalars() if event_id is not None]
    if event_ids:
        logger.info("connector event sweep count=%s", len(event_ids))
        await process_connector_events(services, event_ids=event_ids)
