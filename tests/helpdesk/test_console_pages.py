"""The agent console's pages: who gets them, their security headers, their language, and escaping."""

from __future__ import annotations

import json
import re
import string

import httpx
import pytest

from shop_app.answers.understanding.model import Intent
from shop_app.database import transaction
from shop_app.helpdesk.agents import add_membership, create_agent
from shop_app.i18n import CATALOGUE_DIR, SUPPORTED_LOCALES, accepted_locales, catalogue, choose_locale
from shop_app.models import Role, Shop, Verification
from tests.helpdesk.conftest import ALPHA, BETA, PASSWORD, Desk
from tests.pages import Page

HOSTILE = "<script>window.pwned=1</script><img src=x onerror=alert(1)>"


def directives(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.strip().split(" ", 1)[0]: part.strip() for part in policy.split(";") if part.strip()}


async def add_agent(desk: Desk, *, email: str, name: str, shop: str, locale: str = "en") -> None:
    async with transaction(desk.services.sessions) as session:
        agent = await create_agent(session, email=email, name=name, password=PASSWORD, locale=locale)
        await add_membership(
            session, shop=await session.get_one(Shop, desk.shop_ids[shop]), agent=agent, role=Role.AGENT
        )


async def test_console_without_a_session_redirects_to_sign_in(desk: Desk) -> None:
    answer = await desk.client.get("/console")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login"


async def test_console_with_a_forged_session_cookie_redirects_to_sign_in_keeping_the_language(
    desk: Desk,
) -> None:
    desk.client.cookies.set("shop_app_session", "forged-token-0123456789")
    answer = await desk.client.get("/console?lang=ja")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?lang=ja"


async def test_api_keys_and_bearer_tokens_never_get_the_console_page(desk: Desk) -> None:
    answer = await desk.client.get("/console", headers=desk.key(ALPHA))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login"


async def test_signed_out_agent_is_sent_back_to_sign_in(desk: Desk) -> None:
    csrf = await desk.sign_in("agent@alpha.test")
    assert (await desk.client.get("/console")).status_code == 200
    assert (await desk.client.delete("/api/v1/session", headers=csrf)).status_code == 204
    answer = await desk.client.get("/console")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login"


async def test_signed_in_agent_gets_the_console_of_their_own_shop_under_a_strict_policy(desk: Desk) -> None:
    # given: an agent of each shop
    await desk.sign_in("agent@beta.test", shop=BETA)
    # when
    answer = await desk.client.get("/console")
    # then: beta's console, scripts from this origin only, nothing inline
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    policy = directives(answer)
    assert policy["default-src"] == "default-src 'self'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"
    assert "unsafe-inline" not in answer.headers["content-security-policy"]
    assert "unsafe-eval" not in answer.headers["content-security-policy"]
    page = Page(answer.text)
    assert page.inline_scripts == []
    assert page.handlers == []
    assert [s.get("type") for s in page.scripts] == ["module"]
    assert all(str(s.get("src")).startswith("/static/console/") for s in page.scripts)
    assert page.body["data-shop-domain"] == BETA
    assert page.body["data-agent-id"] == str(desk.agent_ids["agent@beta.test"])
    assert ALPHA not in answer.text


async def test_sign_in_page_has_the_same_policy_and_sends_a_signed_in_agent_on(desk: Desk) -> None:
    answer = await desk.client.get("/console/login")
    assert answer.status_code == 200
    assert directives(answer)["default-src"] == "default-src 'self'"
    page = Page(answer.text)
    assert page.inline_scripts == []
    assert [s.get("src") for s in page.scripts] == ["/static/console/login.js"]

    await desk.sign_in("agent@alpha.test")
    again = await desk.client.get("/console/login")
    assert again.status_code == 303
    assert again.headers["location"] == "/console"


