from __future__ import annotations

from starlette.requests import Request

from shop_app.errors import BadRequest
from shop_app.i18n import SUPPORTED_LOCALES
from shop_app.routes.api.auth import Caller


def caller_locale(request: Request, caller: Caller) -> str:
    """``?locale=`` if given, else the agent's own, else the shop's language, else English."""
    asked = request.query_params.get("locale")
    if asked:
        if asked not in SUPPORTED_LOCALES:
            raise BadRequest(f"'locale' is one of {', '.join(SUPPORTED_LOCALES)}", code="invalid_query")
        return asked
    if caller.agent is not None and caller.agent.locale in SUPPORTED_LOCALES:
        return caller.agent.locale
    shop_language = (caller.shop.primary_locale or "").split("-")[0]
    return shop_language if shop_language in SUPPORTED_LOCALES else "en"
