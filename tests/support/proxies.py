"""A loopback HTTP proxy that counts requests and can inject faults: seeded, bounded, 127.0.0.1 only.

Forwards each request to one upstream server on 127.0.0.1 and counts it per method. With
probability `rate` it injects one of these faults instead (chosen by a seeded RNG, so a
failing run can be replayed):

- ``error500``: answer 500 without forwarding (the server never saw the request);
- ``reset_before``: drop the connection (TCP RST) without forwarding;
- ``reset_after``: forward, let the server commit, then drop the connection before
  the client gets the answer -- the hard case for a non-idempotent PUT;
- ``timeout``: hold the request for `delay` seconds (longer than the client's
  timeout), then forward it anyway, so it may commit after the client gave up.

With the default rate 0 it only counts: the benchmarks' request counts are taken here,
for every client alike. It can call a hook on every request (used to kill -9 a client at
a chosen point). Bounded: after `max_requests` it answers 500 instead of forwarding, so a
runaway client cannot loop forever.

Each client connection gets one keep-alive connection to the server, so the proxy adds
no connection set-ups of its own to what a client pays.
"""
from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
FAULTS = ("error500", "reset_before", "reset_after", "timeout")
_HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


class FaultProxy:
    def __init__(self, upstream: str, *, rate: float = 0.0, seed: int = 0, delay: float = 1.5,
                 faults: tuple[str, ...] = FAULTS, max_requests: int = 20000, upstream_timeout: float = 30.0):
        parts = urllib.parse.urlsplit(upstream)
        assert parts.hostname == HOST, "the proxy forwards to loopback only"
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.rate, self.delay, self.faults = rate, delay, faults
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.injected: Counter = Counter()
        self.connections = 0                      # client connections accepted (keep-alive shows here)
        self.max_requests = max_requests
        self.upstream_timeout = upstream_timeout
        self.hook = None                          # called as hook(method, path) before forwarding
        self.after_hook = None                    # called after the server answered, before the client hears
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: with Nagle on, the body waits for
            # the client's delayed ACK, adding tens of milliseconds to every request.
            disable_nagle_algorithm = True
            upstream: http.client.HTTPConnection | None = None
            upstream_used = False                 # has the upstream connection carried a request yet

            def log_message(self, *args):  # keep test output clean
                pass

            def setup(self):
                super().setup()
                with proxy.lock:
                    proxy.connections += 1

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    proxy.counts[self.command] += 1
                    over_limit = sum(proxy.counts.values()) > proxy.max_requests
                    fault = proxy.random.choice(proxy.faults) if proxy.random.random() < proxy.rate else None
                    if fault and not over_limit:
                        proxy.injected[fault] += 1
                if proxy.hook is not None:
                    proxy.hook(self.command, self.path)
                if over_limit:
                    self._reply(500, {"Content-Type": "text/plain"}, b"request limit of the proxy reached")
                    return
                if fault == "error500":
                    self._reply(500, {"Content-Type": "text/plain"}, b"injected fault")
                    return
                if fault == "reset_before":
                    self._reset()
                    return
                if fault == "timeout":
                    time.sleep(proxy.delay)
                status, headers, payload = self._forward(body)
                if proxy.after_hook is not None:
                    proxy.after_hook(self.command, self.path)
                if fault == "reset_after":
                    self._reset()
                    return
                self._reply(status, headers, payload)

            def _forward(self, body: bytes):
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                while True:
                    if self.upstream is None:
                        self.upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port,
                                                                   timeout=proxy.upstream_timeout)
                        self.upstream_used = False
                    reused = self.upstream_used
                    self.upstream_used = True
                    try:
                        self.upstream.request(self.command, self.path, body=body or None, headers=headers)
                        response = self.upstream.getresponse()
                        payload = response.read()
                    except (ConnectionError, http.client.HTTPException):
                        self._close_upstream()
                        if reused:
                            continue  # the server closed an idle keep-alive connection: one fresh try
                        raise
                    if response.will_close:
                        self._close_upstream()
                    return response.status, {k: v for k, v in response.getheaders()
                                             if k.lower() not in _HOP_HEADERS | {"content-length"}}, payload

            def _close_upstream(self):
                if self.upstream is not None:
                    self.upstream.close()
                    self.upstream = None

            def _reply(self, status: int, headers: dict, payload: bytes):
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _reset(self):
                # SO_LINGER 0: close sends RST, as a crashed middlebox would.
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                except OSError:
                    pass
                self.close_connection = True

            def finish(self):
                self._close_upstream()
                super().finish()

            do_GET = do_PUT = do_DELETE = do_REPORT = do_PROPFIND = do_MKCALENDAR = do_OPTIONS = do_HEAD = _handle
            do_POST = do_PROPPATCH = _handle

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # resets and timeouts are the point here, not news

        self.server = Server((HOST, 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{HOST}:{self.port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def translate(self, upstream_url: str) -> str:
        """The same URL, through this proxy."""
        parts = urllib.parse.urlsplit(upstream_url)
        return urllib.parse.urlunsplit((parts.scheme, f"{HOST}:{self.port}", parts.path, parts.query, ""))

    def reset(self) -> None:
        """Count afresh (the request bound too)."""
        with self.lock:
            self.counts.clear()
            self.injected.clear()
            self.connections = 0

    def snapshot(self) -> dict[str, int]:
        """The requests per method so far, sorted by method."""
        with self.lock:
            return dict(sorted(self.counts.items()))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False
