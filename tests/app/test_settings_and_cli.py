from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from shop_app.cli import main
from shop_app.database import transaction
from shop_app.encryption import Cipher
from shop_app.errors import SettingsError
from shop_app.models import CustomerDataExport, ShopCredential
from shop_app.settings import DEV_SECRETS_FILE, Mode, Secret, load_settings
from shop_app.shops.compliance import CustomerSubject, export_customer_data
from shop_app.shops.key_rotation import rotate_encryption
from tests.app.conftest import RunningApp, TwoShops

REAL = {
    "SHOPIFY_API_KEY": "5f1c0a7d9e3b4c2a8d6e0f1a2b3c4d5e",
    "SHOPIFY_API_SECRET": "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",
    "SHOP_APP_SESSION_SECRET": "Zq3vL8pR2mX7kT1nW5bY9cF4hJ6gD0sA",
    "SHOP_APP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}


def _production(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {"SHOP_APP_ENV": "production", "SHOP_APP_DATA_DIR": str(tmp_path), **REAL, **overrides}
    return {key: value for key, value in env.items() if value != "<unset>"}


def test_production_mode_accepts_real_secrets(tmp_path: Path) -> None:
    settings = load_settings(_production(tmp_path))
    assert settings.mode is Mode.PRODUCTION
    assert settings.api_secret.reveal() == REAL["SHOPIFY_API_SECRET"]
    assert len(settings.encryption_keys) == 1
    assert not (tmp_path / DEV_SECRETS_FILE).exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHOPIFY_API_SECRET", "<unset>"),
        ("SHOPIFY_API_SECRET", "changeme"),
        ("SHOPIFY_API_SECRET", "CHANGEME"),
        ("SHOPIFY_API_SECRET", "short-secret"),
        ("SHOPIFY_API_SECRET", "aaaaaaaaaaaaaaaaaaaaaaaa"),
        ("SHOPIFY_API_SECRET", "changeme-changeme-changeme"),
        ("SHOPIFY_API_SECRET", "placeholder-for-the-real-one"),
        ("SHOP_APP_SESSION_SECRET", "<unset>"),
        ("SHOP_APP_SESSION_SECRET", "secret"),
        ("SHOP_APP_ENCRYPTION_KEYS", "<unset>"),
        ("SHOP_APP_ENCRYPTION_KEYS", "changeme"),
        ("SHOPIFY_API_KEY", "<unset>"),
    ],
)
def test_production_mode_refuses_missing_or_placeholder_secrets(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(_production(tmp_path, **{name: value}))
    assert not (tmp_path / DEV_SECRETS_FILE).exists()


def test_production_refusal_never_repeats_the_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_production(tmp_path, SHOPIFY_API_SECRET="tooshort1"))
    assert "tooshort1" not in str(caught.value)


def test_development_mode_generates_secrets_once_and_reuses_them(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = load_settings({"SHOP_APP_DATA_DIR": str(data_dir)})
    path = data_dir / DEV_SECRETS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load_settings({"SHOP_APP_DATA_DIR": str(data_dir)})
    assert first.mode is Mode.DEVELOPMENT
    assert first.api_secret.reveal() and len(first.api_secret.reveal()) >= 16
    assert first.api_secret == second.api_secret
    assert first.session_secret == second.session_secret
    assert first.encryption_keys == second.encryption_keys
    Cipher(first.encryption_keys)  # a usable Fernet key
    assert first.database_url == f"sqlite+aiosqlite:///{data_dir.resolve() / 'shop_app.db'}"


def test_development_secrets_differ_between_data_directories(tmp_path: Path) -> None:
    one = load_settings({"SHOP_APP_DATA_DIR": str(tmp_path / "one")})
    two = load_settings({"SHOP_APP_DATA_DIR": str(tmp_path / "two")})
    assert one.api_secret != two.api_secret


def test_database_url_switches_to_postgresql_with_psycopg(tmp_path: Path) -> None:
    settings = load_settings(
        {"SHOP_APP_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://u:p@db:5432/app"}
    )
    assert settings.database_url == "postgresql+psycopg://u:p@db:5432/app"
    assert not settings.is_sqlite


async def test_rotating_keys_reencrypts_everything_with_the_newest_key(
    app: RunningApp, shops: TwoShops
) -> None:
    # given: ciphertexts under the old key, and a new key put first
    services = app.services
    async with transaction(services.sessions) as session:
        for shop in (shops.alpha, shops.beta):
            await export_customer_data(
                session,
                shop=shop,
                subject=CustomerSubject(shopify_customer_id=7, email="jane@example.com"),
                data_request_id=1,
                cipher=services.cipher,
                digest_key="k",
            )
    old_key = services.settings.encryption_keys[0]
    new_key = Secret(Fernet.generate_key().decode())
    # when
    async with transaction(services.sessions) as session:
        counts = await rotate_encryption(session, Cipher((new_key, old_key)))
    # then
    assert counts == {"shop_credentials": 2, "customer_data_exports": 2}
    new_only, old_only = Cipher((new_key,)), Cipher((old_key,))
    for shop, token in ((shops.alpha, "shpat_alpha"), (shops.beta, "shpat_beta")):
        [credential] = await app.rows(ShopCredential, shop)
        assert token in new_only.decrypt(credential.ciphertext)
        with pytest.raises(SettingsError):
            old_only.decrypt(credential.ciphertext)
        [export] = await app.rows(CustomerDataExport, shop)
        assert "jane@example.com" in new_only.decrypt(export.ciphertext)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["serve", "migrate", "rotate-keys", "worker"]),
        (["serve"], ["uvicorn", "--host", "--port", "--workers"]),
        (["migrate"], ["Alembic"]),
        (["rotate-keys"], ["Re-encrypt", "first key", "--new-key"]),
        (["worker"], ["--concurrency"]),
    ],
)
def test_help_of_each_command_exits_cleanly_and_explains_it(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: list[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main([*argv, "--help"])
    assert caught.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert shown.startswith(f"usage: shop-app {' '.join(argv)}".rstrip())
    for word in expected:
        assert word in shown


def test_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["launch-rockets"])
    assert caught.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
