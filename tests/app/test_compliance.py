from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import hypothesis
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlmodel import SQLModel, col

from integrations.shopify import resources
from shop_app.database import migrate, transaction
from shop_app.mirror import writes as mirror_writes
from shop_app.mirror.webhooks.inbox import IncomingWebhook, record_delivery
from shop_app.models import (
    AuthorType,
    BotDecision,
    Channel,
    ComplianceAudit,
    Contact,
    Customer,
    CustomerDataExport,
    DecisionAction,
    LinkReason,
    Message,
    Order,
    Shop,
    ShopCredential,
    Ticket,
    TicketTag,
    TicketVerification,
    Verification,
    VerificationAttempt,
    WidgetSession,
)
from shop_app.models.insights import CsatSurvey
from shop_app.models.order_actions import ActionKind, OrderAction
from shop_app.shops.compliance import (
    CONVERSATION_RECORDS,
    CONVERSATION_TRACES,
    CustomerSubject,
    redact_customer,
    tenant_tables,
)
from tests.app.conftest import ALPHA, BETA, RunningApp, TwoShops, compliance_body
from tests.app.database_checks import all_rows, columns_by_table, text_values
from tests.factories import session_token

CUSTOMER_ID = 191167
EMAIL = "john@example.com"
PHONE = "555-625-1199"
FIRST_NAME = "Johnathan"
LAST_NAME = "Appleseedling"
PERSONAL = (EMAIL, PHONE, FIRST_NAME, LAST_NAME)


def _bearer(shop: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(shop)}"}


async def _request_data(app: RunningApp, *domains: str) -> None:
    for domain in domains:
        response = await app.webhook(
            "customers/data_request", domain, compliance_body("customers-data_request", domain)
        )
        assert response.json()["outcome"] == "accepted"
    await app.drain()


async def _pending_delivery_naming_the_customer(app: RunningApp, shop_id: int) -> None:
    """An order notification not processed yet, holding the customer's name (the app stores bodies until
    processed)."""
    body = {
        "id": 820982911946154508,
        "customer": {"id": CUSTOMER_ID, "first_name": FIRST_NAME, "last_name": LAST_NAME},
        "shipping_address": {"name": f"{FIRST_NAME} {LAST_NAME}", "phone": PHONE},
    }
    async with transaction(app.services.sessions) as session:
        await record_delivery(
            session,
            shop_id=shop_id,
            webhook=IncomingWebhook(
                topic="orders/updated",
                event_id="pending-order-event",
                webhook_id="w-1",
                api_version="2026-07",
                triggered_at=None,
                body=json.dumps(body),
            ),
        )


async def _mirrored_customer_and_orders(app: RunningApp, shop_id: int) -> None:
    """The mirror holds the customer, one of their orders, and an order the request names by id."""
    when = datetime(2026, 11, 1, tzinfo=UTC)
    address = resources.Address(name=f"{FIRST_NAME} {LAST_NAME}", address1="1 Elm St", phone=PHONE)
    orders = [
        resources.Order(
            shopify_id=820982911946154508,
            name="#1001",
            created_at=when,
            updated_at=when,
            customer_shopify_id=CUSTOMER_ID,
            email=EMAIL,
            phone=PHONE,
            total_price="398.00",
            shipping_address=address,
            custom_attributes=(("gift message", f"For {FIRST_NAME}"),),
            note=f"call {PHONE}",
            line_items=(resources.LineItem(shopify_id=1, title="IPod Nano", quantity=1),),
        ),
        resources.Order(shopify_id=299938, name="#1002", created_at=when, updated_at=when, email=EMAIL),
    ]
    customer = resources.Customer(
        shopify_id=CUSTOMER_ID,
        updated_at=when,
        first_name=FIRST_NAME,
        last_name=LAST_NAME,
        email=EMAIL,
        phone=PHONE,
        default_address=address,
    )
    async with transaction(app.services.sessions) as session:
        await mirror_writes.upsert_orders(session, shop_id=shop_id, orders=orders, synced_at=when)
        await mirror_writes.upsert_customers(session, shop_id=shop_id, customers=[customer], synced_at=when)


async def test_customer_data_export_holds_the_mirrored_customer_and_orders(
    app: RunningApp, shops: TwoShops
) -> None:
    assert shops.alpha.id is not None
    await _mirrored_customer_and_orders(app, shops.alpha.id)
    await _request_data(app, ALPHA)
    [export] = await app.rows(CustomerDataExport, shops.alpha)
    held = json.loads(app.services.cipher.decrypt(export.ciphertext))["held"]["mirror"]
    assert [(c["first_name"], c["email"]) for c in held["customers"]] == [(FIRST_NAME, EMAIL)]
    assert [o["name"] for o in held["orders"]] == ["#1001", "#1002"]
    assert held["orders"][0]["shipping_address"]["phone"] == PHONE
    assert held["orders"][0]["items"][0]["title"] == "IPod Nano"


