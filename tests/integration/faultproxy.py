"""A fault-injecting HTTP proxy for loopback tests: seeded, bounded, 127.0.0.1 only.

Forwards each request to one upstream server and, with probability `rate`, injects one
of these faults instead (chosen by a seeded RNG, so a failing run can be replayed):

- ``error500``: answer 500 without forwarding (the server never saw the request);
- ``reset_before``: drop the connection (TCP RST) without forwarding;
- ``reset_after``: forward, let the server commit, then drop the connection before
  the client gets the answer -- the hard case for a non-idempotent PUT;
- ``timeout``: hold the request for `delay` seconds (longer than the client's
  timeout), then forward it anyway, so it may commit after the client gave up.

It also counts requests per method and can call a hook on every request (used to
kill -9 a client at a chosen point).
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

FAULTS = ("error500", "reset_before", "reset_after", "timeout")
_HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


class FaultProxy:
    def __init__(self, upstream: str, *, rate: float = 0.0, seed: int = 0, delay: float = 1.5,
                 faults: tuple[str, ...] = FAULTS, max_requests: int = 20000):
        parts = urllib.parse.urlsplit(upstream)
        assert parts.hostname == "127.0.0.1", "faults are injected on loopback only"
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.rate, self.delay, self.faults = rate, delay, faults
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.injected: Counter = Counter()
        self.max_requests = max_requests          # a bound, so a runaway client cannot loop forever
        self.hook = None                          # called as hook(method, path) before forwarding
        self.after_hook = None                    # called after the server answered, before the client hears
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    proxy.counts[self.command] += 1
                    total = sum(proxy.counts.values())
                    fault = proxy.random.choice(proxy.faults) if proxy.random.random() < proxy.rate else None
                    if fault:
                        proxy.injected[fault] += 1
                if total > proxy.max_requests:
                    fault = "error500"
                if proxy.hook is not None:
                    proxy.hook(self.command, self.path)
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
                conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                    return response.status, {k: v for k, v in response.getheaders()
                                             if k.lower() not in _HOP_HEADERS | {"content-length"}}, payload
                finally:
                    conn.close()

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

            do_GET = do_PUT = do_DELETE = do_REPORT = do_PROPFIND = do_MKCALENDAR = do_OPTIONS = do_HEAD = _handle
            do_POST = do_PROPPATCH = _handle

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # resets and timeouts are the point here, not news

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def translate(self, upstream_url: str) -> str:
        """The same URL, through this proxy."""
        parts = urllib.parse.urlsplit(upstream_url)
        return urllib.parse.urlunsplit((parts.scheme, f"127.0.0.1:{self.port}", parts.path, parts.query, ""))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False
