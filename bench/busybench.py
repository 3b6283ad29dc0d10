"""Benchmark 5 (issue 12): busy times of P people on Xandikos through the loopback proxy, and the
placement of one quarterly session for all of them.

Setup (not timed): each person gets a calendar of their own on one Xandikos (10 appointments: a
weekly recurring meeting and 9 single ones), written straight into Xandikos' storage with its own
store code before the server starts, one git commit per calendar, instead of P x 10 PUTs. A few
people hold appointments on the session's preferred slots, chosen so that the right placements
can be worked out by hand (EXPECTED_SESSIONS):

  Q1  Thu  7 Jan 14:00: p00007 busy (Tandarts, 13:30-14:30)      -> next week
      Thu 14 Jan 14:00: p00013 tentative (Klantbezoek)           -> next week   => Thu 21 Jan
  Q2  Thu  1 Apr: p00021 out of office all day (Outlook OOF)                    => Thu  8 Apr
  Q3  Thu  1 Jul 14:00: p00005 transparent, p00009 cancelled, p00011 declined   => Thu  1 Jul
  Q4  Thu  7 Oct 14:00: p00003's weekly meeting moved there (RECURRENCE-ID)     => Thu 14 Oct

Everything else avoids Thursday afternoons (the single appointments are on Thursdays only in the
morning, the weekly meetings are on other weekdays), so nothing else decides where the sessions go.

Steps, each with its wall time and the requests counted at the proxy:

  first read   read_busy_sources without a cache (one time-range query per calendar), jobs 1 and 8;
               busy_query events (calendar-query, expanded by the rules) and freebusy (RFC 4791
               free-busy-query, expanded by the server)
  cached read  the first read that starts a cache: sync-token + calendar-query per calendar
  incremental  the next read with that cache, nothing changed: one sync-collection per calendar
  changed      the same after 1 % of the people got a new appointment (PUT straight to Xandikos)
  rules        core.busy.snapshot_from over everything read (no network)
  placement    core.planning.plan(team, today, busy=...) for the generated team, and without busy

Run through bench/run.py (--busy-people); as a script for this case alone:
    python bench/busybench.py --people 50
"""
from __future__ import annotations

import functools
import gc
import os
import random
import shutil
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import oneperson

HERE = Path(__file__).resolve().parent
TODAY = date(2027, 1, 4)
ZONE = ZoneInfo("Europe/Amsterdam")
CALENDAR = "werk"
PASSWORD_ENV = oneperson.PASSWORD_ENV
MAX_REQUESTS = 50000            # the proxy's bound: a runaway reader stops there
LATENCY = 0.020                 # seconds the proxy waits per request in the "+20 ms" steps: a round
                                # trip to a server elsewhere (what reading in parallel is for)
SINGLE_TITLES = ("Klantgesprek", "Intervisie", "Werkoverleg", "Huisarts", "Training", "Sollicitatie",
                 "Kennissessie", "Projectoverleg", "Evaluatie")
# group key prefix -> the local start the session must get (worked out by hand, see above)
EXPECTED_SESSIONS = (datetime(2027, 1, 21, 14, 0), datetime(2027, 4, 8, 14, 0),
                     datetime(2027, 7, 1, 14, 0), datetime(2027, 10, 14, 14, 0))


def person_id(index: int) -> str:
    return f"p{index:05d}"


# -- the appointments ------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _zone_component():
    from kalender_sync.core.timezones import vtimezone
    return vtimezone(ZONE.key, datetime(2026, 10, 1, tzinfo=ZONE), datetime(2029, 1, 1, tzinfo=ZONE))


