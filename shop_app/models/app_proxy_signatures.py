from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime


class AnsweredProxySignature(SQLModel, table=True):
    """An app proxy signature already answered, kept until its timestamp is too old to verify: a signed
    storefront query is answered once, by whichever process sees it first.

    Only the SHA-256 digest of the signature is kept. Not keyed by shop: a signature names its shop, and
    rows live two minutes.
    """

    __tablename__ = "answered_proxy_signatures"

    digest: str = Field(max_length=64, primary_key=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
