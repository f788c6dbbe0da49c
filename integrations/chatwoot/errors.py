"""Errors raised by the Chatwoot client. None carries a token or a message body.

ChatwootError
 ├── ChatwootParseError        a webhook body that is not the documented shape
 └── ChatwootApiError          Chatwoot answered with an error status (or not at all: status 0)
      ├── ChatwootUnauthorized 401/403: the token is wrong, revoked, or may not do this
      ├── ChatwootNotFound     404: no such account, conversation or contact
      ├── ChatwootNotChatwoot  an answer that is not Chatwoot's JSON (a wrong URL)
      └── ChatwootUnavailable  429 or 5xx (or no answer) that outlived the retries
"""

from __future__ import annotations


class ChatwootError(Exception):
    pass


class ChatwootParseError(ChatwootError):
    pass


class ChatwootApiError(ChatwootError):
    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(f"{message} (HTTP {status_code})")
        self.status_code = status_code


class ChatwootUnauthorized(ChatwootApiError):
    pass


class ChatwootNotFound(ChatwootApiError):
    pass


class ChatwootNotChatwoot(ChatwootApiError):
    pass


class ChatwootUnavailable(ChatwootApiError):
    def __init__(self, message: str, *, status_code: int, retry_after_seconds: float | None = None) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after_seconds = retry_after_seconds
