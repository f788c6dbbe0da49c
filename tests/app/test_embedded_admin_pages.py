"""The embedded admin's pages: Polaris and App Bridge with the admin's menu, the admin's language, words
instead of codes, and the page for ``/app`` opened outside the Shopify admin."""

from __future__ import annotations

import re
import time
from dataclasses import replace

import httpx
import pytest

from integrations.shopify.app_config import load_app_config
from shop_app.answers.understanding.model import AUTO_INTENTS
from shop_app.i18n import CATALOGUE_DIR, catalogue
from shop_app.mirror.resources import RESOURCES
from shop_app.mirror.sync_states import Phase
from shop_app.models import ShopStatus
from shop_app.models.answers import TemplateKey
from shop_app.settings import Mode, Settings
from tests.app.conftest import ALPHA, BETA, RunningApp, TwoShops
from tests.conftest import FakeShopify, running_app
from tests.factories import installed_shop, session_token
from tests.pages import Page

PAGES = {
    "home": "/app",
    "replies": "/app/replies",
    "desk": "/app/desk",
    "team": "/app/team",
    "sync": "/app/sync",
    "email": "/app/email",
    "line": "/app/line",
    "notices": "/app/notices",
    "faq": "/app/faq",
    "actions": "/app/actions",
    "connectors": "/app/connectors",
    "insights": "/app/insights",
}
FRONTEND = CATALOGUE_DIR.parent


def directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


async def open_page(app: RunningApp, path: str, **params: str) -> httpx.Response:
    return await app.client.get(path, params={"shop": ALPHA, **params}, headers={"Accept": "text/html"})


@pytest.mark.parametrize("name", sorted(PAGES))
async def test_each_page_is_polaris_with_app_bridge_and_the_admins_menu(
    app: RunningApp, shops: TwoShops, name: str
) -> None:
    response = await open_page(app, PAGES[name], id_token=session_token(ALPHA), locale="en")
    assert response.status_code == 200, response.text
    page = Page(response.text)
    sources = [script.get("src") for script in page.scripts]
    # App Bridge first, blocking as Shopify asks; Polaris async; then our own module
    assert sources[:2] == [
        "https://cdn.shopify.com/shopifycloud/app-bridge.js",
        "https://cdn.shopify.com/shopifycloud/polaris.js",
    ]
    assert "async" not in page.scripts[0] and "defer" not in page.scripts[0]
    assert "async" in page.scripts[1]
    assert page.scripts[2] == {"type": "module", "src": f"/static/admin/{name}.js"}
    assert page.inline_scripts == []
    assert ("meta", {"name": "shopify-api-key", "content": app.services.settings.api_key}) in page.elements
    # the admin's menu: every page, the home one marked as such
    menu = [attrs for tag, attrs in page.elements if tag == "s-link"]
    assert [link["href"] for link in menu] == list(PAGES.values())
    assert menu[0].get("rel") == "home"
    assert page.all("s-page") and page.all("s-section")
    # framed by this shop's admin only; scripts from here and Shopify's CDN only
    policy = directives(response)
    assert policy["frame-ancestors"] == [f"https://{ALPHA}", "https://admin.shopify.com"]
    assert policy["script-src"] == ["'self'", "https://cdn.shopify.com"]
    assert BETA not in response.headers["content-security-policy"]


@pytest.mark.parametrize("name", sorted(PAGES))
async def test_each_page_speaks_the_admins_language(app: RunningApp, shops: TwoShops, name: str) -> None:
    for locale, home_word in (("ja", "ホーム"), ("en", "Home")):
        response = await open_page(app, PAGES[name], id_token=session_token(ALPHA), locale=locale)
        page = Page(response.text)
        assert page.lang == locale
        assert page.body["data-locale"] == locale
        menu = [attrs for tag, attrs in page.elements if tag == "a" and attrs.get("data-page")]
        assert home_word in page.text
        assert len(menu) == len(PAGES)
        # the scripts get the admin's words, and only those
        assert page.messages["admin.nav.home"] == home_word
        assert page.messages == {
            key: text for key, text in catalogue(locale).messages.items() if key.startswith("admin.")
        }
        heading = page.all("s-page")[0]["heading"]
        assert heading == ("Order Desk" if name == "home" else catalogue(locale).text(f"admin.nav.{name}"))


async def test_without_a_locale_the_pages_speak_the_shops_language(app: RunningApp, shops: TwoShops) -> None:
    async with app.services.sessions() as session, session.begin():
        alpha = await session.get_one(type(shops.alpha), shops.alpha.id)
        alpha.primary_locale = "ja"
    japanese = await app.client.get(
        "/app", params={"shop": ALPHA}, headers={"Accept-Language": "en-US,en;q=0.9"}
    )
    assert Page(japanese.text).lang == "ja"
    assert "ストアとの接続" in japanese.text
    # an admin language the app does not speak falls back to the shop's, too
    french = await app.client.get("/app", params={"shop": ALPHA, "locale": "fr"})
    assert Page(french.text).lang == "ja"
    # and a shop with no language follows the browser
    english = await app.client.get(
        "/app", params={"shop": BETA}, headers={"Accept-Language": "en-GB,ja;q=0.5"}
    )
    assert Page(english.text).lang == "en"


