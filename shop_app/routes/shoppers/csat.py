"""The shopper's side of a satisfaction survey: ``GET /csat/{token}`` shows the question (the score from the
link chosen, nothing recorded: mail scanners open links), ``POST /csat/{token}`` records the score and the
optional comment. The token is the only key: an unknown one is a 404, whatever the shop."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from shop_app.database import transaction
from shop_app.errors import BadRequest, NotFound, PayloadTooLarge, Unprocessable
from shop_app.i18n import catalogue
from shop_app.insights.csat import SCORES, answer_survey, find_survey
from shop_app.models import CsatSurvey
from shop_app.routes.request_state import services, templates

MAX_FORM_BYTES = 8 * 1024
PAGE_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _page(
    request: Request,
    survey: CsatSurvey | None,
    *,
    chosen: int | None,
    done: bool,
    error: str | None,
    status: int,
) -> Response:
    locale = survey.language if survey is not None else "en"
    response = templates(request).TemplateResponse(
        request,
        "csat.html",
        {
            "locale": locale,
            "t": catalogue(locale).text,
            "scores": SCORES,
            "chosen": chosen,
            "done": done,
            "error": error,
            "found": survey is not None,
            "comment": survey.comment if survey is not None else None,
        },
        status_code=status,
    )
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _score(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw in {str(s) for s in SCORES} else None


async def show(request: Request) -> Response:
    token = request.path_params["token"]
    async with services(request).sessions() as session:
        try:
            survey = await find_survey(session, token)
        except NotFound:
            return _page(request, None, chosen=None, done=False, error=None, status=404)
    chosen = _score(request.query_params.get("score")) or survey.score
    return _page(request, survey, chosen=chosen, done=False, error=None, status=200)


async def record(request: Request) -> Response:
    token = request.path_params["token"]
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise BadRequest("Send the form", code="invalid_content_type")
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > MAX_FORM_BYTES:
            raise PayloadTooLarge("The form is too large", code="body_too_large")
    fields = parse_qs(raw.decode("utf-8", "replace"), max_num_fields=5)
    score = _score(fields["score"][0] if fields.get("score") else None)
    comment = (fields.get("comment") or [""])[0]
    async with transaction(services(request).sessions) as session:
        try:
            survey = await find_survey(session, token)
        except NotFound:
            return _page(request, None, chosen=None, done=False, error=None, status=404)
        if score is None:
            return _page(request, survey, chosen=None, done=False, error="csat.page.choose", status=422)
        try:
            survey = await answer_survey(session, token=token, score=score, comment=comment)
        except Unprocessable as error:
            return _page(
                request, survey, chosen=score, done=False, error=f"csat.page.{error.code}", status=422
            )
        return _page(request, survey, chosen=score, done=True, error=None, status=200)


routes: list[BaseRoute] = [
    Route("/csat/{token}", show, methods=["GET"]),
    Route("/csat/{token}", record, methods=["POST"]),
]
