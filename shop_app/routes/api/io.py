"""Reading requests and writing answers for the API: bodies validated by the pydantic shapes, ids and
query parameters read with the bounds the document declares, and every endpoint described once for both
routing and OpenAPI."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from shop_app.errors import BadRequest, PayloadTooLarge

MAX_BODY_BYTES = 64 * 1024
MAX_ROW_ID = 2**31 - 1
MAX_SHOPIFY_ID = 2**63 - 1
ROW_ID: Mapping[str, Any] = {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ROW_ID}
SHOPIFY_ID: Mapping[str, Any] = {
    "type": "integer",
    "format": "int64",
    "minimum": 1,
    "maximum": MAX_SHOPIFY_ID,
}

In = TypeVar("In", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class IntQuery:
    """A whole number from ``lower`` to ``upper``; absent, the default."""

    name: str
    description: str
    lower: int
    upper: int
    default: int

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.lower, "maximum": self.upper, "default": self.default}

    def read(self, request: Request) -> int:
        raw = request.query_params.get(self.name)
        if raw is None:
            return self.default
        if (
            not raw.isascii()
            or not raw.isdigit()
            or len(raw) > 19
            or not self.lower <= int(raw) <= self.upper
        ):
            raise BadRequest(
                f"'{self.name}' must be a whole number from {self.lower} to {self.upper}",
                code="invalid_query",
            )
        return int(raw)


@dataclass(frozen=True, slots=True)
class ChoiceQuery:
    """One of a few words; absent, ``None``."""

    name: str
    description: str
    choices: tuple[str, ...]

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.choices)}

    def read(self, request: Request) -> str | None:
        raw = request.query_params.get(self.name)
        if raw is not None and raw not in self.choices:
            raise BadRequest(f"'{self.name}' is one of {', '.join(self.choices)}", code="invalid_query")
        return raw


@dataclass(frozen=True, slots=True)
class TextQuery:
    """Text up to ``max_length`` characters, matching ``pattern`` if there is one; absent, ``None``."""

    name: str
    description: str
    max_length: int
    pattern: str | None = None
    code: str = "invalid_query"

    @property
    def schema(self) -> dict[str, Any]:
        declared: dict[str, Any] = {"type": "string", "maxLength": self.max_length}
        if self.pattern is not None:
            declared["pattern"] = self.pattern
        return declared

    def read(self, request: Request) -> str | None:
        raw = request.query_params.get(self.name)
        if raw is None:
            return None
        if len(raw) > self.max_length:
            raise BadRequest(f"'{self.name}' is too long", code=self.code)
        if self.pattern is not None and re.search(self.pattern, raw) is None:
            raise BadRequest(f"'{self.name}' is not one this API gave or takes", code=self.code)
        return raw


QueryParameter = IntQuery | ChoiceQuery | TextQuery


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One operation. Path parameters are row ids (``ROW_ID``) unless ``path_schemas`` names their schema;
    ``responses`` adds or words the refusals beyond those every operation of its kind can give (see
    ``openapi.py``)."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    query: tuple[QueryParameter, ...] = ()
    auth: bool = True
    responses: dict[int, str] = field(default_factory=dict)
    path_schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    file: bool = False  # answers a file's bytes (its own content type) instead of JSON


class JSONModelResponse(Response):
    media_type = "application/json"

    def __init__(self, model: BaseModel, status_code: int = 200) -> None:
        super().__init__(model.model_dump_json(), status_code=status_code)


async def read_body(request: Request, shape: type[In]) -> In:
    if "application/json" not in request.headers.get("content-type", ""):
        raise BadRequest("Send a JSON body (Content-Type: application/json)", code="invalid_content_type")
    declared = request.headers.get("content-length")
    if declared is not None and not declared.isdigit():
        raise BadRequest("The Content-Length header is not a number", code="invalid_content_length")
    if declared is not None and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES // 1024} KiB", code="body_too_large")
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge(
                f"The body is larger than {MAX_BODY_BYTES // 1024} KiB", code="body_too_large"
            )
    try:
        return shape.model_validate_json(bytes(raw))
    except ValidationError as error:
        raise BadRequest(_explain(error), code="invalid_request") from None


def _explain(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


def path_id(request: Request, name: str, *, upper: int = MAX_ROW_ID) -> int:
    raw = str(request.path_params[name])
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not 0 < int(raw) <= upper:
        raise BadRequest(f"'{name}' must be a whole number from 1 to {upper}", code="invalid_id")
    return int(raw)
