"""Fixtures that run real CalDAV servers (Radicale, Xandikos) on 127.0.0.1.

Each server is a subprocess (``sys.executable -m ...``) started once per test
session, bound to 127.0.0.1 only, on a free port, with its storage and its log
file in a pytest tmp dir.  Each test gets a fresh, uniquely named calendar, so
tests never see each other's events.

Fixtures:

* ``radicale_server``, ``strict_radicale_server``, ``xandikos_server``
  (session): a :class:`RunningServer` (``.kind``, ``.url``, ``.log_path``,
  ``.start_seconds``, ...).
* ``caldav_server`` (function, parametrized over ``radicale`` and
  ``xandikos``): a :class:`CalDAVTarget` with ``.url``, ``.kind``,
  ``.principal_url``, ``.calendar_url`` (a fresh empty calendar made for this
  test), ``.new_calendar(name)`` (MKCALENDAR, returns the URL),
  ``.calendar(url=None)`` (a caldav Calendar), ``.request(method, url, body,
  headers)`` (raw authenticated HTTP, returns ``.status/.headers/.body``),
  ``.client`` (caldav.DAVClient), ``.principal``, ``.auth`` (Authorization
  header value), ``.server`` (the RunningServer).
* ``strict_radicale`` (function): the same for a Radicale started with
  ``[storage] strict_preconditions = True`` (``.kind == "radicale-strict"``).

A missing radicale / xandikos / caldav package skips the tests that need it
(the reason is listed by ``-ra``); a server that does not start fails them,
with its log in the message.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HOST = "127.0.0.1"
START_TIMEOUT = 15.0  # seconds until the server must answer HTTP
STOP_TIMEOUT = 5.0  # seconds between terminate() and kill()
HTTP_TIMEOUT = 10.0  # per request, so a hung server fails the test instead of the run
USERNAME = "alice"
PASSWORD = "not-a-secret"  # auth is off on both servers; Basic is sent anyway


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: needs real CalDAV servers")


# --------------------------------------------------------------------------- HTTP


@dataclass
class HTTPReply:
    status: int
    headers: dict  # lower-cased names
    body: bytes


def basic_auth(username: str = USERNAME, password: str = PASSWORD) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def http_request(method: str, url: str, body: bytes | None = None,
                 headers: dict | None = None, timeout: float = HTTP_TIMEOUT) -> HTTPReply:
    """One plain HTTP request with the standard library (no redirects, no retries)."""
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme == "http" and parts.hostname == HOST, url
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request(method, path, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        data = resp.read()
        return HTTPReply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


# ------------------------------------------------------------------------ servers


def free_port(host: str = HOST) -> int:
    """A port that was free on ``host`` a moment ago (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class RunningServer:
    kind: str
    url: str  # base URL, ends with "/"
    port: int
    process: subprocess.Popen
    log_path: Path
    storage: Path
    start_seconds: float = 0.0  # spawn -> first HTTP answer
    warmup_seconds: float = 0.0  # first authenticated PROPFIND
    _log_file: object = field(default=None, repr=False)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"<cannot read {self.log_path}: {exc}>"

    def stop(self) -> None:
        proc = self.process
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: SIGTERM the server if pytest itself is killed (e.g. a CI timeout)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _server_env() -> dict:
    env = dict(os.environ)
    # never pick up a developer's own server configuration or socket activation
    for name in ("RADICALE_CONFIG", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _require(module: str) -> None:
    """Skip (with the reason shown by -ra) when a server/client package is missing."""
    pytest.importorskip(module, reason=f"integration tests need the '{module}' package")


def start_server(kind: str, args: list[str], port: int, workdir: Path,
                 storage: Path) -> RunningServer:
    """Spawn ``sys.executable args...``, wait until it answers HTTP, warm it up."""
    log_path = workdir / "server.log"
    log_file = open(log_path, "wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=workdir, env=_server_env(),
        stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    server = RunningServer(kind=kind, url=f"http://{HOST}:{port}/", port=port,
                           process=proc, log_path=log_path, storage=storage,
                           _log_file=log_file)
    try:
        _wait_until_answering(server, started)
        server.start_seconds = time.monotonic() - started
        # Radicale's first authenticated PROPFIND takes ~0.6-0.9 s; pay it here
        t0 = time.monotonic()
        reply = http_request("PROPFIND", server.url, body=None, headers={
            "Authorization": basic_auth(), "Depth": "0"})
        server.warmup_seconds = time.monotonic() - t0
        if reply.status != 207:
            raise RuntimeError(f"warm-up PROPFIND got HTTP {reply.status}")
    except BaseException as exc:
        server.stop()
        pytest.fail(f"{kind} did not start: {exc}\n"
                    f"command: {[sys.executable, *args]}\n"
                    f"--- {log_path} ---\n{server.log_text()}", pytrace=False)
    return server


def _wait_until_answering(server: RunningServer, started: float) -> None:
    deadline = started + START_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        rc = server.process.poll()
        if rc is not None:
            raise RuntimeError(f"process exited with code {rc}")
        try:
            http_request("OPTIONS", server.url, timeout=0.5)
            return  # any HTTP status counts as answering
        except (OSError, http.client.HTTPException) as exc:
            last_error = exc
        time.sleep(0.05)
    raise RuntimeError(f"no HTTP answer on {server.url} within {START_TIMEOUT:.0f} s "
                       f"(last error: {last_error!r})")


def _start_radicale(tmp_path_factory, kind: str, strict: bool) -> RunningServer:
    _require("radicale")
    workdir = tmp_path_factory.mktemp(kind)
    storage = workdir / "collections"
    port = free_port()
    config = workdir / "radicale.conf"
    config.write_text(
        "[server]\n"
        f"hosts = {HOST}:{port}\n"
        "[auth]\n"
        "type = none\n"
        "[rights]\n"
        "type = owner_only\n"
        "[storage]\n"
        f"filesystem_folder = {storage}\n"
        f"strict_preconditions = {strict}\n"
        "[web]\n"
        "type = none\n"
        "[logging]\n"
        "level = info\n",
        encoding="utf-8",
    )
    # -C replaces the default config paths (/etc/radicale/config, ~/.config/...)
    return start_server(kind, ["-m", "radicale", "-C", str(config)], port, workdir, storage)


def _start_xandikos(tmp_path_factory) -> RunningServer:
    _require("xandikos")
    workdir = tmp_path_factory.mktemp("xandikos")
    storage = workdir / "collections"
    port = free_port()
    args = ["-m", "xandikos.web", "-l", HOST, "-p", str(port), "-d", str(storage),
            "--defaults", "--no-detect-systemd", "--state-dir", str(workdir / "state")]
    return start_server("xandikos", args, port, workdir, storage)


@pytest.fixture(scope="session")
def radicale_server(tmp_path_factory):
    server = _start_radicale(tmp_path_factory, "radicale", strict=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def strict_radicale_server(tmp_path_factory):
    server = _start_radicale(tmp_path_factory, "radicale-strict", strict=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def xandikos_server(tmp_path_factory):
    server = _start_xandikos(tmp_path_factory)
    yield server
    server.stop()


# ------------------------------------------------------------------ CalDAV target


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "cal"


class CalDAVTarget:
    """One running server seen through caldav, plus a fresh calendar for a test."""

    def __init__(self, server: RunningServer, test_name: str):
        _require("caldav")
        import caldav

        self.server = server
        self.kind = server.kind
        self.url = server.url
        self.username = USERNAME
        self.auth = basic_auth()  # value for an Authorization header
        # auth_type="basic" sends credentials up front.  Without it caldav's first
        # request goes out anonymously, and Radicale answers that 401 only after
        # its [auth] delay (1 s by default) -- once for every new client.
        self.client = caldav.DAVClient(url=server.url, username=USERNAME,
                                       password=PASSWORD, auth_type="basic",
                                       timeout=HTTP_TIMEOUT)
        self.principal = self.client.principal()
        self.principal_url = str(self.principal.url)
        self.calendar_url = self.new_calendar(test_name)

    def new_calendar(self, name: str) -> str:
        """MKCALENDAR an empty, uniquely named calendar; return its URL (ends with /)."""
        cal_id = f"{_slug(name)[:40]}-{uuid.uuid4().hex[:8]}"
        calendar = self.principal.make_calendar(name=name, cal_id=cal_id)
        url = str(calendar.url)
        return url if url.endswith("/") else url + "/"

    def calendar(self, url: str | None = None):
        """A caldav Calendar object for ``url`` (default: this test's calendar)."""
        return self.client.calendar(url=url or self.calendar_url)

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: dict | None = None) -> HTTPReply:
        """A raw authenticated HTTP request (absolute URL or path relative to .url)."""
        full = urllib.parse.urljoin(self.url, url)
        return http_request(method, full, body=body,
                            headers={"Authorization": self.auth, **(headers or {})})

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # closing a client must never fail a test
            pass

    def __repr__(self) -> str:
        return f"CalDAVTarget(kind={self.kind!r}, url={self.url!r}, calendar_url={self.calendar_url!r})"


@pytest.fixture(params=["radicale", "xandikos"])
def caldav_server(request):
    server = request.getfixturevalue(f"{request.param}_server")
    target = CalDAVTarget(server, request.node.name)
    yield target
    target.close()


@pytest.fixture
def strict_radicale(request, strict_radicale_server):
    target = CalDAVTarget(strict_radicale_server, request.node.name)
    yield target
    target.close()
