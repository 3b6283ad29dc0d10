"""A loopback HTTP proxy that counts requests per method (after tests/integration/faultproxy.py).

Copied and cut down from the test suite's FaultProxy (no faults): it forwards each request
to one upstream server on 127.0.0.1 and counts it. One upstream keep-alive connection per
client connection. Bounded: after `max_requests` it answers 500 instead of forwarding, so
a runaway client cannot loop forever. Counts are the truth for every client (ours and
vdirsyncer); wall times are measured without the proxy.
"""
from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


class CountingProxy:
    def __init__(self, upstream: str, *, max_requests: int = 50000):
        parts = urllib.parse.urlsplit(upstream)
        assert parts.hostname == "127.0.0.1", "loopback only"
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.connections = 0
        self.max_requests = max_requests
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            upstream: http.client.HTTPConnection | None = None

            def setup(self):
                super().setup()
                with proxy.lock:
                    proxy.connections += 1

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    proxy.counts[self.command] += 1
                    total = sum(proxy.counts.values())
                if total > proxy.max_requests:
                    self._reply(500, {"Content-Type": "text/plain"}, b"request limit of the bench proxy reached")
                    return
                status, headers, payload = self._forward(body)
                self._reply(status, headers, payload)

            def _forward(self, body: bytes):
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                for attempt in (1, 2):
                    if self.upstream is None:
                        self.upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port,
                                                                   timeout=60)
                    try:
                        self.upstream.request(self.command, self.path, body=body or None, headers=headers)
                        response = self.upstream.getresponse()
                        payload = response.read()
                        if response.will_close:
                            self.upstream.close()
                            self.upstream = None
                        return response.status, {k: v for k, v in response.getheaders()
                                                 if k.lower() not in _HOP_HEADERS | {"content-length"}}, payload
                    except (ConnectionError, http.client.HTTPException):
                        # the server closed an idle keep-alive connection: one fresh try
                        self.upstream.close()
                        self.upstream = None
                        if attempt == 2:
                            raise
                raise AssertionError("unreachable")

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

            def finish(self):
                if self.upstream is not None:
                    self.upstream.close()
                super().finish()

            do_GET = do_PUT = do_DELETE = do_REPORT = do_PROPFIND = do_MKCALENDAR = do_OPTIONS = do_HEAD = _handle
            do_POST = do_PROPPATCH = _handle

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def translate(self, upstream_url: str) -> str:
        parts = urllib.parse.urlsplit(upstream_url)
        return urllib.parse.urlunsplit((parts.scheme, f"127.0.0.1:{self.port}", parts.path, parts.query, ""))

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.connections = 0

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(sorted(self.counts.items()))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False
