"""The bot's self-service turn as every channel runs it once the engine's transaction committed: the step
(``answers.self_service.turn``), the reply sent by the ticket's channel (the outbox: LINE and email; the
widget reads it), and the consoles told."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shop_app.answers.self_service import SelfServiceRequest
from shop_app.answers.self_service.turn import Outbound, Turn, take_turn
from shop_app.channels import outbound as sending
from shop_app.helpdesk import outbox
from shop_app.live_events import LiveEvent
from shop_app.models import Shop

if TYPE_CHECKING:
    from shop_app.runtime import Services


async def self_service_turn(
    services: Services,
    *,
    shop: Shop,
    ticket_id: int,
    request: SelfServiceRequest | None,
    outbound: Outbound | None = None,
) -> Turn | None:
    """None when the engine asked for no self-service step."""
    if request is None:
        return None
    turn = await take_turn(services, shop=shop, ticket_id=ticket_id, request=request, outbound=outbound)
    if turn.message_id is None:
        return turn
    async with services.sessions() as session:
        rows = await outbox.for_messages(session, [turn.message_id])
    leaving = [row.id for row in rows if row.id is not None]
    if leaving:
        await sending.deliver(services, leaving)
    assert shop.id is not None
    await services.events.publish(
        LiveEvent(
            shop_id=shop.id,
            kind="message.created",
            data={"ticket_id": ticket_id, "message_id": turn.message_id},
        )
    )
    await services.events.publish(
        LiveEvent(shop_id=shop.id, kind="ticket.updated", data={"ticket_id": ticket_id})
    )
    return turn
