"""``shop-app zendesk package``: the zip Zendesk's CLI uploads, laid out and keyed as Zendesk's app validator
expects (checked against the reference manifest's keys), with signed URLs on and no secret inside."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path

import pytest

from shop_app.cli import main
from shop_app.connectors.zendesk_app import build_app_zip
from shop_app.settings import Settings
from tests.conftest import SHARED
from tests.helpdesk.conftest import ALPHA
from tests.zendesk.zendesk_fixtures import ZendeskDesk

REFERENCE = json.loads((SHARED / "platform-reference" / "zendesk" / "manifest.json").read_text())


def test_the_zip_has_zcli_layout_and_a_manifest_like_zendesks(tmp_path: Path) -> None:
    sidebar = "https://desk.example.com/zendesk/sidebar?key=abc"
    data = build_app_zip(app_url="https://desk.example.com/", sidebar=sidebar)
    path = tmp_path / "app.zip"
    path.write_bytes(data)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        en = json.loads(archive.read("translations/en.json"))
        ja = json.loads(archive.read("translations/ja.json"))
        logo = archive.read("assets/logo.png")
    assert names == {
        "manifest.json",
        "assets/iframe.html",
        "assets/logo.png",
        "assets/logo-small.png",
        "translations/en.json",
        "translations/ja.json",
    }
    assert set(manifest) <= set(REFERENCE)
    assert manifest["frameworkVersion"] == "2.0" and manifest["signedUrls"] is True
    assert manifest["defaultLocale"] == "en" and manifest["author"]["name"]
    assert manifest["location"]["support"]["ticket_sidebar"] == {"url": sidebar, "flexible": True}
    assert manifest["parameters"] == []  # nothing secret travels in the app
    assert en["app"]["name"] and ja["app"]["name"] != en["app"]["name"]
    assert "注文" in ja["app"]["short_description"]
    assert logo.startswith(b"\x89PNG")


async def test_the_command_writes_the_zip_with_the_shops_sidebar_address(
    zendesk_desk: ZendeskDesk, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "zendesk.zip"
    env = {"SHOP_APP_URL": settings.app_url, "DATABASE_URL": settings.database_url}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.setenv("SHOP_APP_DATA_DIR", str(settings.data_dir))
        code = await asyncio.to_thread(main, ["zendesk", "package", "--shop", ALPHA, "--out", str(out)])
    assert code == 0
    with zipfile.ZipFile(out) as archive:
        url = json.loads(archive.read("manifest.json"))["location"]["support"]["ticket_sidebar"]["url"]
    assert url == zendesk_desk.accounts[ALPHA].sidebar_url
    assert str(out) in capsys.readouterr().out


def test_the_command_refuses_a_shop_without_a_connector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOP_APP_DATA_DIR", str(tmp_path / "data"))
    assert main(["migrate"]) == 0
    assert (
        main(["zendesk", "package", "--shop", "nobody.myshopify.com", "--out", str(tmp_path / "z.zip")]) == 2
    )
    assert "no Zendesk connector" in capsys.readouterr().err