async def test_customer_data_request_produces_an_export_the_merchant_downloads(
    app: RunningApp, shops: TwoShops
) -> None:
    # given
    await _request_data(app, ALPHA)
    # when
    status = await app.client.get("/api/admin/shop", headers=_bearer(ALPHA))
    [listed] = status.json()["data_exports"]
    download = await app.client.get(f"/api/admin/data-exports/{listed['id']}", headers=_bearer(ALPHA))
    # then
    assert download.status_code == 200, download.text
    assert "attachment" in download.headers["content-disposition"]
    document = download.json()
    assert document["shop"] == ALPHA
    assert document["customer"] == {"id": CUSTOMER_ID, "email": EMAIL, "phone": PHONE}
    assert document["orders_requested"] == [299938, 280263, 220458]
    assert document["data_request_id"] == 9999
    assert listed["data_request_id"] == 9999


async def test_another_shops_data_export_is_not_found(app: RunningApp, shops: TwoShops) -> None:
    await _request_data(app, ALPHA)
    [export] = await app.rows(CustomerDataExport, shops.alpha)
    response = await app.client.get(f"/api/admin/data-exports/{export.id}", headers=_bearer(BETA))
    assert response.status_code == 404
    assert EMAIL not in response.text
    listing = await app.client.get("/api/admin/shop", headers=_bearer(BETA))
    assert listing.json()["data_exports"] == []


@pytest.mark.parametrize("export_id", ["abc", "1.5", "-1", "0", "99999999", "99999999999999999999999999"])
async def test_malformed_or_unknown_export_id_is_not_found(
    app: RunningApp, shops: TwoShops, export_id: str
) -> None:
    await _request_data(app, ALPHA)
    response = await app.client.get(f"/api/admin/data-exports/{export_id}", headers=_bearer(ALPHA))
    assert response.status_code == 404


async def test_data_export_download_without_a_session_token_is_unauthorised(
    app: RunningApp, shops: TwoShops
) -> None:
    await _request_data(app, ALPHA)
    [export] = await app.rows(CustomerDataExport, shops.alpha)
    response = await app.client.get(f"/api/admin/data-exports/{export.id}")
    assert response.status_code == 401
    assert EMAIL not in response.text


async def test_customers_redact_leaves_no_trace_of_the_customer_in_any_table(
    app: RunningApp, shops: TwoShops, database_url: str
) -> None:
    # given: both shops hold an export about the customer; alpha also has an unprocessed notification
    await _request_data(app, ALPHA, BETA)
    assert shops.alpha.id is not None and shops.beta.id is not None
    await _pending_delivery_naming_the_customer(app, shops.alpha.id)
    await _mirrored_customer_and_orders(app, shops.alpha.id)
    await _mirrored_customer_and_orders(app, shops.beta.id)
    held_before = " ".join(text_values(database_url, app.services.cipher, skip_shop_id=shops.beta.id))
    assert all(needle in held_before for needle in PERSONAL)
    # when
    response = await app.webhook("customers/redact", ALPHA, compliance_body("customers-redact", ALPHA))
    await app.drain()
    # then
    assert response.status_code == 200
    held = text_values(database_url, app.services.cipher, skip_shop_id=shops.beta.id)
    leaks = [value for value in held for needle in PERSONAL if needle in value]
    assert leaks == []
    audits = [a for a in await app.rows(ComplianceAudit, shops.alpha) if a.topic == "customers/redact"]
    assert len(audits) == 1
    audit_text = f"{audits[0].subject_digest} {audits[0].detail}"
    assert not any(needle in audit_text for needle in (*PERSONAL, str(CUSTOMER_ID)))
    assert audits[0].rows_affected >= 2
    # the mirror keeps the orders' amounts, without the person
    assert await app.rows(Customer, shops.alpha) == []
    orders = await app.rows(Order, shops.alpha)
    assert sorted(o.total_price or "" for o in orders) == ["", "398.00"]
    # the other shop's export and mirror of the same customer are untouched
    [beta_export] = await app.rows(CustomerDataExport, shops.beta)
    assert EMAIL in app.services.cipher.decrypt(beta_export.ciphertext)
    [beta_customer] = await app.rows(Customer, shops.beta)
    assert beta_customer.email == EMAIL


