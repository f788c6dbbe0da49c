"""Matching a ticket's contact to a Shopify customer, on SQLite and (with TEST_DATABASE_URL) PostgreSQL:
every rule in order, the ambiguous case, Japanese phone spellings, guest orders, an agent's link, unlink
and rematch, links following customer webhooks (create, delete, merge), and the helpdesk part of
Shopify's privacy requests. Every test has two shops; the other shop's rows never match."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.shopify import resources
from shop_app.database import SessionFactory, make_engine, make_session_factory, transaction
from shop_app.encryption import Cipher
from shop_app.errors import NotFound
from shop_app.formats.phone_numbers import to_e164
from shop_app.helpdesk import customer_matching
from shop_app.helpdesk.customer_matching import (
    LinkDecision,
    apply_link,
    link_ticket_by_agent,
    link_waiting_tickets,
    match_contact,
    normalise_email,
    reason_text,
    rematch_ticket,
    unlink_ticket,
)
from shop_app.mirror import writes as mirror_writes
from shop_app.mirror.webhooks import handlers as webhook_handlers
from shop_app.models import (
    Agent,
    AuthorType,
    Contact,
    Customer,
    CustomerDataExport,
    DeletedRecord,
    LinkReason,
    Message,
    Order,
    Shop,
    Ticket,
)
from shop_app.models.base import utcnow
from shop_app.settings import Secret, Settings
from shop_app.shops import compliance
from tests.conftest import REFERENCE, TEST_ENCRYPTION_KEY

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
HANAKO = "hanako@example.jp"
HANAKO_MOBILE = "+819012345678"
CUSTOMERS_CREATE = REFERENCE / "webhook-payloads" / "CustomersCreate.json"


@dataclass
class Desk:
    sessions: SessionFactory
    alpha: Shop  # a Japanese shop
    beta: Shop  # an American one
    agent_id: int
    cipher: Cipher

    async def customer(
        self, shop: Shop, shopify_id: int, *, email: str | None = None, phone: str | None = None
    ) -> None:
        """A customer as Shopify sends it, written by the mirror writer."""
        assert shop.id is not None
        record = resources.Customer(
            shopify_id=shopify_id,
            updated_at=T0,
            first_name="Hanako",
            last_name="Yamada",
            email=email,
            phone=phone,
        )
        async with transaction(self.sessions) as session:
            await mirror_writes.upsert_customers(session, shop_id=shop.id, customers=[record], synced_at=T0)

    async def order(
        self,
        shop: Shop,
        shopify_id: int,
        *,
        email: str | None = None,
        phone: str | None = None,
        customer: int | None = None,
    ) -> None:
        assert shop.id is not None
        async with transaction(self.sessions) as session:
            session.add(
                Order(
                    shop_id=shop.id,
                    shopify_id=shopify_id,
                    name=f"#{shopify_id}",
                    customer_shopify_id=customer,
                    email=email,
                    phone=phone,
                    created_at=T0,
                    updated_at=T0,
                )
            )

    async def ticket(
        self,
        shop: Shop,
        *,
        email: str | None = None,
        phone: str | None = None,
        storefront_customer_id: int | None = None,
        messages: tuple[str, ...] = ("Where is my parcel?",),
    ) -> int:
        """A contact writing in, with a ticket and its messages (the customer's first), not matched yet.
        The contact's email and phone are kept as the app keeps them: normalised when they can be read."""
        assert shop.id is not None
        async with transaction(self.sessions) as session:
            contact = Contact(
                shop_id=shop.id,
                name="山田 花子",
                email=(normalise_email(email) or email) if email else None,
                phone=(to_e164(phone, default_region=shop.country_code) or phone) if phone else None,
                storefront_customer_id=storefront_customer_id,
            )
            session.add(contact)
            await session.flush()
            assert contact.id is not None
            ticket = Ticket(
                shop_id=shop.id, contact_id=contact.id, subject="Parcel", message_count=len(messages)
            )
            session.add(ticket)
            await session.flush()
            assert ticket.id is not None
            for index, body in enumerate(messages):
                author = AuthorType.CUSTOMER if index % 2 == 0 else AuthorType.AGENT
                session.add(Message(shop_id=shop.id, ticket_id=ticket.id, author_type=author, body=body))
            return ticket.id

    async def match(self, shop: Shop, ticket_id: int) -> Ticket:
        """What opening the ticket does: match its contact and put the decision on it."""
        async with transaction(self.sessions) as session:
            ticket = await self.load(session, ticket_id)
            contact = await session.get(Contact, ticket.contact_id)
            assert contact is not None
            decision = await match_contact(session, shop=await self.shop(session, shop), contact=contact)
            await apply_link(session, ticket=ticket, decision=decision)
        return await self.get(ticket_id)

    async def get(self, ticket_id: int) -> Ticket:
        async with self.sessions() as session:
            return await self.load(session, ticket_id)

    async def messages(self, ticket_id: int) -> list[Message]:
        async with self.sessions() as session:
            result = await session.execute(
                select(Message).where(col(Message.ticket_id) == ticket_id).order_by(col(Message.id))
            )
            return list(result.scalars())

    @staticmethod
    async def load(session: AsyncSession, ticket_id: int) -> Ticket:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket

    @staticmethod
    async def shop(session: AsyncSession, shop: Shop) -> Shop:
        loaded = await session.get(Shop, shop.id)
        assert loaded is not None
        return loaded

    def context(self, session: AsyncSession, shop: Shop, payload: dict[str, Any]) -> Any:
        return webhook_handlers.WebhookContext(
            session=session, shop=shop, payload=payload, cipher=self.cipher, digest_key="digest-key"
        )


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    async with transaction(sessions) as session:
        alpha = Shop(domain="alpha.myshopify.com", country_code="JP", iana_timezone="Asia/Tokyo")
        beta = Shop(domain="beta.myshopify.com", country_code="US")
        agent = Agent(email="aiko@example.test", name="Aiko", password_hash="not-a-real-hash")
        session.add_all([alpha, beta, agent])
        await session.flush()
        assert agent.id is not None
    yield Desk(sessions, alpha, beta, agent.id, Cipher([Secret(TEST_ENCRYPTION_KEY)]))
    await engine.dispose()


def _link(ticket: Ticket) -> tuple[Any, ...]:
    return (
        ticket.customer_shopify_id,
        ticket.guest_email,
        ticket.guest_phone,
        ticket.link_reason,
        list(ticket.link_candidates),
    )


# The rules, in order -----------------------------------------------------------------------------------


async def test_a_signed_storefront_identity_links_before_an_email_naming_someone_else(desk: Desk) -> None:
    await desk.customer(desk.alpha, 501, email=HANAKO)
    ticket_id = await desk.ticket(desk.alpha, email=HANAKO, storefront_customer_id=777)

    ticket = await desk.match(desk.alpha, ticket_id)

    assert _link(ticket) == (777, None, None, LinkReason.SIGNED_IDENTITY, [])
    assert ticket.linked_at is not None and ticket.linked_by_id is None


async def test_a_signed_identity_of_a_deleted_customer_is_not_used(desk: Desk) -> None:
    await desk.customer(desk.alpha, 501, email=HANAKO)
    async with transaction(desk.sessions) as session:
        assert desk.alpha.id is not None
        await mirror_writes.delete_customer(session, shop_id=desk.alpha.id, shopify_id=777)
    ticket_id = await desk.ticket(desk.alpha, email=HANAKO, storefront_customer_id=777)

    ticket = await desk.match(desk.alpha, ticket_id)

    assert _link(ticket) == (501, None, None, LinkReason.EMAIL, [])


async def test_an_email_matches_whatever_its_case_width_and_spaces(desk: Desk) -> None:
    # Shopify's spelling is stored lower-cased; the contact typed it in full-width capitals
    await desk.customer(desk.alpha, 501, email="Hanako@Example.JP")
    ticket_id = await desk.ticket(desk.alpha, email=" ＨＡＮＡＫＯ＠example.jp ")

    ticket = await desk.match(desk.alpha, ticket_id)

    assert _link(ticket) == (501, None, None, LinkReason.EMAIL, [])


async def test_an_email_match_comes_before_a_phone_match(desk: Desk) -> None:
    await desk.customer(desk.alpha, 501, email=HANAKO)
    await desk.customer(desk.alpha, 502, phone=HANAKO_MOBILE)
    ticket_id = await desk.ticket(desk.alpha, email=HANAKO, phone="090-1234-5678")

    ticket = await desk.match(desk.alpha, ticket_id)

    assert _link(ticket) == (501, None, None, LinkReason.EMAIL, [])


@pytest.mark.parametrize(
    "typed",
    ["090-1234-5678", "+81 90 1234 5678", "０９０－１２３４－５６７８", "09012345678", "+81-90-1234-5678"],
)
async def test_a_japanese_mobile_number_matches_however_it_is_written(desk: Desk, typed: str) -> None:
    await desk.customer(desk.alpha, 501, phone=HANAKO_MOBILE)
    await desk.customer(desk.beta, 601, phone=HANAKO_MOBILE)
    ticket_id = await desk.ticket(desk.alpha, email="someone-else@example.jp", phone=typed)

    ticket = await desk.match(desk.alpha, ticket_id)

    assert _link(ticket) == (501, None, None, LinkReason.PHONE, [])


async def test_a_customer_phone_stored_in_national_form_is_kept_in_e164_and_matches(desk: Desk) -> None:
    # a phone written without country code is read in the shop's country when mirrored
    await desk.customer(desk.alpha, 501, phone="090-1234-5678")
    async with desk.sessions() as session:
        stored = await session.scalar(select(col(Customer.phone)).where(col(Customer.shopify_id) == 501))
    ticket_id = await desk.ticket(desk.alpha, phone="+81 90-1234-5678")

    ticket = await desk.match(desk.alpha, ticket_id)

    assert stored == HANAKO_MOBILE
    assert _link(ticket) == (501, None, None, LinkReason.PHONE, [])


async def test_the_same_national_number_in_an_american_shop_is_not_the_japanese_customer(desk: Desk) -> None:
    await desk.customer(desk.beta, 601, phone=HANAKO_MOBILE)
    ticket_id = await desk.ticket(desk.beta, phone="090-1234-5678")

    ticket = await desk.match(desk.beta, ticket_id)

    assert _link(ticket) == (None, None, None, None, [])


async def test_two_customers_with_one_email_leave_the_ticket_unlinked_with_both_listed(desk: Desk) -> None:
    await desk.customer(desk.alpha, 502, email=HANAKO)
    await desk.customer(desk.alpha, 501, email="HANAKO@example.jp")
    # a single phone match exists, but the email step already found something: no guessing past it
    await desk.customer(desk.alpha, 503, phone=HANAKO_MOBILE)
    ticket_id = await desk.ticket(desk.alpha, email=HANAKO, phone="090-1234-5678")

    ticket = await desk.match(desk.alpha, ticket_id)

    assert _link(ticket) == (None, None, None, None, [501, 502])
    assert ticket.linked_at is None


async def test_two_customers_with_one_phone_leave_the_ticket_unlinked_with_both_listed(desk: Desk) -> None:
    await desk.customer(desk.alpha, 501, phone=HANAKO_MOBILE)
    await desk.customer(desk.alpha, 502, phone="090-1234-5678")
    ticket_id = await desk.ticket(desk.alpha, phone="09012345678")

    ticket = await desk.match(desk.alpha, ticket_id)

    assert _link(ticket) == (None, None, None, None, [501, 502])


async def test_guest_orders_link_by_email_with_the_phone_of_guest_orders_too(desk: Desk) -> None:
    await desk.order(desk.alpha, 1001, email=HANAKO)
    await desk.order(desk.alpha, 1002, phone=HANAKO_MOBILE)
    ticket_id = await desk.ticket(desk.alpha, email="Hanako@example.jp", phone="090-1234-5678")

    ticket = await desk.match(desk.alpha, ticket_id)

    assert _link(ticket) == (None, HANAKO, HANAKO_MOBILE, LinkReason.GUEST_ORDER_EMAIL, [])


async def test_guest_orders_link_by_phone_when_none_has_the_email(desk: Desk) -> None:
    await desk.order(desk.alpha, 1002, phone=HANAKO_MOBILE)
    ticket_id = await desk.ticket(desk.alpha, email=HANAKO, phone="090-1234-5678")

    ticket = await desk.match(desk.alpha, ticket_id)

    assert _link(ticket) == (None, None, HANAKO_MOBILE, LinkReason.GUEST_ORDER_PHONE, [])


async def test_orders_of_a_customer_are_not_guest_orders(desk: Desk) -> None:
    # the order belongs to a customer whose own email differs (changed since): no guest link by it
    await desk.order(desk.alpha, 1001, email=HANAKO, customer=501)
    ticket_id = await desk.ticket(desk.alpha, email=HANAKO)

    ticket = await desk.match(desk.alpha, ticket_id)

    assert _link(ticket) == (None, None, None, None, [])


async def test_another_shops_customers_and_orders_never_match(desk: Desk) -> None:
    await desk.customer(desk.beta, 601, email=HANAKO, phone=HANAKO_MOBILE)
    await desk.order(desk.beta, 2001, email=HANAKO)
    await desk.order(desk.beta, 2002, phone=HANAKO_MOBILE)
    alpha_ticket = await desk.ticket(desk.alpha, email=HANAKO, phone="090-1234-5678")
    beta_ticket = await desk.ticket(desk.beta, email=HANAKO)

    alpha = await desk.match(desk.alpha, alpha_ticket)
    beta = await desk.match(desk.beta, beta_ticket)

    assert _link(alpha) == (None, None, None, None, [])
    assert _link(beta) == (601, None, None, LinkReason.EMAIL, [])


async def test_a_contact_without_email_or_phone_stays_unlinked(desk: Desk) -> None:
    await desk.customer(desk.alpha, 501, email=HANAKO)
    ticket_id = await desk.ticket(desk.alpha, email="not an email")

    ticket = await desk.match(desk.alpha, ticket_id)

    assert _link(ticket) == (None, None, None, None, [])


@pytest.mark.parametrize(
    ("email", "phone", "expected"),
    [
        (" ＨＡＮＡＫＯ＠Example.JP", None, LinkDecision(customer_shopify_id=501, reason=LinkReason.EMAIL)),
        (None, "０９０－１２３４－５６７８", LinkDecision(customer_shopify_id=502, reason=LinkReason.PHONE)),
        ("bob@example.com", "03-1234-5678", LinkDecision()),
    ],
)
async def test_matching_reads_contact_details_as_they_were_typed(
    desk: Desk, email: str | None, phone: str | None, expected: LinkDecision
) -> None:
    await desk.customer(desk.alpha, 501, email=HANAKO)
    await desk.customer(desk.alpha, 502, phone=HANAKO_MOBILE)
    await desk.customer(desk.beta, 601, email="bob@example.com", phone="+81312345678")
    assert desk.alpha.id is not None
    contact = Contact(shop_id=desk.alpha.id, email=email, phone=phone)

    async with desk.sessions() as session:
        decision = await match_contact(session, shop=await desk.shop(session, desk.alpha), contact=contact)

    assert decision == expected


def test_emails_are_normalised_and_non_emails_refused() -> None:
    assert normalise_email("  Hanako@Example.JP ") == HANAKO
    assert normalise_email("ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ") == HANAKO
    assert normalise_email("hanako@example") is None
    assert normalise_email("hanako at example.jp") is None
    assert normalise_email("a@b@example.jp") is None
    assert normalise_email("hanako@.example.jp") is None
    assert normalise_email("hanako@example.jp" + "p" * 400) is None


def test_every_reason_has_an_english_and_a_japanese_text() -> None:
    assert reason_text(LinkReason.EMAIL, "en") == "matched by email"
    assert reason_text(LinkReason.EMAIL, "ja") == "メールアドレスで照合"
    assert reason_text(LinkReason.AGENT, "en-US") == "linked by agent"
    assert reason_text(LinkReason.AGENT, "ja-JP") == "担当者がリンク"
    assert reason_text(LinkReason.PHONE, None) == "matched by phone"
    texts = {
        (reason, locale): reason_text(reason, locale) for reason in LinkReason for locale in ("en", "ja")
    }
    assert len(set(texts.values())) == 2 * len(LinkReason)
    assert all(text.isascii() for (_, locale), text in texts.items() if locale == "en")
    assert not any(text.isascii() for (_, locale), text in texts.items() if locale == "ja")


# Agents -----------------------------------------------------------------------------------------------


async def test_an_agent_links_a_customer_of_the_shop_and_the_conversation_stays_whole(desk: Desk) -> None:
    await desk.customer(desk.alpha, 501, email=HANAKO)
    await desk.customer(desk.alpha, 502, email=HANAKO)
    ticket_id = await desk.ticket(
        desk.alpha, email=HANAKO, messages=("Hello", "Hi, how can I help?", "My parcel")
    )
    await desk.match(desk.alpha, ticket_id)
    before = [(m.id, m.body) for m in await desk.messages(ticket_id)]

    async with transaction(desk.sessions) as session:
        ticket = await desk.load(session, ticket_id)
        await link_ticket_by_agent(
            session,
            shop=await desk.shop(session, desk.alpha),
            ticket=ticket,
            customer_shopify_id=502,
            agent_id=desk.agent_id,
        )

    ticket = await desk.get(ticket_id)
    assert _link(ticket) == (502, None, None, LinkReason.AGENT, [])
    assert ticket.linked_by_id == desk.agent_id and ticket.linked_at is not None
    assert [(m.id, m.body) for m in await desk.messages(ticket_id)] == before
    assert ticket.link_reason is not None
    assert reason_text(LinkReason(ticket.link_reason), "ja") == "担当者がリンク"


async def test_an_agent_cannot_link_another_shops_customer_or_ticket(desk: Desk) -> None:
    await desk.customer(desk.beta, 601, email=HANAKO)
    await desk.customer(desk.alpha, 501, email=HANAKO)
    alpha_ticket = await desk.ticket(desk.alpha, email=HANAKO)
    beta_ticket = await desk.ticket(desk.beta, email="bob@example.com")
    await desk.match(desk.alpha, alpha_ticket)

    async with desk.sessions() as session:
        alpha = await desk.shop(session, desk.alpha)
        with pytest.raises(NotFound) as customer_error:
            await link_ticket_by_agent(
                session,
                shop=alpha,
                ticket=await desk.load(session, alpha_ticket),
                customer_shopify_id=601,
                agent_id=desk.agent_id,
            )
        with pytest.raises(NotFound) as ticket_error:
            await link_ticket_by_agent(
                session,
                shop=alpha,
                ticket=await desk.load(session, beta_ticket),
                customer_shopify_id=501,
                agent_id=desk.agent_id,
            )
        with pytest.raises(NotFound):
            await rematch_ticket(session, shop=alpha, ticket=await desk.load(session, beta_ticket))
        for absurd in (0, -1, 2**64):
            with pytest.raises(NotFound):
                await link_ticket_by_agent(
                    session,
                    shop=alpha,
                    ticket=await desk.load(session, alpha_ticket),
                    customer_shopify_id=absurd,
                    agent_id=desk.agent_id,
                )
        await session.rollback()

    assert customer_error.value.http_status == ticket_error.value.http_status == 404
    assert _link(await desk.get(alpha_ticket)) == (501, None, None, LinkReason.EMAIL, [])
    assert _link(await desk.get(beta_ticket)) == (None, None, None, None, [])


async def test_an_unlinked_ticket_is_left_alone_until_an_agent_asks_to_match_again(desk: Desk) -> None:
    await desk.customer(desk.alpha, 501, email=HANAKO)
    ticket_id = await desk.ticket(desk.alpha, email=HANAKO, messages=("Hello", "Hi"))
    await desk.match(desk.alpha, ticket_id)

    # the agent says "not this customer"
    async with transaction(desk.sessions) as session:
        await unlink_ticket(session, ticket=await desk.load(session, ticket_id), agent_id=desk.agent_id)
    unlinked = await desk.get(ticket_id)
    # a customer with the contact's email is created: matching leaves the ticket alone
    await desk.customer(desk.alpha, 502, phone=HANAKO_MOBILE)
    async with transaction(desk.sessions) as session:
        changed = await customer_matching.link_tickets_to_customers(
            session, shop=await desk.shop(session, desk.alpha), customer_shopify_ids=[501, 502]
        )
    # until the agent asks for matching again
    async with transaction(desk.sessions) as session:
        decision = await rematch_ticket(
            session, shop=await desk.shop(session, desk.alpha), ticket=await desk.load(session, ticket_id)
        )
    rematched = await desk.get(ticket_id)

    assert _link(unlinked) == (None, None, None, None, [])
    assert unlinked.unlinked_by_agent is True and unlinked.linked_by_id == desk.agent_id
    assert changed == []
    assert decision == LinkDecision(customer_shopify_id=501, reason=LinkReason.EMAIL)
    assert _link(rematched) == (501, None, None, LinkReason.EMAIL, [])
    assert rematched.unlinked_by_agent is False and rematched.linked_by_id is None
    assert [m.body for m in await desk.messages(ticket_id)] == ["Hello", "Hi"]


# Following customer changes --------------------------------------------------------------------------


def _customers_create_body(shopify_id: int, email: str | None, phone: str | None) -> dict[str, Any]:
    """Shopify's customers/create sample, as this customer."""
    body: dict[str, Any] = json.loads(CUSTOMERS_CREATE.read_text())
    body.update(
        id=shopify_id,
        admin_graphql_api_id=f"gid://shopify/Customer/{shopify_id}",
        email=email,
        phone=phone,
        updated_at=(T0 + timedelta(hours=1)).isoformat(),
    )
    return body


async def test_a_new_customer_links_the_tickets_waiting_for_their_email_or_phone(desk: Desk) -> None:
    # given: unlinked, guest-linked and already-linked tickets in alpha, and a waiting one in beta
    await desk.order(desk.alpha, 1001, email=HANAKO)
    await desk.customer(desk.alpha, 400, email="taro@example.jp")
    unlinked = await desk.ticket(desk.alpha, phone="090-1234-5678")
    guest = await desk.ticket(desk.alpha, email=HANAKO)
    linked = await desk.ticket(desk.alpha, email="taro@example.jp", phone="090-1234-5678")
    beta_waiting = await desk.ticket(desk.beta, email=HANAKO)
    for ticket_id in (unlinked, guest, linked):
        await desk.match(desk.alpha, ticket_id)
    await desk.match(desk.beta, beta_waiting)
    assert (await desk.get(guest)).link_reason == LinkReason.GUEST_ORDER_EMAIL

    # when: customers/create arrives for alpha, written the way a batch of deliveries is
    group = webhook_handlers.GROUPS["customers/create"]
    record = group.parse(_customers_create_body(501, "Hanako@Example.jp", "+81 90-1234-5678"))
    async with transaction(desk.sessions) as session:
        assert desk.alpha.id is not None
        await group.write(session, desk.alpha.id, [record])

    # then
    assert _link(await desk.get(unlinked)) == (501, None, None, LinkReason.PHONE, [])
    assert _link(await desk.get(guest)) == (501, None, None, LinkReason.EMAIL, [])
    assert _link(await desk.get(linked)) == (400, None, None, LinkReason.EMAIL, [])
    assert _link(await desk.get(beta_waiting)) == (None, None, None, None, [])


async def test_a_customer_leaving_a_shared_email_resolves_the_ambiguity(desk: Desk) -> None:
    await desk.customer(desk.alpha, 501, email=HANAKO)
    await desk.customer(desk.alpha, 502, email=HANAKO)
    ticket_id = await desk.ticket(desk.alpha, email=HANAKO)
    await desk.match(desk.alpha, ticket_id)
    # one of them changes email: the other is now the only one
    async with transaction(desk.sessions) as session:
        context = desk.context(session, desk.alpha, _customers_create_body(502, "new@example.jp", None))
        await webhook_handlers.handle_customer(context)

    assert _link(await desk.get(ticket_id)) == (501, None, None, LinkReason.EMAIL, [])


async def test_deleting_a_customer_matches_its_tickets_again(desk: Desk) -> None:
    # given: a ticket linked to 501 by email and one an agent linked to 501; Shopify merged 501 into 502,
    # which now has the email, and deletes 501
    await desk.customer(desk.alpha, 501, email=HANAKO)
    by_email = await desk.ticket(desk.alpha, email=HANAKO)
    by_agent = await desk.ticket(desk.alpha, email="old@example.jp")
    await desk.match(desk.alpha, by_email)
    async with transaction(desk.sessions) as session:
        await link_ticket_by_agent(
            session,
            shop=await desk.shop(session, desk.alpha),
            ticket=await desk.load(session, by_agent),
            customer_shopify_id=501,
            agent_id=desk.agent_id,
        )
    await desk.customer(desk.alpha, 502, email=HANAKO)
    assert _link(await desk.get(by_email)) == (501, None, None, LinkReason.EMAIL, [])
    await desk.customer(desk.beta, 501, email=HANAKO)
    beta_ticket = await desk.ticket(desk.beta, email=HANAKO)
    await desk.match(desk.beta, beta_ticket)

    # when
    async with transaction(desk.sessions) as session:
        await webhook_handlers.handle_customers_delete(desk.context(session, desk.alpha, {"id": 501}))

    # then
    assert _link(await desk.get(by_email)) == (502, None, None, LinkReason.EMAIL, [])
    assert _link(await desk.get(by_agent)) == (None, None, None, None, [])
    assert _link(await desk.get(beta_ticket)) == (501, None, None, LinkReason.EMAIL, [])


def _merge_body(kept: int, deleted: int, status: str = "completed") -> dict[str, Any]:
    return {
        "admin_graphql_api_customer_kept_id": f"gid://shopify/Customer/{kept}",
        "admin_graphql_api_customer_deleted_id": f"gid://shopify/Customer/{deleted}",
        "admin_graphql_api_job_id": None,
        "status": status,
        "errors": [] if status == "completed" else [{"customer_ids": [kept], "field": "x", "message": "y"}],
    }


async def test_a_merge_moves_links_identities_and_orders_to_the_kept_customer(desk: Desk) -> None:
    # given: 501 and 502 share an email (one ticket lists both); an agent linked another ticket to 501;
    # a contact signed in on the storefront as 501
    await desk.customer(desk.alpha, 501, email=HANAKO)
    await desk.customer(desk.alpha, 502, email=HANAKO)
    await desk.order(desk.alpha, 1001, email=HANAKO, customer=501)
    ambiguous = await desk.ticket(desk.alpha, email=HANAKO)
    by_agent = await desk.ticket(desk.alpha, email="other@example.jp")
    signed = await desk.ticket(desk.alpha, storefront_customer_id=501)
    for ticket_id in (ambiguous, signed):
        await desk.match(desk.alpha, ticket_id)
    async with transaction(desk.sessions) as session:
        await link_ticket_by_agent(
            session,
            shop=await desk.shop(session, desk.alpha),
            ticket=await desk.load(session, by_agent),
            customer_shopify_id=501,
            agent_id=desk.agent_id,
        )
    assert _link(await desk.get(ambiguous)) == (None, None, None, None, [501, 502])
    await desk.order(desk.beta, 2001, customer=501)

    # when: Shopify kept 502
    async with transaction(desk.sessions) as session:
        await webhook_handlers.handle_customers_merge(
            desk.context(session, desk.alpha, _merge_body(502, 501))
        )

    # then
    assert _link(await desk.get(ambiguous)) == (502, None, None, LinkReason.EMAIL, [])
    assert _link(await desk.get(by_agent)) == (502, None, None, LinkReason.AGENT, [])
    assert _link(await desk.get(signed)) == (502, None, None, LinkReason.SIGNED_IDENTITY, [])
    async with transaction(desk.sessions) as session:
        rematched = await rematch_ticket(
            session, shop=await desk.shop(session, desk.alpha), ticket=await desk.load(session, signed)
        )
        orders = {
            o.shopify_id: o.customer_shopify_id for o in (await session.execute(select(Order))).scalars()
        }
        customers = [c.shopify_id for c in (await session.execute(select(Customer))).scalars()]
        tombstones = [
            (d.shop_id, d.shopify_id) for d in (await session.execute(select(DeletedRecord))).scalars()
        ]
    assert rematched.customer_shopify_id == 502
    assert orders == {1001: 502, 2001: 501}
    assert customers == [502]
    assert tombstones == [(desk.alpha.id, 501)]


async def test_a_failed_merge_changes_nothing(desk: Desk) -> None:
    await desk.customer(desk.alpha, 501, email=HANAKO)
    await desk.customer(desk.alpha, 502, email="other@example.jp")
    ticket_id = await desk.ticket(desk.alpha, email=HANAKO)
    await desk.match(desk.alpha, ticket_id)

    async with transaction(desk.sessions) as session:
        body = _merge_body(502, 501, status="failed")
        await webhook_handlers.handle_customers_merge(desk.context(session, desk.alpha, body))

    assert _link(await desk.get(ticket_id)) == (501, None, None, LinkReason.EMAIL, [])
    async with desk.sessions() as session:
        assert len((await session.execute(select(Customer))).scalars().all()) == 2


def test_customers_merge_is_subscribed_with_its_handler() -> None:
    assert webhook_handlers.HANDLERS["customers/merge"] is webhook_handlers.handle_customers_merge


# Privacy requests -------------------------------------------------------------------------------------


async def test_redacting_a_customer_anonymises_their_conversations_and_nobody_elses(desk: Desk) -> None:
    # given: in alpha, a ticket by email, one by phone (the customer has no phone in Shopify: it stays
    # linked to no one), one an agent linked to the customer; beta has a contact with the same email
    await desk.customer(desk.alpha, 501, email=HANAKO)
    by_email = await desk.ticket(
        desk.alpha,
        email=HANAKO,
        messages=("私の電話は 090-1234-5678 です", "Hanako@example.jp 宛に送りました"),
    )
    by_phone = await desk.ticket(
        desk.alpha, phone="+819012345678", messages=("Hi", "I will call 090-1234-5678 (+81 90-1234-5678)")
    )
    by_agent = await desk.ticket(desk.alpha, email="work@example.jp", messages=("Hello", "Noted"))
    stranger = await desk.ticket(desk.alpha, email="stranger@example.jp", messages=("Unrelated",))
    beta_ticket = await desk.ticket(desk.beta, email=HANAKO, messages=("Beta question",))
    for ticket_id in (by_email, by_phone):
        await desk.match(desk.alpha, ticket_id)
    async with transaction(desk.sessions) as session:
        await link_ticket_by_agent(
            session,
            shop=await desk.shop(session, desk.alpha),
            ticket=await desk.load(session, by_agent),
            customer_shopify_id=501,
            agent_id=desk.agent_id,
        )
    subject = compliance.CustomerSubject(shopify_customer_id=501, email=HANAKO, phone="090-1234-5678")

    # when
    async with transaction(desk.sessions) as session:
        await compliance.redact_customer(
            session, shop=await desk.shop(session, desk.alpha), subject=subject, digest_key="digest-key"
        )

    # then
    async with desk.sessions() as session:
        tickets = {t.id: t for t in (await session.execute(select(Ticket))).scalars()}
        contacts = {c.id: c for c in (await session.execute(select(Contact))).scalars()}
    for ticket_id in (by_email, by_agent):
        ticket = tickets[ticket_id]
        contact = contacts[ticket.contact_id]
        assert (contact.name, contact.email, contact.phone, contact.storefront_customer_id) == (None,) * 4
        assert _link(ticket) == (None, None, None, None, [])
        assert ticket.subject == "[redacted]"
    assert [m.body for m in await desk.messages(by_email)] == ["[redacted]", "[redacted] 宛に送りました"]
    # the conversation linked to no one is erased, with its contact
    assert by_phone not in tickets
    assert await desk.messages(by_phone) == []
    assert [c for c in contacts.values() if c.phone == HANAKO_MOBILE] == []
    assert [m.body for m in await desk.messages(by_agent)] == ["[redacted]", "Noted"]
    assert [m.body for m in await desk.messages(stranger)] == ["Unrelated"]
    assert contacts[tickets[stranger].contact_id].email == "stranger@example.jp"
    assert contacts[tickets[beta_ticket].contact_id].email == HANAKO
    assert [m.body for m in await desk.messages(beta_ticket)] == ["Beta question"]


async def test_a_data_request_exports_the_customers_tickets(desk: Desk) -> None:
    await desk.customer(desk.alpha, 501, email=HANAKO)
    mine = await desk.ticket(desk.alpha, email=HANAKO, messages=("Where is order #1001?", "On its way"))
    await desk.ticket(desk.alpha, email="stranger@example.jp", messages=("Unrelated",))
    await desk.ticket(desk.beta, email=HANAKO, messages=("Beta question",))
    await desk.match(desk.alpha, mine)
    subject = compliance.CustomerSubject(shopify_customer_id=501, email=HANAKO)

    async with transaction(desk.sessions) as session:
        export = await compliance.export_customer_data(
            session,
            shop=await desk.shop(session, desk.alpha),
            subject=subject,
            data_request_id=9999,
            cipher=desk.cipher,
            digest_key="digest-key",
        )
        await session.flush()
        export_id = export.id
    async with desk.sessions() as session:
        stored = await session.get(CustomerDataExport, export_id)
        assert stored is not None
    held = json.loads(desk.cipher.decrypt(stored.ciphertext))["held"]["helpdesk"]

    assert [c["email"] for c in held["contacts"]] == [HANAKO]
    assert [t["id"] for t in held["tickets"]] == [mine]
    assert [(m["author_type"], m["body"]) for m in held["tickets"][0]["messages"]] == [
        ("customer", "Where is order #1001?"),
        ("agent", "On its way"),
    ]


async def test_tickets_waiting_for_a_customer_are_linked_once_a_sync_mirrors_it(
    settings: Settings,
) -> None:
    # given a ticket opened before the customer was mirrored, and one an agent unlinked
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        async with transaction(sessions) as session:
            shop = Shop(domain="alpha.myshopify.com", country_code="JP")
            session.add(shop)
            await session.flush()
            assert shop.id is not None
            contact = Contact(shop_id=shop.id, email="late@example.com")
            session.add(contact)
            await session.flush()
            assert contact.id is not None
            waiting = Ticket(shop_id=shop.id, contact_id=contact.id)
            left_alone = Ticket(shop_id=shop.id, contact_id=contact.id, unlinked_by_agent=True)
            session.add_all([waiting, left_alone])
            await session.flush()
            assert await link_waiting_tickets(session, shop=shop) == []

        # when the backfill brings the customer in
        async with transaction(sessions) as session:
            session.add(
                Customer(shop_id=shop.id, shopify_id=77, email="late@example.com", updated_at=utcnow())
            )
            await session.flush()
            changed = await link_waiting_tickets(session, shop=shop)

        # then only the waiting ticket is linked, by email
        assert [t.id for t in changed] == [waiting.id]
        async with sessions() as session:
            linked = await session.get_one(Ticket, waiting.id)
            untouched = await session.get_one(Ticket, left_alone.id)
        assert (linked.customer_shopify_id, linked.link_reason) == (77, "email")
        assert untouched.customer_shopify_id is None
    finally:
        await engine.dispose()
