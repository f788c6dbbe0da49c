"""The Zendesk Support app the merchant uploads (``zcli apps:create`` / "Upload private app"): a zip with
``manifest.json`` at its root, ``assets/`` and ``translations/{en,ja}.json``, as ``zcli apps:package`` lays
it out. The sidebar is our server-side page with ``signedUrls`` on, so Zendesk proves every load with a JWT
and the app holds no secret: it has no parameters at all."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from shop_app.connectors.storage import access_connector
from shop_app.connectors.zendesk import sidebar_url
from shop_app.database import make_engine, make_session_factory
from shop_app.models import ConnectorVendor
from shop_app.settings import Settings
from shop_app.shops.installation import get_shop

APP_NAME = {"en": "Order Desk", "ja": "Order Desk（注文・配送・在庫）"}
SHORT_DESCRIPTION = {
    "en": "The customer's Shopify orders, shipments and stock beside the ticket.",
    "ja": "チケットの横に、お客様の Shopify の注文・配送・在庫を表示します。",
}
LONG_DESCRIPTION = {
    "en": "Shows the matched customer's orders, shipments with tracking links, stock and earlier tickets, "
    "from a mirror of the store kept fresh by Shopify's webhooks.",
    "ja": "照合したお客様の注文、追跡リンク付きの配送、在庫、過去のチケットを表示します。"
    "データは Shopify の Webhook で常に最新に保たれています。",
}
INSTALLATION = {
    "en": "Install, then enter this app's id and installation id in Order Desk's Zendesk settings.",
    "ja": "インストール後、Order Desk の Zendesk 設定に"
    "このアプリの ID とインストール ID を入力してください。",
}
FALLBACK_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Order Desk</title></head>
<body><p lang="ja">このアプリは Order Desk のサーバーから表示されます。
表示されない場合は管理者にお問い合わせください。</p>
<p>This app is served by Order Desk. If nothing shows, ask your administrator.</p></body></html>
"""


async def shop_sidebar_url(settings: Settings, shop_domain: str) -> str | None:
    """The sidebar address of the shop's Zendesk connector (``None`` before the connector is set up)."""
    engine = make_engine(settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            shop = await get_shop(session, shop_domain)
            connector = (
                await access_connector(session, shop_id=shop.id, vendor=ConnectorVendor.ZENDESK)
                if shop is not None and shop.id is not None
                else None
            )
    finally:
        await engine.dispose()
    return sidebar_url(settings, connector) if connector is not None else None


def manifest(*, app_url: str, sidebar: str, version: str = "1.0.0") -> dict[str, Any]:
    return {
        "name": APP_NAME["en"],
        "author": {"name": "Order Desk", "email": "support@example.com", "url": app_url.rstrip("/")},
        "defaultLocale": "en",
        "private": True,
        "location": {"support": {"ticket_sidebar": {"url": sidebar, "flexible": True}}},
        "version": version,
        "frameworkVersion": "2.0",
        "signedUrls": True,
        "parameters": [],
    }


def translations(locale: str) -> dict[str, Any]:
    return {
        "app": {
            "name": APP_NAME[locale],
            "short_description": SHORT_DESCRIPTION[locale],
            "long_description": LONG_DESCRIPTION[locale],
            "installation_instructions": INSTALLATION[locale],
        }
    }


def png(size: int, rgb: tuple[int, int, int]) -> bytes:
    """A square of one colour (Zendesk asks for logo.png 320×320 and logo-small.png 128×128)."""
    row = b"\x00" + bytes(rgb) * size

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def build_app_zip(*, app_url: str, sidebar: str) -> bytes:
    files: dict[str, bytes] = {
        "manifest.json": json.dumps(manifest(app_url=app_url, sidebar=sidebar), indent=2).encode(),
        "assets/iframe.html": FALLBACK_PAGE.encode(),
        "assets/logo.png": png(320, (0x1F, 0x73, 0x67)),
        "assets/logo-small.png": png(128, (0x1F, 0x73, 0x67)),
        "translations/en.json": json.dumps(translations("en"), indent=2).encode(),
        "translations/ja.json": json.dumps(translations("ja"), indent=2, ensure_ascii=False).encode(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def write_app_zip(path: Path, *, app_url: str, sidebar: str) -> Path:
    path.write_bytes(build_app_zip(app_url=app_url, sidebar=sidebar))
    return path
