"""``/_devline/…``: how tests and demos steer the platform (never part of LINE's API), as LINE Developers'
console and the users' phones would: channels, users, what users do, and what was delivered."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from devline.channels import Channel, User
from devline.config import ChannelConfig, new_user_id
from devline.state import ActionError, LineState, check_action, is_user_id, user_action

MAX_EVENTS_PER_CALL = 100


async def _json_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ActionError("the body must be JSON") from exc
    if not isinstance(data, dict):
        raise ActionError("the body must be a JSON object")
    return data


def _optional_string(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or not value or len(value) > 2000):
        raise ActionError(f"{key} must be a non-empty string")
    return value


def _optional_bool(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise ActionError(f"{key} must be true or false")
    return value


def _optional_number(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value <= 0):
        raise ActionError(f"{key} must be a positive number")
    return None if value is None else float(value)


def user_json(state: LineState, channel: Channel, user: User) -> dict[str, Any]:
    return {
        **user.profile(),
        "following": user.following,
        "chatUrl": state.config.chat_url(channel.channel_id, user.user_id),
    }


def routes(state: LineState) -> list[BaseRoute]:
    def refused(message: str, status: int = 400) -> Response:
        return JSONResponse({"error": message}, status_code=status)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "channels": sorted(state.channels)})

    async def channels(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"channels": [c.as_json() for c in state.channels.values()]})
        try:
            data = await _json_body(request)
            channel_id = _optional_string(data, "channelId")
            if channel_id is not None and channel_id in state.channels:
                return refused("a channel with this id exists", 409)
            config = ChannelConfig.generate(
                display_name=_optional_string(data, "displayName") or "devline bot",
                webhook_url=_optional_string(data, "webhookUrl") or "",
                channel_id=channel_id,
                channel_secret=_optional_string(data, "channelSecret"),
                access_token=_optional_string(data, "accessToken"),
                redelivery=_optional_bool(data, "redelivery") is not False,
            )
        except ActionError as exc:
            return refused(str(exc))
        return JSONResponse(state.add_channel(config).as_json(), status_code=201)

    def channel_of(request: Request) -> Channel | None:
        return state.channels.get(request.path_params["channel_id"])

    async def one_channel(request: Request) -> Response:
        channel = channel_of(request)
        if channel is None:
            return refused("unknown channel", 404)
        if request.method == "PATCH":
            try:
                data = await _json_body(request)
                webhook_url = _optional_string(data, "webhookUrl")
                display_name = _optional_string(data, "displayName")
                add_token = _optional_string(data, "addAccessToken")
                revoke_token = _optional_string(data, "revokeAccessToken")
                webhook_active = _optional_bool(data, "webhookActive")
                redelivery = _optional_bool(data, "redelivery")
                per_second = _optional_number(data, "requestsPerSecond")
                loading_per_second = _optional_number(data, "loadingRequestsPerSecond")
                monthly = _optional_number(data, "monthlyPushLimit")
            except ActionError as exc:
                return refused(str(exc))
            channel.webhook_url = webhook_url if webhook_url is not None else channel.webhook_url
            channel.display_name = display_name or channel.display_name
            if add_token:
                channel.access_tokens.append(add_token)
            if revoke_token:
                channel.access_tokens = [t for t in channel.access_tokens if t != revoke_token]
            channel.webhook_active = channel.webhook_active if webhook_active is None else webhook_active
            channel.redelivery = channel.redelivery if redelivery is None else redelivery
            if per_second is not None:
                channel.requests_per_second = per_second
            if loading_per_second is not None:
                channel.loading_requests_per_second = loading_per_second
            if monthly is not None:
                channel.monthly_push_limit = int(monthly)
            if "requestsPerSecond" in data or "loadingRequestsPerSecond" in data:
                state.limits.reset(channel.channel_id)
        return JSONResponse(channel.as_json())

    async def users(request: Request) -> Response:
        channel = channel_of(request)
        if channel is None:
            return refused("unknown channel", 404)
        if request.method == "GET":
            return JSONResponse({"users": [user_json(state, channel, u) for u in channel.users.values()]})
        try:
            data = await _json_body(request)
            user_id = _optional_string(data, "userId") or new_user_id()
            if not is_user_id(user_id):
                raise ActionError("userId must be U and 32 lowercase hex digits")
            language = _optional_string(data, "language")
            if language not in (None, "ja", "en"):
                raise ActionError("language must be ja or en")
            user = state.user(
                channel, user_id, display_name=_optional_string(data, "displayName"), language=language
            )
            if _optional_bool(data, "follow") and not user.following:
                state.emit(channel, [state.follow(channel, user)])
        except ActionError as exc:
            return refused(str(exc))
        return JSONResponse(user_json(state, channel, user), status_code=201)

    async def user_messages(request: Request) -> Response:
        channel = channel_of(request)
        user = channel.users.get(request.path_params["user_id"]) if channel else None
        if channel is None or user is None:
            return refused("unknown channel or user", 404)
        return JSONResponse(
            {
                "user": user_json(state, channel, user),
                "loading": user.loading(state.now()),
                "entries": [entry.as_json() for entry in user.entries],
            }
        )

    async def add_events(request: Request) -> Response:
        """``{"events": [{"userId": …, "type": …, …}, …]}``: done in order, delivered in one request."""
        channel = channel_of(request)
        if channel is None:
            return refused("unknown channel", 404)
        try:
            data = await _json_body(request)
            specs = data.get("events")
            if not isinstance(specs, list) or not 1 <= len(specs) <= MAX_EVENTS_PER_CALL:
                raise ActionError(f"events must be a list of 1 to {MAX_EVENTS_PER_CALL} actions")
            for spec in specs:
                check_action(spec)
                if not is_user_id(spec.get("userId")):
                    raise ActionError("each event needs a userId (U and 32 lowercase hex digits)")
            queued = [
                user_action(state, channel, state.user(channel, spec["userId"]), spec) for spec in specs
            ]
        except ActionError as exc:
            return refused(str(exc))
        state.emit(channel, queued)
        return JSONResponse({"events": queued}, status_code=202)

    async def deliveries(request: Request) -> Response:
        channel_id = request.query_params.get("channel")
        found = [d for d in state.webhooks.deliveries if channel_id is None or d.channel_id == channel_id]
        return JSONResponse({"deliveries": [d.as_json() for d in found[-200:]]})

    return [
        Route("/_devline/health", health, methods=["GET"]),
        Route("/_devline/channels", channels, methods=["GET", "POST"]),
        Route("/_devline/channels/{channel_id}", one_channel, methods=["GET", "PATCH"]),
        Route("/_devline/channels/{channel_id}/users", users, methods=["GET", "POST"]),
        Route("/_devline/channels/{channel_id}/users/{user_id}/messages", user_messages, methods=["GET"]),
        Route("/_devline/channels/{channel_id}/events", add_events, methods=["POST"]),
        Route("/_devline/deliveries", deliveries, methods=["GET"]),
    ]
