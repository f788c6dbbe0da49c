"""The API agrees with its OpenAPI document: schemathesis reads ``/api/v1/openapi.json`` from the app
(in-process, over ASGI) and sends what the document allows and what it forbids, as the first shop's callers
(its admin signed in, and its trusted API key, in turn). Every answer must be declared (status, content
type, body shape), input the document allows must be accepted and input it forbids refused.

The second shop's rows are made first, so the small ids the fuzzer favours are hers: the run must meet
them (and be told 404), and whatever it wrote, none of her rows changed.

``/api/v1/events`` (server-sent events: an endless stream, not a request and an answer) is not in the
document, so it is not fuzzed; its shop scoping is tested in test_live_stream.py.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.python.asgi import shutdown_lifespans
from sqlalchemy import select
from sqlmodel import SQLModel, col

from integrations.shopify import resources as r
from shop_app.database import SessionFactory, make_engine, make_session_factory, transaction
from shop_app.encryption import Cipher
from shop_app.helpdesk.agents import add_membership, create_agent, csrf_token, token_digest
from shop_app.helpdesk.api_keys import create_api_key
from shop_app.helpdesk.contacts import ContactDetails, find_or_create_contact
from shop_app.helpdesk.tickets import open_ticket
from shop_app.main import create_app
from shop_app.mirror.writes import upsert_customers
from shop_app.models import AgentSession, ApiKey, Channel, Role
from shop_app.routes.api.io import MAX_ROW_ID, MAX_SHOPIFY_ID
from shop_app.settings import Settings
from tests.conftest import FakeShopify
from tests.factories import installed_shop

ALPHA = "alpha.myshopify.com"
BETA = "beta.myshopify.com"
PASSWORD = "correct horse battery"
SYNCED = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
SESSION_COOKIE = "shop_app_session"
SELF_DESTRUCTIVE = {"/api/v1/session", "/api/v1/api-keys/{key_id}"}  # sign-out, revocation
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.positive_data_acceptance,
    schemathesis.checks.missing_required_header,
    schemathesis.checks.unsupported_method,
    schemathesis.checks.ignored_auth,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261122,
        "generation": {
            "mode": "all",
            "max-examples": 60,
            "deterministic": True,
            "database": "none",
            "with-security-parameters": False,  # the callers below bring real credentials
        },
        "phases": {"coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
        # Well-formed input whose content cannot be used (a phone number no country has, a template that
        # does not render, a new agent without a password: rules no JSON Schema can state) is answered 422,
        # declared on each operation that gives it; status_code_conformance keeps every other 422 out.
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
            },
            # a body over the app's 64 KiB is refused before it is read as JSON (413), whatever else is
            # wrong with it: as good a refusal of bad input as any
            "negative_data_rejection": {
                "expected-statuses": [
                    "400",
                    "401",
                    "403",
                    "404",
                    "405",
                    "406",
                    "409",
                    "413",
                    "415",
                    "422",
                    "428",
                    "429",
                    "5xx",
                ]
            },
        },
    }
)


@dataclass
class Contract:
    """The running app, its callers, and what the run must not change or must have met."""

    app: Any
    settings: Settings
    beta_rows: dict[str, list[tuple[Any, ...]]]
    beta_ids: dict[str, set[int]]
    alpha_ids: dict[str, set[int]]
    admin: tuple[int, int] = (0, 0)  # agent id, shop id
    api_key: str = ""
    api_key_id: int = 0
    session_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    calls: int = 0
    beta_ids_met: int = 0

    def restore_callers(self) -> None:
        """Credentials are set on cases when they are built, many before they are sent: a sign-out or a
        revocation the fuzzer sent is undone, so that the same credentials stay good for the whole run."""
        asyncio.run(_restore_callers(self))

    def credentials(self) -> tuple[dict[str, str], dict[str, str]]:
        """Headers and cookies of the next call: the signed-in admin and the API key, in turn."""
        self.calls += 1
        if self.calls % 2:
            return {"Authorization": f"Bearer {self.api_key}"}, {}
        csrf = csrf_token(self.session_token, key=self.settings.session_secret.reveal())
        return {"X-CSRF-Token": csrf}, {SESSION_COOKIE: self.session_token}


async def _restore_callers(contract: Contract) -> None:
    """The admin's session as sign-in makes one (sign-in itself is fuzzed, and may be throttled for this
    client), and the API key unrevoked."""
    engine = make_engine(contract.settings.database_url)
    digest = token_digest(contract.session_token)
    async with transaction(make_session_factory(engine)) as session:
        found = await session.execute(select(AgentSession).where(col(AgentSession.token_digest) == digest))
        if found.scalar_one_or_none() is None:
            agent_id, shop_id = contract.admin
            session.add(
                AgentSession(
                    token_digest=digest,
                    agent_id=agent_id,
                    shop_id=shop_id,
                    expires_at=datetime.now(UTC) + timedelta(hours=1),
                )
            )
        (await session.get_one(ApiKey, contract.api_key_id)).revoked_at = None
    await engine.dispose()


async def _seed_shop(
    sessions: SessionFactory, cipher: Cipher, domain: str, customer_id: int, found: dict[str, set[int]]
) -> tuple[int, int, str, int]:
    """A shop with a mirrored customer, two tickets (two contacts), an API key and an admin."""
    shop = await installed_shop(sessions, cipher, domain)
    assert shop.id is not None
    async with transaction(sessions) as session:
        await upsert_customers(
            session,
            shop_id=shop.id,
            customers=[r.Customer(shopify_id=customer_id, updated_at=SYNCED, email="hanako@example.com")],
            synced_at=SYNCED,
        )
        found["customer_id"].add(customer_id)
        for number in range(2):
            contact = await find_or_create_contact(
                session, shop=shop, details=ContactDetails(name="Hanako", email=f"hanako{number}@example.com")
            )
            ticket, _message = await open_ticket(
                session,
                shop=shop,
                contact=contact,
                channel=Channel.API,
                subject="",
                first_message="Where is my order #1001?",
            )
            assert contact.id is not None and ticket.id is not None
            found["contact_id"].add(contact.id)
            found["ticket_id"].add(ticket.id)
        row, key = await create_api_key(session, shop=shop, name="bot", trusted=True)
        agent = await create_agent(session, email=f"admin@{domain}", name="Admin", password=PASSWORD)
        await add_membership(session, shop=shop, agent=agent, role=Role.ADMIN)
        assert row.id is not None and agent.id is not None
        found["key_id"].add(row.id)
        found["agent_id"].add(agent.id)
    return agent.id, shop.id, key, row.id


IdsByName = dict[str, set[int]]


async def _seed(settings: Settings) -> tuple[IdsByName, IdsByName, int, tuple[int, int], tuple[str, int]]:
    """Beta's rows first (so hers have the small ids), then alpha's."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    cipher = Cipher(settings.encryption_keys)
    names = ("customer_id", "contact_id", "ticket_id", "key_id", "agent_id")
    beta: IdsByName = {name: set() for name in names}
    alpha: IdsByName = {name: set() for name in names}
    _agent, beta_shop, _key, _key_id = await _seed_shop(sessions, cipher, BETA, 1, beta)
    alpha_agent, alpha_shop, alpha_key, alpha_key_id = await _seed_shop(sessions, cipher, ALPHA, 2, alpha)
    await engine.dispose()
    return beta, alpha, beta_shop, (alpha_agent, alpha_shop), (alpha_key, alpha_key_id)


