"""The simulated store's documents, kept in one SQLite file.

A document is a JSON object shaped like the Admin GraphQL object of its type. Each top-level document
is one row of `objects`; every object embedded in it that carries a gid of its own (line items,
variants, inventory items, fulfillments…) gets a data-less row pointing at its owner, so it can be
fetched and paged by gid and type. Search keys (`name`, `email`, `sku`, `tag`, `status`…) live in
`search`, a covering index that paging queries join against; timestamps are kept as epoch seconds.
"""

from __future__ import annotations

import json
import pathlib
import re
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

GID_PATTERN = re.compile(r"^gid://shopify/(?P<type>[A-Za-z]+)/(?P<num>\d+)(?:\?.*)?$")
PUT_BATCH_SIZE = 1000
SCAN_CHUNK_SIZE = 500
ID_RESERVATION_SIZE = 1000

Doc = dict[str, Any]
Operator = Literal["=", ">", ">=", "<", "<=", "prefix"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS shops (
    id INTEGER PRIMARY KEY,
    domain TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS types (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS objects (
    shop INTEGER NOT NULL,
    type INTEGER NOT NULL,
    num INTEGER NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    data BLOB NOT NULL,
    keys TEXT,
    children TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_id ON objects (shop, type, num);
CREATE INDEX IF NOT EXISTS objects_by_updated ON objects (shop, type, updated, num);
CREATE INDEX IF NOT EXISTS objects_by_created ON objects (shop, type, created, num);
CREATE TABLE IF NOT EXISTS embedded (
    shop INTEGER NOT NULL,
    type INTEGER NOT NULL,
    num INTEGER NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    owner_type INTEGER NOT NULL,
    owner_num INTEGER NOT NULL,
    keys TEXT,
    PRIMARY KEY (shop, type, num)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search (
    shop INTEGER NOT NULL,
    type INTEGER NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    num INTEGER NOT NULL,
    PRIMARY KEY (shop, type, field, value, num)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS id_counters (
    shop INTEGER NOT NULL,
    type INTEGER NOT NULL,
    reserved INTEGER NOT NULL,
    PRIMARY KEY (shop, type)
) WITHOUT ROWID;
"""


class SortKey(StrEnum):
    ID = "ID"
    UPDATED_AT = "UPDATED_AT"
    CREATED_AT = "CREATED_AT"


@dataclass(frozen=True)
class Term:
    """One search condition. `field` is a search key, or `id`, `updated_at`, `created_at`."""

    field: str
    op: Operator
    value: str
    negate: bool = False


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


Condition = Term | AllOf | AnyOf


@dataclass(frozen=True)
class Position:
    """Where a row sits in a sort order: the cursor's content."""

    sort_value: int
    num: int


@dataclass(frozen=True)
class Row:
    position: Position
    doc: Doc


def parse_gid(gid: str) -> tuple[str, int] | None:
    match = GID_PATTERN.match(gid)
    if match is None:
        return None
    return match["type"], int(match["num"])


def make_gid(type_name: str, num: int) -> str:
    return f"gid://shopify/{type_name}/{num}"


def epoch_seconds(value: str) -> int:
    """Epoch seconds of an ISO-8601 date or datetime (naive means UTC)."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value).lower()


def _phone(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    digits = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    return digits or None


def _gid_num(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    parsed = parse_gid(value)
    return None if parsed is None else str(parsed[1])


def _nested(doc: Doc, *path: str) -> object:
    current: object = doc
    for key in path:
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current


def _tags(doc: Doc) -> Iterator[tuple[str, str]]:
    for tag in doc.get("tags") or ():
        if isinstance(tag, str) and tag.strip():
            yield "tag", tag.strip().lower()


_FULFILLMENT_STATUS_ALIASES = {
    "fulfilled": ("shipped",),
    "unfulfilled": ("unshipped",),
    "partially_fulfilled": ("partial",),
}


def _order_keys(doc: Doc) -> Iterator[tuple[str, str | None]]:
    name = doc.get("name")
    if isinstance(name, str):
        yield "name", name.lower().lstrip("#")
    yield "email", _text(doc.get("email"))
    yield "phone", _phone(doc.get("phone"))
    yield "customer_id", _gid_num(doc.get("customer"))
    if doc.get("cancelledAt"):
        yield "status", "cancelled"
    if doc.get("closedAt"):
        yield "status", "closed"
    if not doc.get("cancelledAt") and not doc.get("closedAt"):
        yield "status", "open"
    yield "financial_status", _text(doc.get("displayFinancialStatus"))
    fulfillment = _text(doc.get("displayFulfillmentStatus"))
    yield "fulfillment_status", fulfillment
    for alias in _FULFILLMENT_STATUS_ALIASES.get(fulfillment or "", ()):
        yield "fulfillment_status", alias
    yield from _tags(doc)
    for item in doc.get("lineItems") or ():
        yield "sku", _text(item.get("sku"))


def _customer_keys(doc: Doc) -> Iterator[tuple[str, str | None]]:
    yield "email", _text(_nested(doc, "defaultEmailAddress", "emailAddress"))
    yield "phone", _phone(_nested(doc, "defaultPhoneNumber", "phoneNumber"))
    yield "first_name", _text(doc.get("firstName"))
    yield "last_name", _text(doc.get("lastName"))
    yield from _tags(doc)


def _product_keys(doc: Doc) -> Iterator[tuple[str, str | None]]:
    yield "title", _text(doc.get("title"))
    yield "handle", _text(doc.get("handle"))
    yield "status", _text(doc.get("status"))
    yield "vendor", _text(doc.get("vendor"))
    yield "product_type", _text(doc.get("productType"))
    yield from _tags(doc)
    for variant in doc.get("variants") or ():
        yield "sku", _text(variant.get("sku"))
        yield "barcode", _text(variant.get("barcode"))


def _variant_keys(doc: Doc) -> Iterator[tuple[str, str | None]]:
    yield "sku", _text(doc.get("sku"))
    yield "barcode", _text(doc.get("barcode"))
    yield "title", _text(doc.get("title"))


def _inventory_item_keys(doc: Doc) -> Iterator[tuple[str, str | None]]:
    yield "sku", _text(doc.get("sku"))


def _location_keys(doc: Doc) -> Iterator[tuple[str, str | None]]:
    yield "name", _text(doc.get("name"))
    active = doc.get("isActive")
    if active is not None:
        yield "active", "true" if active else "false"


def _app_keys(doc: Doc) -> Iterator[tuple[str, str | None]]:
    yield "_client", doc.get("_clientId")


def _webhook_keys(doc: Doc) -> Iterator[tuple[str, str | None]]:
    yield from _app_keys(doc)
    yield "topic", _text(doc.get("topic"))
    yield "uri", doc.get("uri")


def _bulk_keys(doc: Doc) -> Iterator[tuple[str, str | None]]:
    yield from _app_keys(doc)
    yield "status", _text(doc.get("status"))
    yield "operation_type", _text(doc.get("type"))


_KEY_EXTRACTORS = {
    "Order": _order_keys,
    "Customer": _customer_keys,
    "Product": _product_keys,
    "ProductVariant": _variant_keys,
    "InventoryItem": _inventory_item_keys,
    "Location": _location_keys,
    "WebhookSubscription": _webhook_keys,
    "BulkOperation": _bulk_keys,
}


def search_keys(type_name: str, doc: Doc) -> list[tuple[str, str]]:
    extractor = _KEY_EXTRACTORS.get(type_name)
    if extractor is None:
        return []
    return sorted({(field, value) for field, value in extractor(doc) if value})


def _embedded(doc: Doc) -> list[Doc]:
    """Every object below `doc` that has a gid of its own (not references, which are plain strings)."""
    found: list[Doc] = []
    stack: list[object] = [v for k, v in doc.items() if isinstance(v, dict | list) and not k.startswith("_")]
    while stack:
        value = stack.pop()
        if type(value) is list:
            stack.extend(v for v in value if isinstance(v, dict | list))
            continue
        assert isinstance(value, dict)
        child_id = value.get("id")
        if isinstance(child_id, str) and child_id.startswith("gid://"):
            found.append(value)
        stack.extend(v for v in value.values() if isinstance(v, dict | list))
    return found


def _find_embedded(
    doc: Doc, type_name: str, num: int, parent: str | None = None
) -> tuple[Doc, str | None] | None:
    own_id = doc.get("id")
    here = own_id if isinstance(own_id, str) else parent
    for key, value in doc.items():
        if key.startswith("_"):
            continue
        children = value if isinstance(value, list) else [value]
        for child in children:
            if not isinstance(child, dict):
                continue
            child_id = child.get("id")
            if isinstance(child_id, str) and parse_gid(child_id) == (type_name, num):
                return child, here
            found = _find_embedded(child, type_name, num, here)
            if found is not None:
                return found
    return None


def _index_embedded(
    doc: Doc, parent: str | None = None, index: dict[Any, Any] | None = None
) -> dict[Any, Any]:
    """Every embedded object of ``doc`` by gid, with its nearest parent's gid (as ``_find_embedded``)."""
    index = {} if index is None else index
    own_id = doc.get("id")
    here = own_id if isinstance(own_id, str) else parent
    for key, value in doc.items():
        if key.startswith("_"):
            continue
        for child in value if isinstance(value, list) else [value]:
            if not isinstance(child, dict):
                continue
            child_id = child.get("id")
            parsed = parse_gid(child_id) if isinstance(child_id, str) else None
            if parsed is not None:
                index.setdefault(parsed, (child, here))
            _index_embedded(child, here, index)
    return index


def _timestamps(doc: Doc, fallback: tuple[int, int]) -> tuple[int, int]:
    created = doc.get("createdAt")
    updated = doc.get("updatedAt")
    created_s = epoch_seconds(created) if isinstance(created, str) else fallback[0]
    updated_s = epoch_seconds(updated) if isinstance(updated, str) else max(created_s, fallback[1])
    return created_s, updated_s


_SORT_COLUMNS = {SortKey.ID: "o.num", SortKey.UPDATED_AT: "o.updated", SortKey.CREATED_AT: "o.created"}
_TIME_FIELDS = {"updated_at": "o.updated", "created_at": "o.created"}


def _compress(doc: Doc) -> bytes:
    return zlib.compress(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(), 1)


def _decompress(data: bytes) -> Doc:
    doc: Doc = json.loads(zlib.decompress(data))
    return doc


class _SqlCondition:
    """Compiles a search condition to SQL over `objects o` or `embedded o` (same key columns)."""

    def __init__(self, shop_id: int, type_id: int) -> None:
        self.shop_id = shop_id
        self.type_id = type_id
        self.params: list[object] = []

    def compile(self, condition: Condition) -> str:
        if isinstance(condition, AllOf):
            return "(" + " AND ".join(self.compile(part) for part in condition.parts) + ")"
        if isinstance(condition, AnyOf):
            return "(" + " OR ".join(self.compile(part) for part in condition.parts) + ")"
        sql = self._term(condition)
        return f"NOT {sql}" if condition.negate else sql

    def _term(self, term: Term) -> str:
        op = "=" if term.op == "prefix" else term.op
        if term.field == "id":
            self.params.append(int(term.value))
            return f"(o.num {op} ?)"
        if term.field in _TIME_FIELDS:
            self.params.append(epoch_seconds(term.value))
            return f"({_TIME_FIELDS[term.field]} {op} ?)"
        # Not correlated with `o`, so SQLite evaluates it once, and drives from it when it is selective.
        self.params.extend([self.shop_id, self.type_id, term.field])
        if term.op == "prefix":
            self.params.extend([term.value, term.value + "\U0010ffff"])
            value_sql = "s.value >= ? AND s.value < ?"
        else:
            self.params.append(term.value)
            value_sql = f"s.value {op} ?"
        return (
            "(o.num IN (SELECT s.num FROM search s WHERE s.shop = ? AND s.type = ?"  # noqa: S608
            f" AND s.field = ? AND {value_sql}))"
        )


class RecordStore:
    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._shop_ids: dict[str, int] = {}
        self._type_ids: dict[str, int] = {}
        self._type_names: dict[int, str] = {}
        self._id_blocks: dict[tuple[int, int], tuple[int, int]] = {}
        with self._write_lock:
            self._db.executescript(_SCHEMA)

    @property
    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("PRAGMA cache_size=-65536")
            db.execute("PRAGMA temp_store=MEMORY")
            self._local.db = db
            with self._connections_lock:
                self._connections.append(db)
        return db

    def close(self) -> None:
        with self._connections_lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()

    def _lookup_id(self, table: str, name: str, cache: dict[str, int], *, create: bool) -> int | None:
        cached = cache.get(name)
        if cached is not None:
            return cached
        select = f"SELECT id FROM {table} WHERE {'domain' if table == 'shops' else 'name'} = ?"  # noqa: S608
        row = self._db.execute(select, (name,)).fetchone()
        if row is None:
            if not create:
                return None
            with self._write_lock:
                column = "domain" if table == "shops" else "name"
                self._db.execute(f"INSERT OR IGNORE INTO {table} ({column}) VALUES (?)", (name,))  # noqa: S608
                row = self._db.execute(select, (name,)).fetchone()
        cache[name] = int(row[0])
        return int(row[0])

    def _shop_id(self, shop: str, *, create: bool = False) -> int | None:
        return self._lookup_id("shops", shop, self._shop_ids, create=create)

    def _type_id(self, type_name: str, *, create: bool = False) -> int | None:
        return self._lookup_id("types", type_name, self._type_ids, create=create)

    def _type_name(self, type_id: int) -> str:
        name = self._type_names.get(type_id)
        if name is None:
            name = str(self._db.execute("SELECT name FROM types WHERE id = ?", (type_id,)).fetchone()[0])
            self._type_names[type_id] = name
        return name

    def shops(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT domain FROM shops ORDER BY id")]

    # writing

    def put(self, shop: str, doc: Doc) -> None:
        self.put_many(shop, [doc])

    def put_many(self, shop: str, docs: Iterable[Doc]) -> int:
        shop_id = self._shop_id(shop, create=True)
        assert shop_id is not None
        written = 0
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= PUT_BATCH_SIZE:
                written += self._write_batch(shop_id, batch)
                batch = []
        if batch:
            written += self._write_batch(shop_id, batch)
        return written

    def _required_type_id(self, type_name: str) -> int:
        type_id = self._type_id(type_name, create=True)
        assert type_id is not None
        return type_id

    def _write_batch(self, shop_id: int, docs: Sequence[Doc]) -> int:
        objects: list[tuple[object, ...]] = []
        embedded: list[tuple[object, ...]] = []
        keys: list[tuple[object, ...]] = []
        by_type: dict[int, list[int]] = {}
        for doc in docs:
            parsed = parse_gid(str(doc.get("id", "")))
            if parsed is None:
                raise ValueError(f"document id is not a Shopify gid: {doc.get('id')!r}")
            type_id, num = self._required_type_id(parsed[0]), parsed[1]
            by_type.setdefault(type_id, []).append(num)
            created, updated = _timestamps(doc, (0, 0))
            own_keys = search_keys(parsed[0], doc)
            children: list[tuple[int, int]] = []
            for child in _embedded(doc):
                child_gid = parse_gid(child["id"])
                if child_gid is None:
                    continue
                child_type, child_num = child_gid
                child_type_id = self._required_type_id(child_type)
                child_created, child_updated = _timestamps(child, (created, updated))
                child_keys = search_keys(child_type, child)
                children.append((child_type_id, child_num))
                embedded.append(
                    (
                        shop_id,
                        child_type_id,
                        child_num,
                        child_created,
                        child_updated,
                        type_id,
                        num,
                        json.dumps(child_keys) if child_keys else None,
                    )
                )
                keys.extend((shop_id, child_type_id, f, v, child_num) for f, v in child_keys)
            objects.append(
                (
                    shop_id,
                    type_id,
                    num,
                    created,
                    updated,
                    _compress(doc),
                    json.dumps(own_keys) if own_keys else None,
                    json.dumps(children) if children else None,
                )
            )
            keys.extend((shop_id, type_id, f, v, num) for f, v in own_keys)
        with self._write_lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                for type_id, nums in by_type.items():
                    self._remove_existing(shop_id, type_id, nums)
                db.executemany(
                    "INSERT OR REPLACE INTO objects (shop, type, num, created, updated, data, keys, children)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    objects,
                )
                db.executemany(
                    "INSERT OR REPLACE INTO embedded (shop, type, num, created, updated, owner_type,"
                    " owner_num, keys) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    embedded,
                )
                db.executemany(
                    "INSERT OR IGNORE INTO search (shop, type, field, value, num) VALUES (?, ?, ?, ?, ?)",
                    keys,
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(docs)

    def _remove_existing(self, shop_id: int, type_id: int, nums: Sequence[int]) -> None:
        db = self._db
        for start in range(0, len(nums), 500):
            chunk = nums[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT num, keys, children FROM objects WHERE shop = ? AND type = ? AND num IN ({marks})",  # noqa: S608
                (shop_id, type_id, *chunk),
            ).fetchall()
            for num, keys_json, children_json in rows:
                self._remove_object(shop_id, type_id, num, keys_json, children_json)

    def _remove_keys(self, shop_id: int, type_id: int, num: int, keys_json: str | None) -> None:
        if keys_json:
            self._db.executemany(
                "DELETE FROM search WHERE shop = ? AND type = ? AND field = ? AND value = ? AND num = ?",
                [(shop_id, type_id, f, v, num) for f, v in json.loads(keys_json)],
            )

    def _remove_object(
        self, shop_id: int, type_id: int, num: int, keys_json: str | None, children_json: str | None
    ) -> None:
        db = self._db
        self._remove_keys(shop_id, type_id, num, keys_json)
        for child_type, child_num in json.loads(children_json) if children_json else ():
            row = db.execute(
                "DELETE FROM embedded WHERE shop = ? AND type = ? AND num = ? AND owner_type = ?"
                " AND owner_num = ? RETURNING keys",
                (shop_id, child_type, child_num, type_id, num),
            ).fetchone()
            if row is not None:
                self._remove_keys(shop_id, child_type, child_num, row[0])
        db.execute("DELETE FROM objects WHERE shop = ? AND type = ? AND num = ?", (shop_id, type_id, num))

    def delete(self, shop: str, gid: str) -> bool:
        """Deletes a top-level document (and what it embeds)."""
        shop_id = self._shop_id(shop)
        parsed = parse_gid(gid)
        type_id = None if parsed is None else self._type_id(parsed[0])
        if shop_id is None or parsed is None or type_id is None:
            return False
        with self._write_lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT keys, children FROM objects WHERE shop = ? AND type = ? AND num = ?",
                    (shop_id, type_id, parsed[1]),
                ).fetchone()
                if row is not None:
                    self._remove_object(shop_id, type_id, parsed[1], row[0], row[1])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return row is not None

    def next_id(self, shop: str, type_name: str) -> int:
        shop_id = self._shop_id(shop, create=True)
        type_id = self._type_id(type_name, create=True)
        assert shop_id is not None
        assert type_id is not None
        with self._write_lock:
            nxt, limit = self._id_blocks.get((shop_id, type_id), (0, 0))
            if nxt >= limit:
                nxt, limit = self._reserve_ids(shop_id, type_id)
            self._id_blocks[(shop_id, type_id)] = (nxt + 1, limit)
            return nxt

    def _reserve_ids(self, shop_id: int, type_id: int) -> tuple[int, int]:
        db = self._db
        row = db.execute(
            "SELECT reserved FROM id_counters WHERE shop = ? AND type = ?", (shop_id, type_id)
        ).fetchone()
        highest = [
            db.execute(
                f"SELECT MAX(num) FROM {table} WHERE shop = ? AND type = ?",  # noqa: S608
                (shop_id, type_id),
            ).fetchone()[0]
            or 0
            for table in ("objects", "embedded")
        ]
        start = max(row[0] if row else 0, *highest) + 1
        limit = start + ID_RESERVATION_SIZE
        db.execute(
            "INSERT OR REPLACE INTO id_counters (shop, type, reserved) VALUES (?, ?, ?)",
            (shop_id, type_id, limit - 1),
        )
        return start, limit

    # reading

    def get(self, shop: str, gid: str, *, owners: dict[Any, Any] | None = None) -> Doc | None:
        """The document with this gid; an embedded one comes with its `_owner` and `_parent` gids.
        ``owners`` keeps the documents embedded ones were found in, for the next lookup (a bulk build)."""
        shop_id = self._shop_id(shop)
        parsed = parse_gid(gid)
        type_id = None if parsed is None else self._type_id(parsed[0])
        if shop_id is None or parsed is None or type_id is None:
            return None
        num = parsed[1]
        row = self._db.execute(
            "SELECT data FROM objects WHERE shop = ? AND type = ? AND num = ?", (shop_id, type_id, num)
        ).fetchone()
        if row is not None:
            return _decompress(row[0])
        row = self._db.execute(
            "SELECT owner_type, owner_num FROM embedded WHERE shop = ? AND type = ? AND num = ?",
            (shop_id, type_id, num),
        ).fetchone()
        if row is None:
            return None
        return self._embedded_doc(shop_id, parsed[0], num, row[0], row[1], owners)

    def _embedded_doc(
        self,
        shop_id: int,
        type_name: str,
        num: int,
        owner_type: int,
        owner_num: int,
        owners: dict[Any, Any] | None = None,
    ) -> Doc | None:
        owner_gid = make_gid(self._type_name(owner_type), owner_num)
        owner_doc = None if owners is None else owners.get(("owner", owner_gid))
        if owner_doc is None:
            owner = self._db.execute(
                "SELECT data FROM objects WHERE shop = ? AND type = ? AND num = ?",
                (shop_id, owner_type, owner_num),
            ).fetchone()
            if owner is None:
                return None
            owner_doc = _decompress(owner[0])
        if owners is None:
            found = _find_embedded(owner_doc, type_name, num)
        else:  # every embedded object of the owner at once, for the lookups that follow
            index = owners.get(("index", owner_gid))
            if index is None:
                index = owners[("index", owner_gid)] = _index_embedded(owner_doc)
            found = index.get((type_name, num))
        if found is None:
            return None
        child, parent = found
        return {**child, "_owner": owner_gid, "_parent": parent}

    def _is_embedded_type(self, shop_id: int, type_id: int) -> bool:
        in_objects = self._db.execute(
            "SELECT 1 FROM objects WHERE shop = ? AND type = ? LIMIT 1", (shop_id, type_id)
        ).fetchone()
        return in_objects is None

    def count(self, shop: str, type_name: str, where: Condition | None = None) -> int:
        shop_id = self._shop_id(shop)
        type_id = self._type_id(type_name)
        if shop_id is None or type_id is None:
            return 0
        table = "embedded" if self._is_embedded_type(shop_id, type_id) else "objects"
        compiler = _SqlCondition(shop_id, type_id)
        sql = f"SELECT COUNT(*) FROM {table} o WHERE o.shop = ? AND o.type = ?"  # noqa: S608
        params: list[object] = [shop_id, type_id]
        if where is not None:
            sql += " AND " + compiler.compile(where)
            params.extend(compiler.params)
        return int(self._db.execute(sql, params).fetchone()[0])

    def page(
        self,
        shop: str,
        type_name: str,
        *,
        limit: int,
        where: Condition | None = None,
        sort: SortKey = SortKey.ID,
        reverse: bool = False,
        after: Position | None = None,
        before: Position | None = None,
        from_end: bool = False,
    ) -> list[Row]:
        """Up to `limit` rows in sort order strictly between `after` and `before`.

        With `from_end` they are the last `limit` rows of that range (for `last:`), still in sort order.
        Embedded types (variants, inventory items…) are paged too, from their index rows.
        """
        shop_id = self._shop_id(shop)
        type_id = self._type_id(type_name)
        if shop_id is None or type_id is None or limit <= 0:
            return []
        embedded = self._is_embedded_type(shop_id, type_id)
        column = _SORT_COLUMNS[sort]
        compiler = _SqlCondition(shop_id, type_id)
        clauses = ["o.shop = ?", "o.type = ?"]
        params: list[object] = [shop_id, type_id]
        if where is not None:
            clauses.append(compiler.compile(where))
            params.extend(compiler.params)
        forward_op, backward_op = ("<", ">") if reverse else (">", "<")
        if after is not None:
            clauses.append(f"({column}, o.num) {forward_op} (?, ?)")
            params.extend([after.sort_value, after.num])
        if before is not None:
            clauses.append(f"({column}, o.num) {backward_op} (?, ?)")
            params.extend([before.sort_value, before.num])
        direction = "DESC" if reverse != from_end else "ASC"
        source = "o.owner_type, o.owner_num FROM embedded o" if embedded else "o.data, NULL FROM objects o"
        sql = (
            f"SELECT {column}, o.num, {source} WHERE {' AND '.join(clauses)}"
            f" ORDER BY {column} {direction}, o.num {direction} LIMIT ?"
        )
        params.append(limit)
        rows = self._db.execute(sql, params).fetchall()
        if from_end:
            rows.reverse()
        result: list[Row] = []
        for sort_value, num, first, second in rows:
            doc = (
                self._embedded_doc(shop_id, type_name, num, first, second) if embedded else _decompress(first)
            )
            if doc is not None:
                result.append(Row(Position(sort_value, num), doc))
        return result

    def scan(
        self,
        shop: str,
        type_name: str,
        *,
        where: Condition | None = None,
        sort: SortKey = SortKey.ID,
        reverse: bool = False,
        chunk_size: int = SCAN_CHUNK_SIZE,
    ) -> Iterator[Row]:
        """Every matching row, streamed by keyset paging (bounded memory, no long-held read)."""
        after: Position | None = None
        while True:
            rows = self.page(
                shop, type_name, limit=chunk_size, where=where, sort=sort, reverse=reverse, after=after
            )
            yield from rows
            if not rows:
                return
            after = rows[-1].position

    def iter_type(self, shop: str, type_name: str) -> Iterator[Doc]:
        for row in self.scan(shop, type_name):
            yield row.doc