def _calendar(*events):
    from icalendar import Calendar
    calendar = Calendar()
    calendar.add("prodid", "-//kalender-sync bench//busy times//EN")
    calendar.add("version", "2.0")
    if any(isinstance(e.get("dtstart").dt, datetime) for e in events):
        calendar.add_component(_zone_component())
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def _event(uid: str, summary: str, start, end, **props):
    from icalendar import Event
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", datetime(2026, 12, 1, tzinfo=timezone.utc))
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", end)
    for key, value in props.items():
        event.add(key.replace("_", "-"), value)
    return event


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def appointments(index: int, window_days: int = 365) -> list[tuple[str, bytes]]:
    """One person's 10 calendar objects: (file name, iCalendar text)."""
    rng = random.Random(1000 + index)
    pid = person_id(index)
    objects = []

    def add(summary: str, *events) -> None:
        objects.append((f"{events[0]['uid']}.ics", _calendar(*events)))

    # the weekly meeting: started before the window, never on a Thursday
    weekday = rng.choice((0, 1, 2, 4))
    hour = rng.randrange(9, 16)
    first = date(2026, 11, 2) + timedelta(days=weekday)
    uid = f"weekly-{pid}@bench.example"
    master = _event(uid, "Teamoverleg", _at(first, hour), _at(first, hour + 1), rrule={"freq": "weekly"})
    master.add("exdate", _at(first + timedelta(weeks=11), hour))
    events = [master]
    if index == 3:
        # the occurrence of the week of 4 Oct 2027 moved to Thursday 7 Oct 14:00
        moved_from = first + timedelta(weeks=(date(2027, 10, 4) - date(2026, 11, 2)).days // 7)
        events.append(_event(uid, "Teamoverleg (verplaatst)", _at(date(2027, 10, 7), 14),
                             _at(date(2027, 10, 7), 15), recurrence_id=_at(moved_from, hour)))
    add("weekly", *events)

    # the hand-placed blockers and the ones that must not block (one of the 9 single appointments)
    special = {
        7: lambda u: _event(u, "Tandarts", _at(date(2027, 1, 7), 13, 30), _at(date(2027, 1, 7), 14, 30)),
        13: lambda u: _event(u, "Klantbezoek", _at(date(2027, 1, 14), 14), _at(date(2027, 1, 14), 15),
                             status="TENTATIVE"),
        21: lambda u: _event(u, "Vakantie", date(2027, 3, 29), date(2027, 4, 3),
                             x_microsoft_cdo_busystatus="OOF", x_microsoft_cdo_alldayevent="TRUE"),
        5: lambda u: _event(u, "Lunchlezing", _at(date(2027, 7, 1), 14), _at(date(2027, 7, 1), 15),
                            transp="TRANSPARENT"),
        9: lambda u: _event(u, "Afgezegd overleg", _at(date(2027, 7, 1), 14), _at(date(2027, 7, 1), 15),
                            status="CANCELLED"),
        11: lambda u: _declined(u, pid),
    }
    singles = 9
    if index in special:
        add("special", special[index](f"special-{pid}@bench.example"))
        singles -= 1
    # a birthday: all day, free (as Outlook and Google make them)
    birthday = TODAY + timedelta(days=rng.randrange(window_days))
    add("birthday", _event(f"birthday-{pid}@bench.example", "Verjaardag", birthday, birthday + timedelta(days=1),
                           transp="TRANSPARENT", x_microsoft_cdo_busystatus="FREE"))
    singles -= 1
    for n in range(singles):
        day = TODAY + timedelta(days=rng.randrange(window_days))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        start_hour = rng.randrange(9, 12) if day.weekday() == 3 else rng.randrange(9, 17)
        minutes = rng.choice((30, 60, 90))
        start = _at(day, start_hour, rng.choice((0, 30)) if minutes < 90 else 0)
        add("single", _event(f"single-{n}-{pid}@bench.example", rng.choice(SINGLE_TITLES), start,
                             start + timedelta(minutes=minutes)))
    assert len(objects) == 10, (index, len(objects))
    return objects


def _declined(uid: str, pid: str):
    from icalendar import vCalAddress
    event = _event(uid, "Presentatie", _at(date(2027, 7, 1), 14), _at(date(2027, 7, 1), 15))
    organizer = vCalAddress("mailto:organisator@example.org")
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{pid}@example.nl")
    attendee.params["PARTSTAT"] = "DECLINED"
    event.add("attendee", attendee)
    return event


def new_appointment(index: int) -> tuple[str, bytes]:
    """An appointment added between two reads (the 'changed' step)."""
    uid = f"added-{person_id(index)}-{uuid.uuid4().hex[:8]}@bench.example"
    start = _at(date(2027, 2, 2), 10)
    return f"{uid}.ics", _calendar(_event(uid, "Nieuw overleg", start, start + timedelta(hours=1)))


# -- Xandikos storage ------------------------------------------------------------------

def seed_calendar(path: Path, objects: list[tuple[str, bytes]]) -> None:
    """A Xandikos calendar collection at `path` holding `objects`, in one commit: what
    TreeGitStore.import_one does per object (write, blob, index entry, commit), batched."""
    from dulwich.index import index_entry_from_stat, locked_index
    from dulwich.objects import Blob
    from xandikos.store import STORE_TYPE_CALENDAR
    from xandikos.store.git import TreeGitStore
    store = TreeGitStore.create(str(path))
    store.set_type(STORE_TYPE_CALENDAR)
    with locked_index(store.repo.index_path()) as index:
        for name, data in objects:
            file = path / name
            file.write_bytes(data)
            blob = Blob.from_string(data)
            store.repo.object_store.add_object(blob)
            index[name.encode("utf-8")] = index_entry_from_stat(os.lstat(file), blob.id)
        store._commit_tree(index, b"bench: appointments")


def start_seeded_xandikos(workdir: Path, people: int, log) -> tuple[object, dict]:
    """Xandikos with one calendar per person under /user/calendars/<person>/; setup timings."""
    from support import servers
    t0 = time.perf_counter()
    # the first start makes the principal and its calendar home (--defaults), as a user's would
    servers.start_xandikos(workdir).stop()
    home = workdir / "collections" / "user" / "calendars"
    assert home.is_dir(), home
    t1 = time.perf_counter()
    generated = 0.0
    for index in range(people):
        g0 = time.perf_counter()
        objects = appointments(index)
        generated += time.perf_counter() - g0
        seed_calendar(home / person_id(index), objects)
        if index and index % 200 == 0:
            log(f"  busy: {index} calendars written")
    t2 = time.perf_counter()
    server = servers.start_xandikos(workdir)
    t3 = time.perf_counter()
    return server, {"first_start_seconds": round(t1 - t0, 2), "write_calendars_seconds": round(t2 - t1, 2),
                    "of_which_icalendar_seconds": round(generated, 2), "start_seconds": round(t3 - t2, 2),
                    "objects": people * 10}


# -- the measurements ------------------------------------------------------------------

def settle() -> None:
    """Before a timed step: what earlier steps left alive is not walked by the garbage collector
    again (as in the commands, which freeze what they loaded), so a step is not charged for the
    bench's own data."""
    gc.collect()
    gc.freeze()


def counting_proxy(upstream: str):
    """The tests' counting proxy (it sets TCP_NODELAY on its client sockets itself)."""
    from support.proxies import FaultProxy
    proxy = FaultProxy(upstream, max_requests=MAX_REQUESTS)
    return proxy


def timed_read(proxy, requests, start, end, *, jobs: int, cache=None) -> tuple[object, dict]:
    from kalender_sync.targets.busysources import read_busy_sources
    settle()
    proxy.reset()
    t0 = time.perf_counter()
    reading = read_busy_sources(requests, start, end, cache=cache, jobs=jobs)
    seconds = time.perf_counter() - t0
    counts = proxy.snapshot()
    calendars = len({(r.location, r.busy_query) for r in requests})
    return reading, {"jobs": jobs, "seconds": round(seconds, 3), "requests": counts,
                     "requests_total": sum(counts.values()), "reader_requests": reading.requests,
                     "requests_per_calendar": round(sum(counts.values()) / max(1, calendars), 3),
                     "calendars": calendars, "fetched": len(reading.fetched), "failures": len(reading.failures),
                     "failure_examples": dict(list(reading.failures.items())[:3]),
                     "texts": sum(len(t.texts) for t in reading.fetched),
                     "bytes": sum(len(x) for t in reading.fetched for x in t.texts)}


def with_query(requests, busy_query: str):
    from dataclasses import replace
    return [replace(r, busy_query=busy_query) for r in requests]


def interpret(team, reading, start, end, own: frozenset[str]) -> tuple[object, float]:
    from kalender_sync.core.busy import snapshot_from
    settle()
    t0 = time.perf_counter()
    snapshot = snapshot_from(reading.fetched, reading.failures, team, TODAY, start, end, own)
    return snapshot, time.perf_counter() - t0


def engine_read(proxy, team, config: Path) -> tuple[object, dict]:
    """What `sync`/`export` do: engine.busy.read_busy (requests, read, own UIDs, rules, snapshot
    and cache written next to the config)."""
    import kalender_sync.core.busy as rules
    import kalender_sync.engine.busy as engine
    import kalender_sync.targets.busysources as readers
    from planbench import Meter
    meter = Meter()
    # wrapped (timed, never changed) where read_busy looks them up, restored afterwards
    wrapped = [(readers, "read_busy_sources", "read (HTTP)"), (rules, "snapshot_from", "rules (snapshot_from)"),
               (engine, "own_uids", "own UIDs (a plan)"), (engine, "_load_cache", "load cache"),
               (readers.BusyCache, "to_json", "cache to JSON"), (rules.BusySnapshot, "to_json", "snapshot to JSON"),
               (engine, "write_atomically", "write files")]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in wrapped if hasattr(owner, name)]
    for owner, name, label in wrapped:
        meter.wrap(owner, name, label)
    settle()
    proxy.reset()
    try:
        t0 = time.perf_counter()
        times = engine.read_busy(team, TODAY, config)
        seconds = time.perf_counter() - t0
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    counts = proxy.snapshot()
    return times, {"seconds": round(seconds, 3), "breakdown": {k: round(v, 3) for k, v in meter.seconds.items()},
                   "requests": counts, "requests_total": sum(counts.values()),
                   "reader_requests": times.requests, "calendars": len(team.people),
                   "requests_per_calendar": round(sum(counts.values()) / max(1, len(team.people)), 3),
                   "fetched": len(times.busy), "failures": len(times.unreadable),
                   "failure_examples": dict(list(times.unreadable.items())[:3])}


