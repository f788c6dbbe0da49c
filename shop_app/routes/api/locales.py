from __future__ import annotations

from starlette.requests import Request

from shop_app.i18n import SUPPORTED_LOCALES
from shop_app.routes.api.auth import Caller
from shop_app.routes.api.io import ChoiceQuery

LOCALE = ChoiceQuery("locale", "en or ja: the words, money and dates of the answer", tuple(SUPPORTED_LOCALES))


def caller_locale(request: Request, caller: Caller) -> str:
    """``?locale=`` if given, else the agent's own, else the shop's language, else English."""
    asked = LOCALE.read(request)
    if asked is not None:
        return asked
    if caller.agent is not None and caller.agent.locale in SUPPORTED_LOCALES:
        return caller.agent.locale
    shop_language = (caller.shop.primary_locale or "").split("-")[0]
    return shop_language if shop_language in SUPPORTED_LOCALES else "en"
