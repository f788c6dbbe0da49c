"""The OpenAPI document says what the API does, one mismatch at a time (each was found by schemathesis;
test_api_contract.py runs it over the whole API): the ranges of ids, the types and words of query
parameters, strict types in bodies, the patterns text must match, and every refusal an operation gives."""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest
from sqlalchemy import func, select

from shop_app.answers.understanding.model import AUTO_INTENTS
from shop_app.models import Contact, Message, Ticket
from shop_app.models.answers import LANGUAGES
from shop_app.routes.api import ENDPOINTS
from shop_app.schemas.tickets import BLANK
from tests.helpdesk.conftest import ALPHA, BETA, Desk

pytestmark = pytest.mark.anyio

TICKET = "/api/v1/tickets/{ticket_id}"


async def _document(desk: Desk) -> dict[str, Any]:
    return dict((await desk.client.get("/api/v1/openapi.json")).json())


def _declared(document: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(status) for status in document["paths"][path][method.lower()]["responses"]}


def _parameter(document: dict[str, Any], method: str, path: str, name: str) -> dict[str, Any]:
    parameters = document["paths"][path][method.lower()].get("parameters", [])
    return dict(next(p["schema"] for p in parameters if p["name"] == name))


def _shape(document: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(document["components"]["schemas"][name]["properties"])


async def _messages(desk: Desk) -> int:
    async with desk.services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Message))).scalar_one())


async def test_row_ids_above_32_bits_are_refused_with_the_400_the_document_declares(desk: Desk) -> None:
    document = await _document(desk)
    too_big = await desk.client.get(f"/api/v1/tickets/{2**31}", headers=desk.key(ALPHA))
    largest = await desk.client.get(f"/api/v1/tickets/{2**31 - 1}", headers=desk.key(ALPHA))

    assert too_big.status_code == 400 and too_big.json()["error"]["code"] == "invalid_id"
    assert largest.status_code == 404
    for endpoint in ENDPOINTS:
        for name in re.findall(r"{(\w+_id)}", endpoint.path):
            schema = _parameter(document, endpoint.method, endpoint.path, name)
            assert schema["minimum"] == 1, (endpoint.path, name)
            assert schema["maximum"] == (2**63 - 1 if name in {"customer_id", "order_id"} else 2**31 - 1), (
                endpoint.path,
                name,
            )
            assert {400, 404} <= _declared(document, endpoint.method, endpoint.path)


async def test_shopify_ids_take_64_bits_and_an_unknown_one_is_a_declared_404(desk: Desk) -> None:
    document = await _document(desk)
    path = "/api/v1/customers/{customer_id}/profile"
    answers = [
        await desk.client.get(f"/api/v1/customers/{customer_id}/profile", headers=desk.key(ALPHA))
        for customer_id in (2**31, 2**63 - 1, 2**63)
    ]

    assert [a.status_code for a in answers] == [404, 404, 400]
    assert _parameter(document, "GET", path, "customer_id")["format"] == "int64"
    assert {400, 404} <= _declared(document, "GET", path)


async def test_another_shops_contact_is_a_404_the_document_declares(desk: Desk) -> None:
    beta_ticket = await desk.open_ticket(BETA)
    document = await _document(desk)
    url = f"/api/v1/contacts/{beta_ticket['contact']['id']}"
    csrf = await desk.sign_in("admin@alpha.test")

    read = await desk.client.get(url, headers=desk.key(ALPHA))
    changed = await desk.client.patch(url, json={"name": "Mallory"}, headers=csrf)

    assert (read.status_code, changed.status_code) == (404, 404)
    assert 404 in _declared(document, "GET", "/api/v1/contacts/{contact_id}")
    assert 404 in _declared(document, "PATCH", "/api/v1/contacts/{contact_id}")
    async with desk.services.sessions() as session:
        assert (await session.get_one(Contact, beta_ticket["contact"]["id"])).name == "Hanako"