async def test_shop_redact_erases_every_row_of_that_shop_only(
    app: RunningApp, shops: TwoShops, database_url: str
) -> None:
    # given: both shops have exports, audits, deliveries, credentials and an install in progress
    await _request_data(app, ALPHA, BETA)
    for domain in (ALPHA, BETA):
        assert (await app.client.get("/auth/install", params={"shop": domain})).status_code == 302
    beta_before = _rows_of_shop(database_url, shops.beta.id, BETA)
    assert _rows_of_shop(database_url, shops.alpha.id, ALPHA)
    # when
    response = await app.webhook("shop/redact", ALPHA, compliance_body("shop-redact", ALPHA))
    await app.drain()
    # then
    assert response.status_code == 200
    assert await app.shop(ALPHA) is None
    async with app.services.sessions() as session:
        for table in tenant_tables():
            count = await session.scalar(
                select(func.count()).select_from(table).where(table.c.shop_id == shops.alpha.id)
            )
            assert count == 0, table.name
    assert _rows_of_shop(database_url, shops.alpha.id, ALPHA) == {}
    assert _rows_of_shop(database_url, shops.beta.id, BETA) == beta_before
    [credential] = await app.rows(ShopCredential, shops.beta)
    assert "shpat_beta" in app.services.cipher.decrypt(credential.ciphertext)


def test_tenant_tables_are_every_table_with_a_shop_id(database_url: str) -> None:
    inspected = {name for name, columns in columns_by_table(database_url).items() if "shop_id" in columns}
    assert {table.name for table in tenant_tables()} == inspected
    assert {
        "shop_credentials",
        "webhook_deliveries",
        "customer_data_exports",
        "compliance_audits",
    } <= inspected


def _rows_of_shop(database_url: str, shop_id: int | None, domain: str) -> dict[str, list[dict[str, object]]]:
    """Rows that belong to the shop in any table, found by inspection: keyed by ``shop_id``, the shop row
    itself, or naming the shop's domain in any column."""
    found: dict[str, list[dict[str, object]]] = {}
    for table, rows in all_rows(database_url).items():
        mine = [
            row
            for row in rows
            if row.get("shop_id") == shop_id
            or (table == "shops" and row.get("id") == shop_id)
            or any(isinstance(value, str) and domain in value for value in row.values())
        ]
        if mine:
            found[table] = mine
    return found


# What a customers/redact leaves: every spelling of the customer's numbers, emails and addresses, the
# conversations they had without being linked, and the bytes of the SQLite file ------------------------

MOBILE = "+817021631386"
LANDLINE = "03-1234-5678"  # the phone on the customer's address in the mirror: +81312345678
OTHER_CUSTOMER_ID = 555001
SPELLINGS = (
    "07021631386",
    "070 2163 1386",
    "817021631386",
    "+81 70-2163-1386",
    "+81 (0)70 2163 1386",
    "０７０－２１６３－１３８６",
    "０７０２１６３１３８６",
    "(070) 2163-1386",
    "070(2163)1386",
    "＋８１　７０　２１６３　１３８６",
    "070ー2163ー1386",
    "03 1234 5678",
    "0312345678",
)
JAPANESE_ADDRESS = resources.Address(
    name="山田 花子",
    address1="神南1-2-3",
    address2="パークビル101",
    city="渋谷区",
    province="東京都",
    zip="150-0041",
    country_code="JP",
    phone=LANDLINE,
)
ENGLISH_ADDRESS = resources.Address(
    name="Hanako Yamada", address1="1 Elm St", address2="Apt 2", city="Springfield", zip="62704"
)
# Normalised (no spaces, no dashes, ASCII width, lower case): none of these may be left anywhere.
ADDRESS_PARTS = ("神南123", "パークビル101", "1500041", "1elmst", "apt2", "springfield62704")
REDACTED = "[redacted]"


def _redact_body(shop: str) -> bytes:
    customer = {"id": CUSTOMER_ID, "email": EMAIL, "phone": MOBILE}
    return json.dumps(
        {"shop_id": 954889, "shop_domain": shop, "customer": customer, "orders_to_redact": [299938]}
    ).encode()


def _squeezed(text: str) -> str:
    """Text as the address checks compare it: NFKC, lower case, without spaces or dashes."""
    return re.sub(r"[\s\-‐−ー,、]", "", unicodedata.normalize("NFKC", text)).lower()


def _nsn_left(text: str) -> bool:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text))
    return "7021631386" in digits or "312345678" in digits


