"""The shopper's back-in-stock pages, opened from a signed link in a chat answer, a mail or a LINE message:
``/notices/stock/offer/{token}`` (ask to be told; the storefront chat's shopper leaves an email),
``/notices/stock/confirm/{token}`` (the mailed confirmation) and ``/notices/stock/cancel/{token}``.

A GET only shows what the link would do (mail scanners open links); the change is the form's POST. A token
that does not verify, has expired, or names what is gone gets one and the same 404 page.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shop_app.database import transaction
from shop_app.helpdesk import outbox
from shop_app.i18n import accepted_locales, catalogue, first_supported
from shop_app.jobs.tasks import TaskName
from shop_app.models import Shop, SubscriptionStatus
from shop_app.notices import back_in_stock
from shop_app.notices.links import NoticeLinks, Purpose, SubscriptionRef
from shop_app.routes.request_state import jobs, services, templates

PAGE_POLICY = "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
MAX_FORM_BYTES = 4096


def _locale(request: Request, *candidates: str | None) -> str:
    return first_supported(*candidates, *accepted_locales(request.headers.get("accept-language")))


def _page(
    request: Request,
    *,
    locale: str,
    state: str,
    message: str,
    action: str | None = None,
    ask_email: bool = False,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return templates(request).TemplateResponse(
        request,
        "notices/stock.html",
        {
            "locale": locale,
            "t": catalogue(locale).text,
            "state": state,
            "message": message,
            "action": action,
            "ask_email": ask_email,
            "error": error,
        },
        status_code=status_code,
        headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store"},
    )


def _invalid(request: Request) -> Response:
    locale = _locale(request)
    return _page(
        request,
        locale=locale,
        state="invalid",
        message=catalogue(locale).text("notices.page.invalid"),
        status_code=404,
    )


async def _form(request: Request) -> dict[str, str]:
    """A small urlencoded form (the page's own); anything else reads as empty."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    try:
        pairs = parse_qsl(body.decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return {}
    return dict(pairs)


async def offer(request: Request) -> Response:
    app = services(request)
    links = NoticeLinks.of(app)
    found = links.read_offer(str(request.path_params["token"]))
    if found is None:
        return _invalid(request)
    form = await _form(request) if request.method == "POST" else {}
    async with transaction(app.sessions) as session:
        item = await back_in_stock.offered_item(session, found)
        if item is None:
            return _invalid(request)
        ticket, product, variant = item
        shop = await session.get_one(Shop, found.shop_id)
        locale = _locale(request, form.get("lang"), request.query_params.get("lang"), shop.primary_locale)
        text = catalogue(locale).text
        name = back_in_stock.item_name(product, variant)
        ask_email = ticket.channel not in back_in_stock.OUTBOUND
        if request.method != "POST":
            return _page(
                request,
                locale=locale,
                state="offer",
                message=text("notices.page.offer_lead", item=name),
                action=text("notices.page.subscribe"),
                ask_email=ask_email,
            )
        try:
            result = await back_in_stock.subscribe(
                session, links=links, offer=found, language=locale, email=form.get("email")
            )
        except back_in_stock.SubscriptionRefused as refused:
            if refused.code == "busy":
                return _page(
                    request, locale=locale, state="busy", message=text("notices.page.busy"), status_code=429
                )
            if refused.code != "email_required":
                return _invalid(request)
            return _page(
                request,
                locale=locale,
                state="offer",
                message=text("notices.page.offer_lead", item=name),
                action=text("notices.page.subscribe"),
                ask_email=True,
                error=text("notices.page.email_invalid"),
                status_code=400,
            )
    if not result.created:
        state, key = "already", "notices.page.already"
    elif ask_email:
        state, key = "check_email", "notices.page.check_email"
    else:
        state, key = "subscribed", "notices.page.subscribed"
    if result.message_id is not None:
        await deliver_soon(request, result.message_id)
    return _page(request, locale=locale, state=state, message=text(key, item=name))


async def deliver_soon(request: Request, message_id: int) -> None:
    """The message's outbox items (LINE, email) sent by a job now rather than at the next sweep."""
    async with services(request).sessions() as session:
        ids = [item.id for item in await outbox.for_messages(session, [message_id]) if item.id is not None]
    if ids:
        await jobs(request).enqueue(TaskName.DELIVER_OUTBOX, outbox_ids=ids)


async def _subscription_page(request: Request, purpose: Purpose) -> Response:
    app = services(request)
    ref: SubscriptionRef | None = NoticeLinks.of(app).read_subscription(
        purpose, str(request.path_params["token"])
    )
    if ref is None:
        return _invalid(request)
    form = await _form(request) if request.method == "POST" else {}
    async with transaction(app.sessions) as session:
        subscription = await back_in_stock.access_subscription(session, ref)
        if subscription is None:
            return _invalid(request)
        locale = _locale(request, form.get("lang"), subscription.language)
        text = catalogue(locale).text
        name = subscription.item_name
        live = subscription.status in back_in_stock.LIVE
        if purpose == Purpose.CONFIRM:
            live = subscription.status == SubscriptionStatus.PENDING
        if request.method != "POST":
            if not live:
                return _page(
                    request, locale=locale, state="inactive", message=text("notices.page.nothing_to_do")
                )
            lead, action = (
                ("notices.page.confirm_lead", "notices.page.confirm")
                if purpose == Purpose.CONFIRM
                else ("notices.page.cancel_lead", "notices.page.cancel")
            )
            return _page(
                request,
                locale=locale,
                state=purpose.value,
                message=text(lead, item=name),
                action=text(action),
            )
        if purpose == Purpose.CONFIRM:
            done = await back_in_stock.confirm(session, ref)
            key = "notices.page.confirmed"
        else:
            done = await back_in_stock.cancel(session, ref)
            key = "notices.page.cancelled"
    if not done:
        return _page(request, locale=locale, state="inactive", message=text("notices.page.nothing_to_do"))
    return _page(
        request,
        locale=locale,
        state="confirmed" if purpose == Purpose.CONFIRM else "cancelled",
        message=text(key, item=name),
    )


async def confirm(request: Request) -> Response:
    return await _subscription_page(request, Purpose.CONFIRM)


async def cancel(request: Request) -> Response:
    return await _subscription_page(request, Purpose.CANCEL)


routes = [
    Route("/notices/stock/offer/{token}", offer, methods=["GET", "POST"]),
    Route("/notices/stock/confirm/{token}", confirm, methods=["GET", "POST"]),
    Route("/notices/stock/cancel/{token}", cancel, methods=["GET", "POST"]),
]
