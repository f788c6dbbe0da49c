"""Reading requests and writing answers for the API: bodies validated by the pydantic shapes, ids checked
before they reach the database, and every endpoint described once for both routing and OpenAPI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from shop_app.errors import BadRequest

MAX_BODY_BYTES = 64 * 1024
MAX_ROW_ID = 2**31 - 1
MAX_SHOPIFY_ID = 2**63 - 1

In = TypeVar("In", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    query: tuple[tuple[str, str], ...] = ()  # (name, description)
    auth: bool = True
    responses: dict[int, str] = field(default_factory=dict)


class JSONModelResponse(Response):
    media_type = "application/json"

    def __init__(self, model: BaseModel, status_code: int = 200) -> None:
        super().__init__(model.model_dump_json(), status_code=status_code)


async def read_body(request: Request, shape: type[In]) -> In:
    if "application/json" not in request.headers.get("content-type", ""):
        raise BadRequest("Send a JSON body (Content-Type: application/json)", code="invalid_content_type")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BadRequest(f"The body is larger than {MAX_BODY_BYTES // 1024} KiB", code="body_too_large")
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > MAX_BODY_BYTES:
            raise BadRequest(f"The body is larger than {MAX_BODY_BYTES // 1024} KiB", code="body_too_large")
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
        raise BadRequest(f"'{name}' must be a positive whole number", code="invalid_id")
    return int(raw)


def query_int(request: Request, name: str, *, default: int, lower: int = 0, upper: int = MAX_ROW_ID) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not lower <= int(raw) <= upper:
        raise BadRequest(f"'{name}' must be a whole number from {lower} to {upper}", code="invalid_query")
    return int(raw)
