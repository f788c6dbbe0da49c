"""The agent's conversation page: messages, a reply box, a box to write as the contact, and the
account's dashboard apps framed beside them, given the conversation the way Chatwoot gives it."""

from __future__ import annotations

import html
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from devchatwoot.state import ChatwootState

STATIC_DIR = Path(__file__).parent / "static"


def routes(state: ChatwootState) -> list[Route]:
    def _page(account_id: int, display_id: int, user_id: int) -> str:
        account = state.accounts[account_id]
        chat = account.conversations[display_id]
        user = state.users[user_id]
        contact = account.contacts[chat.contact_id]
        rows = []
        for message in chat.messages:
            who = {"contact": contact.name, "agent_bot": "Bot", "user": user.name}.get(
                message.sender_type, "?"
            )
            kind = "private" if message.private else message.message_type
            rows.append(f'<li class="{kind}"><b>{html.escape(who)}</b>: {html.escape(message.content)}</li>')
        frames = "".join(
            f'<iframe class="dashboard-app" title="{html.escape(app["title"])}"'
            f' src="{html.escape(app["content"][0]["url"])}"></iframe>'
            for app in account.dashboard_apps
        )
        context = html.escape(json.dumps(state.app_context(account, chat, user), ensure_ascii=False))
        return f"""<!doctype html><html lang="ja"><head><meta charset="utf-8">
<title>Chatwoot (simulated)</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/_devchatwoot/static/page.css">
<script type="module" src="/_devchatwoot/static/frame.js"></script></head>
<body data-app-context="{context}">
<header>Chatwoot (simulated) · {html.escape(account.name)} · #{chat.display_id} ·
<span data-role="status">{chat.status}</span></header>
<main><section class="conversation"><ul data-role="messages">{"".join(rows)}</ul>
<form method="post"
 action="/app/accounts/{account.id}/conversations/{chat.display_id}/reply?as={user.id}">
<input name="content" placeholder="Reply as {html.escape(user.name)}"><button>Send</button></form>
<form method="post"
 action="/app/accounts/{account.id}/conversations/{chat.display_id}/contact?as={user.id}">
<input name="content" placeholder="Write as {html.escape(contact.name)}"><button>Send</button></form>
</section>
<aside class="apps">{frames}</aside></main></body></html>"""

    async def page(request: Request) -> Response:
        account_id = int(request.path_params["account"])
        display_id = int(request.path_params["conversation"])
        account = state.accounts.get(account_id)
        if account is None or display_id not in account.conversations:
            return HTMLResponse("Not found", status_code=404)
        users = [u for u in state.users.values() if account_id in u.account_ids]
        user_id = int(request.query_params.get("as") or (users[0].id if users else 0))
        if user_id not in state.users:
            return HTMLResponse("No agent", status_code=404)
        return HTMLResponse(_page(account_id, display_id, user_id))

    async def reply(request: Request) -> Response:
        account = state.accounts[int(request.path_params["account"])]
        chat = account.conversations[int(request.path_params["conversation"])]
        user_id = int(request.query_params.get("as", "0"))
        form = await request.form()
        content = str(form.get("content", "")).strip()
        kind = request.path_params["kind"]
        if content:
            async with state.lock:
                if kind == "reply" and user_id in state.users:
                    await state.post_message(
                        account, chat, content=content, private=False, sender_type="user", sender_id=user_id
                    )
                elif kind == "contact":
                    await state.contact_says(
                        account,
                        account.inboxes[chat.inbox_id],
                        account.contacts[chat.contact_id],
                        content,
                        conversation=chat,
                    )
        return RedirectResponse(
            f"/app/accounts/{account.id}/conversations/{chat.display_id}?as={user_id}", status_code=303
        )

    return [
        Route("/app/accounts/{account:int}/conversations/{conversation:int}", page, methods=["GET"]),
        Route(
            "/app/accounts/{account:int}/conversations/{conversation:int}/{kind:str}", reply, methods=["POST"]
        ),
    ]
