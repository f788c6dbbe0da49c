"""The chat page (``/chat/{channel_id}/{user_id}``): a person plays the LINE user, sees the bot's messages
(text, Flex cards, quick replies, the loading animation) and writes, taps and follows; and the account-link
dialog (``/dialog/bot/accountLink``) that LINE opens after the shop's sign-in page."""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from devline.channels import Channel, User
from devline.config import new_user_id
from devline.page import templates
from devline.page.text import TEXT, language_of
from devline.state import ActionError, LineState, is_user_id, user_action
from devline.tokens import LinkOutcome

MAX_ACTION_BYTES = 64 * 1024
MAX_WAIT_SECONDS = 25.0
MIN_NONCE_LENGTH = 10
MAX_NONCE_LENGTH = 255
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-store"
    return response


async def _wait_unless_gone(request: Request, state: LineState, seconds: float) -> None:
    """Wait for news, but not for a page that has been closed (it would hold the server's shutdown)."""
    async with anyio.create_task_group() as group:

        async def watch_for_leaving() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass
            group.cancel_scope.cancel()

        group.start_soon(watch_for_leaving)
        await state.wait_for_change(seconds)
        group.cancel_scope.cancel()


def routes(state: LineState) -> list[BaseRoute]:
    def find(request: Request) -> tuple[Channel, User] | None:
        channel = state.channels.get(request.path_params["channel_id"])
        user_id = request.path_params["user_id"]
        if channel is None or not is_user_id(user_id):
            return None
        return channel, state.user(channel, user_id, language=language_of(request))

    def missing(request: Request) -> Response:
        lang = language_of(request)
        return _page(
            request,
            "message.html",
            {"lang": lang, "text": TEXT[lang], "title": TEXT[lang]["unknown_chat"], "body": "", "back": ""},
            status_code=404,
        )

    async def index(request: Request) -> Response:
        lang = language_of(request)
        return _page(
            request,
            "index.html",
            {"lang": lang, "text": TEXT[lang], "channels": list(state.channels.values())},
        )

    async def new_chat(request: Request) -> Response:
        channel = state.channels.get(request.path_params["channel_id"])
        if channel is None:
            return missing(request)
        name = request.query_params.get("name", "").strip()[:20] or None
        lang = language_of(request)
        user = state.user(channel, new_user_id(), display_name=name, language=lang)
        return RedirectResponse(f"/chat/{channel.channel_id}/{user.user_id}?lang={lang}", status_code=303)

    async def chat(request: Request) -> Response:
        found = find(request)
        if found is None:
            return missing(request)
        channel, user = found
        lang = language_of(request)
        base = f"/chat/{channel.channel_id}/{user.user_id}"
        return _page(
            request,
            "chat.html",
            {
                "lang": lang,
                "text": TEXT[lang],
                "channel": channel,
                "user": user,
                "feed_url": f"{base}/feed",
                "actions_url": f"{base}/actions",
                "other_lang": "en" if lang == "ja" else "ja",
            },
        )

    async def feed(request: Request) -> Response:
        """The conversation after ``after`` (a sequence number); waits up to ``wait`` seconds for news."""
        found = find(request)
        if found is None:
            return JSONResponse({"error": "unknown chat"}, status_code=404)
        _channel, user = found
        try:
            after = int(request.query_params.get("after", "0"))
            wait = min(max(float(request.query_params.get("wait", "0")), 0.0), MAX_WAIT_SECONDS)
        except ValueError:
            return JSONResponse({"error": "after and wait must be numbers"}, status_code=400)
        if user.last_seq() <= after and wait > 0:
            await _wait_unless_gone(request, state, min(wait, state.config.chat_poll_seconds))
        return JSONResponse(
            {
                "entries": [
                    {**entry.as_json(), "unsent": entry.message_id in user.unsent}
                    for entry in user.entries
                    if entry.seq > after
                ],
                "loading": user.loading(state.now()),
                "following": user.following,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def actions(request: Request) -> Response:
        """What the person did: ``{"type": "text", "text": …}`` and the others of ``user_action``."""
        found = find(request)
        if found is None:
            return JSONResponse({"error": "unknown chat"}, status_code=404)
        channel, user = found
        # a JSON body means a script on a page that may send it: a cross-site form cannot
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "send JSON"}, status_code=415)
        body = await request.body()
        if len(body) > MAX_ACTION_BYTES:
            return JSONResponse({"error": "too large"}, status_code=413)
        try:
            spec = json.loads(body)
            if not isinstance(spec, dict):
                raise ActionError("an action must be a JSON object")
            if spec.get("type") not in ("follow", "unfollow") and not user.following:
                return JSONResponse({"error": "not a friend"}, status_code=409)
            event = user_action(state, channel, user, spec)
        except (ValueError, UnicodeDecodeError) as exc:
            reason = str(exc) if isinstance(exc, ActionError) else "bad JSON"
            return JSONResponse({"error": reason}, status_code=400)
        state.emit(channel, [event])
        return JSONResponse({"ok": True}, status_code=202)

    async def account_link(request: Request) -> Response:
        lang = language_of(request)
        text = TEXT[lang]
        link_token = request.query_params.get("linkToken", "")
        nonce = request.query_params.get("nonce", "")
        if not link_token or not MIN_NONCE_LENGTH <= len(nonce) <= MAX_NONCE_LENGTH:
            outcome, channel, user = LinkOutcome.UNKNOWN, None, None
        else:
            outcome, channel, user = state.link_account(link_token, nonce)
        if outcome is LinkOutcome.OK:
            title, body, status = text["link_ok_title"], text["link_ok_body"], 200
        elif outcome is LinkOutcome.UNKNOWN:
            title, body, status = text["link_invalid_title"], text["link_invalid_body"], 400
        else:
            title, body, status = text["link_failed_title"], text["link_failed_body"], 400
        back = f"/chat/{channel.channel_id}/{user.user_id}?lang={lang}" if channel and user else ""
        return _page(
            request,
            "message.html",
            {"lang": lang, "text": text, "title": title, "body": body, "back": back},
            status_code=status,
        )

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)

    return [
        Route("/", index, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        Route("/chat/{channel_id}", new_chat, methods=["GET"]),
        Route("/chat/{channel_id}/{user_id}", chat, methods=["GET"]),
        Route("/chat/{channel_id}/{user_id}/feed", feed, methods=["GET"]),
        Route("/chat/{channel_id}/{user_id}/actions", actions, methods=["POST"]),
        Route("/dialog/bot/accountLink", account_link, methods=["GET"]),
    ]