async def _japanese_customer(app: RunningApp, shop: Shop) -> int:
    """A Japanese shop's customer in the mirror, with their address, and an order shipped elsewhere."""
    assert shop.id is not None
    when = datetime(2026, 11, 1, tzinfo=UTC)
    async with transaction(app.services.sessions) as session:
        await session.execute(update(Shop).where(col(Shop.id) == shop.id).values(country_code="JP"))
        await mirror_writes.upsert_customers(
            session,
            shop_id=shop.id,
            customers=[
                resources.Customer(
                    shopify_id=CUSTOMER_ID,
                    updated_at=when,
                    first_name="花子",
                    last_name="山田",
                    email=EMAIL,
                    phone=MOBILE,
                    default_address=JAPANESE_ADDRESS,
                )
            ],
            synced_at=when,
        )
        await mirror_writes.upsert_orders(
            session,
            shop_id=shop.id,
            orders=[
                resources.Order(
                    shopify_id=299938,
                    name="#1001",
                    created_at=when,
                    updated_at=when,
                    customer_shopify_id=CUSTOMER_ID,
                    email=EMAIL,
                    shipping_address=ENGLISH_ADDRESS,
                    total_price="3980",
                )
            ],
            synced_at=when,
        )
        order_id = await session.scalar(
            select(col(Order.id)).where(col(Order.shop_id) == shop.id, col(Order.shopify_id) == 299938)
        )
    assert order_id is not None
    return int(order_id)


async def _conversation(
    app: RunningApp,
    shop: Shop,
    *,
    contact: Contact,
    messages: Sequence[tuple[AuthorType, str]],
    customer_id: int | None = None,
    subject: str = "お問い合わせ",
) -> int:
    """A contact's ticket with its messages (linked to ``customer_id`` when given)."""
    assert shop.id is not None
    async with transaction(app.services.sessions) as session:
        contact.shop_id = shop.id
        session.add(contact)
        await session.flush()
        assert contact.id is not None
        ticket = Ticket(
            shop_id=shop.id,
            contact_id=contact.id,
            subject=subject,
            customer_shopify_id=customer_id,
            link_reason=LinkReason.AGENT if customer_id else None,
            message_count=len(messages),
        )
        session.add(ticket)
        await session.flush()
        assert ticket.id is not None
        session.add_all(
            Message(shop_id=shop.id, ticket_id=ticket.id, author_type=author, body=body)
            for author, body in messages
        )
        return ticket.id


async def _bot_traces(app: RunningApp, shop: Shop, ticket_id: int, order_id: int | None) -> None:
    """What the bot and the widget leave beside a conversation: a decision, an attempt at proving an
    order (and the proof), the widget's session; and the bot's handoff tag."""
    assert shop.id is not None
    async with transaction(app.services.sessions) as session:
        session.add(TicketTag(ticket_id=ticket_id, tag="bot-handoff", shop_id=shop.id))
        session.add(
            BotDecision(
                shop_id=shop.id,
                ticket_id=ticket_id,
                intent="order_status",
                confidence=0.9,
                language="ja",
                verification=Verification.ORDER_DETAILS,
                action=DecisionAction.REPLY,
                reply="ご注文#1001は発送済みです",
                reason="verified",
            )
        )
        session.add(VerificationAttempt(shop_id=shop.id, ticket_id=ticket_id, source="ip:203.0.113.9"))
        if order_id is not None:
            session.add(
                TicketVerification(
                    shop_id=shop.id, ticket_id=ticket_id, order_id=order_id, method="order_details"
                )
            )
        session.add(
            WidgetSession(
                shop_id=shop.id,
                ticket_id=ticket_id,
                token_digest=f"{ticket_id:064d}",
                expires_at=datetime(2099, 1, 1, tzinfo=UTC),
            )
        )


async def _bodies(app: RunningApp, ticket_id: int) -> list[str]:
    async with app.services.sessions() as session:
        query = select(col(Message.body)).where(col(Message.ticket_id) == ticket_id).order_by(col(Message.id))
        return list((await session.execute(query)).scalars())


async def _redact(app: RunningApp) -> None:
    response = await app.webhook("customers/redact", ALPHA, _redact_body(ALPHA))
    assert response.status_code == 200
    await app.drain()


