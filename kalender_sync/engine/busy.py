"""People's busy times for a run: read from the calendars named in `busy:`, kept as a snapshot.

- The window read is [today, until) in the team's zone: what the plan shows. Sessions and
  aftercare are also placed outside it (every period of the years the plan touches, every
  aftercare), but only to keep where things land independent of `today`; what lies before
  today has happened or was placed by an earlier run (storage.placements), and what lies
  past `until` is placed again, with busy times, once it comes into the window.
- Every person with busy sources gets one request per source ({person} filled in, the
  password from storage.credentials: never logged, never in a message). A password that
  cannot be had makes that person's source unreadable, like a server that is down.
- Our own events are never busy: the rules drop what carries our marker, and every UID
  that is ours: those of the plan made without busy times, of the status database and of
  the invitation database (an invitation a person accepted keeps our UID).
- What was read is a `BusySnapshot`, kept next to the config with the readers' cache
  (ETags, sync tokens), both private (0600) and written atomically, by the runs that carry
  events out. `--offline` plans from the last snapshot without reading anything.
- A team without busy sources reads nothing and writes nothing here.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from ..core.errors import KalenderSyncError, UsageError
from ..core.model import Team, busy_sources_of, username_for
from ..storage.atomic import write_atomically

SNAPSHOT_NAME = ".kalender-sync-busy.json"
CACHE_NAME = ".kalender-sync-busy-cache.json"
# Calendars read at once; each is a request or two to its server.


@dataclass
class BusyTimes:
    """What one run knows of people's busy times, as the planner takes them."""

    busy: dict                          # person id -> tuple of core.busy.BusyTime
    unreadable: dict[str, str]          # person id -> why (naming the source)
    snapshot: object                    # the core.busy.BusySnapshot they come from
    offline: bool = False
    requests: int = 0                   # HTTP requests made to read them
    saved: list[Path] = field(default_factory=list)

    def plan_args(self) -> dict:
        return {"busy": self.busy, "unreadable": self.unreadable}


def has_busy_sources(team: Team) -> bool:
    return any(person.busy for person in team.people.values())


def snapshot_path(config_path: Path) -> Path:
    return Path(config_path).parent / SNAPSHOT_NAME


def cache_path(config_path: Path) -> Path:
    return Path(config_path).parent / CACHE_NAME


def window(team: Team, today: date) -> tuple[datetime, datetime]:
    """[today, until) in the team's zone: the days the plan shows."""
    until = team.horizon.after(today)
    return (datetime.combine(today, time(0), team.timezone), datetime.combine(until, time(0), team.timezone))


def busy_requests(team: Team) -> tuple[list, dict[str, str]]:
    """One request per person and busy source; and, per person, the sources that cannot be
    asked at all (no password to be had), as failures in the readers' words."""
    from ..storage.credentials import password_for
    from ..targets.busysources import BusyRequest
    requests, failures = [], {}
    for person in team.people.values():
        for calendar, location in busy_sources_of(team, person):
            username = username_for(calendar, person.id) if calendar.kind != "url" else None
            try:
                password = password_for(calendar, username) if username is not None else None
            except KalenderSyncError as exc:
                failures[person.id] = _joined(failures.get(person.id), f"{calendar.id}: {exc}")
                continue
            requests.append(BusyRequest(person=person.id, source=calendar.id, kind=calendar.kind,
                                        location=location, username=username, password=password,
                                        busy_query=calendar.busy_query))
    return requests, failures


def read_busy(team: Team, today: date, config_path: Path, *, placed=None, offline: bool = False,
              save: bool = True, status_path: Path | None = None, invites_path: Path | None = None,
              context=None) -> BusyTimes | None:
    """The busy times to plan with: read now, or (`offline`) the last snapshot. None for a
    team without busy sources. `save`: keep the snapshot and the cache (runs that write)."""
    if not has_busy_sources(team):
        return None
    here = snapshot_path(config_path)
    if offline:
        try:
            snapshot = load_snapshot(here)
        except KalenderSyncError as exc:
            raise UsageError(f"--offline: {exc}; run once without --offline") from None
        if snapshot is None:
            raise UsageError(f"--offline: no busy times were kept yet ({here} does not exist); run sync, "
                             "export or invite once without --offline to read them")
        return _from_snapshot(team, snapshot, offline=True)

    from ..core.busy import snapshot_from
    from ..targets.busysources import BusyCache, read_busy_sources
    start, end = window(team, today)
    requests, failures = busy_requests(team)
    cache = _load_cache(cache_path(config_path))
    options = {}
    if context is not None:
        # The run's workers read the sources side by side, as they sync the calendars.
        options = {"timeout": context.timeout, "retry": context.retry, "log": context.log,
                   "jobs": context.jobs, "pool": context.pool()}
    reading = read_busy_sources(requests, start, end, cache=cache if cache is not None else BusyCache(),
                                **options)
    for person, reason in reading.failures.items():
        failures[person] = _joined(failures.get(person), reason)
    own = own_uids(team, today, placed, status_path, invites_path)
    snapshot = snapshot_from(reading.fetched, failures, team, today, start, end, own)
    result = _from_snapshot(team, snapshot, offline=False)
    result.requests = reading.requests
    if save:
        for path, data in ((here, snapshot.to_json()), (cache_path(config_path), reading.cache.to_json())):
            try:
                write_atomically(path, data, mode=0o600)
            except OSError as exc:
                raise KalenderSyncError(f"the busy times read cannot be kept in {path} "
                                        f"({exc.strerror or type(exc).__name__}); nothing was written") from None
            result.saved.append(path)
    return result


