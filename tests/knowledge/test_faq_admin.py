"""The embedded admin's FAQ API: entries written, edited, switched off and deleted per shop with a session
token (another shop's entry is a 404), refusals in words, and the "try it" box saying what the bot would
answer and why."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop_app.database import transaction
from shop_app.knowledge.policies import store_policies
from shop_app.models import FaqEntry
from tests.app.conftest import ALPHA, BETA, RunningApp, TwoShops
from tests.factories import session_token
from tests.knowledge.policy_texts import records


def bearer(shop: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(shop)}"}


def entry_body(**changes: Any) -> dict[str, Any]:
    return {
        "questions_ja": ["ギフトラッピングはできますか"],
        "questions_en": ["Do you offer gift wrapping?", "Can you wrap a present?"],
        "answer_ja": "ギフトラッピングは1点300円で承ります。",
        "answer_en": "Gift wrapping is 300 yen per item.",
        "link": "https://alpha.example/pages/gift",
        "enabled": True,
        **changes,
    }


async def test_an_entry_is_written_edited_switched_off_and_deleted(app: RunningApp, shops: TwoShops) -> None:
    created = await app.client.post("/api/admin/faq", json=entry_body(), headers=bearer(ALPHA))
    assert created.status_code == 201, created.text
    entry_id = created.json()["id"]

    edited = await app.client.put(
        f"/api/admin/faq/{entry_id}", json=entry_body(answer_en="Wrapping is free."), headers=bearer(ALPHA)
    )
    off = await app.client.put(
        f"/api/admin/faq/{entry_id}/enabled", json={"enabled": False}, headers=bearer(ALPHA)
    )
    listed = (await app.client.get("/api/admin/faq", headers=bearer(ALPHA))).json()

    assert edited.json()["answer_en"] == "Wrapping is free."
    assert off.json()["enabled"] is False
    assert [entry["id"] for entry in listed["entries"]] == [entry_id]
    assert listed["entries"][0]["enabled"] is False
    deleted = await app.client.delete(f"/api/admin/faq/{entry_id}", headers=bearer(ALPHA))
    assert deleted.status_code == 204
    assert await app.rows(FaqEntry, shops.alpha) == []


async def test_another_shops_entry_is_not_found(app: RunningApp, shops: TwoShops) -> None:
    created = await app.client.post("/api/admin/faq", json=entry_body(), headers=bearer(ALPHA))
    entry_id = created.json()["id"]

    for method, path, body in (
        ("PUT", f"/api/admin/faq/{entry_id}", entry_body(answer_en="mine now")),
        ("PUT", f"/api/admin/faq/{entry_id}/enabled", {"enabled": False}),
        ("DELETE", f"/api/admin/faq/{entry_id}", None),
    ):
        response = await app.client.request(method, path, json=body, headers=bearer(BETA))
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "faq_not_found"
    assert (await app.client.get("/api/admin/faq", headers=bearer(BETA))).json()["entries"] == []
    [row] = await app.rows(FaqEntry, shops.alpha)
    assert row.enabled and row.answer_en == "Gift wrapping is 300 yen per item."


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"questions_ja": [], "questions_en": []}, "invalid_faq"),
        ({"answer_ja": "", "answer_en": ""}, "invalid_faq"),
        ({"link": "javascript:alert(1)"}, "invalid_faq"),
        ({"questions_en": ["x" * 301]}, "invalid_faq"),
        ({"unknown": 1}, "invalid_request"),
    ],
)
async def test_a_bad_entry_is_refused_with_a_reason(
    app: RunningApp, shops: TwoShops, changes: dict[str, Any], code: str
) -> None:
    response = await app.client.post("/api/admin/faq", json=entry_body(**changes), headers=bearer(ALPHA))

    assert response.status_code in (400, 422)
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize("raw_id", ["0", "99999999999", "-1", "abc", "2147483648"])
async def test_an_id_out_of_range_is_not_found(app: RunningApp, shops: TwoShops, raw_id: str) -> None:
    response = await app.client.put(f"/api/admin/faq/{raw_id}", json=entry_body(), headers=bearer(ALPHA))

    assert response.status_code == 404


async def test_the_try_box_says_what_the_bot_would_answer_and_why(app: RunningApp, shops: TwoShops) -> None:
    created = await app.client.post("/api/admin/faq", json=entry_body(), headers=bearer(ALPHA))
    entry_id = created.json()["id"]
    async with transaction(app.services.sessions) as session:
        assert shops.alpha.id is not None
        await store_policies(session, shop_id=shops.alpha.id, policies=records("ja"))

    wrapping = (
        await app.client.post(
            "/api/admin/faq/try", json={"text": "ラッピングはできますか"}, headers=bearer(ALPHA)
        )
    ).json()
    shipping = (
        await app.client.post(
            "/api/admin/faq/try", json={"text": "送料はいくらですか"}, headers=bearer(ALPHA)
        )
    ).json()
    own_order = (
        await app.client.post(
            "/api/admin/faq/try", json={"text": "Can I return order #1043?"}, headers=bearer(ALPHA)
        )
    ).json()
    beta = (
        await app.client.post(
            "/api/admin/faq/try", json={"text": "ラッピングはできますか"}, headers=bearer(BETA)
        )
    ).json()

    assert wrapping["action"] == "reply"
    assert "1点300円" in wrapping["reply"]
    assert f"faq:{entry_id}" in wrapping["reason"]
    assert wrapping["matches"][0]["source"] == f"faq:{entry_id}"
    assert wrapping["matches"][0]["confident"] is True
    assert shipping["action"] == "reply" and "全国一律800円" in shipping["reply"]
    assert "policy:SHIPPING_POLICY#2" in shipping["reason"]
    assert wrapping["reason_code"] == "answered"
    assert own_order["action"] == "handoff" and own_order["reply"] is None
    assert own_order["reason_code"] in ("own_order", "not_policy")
    assert beta["action"] == "handoff" and beta["matches"] == []
    assert beta["reason_code"] == "no_confident_match"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=2000))
async def test_the_try_box_takes_any_text_without_failing(
    app: RunningApp, shops: TwoShops, text: str
) -> None:
    response = await app.client.post("/api/admin/faq/try", json={"text": text}, headers=bearer(ALPHA))

    assert response.status_code in (200, 400), response.text


async def test_the_return_window_is_prefilled_from_the_refund_policy_and_saved_per_shop(
    app: RunningApp, shops: TwoShops
) -> None:
    # before any policy: nothing detected, nothing set
    empty = (await app.client.get("/api/admin/faq", headers=bearer(ALPHA))).json()["return_window"]
    assert empty == {"days": None, "detected_days": None, "detected_from": None, "detected_text": None}
    async with transaction(app.services.sessions) as session:
        assert shops.alpha.id is not None
        await store_policies(session, shop_id=shops.alpha.id, policies=records("ja"))

    # the refund policy's 「30日以内」 is shown with the passage it came from, but not yet the setting
    shown = (await app.client.get("/api/admin/faq", headers=bearer(ALPHA))).json()["return_window"]
    assert (shown["days"], shown["detected_days"], shown["detected_from"]) == (
        None,
        30,
        "policy:REFUND_POLICY#1",
    )
    assert "30日以内" in shown["detected_text"]

    saved = await app.client.put("/api/admin/faq/return-window", json={"days": 21}, headers=bearer(ALPHA))
    assert saved.status_code == 200, saved.text
    assert saved.json()["days"] == 21
    again = (await app.client.get("/api/admin/faq", headers=bearer(ALPHA))).json()["return_window"]
    assert again["days"] == 21
    # another shop's setting is its own
    other = (await app.client.get("/api/admin/faq", headers=bearer(BETA))).json()["return_window"]
    assert other["days"] is None

    cleared = await app.client.put("/api/admin/faq/return-window", json={"days": None}, headers=bearer(ALPHA))
    assert cleared.json()["days"] is None


@pytest.mark.parametrize("days", [0, 366, -3, "thirty", 2.5, True])
async def test_a_return_window_out_of_bounds_is_refused(
    app: RunningApp, shops: TwoShops, days: object
) -> None:
    refused = await app.client.put("/api/admin/faq/return-window", json={"days": days}, headers=bearer(ALPHA))

    assert refused.status_code in (400, 422), refused.text
    shown = (await app.client.get("/api/admin/faq", headers=bearer(ALPHA))).json()["return_window"]
    assert shown["days"] is None
