from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class SyncState(SQLModel, table=True):
    """Where a shop's mirror stands: the phase, per-resource progress and checkpoints (so a killed
    process resumes where it stopped), watermarks for reconciliation, and a lease so one sync runs at a
    time per shop however many workers there are."""

    __tablename__ = "sync_states"

    shop_id: int = Field(
        sa_column=Column(Integer, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    )
    phase: str = Field(default="idle", max_length=20)
    progress: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    checkpoints: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    watermarks: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    last_webhook_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_reconciled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_reconcile_report: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