def load_snapshot(path: Path):
    """The kept core.busy.BusySnapshot; None if there is none. Raises KalenderSyncError when the
    file is there but cannot be used."""
    from ..core.busy import BusySnapshot
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KalenderSyncError(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        return BusySnapshot.from_json(data)
    except KalenderSyncError as exc:
        raise KalenderSyncError(f"{path} cannot be used ({exc})") from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise KalenderSyncError(f"{path} cannot be used ({type(exc).__name__})") from None


def kept_busy(team: Team, config_path: Path) -> BusyTimes | None:
    """For the feed server, which never reads calendars while it answers: the busy times of
    the last run that read them. Without a usable snapshot nobody's busy times are known, so
    nothing new is placed for the people who have busy sources. None: no busy sources."""
    if not has_busy_sources(team):
        return None
    try:
        snapshot = load_snapshot(snapshot_path(config_path))
        why = "no busy times read yet: `kalender-sync sync` or `export` reads them"
    except KalenderSyncError as exc:
        snapshot, why = None, str(exc)
    if snapshot is None:
        unreadable = {person.id: why for person in team.people.values() if person.busy}
        return BusyTimes({}, unreadable, None, offline=True)
    return _from_snapshot(team, snapshot, offline=True)


def _from_snapshot(team: Team, snapshot, *, offline: bool) -> BusyTimes:
    """The planner's view of a snapshot for this team: someone with busy sources the snapshot
    does not know (added since it was taken) has no busy times to go by: unreadable."""
    busy = {person: tuple(times) for person, times in snapshot.busy.items() if person in team.people}
    unreadable = {person: why for person, why in snapshot.unreadable.items() if person in team.people}
    for person in team.people.values():
        if person.busy and person.id not in busy and person.id not in unreadable:
            unreadable[person.id] = (f"{', '.join(person.busy)}: not in the busy times kept on "
                                     f"{snapshot.today} (run without --offline to read them)")
    return BusyTimes(busy, dict(sorted(unreadable.items())), snapshot, offline=offline)


def own_uids(team: Team, today: date, placed, status_path: Path | None, invites_path: Path | None) -> frozenset[str]:
    """Every UID that is ours: never anyone's busy time, whoever's calendar holds it."""
    from ..core.invitations import invite_uid
    from ..core.planning import plan
    uids: set[str] = set()
    without_busy = plan(team, today, placed=placed) if placed else plan(team, today)
    for event in without_busy.events:
        uids.add(event.uid)
        uids.add(invite_uid(event.group))
    for group in (placed or {}):
        uids.add(invite_uid(group))
    uids |= _uids_in(status_path, "SELECT uid FROM events")
    uids |= _uids_in(invites_path, "SELECT uid FROM invites")
    return frozenset(uids)


def _uids_in(path: Path | None, query: str) -> set[str]:
    """The UIDs a database of ours holds; none if it is not there or not readable (it is
    then no help here, and the command that owns it says what is wrong with it)."""
    if path is None or not path.is_file():
        return set()
    from ..storage.status import open_read_only
    try:
        db = open_read_only(path)
        try:
            return {row[0] for row in db.execute(query)}
        finally:
            db.close()
    except sqlite3.Error:
        return set()


def _load_cache(path: Path):
    from ..targets.busysources import BusyCache
    try:
        return BusyCache.from_json(path.read_bytes())
    except OSError:
        return None


def _joined(before: str | None, reason: str) -> str:
    return f"{before}; {reason}" if before else reason


def unreadable_text(team: Team, unreadable: dict[str, str]) -> str:
    """'Hanna de Wit (hanna): werk (https://…): 401 Unauthorized; …' for messages."""
    return "; ".join(f"{team.people[p].name} ({p}): {why}" if p in team.people else f"{p}: {why}"
                     for p, why in sorted(unreadable.items()))
