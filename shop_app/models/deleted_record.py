from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class DeletedRecord(SQLModel, table=True):
    """A tombstone: Shopify deleted this record, so a late or replayed update must not bring it back.
    Shopify never reuses ids, so tombstones stay until the shop's data is erased."""

    __tablename__ = "deleted_records"
    __table_args__ = (
        UniqueConstraint("shop_id", "resource", "shopify_id", name="uq_deleted_records_shop_resource_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    resource: str = Field(max_length=20)
    shopify_id: int = Field(sa_type=BigInteger)
    deleted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
