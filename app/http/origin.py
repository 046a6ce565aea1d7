"""The origin a client used (scheme and host), and the addresses built on it (``UrlsDep``).

Every ``url`` field, ``Link`` and ``Location`` names the origin the client used, so a page on
another origin never resolves them against itself. The origin is worked out from the request
and handed, as an argument, to the code that builds the answer: a route declares ``UrlsDep``
and passes the ``Urls`` it gets to its queries; the release layer works out the same origin
for its cache key (``origin``), so an answer kept in memory is kept per origin and its
``ETag`` changes with its body.

The origin is the request's scheme and ``Host``. ``X-Forwarded-Proto`` and ``X-Forwarded-Host``
replace them only when the peer's address is a trusted proxy (``THERAPY_KB_TRUSTED_PROXIES``,
handed in by ``app.main`` as ``app.state.trusted_proxies``): anyone else could otherwise choose
the links the API hands out.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import Scope

from app.urls import Urls

# A host, with its port, as RFC 9110 allows it (no user info, no path); anything else is ignored.
SANE_HOST = re.compile(rb"[A-Za-z0-9.\-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?")
DEFAULT_PORTS = {"http": 80, "https": 443}
ORIGIN_HEADERS = (b"host", b"x-forwarded-host", b"x-forwarded-proto")


class Trusted:
    """The peers whose ``X-Forwarded-*`` headers are believed: addresses, networks, or ``*``."""

    def __init__(self, proxies: Sequence[str]) -> None:
        self.anyone = "*" in proxies
        self.networks = [ipaddress.ip_network(p, strict=False) for p in proxies if p != "*"]

    def __call__(self, client: tuple[str, int] | None) -> bool:
        if self.anyone:
            return True
        if not self.networks or client is None:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(address in network for network in self.networks)


def origin(scope: Scope, trusted: Trusted) -> str:
    """``scheme://host[:port]`` of the request as the client addressed it."""
    host = forwarded_host = forwarded_proto = b""
    for name, value in scope["headers"]:
        if name == b"host" and not host:
            host = value
        elif name == b"x-forwarded-host" and not forwarded_host:
            forwarded_host = value
        elif name == b"x-forwarded-proto" and not forwarded_proto:
            forwarded_proto = value
    if not (forwarded_host or forwarded_proto) or not trusted(scope.get("client")):
        forwarded_host = forwarded_proto = b""
    server = scope.get("server")
    server = tuple(server) if server else None  # hashable, for the cache below
    return _origin(scope.get("scheme", "http"), host, forwarded_proto, forwarded_host, server)


@lru_cache(maxsize=256)  # clients send a handful of hosts: parse each once
def _origin(
    scheme: str,
    host: bytes,
    forwarded_proto: bytes,
    forwarded_host: bytes,
    server: tuple[str, int | None] | None,
) -> str:
    proto = forwarded_proto.split(b",")[0].strip().lower()
    if proto in (b"http", b"https"):
        scheme = proto.decode()
    forwarded = forwarded_host.split(b",")[0].strip()
    if forwarded:
        host = forwarded
    if not SANE_HOST.fullmatch(host):
        if not server:
            return f"{scheme}://localhost"
        name, port = server
        host = (name if port in (None, DEFAULT_PORTS.get(scheme)) else f"{name}:{port}").encode()
    return f"{scheme}://{host.decode('ascii')}"


async def urls_of(request: Request) -> Urls:
    """Dependency: addresses on the origin this request used. Async: no thread hop for it."""
    trusted: Trusted = request.app.state.trusted_proxies
    return Urls(origin(request.scope, trusted))


UrlsDep = Annotated[Urls, Depends(urls_of)]