async def test_customers_redact_removes_every_spelling_of_the_customers_numbers(
    app: RunningApp, shops: TwoShops
) -> None:
    # given: agent notes on the customer's own ticket, and another customer's ticket quoting the numbers
    await _japanese_customer(app, shops.alpha)
    mine = await _conversation(
        app,
        shops.alpha,
        contact=Contact(email=EMAIL),
        customer_id=CUSTOMER_ID,
        messages=[
            (AuthorType.CUSTOMER, "折り返しお願いします"),
            *((AuthorType.NOTE, f"折返し先 {spelling} (午後)") for spelling in SPELLINGS),
            (AuthorType.AGENT, "Shall we call 070 2163 1386?"),
        ],
    )
    theirs = await _conversation(
        app,
        shops.alpha,
        contact=Contact(email="spouse@example.jp", name="代理 ０７０２１６３１３８６"),
        customer_id=OTHER_CUSTOMER_ID,
        subject="夫の番号は 07021631386 です",
        messages=[
            *((AuthorType.CUSTOMER, f"夫の番号は{spelling}です") for spelling in SPELLINGS),
            (AuthorType.CUSTOMER, "私の番号は 080-1111-2222 です"),
            (AuthorType.NOTE, "注文#1002 (数量 3) 2026-11-24"),
        ],
    )
    # when
    await _redact(app)
    # then
    assert await _bodies(app, mine) == [
        REDACTED,
        *(f"折返し先 {REDACTED} (午後)" for _ in SPELLINGS),
        f"Shall we call {REDACTED}?",
    ]
    assert await _bodies(app, theirs) == [
        *(f"夫の番号は{REDACTED}です" for _ in SPELLINGS),
        "私の番号は 080-1111-2222 です",
        "注文#1002 (数量 3) 2026-11-24",
    ]
    [ticket] = [t for t in await app.rows(Ticket, shops.alpha) if t.id == theirs]
    assert (ticket.subject, ticket.customer_shopify_id) == (f"夫の番号は {REDACTED} です", OTHER_CUSTOMER_ID)
    [contact] = [c for c in await app.rows(Contact, shops.alpha) if c.id == ticket.contact_id]
    assert (contact.name, contact.email) == (f"代理 {REDACTED}", "spouse@example.jp")


