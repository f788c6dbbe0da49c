"""Opaque connection cursors (base64 JSON, as Shopify's look)."""

from __future__ import annotations

import base64
import binascii
import json

from graphql import GraphQLError

from devstore.records import Position


def encode_position(position: Position) -> str:
    raw = json.dumps({"last_id": position.num, "last_value": position.sort_value}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def encode_index(index: int) -> str:
    raw = json.dumps({"index": index}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(cursor: str) -> dict[str, object]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from error
    if not isinstance(decoded, dict):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}")
    return decoded


def decode_position(cursor: str) -> Position:
    decoded = _decode(cursor)
    num, value = decoded.get("last_id"), decoded.get("last_value")
    if not isinstance(num, int) or not isinstance(value, int):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}")
    return Position(value, num)


def decode_index(cursor: str) -> int:
    index = _decode(cursor).get("index")
    if not isinstance(index, int):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}")
    return index
