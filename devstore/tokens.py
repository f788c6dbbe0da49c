"""Authorization codes, expiring offline access tokens with rotating refresh tokens, installs, and the
App Bridge session tokens the store's admin hands to embedded apps.

Tokens are kept as SHA-256 digests in ``<data_dir>/tokens.db`` so a restart keeps installs and a copy of
the file leaks no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from devstore.clock import Clock, system_clock
from devstore.config import (
    ACCESS_TOKEN_LIFETIME_SECONDS,
    AUTHORIZATION_CODE_LIFETIME_SECONDS,
    REFRESH_TOKEN_LIFETIME_SECONDS,
)

ACCESS_TOKEN_PREFIX = "shpat_"  # noqa: S105 (a prefix, not a secret)
REFRESH_TOKEN_PREFIX = "shprt_"  # noqa: S105 (a prefix, not a secret)
SESSION_TOKEN_LIFETIME_SECONDS = 60
SESSION_TOKEN_LEEWAY_SECONDS = 10

_SCHEMA = """
CREATE TABLE IF NOT EXISTS authorization_codes (
    code_hash TEXT PRIMARY KEY, shop TEXT NOT NULL, client_id TEXT NOT NULL, scope TEXT NOT NULL,
    expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS access_tokens (
    token_hash TEXT PRIMARY KEY, shop TEXT NOT NULL, client_id TEXT NOT NULL, scope TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL NOT NULL, refresh_hash TEXT UNIQUE NOT NULL,
    refresh_expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
    access_revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS access_tokens_by_app ON access_tokens (shop, client_id);
CREATE TABLE IF NOT EXISTS installs (
    shop TEXT NOT NULL, client_id TEXT NOT NULL, scope TEXT NOT NULL, installed_at REAL NOT NULL,
    PRIMARY KEY (shop, client_id));
"""


class OAuthError(Exception):
    """An error answer of ``/admin/oauth/access_token``: ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def as_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True, slots=True)
class AccessCheck:
    client_id: str | None
    expired: bool = False
    scope: str = ""

    @property
    def valid(self) -> bool:
        return self.client_id is not None and not self.expired

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(s for s in self.scope.split(",") if s)


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    scope: str
    expires_in: int
    refresh_token: str
    refresh_token_expires_in: int

    def __repr__(self) -> str:
        return f"IssuedTokens(scope={self.scope!r}, expires_in={self.expires_in})"

    def as_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "scope": self.scope,
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "refresh_token_expires_in": self.refresh_token_expires_in,
        }


@dataclass(frozen=True, slots=True)
class Install:
    shop: str
    client_id: str
    scope: str
    installed_at: float


