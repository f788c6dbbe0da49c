"""``shop-app serve`` as it runs: its access log and DEBUG log hold no secret and no shopper's words, a
client that leaves mid-body is a one-line debug event, and a connection that never finishes its request is
closed. Each test starts the real command in a subprocess on a loopback port."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from integrations.shopify.app_proxy import sign_app_proxy_query
from shop_app.cli import _parser, serve_config
from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.dev.server import app_server_config
from shop_app.encryption import Cipher
from shop_app.errors import SettingsError
from shop_app.logging_config import (
    QUIET_LOGGERS,
    REDACTED,
    RedactedQueries,
    configure_logging,
    redact_query,
)
from shop_app.models import Customer
from shop_app.settings import ConnectionLimits, Settings, load_settings
from shop_app.web_server import MAX_REQUEST_HEAD_BYTES, BoundedHttpToolsProtocol, ServerConfig
from tests.conftest import PROJECT_ROOT, TEST_API_SECRET
from tests.factories import installed_shop, session_token, signed_query

SHOP = "alpha.myshopify.com"
STARTUP_SECONDS = 90.0
STOP_SECONDS = 30.0
CLOSE_WAIT_SECONDS = 30.0  # far above the 1 s timeouts the tests set: a connection still open is held

# what a shopper wrote and who they are: none of it may reach a log at any level
MESSAGE = "Where is my order #1001? Call me on 090-5555-0199, I live at 4-2-8 Shibakoen"
CUSTOMER_FIRST_NAME = "Zephyrine"
CUSTOMER_EMAIL = "zephyrine.kagawa@example.jp"


@dataclass
class Served:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(settings: Settings, tmp_path: Path, level: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOP_APP_", "SHOPIFY_", "DATABASE_"))}
    env.update(
        SHOP_APP_DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=settings.database_url,
        SHOPIFY_API_KEY=settings.api_key,
        SHOPIFY_API_SECRET=settings.api_secret.reveal(),
        SHOP_APP_ENCRYPTION_KEYS=",".join(key.reveal() for key in settings.encryption_keys),
        SHOP_APP_SESSION_SECRET=settings.session_secret.reveal(),
        SHOPIFY_APP_TOML=str(PROJECT_ROOT / "shopify.app.toml"),
        SHOP_APP_REGISTER_WEBHOOKS="0",
        SHOP_APP_LOG_LEVEL=level,
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def served(settings: Settings, tmp_path: Path, *options: str, level: str = "DEBUG") -> Iterator[Served]:
    """``shop-app serve`` in a subprocess until the block ends; its output is complete after it."""
    port = _free_port()
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "shop_app", "serve", "--port", str(port), *options],
            env=_environment(settings, tmp_path, level),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    running = Served(url=f"http://127.0.0.1:{port}", port=port, process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, running.output()
            assert time.monotonic() < deadline, running.output()
            try:
                if httpx.get(f"{running.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)


async def _seed_shop_and_customer(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        sessions = make_session_factory(engine)
        shop = await installed_shop(sessions, Cipher(settings.encryption_keys), SHOP)
        now = datetime.now(UTC)
        async with transaction(sessions) as session:
            session.add(
                Customer(
                    shop_id=shop.id,
                    shopify_id=7001,
                    first_name=CUSTOMER_FIRST_NAME,
                    last_name="Kagawa",
                    email=CUSTOMER_EMAIL,
                    created_at=now,
                    updated_at=now,
                )
            )
    finally:
        await engine.dispose()


def _proxy_query(customer_id: int | None, **extra: str) -> str:
    params = {
        **extra,
        "shop": SHOP,
        "logged_in_customer_id": str(customer_id or ""),
        "path_prefix": "/apps/support",
        "timestamp": str(int(time.time())),
    }
    return urlencode({**params, "signature": sign_app_proxy_query(params, TEST_API_SECRET)})


def _wait_for(running: Served, text: str, *, count: int = 1) -> None:
    deadline = time.monotonic() + STOP_SECONDS
    while running.output().count(text) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def _read_until_closed(sock: socket.socket) -> tuple[bool, bytes]:
    """Reads until the server closes the connection (True) or CLOSE_WAIT_SECONDS pass with it open."""
    sock.settimeout(CLOSE_WAIT_SECONDS)
    received = b""
    for _ in range(64):  # bounded: a closing server sends a short answer at most
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            return False, received
        except ConnectionResetError:
            return True, received
        if not chunk:
            return True, received
        received += chunk
    return False, received


def test_a_debug_run_logs_no_secret_query_value_no_message_and_no_customer_data(
    settings: Settings, tmp_path: Path
) -> None:
    # given an installed shop with a mirrored customer, served at DEBUG
    asyncio.run(_seed_shop_and_customer(settings))
    id_token = session_token(SHOP)
    callback = signed_query(
        {"shop": SHOP, "code": "oauth-code-5f1d2c", "state": "oauth-state-9e8d7c", "timestamp": "1700000000"}
    )
    signed_in = _proxy_query(7001, n="nonce-1")
    poll = _proxy_query(7001, n="nonce-2", after="0")
    with served(settings, tmp_path) as running, httpx.Client(base_url=running.url, timeout=30) as client:
        # when the embedded page, the OAuth callback and the widget are called with their signed queries,
        # and the signed-in customer writes to the desk
        client.get(f"/app?shop={SHOP}&host=YWRtaW4&id_token={id_token}&hmac=embedded-hmac-77aa")
        client.get(f"/auth/callback?{urlencode(callback)}")
        begun = client.post(f"/proxy/support/conversations?{signed_in}", json={"message": MESSAGE})
        assert begun.status_code == 201, begun.text
        polled = client.get(
            f"/proxy/support/messages?{poll}", headers={"X-Widget-Session": begun.json()["session"]}
        )
        assert polled.status_code == 200, polled.text
        # (and a client leaves mid-body: a DEBUG line, so the run is seen to log at DEBUG)
        with socket.create_connection(("127.0.0.1", running.port), timeout=10) as sock:
            sock.sendall(b"POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Length: 90\r\n\r\n{")
        _wait_for(running, "client disconnected")
    output = running.output()

    # then the access log shows each path and the shop, and none of the secrets, words or personal data
    assert (
        f'"GET /app?shop={SHOP}&host={REDACTED}&id_token={REDACTED}&hmac={REDACTED} HTTP/1.1" 200' in output
    )
    assert "POST /proxy/support/conversations?" in output
    secrets = [
        id_token,
        "embedded-hmac-77aa",
        "oauth-code-5f1d2c",
        "oauth-state-9e8d7c",
        callback["hmac"],
        *[value for key, value in (pair.split("=") for pair in signed_in.split("&")) if key == "signature"],
        *[value for key, value in (pair.split("=") for pair in poll.split("&")) if key == "signature"],
        begun.json()["session"],
    ]
    for secret in secrets:
        assert secret not in output
    for words in ("Where is my order", "090-5555-0199", "Shibakoen", CUSTOMER_FIRST_NAME, CUSTOMER_EMAIL):
        assert words not in output
    assert " DEBUG shop_app.main client disconnected" in output


def test_a_client_leaving_mid_body_is_a_debug_line_not_an_error(settings: Settings, tmp_path: Path) -> None:
    partial = b'{"id": 1, "name": "#10'
    with served(settings, tmp_path) as running:
        for path in ("/webhooks", "/api/v1/session"):
            with socket.create_connection(("127.0.0.1", running.port), timeout=10) as sock:
                sock.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    f"Content-Length: 4000\r\n\r\n".encode()
                    + partial
                )
        # the server is still answering, and the two disconnects were seen before it stops
        assert httpx.get(f"{running.url}/healthz", timeout=10).status_code == 200
        _wait_for(running, "client disconnected", count=2)
    output = running.output()

    assert "Traceback" not in output
    assert " ERROR " not in output and "ERROR:" not in output
    lines = [line for line in output.splitlines() if "client disconnected" in line]
    # each line ends with its request's id (the context every line of a request carries)
    assert [re.sub(r" request_id=[0-9a-f]{24}$", "", line.split(" DEBUG ", 1)[1]) for line in lines] == [
        "shop_app.main client disconnected before its request body ended method=POST path=/webhooks",
        "shop_app.main client disconnected before its request body ended method=POST path=/api/v1/session",
    ]
    assert all(re.search(r" request_id=[0-9a-f]{24}$", line) for line in lines)


def test_connections_that_never_finish_a_request_are_closed(settings: Settings, tmp_path: Path) -> None:
    # given the server with one-second header and keep-alive timeouts
    with served(settings, tmp_path, "--timeout-header", "1", "--timeout-keep-alive", "1") as running:
        address = ("127.0.0.1", running.port)
        # when one client sends half a request line, one sends nothing, one stops mid-body and one keeps
        # its connection after an answer
        half_line = socket.create_connection(address, timeout=10)
        silent = socket.create_connection(address, timeout=10)
        mid_body = socket.create_connection(address, timeout=10)
        idle = socket.create_connection(address, timeout=10)
        try:
            half_line.sendall(b"GET /heal")
            mid_body.sendall(
                b"POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 500\r\n\r\n{"
            )
            idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            # then the server closes each of them
            outcomes = {
                name: _read_until_closed(sock)
                for name, sock in (
                    ("half request line", half_line),
                    ("nothing sent", silent),
                    ("stopped mid-body", mid_body),
                    ("idle after an answer", idle),
                )
            }
        finally:
            for sock in (half_line, silent, mid_body, idle):
                sock.close()
        assert {name: closed for name, (closed, _) in outcomes.items()} == {
            "half request line": True,
            "nothing sent": True,
            "stopped mid-body": True,
            "idle after an answer": True,
        }
        assert outcomes["half request line"][1].startswith(b"HTTP/1.1 408 ")
        assert outcomes["idle after an answer"][1].startswith(b"HTTP/1.1 200 ")
        # and a request with an oversized head is refused at once; the server still answers
        with socket.create_connection(address, timeout=10) as huge:
            huge.sendall(
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * (MAX_REQUEST_HEAD_BYTES + 1)
            )
            closed, answer = _read_until_closed(huge)
        assert closed and answer.startswith(b"HTTP/1.1 431 ")
        assert httpx.get(f"{running.url}/healthz", timeout=10).status_code == 200
    assert "Traceback" not in running.output()


def test_serve_builds_uvicorn_with_the_connection_limits_and_the_redacting_access_log(
    settings: Settings,
) -> None:
    defaults = serve_config(settings, _parser().parse_args(["serve"]))
    chosen = serve_config(
        replace(settings, log_level="TRACE"),
        _parser().parse_args(
            [
                "serve",
                "--timeout-keep-alive",
                "7",
                "--timeout-header",
                "2.5",
                "--limit-concurrency",
                "50",
                "--timeout-graceful-shutdown",
                "9",
            ]
        ),
    )

    for config in (defaults, chosen):
        assert isinstance(config, ServerConfig)
        assert config.http is BoundedHttpToolsProtocol
        assert config.h11_max_incomplete_event_size == MAX_REQUEST_HEAD_BYTES
        assert config.proxy_headers and config.factory
        assert isinstance(config.log_config, dict)
        assert config.log_config["loggers"]["uvicorn.access"]["filters"] == ["redacted_queries"]
    assert (
        defaults.timeout_keep_alive,
        defaults.limits.header_timeout_seconds,
        defaults.limit_concurrency,
        defaults.timeout_graceful_shutdown,
    ) == (5, 10.0, 1000, 20)
    assert (
        chosen.timeout_keep_alive,
        chosen.limits.header_timeout_seconds,
        chosen.limit_concurrency,
        chosen.timeout_graceful_shutdown,
    ) == (7, 2.5, 50, 9)
    assert chosen.log_level == "debug"  # never uvicorn's TRACE, which logs every request's headers


def test_the_dev_server_has_the_same_limits_and_access_log(settings: Settings) -> None:
    config = app_server_config(settings)

    assert config.http is BoundedHttpToolsProtocol
    assert config.timeout_keep_alive == settings.connections.keep_alive_seconds
    assert config.limit_concurrency == settings.connections.max_connections
    assert isinstance(config.log_config, dict)
    assert config.log_config["loggers"]["uvicorn.access"]["filters"] == ["redacted_queries"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHOP_APP_HEADER_TIMEOUT_SECONDS", "0"),
        ("SHOP_APP_KEEP_ALIVE_SECONDS", "-1"),
        ("SHOP_APP_MAX_CONNECTIONS", "many"),
        ("SHOP_APP_SHUTDOWN_TIMEOUT_SECONDS", "inf"),
    ],
)
def test_connection_limits_are_read_from_the_environment_and_nonsense_is_refused(
    tmp_path: Path, name: str, value: str
) -> None:
    env = {
        "SHOP_APP_DATA_DIR": str(tmp_path),
        "SHOP_APP_KEEP_ALIVE_SECONDS": "3",
        "SHOP_APP_HEADER_TIMEOUT_SECONDS": "4.5",
        "SHOP_APP_MAX_CONNECTIONS": "200",
        "SHOP_APP_SHUTDOWN_TIMEOUT_SECONDS": "15",
    }
    assert load_settings(env).connections == ConnectionLimits(
        keep_alive_seconds=3, header_timeout_seconds=4.5, max_connections=200, shutdown_timeout_seconds=15
    )
    with pytest.raises(SettingsError, match=name):
        load_settings({**env, name: value})


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/healthz", "/healthz"),
        (
            "/app?shop=a.myshopify.com&embedded=1&host=YWJj&id_token=eyJ.x.y&hmac=f00&session=abc",
            "/app?shop=a.myshopify.com&embedded=1&host=[redacted]&id_token=[redacted]&hmac=[redacted]"
            "&session=[redacted]",
        ),
        (
            "/auth/callback?code=c0de&state=s7a7e&hmac=h&shop=a.myshopify.com&timestamp=1700000000",
            "/auth/callback?code=[redacted]&state=[redacted]&hmac=[redacted]&shop=a.myshopify.com"
            "&timestamp=1700000000",
        ),
        (
            "/proxy/support/messages?after=3&n=ab12&logged_in_customer_id=501&signature=9f",
            "/proxy/support/messages?after=3&n=[redacted]&logged_in_customer_id=[redacted]"
            "&signature=[redacted]",
        ),
        ("/api/v1/contacts?q=hanako%40example.jp&limit=5", "/api/v1/contacts?q=[redacted]&limit=5"),
        ("/x?a-bare-token-value&token=t", "/x?[redacted]&token=[redacted]"),
    ],
)
def test_query_values_are_logged_only_for_harmless_names(target: str, logged: str) -> None:
    assert redact_query(target) == logged


def test_the_access_filter_rewrites_uvicorns_record_and_debug_keeps_drivers_quiet() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/app?id_token=secret-token&shop=a.myshopify.com", "1.1", 200), None,
    )  # fmt: skip
    assert RedactedQueries().filter(record)
    assert "secret-token" not in record.getMessage()
    assert "/app?id_token=[redacted]&shop=a.myshopify.com" in record.getMessage()

    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in QUIET_LOGGERS)]
    levels, handlers = [each.level for each in loggers], list(logging.getLogger().handlers)
    try:
        configure_logging("DEBUG")
        assert {name: logging.getLogger(name).getEffectiveLevel() for name in QUIET_LOGGERS} == dict.fromkeys(
            QUIET_LOGGERS, logging.WARNING
        )
    finally:
        for each, level in zip(loggers, levels, strict=True):
            each.setLevel(level)
        logging.getLogger().handlers[:] = handlers
