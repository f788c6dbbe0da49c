from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class CustomerDataExport(SQLModel, table=True):
    """What the app holds about one customer, answered to ``customers/data_request`` for the merchant."""

    __tablename__ = "customer_data_exports"

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(
        sa_column=Column(Integer, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False)
    )
    shopify_customer_id: int = Field(sa_type=BigInteger, index=True)
    data_request_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ciphertext: str = Field(sa_type=Text)


class ComplianceAudit(SQLModel, table=True):
    """A record that a compliance request was carried out. It holds no personal data: the customer is
    named by a keyed digest of the shop and customer id, so an auditor can check a given id."""

    __tablename__ = "compliance_audits"

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(
        sa_column=Column(Integer, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False)
    )
    topic: str = Field(max_length=50)
    subject_digest: str = Field(max_length=64)
    rows_affected: int = Field(default=0)
    detail: str = Field(default="", max_length=500)
    completed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
