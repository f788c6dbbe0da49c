"""The Messaging API on LINE's paths: the channel access token checked first (401), then the channel's rate
limit (429), then the body (400 with ``details``), each answer carrying ``X-Line-Request-Id``.

Error messages are LINE's where its reference or its answers show them; the rest are reconstructed in its
style and marked so in README.md."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from devline.channels import Channel, Via
from devline.messages import Detail, check_messages, check_text
from devline.state import DEFAULT_LOADING_SECONDS, LineState, is_user_id

API_PREFIXES = ("/v2/",)
REQUEST_ID_HEADER = "X-Line-Request-Id"
ACCEPTED_REQUEST_ID_HEADER = "X-Line-Accepted-Request-Id"
RETRY_KEY_HEADER = "X-Line-Retry-Key"
MAX_BODY_BYTES = 2 * 1024 * 1024
LOADING_SECONDS = tuple(range(5, 61, 5))

MISSING_AUTHORIZATION = (
    "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'"
)
AUTHENTICATION_FAILED = (
    "Authentication failed due to the following reason: invalid token. "
    "Confirm that the access token in the authorization header is valid."
)
RATE_LIMITED = "The API rate limit has been exceeded. Try again later."
MONTHLY_LIMIT = "You have reached your monthly limit."
REPLY_REFUSED = "Invalid reply token"
RETRY_KEY_ACCEPTED = "The retry key is already accepted"
# reconstructed (LINE's reference does not quote these)
NOT_JSON = "The request body could not be parsed as JSON"
TOO_LARGE = "The request body is too large"
RETRY_KEY_INVALID = "The value of the X-Line-Retry-Key header is invalid"
RETRY_KEY_NOT_SUPPORTED = "The X-Line-Retry-Key header is not supported by this API"
INVALID_TO = "The property, 'to', in the request body is invalid (line: -, column: -)"
FAILED_TO_SEND = "Failed to send messages"
NOT_FRIEND = "The user hasn't added the LINE Official Account as a friend."
NOT_FOUND = "Not found"

# A 1×1 PNG: the "content" of images the simulated user sends.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


class RequestIds:
    """Every API answer carries a fresh ``X-Line-Request-Id``; handlers read it as ``request.state``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(API_PREFIXES):
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["line_request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        await self.app(scope, receive, send_with_id)


def error(status: int, message: str, details: list[Detail] | None = None, **headers: str) -> JSONResponse:
    body: dict[str, Any] = {"message": message}
    if details:
        body["details"] = [detail.as_json() for detail in details]
    return JSONResponse(body, status_code=status, headers=headers or None)


def invalid(details: list[Detail]) -> JSONResponse:
    return error(400, f"The request body has {len(details)} error(s)", details)


def request_id(request: Request) -> str:
    return str(getattr(request.state, "line_request_id", ""))


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


Handler = Callable[[Request, Channel], Awaitable[Response]]


def routes(state: LineState) -> list[BaseRoute]:
    def authenticated(endpoint: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
            if scheme.lower() != "bearer" or not token:
                return error(401, MISSING_AUTHORIZATION)
            channel = state.channel_for_token(token)
            if channel is None:
                return error(401, AUTHENTICATION_FAILED)
            per_second = (
                (channel.loading_requests_per_second or state.config.loading_requests_per_second)
                if endpoint == "loading"
                else (channel.requests_per_second or state.config.requests_per_second)
            )
            if not state.limits.allow(
                channel_id=channel.channel_id, endpoint=endpoint, per_second=per_second
            ):
                return error(429, RATE_LIMITED)
            try:
                return await handler(request, channel)
            except _Refused as refused:
                return refused.response

        return guarded

    async def json_object(request: Request) -> dict[str, Any]:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise _Refused(error(413, TOO_LARGE))
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise _Refused(error(400, NOT_JSON)) from None
        if not isinstance(data, dict):
            raise _Refused(error(400, NOT_JSON))
        return data

    def flags(data: dict[str, Any]) -> list[Detail]:
        value = data.get("notificationDisabled")
        if value is not None and not isinstance(value, bool):
            return [Detail("Must be a boolean", "notificationDisabled")]
        return []

    async def bot_info(request: Request, channel: Channel) -> Response:
        return JSONResponse(channel.bot_info())

    async def reply(request: Request, channel: Channel) -> Response:
        if RETRY_KEY_HEADER in request.headers:
            return error(400, RETRY_KEY_NOT_SUPPORTED)
        data = await json_object(request)
        details = check_text(data.get("replyToken"), "replyToken", max_length=1000)
        details += check_messages(data.get("messages")) + flags(data)
        if details:
            return invalid(details)
        token = state.reply_tokens.use(str(data["replyToken"]), channel_id=channel.channel_id)
        if token is None:
            return error(400, REPLY_REFUSED)
        user = state.user(channel, token.user_id)
        sent = state.deliver(channel, user, data["messages"], via=Via.REPLY, request_id=request_id(request))
        return JSONResponse({"sentMessages": sent})

    async def push(request: Request, channel: Channel) -> Response:
        retry_key = request.headers.get(RETRY_KEY_HEADER)
        if retry_key is not None:
            try:
                canonical = str(uuid.UUID(retry_key)) == retry_key.lower()
            except ValueError:
                canonical = False
            if not canonical:  # LINE takes the hex-and-hyphens form only
                return error(400, RETRY_KEY_INVALID)
            accepted = state.retry_keys.accepted(channel_id=channel.channel_id, key=retry_key.lower())
            if accepted is not None:
                return JSONResponse(
                    {"message": RETRY_KEY_ACCEPTED, "sentMessages": accepted.sent_messages},
                    status_code=409,
                    headers={ACCEPTED_REQUEST_ID_HEADER: accepted.request_id},
                )
        data = await json_object(request)
        details = check_text(data.get("to"), "to", max_length=64) + check_messages(data.get("messages"))
        details += flags(data)
        if details:
            return invalid(details)
        if not is_user_id(data["to"]):
            return error(400, INVALID_TO)
        user = channel.users.get(data["to"])
        if user is None:
            return error(400, FAILED_TO_SEND)
        if channel.monthly_push_limit is not None and channel.pushes_this_month >= channel.monthly_push_limit:
            return error(429, MONTHLY_LIMIT)
        channel.pushes_this_month += 1
        sent = state.deliver(channel, user, data["messages"], via=Via.PUSH, request_id=request_id(request))
        if retry_key is not None:
            state.retry_keys.accept(
                channel_id=channel.channel_id,
                key=retry_key.lower(),
                request_id=request_id(request),
                sent_messages=sent,
            )
        return JSONResponse({"sentMessages": sent})

    async def loading(request: Request, channel: Channel) -> Response:
        data = await json_object(request)
        details = check_text(data.get("chatId"), "chatId", max_length=64)
        seconds = data.get("loadingSeconds", DEFAULT_LOADING_SECONDS)
        if isinstance(seconds, bool) or seconds not in LOADING_SECONDS:
            values = ", ".join(str(s) for s in LOADING_SECONDS)
            details.append(Detail(f"Must be one of the following values: [{values}]", "loadingSeconds"))
        if details:
            return invalid(details)
        if not is_user_id(data["chatId"]):
            return error(400, "The property, 'chatId', in the request body is invalid (line: -, column: -)")
        user = channel.users.get(data["chatId"])
        if user is not None and user.following:  # shown only in a one-to-one chat with a friend
            state.start_loading(user, int(seconds))
        return JSONResponse({}, status_code=202)

    async def profile(request: Request, channel: Channel) -> Response:
        user = channel.users.get(request.path_params["user_id"])
        if user is None or not user.following:
            return error(404, NOT_FOUND)
        return JSONResponse(user.profile())

    async def link_token(request: Request, channel: Channel) -> Response:
        user = channel.users.get(request.path_params["user_id"])
        if user is None or not user.following:
            return error(400, NOT_FRIEND)
        return JSONResponse(
            {"linkToken": state.link_tokens.issue(channel_id=channel.channel_id, user_id=user.user_id)}
        )

    async def content(request: Request, channel: Channel) -> Response:
        message_id = request.path_params["message_id"]
        for user in channel.users.values():
            for entry in user.entries:
                if (
                    entry.message_id == message_id
                    and entry.message.get("type") == "image"
                    and message_id not in user.unsent
                ):
                    return Response(PIXEL_PNG, media_type="image/png")
        return error(404, NOT_FOUND)

    async def webhook_endpoint(request: Request, channel: Channel) -> Response:
        if request.method == "PUT":
            data = await json_object(request)
            endpoint = data.get("endpoint")
            if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
                return invalid([Detail("Must be a valid URL", "endpoint")])
            channel.webhook_url = endpoint
            return JSONResponse({})
        return JSONResponse({"endpoint": channel.webhook_url, "active": channel.webhook_active})

    async def webhook_test(request: Request, channel: Channel) -> Response:
        data = await json_object(request) if await request.body() else {}
        endpoint = data.get("endpoint") or channel.webhook_url
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            return invalid([Detail("Must be a valid URL", "endpoint")])
        body = b'{"destination":"' + channel.bot_user_id.encode() + b'","events":[]}'
        status_code, failure = await state.webhooks.post(channel, endpoint, body)
        success = status_code is not None and 200 <= status_code < 300
        if failure == "timeout":
            reason = "REQUEST_TIMEOUT"
        elif status_code is None:
            reason = "COULD_NOT_CONNECT"
        else:
            reason = "OK" if success else "ERROR_STATUS_CODE"
        return JSONResponse(
            {
                "success": success,
                "timestamp": datetime.fromtimestamp(state.now(), UTC).isoformat().replace("+00:00", "Z"),
                "statusCode": status_code or 0,
                "reason": reason,
                "detail": str(status_code) if status_code else (failure or ""),
            }
        )

    async def quota(request: Request, channel: Channel) -> Response:
        if channel.monthly_push_limit is None:
            return JSONResponse({"type": "none"})
        return JSONResponse({"type": "limited", "value": channel.monthly_push_limit})

    async def consumption(request: Request, channel: Channel) -> Response:
        return JSONResponse({"totalUsage": channel.pushes_this_month})

    async def not_found(request: Request) -> Response:
        return error(404, NOT_FOUND)

    def api(path: str, endpoint: str, handler: Handler, methods: list[str]) -> Route:
        return Route(path, authenticated(endpoint, handler), methods=methods)

    return [
        api("/v2/bot/info", "info", bot_info, ["GET"]),
        api("/v2/bot/message/reply", "reply", reply, ["POST"]),
        api("/v2/bot/message/push", "push", push, ["POST"]),
        api("/v2/bot/message/quota", "quota", quota, ["GET"]),
        api("/v2/bot/message/quota/consumption", "quota", consumption, ["GET"]),
        api("/v2/bot/message/{message_id}/content", "content", content, ["GET"]),
        api("/v2/bot/chat/loading/start", "loading", loading, ["POST"]),
        api("/v2/bot/profile/{user_id}", "profile", profile, ["GET"]),
        api("/v2/bot/user/{user_id}/linkToken", "linkToken", link_token, ["POST"]),
        api("/v2/bot/channel/webhook/endpoint", "webhook", webhook_endpoint, ["GET", "PUT"]),
        api("/v2/bot/channel/webhook/test", "webhook", webhook_test, ["POST"]),
        Route("/v2/{rest:path}", not_found, methods=["GET", "POST", "PUT", "DELETE"]),
    ]
