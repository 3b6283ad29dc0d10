"""A loopback TCP proxy that makes a link slow: a fixed one-way delay in each direction.

Listens on 127.0.0.1 (a free port) and forwards every connection it accepts to one upstream
127.0.0.1:port, byte for byte. Every chunk read in either direction is delivered `one_way`
seconds after it arrived, in order. Each direction has a queue of (due time, bytes) and a
sender thread that waits for the head's due time, so chunks that arrive while an earlier one
waits travel together: the link has latency, not a bandwidth of one chunk per delay.

A real connection costs a round trip before the client may send (SYN, SYN-ACK): on loopback
the kernel completes connect() at once, so a new connection's bytes towards the server are
held until 2 x one_way after the accept, and then take their one-way delay.

`one_way` is an attribute and may be changed while the proxy runs (e.g. 0 while a bench seeds
calendars, then the slow link for the timed runs); a chunk keeps the delay it arrived with.

It counts connections accepted, connections the server closed first, bytes per direction, and
HTTP requests per method (a light parser of the client's stream: request line, Content-Length
or chunked body), so a bench can show keep-alive at work (requests vs connections).

Bounded: at most `max_connections` accepted (later ones are closed at once), and after
`max_seconds` it stops accepting and closes what is open. 127.0.0.1 only, both sides.

    python bench/latencyproxy.py --selftest
"""
from __future__ import annotations

import argparse
import queue
import socket
import sys
import threading
import time
from collections import Counter

HOST = "127.0.0.1"
CHUNK = 65536
ACCEPT_POLL = 0.2          # seconds between checks of the stop flag and the deadline


class _HTTPCounter:
    """Counts the HTTP/1.1 requests in one client->server byte stream (incremental)."""

    def __init__(self, counts: Counter, lock: threading.Lock):
        self.counts, self.lock = counts, lock
        self.buffer = b""
        self.body_left = 0          # bytes of a Content-Length body still to skip
        self.chunked = False        # inside a chunked body
        self.broken = False         # gave up on this stream (not HTTP as expected)

    def feed(self, data: bytes) -> None:
        if self.broken:
            return
        self.buffer += data
        for _ in range(10000):      # bounded: each pass consumes a request or stops
            if self.body_left:
                step = min(self.body_left, len(self.buffer))
                self.body_left -= step
                self.buffer = self.buffer[step:]
                if self.body_left:
                    return
            if self.chunked:
                if not self._skip_chunks():
                    return
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > 1 << 20:
                    self.broken = True
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            lines = head.split(b"\r\n")
            method = lines[0].split(b" ", 1)[0].decode("ascii", "replace")
            with self.lock:
                self.counts[method] += 1
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    try:
                        self.body_left = int(value.strip())
                    except ValueError:
                        self.broken = True
                        return
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    self.chunked = True

    def _skip_chunks(self) -> bool:
        """Consume whole chunks; True once the last chunk (and its trailer) is consumed."""
        while True:
            if self.body_left:
                return False
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                return False
            try:
                size = int(self.buffer[:line_end].split(b";", 1)[0], 16)
            except ValueError:
                self.broken = True
                return False
            if size == 0:
                # the last chunk, then trailer fields (usually none) and an empty line
                trailer_end = self.buffer.find(b"\r\n\r\n", line_end)
                if trailer_end < 0:
                    return False
                self.buffer = self.buffer[trailer_end + 4:]
                self.chunked = False
                return True
            need = line_end + 2 + size + 2
            if len(self.buffer) >= need:
                self.buffer = self.buffer[need:]
                continue
            self.body_left = need - len(self.buffer)
            self.buffer = b""
            # the rest of this chunk (and its CRLF) is skipped by feed()'s body_left branch
            return False


