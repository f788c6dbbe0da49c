"""Logging, configured once per process, that never writes a secret or a shopper's words.

- The access log keeps each query parameter's name but only the values of ``LOGGED_QUERY_VALUES``; every
  other value (session ``id_token``, OAuth ``code``, ``state`` and ``hmac``, app proxy ``signature``, a
  search ``q`` holding an email, and whatever a new client sends) is written as ``[redacted]``. An
  allow-list, not a deny-list: a parameter nobody thought of stays hidden.
- Database drivers and HTTP clients log statements with their parameters (message bodies, names,
  addresses) or URLs with tokens at DEBUG and INFO: ``QUIET_LOGGERS`` stay at WARNING whatever the level.
- uvicorn's TRACE level logs every request's headers (cookies, bearer tokens): it is never used.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
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


def configure_logging(level: str) -> None:
    logging.basicConfig(level=python_level(level), format=LOG_FORMAT)
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


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with the redacting filter on its access logger, applied by
    uvicorn in every process it starts (``--workers``)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redacted_queries"] = {"()": f"{__name__}.RedactedQueries"}
    config["loggers"][ACCESS_LOGGER]["filters"] = ["redacted_queries"]
    return config