async def test_console_scripts_and_styles_are_served_from_static(desk: Desk) -> None:
    for name in ("console.js", "login.js", "api.js", "console.css"):
        answer = await desk.client.get(f"/static/console/{name}")
        assert answer.status_code == 200, name
    script = (await desk.client.get("/static/console/console.js")).headers["content-type"]
    assert "javascript" in script


async def test_html_in_an_agent_name_and_in_the_query_is_escaped_on_the_pages(desk: Desk) -> None:
    # given: an agent whose name is markup, and a sign-in link whose shop is markup
    await add_agent(desk, email="mallory@alpha.test", name=HOSTILE, shop=ALPHA)
    login = await desk.client.get("/console/login", params={"shop": f'"><{HOSTILE}'})
    # then: the sign-in page shows the text, never the markup
    assert "<script>window.pwned" not in login.text
    assert "<img src=x" not in login.text
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in login.text
    assert Page(login.text).handlers == []

    await desk.sign_in("mallory@alpha.test")
    console = await desk.client.get("/console")
    assert console.status_code == 200
    assert "<script>window.pwned" not in console.text
    assert "<img src=x" not in console.text
    page = Page(console.text)
    assert page.inline_scripts == []
    assert page.handlers == []
    assert page.body["data-agent-name"] == HOSTILE  # the attribute holds the name as text


async def test_language_comes_from_the_switch_then_the_agent_then_the_browser(desk: Desk) -> None:
    # given: a Japanese-speaking agent
    await add_agent(desk, email="hanako@alpha.test", name="花子", shop=ALPHA, locale="ja")
    # the sign-in page follows the browser until someone switches
    english = Page(
        (await desk.client.get("/console/login", headers={"Accept-Language": "de, en;q=0.5"})).text
    )
    assert english.lang == "en"
    assert english.messages["login.title"] == "Sign in"
    japanese = await desk.client.get("/console/login", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.8"})
    assert Page(japanese.text).lang == "ja"
    assert "ログイン" in japanese.text

    # when: the Japanese agent signs in, the console is Japanese
    await desk.sign_in("hanako@alpha.test")
    console = Page((await desk.client.get("/console", headers={"Accept-Language": "en"})).text)
    assert console.lang == "ja"
    assert console.messages["list.tab.open"] == catalogue("ja").text("list.tab.open")

    # when: they switch to English, the choice is remembered for later pages
    switched = await desk.client.get("/console", params={"lang": "en"})
    assert Page(switched.text).lang == "en"
    assert "console_locale=en" in switched.headers["set-cookie"]
    assert Page((await desk.client.get("/console")).text).lang == "en"


async def test_the_language_the_agent_signed_in_with_is_the_consoles_and_follows_them(desk: Desk) -> None:
    # given: an agent stored as Japanese-speaking, on an English sign-in page (the browser's language)
    await add_agent(desk, email="hanako@alpha.test", name="花子", shop=ALPHA, locale="ja")
    sign_in_page = Page((await desk.client.get("/console/login", headers={"Accept-Language": "en"})).text)
    assert sign_in_page.lang == "en"
    # when: they sign in from that page (it sends the language it was shown in)
    answer = await desk.client.post(
        "/api/v1/session",
        json={"shop": ALPHA, "email": "hanako@alpha.test", "password": PASSWORD, "locale": "en"},
    )
    assert answer.status_code == 200, answer.text
    # then: the console is in English, and English is now the agent's own language
    assert answer.json()["agent"]["locale"] == "en"
    assert Page((await desk.client.get("/console", headers={"Accept-Language": "ja"})).text).lang == "en"
    assert (await desk.client.get("/api/v1/session")).json()["agent"]["locale"] == "en"

    # when: they switch to Japanese in the console
    await desk.client.get("/console", params={"lang": "ja"})
    # then: the choice is theirs, not only this browser's: a new browser's console is Japanese
    assert (await desk.client.get("/api/v1/session")).json()["agent"]["locale"] == "ja"
    desk.client.cookies.clear()
    await desk.sign_in("hanako@alpha.test")
    assert Page((await desk.client.get("/console", headers={"Accept-Language": "en"})).text).lang == "ja"


async def test_a_sign_in_with_an_unsupported_language_is_refused(desk: Desk) -> None:
    await add_agent(desk, email="hanako@alpha.test", name="花子", shop=ALPHA, locale="ja")
    answer = await desk.client.post(
        "/api/v1/session",
        json={"shop": ALPHA, "email": "hanako@alpha.test", "password": PASSWORD, "locale": "fr"},
    )
    assert answer.status_code == 400


async def test_an_unsupported_language_switch_is_ignored(desk: Desk) -> None:
    answer = await desk.client.get(
        "/console/login", params={"lang": "xx-<b>"}, headers={"Accept-Language": "ja"}
    )
    assert Page(answer.text).lang == "ja"
    assert "set-cookie" not in answer.headers


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_catalogues_have_the_same_keys_and_placeholders() -> None:
    loaded = {
        locale: json.loads((CATALOGUE_DIR / f"{locale}.json").read_text()) for locale in SUPPORTED_LOCALES
    }
    english = loaded["en"]
    for locale, messages in loaded.items():
        assert messages.keys() == english.keys(), locale
        for key, text in messages.items():
            assert placeholders(text) == placeholders(english[key]), (locale, key)
            assert text.strip(), (locale, key)


def test_every_string_the_console_asks_for_is_in_the_catalogue() -> None:
    """Keys written literally in the templates and scripts (``t("…")``) exist, so no page shows a key."""
    frontend = CATALOGUE_DIR.parent
    sources = [*frontend.glob("templates/console/*.html"), *frontend.glob("static/console/*.js")]
    assert sources
    used = {
        key
        for path in sources
        for key in re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]*[a-z_])["']\s*[,)]""", path.read_text())
    }
    assert used, "no catalogue keys found in the console sources"
    missing = used - catalogue("en").messages.keys()
    assert not missing