class _Connection:
    """One accepted client connection and its upstream connection: two delayed directions.

    The upstream connection is opened when the client's first bytes are due there: a real
    server accepts a connection when the handshake's last packet arrives, which is when the
    first data arrives too. Opening it at once would hold a server's connection slot idle for
    the handshake and the first one-way trip (Radicale serves 8 connections at a time by
    default and leaves the rest in a short listen backlog)."""

    def __init__(self, proxy: "LatencyProxy", client: socket.socket, accepted: float):
        self.proxy = proxy
        self.client = client
        self.upstream: socket.socket | None = None
        # the handshake round trip a real link would cost before the first byte may leave
        self.open_at = accepted + 2 * proxy.one_way
        self.lock = threading.Lock()
        self.finished = 0
        self.closed = False
        self.client_ended = False           # the client's EOF (or error) was read
        self.server_closed_first = False
        self.counter = _HTTPCounter(proxy.requests, proxy.lock)
        self.up_queue: queue.Queue = queue.Queue()

    def start(self) -> None:
        for target, name in ((self._read_client, "latency-up-read"), (self._send_upstream, "latency-up-send")):
            threading.Thread(target=target, daemon=True, name=name).start()

    def _read_client(self) -> None:
        self._read(self.client, self.up_queue, up=True)

    def _send_upstream(self) -> None:
        due, data = self.up_queue.get()
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if data is None:                     # closed before sending anything: nothing to forward
            self._done(error=True)
            return
        try:
            upstream = socket.create_connection(self.proxy.upstream, timeout=30)
            upstream.settimeout(None)
            # A request's head and body often go out as two writes; with Nagle on, the second
            # waits for the peer's delayed ACK (tens of milliseconds) on top of the link's delay.
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            self._done(error=True)
            return
        with self.lock:
            if self.closed:
                upstream.close()
                return
            self.upstream = upstream
        down_queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, args=(upstream, down_queue, False), daemon=True,
                         name="latency-down-read").start()
        threading.Thread(target=self._send, args=(self.client, down_queue, False), daemon=True,
                         name="latency-down-send").start()
        try:
            upstream.sendall(data)
        except OSError:
            self._done(error=True)
            return
        self._send(upstream, self.up_queue, True)

    def _read(self, source: socket.socket, q: queue.Queue, up: bool) -> None:
        while True:
            try:
                data = source.recv(CHUNK)
            except OSError:
                data = b""
            now = time.monotonic()
            due = (max(now, self.open_at) if up else now) + self.proxy.one_way
            if not data:
                with self.lock:
                    if up:
                        self.client_ended = True
                    elif not self.client_ended and not self.closed:
                        self.server_closed_first = True
                q.put((due, None))
                return
            if up:
                self.counter.feed(data)
            with self.proxy.lock:
                self.proxy.bytes["up" if up else "down"] += len(data)
            q.put((due, data))

    def _send(self, dest: socket.socket, q: queue.Queue, up: bool) -> None:
        while True:
            due, data = q.get()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if data is None:
                try:
                    dest.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                self._done(error=False)
                return
            try:
                dest.sendall(data)
            except OSError:
                self._done(error=True)
                return

    def _done(self, *, error: bool) -> None:
        with self.lock:
            self.finished += 1
            close = (error or self.finished >= 2) and not self.closed
            if close:
                self.closed = True
        if close:
            self.close()
            if self.server_closed_first:
                with self.proxy.lock:
                    self.proxy.server_closed += 1

    def close(self) -> None:
        with self.lock:
            self.closed = True
            socks = [self.client] + ([self.upstream] if self.upstream is not None else [])
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass
        self.proxy._forget(self)


