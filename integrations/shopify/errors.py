"""Errors raised by the Shopify clients.

ShopifyError
 ├── InvalidShopDomain          a shop name that is not ``*.myshopify.com`` (raised before any request)
 ├── ShopifyHTTPError           an unexpected HTTP answer (status kept, body never included)
 │    ├── ShopifyUnauthorized    401/403: the access token is invalid, expired or revoked
 │    └── ShopifyUnavailable     429/5xx/connection failures that outlived the retries
 ├── OAuthError                 an OAuth endpoint refused (``error`` code kept, e.g. invalid_grant)
 │    └── InvalidGrant           the code or refresh token is used, expired or revoked: re-authorise
 └── GraphQLError               the GraphQL answer carried ``errors`` (codes kept)
      └── Throttled             ``THROTTLED`` after the client's retries
"""

from __future__ import annotations


class ShopifyError(Exception):
    pass


class InvalidShopDomain(ShopifyError):
    pass


class ShopifyHTTPError(ShopifyError):
    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(f"{message} (HTTP {status_code})")
        self.status_code = status_code


class ShopifyUnauthorized(ShopifyHTTPError):
    pass


class ShopifyUnavailable(ShopifyHTTPError):
    pass


class OAuthError(ShopifyError):
    def __init__(self, error: str, *, status_code: int) -> None:
        super().__init__(f"Shopify refused the token request: {error} (HTTP {status_code})")
        self.error = error
        self.status_code = status_code


class InvalidGrant(OAuthError):
    pass


class GraphQLError(ShopifyError):
    def __init__(self, message: str, *, codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.codes = codes


class Throttled(GraphQLError):
    pass
