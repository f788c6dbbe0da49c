"""Logging, configured once per process, that never writes a secret or a shopper's words.

- The access log keeps each query parameter's name but only the values of ``LOGGED_QUERY_VALUES``; every
  other value (session ``id_token``, OAuth ``code``, ``state`` and ``hmac``, app proxy ``signature``, a
  search ``q`` holding an email, and whatever a new client sends) is written as ``[redacted]``. An
  allow-list, not a deny-list: a parameter nobody thought of stays hidden.
- Database drivers and HTTP clients log statements with their parameters (message bodies, names,
  addresses) or URLs with tokens at DEBUG and INFO: ``QUIET_LOGGERS`` stay at WARNING whatever the level.
- uvicorn's TRACE level logs every request's headers (cookies, bearer tokens): it is never used.

Each line carries the context of the work it belongs to (``bound_log_context``: a request's id, the
webhook a job is applying, the task), through a context variable that a filter on every handler reads:
` key=value` after the message in the text format, keys of the object in the JSON format
(``SHOP_APP_LOG_FORMAT=json``: one object per line, by python-json-logger). Context values are reduced to
a safe alphabet and length (``log_context_value``), so a header a stranger sends cannot forge a line.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s%(context)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
LOG_FORMATS = ("text", "json")
MAX_CONTEXT_VALUE_LENGTH = 64
REDACTED = "[redacted]"
LOGGED_QUERY_VALUES = frozenset(
    {"shop", "timestamp", "embedded", "lang", "locale", "after", "status", "limit", "path_prefix"}
)
QUIET_LOGGERS = (
    "httpx",  # request URLs at INFO: OAuth and app proxy queries
    "httpcore",
    "aiosqlite",  # every statement with its parameters at DEBUG
    "sqlalchemy",  # statements and parameters when its level allows INFO
    "psycopg",
    "alembic.runtime.plugins",
)
ACCESS_LOGGER = "uvicorn.access"
_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]%]{1,40}")
_UNSAFE_CONTEXT = re.compile(r"[^A-Za-z0-9._:/@-]")
_LOG_CONTEXT: ContextVar[Mapping[str, str]] = ContextVar("shop_app_log_context", default=MappingProxyType({}))


def log_context_value(value: object) -> str:
    """A context value as logged: characters outside a safe alphabet become ``_``, at most 64 of them."""
    return _UNSAFE_CONTEXT.sub("_", str(value))[:MAX_CONTEXT_VALUE_LENGTH]


def log_context() -> Mapping[str, str]:
    return _LOG_CONTEXT.get()


@contextlib.contextmanager
def bound_log_context(**fields: object) -> Iterator[None]:
    """Add ``fields`` to every log line written inside the block (by this task and the tasks it starts);
    a field given ``None`` is left out."""
    added = {key: log_context_value(value) for key, value in fields.items() if value is not None}
    token = _LOG_CONTEXT.set({**_LOG_CONTEXT.get(), **added})
    try:
        yield
    finally:
        _LOG_CONTEXT.reset(token)


class ContextFields(logging.Filter):
    """Puts the bound context on each record: ``context`` (the text format's ` key=value` tail) and
    ``log_context`` (the JSON format's keys)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _LOG_CONTEXT.get()
        record.log_context = dict(fields)
        record.context = "".join(f" {key}={value}" for key, value in fields.items())
        return True


class JsonLines(JsonFormatter):
    """One JSON object per line: time, level, logger, message, then the bound context's keys."""

    def __init__(self, fmt: str = JSON_FIELDS, **options: Any) -> None:
        super().__init__(
            fmt,
            reserved_attrs=[*RESERVED_ATTRS, "context", "log_context", "color_message"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
            **options,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        for key, value in getattr(record, "log_context", {}).items():
            log_data.setdefault(key, value)


def log_formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonLines()
    return logging.Formatter(LOG_FORMAT, defaults={"context": ""})


def configure_logging(level: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(log_formatter(log_format))
    handler.addFilter(ContextFields())
    logging.basicConfig(level=python_level(level), handlers=[handler])
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger(ACCESS_LOGGER).addFilter(_ACCESS_FILTER)


def python_level(level: str) -> int:
    """The standard level for a name; anything below DEBUG (uvicorn's TRACE) is DEBUG."""
    value = logging.getLevelName(level.upper())
    return max(value, logging.DEBUG) if isinstance(value, int) else logging.INFO


def server_log_level(level: str) -> str:
    """The level given to uvicorn: never ``trace``."""
    return logging.getLevelName(python_level(level)).lower()


def redact_query(target: str) -> str:
    """A request target as logged: the path, then each query parameter's name (when it looks like one) with
    its value only when the name is listed in ``LOGGED_QUERY_VALUES``."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    pairs = []
    for pair in query.split("&"):
        name, equals, _value = pair.partition("=")
        if name in LOGGED_QUERY_VALUES:
            pairs.append(pair)
        elif equals and _PARAMETER_NAME.fullmatch(name):
            pairs.append(f"{name}={REDACTED}")
        else:
            pairs.append(REDACTED)
    return f"{path}?{'&'.join(pairs)}"


class RedactedQueries(logging.Filter):
    """Rewrites uvicorn's access records (``client, method, target, http_version, status``) so that no
    handler, uvicorn's own or the root's, ever sees a secret query value."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact_query(args[2]), args[3], args[4])
        return True


_ACCESS_FILTER = RedactedQueries()


def uvicorn_log_config(log_format: str = "text") -> dict[str, Any]:
    """uvicorn's own logging configuration with the redacting filter on its access logger and the bound
    context on its lines (in the chosen format), applied by uvicorn in every process it starts
    (``--workers``)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    filters = config.setdefault("filters", {})
    filters["redacted_queries"] = {"()": f"{__name__}.RedactedQueries"}
    filters["context_fields"] = {"()": f"{__name__}.ContextFields"}
    config["loggers"][ACCESS_LOGGER]["filters"] = ["redacted_queries"]
    for handler in config["handlers"].values():
        handler["filters"] = ["context_fields"]
    for formatter in config["formatters"].values():
        if log_format == "json":
            formatter.clear()
            formatter["()"] = f"{__name__}.JsonLines"
        else:
            formatter["fmt"] = formatter["fmt"] + "%(context)s"
    return config
