"""Agents, their shop memberships and their sign-in sessions.

An account belongs to the shop it was added to: an email has one account per shop, found and signed in
to by shop and email together. A shop's admin adding an email that another shop also uses makes a new
account, and neither learns anything of the other. (Accounts made before that rule may be members of
several shops; they keep working.) A shop keeps at least one admin: the last one is neither demoted nor
removed.

Passwords are hashed with Argon2id (argon2-cffi, the reference implementation's binding, with its
OWASP-level defaults). A session token is 256 random bits held only by the browser's cookie; the table
keeps its SHA-256 digest, so a leaked table signs nobody in. The CSRF token is derived from the session
token with the app's secret, so it needs no storage and dies with the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.errors import BadRequest, Conflict, NotFound, Unauthorized, Unprocessable
from shop_app.i18n import SUPPORTED_LOCALES
from shop_app.models import Agent, AgentSession, Membership, Role, Shop, Ticket
from shop_app.models.accounts import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from shop_app.models.base import utcnow

SESSION_LIFETIME_SECONDS = 12 * 3600

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class SignedIn:
    agent: Agent
    shop: Shop
    role: Role
    token: str
    expires_at: datetime


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str, *, key: str) -> str:
    return hmac.new(key.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, presented: str, *, key: str) -> bool:
    return hmac.compare_digest(csrf_token(session_token, key=key), presented)


def normalise_agent_email(raw: str) -> str:
    email = raw.strip().lower()
    if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
        raise BadRequest("Enter a valid email address", code="invalid_email")
    return email


def hash_password(password: str) -> str:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise BadRequest(
            f"Passwords have {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters", code="weak_password"
        )
    return _hasher.hash(password)


def _password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def agent_label(agent: Agent) -> str:
    """What other agents see an agent called: the name, else the email (shoppers never see an email:
    ``channels/widget.py`` speaks as the shop instead)."""
    return agent.name or agent.email


def shopper_facing_name(agent_name: str, *, shop_name: str | None) -> str | None:
    """What a shopper is told an agent is called: the first word of the agent's name. An agent without a
    name, or whose name holds an email address (agents once were named by their email), speaks as the
    shop; ``None`` when the shop has no name either (the widget then says "staff")."""
    words = agent_name.split()
    if not words or "@" in agent_name:
        return (shop_name.strip() or None) if shop_name else None
    return words[0]


async def create_agent(
    session: AsyncSession, *, email: str, name: str, password: str, locale: str = "en"
) -> Agent:
    """A new account (not yet a member of any shop: ``add_agent_to_shop`` makes one for a shop)."""
    agent = Agent(
        email=normalise_agent_email(email),
        name=name.strip()[:255],
        password_hash=hash_password(password),
        locale=locale if locale in SUPPORTED_LOCALES else "en",
    )
    session.add(agent)
    await session.flush()
    return agent


async def set_agent_locale(session: AsyncSession, *, agent_id: int, locale: str) -> None:
    """The agent's own language: the console opens in it, and what is written for them uses it."""
    if locale not in SUPPORTED_LOCALES:
        raise BadRequest(f"'locale' is one of {', '.join(SUPPORTED_LOCALES)}", code="invalid_locale")
    await session.execute(
        update(Agent).where(col(Agent.id) == agent_id, col(Agent.locale) != locale).values(locale=locale)
    )


async def shop_member_by_email(session: AsyncSession, *, shop_id: int, email: str) -> Agent | None:
    """The shop's agent with this email; another shop's account with the same email is not looked at."""
    result = await session.execute(
        select(Agent)
        .join(Membership, col(Membership.agent_id) == col(Agent.id))
        .where(col(Membership.shop_id) == shop_id, col(Agent.email) == normalise_agent_email(email))
        .order_by(col(Agent.id))
        .limit(1)
    )
    return result.scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class AddedAgent:
    agent: Agent
    role: Role
    created: bool


async def add_agent_to_shop(
    session: AsyncSession,
    *,
    shop: Shop,
    email: str,
    name: str,
    password: str | None,
    role: Role | None,
    locale: str = "en",
) -> AddedAgent:
    """The shop's agent with this email, its role changed when ``role`` is given; or a new account for
    this shop (which needs a password), whatever accounts other shops have with this email."""
    shop_id = _id(shop.id)
    # one addition at a time per shop (PostgreSQL), so two at once cannot make the same email twice
    await session.execute(select(col(Shop.id)).where(col(Shop.id) == shop_id).with_for_update())
    agent = await shop_member_by_email(session, shop_id=shop_id, email=email)
    if agent is not None:
        membership = await get_membership(session, shop_id=shop_id, agent_id=_id(agent.id))
        assert membership is not None
        if role is not None:
            await change_role(session, membership=membership, role=role)
        return AddedAgent(agent=agent, role=Role(membership.role), created=False)
    if not password:
        raise Unprocessable("A new agent needs a password", code="password_required")
    agent = await create_agent(session, email=email, name=name, password=password, locale=locale)
    await add_membership(session, shop=shop, agent=agent, role=role or Role.AGENT)
    return AddedAgent(agent=agent, role=role or Role.AGENT, created=True)


async def add_membership(session: AsyncSession, *, shop: Shop, agent: Agent, role: Role) -> Membership:
    existing = await get_membership(session, shop_id=_id(shop.id), agent_id=_id(agent.id))
    if existing is not None:
        await change_role(session, membership=existing, role=role)
        return existing
    membership = Membership(shop_id=_id(shop.id), agent_id=_id(agent.id), role=role)
    session.add(membership)
    await session.flush()
    return membership


async def change_role(session: AsyncSession, *, membership: Membership, role: Role) -> None:
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        await _keep_an_admin(session, membership=membership)
    membership.role = role


