"""An httpx client that connects only to public addresses, for calls to an address a merchant typed (their
Chatwoot, their Zendesk) with their tokens: never into our own network (loopback, private, link-local such
as the cloud metadata service, carrier-grade NAT, reserved).

Checking the name when it is saved is not enough: its DNS answer may change afterwards (DNS rebinding), and
a second lookup made by the connection itself could differ from the one checked. So the check is made at
connection time, by httpcore's network backend: the name is resolved once, every address it resolves to
must be public, and the connection is made to that checked address. TLS still verifies the certificate for
the name (httpcore starts TLS with the request's host as ``server_hostname``), and the pool keys its
connections by that name. Redirects are not followed by our clients; each new connection is checked.

httpx does not take a network backend, so the transport rebuilds its httpcore pool with one (the same
arguments ``httpx.AsyncHTTPTransport`` uses); the tests drive it through a real socket.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

Resolver = Callable[[str, int], Awaitable[list[str]]]
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


class NotPublicAddress(httpcore.ConnectError):
    """The name resolves (or the literal is) somewhere inside a private network; nothing was sent."""


def is_public_address(text: str) -> bool:
    """A literal address on the public internet (an IPv4-mapped IPv6 address is judged as its IPv4)."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def is_public_name(host: str) -> bool:
    """What can be judged without a lookup: a public literal, or a dotted name no local network claims."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(LOCAL_SUFFIXES):
        return False
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return "." in name
    return is_public_address(name)


async def resolve(host: str, port: int) -> list[str]:
    """Every address the system's resolver gives for ``host`` (TCP)."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in found]


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, *, resolver: Resolver = resolve, inner: httpcore.AsyncNetworkBackend | None = None):
        self._resolve = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if not is_public_name(host):
            raise NotPublicAddress("the helpdesk's address is not a public one")
        try:
            addresses = await self._resolve(host.strip("[]"), port)
        except OSError as error:
            raise httpcore.ConnectError(
                f"the helpdesk's name does not resolve ({type(error).__name__})"
            ) from None
        if not addresses or not all(is_public_address(address) for address in addresses):
            raise NotPublicAddress("the helpdesk's name resolves to an address that is not a public one")
        # the checked address, never a second lookup
        return await self._inner.connect_tcp(
            addresses[0], port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise NotPublicAddress("unix sockets are not a public address")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PublicOnlyTransport(httpx.AsyncHTTPTransport):
    def __init__(
        self,
        *,
        resolver: Resolver = resolve,
        inner: httpcore.AsyncNetworkBackend | None = None,
        verify: bool | str = True,
        limits: httpx.Limits = LIMITS,
    ) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PublicOnlyBackend(resolver=resolver, inner=inner),
        )


def public_only_client(
    *, timeout: httpx.Timeout | float, resolver: Resolver = resolve, verify: bool | str = True
) -> httpx.AsyncClient:
    """No proxy from the environment (it would connect for us, unchecked), no redirects."""
    return httpx.AsyncClient(
        transport=PublicOnlyTransport(resolver=resolver, verify=verify),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
