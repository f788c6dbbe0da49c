"""The agent's ticket page: the conversation, and the Support app's sidebar loaded as Zendesk loads a
server-side app with ``signedUrls``: a POST of a form field ``token`` (a JWT signed RS256 with the app's
key) into the sidebar iframe, whose address carries ``origin`` and ``app_guid``. The page answers the app's
framework calls (``client.get('ticket.id')`` …) over ``postMessage``; ``/zaf_sdk.min.js`` is the simulated
framework SDK the app loads instead of Zendesk's."""

from __future__ import annotations

import json
import uuid
from html import escape
from urllib.parse import urlencode, urlsplit

import jwt
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from devzendesk.state import ZendeskState

ZAF_SDK = """(function () {
  function read() {
    var query = new URLSearchParams(window.location.search);
    var hash = new URLSearchParams(window.location.hash.slice(1));
    return {
      origin: query.get("origin") || hash.get("origin"),
      guid: query.get("app_guid") || hash.get("app_guid")
    };
  }
  window.ZAFClient = {
    init: function () {
      var found = read();
      if (!found.origin || !found.guid) return false;
      var next = 0, waiting = {};
      window.addEventListener("message", function (event) {
        if (event.origin !== found.origin || event.source !== window.parent) return;
        var data;
        try { data = JSON.parse(event.data); } catch (error) { return; }
        if (!data || data.appGuid !== found.guid || !waiting[data.id]) return;
        var promise = waiting[data.id];
        delete waiting[data.id];
        if (data.error) promise.reject(new Error(data.error)); else promise.resolve(data.result);
      });
      return {
        get: function (path) {
          next += 1;
          var id = next;
          return new Promise(function (resolve, reject) {
            waiting[id] = { resolve: resolve, reject: reject };
            var message = { appGuid: found.guid, id: id, request: "get", path: path };
            window.parent.postMessage(JSON.stringify(message), found.origin);
          });
        }
      };
    }
  };
})();
"""

HOST_SCRIPT = """(function () {
  var frame = document.getElementById("app-sidebar");
  var context = JSON.parse(frame.dataset.context);
  var appOrigin = frame.dataset.appOrigin, guid = frame.dataset.appGuid;
  window.addEventListener("message", function (event) {
    if (event.origin !== appOrigin || event.source !== frame.contentWindow) return;
    var data;
    try { data = JSON.parse(event.data); } catch (error) { return; }
    if (!data || data.appGuid !== guid || data.request !== "get") return;
    var answer = { appGuid: guid, id: data.id, result: {} };
    var paths = Array.isArray(data.path) ? data.path : [data.path];
    paths.forEach(function (path) {
      if (Object.prototype.hasOwnProperty.call(context, path)) answer.result[path] = context[path];
      else answer.error = "APIUnavailable: " + path;
    });
    frame.contentWindow.postMessage(JSON.stringify(answer), appOrigin);
  });
  document.getElementById("signed-url").submit();
})();
"""


def app_token(state: ZendeskState) -> str:
    now = int(state.clock())
    sub = state.config.subdomain
    claims = {
        "iss": f"{sub}.zendesk.com",
        "aud": f"https://{sub}.zendesk.com/api/v2/apps/installations/{state.config.installation_id}.json",
        "iat": now,
        "exp": now + state.config.signed_url_lifetime_seconds,
        "qsh": uuid.uuid4().hex,
    }
    return jwt.encode(claims, state.private_key_pem, algorithm="RS256")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def routes(state: ZendeskState) -> list[Route]:
    async def sdk(request: Request) -> Response:
        return Response(ZAF_SDK, media_type="text/javascript")

    async def host_script(request: Request) -> Response:
        return Response(HOST_SCRIPT, media_type="text/javascript")

    async def ticket_page(request: Request) -> Response:
        ticket = state.tickets.get(int(request.path_params["ticket_id"]))
        if ticket is None:
            return HTMLResponse("<h1>Not found</h1>", status_code=404)
        requester = state.users[ticket.requester_id]
        thread = "".join(
            f'<li class="{"public" if c.public else "internal"}" data-author="{c.author_id}">'
            f"<b>{escape(state.users[c.author_id].name)}</b>"
            f"{'' if c.public else ' (internal note)'}<p>{escape(c.body)}</p></li>"
            for c in ticket.comments
        )
        sidebar = ""
        if state.sidebar_url:
            guid = uuid.uuid4().hex
            query = urlencode({"origin": state.config.base_url, "app_guid": guid})
            joiner = "&" if "?" in state.sidebar_url else "?"
            context = {
                "ticket.id": ticket.id,
                "ticket.requester.id": requester.id,
                "ticket.requester.email": requester.email,
                "ticket.requester.name": requester.name,
                "currentUser.locale": state.agent.locale,
            }
            sidebar = (
                f'<form id="signed-url" method="post" target="app-sidebar" '
                f'action="{escape(state.sidebar_url)}{joiner}{escape(query)}">'
                f'<input type="hidden" name="token" value="{app_token(state)}"></form>'
                f'<iframe id="app-sidebar" name="app-sidebar" title="Order Desk" '
                f'data-app-origin="{escape(origin_of(state.sidebar_url))}" data-app-guid="{guid}" '
                f"data-context='{escape(json.dumps(context))}'></iframe>"
                '<script src="/_devzendesk/host.js"></script>'
            )
        page = f"""<!doctype html><html lang="ja"><head><meta charset="utf-8">
<title>#{ticket.id} {escape(ticket.subject)} – devzendesk</title>
<style>body{{font-family:sans-serif;margin:0;display:flex}}main{{flex:1;padding:1rem}}
aside{{width:360px;border-left:1px solid #ccc;height:100vh}}iframe{{border:0;width:100%;height:100%}}
li.internal{{background:#fff6d5}}
li{{list-style:none;margin:.5rem 0;padding:.5rem;border:1px solid #ddd}}</style>
</head><body><main><h1>#{ticket.id} {escape(ticket.subject)}</h1>
<p>{escape(requester.name)} &lt;{escape(requester.email)}&gt; · {escape(ticket.status)}
· tags: <span id="tags">{escape(" ".join(ticket.tags))}</span></p><ul id="thread">{thread}</ul>
<form method="post" action="/agent/tickets/{ticket.id}/comments"><textarea name="body" required></textarea>
<select name="author"><option value="requester">requester</option>
<option value="agent">agent</option></select>
<button>送信</button></form></main><aside>{sidebar}</aside></body></html>"""
        return HTMLResponse(page)

    async def post_comment(request: Request) -> Response:
        ticket = state.tickets.get(int(request.path_params["ticket_id"]))
        form = await request.form()
        body = str(form.get("body") or "").strip()
        if ticket is None or not body:
            return HTMLResponse("<h1>Bad request</h1>", status_code=400)
        author = state.agent if form.get("author") == "agent" else state.users[ticket.requester_id]
        state.add_comment(ticket, author=author, body=body, public=True)
        return RedirectResponse(f"/agent/tickets/{ticket.id}", status_code=303)

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)

    return [
        Route("/favicon.ico", favicon),
        Route("/zaf_sdk.min.js", sdk),
        Route("/_devzendesk/host.js", host_script),
        Route("/agent/tickets/{ticket_id:int}", ticket_page),
        Route("/agent/tickets/{ticket_id:int}/comments", post_comment, methods=["POST"]),
    ]
