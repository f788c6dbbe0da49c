"""Errors raised by the LINE client. Each carries LINE's ``x-line-request-id`` (when LINE answered) and never
a token or a message body.

LineError
 └── LineApiError               LINE answered with an error status (status, request id, LINE's message)
      ├── LineUnauthorized      401/403: the channel access token is wrong, expired or revoked
      ├── InvalidReplyToken     400 "Invalid reply token": used, expired or unknown (push instead)
      ├── LineNotFound          404: no such user (or the user blocked the account), no profile consent
      └── LineUnavailable       429 or 5xx (or no answer at all) that outlived the retries
"""

from __future__ import annotations


class LineError(Exception):
    pass


class LineApiError(LineError):
    def __init__(self, message: str, *, status_code: int, request_id: str | None = None) -> None:
        super().__init__(f"{message} (HTTP {status_code}, request id {request_id or 'none'})")
        self.status_code = status_code
        self.request_id = request_id
        self.line_message = message


class LineUnauthorized(LineApiError):
    pass


class InvalidReplyToken(LineApiError):
    pass


class LineNotFound(LineApiError):
    pass


class LineUnavailable(LineApiError):
    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, request_id=request_id)
        self.retry_after_seconds = retry_after_seconds