def session_starts(plan_result) -> list[datetime]:
    """The local starts of the session series' occurrences (one per quarter)."""
    starts = sorted({e.start.astimezone(ZONE).replace(tzinfo=None) for e in plan_result.events
                     if getattr(e, "kind", None) == "session" or str(getattr(e, "key", "")).startswith("session")})
    return starts


def placement(team, busy, unreadable=None) -> dict:
    from kalender_sync.core.planning import plan
    settle()
    t0 = time.perf_counter()
    result = plan(team, TODAY, busy=busy, unreadable=unreadable) if unreadable else plan(team, TODAY, busy=busy)
    seconds = time.perf_counter() - t0
    starts = session_starts(result)
    out = {"seconds": round(seconds, 3), "events": len(result.events), "skipped": len(result.skipped),
           "sessions": [s.isoformat(timespec="minutes") for s in starts],
           "skipped_examples": [str(s) for s in result.skipped[:3]]}
    reasons = getattr(result, "reasons", None)
    if reasons:
        out["reasons"] = {str(k): v for k, v in sorted(reasons.items())[:8]}
    conflicts = getattr(result, "conflicts", None)
    if conflicts:
        out["conflicts"] = [str(c) for c in conflicts[:3]]
    return out


def run_busy(people: int, workdir: Path, *, log, freebusy: bool = True, jobs: tuple[int, ...] = (1, 8),
             latency: float = LATENCY) -> dict:
    """The whole case; servers and proxy stopped at the end."""
    import genconfig
    from kalender_sync.cli.options import load_team

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    result: dict = {"people": people, "appointments_per_person": 10, "server": "xandikos",
                    "today": TODAY.isoformat(), "steps": {}}
    log(f"busy: writing {people} calendars into Xandikos' storage")
    server, setup = start_seeded_xandikos(workdir / "xandikos", people, log)
    result["server_version"] = server.version
    result["setup"] = setup
    try:
        with counting_proxy(server.url) as proxy:
            config = workdir / "team.yaml"
            config.write_text(genconfig.generate(
                people, contacts=0, calendar=CALENDAR, caldav_url=f"{proxy.url}user/calendars/{{person}}/",
                projects=False, session_size=max(people, 1), busy=True), encoding="utf-8")
            os.environ.setdefault(PASSWORD_ENV, "not-a-secret")
            t0 = time.perf_counter()
            team, _ = load_team(config, TODAY)
            result["load_seconds"] = round(time.perf_counter() - t0, 3)
            from kalender_sync.engine.busy import busy_requests, own_uids, window
            requests, unaskable = busy_requests(team)
            assert not unaskable, unaskable
            start, end = window(team, TODAY)
            result["window"] = [start.isoformat(), end.isoformat()]
            steps = result["steps"]

            # warm-up (not a step): the server's first look at each calendar, the OS file cache
            reading, steps["warm-up (events, jobs 8)"] = timed_read(proxy, requests, start, end, jobs=8)
            log(f"busy: warm-up read {steps['warm-up (events, jobs 8)']['seconds']:.1f} s")
            readings = {}
            for query in (("events", "freebusy") if freebusy else ("events",)):
                for n in jobs:
                    name = f"first read, {query}, jobs {n}"
                    readings[query], steps[name] = timed_read(proxy, with_query(requests, query), start, end, jobs=n)
                    log(f"busy: {name}: {steps[name]['seconds']:.1f} s, {steps[name]['requests_total']} requests")

            from kalender_sync.targets.busysources import BusyCache
            first, steps["first read with a cache, events, jobs 8"] = timed_read(
                proxy, requests, start, end, jobs=8, cache=BusyCache())
            again, steps["incremental, nothing changed, jobs 8"] = timed_read(
                proxy, requests, start, end, jobs=8, cache=first.cache)
            _, steps["incremental, nothing changed, jobs 1"] = timed_read(
                proxy, requests, start, end, jobs=1, cache=first.cache)

            # loopback has no round trip to hide: the same reads as from a server across the internet
            if latency:
                ms = f"{1000 * latency:.0f} ms"
                proxy.hook = lambda method, path: time.sleep(latency)
                try:
                    for n in jobs:
                        _, steps[f"first read, events, +{ms} per request, jobs {n}"] = timed_read(
                            proxy, requests, start, end, jobs=n)
                    for n in jobs:
                        _, steps[f"incremental, nothing changed, +{ms} per request, jobs {n}"] = timed_read(
                            proxy, requests, start, end, jobs=n, cache=first.cache)
                finally:
                    proxy.hook = None
                result["latency_seconds"] = latency
            from support.servers import basic_auth, http_request
            changed = list(range(0, people, 100)) or [0]
            for index in changed:
                name, body = new_appointment(index)
                reply = http_request("PUT", f"{server.url}user/calendars/{person_id(index)}/{name}", body,
                                     {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*",
                                      "Authorization": basic_auth()})
                assert reply.status in (201, 204), reply
            after, steps[f"incremental, {len(changed)} changed, jobs 8"] = timed_read(
                proxy, requests, start, end, jobs=8, cache=again.cache)
            result["changed_people"] = len(changed)
            result["cache_bytes"] = len(after.cache.to_json())
            for name, step in steps.items():
                log(f"busy: {name}: {step['seconds']:.2f} s, {step['requests']}")

            # the whole reading as the commands do it, twice (the second one incremental)
            times, steps["engine.read_busy, first run (events, jobs 8)"] = engine_read(proxy, team, config)
            times, steps["engine.read_busy, next run (incremental)"] = engine_read(proxy, team, config)
            for name, step in list(steps.items())[-2:]:
                log(f"busy: {name}: {step['seconds']:.2f} s, {step['requests']}")

            # the rules and the placement
            t0 = time.perf_counter()
            own = own_uids(team, TODAY, None, None, None)
            result["own_uids_seconds"] = round(time.perf_counter() - t0, 3)
            rules: dict = {}
            snapshots = {}
            for query, reading in readings.items():
                snapshots[query], seconds = interpret(team, reading, start, end, own)
                rules[query] = {"seconds": round(seconds, 3),
                                "busy_times": sum(len(v) for v in snapshots[query].busy.values()),
                                "unreadable": len(snapshots[query].unreadable)}
            snapshots["incremental"], seconds = interpret(team, after, start, end, own)
            rules["incremental (after the change)"] = {
                "seconds": round(seconds, 3), "busy_times": sum(len(v) for v in snapshots["incremental"].busy.values()),
                "unreadable": len(snapshots["incremental"].unreadable)}
            result["rules"] = rules
            t0 = time.perf_counter()
            snapshots["events"].to_json()
            result["snapshot_json_seconds"] = round(time.perf_counter() - t0, 3)
            result["placement"] = {"without busy times": placement(team, None)}
            for query in readings:
                result["placement"][f"busy from {query}"] = placement(team, snapshots[query].busy)
            result["placement"]["busy from engine.read_busy"] = placement(team, times.busy, times.unreadable)
            expected = [s.isoformat(timespec="minutes") for s in EXPECTED_SESSIONS]
            result["expected_sessions"] = expected
            for name, step in result["placement"].items():
                log(f"busy: placement {name}: {step['seconds']:.2f} s, sessions {step['sessions']}")
    finally:
        server.stop()
    return result


