"""A config in which ONE person's plan has exactly N events, made by the real planner.

How: one person, a monthly session (about 12 events a year) and A contact agreements,
each with an agreed `next` date on its own working day (`reminders: {ahead: 1,
max_per_week: 7}`, so every agreement gives one reminder and reminders are not pushed
out of the horizon by the weekly limit). The horizon grows with N (one reminder per
working day at most). A is tuned by planning until the plan has exactly N events for
that person, so what we push is what `kalender-sync sync` would push, not a synthetic
stand-in.

`changed=True` gives the same config with one agreement's medium changed (phone ->
coffee): its reminder's title changes, nothing else moves. That is benchmark 3.
"""
from __future__ import annotations

import math
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

PERSON = "bench"
TODAY = date(2027, 1, 4)          # a Monday; runs are reproducible with --today
MEDIA = ["phone", "coffee", "lunch", "walk", "video"]
INTERVALS = ["3 months", "4 months", "6 months", "1 year"]
USERNAME = "bench"                    # the user every bench config names; Radicale's calendar home
PASSWORD_ENV = "KS_BENCH_PASSWORD"


def compiled_like_an_install() -> None:
    """Byte-compile kalender_sync for the bench's `kalender-sync` processes, as `pip install`
    does for an installed package (and did for every dependency). An editable install under
    PYTHONDONTWRITEBYTECODE (this machine sets it) would compile every module of ours again in
    every process, a start-up no user of an installed kalender-sync pays. The bytecode goes
    where Python itself would put it (__pycache__ beside the sources, ignored by git; Python
    checks it against the source's mtime, so a stale one is never used). Not
    PYTHONPYCACHEPREFIX: that moves the bytecode of the standard library and every dependency
    too, which would then be compiled anew in every process."""
    import kalender_sync
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(kalender_sync.__file__).parent)],
                   check=True, timeout=300, stdout=subprocess.DEVNULL)


def horizon_years(n: int) -> int:
    # ~245 working days a year in NL; keep a margin for the holidays and the sessions.
    return max(1, math.ceil(n / 200))


def changed_index(agreements: int) -> int:
    return agreements // 2


def header(horizon_months: int, caldav_url: str | None) -> list[str]:
    """The config's lines up to `calendars:` and its one calendar (CalDAV or .ics files)."""
    lines = ["version: 1", "team: Bench", "timezone: Europe/Amsterdam", "language: nl",
             f"horizon: {horizon_months} months", "holidays: NL",
             "reminders: {ahead: 1, max_per_week: 7, overdue_every: 2 weeks, at: \"09:00\", alarm: 15m}",
             "calendars:"]
    if caldav_url:
        lines.append(f'  cal: {{caldav: "{caldav_url}", username: {USERNAME}, password_env: {PASSWORD_ENV}}}')
    else:
        lines.append('  cal: {ics: "out/{person}.ics"}')
    return lines


def agreement_lines(owner: str, count: int, contact: str = "Contact {index:04d}", *,
                    changed: int | None = None) -> list[str]:
    """`count` contact agreements of `owner`, each with an agreed `next` date on its own working
    day from TODAY + 1; agreement `changed` gets another medium."""
    lines = []
    day = TODAY + timedelta(days=1)
    for index in range(count):
        while day.weekday() >= 5:
            day += timedelta(days=1)
        medium = MEDIA[index % len(MEDIA)]
        if index == changed:
            medium = "coffee" if medium != "coffee" else "lunch"
        lines.append(f"  - {{owner: {owner}, with: {contact.format(index=index)}, role: former client, "
                     f"organisation: Organisatie {index % 37}, every: {INTERVALS[index % 4]}, "
                     f"last: {(TODAY - timedelta(days=30 + index % 200)).isoformat()}, next: {day.isoformat()}, "
                     f"medium: {medium}, duration: 30m, question: \"Hoe gaat het met project {index}?\"}}")
        day += timedelta(days=1)
    return lines


def generate(n_agreements: int, years: int, caldav_url: str | None, *, changed: bool = False) -> str:
    lines = header(years * 12, caldav_url)
    lines += ["people:", f"  {PERSON}: {{name: Bench Person, email: bench@example.nl, calendar: cal}}", "contacts:"]
    lines += agreement_lines(PERSON, n_agreements, changed=changed_index(n_agreements) if changed else None)
    lines += ["sessions:",
              f"  - {{name: Netwerken op de agenda, every: month, participants: [{PERSON}], "
              "prefer: {weekday: thu, start: \"14:00\"}, duration: 1h}"]
    return "\n".join(lines) + "\n"


def _count(text: str) -> int:
    from kalender_sync.core.config import load_team
    from kalender_sync.core.planning import plan
    team = load_team(text, "bench.yaml")
    return len(plan(team, TODAY).for_person(PERSON))


def write_config(n: int, folder: Path, caldav_url: str | None, *, changed: bool = False,
                 name: str = "config.yaml") -> tuple[Path, int]:
    """Write a config whose plan has exactly n events for PERSON; returns (path, agreements)."""
    years = horizon_years(n)
    agreements = max(1, n - 12 * years)
    for _ in range(20):                     # bounded: converges in 1-3 steps
        got = _count(generate(agreements, years, None))
        if got == n:
            break
        agreements += n - got
    else:
        raise RuntimeError(f"could not make a plan of exactly {n} events (last: {got})")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(generate(agreements, years, caldav_url, changed=changed), encoding="utf-8")
    return path, agreements
