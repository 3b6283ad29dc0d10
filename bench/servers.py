"""Loopback CalDAV servers for the benchmarks: Radicale and Xandikos on free 127.0.0.1 ports.

Copied (not imported) from tests/integration/conftest.py, without pytest: each server is
`sys.executable -m ...` bound to 127.0.0.1, with its storage and log in a work folder,
and is stopped with terminate() (kill() after 5 s). Auth is off on both servers; a Basic
header is sent anyway, because Radicale takes the principal from it.
"""
from __future__ import annotations

import base64
import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
HTTP_TIMEOUT = 30.0
USERNAME = "bench"
PASSWORD = "not-a-secret"


@dataclass
class HTTPReply:
    status: int
    headers: dict
    body: bytes


def basic_auth(username: str = USERNAME, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def http_request(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
                 timeout: float = HTTP_TIMEOUT) -> HTTPReply:
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme == "http" and parts.hostname == HOST, url
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        data = resp.read()
        return HTTPReply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class RunningServer:
    kind: str
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path
    storage: Path
    home: str                  # path of the calendar home, where MKCALENDAR goes
    version: str = ""
    start_seconds: float = 0.0
    _log_file: object = field(default=None, repr=False)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError as exc:
            return f"<cannot read {self.log_path}: {exc}>"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def new_calendar(self, name: str) -> str:
        """MKCALENDAR an empty calendar; its URL (ends with /)."""
        url = f"{self.url.rstrip('/')}{self.home}{name}/"
        body = (b'<?xml version="1.0" encoding="utf-8"?>'
                b'<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
                b'<D:displayname>' + name.encode() + b'</D:displayname></D:prop></D:set></C:mkcalendar>')
        reply = http_request("MKCALENDAR", url, body, {"Authorization": basic_auth(),
                                                        "Content-Type": "application/xml; charset=utf-8"})
        if reply.status not in (200, 201):
            raise RuntimeError(f"MKCALENDAR {url}: HTTP {reply.status} {reply.body[:300]!r}")
        return url

    def count_objects(self, calendar_url: str) -> int:
        """How many resources the calendar holds (PROPFIND Depth 1, minus the collection)."""
        reply = http_request("PROPFIND", calendar_url, b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:">'
                             b'<D:prop><D:getetag/></D:prop></D:propfind>',
                             {"Authorization": basic_auth(), "Depth": "1",
                              "Content-Type": "application/xml; charset=utf-8"})
        if reply.status != 207:
            raise RuntimeError(f"PROPFIND {calendar_url}: HTTP {reply.status}")
        return reply.body.count(b"<D:response>") + reply.body.count(b"<ns0:response>") \
            + reply.body.count(b"<response>") + reply.body.count(b"<d:response>") - 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _server_env() -> dict:
    env = dict(os.environ)
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


def start_server(kind: str, args: list[str], port: int, workdir: Path, storage: Path, home: str) -> RunningServer:
    log_path = workdir / "server.log"
    log_file = open(log_path, "wb")
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, *args], cwd=workdir, env=_server_env(), stdin=subprocess.DEVNULL,
                            stdout=log_file, stderr=subprocess.STDOUT,
                            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
    server = RunningServer(kind, f"http://{HOST}:{port}/", port, proc, log_path, storage, home,
                           version=_version(kind), _log_file=log_file)
    try:
        deadline = started + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"process exited with code {proc.returncode}")
            try:
                http_request("OPTIONS", server.url, timeout=0.5)
                break
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no HTTP answer on {server.url} within {START_TIMEOUT:.0f} s") from None
            time.sleep(0.05)
        server.start_seconds = time.monotonic() - started
        # Radicale's first authenticated PROPFIND is slow (warm-up, and it creates the principal).
        reply = http_request("PROPFIND", server.url.rstrip("/") + home, None,
                             {"Authorization": basic_auth(), "Depth": "0"})
        if reply.status != 207:
            raise RuntimeError(f"warm-up PROPFIND got HTTP {reply.status}")
    except BaseException as exc:
        server.stop()
        raise RuntimeError(f"{kind} did not start: {exc}\n--- {log_path} ---\n{server.log_text()}") from None
    return server


def start_radicale(workdir: Path) -> RunningServer:
    workdir.mkdir(parents=True, exist_ok=True)
    storage = workdir / "collections"
    port = free_port()
    config = workdir / "radicale.conf"
    config.write_text("[server]\n"
                      f"hosts = {HOST}:{port}\n"
                      "[auth]\ntype = none\n"
                      "[rights]\ntype = owner_only\n"
                      f"[storage]\nfilesystem_folder = {storage}\n"
                      "[web]\ntype = none\n"
                      # warning, not info: a log line per request would be part of what we time
                      "[logging]\nlevel = warning\n", encoding="utf-8")
    return start_server("radicale", ["-m", "radicale", "-C", str(config)], port, workdir, storage,
                        home=f"/{USERNAME}/")


def start_xandikos(workdir: Path) -> RunningServer:
    workdir.mkdir(parents=True, exist_ok=True)
    storage = workdir / "collections"
    port = free_port()
    args = ["-m", "xandikos.web", "-l", HOST, "-p", str(port), "-d", str(storage),
            "--defaults", "--no-detect-systemd", "--state-dir", str(workdir / "state")]
    return start_server("xandikos", args, port, workdir, storage, home="/user/calendars/")


STARTERS = {"radicale": start_radicale, "xandikos": start_xandikos}