async def _keep_an_admin(session: AsyncSession, *, membership: Membership) -> None:
    """Refuses to demote or remove the shop's last admin (an enabled agent with the admin role). The
    shop's admin rows are locked in id order (PostgreSQL), so two admins demoting each other at once
    cannot both succeed."""
    admins = await session.execute(
        select(col(Membership.agent_id))
        .join(Agent, col(Agent.id) == col(Membership.agent_id))
        .where(
            col(Membership.shop_id) == membership.shop_id,
            col(Membership.role) == Role.ADMIN,
            col(Agent.disabled).is_(False),
        )
        .order_by(col(Membership.id))
        .with_for_update(of=Membership)
    )
    if not any(agent_id != membership.agent_id for agent_id in admins.scalars()):
        raise Conflict("A shop needs an admin: make another agent an admin first", code="last_admin")


async def get_membership(session: AsyncSession, *, shop_id: int, agent_id: int) -> Membership | None:
    result = await session.execute(
        select(Membership).where(col(Membership.shop_id) == shop_id, col(Membership.agent_id) == agent_id)
    )
    return result.scalar_one_or_none()


async def shop_agents(session: AsyncSession, *, shop_id: int) -> list[tuple[Agent, Role]]:
    rows = await session.execute(
        select(Agent, col(Membership.role))
        .join(Membership, col(Membership.agent_id) == col(Agent.id))
        .where(col(Membership.shop_id) == shop_id, col(Agent.disabled).is_(False))
        .order_by(col(Agent.name), col(Agent.id))
    )
    return [(agent, Role(role)) for agent, role in rows]


async def sign_in(
    session: AsyncSession, *, shop_domain: str, email: str, password: str, now: datetime | None = None
) -> SignedIn:
    """One answer for every failure (unknown shop, unknown email, wrong password, not a member)."""
    refused = Unauthorized("The shop, email or password is not right", code="invalid_credentials")
    address = email.strip().lower()
    row = (
        (
            await session.execute(
                select(Agent, Shop, col(Membership.role))
                .join(Membership, col(Membership.agent_id) == col(Agent.id))
                .join(Shop, col(Shop.id) == col(Membership.shop_id))
                .where(col(Shop.domain) == shop_domain, col(Agent.email) == address)
                .order_by(col(Agent.id))
                .limit(1)
            )
        ).first()
        if address
        else None
    )
    agent, shop, role = row if row is not None else (None, None, None)
    password_ok = _password_matches(agent.password_hash if agent else _DUMMY_HASH, password)
    if agent is None or shop is None or role is None or not password_ok or agent.disabled:
        raise refused
    if not shop.is_active:
        raise refused
    if _hasher.check_needs_rehash(agent.password_hash):
        agent.password_hash = _hasher.hash(password)
    moment = now or utcnow()
    await session.execute(
        delete(AgentSession).where(
            col(AgentSession.agent_id) == agent.id, col(AgentSession.expires_at) <= moment
        )
    )
    token = secrets.token_urlsafe(32)
    expires_at = moment + timedelta(seconds=SESSION_LIFETIME_SECONDS)
    session.add(
        AgentSession(
            token_digest=token_digest(token),
            agent_id=_id(agent.id),
            shop_id=_id(shop.id),
            expires_at=expires_at,
        )
    )
    await session.flush()
    return SignedIn(agent=agent, shop=shop, role=Role(role), token=token, expires_at=expires_at)


async def resolve_session(session: AsyncSession, *, token: str, now: datetime | None = None) -> SignedIn:
    """The agent, shop and role behind a session cookie, in one query."""
    row = (
        await session.execute(
            select(AgentSession, Agent, Shop, col(Membership.role))
            .join(Agent, col(Agent.id) == col(AgentSession.agent_id))
            .join(Shop, col(Shop.id) == col(AgentSession.shop_id))
            .outerjoin(
                Membership,
                (col(Membership.shop_id) == col(AgentSession.shop_id))
                & (col(Membership.agent_id) == col(AgentSession.agent_id)),
            )
            .where(col(AgentSession.token_digest) == token_digest(token))
        )
    ).first()
    if row is None:
        raise Unauthorized("Sign in to continue", code="not_signed_in")
    signed, agent, shop, role = row
    if signed.expires_at <= (now or utcnow()):
        raise Unauthorized("Your session has expired: sign in again", code="session_expired")
    if agent.disabled or not shop.is_active or role is None:
        raise Unauthorized("Sign in to continue", code="not_signed_in")
    return SignedIn(agent=agent, shop=shop, role=Role(role), token=token, expires_at=signed.expires_at)


async def end_session(session: AsyncSession, *, token: str) -> None:
    await session.execute(delete(AgentSession).where(col(AgentSession.token_digest) == token_digest(token)))


def _id(value: int | None) -> int:
    assert value is not None, "row not flushed"
    return value


async def remove_membership(session: AsyncSession, *, shop_id: int, agent_id: int) -> None:
    """The agent leaves the shop: signed out of it, and its tickets there go back to the queue."""
    membership = await get_membership(session, shop_id=shop_id, agent_id=agent_id)
    if membership is None:
        raise NotFound("No such agent in this shop", code="agent_not_found")
    if membership.role == Role.ADMIN:
        await _keep_an_admin(session, membership=membership)
    await session.delete(membership)
    await session.execute(
        delete(AgentSession).where(
            col(AgentSession.shop_id) == shop_id, col(AgentSession.agent_id) == agent_id
        )
    )
    await session.execute(
        update(Ticket)
        .where(col(Ticket.shop_id) == shop_id, col(Ticket.assignee_id) == agent_id)
        .values(assignee_id=None, updated_at=utcnow())  # a change (the Insights rollup reads it)
    )