class LatencyProxy:
    """127.0.0.1:<free port> -> 127.0.0.1:upstream_port with `one_way` seconds each way."""

    def __init__(self, upstream_port: int, one_way: float = 0.0, *, upstream_host: str = HOST,
                 max_connections: int = 5000, max_seconds: float = 3600.0):
        assert upstream_host == HOST, "the latency proxy forwards to loopback only"
        assert one_way >= 0
        self.upstream = (upstream_host, int(upstream_port))
        self.one_way = float(one_way)
        self.max_connections = max_connections
        self.max_seconds = max_seconds
        self.lock = threading.Lock()
        self.accepted = 0               # since the last reset()
        self.accepted_total = 0         # the bound counts these
        self.refused = 0
        self.server_closed = 0
        self.requests: Counter = Counter()
        self.bytes: Counter = Counter()
        self.open: set[_Connection] = set()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, 0))
        assert self.listener.getsockname()[0] == HOST
        self.listener.listen(512)
        self.listener.settimeout(ACCEPT_POLL)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://{HOST}:{self.port}/"
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept_loop, daemon=True, name="latency-accept")
        self.started = 0.0

    # -- the link's numbers --------------------------------------------------------

    @property
    def rtt_ms(self) -> float:
        return self.one_way * 2000

    def reset(self) -> None:
        """Count afresh (connections, requests, bytes); the max_connections bound keeps counting."""
        with self.lock:
            self.accepted = 0
            self.refused = 0
            self.server_closed = 0
            self.requests.clear()
            self.bytes.clear()

    def snapshot(self) -> dict:
        with self.lock:
            return {"connections": self.accepted, "server_closed": self.server_closed,
                    "requests": dict(sorted(self.requests.items())),
                    "requests_total": sum(self.requests.values()),
                    "bytes_up": self.bytes["up"], "bytes_down": self.bytes["down"], "refused": self.refused}

    def translate(self, url: str) -> str:
        """The same http://127.0.0.1:<upstream>/... URL, through this proxy."""
        prefix = f"http://{HOST}:{self.upstream[1]}/"
        assert url.startswith(prefix), (url, prefix)
        return self.url + url[len(prefix):]

    # -- running ----------------------------------------------------------------------

    def start(self) -> "LatencyProxy":
        self.started = time.monotonic()
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            still_open = list(self.open)
        for conn in still_open:
            conn.close()

    def __enter__(self) -> "LatencyProxy":
        return self.start()

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False

    def _forget(self, conn: _Connection) -> None:
        with self.lock:
            self.open.discard(conn)

    def _accept_loop(self) -> None:
        deadline = self.started + self.max_seconds
        while not self.stopping.is_set():
            if time.monotonic() > deadline:
                break
            try:
                client, address = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            accepted = time.monotonic()
            assert address[0] == HOST, address
            with self.lock:
                over = self.accepted_total >= self.max_connections
                if over:
                    self.refused += 1
                else:
                    self.accepted_total += 1
                    self.accepted += 1
            if over:
                client.close()
                continue
            client.settimeout(None)
            # see _Connection._send_upstream for the upstream side
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(self, client, accepted)
            with self.lock:
                self.open.add(conn)
            conn.start()
        self.stopping.set()
        with self.lock:
            still_open = list(self.open)
        for conn in still_open:
            conn.close()


# -- self-test ---------------------------------------------------------------------------