async def test_customers_redact_removes_the_customers_emails_and_addresses_in_any_spacing_or_width(
    app: RunningApp, shops: TwoShops
) -> None:
    # given
    await _japanese_customer(app, shops.alpha)
    notes = (
        "送り先: 〒150-0041 東京都渋谷区神南1-2-3 パークビル101",
        "東京都 渋谷区 神南１－２－３　パークビル１０１ に再送",
        "〒1500041 渋谷区 宛",
        "ｼﾌﾞﾔ? no: 神南 1‐2‐3、ﾊﾟｰｸﾋﾞﾙ101",
        "ship to 1 elm   st,  APT 2, SPRINGFIELD 62704 please",
        "Springfield, 62704",
        "メール JOHN@Example.COM に送付",
        "ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    )
    mine = await _conversation(
        app,
        shops.alpha,
        contact=Contact(email=EMAIL),
        customer_id=CUSTOMER_ID,
        messages=[(AuthorType.CUSTOMER, "住所変更です"), *((AuthorType.NOTE, note) for note in notes)],
    )
    unrelated = await _conversation(
        app,
        shops.alpha,
        contact=Contact(email="neighbour@example.jp"),
        customer_id=OTHER_CUSTOMER_ID,
        messages=[(AuthorType.CUSTOMER, "〒150-0042 東京都渋谷区宇田川町2-1 パークビル102 / 1 Elm Street")],
    )
    # when
    await _redact(app)
    # then
    bodies = await _bodies(app, mine)
    left = [(body, part) for body in bodies for part in ADDRESS_PARTS if part in _squeezed(body)]
    assert left == []
    assert not [body for body in bodies if "john@example.com" in unicodedata.normalize("NFKC", body).lower()]
    assert [body.split(REDACTED)[0] for body in bodies[1:]] == [
        "送り先: 〒",
        "",
        "〒",
        "ｼﾌﾞﾔ? no: ",
        "ship to ",
        "",
        "メール ",
        "",
    ]
    assert bodies[5].endswith(" please") and bodies[7].endswith(" に送付")
    assert await _bodies(app, unrelated) == [
        "〒150-0042 東京都渋谷区宇田川町2-1 パークビル102 / 1 Elm Street"
    ]


async def test_customers_redact_erases_unlinked_conversations_where_the_shopper_gave_the_email_or_phone(
    app: RunningApp, shops: TwoShops
) -> None:
    # given: conversations never linked to the customer, where the shopper typed their email or phone
    order_id = await _japanese_customer(app, shops.alpha)
    typed_email = await _conversation(
        app,
        shops.alpha,
        contact=Contact(),
        messages=[
            (AuthorType.CUSTOMER, "注文#1001の状況は? John@Example.com です"),
            (AuthorType.BOT, "ご注文#1001は発送済みです"),
        ],
    )
    typed_phone = await _conversation(
        app,
        shops.alpha,
        contact=Contact(),
        messages=[(AuthorType.CUSTOMER, "#1001 電話は０７０ー２１６３ー１３８６")],
    )
    contact_email = await _conversation(
        app, shops.alpha, contact=Contact(email=EMAIL, name="花子"), messages=[(AuthorType.CUSTOMER, "hi")]
    )
    # a contact whose phone was kept as typed (the shop had no country then)
    contact_phone = await _conversation(
        app, shops.alpha, contact=Contact(phone="070 2163 1386"), messages=[(AuthorType.CUSTOMER, "hello")]
    )
    erased = {typed_email, typed_phone, contact_email, contact_phone}
    # and the customer's own linked conversation, a stranger's, another person quoting the email, the
    # other shop's
    mine = await _conversation(
        app,
        shops.alpha,
        contact=Contact(email=EMAIL),
        customer_id=CUSTOMER_ID,
        messages=[(AuthorType.CUSTOMER, "#1001?"), (AuthorType.BOT, "発送済みです")],
    )
    stranger = await _conversation(
        app, shops.alpha, contact=Contact(), messages=[(AuthorType.CUSTOMER, "#1003 電話は 080-1111-2222")]
    )
    friend = await _conversation(
        app,
        shops.alpha,
        contact=Contact(email="friend@example.jp"),
        messages=[(AuthorType.CUSTOMER, "友人 john@example.com の代わりに問い合わせます")],
    )
    beta_ticket = await _conversation(
        app, shops.beta, contact=Contact(), messages=[(AuthorType.CUSTOMER, f"#1001 {EMAIL}")]
    )
    for ticket_id in (*erased, mine, stranger, friend):
        await _bot_traces(app, shops.alpha, ticket_id, order_id)
    await _bot_traces(app, shops.beta, beta_ticket, None)
    # when
    await _redact(app)
    # then: those conversations are gone with everything derived from them
    tickets = {t.id: t for t in await app.rows(Ticket, shops.alpha)}
    assert set(tickets) == {mine, stranger, friend}
    for model in (Message, BotDecision, VerificationAttempt, TicketVerification, WidgetSession, TicketTag):
        rows = await app.rows(model, shops.alpha)
        assert {row.ticket_id for row in rows} <= {mine, stranger, friend}, model.__name__
    assert {row.ticket_id for row in await app.rows(TicketTag, shops.alpha)} == {mine, stranger, friend}
    contacts = await app.rows(Contact, shops.alpha)
    assert {c.id for c in contacts} == {t.contact_id for t in tickets.values()}
    assert [(c.email, c.phone, c.name) for c in contacts if c.id == tickets[mine].contact_id] == [
        (None, None, None)
    ]
    # the customer's own conversation stays (the shop's record) without what tied it to them
    assert await _bodies(app, mine) == [REDACTED, "発送済みです"]
    for model in (VerificationAttempt, TicketVerification, WidgetSession):
        assert [row for row in await app.rows(model, shops.alpha) if row.ticket_id == mine] == [], model
    # the stranger's conversation and its traces are untouched; the friend's loses only the email
    assert await _bodies(app, stranger) == ["#1003 電話は 080-1111-2222"]
    for model in (BotDecision, VerificationAttempt, TicketVerification, WidgetSession):
        assert [row.ticket_id for row in await app.rows(model, shops.alpha) if row.ticket_id == stranger] == [
            stranger
        ], model
    assert await _bodies(app, friend) == [f"友人 {REDACTED} の代わりに問い合わせます"]
    assert [c.email for c in contacts if c.id == tickets[friend].contact_id] == ["friend@example.jp"]
    assert await _bodies(app, beta_ticket) == [f"#1001 {EMAIL}"]
    assert len(await app.rows(WidgetSession, shops.beta)) == 1


def test_every_table_that_points_at_a_conversation_is_erased_or_kept_on_purpose() -> None:
    """A new table holding rows of a ticket or a contact must say what a redact does with them."""
    pointing = {
        (table.name, key.column.table.name)
        for table in SQLModel.metadata.sorted_tables
        for key in table.foreign_keys
        if key.column.table.name in {"tickets", "contacts"}
    }
    handled = {(name, "tickets") for name in (*CONVERSATION_RECORDS, *CONVERSATION_TRACES)}
    # a contact's LINE users are deleted with the contact, or when the contact is emptied (_settle_contacts);
    # a stock subscription goes with its ticket (a trace), and with its contact
    # an order action stays (the shop's record of what was done to an order; an address or a note in it is
    # blanked: test_customers_redact_blanks_the_address_of_an_order_action_and_keeps_the_refund)
    assert pointing == handled | {
        ("order_actions", "tickets"),
        # the insights' facts of a ticket hold no personal data; a satisfaction survey keeps its score and
        # loses its comment (test_customers_redact_blanks_the_address_of_an_order_action_and_keeps_the_refund)
        ("insight_tickets", "tickets"),
        ("csat_surveys", "tickets"),
        ("tickets", "contacts"),
        ("line_users", "contacts"),
        ("stock_subscriptions", "contacts"),
    }


def _file_bytes(database_url: str) -> bytes:
    path = Path(database_url.split("///", 1)[1])
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _found_in(held: bytes, needles: Sequence[str]) -> list[str]:
    """The needles in the bytes, as text or as JSON columns keep them (non-ASCII escaped)."""
    return [
        needle for needle in needles if needle.encode() in held or json.dumps(needle)[1:-1].encode() in held
    ]


async def test_after_a_customers_redact_the_sqlite_file_and_its_wal_hold_none_of_the_customers_data(
    app: RunningApp, shops: TwoShops, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps dead tuples until VACUUM: see the README")
    # given: the mirror, conversations and notes hold the customer's email, phone and addresses
    order_id = await _japanese_customer(app, shops.alpha)
    mine = await _conversation(
        app,
        shops.alpha,
        contact=Contact(email=EMAIL, phone=MOBILE, name="山田 花子"),
        customer_id=CUSTOMER_ID,
        messages=[
            (AuthorType.CUSTOMER, f"{EMAIL} 070-2163-1386 神南1-2-3 パークビル101"),
            (AuthorType.NOTE, "1 Elm St, Apt 2, Springfield 62704 / 07021631386"),
        ],
    )
    unlinked = await _conversation(
        app, shops.alpha, contact=Contact(), messages=[(AuthorType.CUSTOMER, f"#1001 {EMAIL}")]
    )
    for ticket_id in (mine, unlinked):
        await _bot_traces(app, shops.alpha, ticket_id, order_id)
    needles = [
        EMAIL,
        MOBILE,
        "070-2163-1386",
        "07021631386",
        "神南1-2-3",
        "パークビル101",
        "1 Elm St",
        "山田",
    ]
    assert _found_in(_file_bytes(database_url), needles) == needles
    # when
    await _redact(app)
    # then
    assert _found_in(_file_bytes(database_url), needles) == []


async def test_after_a_shop_redact_the_sqlite_file_and_its_wal_hold_none_of_the_shops_data(
    app: RunningApp, shops: TwoShops, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps dead tuples until VACUUM: see the README")
    # given
    await _japanese_customer(app, shops.alpha)
    await _conversation(
        app, shops.alpha, contact=Contact(email=EMAIL), messages=[(AuthorType.CUSTOMER, "パークビル101")]
    )
    needles = [ALPHA, EMAIL, "神南1-2-3", "パークビル101", "1 Elm St", "山田"]
    assert _found_in(_file_bytes(database_url), needles) == needles
    # when
    response = await app.webhook("shop/redact", ALPHA, compliance_body("shop-redact", ALPHA))
    await app.drain()
    # then
    assert response.status_code == 200
    held = _file_bytes(database_url)
    assert _found_in(held, needles) == []
    assert BETA.encode() in held


# Spellings of the customer's mobile: national or international, with or without the 0 after +81, in
# groups joined by nothing, spaces, dashes of every width, dots or brackets, with full-width digits.
_SEPARATORS = ("", " ", "-", "－", "‐", "−", "ー", " - ", "　", ".")
_SURROUNDING = st.text(
    alphabet=st.characters(
        codec="utf-8",
        categories=("L", "Zs"),
        exclude_characters="ー",
    )
    | st.sampled_from(list(",:;!?。、「」『』\n")),
    max_size=12,
)


@st.composite
def _mobile_spellings(draw: st.DrawFn) -> str:
    form = draw(st.sampled_from(["national", "international", "international (0)", "bare", "domestic dial"]))
    area = draw(st.sampled_from(["{}", "({})", "（{}）"]))
    groups = {
        "national": ["0" + area.format("70"), "2163", "1386"],
        "international": ["+81", area.format("70"), "2163", "1386"],
        "international (0)": ["+81", "(0)70", "2163", "1386"],
        "bare": ["81", area.format("70"), "2163", "1386"],
        "domestic dial": [area.format("070"), "2163", "1386"],
    }[form]
    text = groups[0]
    for group in groups[1:]:
        text += draw(st.sampled_from(_SEPARATORS)) + group
    wide = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(
        chr(ord(ch) + 0xFEE0) if flag and (ch.isdigit() or ch == "+") else ch
        for ch, flag in zip(text, wide, strict=True)
    )


@hypothesis.settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(prefix=_SURROUNDING, spelling=_mobile_spellings(), suffix=_SURROUNDING)
async def test_no_spelling_of_the_customers_mobile_survives_a_redact(
    app: RunningApp, shops: TwoShops, prefix: str, spelling: str, suffix: str
) -> None:
    # given: the customer's ticket with an agent's note, and another customer's message, quoting it
    if not await app.rows(Customer, shops.alpha):
        await _japanese_customer(app, shops.alpha)
    text = f"{prefix} {spelling} {suffix}"
    note = await _conversation(
        app,
        shops.alpha,
        contact=Contact(),
        customer_id=CUSTOMER_ID,
        messages=[(AuthorType.CUSTOMER, "?"), (AuthorType.NOTE, text)],
    )
    quoted = await _conversation(
        app,
        shops.alpha,
        contact=Contact(),
        customer_id=OTHER_CUSTOMER_ID,
        messages=[(AuthorType.CUSTOMER, text)],
    )
    shop = await app.shop(ALPHA)
    assert shop is not None
    # when
    async with transaction(app.services.sessions) as session:
        await redact_customer(
            session,
            shop=shop,
            subject=CustomerSubject(shopify_customer_id=CUSTOMER_ID, email=EMAIL, phone=MOBILE),
            digest_key="digest-key",
        )
    # then
    for ticket_id in (note, quoted):
        body = (await _bodies(app, ticket_id))[-1]
        assert body == f"{prefix} {REDACTED} {suffix}"
        assert not _nsn_left(body)


def test_migrating_a_sqlite_file_once_wipes_what_was_deleted_before_secure_delete(tmp_path: Path) -> None:
    # given: a file where a row was deleted with secure_delete off (SQLite's default in some builds)
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA secure_delete=OFF")
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.execute("INSERT INTO notes VALUES (?), (?)", (f"call {EMAIL}", "x" * 5000))
    connection.execute("DELETE FROM notes")
    connection.close()
    assert EMAIL.encode() in path.read_bytes()
    # when
    migrate(f"sqlite+aiosqlite:///{path}")
    # then
    assert _found_in(_file_bytes(f"sqlite+aiosqlite:///{path}"), [EMAIL]) == []


async def test_customers_redact_blanks_the_address_of_an_order_action_and_keeps_the_refund(
    app: RunningApp, shops: TwoShops
) -> None:
    # given: on the customer's own ticket, an address change (their new address) and a refund
    await _japanese_customer(app, shops.alpha)
    mine = await _conversation(
        app,
        shops.alpha,
        contact=Contact(email=EMAIL),
        customer_id=CUSTOMER_ID,
        messages=[(AuthorType.CUSTOMER, "住所を変更してください")],
    )
    address = {"address1": "梅田1-1-1", "zip": "530-0001", "province": "大阪府", "phone": MOBILE}
    async with transaction(app.services.sessions) as session:
        for kind, parameters in ((ActionKind.ADDRESS, address), (ActionKind.REFUND, {"lines": [[1, 1]]})):
            session.add(
                OrderAction(
                    shop_id=shops.alpha.id or 0,
                    ticket_id=mine,
                    order_shopify_id=299938,
                    kind=kind,
                    parameters=parameters,
                    preview={"shown": parameters},
                    idempotency_key=f"key-{kind}",
                    expires_at=datetime.now(UTC),
                )
            )
    # and the satisfaction survey they answered with a comment
    async with transaction(app.services.sessions) as session:
        session.add(
            CsatSurvey(
                shop_id=shops.alpha.id or 0,
                ticket_id=mine,
                channel=Channel.EMAIL,
                language="ja",
                token_digest="0" * 64,
                resolved_at=datetime.now(UTC),
                score=2,
                comment="山田です、090-1234-5678 に電話ください",
            )
        )
    # when
    await _redact(app)
    # then: the address is gone from the action, which stays; the refund is the shop's record, untouched
    actions = {a.kind: a for a in await app.rows(OrderAction, shops.alpha)}
    assert actions[ActionKind.ADDRESS].parameters == {"redacted": True}
    assert actions[ActionKind.ADDRESS].preview == {"redacted": True}
    assert actions[ActionKind.REFUND].parameters == {"lines": [[1, 1]]}
    # and the survey keeps its score without the words
    [survey] = await app.rows(CsatSurvey, shops.alpha)
    assert (survey.score, survey.comment) == (2, None)