async def test_links_between_pages_keep_the_shop_and_language_but_never_the_session_token(
    app: RunningApp, shops: TwoShops
) -> None:
    token = session_token(ALPHA)
    response = await open_page(app, "/app", id_token=token, locale="ja", host="YWRtaW4uc2hvcGlmeS5jb20")
    page = Page(response.text)
    assert response.text.count(token) == 1
    assert page.body["data-id-token"] == token
    links = {
        attrs["data-page"]: attrs["href"]
        for tag, attrs in page.elements
        if tag == "a" and attrs.get("data-page")
    }
    assert links == {
        name: f"{path}?shop={ALPHA}&host=YWRtaW4uc2hvcGlmeS5jb20&locale=ja" for name, path in PAGES.items()
    }
    assert response.headers["cache-control"] == "no-store"


def _literal_keys(paths: list[str]) -> set[str]:
    sources = [path for pattern in paths for path in FRONTEND.glob(pattern)]
    assert sources
    return {
        key
        for path in sources
        for key in re.findall(r"""\bt\(\s*["']((?:admin|app)\.[a-z_.]*[a-z_])["']\s*[,)]""", path.read_text())
    }


def test_every_word_the_admin_asks_for_is_in_the_catalogue() -> None:
    english = catalogue("en").messages
    used = _literal_keys(["templates/admin/*.html", "static/admin/*.js"])
    assert {"admin.home.connection", "admin.replies.save", "admin.team.add"} <= used
    assert not used - english.keys()
    # words for every code the pages show: replies, questions, permissions, phases, records, statuses
    config = load_app_config(FRONTEND.parent / "shopify.app.toml")
    codes = {
        "admin.template": [key.value for key in TemplateKey],
        "admin.intent": [intent.value for intent in AUTO_INTENTS],
        "admin.scope": list(config.scopes),
        "admin.sync.phase": [phase.value for phase in Phase],
        "admin.resource": list(RESOURCES),
        "admin.shop_status": [status.value for status in ShopStatus],
        "admin.nav": list(PAGES),
        # what adding, changing and removing an agent on the team page can be refused with
        "admin.error": [
            "invalid_email",
            "weak_password",
            "password_required",
            "agent_not_found",
            "last_admin",
            "cannot_remove_self",
        ],
    }
    missing = [f"{prefix}.{code}" for prefix, values in codes.items() for code in values]
    missing = [key for key in missing if key not in english]
    assert not missing


def test_no_template_or_scope_is_shown_as_its_code() -> None:
    for locale in ("en", "ja"):
        words = catalogue(locale)
        for key in TemplateKey:
            name = words.text(f"admin.template.{key.value}")
            assert "_" not in name and name != key.value.replace("_", " "), (locale, key)


async def test_app_opened_outside_the_shopify_admin_says_to_open_it_from_there(app: RunningApp) -> None:
    for language, title in (
        ("ja-JP,ja;q=0.9", "Shopify管理画面からOrder Deskを開いてください"),
        ("en-US,en;q=0.9", "Open Order Desk from your Shopify admin"),
    ):
        # given: a browser that asks for JSON and HTML alike, as a typed address does
        response = await app.client.get("/app", headers={"Accept-Language": language, "Accept": "*/*"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        page = Page(response.text)
        assert title in page.text
        assert page.scripts == []
        assert ("a", {"href": f"/console?lang={page.lang}"}) in page.elements
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        # not in development against the simulated store: no links to one
        assert 'data-role="simulated-store"' not in response.text


async def test_a_session_token_that_has_expired_shows_the_way_back_in_the_admins_language(
    app: RunningApp, shops: TwoShops
) -> None:
    expired = session_token(ALPHA, now=time.time() - 3600)
    response = await open_page(app, "/app/replies", id_token=expired, locale="ja")
    assert response.status_code == 401
    page = Page(response.text)
    assert page.lang == "ja"
    assert "このリンクは有効期限が切れているか、別のストア用のリンクです。" in page.text
    assert expired not in response.text
    # inside the shop's admin frame, so the admin may show it
    assert directives(response)["frame-ancestors"] == [f"https://{ALPHA}", "https://admin.shopify.com"]


async def test_in_development_the_page_links_the_simulated_stores_admin(
    settings: Settings, shopify: FakeShopify
) -> None:
    store = "http://127.0.0.1:8081"
    development = replace(settings, mode=Mode.DEVELOPMENT, shop_url_template=f"{store}/s/{{shop}}")
    async with shopify.client() as http, running_app(development, http) as (client, state):
        services = state["services"]
        await installed_shop(services.sessions, services.cipher, ALPHA)
        response = await client.get("/app", headers={"Accept-Language": "en"})
    page = Page(response.text)
    hrefs = [attrs["href"] for tag, attrs in page.elements if tag == "a"]
    assert f"{store}/s/{ALPHA}/admin" in hrefs
    assert f"{store}/s/{ALPHA}/admin/apps/{settings.api_key}" in hrefs
    assert "In development: the simulated store" in page.text
