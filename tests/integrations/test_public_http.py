"""The helpdesk client connects only to public addresses, checked when it connects (DNS rebinding): a name
resolving to the cloud metadata service, to a private network or to loopback is refused before anything is
sent; the connection goes to the address that was checked, never to a second lookup's answer."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace

import httpcore
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.public_http import PublicOnlyTransport, is_public_address, is_public_name
from shop_app.lifespan import open_services
from shop_app.settings import Mode, Settings

PUBLIC = "93.184.216.34"


class Recording(httpcore.AsyncNetworkBackend):
    """Stands for the network: notes where it was asked to connect and sends those to a local server."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port
        self.hosts: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.hosts.append(host)
        if self.port is None:
            raise httpcore.ConnectError("no network here")
        return await httpcore.AnyIOBackend().connect_tcp("127.0.0.1", self.port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def answers(*rounds: list[str]) -> tuple[list[str], object]:
    asked: list[str] = []
    left = list(rounds)

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return left.pop(0) if len(left) > 1 else left[0]

    return asked, resolver


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, list[bytes]]]:
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(
            b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'
        )
        await writer.drain()
        writer.close()

    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield port, seen


@pytest.mark.parametrize(
    "resolved",
    [
        ["169.254.169.254"],  # the cloud metadata service
        ["10.0.0.7"],
        ["192.168.1.20"],
        ["172.16.5.5"],
        ["127.0.0.1"],
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["fd00::1"],
        ["100.64.0.1"],  # carrier-grade NAT
        [PUBLIC, "10.0.0.7"],  # one bad answer among good ones
        [],
    ],
)
async def test_a_name_resolving_inside_our_network_is_refused_before_connecting(resolved: list[str]) -> None:
    network = Recording()
    asked, resolver = answers(resolved)
    async with httpx.AsyncClient(transport=PublicOnlyTransport(resolver=resolver, inner=network)) as client:  # type: ignore[arg-type]
        with pytest.raises(httpx.ConnectError):
            await client.get("http://desk.example.com/api/v1/profile")
    assert asked == ["desk.example.com"] and network.hosts == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://169.254.169.254/latest/",
        "http://localhost/",
        "http://desk.internal/",
    ],
)
async def test_a_literal_or_local_name_is_refused_without_a_lookup(url: str) -> None:
    network = Recording()
    asked, resolver = answers([PUBLIC])
    async with httpx.AsyncClient(transport=PublicOnlyTransport(resolver=resolver, inner=network)) as client:  # type: ignore[arg-type]
        with pytest.raises(httpx.ConnectError):
            await client.get(url)
    assert asked == [] and network.hosts == []


async def test_the_connection_goes_to_the_checked_address_and_a_rebound_name_is_refused(
    server: tuple[int, list[bytes]],
) -> None:
    port, seen = server
    network = Recording(port)
    # the first lookup says a public address; the name is then rebound to the metadata service
    asked, resolver = answers([PUBLIC], ["169.254.169.254"])
    transport = PublicOnlyTransport(resolver=resolver, inner=network)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport) as client:
        answer = await client.get("http://desk.example.com/api/v1/profile")
        assert answer.json() == {"ok": True}
        # connected to the address that was checked, with the name in the Host header
        assert network.hosts == [PUBLIC]
        assert b"host: desk.example.com" in seen[0].lower()
        # the server closed that connection: the next one looks the name up again and is refused
        with pytest.raises(httpx.ConnectError):
            await client.get("http://desk.example.com/api/v1/profile")
    assert asked == ["desk.example.com", "desk.example.com"] and network.hosts == [PUBLIC]


PRIVATE_NETWORKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16"]


@given(
    st.one_of(
        *[st.ip_addresses(network=network) for network in PRIVATE_NETWORKS],
        st.ip_addresses(v=6, network="fc00::/7"),
        st.ip_addresses(v=6, network="fe80::/10"),
    )
)
def test_no_private_loopback_or_link_local_address_counts_as_public(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    assert not is_public_address(str(address))
    assert not is_public_name(str(address))
    if isinstance(address, ipaddress.IPv4Address):
        assert not is_public_address(f"::ffff:{address}")


async def test_in_production_helpdesk_calls_go_through_the_check_and_in_development_to_the_simulators(
    settings: Settings,
) -> None:
    async with open_services(replace(settings, mode=Mode.PRODUCTION), listen=False) as services:
        assert isinstance(services.helpdesk._transport, PublicOnlyTransport)
        assert services.helpdesk is not services.http
    async with open_services(replace(settings, mode=Mode.DEVELOPMENT), listen=False) as services:
        assert services.helpdesk is services.http