@pytest.mark.parametrize(
    ("group", "codes"),
    [("intent", [intent.value for intent in Intent]), ("verification", [v.value for v in Verification])],
)
def test_the_decision_panel_has_words_for_every_intent_and_verification_code(
    group: str, codes: list[str]
) -> None:
    english, japanese = catalogue("en"), catalogue("ja")
    for code in codes:
        key = f"decision.{group}.{code}"
        assert key in english.messages and key in japanese.messages, key
        assert english.text(key) != code and "_" not in english.text(key), key
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", japanese.text(key)), key


@pytest.mark.parametrize(
    ("requested", "cookie", "agent", "header", "expected"),
    [
        ("ja", "en", "en", "en", "ja"),
        (None, "ja", "en", "en", "ja"),
        ("fr", None, "ja", "en", "ja"),
        (None, None, None, "fr-CA, ja-JP;q=0.8, en;q=0.5", "ja"),
        (None, None, None, "ja;q=0, en", "en"),
        (None, None, None, "*", "en"),
        (None, None, None, None, "en"),
        ("ja_JP", None, None, None, "ja"),
    ],
)
def test_locale_choice(
    requested: str | None, cookie: str | None, agent: str | None, header: str | None, expected: str
) -> None:
    assert (
        choose_locale(requested=requested, cookie=cookie, agent_locale=agent, accept_language=header)
        == expected
    )


def test_accept_language_is_read_by_quality_then_order() -> None:
    assert accepted_locales("en;q=0.5, ja, fr;q=0.9, de;q=bad") == ["ja", "fr", "en"]


def test_a_missing_string_shows_its_key_and_placeholders_are_filled() -> None:
    english = catalogue("en")
    assert english.text("no.such.key") == "no.such.key"
    assert english.text("profile.more_orders", count=3) == "3 older orders not shown"
    with pytest.raises(ValueError, match="Unsupported locale"):
        catalogue("de")
