"""After the engine's transaction: the self-service step itself (``actions.self_service``: preview and
restate, or confirm through the agents' idempotent path, or hand off with the preview on the ticket), the
bot's reply posted on the ticket as the other answers are, and the ticket's state and tags to match."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shop_app.actions.self_service import BotStep, Step, answer, hand_off, offer
from shop_app.answers.engine import HANDOFF_TAG
from shop_app.answers.self_service import SelfServiceRequest, Stage
from shop_app.database import transaction
from shop_app.helpdesk.tickets import access_ticket, post_message, update_ticket
from shop_app.i18n import catalogue, first_supported
from shop_app.models import AuthorType, Shop, TicketStatus

if TYPE_CHECKING:
    from shop_app.runtime import Services

STATUS_AFTER = {
    Step.CONFIRM: TicketStatus.PENDING,  # waits for the shopper's yes
    Step.DONE: TicketStatus.RESOLVED,
    Step.DECLINED: TicketStatus.RESOLVED,
    Step.HANDOFF: TicketStatus.OPEN,
}


@dataclass(frozen=True, slots=True)
class Turn:
    """What the channel sends: the bot's reply (already on the ticket as ``message_id``) and, when it asks
    for a yes, the choices as (label, the text a tap sends)."""

    step: Step | None
    reply: str | None = None
    message_id: int | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)


def confirm_choices(language: str) -> list[tuple[str, str]]:
    """Yes and no, as buttons whose tap sends the word itself (read as a typed yes or no)."""
    words = catalogue(first_supported(language))
    return [
        (words.text(f"bot.self_service.button_{answer}"), words.text(f"bot.self_service.button_{answer}"))
        for answer in ("yes", "no")
    ]


async def _step(
    services: Services, shop: Shop, ticket_id: int, request: SelfServiceRequest
) -> BotStep | None:
    language = first_supported(request.language)
    if request.stage == Stage.ANSWER:
        return await answer(
            services, shop=shop, ticket_id=ticket_id, text=request.text, language=language, now=request.at
        )
    if request.stage == Stage.HANDOFF:
        return await hand_off(services, shop, ticket_id, language, request.reason or "unclear")
    assert request.kind is not None
    assert request.order_id is not None
    return await offer(
        services, shop=shop, ticket_id=ticket_id, order_id=request.order_id, kind=request.kind,
        parameters=request.parameters, verified=request.verified, language=language, now=request.at,
    )  # fmt: skip


# What the channel needs to send the reply beyond its text, from the reply and its choices (LINE's quick
# replies and reply token), kept in the outbox with the message.
Outbound = Callable[[str, list[tuple[str, str]]], dict[str, Any]]


async def take_turn(
    services: Services,
    *,
    shop: Shop,
    ticket_id: int,
    request: SelfServiceRequest,
    outbound: Outbound | None = None,
) -> Turn:
    """Run the step and post the bot's reply; a Turn without a reply when nothing waited for an answer."""
    language = first_supported(request.language)
    step: BotStep | None = None
    if request.stage == Stage.ASK_ADDRESS:
        key = (
            "bot.self_service.ask_address_again"
            if request.reason != "missing"
            else "bot.self_service.ask_address"
        )
        reply = catalogue(language).text(key)
        status = TicketStatus.PENDING
    else:
        step = await _step(services, shop, ticket_id, request)
        if step is None:
            return Turn(None)
        reply = step.reply
        status = STATUS_AFTER[step.step]
    choices = confirm_choices(language) if step is not None and step.step == Step.CONFIRM else []
    async with transaction(services.sessions) as session:
        ticket = await access_ticket(session, shop_id=shop.id or 0, ticket_id=ticket_id)
        handed_off = step is not None and step.step == Step.HANDOFF
        posted = await post_message(
            session,
            ticket=ticket,
            author_type=AuthorType.BOT,
            body=reply,
            counts_as_response=not handed_off,
            outbound=outbound(reply, choices) if outbound is not None else None,
        )
        tags = [*ticket.tags, HANDOFF_TAG] if handed_off and HANDOFF_TAG not in ticket.tags else ticket.tags
        await update_ticket(session, ticket=ticket, status=status, tags=tags, by_bot=not handed_off)
    return Turn(step.step if step else None, reply, posted.id, choices)
