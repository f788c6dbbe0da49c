"""Signed URLs: with ``signedUrls`` in the manifest, Zendesk loads an app's server-side page with a POST whose
form field ``token`` is a JWT signed RS256 with the app's private key. The app verifies it with the public
key from ``GET /api/v2/apps/{app_id}/public_key.pem`` and checks that it was issued for this installation.

Claims checked (PyJWT, algorithm pinned to RS256 so ``alg: none`` and an HS256 token "signed" with the
public key both fail): ``exp`` and ``iat`` present and current (10 s leeway), ``iss`` = the account's host
(``{subdomain}.zendesk.com``), ``aud`` = the installation's address
(``https://{subdomain}.zendesk.com/api/v2/apps/installations/{installation_id}.json``), as Zendesk's
server-side app guide verifies them. The page then keeps its own short session: the token is used once.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt

ALGORITHM = "RS256"
LEEWAY_SECONDS = 10
MAX_TOKEN_CHARS = 8192
FORM_FIELD = "token"


class InvalidAppToken(ValueError):
    """The token is not one Zendesk issued for this installation now; the message says why (never the
    token)."""


@dataclass(frozen=True, slots=True)
class AppToken:
    subdomain: str
    installation_id: int
    issued_at: int
    expires_at: int

    def __repr__(self) -> str:
        return f"AppToken(subdomain={self.subdomain!r}, installation_id={self.installation_id})"


def issuer(subdomain: str) -> str:
    return f"{subdomain}.zendesk.com"


def audience(subdomain: str, installation_id: int) -> str:
    return f"https://{subdomain}.zendesk.com/api/v2/apps/installations/{installation_id}.json"


def decode_app_token(token: str, *, public_key_pem: str, subdomain: str, installation_id: int) -> AppToken:
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise InvalidAppToken("missing or malformed token")
    if not public_key_pem:
        raise InvalidAppToken("no public key configured")
    try:
        claims = jwt.decode(
            token,
            public_key_pem,
            algorithms=[ALGORITHM],
            audience=audience(subdomain, installation_id),
            issuer=issuer(subdomain),
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud"], "verify_iat": True},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidAppToken("token expired") from None
    except jwt.InvalidAudienceError:
        raise InvalidAppToken("token is for another installation") from None
    except jwt.InvalidIssuerError:
        raise InvalidAppToken("token is from another Zendesk account") from None
    except jwt.ImmatureSignatureError:
        raise InvalidAppToken("token not yet valid") from None
    except jwt.InvalidAlgorithmError:
        raise InvalidAppToken("token algorithm refused") from None
    except jwt.InvalidSignatureError:
        raise InvalidAppToken("token signature does not match") from None
    except jwt.MissingRequiredClaimError:
        raise InvalidAppToken("token lacks a required claim") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise InvalidAppToken("token is malformed") from None
    return AppToken(
        subdomain=subdomain,
        installation_id=installation_id,
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
    )
