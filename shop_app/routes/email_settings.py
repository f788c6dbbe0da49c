"""The embedded admin's email settings (``/api/admin/email``): the shop's support address and the relay
its replies leave through, read and saved with an App Bridge session token, and a check of the relay that
sends nothing. The relay password is stored encrypted and never sent back."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from shop_app.channels.email.addresses import mail_settings, relay_of, reply_address, save_mail_settings
from shop_app.channels.email.sending import check_relay
from shop_app.database import transaction
from shop_app.models import MailSettings, Shop
from shop_app.routes.api.io import JSONModelResponse, read_body
from shop_app.routes.embedded_admin import authenticate_admin
from shop_app.routes.request_state import services
from shop_app.schemas.mail import MailSettingsIn, MailSettingsOut, RelayCheckOut

EXAMPLE_TOKEN = "x" * 24


def _shown(settings: MailSettings | None, *, listener_port: int) -> MailSettingsOut:
    if settings is None:
        return MailSettingsOut(
            support_address=None,
            reply_address_example=None,
            relay_host=None,
            relay_port=587,
            relay_starttls=True,
            relay_username=None,
            relay_password_kept=False,
            listener_port=listener_port,
        )
    return MailSettingsOut(
        support_address=settings.support_address,
        reply_address_example=reply_address(settings.support_address, EXAMPLE_TOKEN),
        relay_host=settings.relay_host,
        relay_port=settings.relay_port,
        relay_starttls=settings.relay_starttls,
        relay_username=settings.relay_username,
        relay_password_kept=settings.relay_password_ciphertext is not None,
        listener_port=listener_port,
    )


async def read_email_settings(request: Request) -> Response:
    admin = await authenticate_admin(request)
    app = services(request)
    assert admin.shop.id is not None
    async with app.sessions() as session:
        settings = await mail_settings(session, shop_id=admin.shop.id)
    return JSONModelResponse(_shown(settings, listener_port=app.settings.mail.port))


async def save_email_settings(request: Request) -> Response:
    admin = await authenticate_admin(request)
    body = await read_body(request, MailSettingsIn)
    app = services(request)
    async with transaction(app.sessions) as session:
        shop = await session.get_one(Shop, admin.shop.id)
        settings = await save_mail_settings(
            session,
            shop=shop,
            cipher=app.cipher,
            support_address=body.support_address,
            relay_host=body.relay_host,
            relay_port=body.relay_port,
            relay_starttls=body.relay_starttls,
            relay_username=body.relay_username,
            relay_password=body.relay_password,
        )
        shown = _shown(settings, listener_port=app.settings.mail.port)
    return JSONModelResponse(shown)


async def check_email_relay(request: Request) -> Response:
    admin = await authenticate_admin(request)
    app = services(request)
    assert admin.shop.id is not None
    async with app.sessions() as session:
        settings = await mail_settings(session, shop_id=admin.shop.id)
    relay = relay_of(settings, app.cipher) if settings is not None else None
    if relay is None:
        return JSONModelResponse(RelayCheckOut(ok=False, problem="smtp_not_configured"))
    problem = await check_relay(relay)
    return JSONModelResponse(RelayCheckOut(ok=problem is None, problem=problem))


routes: list[BaseRoute] = [
    Route("/api/admin/email", read_email_settings, methods=["GET"]),
    Route("/api/admin/email", save_email_settings, methods=["PUT"]),
    Route("/api/admin/email/check", check_email_relay, methods=["POST"]),
]
