"""API keys for bots and other helpdesks, managed by the shop's admins."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from shop_app.helpdesk.api_keys import create_api_key, list_api_keys, revoke_api_key
from shop_app.models import ApiKey
from shop_app.routes.api.auth import authenticate, require_admin
from shop_app.routes.api.io import Endpoint, JSONModelResponse, path_id, read_body
from shop_app.routes.request_state import services
from shop_app.schemas.tickets import ApiKeyCreated, ApiKeyIn, ApiKeyList, ApiKeyOut


def _key_out(row: ApiKey) -> ApiKeyOut:
    assert row.id is not None
    return ApiKeyOut(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        trusted=row.trusted,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


async def list_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller)
    async with services(request).sessions() as session:
        rows = await list_api_keys(session, shop_id=caller.shop_id)
    return JSONModelResponse(ApiKeyList(api_keys=[_key_out(row) for row in rows]))


async def create_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller)
    body = await read_body(request, ApiKeyIn)
    async with services(request).sessions() as session, session.begin():
        row, key = await create_api_key(
            session, shop=caller.shop, name=body.name, trusted=body.trusted, created_by_id=caller.agent_id
        )
        out = ApiKeyCreated(**_key_out(row).model_dump(), key=key)
    return JSONModelResponse(out, status_code=201)


async def revoke_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller)
    key_id = path_id(request, "key_id")
    async with services(request).sessions() as session, session.begin():
        row = await revoke_api_key(session, shop_id=caller.shop_id, key_id=key_id)
        out = _key_out(row)
    return JSONModelResponse(out)


ADMINS = {403: "Only the shop's admins"}
ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/api-keys",
        list_endpoint,
        "The shop's API keys",
        "api keys",
        response=ApiKeyList,
        responses=ADMINS,
    ),
    Endpoint(
        "POST",
        "/api/v1/api-keys",
        create_endpoint,
        "Create an API key (the key is shown once)",
        "api keys",
        body=ApiKeyIn,
        response=ApiKeyCreated,
        status=201,
        responses=ADMINS,
    ),
    Endpoint(
        "DELETE",
        "/api/v1/api-keys/{key_id}",
        revoke_endpoint,
        "Revoke an API key",
        "api keys",
        response=ApiKeyOut,
        responses={**ADMINS, 404: "No such key in the shop"},
    ),
]
