"""Order details only to a verified conversation: a signed storefront session of the order's customer, a
trusted caller, or the order number with that order's email, phone or postal code, one of each kind and
none wrong. Proof lasts for that ticket only; a missing order, wrong details and several candidates get the
same neutral reply; trying many numbers is cut off per ticket and per source and discloses nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shop_app.answers import Trust
from shop_app.answers.verification import (
    MAX_FAILED_ATTEMPTS_PER_SOURCE,
    MAX_FAILED_ATTEMPTS_PER_TICKET,
)
from shop_app.database import transaction
from shop_app.models import Contact, DecisionAction, Verification
from tests.answers.answer_world import HANAKO, NOW, VISITOR, World, world

__all__ = ["world"]

YAMATO = {"number": "444413758703", "company": "ヤマト運輸"}
IN_TRANSIT = [{"display_status": "IN_TRANSIT", "tracking": [YAMATO]}]


@pytest.mark.anyio
async def test_order_number_with_the_orders_email_verifies_that_ticket_only(world: World) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)

    proved, ticket = await world.ask("Where is order #1001? My email is Hanako@Example.jp")
    again, _ = await world.ask("Any news on #1001 - where is it now?", ticket=ticket)
    elsewhere, _ = await world.ask("Where is order #1001?")

    assert proved.action == DecisionAction.REPLY
    assert proved.verification == Verification.ORDER_DETAILS
    assert proved.reply is not None
    assert "444413758703" in proved.reply
    assert again.verification == Verification.ORDER_DETAILS
    assert again.reason.startswith("would repeat itself")  # the same answer again goes to a person
    assert elsewhere.action == DecisionAction.ASK
    assert elsewhere.verification == Verification.NEEDED
    assert elsewhere.reply is not None
    assert "444413758703" not in elsewhere.reply


@pytest.mark.anyio
async def test_a_phone_in_another_spelling_or_the_postal_code_verifies(world: World) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)

    by_phone, _ = await world.ask("注文番号1001はいつ届きますか？電話番号は090-1234-5678です")
    by_postcode, _ = await world.ask("注文1001の配送状況を教えてください。郵便番号は１５０－０００１です")

    assert by_phone.verification == Verification.ORDER_DETAILS
    assert by_phone.action == DecisionAction.REPLY
    assert by_postcode.verification == Verification.ORDER_DETAILS
    assert by_postcode.action == DecisionAction.REPLY


@pytest.mark.anyio
async def test_proof_sent_after_the_bots_question_is_accepted_in_the_conversations_language(
    world: World,
) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)

    asked, ticket = await world.ask("注文番号1001の配送状況を教えてください")
    answered, _ = await world.ask("hanako@example.jp", ticket=ticket)

    assert asked.action == DecisionAction.ASK
    assert asked.reply is not None
    assert "メールアドレス" in asked.reply
    assert answered.action == DecisionAction.REPLY
    assert answered.language == "ja"
    assert answered.reply is not None
    assert "444413758703" in answered.reply


@pytest.mark.anyio
async def test_several_candidates_of_a_kind_verify_nothing_and_count_a_failure_each(world: World) -> None:
    # given an order, and a conversation offering its postcode among others
    await world.add_order(1001, shipments=IN_TRANSIT)
    wrong, _ = await world.ask("Where is order #1001? zip 999-9999")

    # when it names the order with two postcodes (the right one first), then with three emails
    several, ticket = await world.ask("Where is order #1001? 〒150-0001 〒160-0022", post=False)
    emails, _ = await world.ask(
        "#1001: hanako@example.jp, taro@example.com, Hanako@Example.jp, ken@example.net",
        ticket=ticket,
        post=False,
    )

    # then the first reads like wrong details, and five candidates exhaust the conversation's tries
    assert several.reply == wrong.reply
    assert (several.verification, several.action) == (Verification.FAILED, DecisionAction.ASK)
    assert several.order_id is None
    assert MAX_FAILED_ATTEMPTS_PER_TICKET <= 2 + 3  # two postcodes, then three distinct emails
    assert (emails.verification, emails.action) == (Verification.LIMITED, DecisionAction.HANDOFF)
    assert emails.order_id is None
    assert YAMATO["number"] not in (emails.reply or "")


@pytest.mark.anyio
async def test_a_right_detail_beside_a_wrong_one_of_another_kind_verifies_nothing(world: World) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)

    mixed, _ = await world.ask("注文番号1001はどこですか？メールはhanako@example.jp、電話は080-9999-0000です")
    both_right, _ = await world.ask(
        "注文番号1001はどこですか？メールはhanako@example.jp、電話は090-1234-5678です"
    )

    assert mixed.verification == Verification.FAILED
    assert mixed.order_id is None
    assert both_right.verification == Verification.ORDER_DETAILS
    assert both_right.reply is not None
    assert YAMATO["number"] in both_right.reply


@pytest.mark.anyio
async def test_a_missing_order_and_wrong_details_get_the_same_reply(world: World) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)

    wrong_email, _ = await world.ask("Where is order #1001? my email is someone@example.com")
    no_such_order, _ = await world.ask("Where is order #7777? my email is someone@example.com")

    assert wrong_email.action == no_such_order.action == DecisionAction.ASK
    assert wrong_email.verification == no_such_order.verification == Verification.FAILED
    assert wrong_email.reply == no_such_order.reply
    assert wrong_email.order_id is None
    assert no_such_order.order_id is None


@pytest.mark.anyio
async def test_enumerating_order_numbers_discloses_nothing_and_is_cut_off(world: World) -> None:
    # given real orders among the numbers tried
    for number in (1001, 1003, 1005):
        await world.add_order(number, shipments=IN_TRANSIT)
    attacker = Trust(source="ip:192.0.2.66")

    # when one source tries number after number with a wrong email, one conversation each
    replies = []
    for number in range(1000, 1000 + MAX_FAILED_ATTEMPTS_PER_SOURCE):
        decision, _ = await world.ask(f"Where is order #{number}? email guess@example.com", trust=attacker)
        replies.append(decision)
    cut_off, _ = await world.ask("Where is order #1001? email hanako@example.jp", trust=attacker)
    other_source, _ = await world.ask("Where is order #1001? email hanako@example.jp", trust=VISITOR)

    # then every failure reads the same, whether the order exists or not, and the last one cuts it off
    *failures, last = replies
    assert {d.reply for d in failures} == {failures[0].reply}
    assert {d.verification for d in failures} == {Verification.FAILED}
    assert last.verification == Verification.LIMITED
    assert last.action == DecisionAction.HANDOFF
    assert all(d.order_id is None for d in replies)
    assert not any("444413758703" in (d.reply or "") for d in replies)
    assert cut_off.action == DecisionAction.HANDOFF
    assert cut_off.verification == Verification.LIMITED
    assert cut_off.reply is not None
    assert "444413758703" not in cut_off.reply
    assert cut_off.order_id is None
    assert other_source.action == DecisionAction.REPLY


@pytest.mark.anyio
async def test_a_ticket_is_cut_off_after_its_own_limit_and_the_window_passes(world: World) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)
    ticket = None
    outcomes = []
    for attempt in range(MAX_FAILED_ATTEMPTS_PER_TICKET):
        decision, ticket = await world.ask(
            f"Where is #1001? email try{attempt}@example.com", ticket=ticket, post=False
        )
        outcomes.append(decision.verification)

    limited, _ = await world.ask("Where is #1001? email hanako@example.jp", ticket=ticket, post=False)
    later, _ = await world.ask(
        "Where is #1001? email hanako@example.jp", ticket=ticket, post=False, now=NOW + timedelta(minutes=61)
    )

    assert outcomes == [Verification.FAILED] * (MAX_FAILED_ATTEMPTS_PER_TICKET - 1) + [Verification.LIMITED]
    assert limited.verification == Verification.LIMITED  # even the right email, once cut off
    assert limited.action == DecisionAction.HANDOFF
    assert later.verification == Verification.ORDER_DETAILS
    assert later.action == DecisionAction.REPLY


@pytest.mark.anyio
async def test_a_signed_storefront_session_verifies_its_own_orders_only(world: World) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)
    await world.add_order(1002, customer=777, email="other@example.jp", shipments=IN_TRANSIT)
    ticket = await world.open("hello", email="hanako@example.jp")
    signed = Trust(storefront_customer_id=HANAKO, source="widget:1")

    own, _ = await world.ask("Where is my order #1001?", ticket=ticket, trust=signed)
    someone_elses, _ = await world.ask("And where is order #1002?", ticket=ticket, trust=signed)

    assert own.verification == Verification.STOREFRONT
    assert own.action == DecisionAction.REPLY
    assert someone_elses.verification == Verification.NEEDED
    assert someone_elses.action == DecisionAction.ASK


@pytest.mark.anyio
async def test_a_contact_signed_in_once_does_not_verify_an_unsigned_conversation(world: World) -> None:
    # given a contact a storefront signature once vouched for
    await world.add_order(1001, shipments=IN_TRANSIT)
    ticket = await world.open("hello", email="hanako@example.jp")
    async with transaction(world.sessions) as session:
        contact = await session.get_one(Contact, ticket.contact_id)
        contact.storefront_customer_id = HANAKO

    # when this conversation carries no signature of its own
    decision, _ = await world.ask("Where is my order #1001?", ticket=ticket)

    # then it must prove itself like anyone else
    assert decision.verification == Verification.NEEDED
    assert decision.action == DecisionAction.ASK
    assert YAMATO["number"] not in (decision.reply or "")


@pytest.mark.anyio
async def test_a_trusted_caller_skips_verification(world: World) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)

    decision, _ = await world.ask("Where is order #1001?", trust=Trust(trusted_caller=True, source="key:1"))

    assert decision.verification == Verification.TRUSTED_CALLER
    assert decision.action == DecisionAction.REPLY


@pytest.mark.anyio
async def test_another_shops_order_never_verifies(world: World) -> None:
    await world.add_order(1001, shop=world.beta, shipments=IN_TRANSIT)

    decision, _ = await world.ask("Where is order #1001? my email is hanako@example.jp")

    assert decision.verification == Verification.FAILED
    assert decision.order_id is None
