"""The embedded admin's FAQ page (``/app/faq``) and its API (``/api/admin/faq``): the shop's FAQ entries
(list, write, switch on or off, delete), the policies mirrored from Shopify, and a "try it" box that
shows what the bot would answer to a question and why (which entry or passage, its score), and the return
window (days after delivery) the bot may tell a verified shopper about their order, prefilled from what the
refund policy says. Every entry is read through ``access_faq_entry``: another shop's id is a 404."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from shop_app.answers.answer_settings import get_answer_settings, set_return_window
from shop_app.answers.engine import policy_outcome
from shop_app.answers.shop_config import shop_config
from shop_app.answers.templates import render_reply
from shop_app.answers.understanding import Intent, understand
from shop_app.answers.understanding.intents import OWN_ORDER_REASON
from shop_app.answers.understanding.languages import conversation_language
from shop_app.database import transaction
from shop_app.errors import NotFound
from shop_app.knowledge.faq import (
    FaqDraft,
    create_faq_entry,
    delete_faq_entry,
    list_faq_entries,
    set_faq_entry_enabled,
    update_faq_entry,
)
from shop_app.knowledge.policies import list_policies
from shop_app.knowledge.return_window import REFUND_POLICY, detect_return_window
from shop_app.knowledge.search import search_knowledge
from shop_app.models import DecisionAction, FaqEntry, ShopPolicy
from shop_app.routes.api.io import JSONModelResponse, read_body
from shop_app.routes.embedded_admin import authenticate_admin
from shop_app.routes.request_state import services
from shop_app.schemas.knowledge import (
    FaqEnabledIn,
    FaqEntryIn,
    FaqEntryOut,
    FaqPageOut,
    FaqTryIn,
    FaqTryOut,
    MatchOut,
    PolicyOut,
    ReturnWindowIn,
    ReturnWindowOut,
)

MAX_ROW_ID = 2**31 - 1
TRY_MATCHES = 3


def _entry_id(request: Request) -> int:
    raw = str(request.path_params["entry_id"])
    if not raw.isdigit() or len(raw) > 10 or not 0 < int(raw) <= MAX_ROW_ID:
        raise NotFound("No such FAQ entry", code="faq_not_found")
    return int(raw)


def _out(entry: FaqEntry) -> FaqEntryOut:
    assert entry.id is not None
    return FaqEntryOut(
        id=entry.id,
        questions_ja=entry.questions_ja,
        questions_en=entry.questions_en,
        answer_ja=entry.answer_ja,
        answer_en=entry.answer_en,
        link=entry.link,
        enabled=entry.enabled,
        updated_at=entry.updated_at.isoformat(),
    )


def _draft(body: FaqEntryIn) -> FaqDraft:
    return FaqDraft(
        questions_ja=body.questions_ja,
        questions_en=body.questions_en,
        answer_ja=body.answer_ja,
        answer_en=body.answer_en,
        link=body.link,
        enabled=body.enabled,
    )


def _return_window(days: int | None, policies: list[ShopPolicy]) -> ReturnWindowOut:
    refund = next((p for p in policies if p.policy_type == REFUND_POLICY), None)
    detected = detect_return_window(refund.body) if refund is not None else None
    return ReturnWindowOut(
        days=days,
        detected_days=detected.days if detected is not None else None,
        detected_from=detected.label if detected is not None else None,
        detected_text=detected.text if detected is not None else None,
    )


async def read_faq(request: Request) -> Response:
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    async with services(request).sessions() as session:
        entries = await list_faq_entries(session, shop_id=admin.shop.id)
        policies = await list_policies(session, shop_id=admin.shop.id)
        choices = await get_answer_settings(session, shop_id=admin.shop.id)
    return JSONModelResponse(
        FaqPageOut(
            entries=[_out(entry) for entry in entries],
            policies=[
                PolicyOut(type=p.policy_type, title=p.title, url=p.url, updated_at=p.updated_at.isoformat())
                for p in policies
            ],
            return_window=_return_window(choices.return_window_days, policies),
        )
    )


async def save_return_window(request: Request) -> Response:
    """The merchant's return window in days (or null: unknown, so a person answers)."""
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    body = await read_body(request, ReturnWindowIn)
    async with transaction(services(request).sessions) as session:
        choices = await set_return_window(session, shop=admin.shop, days=body.days)
        policies = await list_policies(session, shop_id=admin.shop.id)
        shown = _return_window(choices.return_window_days, policies)
    return JSONModelResponse(shown)


