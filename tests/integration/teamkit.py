"""A generated team with fresh calendars on a real server, for the sync tests."""
from __future__ import annotations

import os
import textwrap
import uuid
from datetime import date, timedelta
from pathlib import Path

from icalendar import Calendar

from helpers import foreign_event  # noqa: F401 - the sync tests take it from here

from kalender_sync.core.config import load_team
from kalender_sync.core.planning import plan
from kalender_sync.engine.runs import DEFAULT_JOBS, context_for, stamp_for
from kalender_sync.engine.sync import calendar_jobs, sync_team
from kalender_sync.storage.status import MemoryStatus, State
from kalender_sync.targets.caldav import CalDAVTarget
from kalender_sync.targets.network import RequestLog, RetryPolicy

PASSWORD_ENV = "KS_TEST_CALDAV_PASSWORD"
SATURDAY = date(2026, 11, 28)   # no events on a weekend: a day later nothing is due to change
FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


class Team:
    """A generated team whose people each have a fresh calendar on the server under test."""

    def __init__(self, server, tmp_path: Path, contacts_per_person: int = 7,
                 people=("anna", "bram", "carla", "daan", "eva", "fatima", "gijs", "hanna", "ilse", "joost")):
        self.server = server
        self.tmp = tmp_path
        run = uuid.uuid4().hex[:6]
        self.urls = {}
        for person in people:
            calendar = server.principal.make_calendar(name=f"ks {person}", cal_id=f"ks{run}-{person}")
            url = str(calendar.url)
            self.urls[person] = url if url.endswith("/") else url + "/"
        home = self.urls[people[0]].rstrip("/").rsplit("/", 1)[0] + "/"
        self.people = people
        self.template = f"{home}ks{run}-{{person}}/"
        self.contacts_per_person = contacts_per_person
        self.path = tmp_path / "team.yaml"
        self.state_path = tmp_path / "state.sqlite"
        os.environ[PASSWORD_ENV] = "not-a-secret"
        self.write()

    def yaml(self, contacts_per_person: int | None = None, extra: str = "") -> str:
        count = self.contacts_per_person if contacts_per_person is None else contacts_per_person
        people = "\n".join(f"  {p}: {{name: {p.title()}, calendar: dav}}" for p in self.people)
        intervals = ["3 months", "4 months", "6 months", "1 year"]
        contacts = "\n".join(
            f"  - {{owner: {p}, with: Contact {p} {i}, every: {intervals[i % 4]}, "
            f"last: {(date(2026, 1, 5) + timedelta(days=(i * 47 + len(p) * 13) % 330)).isoformat()}}}"
            for p in self.people for i in range(count))
        return textwrap.dedent(f"""\
            version: 1
            team: Sync test
            timezone: Europe/Amsterdam
            language: nl
            reminders: {{ahead: 2}}
            calendars:
              dav: {{caldav: "{self.template}", username: alice, password_env: {PASSWORD_ENV}}}
            people:
            """) + people + "\ncontacts:\n" + (contacts or "  []") + "\n" + textwrap.dedent("""\
            sessions:
              - {name: Bel-uurtje, every: month, participants: all, prefer: {weekday: thu, start: "14:00"}}
            """) + extra

    def write(self, **kwargs) -> None:
        self.path.write_text(self.yaml(**kwargs), encoding="utf-8")

    def load(self):
        return load_team(self.path.read_text(encoding="utf-8"), str(self.path))

    def route_through(self, proxy) -> None:
        """From now on the config reaches the server through `proxy`."""
        self.template = proxy.translate(self.template)
        self.write()

    def sync(self, today: date = SATURDAY, *, state: bool = True, force_delete: bool = False, dry_run=False,
             timeout: float = 30, jobs: int = DEFAULT_JOBS):
        team = self.load()
        log = RequestLog()
        the_plan = plan(team, today)
        db = State(self.state_path) if state else MemoryStatus()
        context = context_for(team, self.path, log=log, retry=FAST, timeout=timeout, jobs=jobs)
        try:
            results = sync_team(team, the_plan, calendar_jobs(team), db, stamp_for(today), context,
                                dry_run=dry_run, force_delete=force_delete)
        finally:
            if state:
                db.close()
        return the_plan, results, log

    def objects(self, person: str) -> dict[str, tuple[str, bytes]]:
        """href -> (etag, body) of everything in a person's calendar, read raw."""
        result = {}
        listing = CalDAVTarget(self.urls[person], "alice", "not-a-secret").list(None)
        for item in listing.items:
            reply = self.server.request("GET", item.href)
            assert reply.status == 200, item.href
            result[item.href] = (reply.headers.get("etag"), reply.body)
        return result

    def uids(self, person: str) -> list[str]:
        uids = []
        for _, body in self.objects(person).values():
            for event in Calendar.from_ical(body).walk("VEVENT"):
                uids.append(str(event["uid"]))
        return uids


def done(results, action: str) -> int:
    return sum(r.done.get(action, 0) for r in results)


