"""Keep-alive HTTP connections for the CalDAV targets: one per worker thread and server.

A sync talks to one or a few servers for a whole team. Opening a TCP (and TLS) connection per
person, as a client per calendar does, costs one round trip (TLS: two or three more) per calendar
before its first request; over a link 20-100 ms away that is most of a no-op sync. Here each
worker thread keeps one connection per server (scheme, host, port) and every calendar it syncs
on that server uses it; the login goes with each request (HTTP authentication is per request,
RFC 9110 §11), so one connection serves many people.

The standard library's http.client does the HTTP/1.1: the requests are a handful of methods
with small bodies, and a general-purpose client stack (caldav's DAVClient on niquests) costs a
quarter of a second of imports and a good part of a millisecond per request on top.

A server may close an idle keep-alive connection at any time (RFC 9112 §9.6); a request that
fails on a reused connection before any answer came is sent once more on a fresh one, as
browsers and urllib3 do. The requests we send are conditional (If-Match / If-None-Match) or
reads, so a second arrival of one that did get through is refused (412), never applied twice.
"""
from __future__ import annotations

import http.client
import ssl
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass

from .. import __version__

USER_AGENT = f"kalender-sync/{__version__}"
# Failures that mean "the server closed the reused connection before answering".
_STALE = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionResetError,
          ConnectionAbortedError, BrokenPipeError)


class Headers(dict):
    """Response headers by lower-case name (the last of repeated ones); `get` and `[]` take any case."""

    def get(self, name, default=None):
        return super().get(name.lower(), default)

    def __getitem__(self, name):
        return super().__getitem__(name.lower())

    def __contains__(self, name):
        return super().__contains__(name.lower())


@dataclass
class Reply:
    """One answer, read whole. Shaped like the responses caldav's multistatus parser
    (caldav.response.DAVResponse) reads: status_code, reason, headers, content, text."""

    status_code: int
    reason: str
    headers: Headers
    content: bytes

    @property
    def status(self) -> int:
        return self.status_code

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def _origin(url: str) -> tuple[str, str, int]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {scheme}://")
    return scheme, parts.hostname or "", parts.port or (443 if scheme == "https" else 80)


class Connections:
    """Keep-alive connections by (thread, server); closed together at the end of a run."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._lock = threading.Lock()
        self._open: dict[tuple[int, tuple[str, str, int]], http.client.HTTPConnection] = {}
        self._tls: ssl.SSLContext | None = None
        # the environment's proxy per server, read once: the run's requests all go the same way
        self._proxies: dict[tuple[str, str, int], tuple[str, str, int] | None] = {}
        self.opened = 0            # connections made (a test can see keep-alive at work)

    def _context(self) -> ssl.SSLContext:
        with self._lock:
            if self._tls is None:
                self._tls = ssl.create_default_context()
            return self._tls

    def _proxy(self, origin: tuple[str, str, int]) -> tuple[str, str, int] | None:
        with self._lock:
            if origin not in self._proxies:
                self._proxies[origin] = _proxy_for(origin[0], origin[1])
            return self._proxies[origin]

    def _connect(self, origin: tuple[str, str, int]) -> http.client.HTTPConnection:
        scheme, host, port = origin
        proxy = self._proxy(origin)
        if scheme == "https":
            if proxy is not None:
                connection = http.client.HTTPSConnection(proxy[1], proxy[2], timeout=self.timeout,
                                                         context=self._context())
                connection.set_tunnel(host, port)
            else:
                connection = http.client.HTTPSConnection(host, port, timeout=self.timeout, context=self._context())
        else:
            connection = http.client.HTTPConnection(*(proxy[1:] if proxy else (host, port)), timeout=self.timeout)
        with self._lock:
            self.opened += 1
        return connection

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        origin = _origin(url)
        key = (threading.get_ident(), origin)
        parts = urllib.parse.urlsplit(url)
        # Through a plain-HTTP proxy the request line names the whole URL (RFC 9112 §3.2.2).
        target = url if origin[0] == "http" and self._proxy(origin) else (
            urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, "")))
        sent = {"User-Agent": USER_AGENT, **(headers or {})}
        with self._lock:
            connection = self._open.pop(key, None)
        reused = connection is not None
        while True:
            if connection is None:
                connection = self._connect(origin)
            try:
                connection.request(method, target, body=body, headers=sent)
                response = connection.getresponse()
                content = response.read()
            except _STALE:
                connection.close()
                connection = None
                if reused:
                    reused = False
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            break
        reply = Reply(response.status, response.reason or "",
                      Headers((name.lower(), value) for name, value in response.getheaders()), content)
        if response.will_close:
            connection.close()
        else:
            with self._lock:
                self._open[key] = connection
        return reply

    def close(self) -> None:
        with self._lock:
            connections, self._open = list(self._open.values()), {}
        for connection in connections:
            connection.close()


def _proxy_for(scheme: str, host: str) -> tuple[str, str, int] | None:
    """The proxy the environment names for this scheme and host (HTTPS_PROXY, HTTP_PROXY,
    NO_PROXY), as the HTTP clients people know honour them; None: straight to the server."""
    proxies = urllib.request.getproxies_environment()
    address = proxies.get(scheme)
    if not address or urllib.request.proxy_bypass_environment(host, proxies):
        return None
    if "://" not in address:
        address = "http://" + address
    parts = urllib.parse.urlsplit(address)
    if not parts.hostname:
        return None
    return "http", parts.hostname, parts.port or 8080

