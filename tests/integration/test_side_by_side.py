"""Calendars synced side by side (sync --jobs N) on real servers: inside one calendar one request
at a time, at most N calendars at once, one keep-alive connection per worker, and the same
calendars, status database and summary as one after another."""
from __future__ import annotations

import collections
import threading
import time
import urllib.parse

import pytest

from kalender_sync.core.planning import plan
from kalender_sync.storage.status import State
from support.proxies import FaultProxy
from support.servers import CalDAVTarget as ServerCalendars
from teamkit import SATURDAY, Team

pytestmark = pytest.mark.integration

PEOPLE = ("anna", "bram", "carla", "daan", "eva", "fatima", "gijs", "hanna", "ilse", "joost")


class InFlight:
    """Requests the server is working on, per calendar and in all, seen at the proxy."""

    def __init__(self, proxy: FaultProxy, pause: float = 0.0):
        self.lock = threading.Lock()
        self.now: collections.Counter = collections.Counter()
        self.most_per_calendar = 0
        self.most = 0
        self.pause = pause
        proxy.hook, proxy.after_hook = self.start, self.end

    @staticmethod
    def calendar(path: str) -> str:
        return urllib.parse.urlsplit(path).path.rstrip("/").rsplit("/", 1)[0] if path.endswith(".ics") else \
            urllib.parse.urlsplit(path).path.rstrip("/")

    def start(self, method: str, path: str) -> None:
        with self.lock:
            self.now[self.calendar(path)] += 1
            self.most_per_calendar = max(self.most_per_calendar, self.now[self.calendar(path)])
            self.most = max(self.most, sum(self.now.values()))
        # A little latency, so that requests of different calendars do overlap at the server.
        time.sleep(self.pause)

    def end(self, method: str, path: str) -> None:
        with self.lock:
            self.now[self.calendar(path)] -= 1


def _summary(results):
    return [(r.person, dict(r.done), r.failures, r.refused) for r in results]


def _recorded(state_path) -> dict[str, int]:
    state = State(state_path)
    try:
        calendars = [row[0] for row in state.db.execute("SELECT DISTINCT calendar FROM events")]
        return {calendar.rstrip("/").rsplit("/", 1)[1]: len(state.records(calendar)) for calendar in calendars}
    finally:
        state.close()


@pytest.mark.parametrize("jobs", [1, 4])
def test_side_by_side_one_request_per_calendar_at_most_jobs_at_once(caldav_server, tmp_path, jobs):
    team = Team(caldav_server, tmp_path, contacts_per_person=3, people=PEOPLE)
    with FaultProxy(caldav_server.url) as proxy:
        team.route_through(proxy)
        flight = InFlight(proxy, pause=0.005)
        the_plan, results, _ = team.sync(jobs=jobs)
    assert not any(r.failures for r in results)
    assert flight.most_per_calendar == 1
    assert flight.most == jobs          # never more than N at once, and N really at once
    assert [r.person for r in results] == list(PEOPLE)      # the summary keeps the config's order
    for person in PEOPLE:
        assert sorted(team.uids(person)) == sorted(e.uid for e in the_plan.for_person(person))


def test_side_by_side_gives_the_same_calendars_state_and_summary_as_one_after_another(caldav_server, tmp_path):
    outcomes = {}
    for jobs in (1, 8):
        (tmp_path / f"jobs{jobs}").mkdir()
        team = Team(caldav_server, tmp_path / f"jobs{jobs}", contacts_per_person=4, people=PEOPLE)
        first = team.sync(jobs=jobs)[1]
        # A re-plan: sessions move, contacts dropped; then a no-op.
        team.path.write_text(team.path.read_text().replace('start: "14:00"', 'start: "15:00"'), encoding="utf-8")
        team.contacts_per_person = 2
        team.write()
        team.path.write_text(team.path.read_text().replace('start: "14:00"', 'start: "15:00"'), encoding="utf-8")
        second = team.sync(jobs=jobs, force_delete=True)[1]
        third, log = team.sync(jobs=jobs)[1:]
        assert log.writes == 0
        planned = plan(team.load(), SATURDAY)
        for person in PEOPLE:
            uids = team.uids(person)
            assert len(uids) == len(set(uids))
            assert sorted(uids) == sorted(e.uid for e in planned.for_person(person))
        recorded = _recorded(team.state_path)
        assert sum(recorded.values()) == len(planned.events)
        outcomes[jobs] = (_summary(first), _summary(second), _summary(third), sorted(recorded.values()))
    assert outcomes[1] == outcomes[8]


def test_one_keep_alive_connection_per_worker_and_server(request, xandikos_server, tmp_path):
    # Xandikos keeps connections open (Radicale closes each one after its answer, so there every
    # request needs a new one whatever the client does).
    server = ServerCalendars(xandikos_server, request.node.name)
    try:
        team = Team(server, tmp_path, contacts_per_person=3, people=PEOPLE)
        with FaultProxy(server.url) as proxy:
            team.route_through(proxy)
            for jobs in (1, 4):
                proxy.reset()
                team.sync(jobs=jobs, state=False)
                requests = sum(proxy.snapshot().values())
                assert requests >= 2 * len(PEOPLE)
                # One per worker that got a calendar; a connection the server dropped is made again.
                assert proxy.connections <= jobs, (jobs, proxy.connections, requests)
    finally:
        server.close()