async def create_faq(request: Request) -> Response:
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    body = await read_body(request, FaqEntryIn)
    async with transaction(services(request).sessions) as session:
        entry = await create_faq_entry(session, shop_id=admin.shop.id, draft=_draft(body))
        shown = _out(entry)
    return JSONModelResponse(shown, status_code=201)


async def _admin_and_entry(request: Request) -> tuple[int, int]:
    """The signed-in admin's shop id and the entry id of the path (checked against the shop later)."""
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    return admin.shop.id, _entry_id(request)


async def update_faq(request: Request) -> Response:
    shop_id, entry_id = await _admin_and_entry(request)
    body = await read_body(request, FaqEntryIn)
    async with transaction(services(request).sessions) as session:
        entry = await update_faq_entry(session, shop_id=shop_id, entry_id=entry_id, draft=_draft(body))
        shown = _out(entry)
    return JSONModelResponse(shown)


async def enable_faq(request: Request) -> Response:
    shop_id, entry_id = await _admin_and_entry(request)
    body = await read_body(request, FaqEnabledIn)
    async with transaction(services(request).sessions) as session:
        entry = await set_faq_entry_enabled(session, shop_id=shop_id, entry_id=entry_id, enabled=body.enabled)
        shown = _out(entry)
    return JSONModelResponse(shown)


async def delete_faq(request: Request) -> Response:
    shop_id, entry_id = await _admin_and_entry(request)
    async with transaction(services(request).sessions) as session:
        await delete_faq_entry(session, shop_id=shop_id, entry_id=entry_id)
    return Response(status_code=204)


async def try_faq(request: Request) -> Response:
    """What the bot would answer to ``text`` as a shopper's first message, and why."""
    admin = await authenticate_admin(request)
    shop = admin.shop
    assert shop.id is not None
    body = await read_body(request, FaqTryIn)
    seen = understand(body.text)
    language = conversation_language(body.text, earlier=[]) or shop.primary_locale or "en"
    language = "ja" if language.startswith("ja") else "en"
    seen = replace(seen, language=language)
    async with services(request).sessions() as session:
        matches = await search_knowledge(
            session, shop_id=shop.id, text=body.text, language=language, limit=TRY_MATCHES
        )
        reply: str | None = None
        if seen.intent is not Intent.POLICY:
            action, reason, code = DecisionAction.HANDOFF, f"intent {seen.intent.value}", "not_policy"
        elif not seen.auto:
            action, reason, code = (
                DecisionAction.HANDOFF,
                f"confidence {seen.confidence:.2f}",
                "low_confidence",
            )
        else:
            outcome = await policy_outcome(session, shop=shop, seen=seen, text=body.text)
            action, reason = outcome.action, outcome.reason
            code = (
                "answered"
                if action == DecisionAction.REPLY
                else "own_order"
                if OWN_ORDER_REASON in seen.reasons
                else "no_confident_match"
            )
            if outcome.key is not None:
                _, overrides = await shop_config(session, shop=shop)
                context = {"shop_name": shop.name or shop.domain, **outcome.context}
                reply = render_reply(outcome.key, language, context, overrides=overrides)
    return JSONModelResponse(
        FaqTryOut(
            intent=seen.intent.value,
            confidence=seen.confidence,
            action=action.value,
            reason=reason,
            reason_code=code,
            reply=reply,
            matches=[
                MatchOut(
                    source=match.source.label,
                    title=match.source.title,
                    quote=match.quote,
                    score=match.score,
                    coverage=match.coverage,
                    confident=match.confident,
                )
                for match in matches
            ],
        )
    )


routes: list[BaseRoute] = [
    Route("/api/admin/faq", read_faq, methods=["GET"]),
    Route("/api/admin/faq", create_faq, methods=["POST"]),
    Route("/api/admin/faq/try", try_faq, methods=["POST"]),
    Route("/api/admin/faq/return-window", save_return_window, methods=["PUT"]),
    Route("/api/admin/faq/{entry_id}", update_faq, methods=["PUT"]),
    Route("/api/admin/faq/{entry_id}", delete_faq, methods=["DELETE"]),
    Route("/api/admin/faq/{entry_id}/enabled", enable_faq, methods=["PUT"]),
]