class _EchoServer:
    """A loopback echo server (a thread per connection) for the self-test."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((HOST, 0))
        self.listener.listen(16)
        self.listener.settimeout(ACCEPT_POLL)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(30)
        with conn:
            while True:
                try:
                    data = conn.recv(CHUNK)
                except OSError:
                    return
                if not data:
                    return
                conn.sendall(data)

    def stop(self):
        self.stopping.set()
        self.listener.close()


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        data = sock.recv(n - got)
        if not data:
            raise ConnectionError(f"closed after {got} of {n} bytes")
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def selftest(one_way: float = 0.040, round_trips: int = 5, pipelined: int = 100) -> dict:
    """An echo over the proxy: the first exchange pays the handshake and one round trip, later
    ones one round trip each; `pipelined` chunks sent back to back arrive about one round trip
    later, not `pipelined` round trips later. Raises AssertionError when it does not hold."""
    rtt = 2 * one_way
    echo = _EchoServer()
    out: dict = {"one_way_ms": one_way * 1000}
    try:
        with LatencyProxy(echo.port, one_way, max_connections=10, max_seconds=120) as proxy:
            t0 = time.monotonic()
            sock = socket.create_connection((HOST, proxy.port), timeout=30)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with sock:
                sock.sendall(b"x" * 10)
                _recv_exactly(sock, 10)
                first = time.monotonic() - t0
                times = []
                for _ in range(round_trips):
                    t1 = time.monotonic()
                    sock.sendall(b"y" * 100)
                    _recv_exactly(sock, 100)
                    times.append(time.monotonic() - t1)
                t2 = time.monotonic()
                payload = b"z" * 1000
                for _ in range(pipelined):
                    sock.sendall(payload)
                _recv_exactly(sock, len(payload) * pipelined)
                burst = time.monotonic() - t2
            # the connection's close reaches the proxy a one-way delay later
            time.sleep(rtt + 0.1)
            counted = proxy.snapshot()
    finally:
        echo.stop()
    out.update(first_exchange_ms=round(first * 1000, 1), round_trip_ms=[round(t * 1000, 1) for t in times],
               pipelined_chunks=pipelined, pipelined_ms=round(burst * 1000, 1), counted=counted)
    # the first exchange: handshake round trip + one round trip
    assert 2 * rtt * 0.95 <= first <= 2 * rtt + 0.05, out
    for t in times:
        assert rtt * 0.95 <= t <= rtt + 0.03, out
    # back-to-back chunks share the delay: about one round trip, far below one per chunk
    assert rtt * 0.95 <= burst <= 3 * rtt, out
    assert burst < pipelined * rtt / 10, out
    assert counted["connections"] == 1 and counted["server_closed"] == 0, out
    assert counted["bytes_up"] == counted["bytes_down"] == 10 + 100 * round_trips + 1000 * pipelined, out

    # HTTP requests are counted from the client's stream (bodies by length and chunked)
    echo = _EchoServer()
    try:
        with LatencyProxy(echo.port, 0.0, max_connections=10, max_seconds=60) as proxy:
            with socket.create_connection((HOST, proxy.port), timeout=30) as sock:
                stream = (b"PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                          b"REPORT /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                          b"PROPFIND /c HTTP/1.1\r\nHost: x\r\nDepth: 1\r\n\r\n")
                for i in range(0, len(stream), 7):          # in small pieces, split anywhere
                    sock.sendall(stream[i:i + 7])
                _recv_exactly(sock, len(stream))
            time.sleep(0.1)
            http_counts = proxy.snapshot()["requests"]
    finally:
        echo.stop()
    out["http_counted"] = http_counts
    assert http_counts == {"PROPFIND": 1, "PUT": 1, "REPORT": 1}, out
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--selftest", action="store_true", help="echo over the proxy at 40 ms one-way")
    parser.add_argument("--one-way-ms", type=float, default=40.0)
    parser.add_argument("--upstream-port", type=int, help="run as a proxy in front of 127.0.0.1:PORT")
    parser.add_argument("--seconds", type=float, default=600.0, help="how long to run as a proxy")
    args = parser.parse_args(argv)
    if args.selftest:
        result = selftest(args.one_way_ms / 1000)
        print(f"first exchange (handshake + 1 round trip): {result['first_exchange_ms']} ms")
        print(f"round trips: {result['round_trip_ms']} ms")
        print(f"{result['pipelined_chunks']} pipelined chunks: {result['pipelined_ms']} ms")
        print(f"counted: {result['counted']}; HTTP: {result['http_counted']}")
        print("selftest OK")
        return 0
    if args.upstream_port:
        with LatencyProxy(args.upstream_port, args.one_way_ms / 1000, max_seconds=args.seconds) as proxy:
            print(f"{proxy.url} -> {HOST}:{args.upstream_port}, {args.one_way_ms} ms one-way; "
                  f"for {args.seconds:.0f} s", flush=True)
            proxy.thread.join(args.seconds + 1)
            print(proxy.snapshot())
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
