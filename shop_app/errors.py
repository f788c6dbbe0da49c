"""The app's errors: each carries a stable code and the HTTP status it is rendered with.

AppError
 ├── BadRequest        400  malformed input
 ├── Unauthorized      401  missing or invalid credentials, signatures, tokens
 ├── Forbidden         403  authenticated but not allowed
 ├── NotFound          404  absent, or belonging to another shop
 ├── Conflict          409  the request conflicts with what is stored
 ├── PayloadTooLarge   413  a body over the size limit
 ├── Unprocessable     422  well formed, but its content cannot be used (a template that does not render)
 ├── TooManyRequests   429  a limit was reached (``Retry-After`` says for how long)
 └── Unavailable       503  a dependency (Shopify, the database) failed
SettingsError              configuration refused at start (not an HTTP error)
"""

from __future__ import annotations


class SettingsError(Exception):
    pass


class AppError(Exception):
    http_status = 500
    default_code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    @property
    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(AppError):
    http_status = 400
    default_code = "bad_request"


class Unauthorized(AppError):
    http_status = 401
    default_code = "unauthorized"


class Forbidden(AppError):
    http_status = 403
    default_code = "forbidden"


class NotFound(AppError):
    http_status = 404
    default_code = "not_found"


class Conflict(AppError):
    http_status = 409
    default_code = "conflict"


class TooManyRequests(AppError):
    http_status = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_seconds = retry_after_seconds

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class PayloadTooLarge(AppError):
    http_status = 413
    default_code = "payload_too_large"


class Unprocessable(AppError):
    http_status = 422
    default_code = "unprocessable"


class Unavailable(AppError):
    http_status = 503
    default_code = "unavailable"
