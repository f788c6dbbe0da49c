"""Errors raised by the Zendesk client. Each carries Zendesk's ``x-zendesk-request-id`` (when Zendesk
answered) and its error code, never a token or a comment.

ZendeskError
 └── ZendeskApiError            Zendesk answered with an error status (status, request id, Zendesk's code)
      ├── ZendeskUnauthorized   401/403: wrong email or API token, token revoked, or the user may not do it
      ├── ZendeskNotFound       404: no such ticket, user or group (or the subdomain is wrong)
      ├── ZendeskInvalid        422: Zendesk refused the record (e.g. a group that does not exist)
      └── ZendeskUnavailable    429 or 5xx (or no answer at all) that outlived the retries
"""

from __future__ import annotations


class ZendeskError(Exception):
    pass


class ZendeskApiError(ZendeskError):
    def __init__(self, code: str, *, status_code: int, request_id: str | None = None) -> None:
        super().__init__(f"{code} (HTTP {status_code}, request id {request_id or 'none'})")
        self.status_code = status_code
        self.request_id = request_id
        self.code = code


class ZendeskUnauthorized(ZendeskApiError):
    pass


class ZendeskNotFound(ZendeskApiError):
    pass


class ZendeskInvalid(ZendeskApiError):
    pass


class ZendeskUnavailable(ZendeskApiError):
    def __init__(
        self,
        code: str,
        *,
        status_code: int,
        request_id: str | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(code, status_code=status_code, request_id=request_id)
        self.retry_after_seconds = retry_after_seconds
