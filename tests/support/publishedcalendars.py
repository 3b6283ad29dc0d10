"""A loopback HTTP server that publishes calendars the way Outlook and Google do (a GET per .ics URL),
for the tests of reading busy times: 127.0.0.1 only, on a free port, in a thread.

Each path answers what its :class:`Route` says, for any method (so it can also stand in for a
CalDAV server that answers garbage). An ETag (a digest of the body) and a Last-Modified are sent
when the route says so, and a matching If-None-Match / If-Modified-Since is answered 304. Every
request is recorded (method, path, headers); the most requests in flight at once and the connections
accepted are counted, so that tests can see what a client sent, how many in parallel, and whether it
kept its connections alive.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

HOST = "127.0.0.1"


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/calendar; charset=utf-8"
    etag: bool = True
    last_modified: str | None = None      # an HTTP date, sent as Last-Modified
    delay: float = 0.0                    # seconds before answering


@dataclass
class Seen:
    method: str
    path: str
    headers: dict = field(default_factory=dict)    # lower-cased names


class PublishedCalendars:
    """``with PublishedCalendars() as site: site.routes["/x.ics"] = Route(body)``; ``site.url("/x.ics")``.

    ``fallback(path)`` may give a Route for paths not in ``routes`` (default: 404)."""

    def __init__(self, fallback: Callable[[str], Route | None] | None = None):
        self.routes: dict[str, Route] = {}
        self.fallback = fallback
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.connections = 0                  # TCP connections accepted: keep-alive shows as few
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def setup(self):
                super().setup()
                with site.lock:
                    site.connections += 1

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                with site.lock:
                    site.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                    site.in_flight += 1
                    site.most_in_flight = max(site.most_in_flight, site.in_flight)
                try:
                    route = site.routes.get(path) or (site.fallback(path) if site.fallback else None)
                    if route is None:
                        self._reply(404, {"Content-Type": "text/plain"}, b"not found")
                        return
                    if route.delay:
                        time.sleep(route.delay)
                    headers = {"Content-Type": route.content_type}
                    etag = f'"{hashlib.sha256(route.body).hexdigest()[:16]}"' if route.etag else None
                    if etag:
                        headers["ETag"] = etag
                    if route.last_modified:
                        headers["Last-Modified"] = route.last_modified
                    if route.status == 200 and (
                            etag and self.headers.get("If-None-Match") == etag
                            or route.last_modified and self.headers.get("If-None-Match") is None
                            and self.headers.get("If-Modified-Since") == route.last_modified):
                        self._reply(304, {k: v for k, v in headers.items() if k != "Content-Type"}, b"")
                        return
                    self._reply(route.status, headers, route.body)
                finally:
                    with site.lock:
                        site.in_flight -= 1

            def _reply(self, status, headers, body):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            do_GET = do_REPORT = do_PROPFIND = do_PUT = _handle

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="published-calendars", daemon=True)

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://{HOST}:{self.port}{path}"

    def requests_to(self, path: str) -> list[Seen]:
        with self.lock:
            return [seen for seen in self.seen if seen.path.split("?", 1)[0] == path]

    def __enter__(self) -> "PublishedCalendars":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
