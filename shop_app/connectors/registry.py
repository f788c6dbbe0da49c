"""What a vendor module supplies to the shared connector pieces (see the package docstring)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.models import Connector, ConnectorVendor, Shop
from shop_app.runtime import Services
from shop_app.settings import Secret, Settings


class FieldKind(StrEnum):
    URL = "url"
    TEXT = "text"
    SECRET = "secret"  # noqa: S105 - a kind of field, not a secret


class CheckResult(StrEnum):
    """What a "test connection" found; each has words: ``admin.connectors.check.<result>``."""

    OK = "ok"
    TOKEN_REFUSED = "token_refused"  # noqa: S105 - a result, not a secret
    NOT_FOUND = "not_found"  # the account (or subdomain) does not exist there
    UNREACHABLE = "unreachable"
    REFUSED = "refused"
    NOT_A_HELPDESK = "not_a_helpdesk"


@dataclass(frozen=True, slots=True)
class FormField:
    """A field of the admin form: ``base_url`` and ``account`` are the connector's columns, other
    ``TEXT``/``URL`` fields its settings, ``SECRET`` fields go to the ciphertext."""

    name: str
    kind: FieldKind
    required: bool = True
    max_chars: int = 200
    digits: bool = False  # only 0-9 (Chatwoot's account id)


@dataclass(frozen=True, slots=True)
class Inbound:
    """An inbound HTTP call as the vendor needs it: raw body (unparsed), headers (lower-case names),
    query and form (the card page's POST)."""

    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verified:
    """A genuine call. ``store=False``: one the vendor never acts on (its own echo): answered, not kept."""

    delivery_id: str
    event: dict[str, Any]
    store: bool = True


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str  # for the log only


@dataclass(frozen=True, slots=True)
class CardViewer:
    """An authenticated agent's card request: which connector (hence shop), the agent's language, and
    what the vendor's signed request already says about the conversation (Zendesk's ticket id)."""

    connector_id: int
    locale: str | None = None
    conversation_id: str | None = None


AfterCommit = Callable[[], Awaitable[None]]


class Vendor(Protocol):
    @property
    def name(self) -> ConnectorVendor: ...

    @property
    def fields(self) -> Sequence[FormField]: ...

    def origin(self, connector: Connector) -> str: ...

    def setup_urls(self, settings: Settings, connector: Connector) -> dict[str, str]: ...

    async def check(
        self, services: Services, connector: Connector, secrets: Mapping[str, Secret]
    ) -> CheckResult: ...

    def verify(
        self, inbound: Inbound, secrets: Mapping[str, Secret] | None, *, now: float
    ) -> Verified | Refused: ...

    @property
    def reads_first(self) -> bool: ...

    async def prepare(
        self, services: Services, *, connector: Connector, event: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def apply(
        self,
        services: Services,
        session: AsyncSession,
        *,
        connector: Connector,
        shop: Shop,
        event: dict[str, Any],
    ) -> AfterCommit | None: ...

    async def card_viewer(self, services: Services, inbound: Inbound) -> CardViewer | None: ...
