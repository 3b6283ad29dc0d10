"""Faults between client and server, and a client killed mid-sync: the next runs converge, with
the calendars synced one after another (--jobs 1) and side by side (--jobs 8) alike."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from kalender_sync.core.planning import plan
from kalender_sync.storage.status import State
from support.proxies import FaultProxy
from teamkit import SATURDAY, Team, foreign_event

pytestmark = pytest.mark.integration

MAX_RUNS = 12


def seed_foreign(team: Team, person: str, count: int = 25) -> dict[str, tuple]:
    hrefs = []
    for index in range(count):
        href = team.urls[person] + f"foreign-{index}.ics"
        reply = team.server.request("PUT", href, foreign_event(index, spoof=index % 5 == 0),
                                    {"If-None-Match": "*", "Content-Type": "text/calendar"})
        assert reply.status in (201, 204)
        hrefs.append(href)
    objects = team.objects(person)
    return {href: objects[href] for href in hrefs}


def assert_exactly_planned(team: Team, today=SATURDAY) -> None:
    """Read straight from the server (not through the proxy): the planned set, once each."""
    the_plan = plan(team.load(), today)
    for person in team.people:
        uids = [u for u in team.uids(person) if not u.startswith("foreign-")]
        assert len(uids) == len(set(uids)), f"duplicate UIDs for {person}"
        assert sorted(uids) == sorted(e.uid for e in the_plan.for_person(person))


def converge(team: Team, proxy: FaultProxy, today=SATURDAY, force_delete=False, jobs: int = 1) -> int:
    for run in range(1, MAX_RUNS + 1):
        _, results, _ = team.sync(today, timeout=0.5, force_delete=force_delete, jobs=jobs)
        if not any(r.failures or r.refused for r in results):
            return run
    pytest.fail(f"no convergence after {MAX_RUNS} runs at {proxy.rate:.0%} faults; injected {dict(proxy.injected)}")


@pytest.mark.parametrize("jobs", [1, 8])
@pytest.mark.parametrize("seed", [7, 2026])
def test_repeated_syncs_converge_under_30_percent_faults(caldav_server, tmp_path, seed, jobs):
    team = Team(caldav_server, tmp_path, people=("anna", "bram", "carla"))
    foreign = seed_foreign(team, "anna")
    with FaultProxy(caldav_server.url, rate=0.3, seed=seed, delay=0.8) as proxy:
        team.route_through(proxy)
        first = converge(team, proxy, jobs=jobs)
        assert_exactly_planned(team)
        # A re-plan under faults too: move the sessions and drop contacts.
        team.path.write_text(team.path.read_text().replace('start: "14:00"', 'start: "15:00"'), encoding="utf-8")
        team.contacts_per_person = 4
        team.write()
        team.path.write_text(team.path.read_text().replace('start: "14:00"', 'start: "15:00"'), encoding="utf-8")
        second = converge(team, proxy, jobs=jobs)
        assert_exactly_planned(team)
        assert sum(proxy.injected.values()) > 20, proxy.injected
        assert set(proxy.injected) == {"error500", "reset_before", "reset_after", "timeout"}
        proxy.rate = 0.0
        _, results, log = team.sync(timeout=5, jobs=jobs)
        assert log.writes == 0 and not any(r.failures for r in results)
    after = team.objects("anna")
    assert {href: after[href] for href in foreign} == foreign      # foreign events untouched
    assert first <= MAX_RUNS and second <= MAX_RUNS


KILL_POINTS = [
    ("REPORT", 1, "before"),    # during the first listing
    ("PUT", 1, "after"),        # the first write committed, the client never heard
    ("PUT", 40, "before"),
    ("PUT", 90, "after"),
    ("DELETE", 3, "after"),     # in the middle of a re-plan's deletes
]


@pytest.mark.parametrize("jobs", [1, 8])
@pytest.mark.parametrize("method, nth, when", KILL_POINTS)
def test_a_client_killed_mid_sync_resumes_without_duplicates(caldav_server, tmp_path, method, nth, when, jobs):
    team = Team(caldav_server, tmp_path, people=("anna", "bram", "carla", "daan", "eva"))
    env = dict(os.environ, PYTHONUTF8="1")
    with FaultProxy(caldav_server.url) as proxy:
        team.route_through(proxy)
        if method == "DELETE":
            team.sync(jobs=jobs)
            team.contacts_per_person = 2
            team.write()
        command = [sys.executable, "-m", "kalender_sync", "sync", "--config", str(team.path), "--today",
                   SATURDAY.isoformat(), "--state", str(team.state_path), "--format", "json", "--jobs", str(jobs),
                   *(["--force-delete"] if method == "DELETE" else [])]
        client = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        killed = threading.Event()

        def kill(seen_method, _path):
            if seen_method == method and proxy.counts[method] >= nth and not killed.is_set():
                killed.set()
                os.kill(client.pid, signal.SIGKILL)

        if when == "before":
            proxy.hook = kill
        else:
            proxy.after_hook = kill
        client.communicate(timeout=120)
        assert killed.is_set() and client.returncode == -signal.SIGKILL
        proxy.hook = proxy.after_hook = None
        State(team.state_path).close()                     # the status DB still opens
        resumed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert_exactly_planned(team)
    state = State(team.state_path)
    planned = plan(team.load(), SATURDAY).events
    recorded = sum(len(state.records(url)) for url in {str(r[0]) for r in state.db.execute(
        "SELECT DISTINCT calendar FROM events")})
    state.close()
    assert recorded == len(planned)
    _, results, log = team.sync()
    assert log.writes == 0
