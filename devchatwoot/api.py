"""Chatwoot's Application API as a bot and a user call it (``api_access_token`` header): messages,
toggle_status, contacts' custom attributes (a user's token only: a bot's is refused, as in Chatwoot), the
profile; and ``/_devchatwoot`` control endpoints that play contacts (for tests, benchmarks and the pages)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devchatwoot.state import Account, ChatwootState, Conversation

STATUSES = ("open", "resolved", "pending", "snoozed")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def routes(state: ChatwootState) -> list[Route]:
    def caller(request: Request, account_id: int, *, bots: bool = True) -> tuple[str, int] | JSONResponse:
        token = request.headers.get("api_access_token", "")
        user = state.user_by_token(token) if token else None
        if user is not None and account_id in user.account_ids:
            return ("user", user.id)
        bot = state.bot_by_token(token) if token and bots else None
        if bot is not None and bot.account_id == account_id:
            return ("agent_bot", bot.id)
        return _error(401, "You are not authorized to access this page")

    def conversation(request: Request) -> tuple[Account, Conversation] | JSONResponse:
        account = state.accounts.get(int(request.path_params["account"]))
        if account is None:
            return _error(404, "Resource could not be found")
        found = account.conversations.get(int(request.path_params["conversation"]))
        if found is None:
            return _error(404, "Resource could not be found")
        return account, found

    async def create_message(request: Request) -> Response:
        who = caller(request, int(request.path_params["account"]))
        if isinstance(who, JSONResponse):
            return who
        found = conversation(request)
        if isinstance(found, JSONResponse):
            return found
        account, chat = found
        data = await _json(request)
        content = data.get("content")
        if not isinstance(content, str) or not content:
            return _error(422, "content is required")
        async with state.lock:
            message = await state.post_message(
                account,
                chat,
                content=content,
                private=bool(data.get("private")),
                sender_type=who[0],
                sender_id=who[1],
            )
        return JSONResponse(state.message_row(message))

    async def toggle_status(request: Request) -> Response:
        who = caller(request, int(request.path_params["account"]))
        if isinstance(who, JSONResponse):
            return who
        found = conversation(request)
        if isinstance(found, JSONResponse):
            return found
        account, chat = found
        status = (await _json(request)).get("status")
        if status not in STATUSES:
            return _error(422, "invalid status")
        async with state.lock:
            await state.set_status(account, chat, str(status))
        return JSONResponse(
            {"payload": {"success": True, "conversation_id": chat.display_id, "current_status": chat.status}}
        )

    async def update_contact(request: Request) -> Response:
        account_id = int(request.path_params["account"])
        who = caller(request, account_id, bots=False)
        if isinstance(who, JSONResponse):
            return who
        account = state.accounts.get(account_id)
        contact = account.contacts.get(int(request.path_params["contact"])) if account else None
        if contact is None:
            return _error(404, "Resource could not be found")
        attributes = (await _json(request)).get("custom_attributes")
        if isinstance(attributes, dict):
            contact.custom_attributes.update(attributes)
        return JSONResponse({"payload": state.contact_data(contact, with_type=False)})

    async def profile(request: Request) -> Response:
        user = state.user_by_token(request.headers.get("api_access_token", ""))
        if user is None:
            return _error(401, "You are not authorized to access this page")
        return JSONResponse(
            {
                "id": user.id,
                "name": user.name,
                "email": user.email,
                "accounts": [
                    {"id": a, "name": state.accounts[a].name, "role": "administrator"}
                    for a in user.account_ids
                ],
            }
        )

    async def contact_message(request: Request) -> Response:
        """Control: a contact writes ({account, inbox, contact, content, conversation?})."""
        data = await _json(request)
        account = state.accounts.get(int(data.get("account", 0)))
        if account is None:
            return _error(404, "no such account")
        inbox = account.inboxes.get(int(data.get("inbox", 0)))
        contact = account.contacts.get(int(data.get("contact", 0)))
        if inbox is None or contact is None:
            return _error(404, "no such inbox or contact")
        chat = account.conversations.get(int(data.get("conversation") or 0))
        async with state.lock:
            chat, message = await state.contact_says(
                account, inbox, contact, str(data.get("content", "")), conversation=chat
            )
        return JSONResponse({"conversation": chat.display_id, "message": message.id, "status": chat.status})

    return [
        Route(
            "/api/v1/accounts/{account:int}/conversations/{conversation:int}/messages",
            create_message,
            methods=["POST"],
        ),
        Route(
            "/api/v1/accounts/{account:int}/conversations/{conversation:int}/toggle_status",
            toggle_status,
            methods=["POST"],
        ),
        Route("/api/v1/accounts/{account:int}/contacts/{contact:int}", update_contact, methods=["PUT"]),
        Route("/api/v1/profile", profile, methods=["GET"]),
        Route("/_devchatwoot/contact_message", contact_message, methods=["POST"]),
    ]