async def _rows_of(settings: Settings, shop_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table keyed by shop that belongs to the shop."""
    engine = make_engine(settings.database_url)
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if "shop_id" in table.c:
                statement = select(table).where(table.c.shop_id == shop_id).order_by(*table.primary_key)
                found[table.name] = [tuple(row) for row in await connection.execute(statement)]
    await engine.dispose()
    return found


@pytest.fixture
def contract(settings: Settings) -> Iterator[Contract]:
    beta_ids, alpha_ids, beta_shop, admin, (api_key, api_key_id) = asyncio.run(_seed(settings))
    http = httpx.AsyncClient(transport=httpx.MockTransport(FakeShopify()))
    world = Contract(
        app=create_app(settings, http=http),
        settings=settings,
        beta_rows=asyncio.run(_rows_of(settings, beta_shop)),
        beta_ids=beta_ids,
        alpha_ids=alpha_ids,
        admin=admin,
        api_key=api_key,
        api_key_id=api_key_id,
    )
    world.restore_callers()
    yield world
    shutdown_lifespans()
    asyncio.run(http.aclose())
    # The run as alpha's callers met beta's ids, and changed none of her rows.
    assert world.beta_ids_met > 0
    assert asyncio.run(_rows_of(settings, beta_shop)) == world.beta_rows


def _with(values: dict[str, Any], name: str) -> Callable[[int], dict[str, Any]]:
    return lambda id_: {**values, name: id_}


@pytest.fixture
def api_schema(contract: Contract) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_asgi("/api/v1/openapi.json", contract.app, config=CONFIG)

    class FirstShopsCallers:
        def get(self, _case: schemathesis.Case[Any], _context: schemathesis.AuthContext) -> Contract:
            return contract

        def set(
            self, case: schemathesis.Case[Any], data: Contract, _context: schemathesis.AuthContext
        ) -> None:
            headers, cookies = data.credentials()
            case.headers.update(headers)
            case.cookies.update(cookies)

    loaded.auth(refresh_interval=None)(FirstShopsCallers)

    def known_ids(values: dict[str, Any] | None, names: dict[str, str]) -> st.SearchStrategy[Any]:
        """Ids drawn at random rarely name a row: a third of the time one of alpha's, a third one of beta's."""
        choices: list[st.SearchStrategy[Any]] = [st.just(values)]
        for shop_ids in (contract.alpha_ids, contract.beta_ids):
            for field_name, kind in names.items():
                value = (values or {}).get(field_name)
                upper = MAX_SHOPIFY_ID if kind == "customer_id" else MAX_ROW_ID
                # Only a valid id is swapped: an invalid one is the point of a negative case.
                if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= upper:
                    choices.append(
                        st.sampled_from(sorted(shop_ids[kind])).map(_with(values or {}, field_name))
                    )
        return st.one_of(*choices)

    @loaded.hook
    def flatmap_path_parameters(
        _context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
    ) -> st.SearchStrategy[Any]:
        return known_ids(path_parameters, {name: name for name in contract.alpha_ids})

    @loaded.hook
    def flatmap_body(_context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
        if not isinstance(body, dict):
            return st.just(body)
        return known_ids(body, {"customer_id": "customer_id", "assignee_id": "agent_id"})

    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.timeout(600)  # about a minute on SQLite or PostgreSQL; room for a busy machine
@schema.parametrize()
# Hypothesis' health checks judge the generation (a function-scoped fixture, slow draws), not the API.
@settings(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
def test_every_answer_is_one_the_document_declares(case: schemathesis.Case[Any], contract: Contract) -> None:
    response = case.call()
    ids = case.path_parameters or {}
    if response.status_code == 404 and any(
        value in contract.beta_ids.get(name, ()) for name, value in ids.items()
    ):
        contract.beta_ids_met += 1
    if case.method == "DELETE" and response.status_code in (200, 204) and case.path in SELF_DESTRUCTIVE:
        contract.restore_callers()
    case.validate_response(response, checks=CHECKS)