async def test_a_boolean_or_a_number_sent_as_another_type_is_refused(desk: Desk) -> None:
    ticket = await desk.open_ticket()
    before = await _messages(desk)
    admin = await desk.sign_in("admin@alpha.test")
    answer_url = f"/api/v1/tickets/{ticket['id']}/answer"

    refused = [
        await desk.client.post(answer_url, json={"post": 0}, headers=desk.key(ALPHA)),
        await desk.client.post(answer_url, json={"post": "true"}, headers=desk.key(ALPHA)),
        await desk.client.post(answer_url, json={"message_id": "1"}, headers=desk.key(ALPHA)),
        await desk.client.put("/api/v1/answer-settings", json={"exact_stock_counts": 1}, headers=admin),
        await desk.client.post("/api/v1/api-keys", json={"name": "bot", "trusted": "yes"}, headers=admin),
        await desk.client.patch(f"/api/v1/tickets/{ticket['id']}", json={"assignee_id": True}, headers=admin),
    ]
    whole = await desk.client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"assignee_id": float(desk.agent_ids["agent@alpha.test"])},  # 5.0 is an integer to JSON Schema
        headers=admin,
    )

    assert [a.status_code for a in refused] == [400] * len(refused)
    assert {a.json()["error"]["code"] for a in refused} == {"invalid_request"}
    assert await _messages(desk) == before
    assert whole.status_code == 200 and whole.json()["assignee"]["id"] == desk.agent_ids["agent@alpha.test"]


async def test_text_is_refused_exactly_when_the_documents_pattern_refuses_it(desk: Desk) -> None:
    ticket = await desk.open_ticket()
    document = await _document(desk)
    pattern = _shape(document, "MessageIn")["body"]["pattern"]
    key_pattern = _shape(document, "ApiKeyIn")["name"]["pattern"]
    admin = await desk.sign_in("admin@alpha.test")

    for text in ("hi", "  hi  ", "   ", "\u3000\n\x85", "\ufeff", "a\x00b", "\x1c"):
        posted = await desk.client.post(
            f"/api/v1/tickets/{ticket['id']}/messages",
            json={"body": text, "author_type": "bot"},
            headers=desk.key(ALPHA),
        )
        named = await desk.client.post("/api/v1/api-keys", json={"name": text}, headers=admin)
        assert (posted.status_code == 201) == (re.search(pattern, text) is not None), repr(text)
        assert (named.status_code == 201) == (re.search(key_pattern, text) is not None), repr(text)


def test_the_blank_characters_of_the_patterns_are_those_python_strips() -> None:
    blank = re.compile(f"[{BLANK}]")
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if bool(blank.fullmatch(c)) != c.isspace()] == []


async def test_query_parameters_are_declared_with_the_types_and_words_the_api_takes(desk: Desk) -> None:
    ticket = await desk.open_ticket()
    document = await _document(desk)
    key = desk.key(ALPHA)

    assert _parameter(document, "GET", "/api/v1/tickets", "limit") == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 25,
    }
    assert _parameter(document, "GET", "/api/v1/tickets", "status")["enum"] == ["open", "pending", "resolved"]
    assert _parameter(document, "GET", TICKET, "locale")["enum"] == ["en", "ja"]
    assert _parameter(document, "GET", TICKET + "/messages", "after_id")["maximum"] == 2**31 - 1
    for params in ({"status": ""}, {"limit": ""}, {"limit": "101"}, {"view": "everything"}, {"q": "a\x00"}):
        refused = await desk.client.get("/api/v1/tickets", params=params, headers=key)
        assert refused.status_code == 400, params
    wrong_locale = await desk.client.get(
        f"/api/v1/tickets/{ticket['id']}", params={"locale": "fr"}, headers=key
    )
    assert wrong_locale.status_code == 400


