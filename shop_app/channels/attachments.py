"""What shoppers sent beside their words, for the agents: an email's attachments (kept in the data dir) and
the pictures, videos, audio and files of LINE (kept by LINE, fetched when an agent opens one).

Files come from strangers, so they are served as downloads except for the raster picture types a browser
shows safely; every answer carries ``nosniff`` and a sandboxing content policy, so a file that claims to be
a page never runs as one on our origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.channels.email.inbound import ATTACHMENT_DIR
from shop_app.channels.line import message_refs
from shop_app.models import MailAttachment
from shop_app.schemas.tickets import AttachmentKind, AttachmentOut

LINE_CONTENT_PATH = "/line/content/"
SHOWN_INLINE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
FILE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}


def kind_of(content_type: str | None) -> AttachmentKind:
    """``image``, ``video`` or ``audio`` by the type's first part (or LINE's message type), else ``file``."""
    major = (content_type or "").split("/")[0].strip().lower()
    if major == "image":
        return "image"
    if major == "video":
        return "video"
    if major == "audio":
        return "audio"
    return "file"


def served_type(content_type: str | None) -> tuple[str, str]:
    """The content type and disposition a stranger's file is answered with."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared in SHOWN_INLINE:
        return declared, "inline"
    return "application/octet-stream", "attachment"


def mail_attachment_url(ticket_id: int, attachment_id: int) -> str:
    return f"/api/v1/tickets/{ticket_id}/attachments/{attachment_id}"


async def attachments_of(
    session: AsyncSession, *, shop_id: int, message_ids: list[int]
) -> dict[int, list[AttachmentOut]]:
    """The attachments of these messages of the shop, by message id (messages without any are absent)."""
    found: dict[int, list[AttachmentOut]] = {}
    if not message_ids:
        return found
    rows = await session.execute(
        select(MailAttachment)
        .where(col(MailAttachment.shop_id) == shop_id, col(MailAttachment.message_id).in_(message_ids))
        .order_by(col(MailAttachment.id))
    )
    for row in rows.scalars():
        assert row.id is not None
        found.setdefault(row.message_id, []).append(
            AttachmentOut(
                kind=kind_of(row.content_type),
                name=row.filename,
                content_type=row.content_type,
                size_bytes=row.size_bytes,
                url=mail_attachment_url(row.ticket_id, row.id),
            )
        )
    media = await message_refs.media_of(session, shop_id=shop_id, message_ids=message_ids)
    for message_id, held in media.items():
        found.setdefault(message_id, []).append(
            AttachmentOut(
                kind=kind_of(held.kind),
                name=None,
                content_type=None,
                size_bytes=None,
                url=f"{LINE_CONTENT_PATH}{held.line_message_id}",
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: Path
    filename: str
    content_type: str


async def mail_attachment(
    session: AsyncSession, *, shop_id: int, ticket_id: int, attachment_id: int, data_dir: Path
) -> StoredFile | None:
    """An email attachment of the shop's ticket, if its file is still there; another shop's is None."""
    row = await session.get(MailAttachment, attachment_id)
    if row is None or row.shop_id != shop_id or row.ticket_id != ticket_id:
        return None
    path = data_dir / ATTACHMENT_DIR / row.stored_name
    if not path.is_file():
        return None
    return StoredFile(path=path, filename=row.filename, content_type=row.content_type)
