"""``shop-app zendesk package``: the zip Zendesk's CLI uploads, laid out and keyed as Zendesk's app validator
expects (checked against the reference manifest's keys), with signed URLs on and no secret inside."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from shop_app.cli import main
from shop_app.connectors.zendesk_app import build_app_zip
from tests.conftest import SHARED

REFERENCE = json.loads((SHARED / "platform-reference" / "zendesk" / "manifest.json").read_text())


def test_the_zip_has_zcli_layout_and_a_manifest_like_zendesks(tmp_path: Path) -> None:
    data = build_app_zip(app_url="https://desk.example.com/", shop_domain="hinode-apparel.myshopify.com")
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
    sidebar = manifest["location"]["support"]["ticket_sidebar"]
    assert sidebar["url"] == "https://desk.example.com/zendesk/hinode-apparel.myshopify.com/sidebar"
    assert manifest["parameters"] == []  # nothing secret travels in the app
    assert en["app"]["name"] and ja["app"]["name"] != en["app"]["name"]
    assert "注文" in ja["app"]["short_description"]
    assert logo.startswith(b"\x89PNG")


def test_the_command_writes_the_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOP_APP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHOP_APP_URL", "https://desk.example.com")
    out = tmp_path / "zendesk.zip"
    assert main(["zendesk", "package", "--shop", "hinode-apparel.myshopify.com", "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        url = json.loads(archive.read("manifest.json"))["location"]["support"]["ticket_sidebar"]["url"]
    assert url == "https://desk.example.com/zendesk/hinode-apparel.myshopify.com/sidebar"
    assert str(out) in capsys.readouterr().out