@dataclass(frozen=True, slots=True)
class _Grant:
    shop: str
    client_id: str
    scope: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenRegistry:
    def __init__(
        self,
        path: Path,
        *,
        clock: Clock = system_clock,
        access_token_lifetime_seconds: int = ACCESS_TOKEN_LIFETIME_SECONDS,
        refresh_token_lifetime_seconds: int = REFRESH_TOKEN_LIFETIME_SECONDS,
        code_lifetime_seconds: int = AUTHORIZATION_CODE_LIFETIME_SECONDS,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._access_lifetime = access_token_lifetime_seconds
        self._refresh_lifetime = refresh_token_lifetime_seconds
        self._code_lifetime = code_lifetime_seconds
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(access_tokens)")}
        if "access_revoked" not in columns:  # a data directory from before early revocation existed
            self._db.execute("ALTER TABLE access_tokens ADD COLUMN access_revoked INTEGER NOT NULL DEFAULT 0")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def issue_code(self, *, shop: str, client_id: str, scope: str) -> str:
        code = secrets.token_hex(16)
        with self._lock:
            self._db.execute(
                "INSERT INTO authorization_codes VALUES (?, ?, ?, ?, ?, 0)",
                (_digest(code), shop, client_id, scope, self._clock() + self._code_lifetime),
            )
        return code

    def redeem_code(self, *, shop: str, client_id: str, code: str) -> IssuedTokens:
        with self._lock:
            row = self._db.execute(
                "SELECT shop, client_id, scope, expires_at, used FROM authorization_codes"
                " WHERE code_hash = ?",
                (_digest(code),),
            ).fetchone()
            if row is None or row[0] != shop or row[1] != client_id:
                raise OAuthError("invalid_grant", "The authorization code is invalid.")
            if row[4]:
                raise OAuthError("invalid_grant", "The authorization code has already been used.")
            if row[3] <= self._clock():
                raise OAuthError("invalid_grant", "The authorization code has expired.")
            self._db.execute("UPDATE authorization_codes SET used = 1 WHERE code_hash = ?", (_digest(code),))
            return self._issue_locked(_Grant(shop, client_id, row[2]))

    def issue_tokens(self, *, shop: str, client_id: str, scope: str) -> IssuedTokens:
        with self._lock:
            return self._issue_locked(_Grant(shop, client_id, scope))

    def refresh(self, *, shop: str, client_id: str, refresh_token: str) -> IssuedTokens:
        with self._lock:
            row = self._db.execute(
                "SELECT shop, client_id, scope, refresh_expires_at, revoked FROM access_tokens "
                "WHERE refresh_hash = ?",
                (_digest(refresh_token),),
            ).fetchone()
            if row is None or row[0] != shop or row[1] != client_id or row[4]:
                raise OAuthError("invalid_grant", "The refresh token is invalid or has already been used.")
            if row[3] <= self._clock():
                raise OAuthError("invalid_grant", "The refresh token has expired.")
            return self._issue_locked(_Grant(shop, client_id, row[2]))

    def _issue_locked(self, grant: _Grant) -> IssuedTokens:
        now = self._clock()
        access_token = ACCESS_TOKEN_PREFIX + secrets.token_hex(16)
        refresh_token = REFRESH_TOKEN_PREFIX + secrets.token_hex(16)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            # Only one expiring token is active per app and shop: a new grant revokes the earlier ones.
            self._db.execute(
                "UPDATE access_tokens SET revoked = 1 WHERE shop = ? AND client_id = ?",
                (grant.shop, grant.client_id),
            )
            self._db.execute(
                "INSERT INTO access_tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
                (
                    _digest(access_token),
                    grant.shop,
                    grant.client_id,
                    grant.scope,
                    now,
                    now + self._access_lifetime,
                    _digest(refresh_token),
                    now + self._refresh_lifetime,
                ),
            )
            self._db.execute(
                "INSERT INTO installs VALUES (?, ?, ?, ?)"
                " ON CONFLICT (shop, client_id) DO UPDATE SET scope = "
                "excluded.scope",
                (grant.shop, grant.client_id, grant.scope, now),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return IssuedTokens(
            access_token=access_token,
            scope=grant.scope,
            expires_in=self._access_lifetime,
            refresh_token=refresh_token,
            refresh_token_expires_in=self._refresh_lifetime,
        )

    def lookup_access_token(self, shop: str, token: str) -> AccessCheck:
        with self._lock:
            row = self._db.execute(
                "SELECT client_id, scope, expires_at FROM access_tokens "
                "WHERE token_hash = ? AND shop = ? AND revoked = 0 AND access_revoked = 0",
                (_digest(token), shop),
            ).fetchone()
        if row is None:
            return AccessCheck(client_id=None)
        return AccessCheck(client_id=row[0], expired=row[2] <= self._clock(), scope=row[1])

    def revoke_early(self, *, shop: str, client_id: str | None = None, refresh_tokens: bool = False) -> int:
        """Refuse the shop's live access tokens before their expiry, as Shopify may (a security reset, a
        support action): the Admin API answers 401 from now on. With ``refresh_tokens`` their refresh
        tokens are revoked too (a refresh then fails with ``invalid_grant``); otherwise a refresh still
        issues a working token. The number of tokens revoked."""
        clause = "shop = ? AND revoked = 0 AND access_revoked = 0"
        values: tuple[str, ...] = (shop,)
        if client_id is not None:
            clause += " AND client_id = ?"
            values += (client_id,)
        column = "revoked" if refresh_tokens else "access_revoked"
        with self._lock:
            cursor = self._db.execute(f"UPDATE access_tokens SET {column} = 1 WHERE {clause}", values)  # noqa: S608
        return cursor.rowcount

    def installs(self, shop: str) -> list[Install]:
        with self._lock:
            rows = self._db.execute(
                "SELECT shop, client_id, scope, installed_at FROM installs"
                " WHERE shop = ? ORDER BY installed_at",
                (shop,),
            ).fetchall()
        return [Install(*row) for row in rows]

    def install(self, shop: str, client_id: str) -> Install | None:
        return next((i for i in self.installs(shop) if i.client_id == client_id), None)

    def uninstall(self, *, shop: str, client_id: str) -> bool:
        with self._lock:
            self._db.execute(
                "UPDATE access_tokens SET revoked = 1 WHERE shop = ? AND client_id = ?", (shop, client_id)
            )
            cursor = self._db.execute(
                "DELETE FROM installs WHERE shop = ? AND client_id = ?", (shop, client_id)
            )
        return cursor.rowcount > 0


def mint_session_token(
    shop: str,
    client_id: str,
    secret: str,
    *,
    user_id: str = "1",
    now: float | None = None,
    lifetime_seconds: int = SESSION_TOKEN_LIFETIME_SECONDS,
) -> str:
    """An App Bridge ``id_token`` as Shopify's admin hands it to an embedded app."""
    issued_at = int(system_clock() if now is None else now)
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": client_id,
        "sub": user_id,
        "exp": issued_at + lifetime_seconds,
        "nbf": issued_at,
        "iat": issued_at,
        "jti": str(uuid.uuid4()),
        "sid": secrets.token_hex(32),
    }
    with warnings.catch_warnings():
        # Shopify decides the secret's length; the store signs with whatever the app was given.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, secret, algorithm="HS256")


def verify_session_token(token: str, *, shop: str, client_id: str, secret: str, now: float) -> dict[str, Any]:
    """The claims of a valid session token for ``shop`` and ``client_id``, else ``invalid_subject_token``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                audience=client_id,
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["exp", "nbf"],
                },
            )
    except jwt.PyJWTError:
        raise OAuthError("invalid_subject_token", "The session token could not be verified.") from None
    exp, nbf = claims["exp"], claims["nbf"]
    if not isinstance(exp, int | float) or not isinstance(nbf, int | float):
        raise OAuthError("invalid_subject_token", "The session token has malformed time claims.")
    if exp + SESSION_TOKEN_LEEWAY_SECONDS <= now:
        raise OAuthError("invalid_subject_token", "The session token has expired.")
    if nbf - SESSION_TOKEN_LEEWAY_SECONDS > now:
        raise OAuthError("invalid_subject_token", "The session token is not valid yet.")
    if claims.get("iss") != f"https://{shop}/admin" or claims.get("dest") != f"https://{shop}":
        raise OAuthError("invalid_subject_token", "The session token was issued for another shop.")
    return claims
