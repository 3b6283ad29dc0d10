"""A team for the web pages' tests, and `kalender-sync serve` for it as a real process.

Five people with ten contact agreements each (50 in all, so 50 different done links), one
contact whose name is markup, feed.base_url set to the server's own loopback address, so
the links in the exported .ics files open the server the test started.
"""
from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import icalendar
import requests

from support.servers import free_port

HOST = "127.0.0.1"
TODAY = "2026-12-02"
COACH_PASSWORD = "correct horse battery staple"
XSS_NAME = '<script>alert("x")</script> & <b>Co</b>'
PEOPLE = {"maarten": ("Maarten van Os", "nl"), "sanne": ("Sanne Bakker", "nl"), "ad": ("Ad Verhoeven", "nl"),
          "jan": ("Jan de Wit", "nl"), "fatima": ("Fatima El Amrani", "en")}


def command() -> list[str]:
    script = Path(sys.executable).with_name("kalender-sync")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kalender_sync"]


def run_cli(*args: str, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*command(), *args], capture_output=True, text=True, timeout=120,
                          env=env, input=stdin)


def write_config(folder: Path, port: int) -> Path:
    lines = ["version: 1", "team: Web & Co", "timezone: Europe/Amsterdam", "language: nl", "horizon: 12 months",
             "holidays: NL", "working_hours: {days: [mon, tue, wed, thu, fri], start: \"09:00\", end: \"17:00\"}",
             "calendars:", "  files:", "    ics: out/{person}.ics", "feed:", f"  base_url: http://{HOST}:{port}",
             f"  listen: {HOST}:{port}", "people:"]
    for person, (name, lang) in PEOPLE.items():
        lines.append(f"  {person}: {{name: {name}, email: {person}@example.nl, calendar: files, language: {lang}}}")
    lines.append("contacts:")
    for person in PEOPLE:
        for n in range(10):
            contact = f"Contact {n} van {person}"
            if person == "maarten" and n == 0:
                contact = XSS_NAME
            quoted = '"' + contact.replace('\\', '\\\\').replace('"', '\\"') + '"'
            lines.append(f"  - {{owner: {person}, with: {quoted}, every: {2 + n % 4} months, "
                         f"last: 2026-{1 + n % 9:02d}-1{n % 9}}}")
    path = folder / "team.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def payload(link: str) -> list:
    """What a done link names (its signed part is readable: person, agreement, reminder day)."""
    head = link.rsplit("/", 1)[1].split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def done_links(ics: Path) -> dict[str, str]:
    """agreement id -> the done link of its latest reminder in the person's exported calendar,
    taken from the events' descriptions as a calendar app shows them."""
    found: dict[str, str] = {}
    calendar = icalendar.Calendar.from_ical(ics.read_bytes())
    for event in sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("DTSTART")):
        text = str(event.get("DESCRIPTION", ""))
        match = re.search(r"(http://\S+/done/[A-Za-z0-9_.-]+)", text)
        if match:
            found[payload(match.group(1))[1]] = match.group(1)
    return found


@dataclass
class WebServer:
    port: int
    process: subprocess.Popen
    folder: Path
    config: Path
    log_path: Path
    env: dict

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def contact_log(self) -> Path:
        return self.folder / "contacts-log.yaml"

    def server_log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def links_of(self, person: str) -> dict[str, str]:
        return done_links(self.folder / "out" / f"{person}.ics")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def coach_env() -> dict:
    env = dict(os.environ)
    made = run_cli("coach-password", "--password-stdin", stdin=COACH_PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    name, value = made.stdout.strip().split("=", 1)
    env[name] = value.strip("'")
    env.pop("KALENDER_SYNC_LINK_KEY", None)
    return env


def start(folder: Path, threads: int = 8) -> WebServer:
    """Export the team's files (the links), then start `serve` on a free loopback port."""
    port = free_port()
    config = write_config(folder, port)
    env = coach_env()
    exported = run_cli("export", "--config", str(config), "--today", TODAY, env=env)
    assert exported.returncode == 0, exported.stderr
    log_path = folder / "serve.log"
    handle = open(log_path, "w", encoding="utf-8")
    process = subprocess.Popen([*command(), "serve", "--config", str(config), "--today", TODAY,
                                "--threads", str(threads)], stdout=handle, stderr=subprocess.STDOUT, env=env)
    handle.close()
    server = WebServer(port, process, folder, config, log_path, env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {server.server_log()}")
        try:
            if requests.get(f"{server.base}/healthz", timeout=2).status_code == 200:
                return server
        except requests.ConnectionError:
            time.sleep(0.1)
    server.stop()
    raise AssertionError(f"serve did not answer in time: {server.server_log()}")


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def log_lines(server: WebServer) -> list[str]:
    if not server.contact_log.exists():
        return []
    return [line for line in server.contact_log.read_text(encoding="utf-8").splitlines() if line.startswith("- ")]


def today() -> date:
    return date.fromisoformat(TODAY)
