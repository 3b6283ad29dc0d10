"""Real CalDAV servers (Radicale, Xandikos) on free 127.0.0.1 ports, for the tests and the benchmarks.

Each server is a subprocess (``sys.executable -m ...``) bound to 127.0.0.1 only, with its
storage and its log file in a work folder, and answers HTTP before :func:`start` returns
(its slow first authenticated request is paid there too).  It is stopped with
``terminate()``, ``kill()`` after :data:`STOP_TIMEOUT`, and dies with its parent on Linux.

Auth is off on both servers; a Basic header is sent anyway, because Radicale takes the
principal (and so the calendar home ``/<username>/``) from it.

A server that does not start raises :class:`ServerStartError` with its command and log.

:class:`CalDAVTarget` is one running server seen through the caldav package, with a fresh
calendar for one test.
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

HOST = "127.0.0.1"
START_TIMEOUT = 15.0  # seconds until the server must answer HTTP
STOP_TIMEOUT = 5.0  # seconds between terminate() and kill()
HTTP_TIMEOUT = 10.0  # per request, so a hung server fails the caller instead of hanging it
LISTING_TIMEOUT = 30.0  # a PROPFIND over a whole benchmark calendar (thousands of resources)
USERNAME = "alice"
PASSWORD = "not-a-secret"
KINDS = ("radicale", "radicale-strict", "xandikos")


class ServerStartError(RuntimeError):
    """The server exited, or did not answer within START_TIMEOUT; the message has its log."""


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


def free_port(host: str = HOST) -> int:
    """A port that was free on ``host`` a moment ago (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------ servers


@dataclass
class RunningServer:
    kind: str
    url: str  # base URL, ends with "/"
    port: int
    process: subprocess.Popen
    log_path: Path
    storage: Path
    home: str  # path of the calendar home, where MKCALENDAR goes
    username: str = USERNAME
    version: str = ""
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
                proc.wait(timeout=STOP_TIMEOUT)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _auth(self) -> str:
        return basic_auth(self.username)

    def new_calendar(self, name: str) -> str:
        """MKCALENDAR an empty calendar in the home with a raw request; its URL (ends with /)."""
        url = f"{self.url.rstrip('/')}{self.home}{name}/"
        body = (b'<?xml version="1.0" encoding="utf-8"?>'
                b'<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
                b'<D:displayname>' + name.encode() + b'</D:displayname></D:prop></D:set></C:mkcalendar>')
        reply = http_request("MKCALENDAR", url, body, {"Authorization": self._auth(),
                                                        "Content-Type": "application/xml; charset=utf-8"})
        if reply.status not in (200, 201):
            raise RuntimeError(f"MKCALENDAR {url}: HTTP {reply.status} {reply.body[:300]!r}")
        return url

    def count_objects(self, calendar_url: str) -> int:
        """How many resources the calendar holds (PROPFIND Depth 1, minus the collection)."""
        reply = http_request("PROPFIND", calendar_url, b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:">'
                             b'<D:prop><D:getetag/></D:prop></D:propfind>',
                             {"Authorization": self._auth(), "Depth": "1",
                              "Content-Type": "application/xml; charset=utf-8"}, timeout=LISTING_TIMEOUT)
        if reply.status != 207:
            raise RuntimeError(f"PROPFIND {calendar_url}: HTTP {reply.status}")
        # the servers differ in the namespace prefix they write
        return reply.body.count(b"<D:response>") + reply.body.count(b"<ns0:response>") \
            + reply.body.count(b"<response>") + reply.body.count(b"<d:response>") - 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: SIGTERM the server if its parent is killed (e.g. a CI timeout)."""
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


def _version(module: str) -> str:
    try:
        from importlib.metadata import version
        return version({"radicale": "Radicale", "xandikos": "xandikos"}[module])
    except Exception:
        return "?"


def start_server(kind: str, args: list[str], port: int, workdir: Path, storage: Path, home: str,
                 username: str = USERNAME) -> RunningServer:
    """Spawn ``sys.executable args...``, wait until it answers HTTP, warm it up."""
    log_path = workdir / "server.log"
    log_file = open(log_path, "wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=workdir, env=_server_env(),
        stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    server = RunningServer(kind=kind, url=f"http://{HOST}:{port}/", port=port, process=proc,
                           log_path=log_path, storage=storage, home=home, username=username,
                           version=_version(kind.split("-")[0]), _log_file=log_file)
    try:
        _wait_until_answering(server, started)
        server.start_seconds = time.monotonic() - started
        # Radicale's first authenticated PROPFIND takes ~0.6-0.9 s (and creates the principal);
        # paid here, not by the first test or the first timed request
        t0 = time.monotonic()
        reply = http_request("PROPFIND", server.url.rstrip("/") + home, body=None, headers={
            "Authorization": basic_auth(username), "Depth": "0"})
        server.warmup_seconds = time.monotonic() - t0
        if reply.status != 207:
            raise RuntimeError(f"warm-up PROPFIND got HTTP {reply.status}")
    except BaseException as exc:
        server.stop()
        raise ServerStartError(f"{kind} did not start: {exc}\n"
                               f"command: {[sys.executable, *args]}\n"
                               f"--- {log_path} ---\n{server.log_text()}") from None
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


def start_radicale(workdir: Path, *, strict: bool = False, username: str = USERNAME,
                   quiet: bool = False) -> RunningServer:
    """Radicale; ``strict``: ``[storage] strict_preconditions``; ``quiet``: log warnings only
    (a log line per request would be part of what a benchmark times)."""
    workdir.mkdir(parents=True, exist_ok=True)
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
        f"level = {'warning' if quiet else 'info'}\n",
        encoding="utf-8",
    )
    # -C replaces the default config paths (/etc/radicale/config, ~/.config/...)
    return start_server("radicale-strict" if strict else "radicale", ["-m", "radicale", "-C", str(config)],
                        port, workdir, storage, home=f"/{username}/", username=username)


def start_xandikos(workdir: Path, *, username: str = USERNAME) -> RunningServer:
    """Xandikos with its default layout (``--defaults``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    storage = workdir / "collections"
    port = free_port()
    args = ["-m", "xandikos.web", "-l", HOST, "-p", str(port), "-d", str(storage),
            "--defaults", "--no-detect-systemd", "--state-dir", str(workdir / "state")]
    return start_server("xandikos", args, port, workdir, storage, home="/user/calendars/", username=username)


def start(kind: str, workdir: Path, *, username: str = USERNAME, quiet: bool = False) -> RunningServer:
    """Start one server of ``kind`` (one of KINDS) with its files in ``workdir``.

    ``quiet`` is for Radicale; Xandikos has no log level below info."""
    if kind == "xandikos":
        return start_xandikos(workdir, username=username)
    if kind in ("radicale", "radicale-strict"):
        return start_radicale(workdir, strict=kind == "radicale-strict", username=username, quiet=quiet)
    raise ValueError(f"unknown server kind {kind!r}; known: {', '.join(KINDS)}")


# ------------------------------------------------------------------ CalDAV target


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "cal"


class CalDAVTarget:
    """One running server seen through caldav, plus a fresh calendar for a test."""

    def __init__(self, server: RunningServer, test_name: str):
        import caldav

        self.server = server
        self.kind = server.kind
        self.url = server.url
        self.username = server.username
        self.auth = basic_auth(server.username)  # value for an Authorization header
        # auth_type="basic" sends credentials up front.  Without it caldav's first
        # request goes out anonymously, and Radicale answers that 401 only after
        # its [auth] delay (1 s by default) -- once for every new client.
        self.client = caldav.DAVClient(url=server.url, username=server.username,
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
