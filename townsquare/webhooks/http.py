"""The one place webhooks reach the outside: a POST with short timeouts, no redirects, no
proxy from the environment, and never to a link-local address (169.254.0.0/16, where clouds
serve their instance metadata and credentials, and fe80::/10).

The address is checked twice: when a URL is saved (check_target) and when each delivery
connects, on the very address it connects to, so a name that later resolves elsewhere is
caught too.
Loopback and private addresses stay allowed: self-hosted receivers live there.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
EXCERPT_CHARS = 1000

FORBIDDEN_NETWORKS = [
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    # AWS's instance metadata over IPv6.
    ipaddress.ip_network("fd00:ec2::254/128"),
]


class TargetError(ValueError):
    """A URL Townsquare will not deliver to, with the reason in words."""


class TransportError(Exception):
    """No HTTP answer: the reason in words, and whether trying again later can help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str
    location: str = ""


def is_forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in FORBIDDEN_NETWORKS)


def check_target(url: str) -> None:
    """Raise TargetError unless `url` is an http(s) URL whose host resolves, and to no
    link-local address."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise TargetError("Enter an http:// or https:// URL.")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise TargetError("The port of this URL is not a number between 0 and 65535.") from None
    if not host:
        raise TargetError("Enter a URL with a host name, like https://example.org/hooks.")
    port = port or (443 if parts.scheme.lower() == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetError(f"Townsquare cannot find the address of {host}.") from None
    for *_, sockaddr in found:
        if is_forbidden(str(sockaddr[0])):
            raise TargetError(
                f"{host} is a link-local address ({sockaddr[0]}), where cloud machines keep "
                "their metadata and credentials: Townsquare does not send webhooks there."
            )


class _ForbiddenPeer(Exception):
    def __init__(self, address: str) -> None:
        super().__init__(address)
        self.address = address


def _connect_pinned(conn: HTTPConnection, connect: Callable[[], socket.socket]) -> socket.socket:
    """Resolve the host once, refuse it if any address is link-local, and connect to the
    address checked (urllib3 reads `_dns_host` only to open the socket; TLS still checks the
    certificate against the host name), so no second lookup can answer differently."""
    name = conn._dns_host
    try:
        found = socket.getaddrinfo(conn.host, conn.port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise NameResolutionError(conn.host, conn, e) from e
    addresses = [str(sockaddr[0]) for *_, sockaddr in found]
    for address in addresses:
        if is_forbidden(address):
            raise _ForbiddenPeer(address)
    conn._dns_host = addresses[0]
    try:
        return connect()
    finally:
        conn._dns_host = name


class _HTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_pinned(self, super()._new_conn)


class _HTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_pinned(self, super()._new_conn)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    """requests' adapter with urllib3 connections that refuse a link-local peer. urllib3
    has no hook for this; its documented pool_classes_by_scheme is the smallest way in."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` once; the status and the start of the answer, or TransportError."""
    with requests.Session() as session:
        # Deliveries go straight to the receiver: a proxy would hide the address checked.
        session.trust_env = False
        adapter = _CheckedAdapter(max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        try:
            response = session.post(
                url,
                data=body,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                allow_redirects=False,
                stream=True,
            )
        except _ForbiddenPeer as e:
            raise TransportError(
                f"The host now resolves to the link-local address {e.address}: not sent.",
                permanent=True,
            ) from None
        except requests.RequestException as e:
            raise TransportError(_in_words(e, url)) from None
        with response:
            try:
                raw = response.raw.read(EXCERPT_CHARS * 4, decode_content=True) or b""
            except Exception:  # a broken or undecodable answer body: the status still counts
                raw = b""
        text = raw.decode(response.encoding or "utf-8", errors="replace")
        if len(text) > EXCERPT_CHARS:
            text = text[:EXCERPT_CHARS] + "…"
        return Answer(response.status_code, text, response.headers.get("Location", ""))


def _in_words(error: requests.RequestException, url: str) -> str:
    host = urlsplit(url).hostname or url
    if isinstance(error, requests.ConnectTimeout):
        return f"{host} did not accept the connection within {CONNECT_TIMEOUT:g} s."
    if isinstance(error, requests.ReadTimeout):
        return f"{host} did not answer within {READ_TIMEOUT:g} s."
    if isinstance(error, requests.exceptions.SSLError):
        return f"The TLS connection to {host} failed: {_root_cause(error)}"
    if isinstance(error, requests.ConnectionError):
        return f"Could not connect to {host}: {_root_cause(error)}"
    return f"The request to {host} failed: {_root_cause(error)}"


def _root_cause(error: BaseException) -> str:
    """The innermost reason urllib3 and requests wrap, e.g. "Connection refused"."""
    seen: set[int] = set()
    current: BaseException | None = error
    deepest: BaseException = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        deepest = current
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            current = reason
        elif current.args and isinstance(current.args[0], BaseException):
            current = current.args[0]
        else:
            current = current.__cause__ or current.__context__
    if isinstance(deepest, OSError) and deepest.strerror:
        return f"{deepest.strerror}."
    text = str(deepest).strip() or type(deepest).__name__
    return text if text.endswith(".") else f"{text}."
