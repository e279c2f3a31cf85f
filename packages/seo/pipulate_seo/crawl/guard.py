"""The crawler must not be turned against the user's own network by a pasted URL.

A link on a public page (or a redirect) can point at 192.168.1.1, a router's admin page, or at
127.0.0.1, the user's own apps. So every connection the crawler opens is checked where it is
made: the host name is resolved here, each address is checked, and the connection goes to the
address that was checked (no second lookup a DNS-rebinding server could answer differently).
Private, loopback, link-local and reserved addresses are refused unless the user confirmed
them for this crawl.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpcore


class BlockedAddress(httpcore.ConnectError):
    """A connection to a private address the user did not allow; the message says why."""


def is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified


def kind_of(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.is_loopback:
        return "a loopback address (this computer)"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private network address"
    return "a reserved address"


async def resolve(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise httpcore.ConnectError(f"the host name {host} could not be resolved ({error.strerror})") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def refusal(host: str, address: str) -> str:
    return (f"{host} is {kind_of(address)} ({address}); private targets are crawled only when the crawl allows them, "
            "so a pasted URL cannot turn the crawler against your own network.")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address check in front of every connection."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = await resolve(host, port)
        if not self.allow_private:
            for address in addresses:
                if is_private(address):
                    raise BlockedAddress(refusal(host, address))
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options)
            except httpcore.ConnectError as error:
                last = error
        raise last or httpcore.ConnectError(f"no address to connect to for {host}")

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover - never used
        raise httpcore.ConnectError("the crawler does not use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def check_host(host: str, allow_private: bool) -> str | None:
    """Why the crawl cannot start at `host` (a sentence), or None when it can."""
    try:
        addresses = await resolve(host, 443)
    except httpcore.ConnectError as error:
        return f"{error}."
    if not allow_private:
        for address in addresses:
            if is_private(address):
                return refusal(host, address) + " Tick “Allow private addresses” to crawl it."
    return None