async def test_any_cursor_of_the_declared_shape_is_a_place_in_the_list(desk: Desk) -> None:
    first = await desk.open_ticket(message="first")
    second = await desk.open_ticket(message="second", contact={"email": "taro@example.com"})
    document = await _document(desk)
    pattern = _parameter(document, "GET", "/api/v1/tickets", "cursor")["pattern"]
    key = desk.key(ALPHA)

    page = (await desk.client.get("/api/v1/tickets", params={"limit": 1}, headers=key)).json()
    rest = await desk.client.get("/api/v1/tickets", params={"cursor": page["next_cursor"]}, headers=key)
    oldest = await desk.client.get("/api/v1/tickets", params={"cursor": "1-1"}, headers=key)
    past_every_id = await desk.client.get(
        "/api/v1/tickets", params={"cursor": "9999999999999999-9999999999"}, headers=key
    )
    garbage = await desk.client.get("/api/v1/tickets", params={"cursor": "garbage!"}, headers=key)

    assert re.search(pattern, page["next_cursor"])
    assert [t["id"] for t in page["tickets"]] == [second["id"]]
    assert [t["id"] for t in rest.json()["tickets"]] == [first["id"]]
    assert oldest.status_code == 200 and oldest.json()["tickets"] == []
    assert [t["id"] for t in past_every_id.json()["tickets"]] == [second["id"], first["id"]]
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "invalid_cursor"


async def test_a_search_with_an_at_sign_that_is_no_address_looks_in_subjects(desk: Desk) -> None:
    ticket = await desk.open_ticket(subject="Re: size@M question")

    found = await desk.client.get("/api/v1/tickets", params={"q": "size@M"}, headers=desk.key(ALPHA))
    customers = await desk.client.get("/api/v1/customers", params={"q": "size@"}, headers=desk.key(ALPHA))

    assert found.status_code == 200
    assert [t["id"] for t in found.json()["tickets"]] == [ticket["id"]]
    assert customers.status_code == 200


async def test_reply_template_keys_and_languages_are_declared_as_the_words_they_are(desk: Desk) -> None:
    document = await _document(desk)
    path = "/api/v1/reply-templates/{key}/{language}"
    admin = await desk.sign_in("admin@alpha.test")

    unknown = await desk.client.put("/api/v1/reply-templates/7/ja", json={"body": "hi"}, headers=admin)

    assert "order_in_transit" in _parameter(document, "PUT", path, "key")["enum"]
    assert _parameter(document, "PUT", path, "language")["enum"] == ["ja", "en"]
    assert unknown.status_code == 400 and 400 in _declared(document, "PUT", path)
    preview = _shape(document, "TemplatePreviewIn")
    assert "$ref" in preview["key"] or "enum" in preview["key"]
    assert preview["language"]["enum"] == list(LANGUAGES)


async def test_every_operation_declares_the_refusals_of_its_kind(desk: Desk) -> None:
    document = await _document(desk)
    for endpoint in ENDPOINTS:
        declared = _declared(document, endpoint.method, endpoint.path)
        if endpoint.auth:
            assert 401 in declared, endpoint.path
        if endpoint.auth and endpoint.method not in ("GET", "HEAD"):
            assert 403 in declared, (endpoint.method, endpoint.path)  # the console's CSRF header
        if endpoint.body is not None:
            assert {400, 413} <= declared, (endpoint.method, endpoint.path)
    ticket = await desk.open_ticket()
    await desk.sign_in("agent@alpha.test")
    no_csrf = await desk.client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "hi", "kind": "reply"}
    )
    assert no_csrf.status_code == 403
    assert 403 in _declared(document, "POST", TICKET + "/messages")


async def test_a_body_over_the_limit_is_a_declared_413(desk: Desk) -> None:
    document = await _document(desk)
    huge = await desk.client.post(
        "/api/v1/tickets", json={"contact": {}, "message": "x" * 70_000}, headers=desk.key(ALPHA)
    )

    assert huge.status_code == 413 and huge.json()["error"]["code"] == "body_too_large"
    assert 413 in _declared(document, "POST", "/api/v1/tickets")


async def test_a_caller_writing_as_someone_it_is_not_is_a_declared_403(desk: Desk) -> None:
    ticket = await desk.open_ticket()
    document = await _document(desk)
    url = f"/api/v1/tickets/{ticket['id']}/messages"
    before = await _messages(desk)

    as_agent = await desk.client.post(url, json={"body": "hi", "kind": "reply"}, headers=desk.key(ALPHA))
    csrf = await desk.sign_in("agent@alpha.test")
    as_customer = await desk.client.post(url, json={"body": "hi", "author_type": "customer"}, headers=csrf)
    mine = await desk.client.get("/api/v1/tickets", params={"view": "mine"}, headers=desk.key(ALPHA))

    assert [a.status_code for a in (as_agent, as_customer, mine)] == [403, 403, 403]
    assert as_agent.json()["error"]["code"] == "author_not_allowed"
    assert mine.json()["error"]["code"] == "agents_only"
    assert await _messages(desk) == before
    assert 403 in _declared(document, "POST", TICKET + "/messages")
    assert 403 in _declared(document, "GET", "/api/v1/tickets")