def report(busy: dict, table) -> tuple[str, list[tuple[str, bool | None, str]]]:
    """The table for run.py (`table`: run.table), and (target, met, detail) verdicts."""
    rows = []
    for name, step in busy["steps"].items():
        rows.append([name, f"{step['seconds']:.2f}", step["requests_total"],
                     ", ".join(f"{k} {v}" for k, v in step["requests"].items()),
                     f"{step['requests_per_calendar']:.2f}", f"{step['fetched']}/{step['calendars']}",
                     step["failures"]])
    for name, step in busy.get("rules", {}).items():
        rows.append([f"rules: busy times from {name}", f"{step['seconds']:.2f}", 0, "-", "-",
                     f"{step['busy_times']} busy times", step["unreadable"]])
    for name, step in busy.get("placement", {}).items():
        rows.append([f"placement, {name}", f"{step['seconds']:.2f}", 0, "-", "-",
                     ", ".join(s[5:].replace("T", " ") for s in step["sessions"]), step["skipped"]])
    setup = busy["setup"]
    text = (f"5. Busy times: {busy['people']} people x {busy['appointments_per_person']} appointments on Xandikos "
            f"{busy.get('server_version', '')} through the loopback proxy; one quarterly session for all "
            f"(setup, not timed: {setup['write_calendars_seconds']:.0f} s writing the calendars into the storage)\n"
            + table(["step", "wall s", "requests", "by method", "per calendar", "read / sessions", "failed"], rows))
    engine_steps = [(name, step["breakdown"]) for name, step in busy["steps"].items() if step.get("breakdown")]
    if engine_steps:
        labels = list(dict.fromkeys(label for _, b in engine_steps for label in b))
        text += ("\n   where engine.read_busy spends its time (seconds)\n"
                 + table(["run", "total"] + labels, [[name, f"{busy['steps'][name]['seconds']:.2f}"]
                                                     + [f"{b.get(label, 0):.2f}" for label in labels]
                                                     for name, b in engine_steps]))
    reasons = busy.get("placement", {}).get("busy from events", {}).get("reasons")
    if reasons:
        text += "\n   why the sessions are where they are (plan.reasons):\n" + "\n".join(
            f"     {why}" for why in reasons.values())
    verdicts = []
    steps = busy["steps"]
    latency = f", +{1000 * busy.get('latency_seconds', 0):.0f} ms per request"
    for label in ("", latency):
        one, eight = steps.get(f"first read, events{label}, jobs 1"), steps.get(f"first read, events{label}, jobs 8")
        if not (one and eight):
            continue
        detail = f"{eight['seconds']:.1f} s vs {one['seconds']:.1f} s"
        if label:
            loopback = steps.get("first read, events, jobs 8")
            added = busy["steps"][f"first read, events{label}, jobs 8"]["calendars"] * busy["latency_seconds"]
            if loopback:
                extra = eight["seconds"] - loopback["seconds"]
                verdicts.append((f"busy {busy['people']}: first read{label}: 8 jobs hide most round trips "
                                 f"(they cost them at most half of the {added:.0f} s one by one)",
                                 extra <= added / 2, f"{extra:+.1f} s over loopback with 8 jobs, "
                                 f"{one['seconds'] - steps['first read, events, jobs 1']['seconds']:+.1f} s with 1; "
                                 + detail))
        else:
            # on loopback there is no round trip to overlap: the server's own time is all there is,
            # and one Xandikos process shares the 2 cores with the reader
            verdicts.append((f"busy {busy['people']}: first read on loopback, 8 jobs vs 1", None,
                             detail + " (information, not a target)"))
    short = [f"{name}: {step['fetched']}/{step['calendars']}" for name, step in steps.items()
             if step["failures"] or step["fetched"] != step["calendars"]]
    verdicts.append((f"busy {busy['people']}: every step read every calendar", not short,
                     "; ".join(short) or f"{len(steps)} steps"))
    for name, step in steps.items():
        if "nothing changed" in name or name.startswith("engine.read_busy, next"):
            verdicts.append((f"busy {busy['people']}: {name}: one request per calendar",
                             step["requests_per_calendar"] <= 1.0, f"{step['requests']}"))
    expected = busy.get("expected_sessions")
    for name, step in busy.get("placement", {}).items():
        if name == "busy from events" and expected:
            verdicts.append((f"busy {busy['people']}: the session placed where worked out by hand",
                             step["sessions"] == expected, f"{step['sessions']} (expected {expected})"))
    return text, verdicts


def main() -> int:
    import argparse
    import json
    import tempfile
    sys.path.insert(0, str(HERE.parent / "tests"))
    sys.path.insert(0, str(HERE))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--no-freebusy", action="store_true")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ks-busy-"))
    try:
        result = run_busy(args.people, workdir / "busy", log=lambda m: print(m, file=sys.stderr, flush=True),
                          freebusy=not args.no_freebusy)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    from run import table
    text, verdicts = report(result, table)
    print(text)
    for target, met, detail in verdicts:
        print(f"  {'MET   ' if met else 'MISSED' if met is not None else 'n/a   '} {target}: {detail}")
    print(json.dumps(result, indent=2, default=str)[:4000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