async def test_content_that_cannot_be_used_is_a_declared_422(desk: Desk) -> None:
    ticket = await desk.open_ticket()
    document = await _document(desk)
    admin = await desk.sign_in("admin@alpha.test")

    template = await desk.client.put(
        "/api/v1/reply-templates/order_in_transit/ja", json={"body": "{{ nope }}"}, headers=admin
    )
    preview = await desk.client.post(
        "/api/v1/reply-templates/preview",
        json={"key": "order_in_transit", "language": "en", "body": "{% if %}"},
        headers=admin,
    )
    phone = await desk.client.patch(
        f"/api/v1/contacts/{ticket['contact']['id']}", json={"phone": "12"}, headers=admin
    )
    no_password = await desk.client.post("/api/v1/agents", json={"email": "new@alpha.test"}, headers=admin)

    assert [a.status_code for a in (template, preview, phone, no_password)] == [422] * 4
    assert [a.json()["error"]["code"] for a in (template, preview, phone, no_password)] == [
        "invalid_template",
        "invalid_template",
        "invalid_phone",
        "password_required",
    ]
    assert 422 in _declared(document, "PUT", "/api/v1/reply-templates/{key}/{language}")
    assert 422 in _declared(document, "POST", "/api/v1/reply-templates/preview")
    assert 422 in _declared(document, "PATCH", "/api/v1/contacts/{contact_id}")
    assert 422 in _declared(document, "POST", "/api/v1/agents")


async def test_an_admin_removing_themselves_is_a_declared_409(desk: Desk) -> None:
    document = await _document(desk)
    admin = await desk.sign_in("admin@alpha.test")

    answer = await desk.client.delete(f"/api/v1/agents/{desk.agent_ids['admin@alpha.test']}", headers=admin)

    assert answer.status_code == 409 and answer.json()["error"]["code"] == "cannot_remove_self"
    assert 409 in _declared(document, "DELETE", "/api/v1/agents/{agent_id}")


async def test_an_email_must_be_an_address_as_the_document_says(desk: Desk) -> None:
    document = await _document(desk)
    before = await _messages(desk)

    answers = [
        await desk.client.post(
            "/api/v1/tickets", json={"contact": {"email": email}, "message": "hi"}, headers=desk.key(ALPHA)
        )
        for email in ("", "   ", "no-store")
    ]

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert await _messages(desk) == before
    assert _shape(document, "ContactIn")["email"]["anyOf"][0]["format"] == "email"
    assert _shape(document, "AgentIn")["email"]["format"] == "email"
    async with desk.services.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Ticket))).scalar_one() == 0


async def test_a_new_agents_password_length_is_declared(desk: Desk) -> None:
    document = await _document(desk)
    admin = await desk.sign_in("admin@alpha.test")
    password = _shape(document, "AgentIn")["password"]["anyOf"][0]

    short = await desk.client.post(
        "/api/v1/agents", json={"email": "new@alpha.test", "password": "x" * 9}, headers=admin
    )
    enough = await desk.client.post(
        "/api/v1/agents", json={"email": "new@alpha.test", "password": "x" * 10}, headers=admin
    )

    assert password["minLength"] == 10 and password["maxLength"] == 1024
    assert (short.status_code, enough.status_code) == (400, 201)


async def test_answer_settings_declare_the_intents_they_take(desk: Desk) -> None:
    document = await _document(desk)
    admin = await desk.sign_in("admin@alpha.test")
    auto_reply = _shape(document, "AnswerSettingsIn")["auto_reply"]["anyOf"][0]

    unknown = await desk.client.put(
        "/api/v1/answer-settings", json={"auto_reply": {"cancel": True}}, headers=admin
    )

    assert set(auto_reply["propertyNames"]["enum"]) == {intent.value for intent in AUTO_INTENTS}
    assert unknown.status_code == 400
