"""What each person's feed says: config + contact log + today -> the plan -> one calendar each.

Reloaded when the config or log file changes (checked with stat() on every request) or the
day changes; if a reload fails, the last good plan stays in service and the error is kept
for /healthz. The feed server (targets/feed.py) publishes what this renders.

A team with busy sources is planned with the busy times the last sync or export read (the
snapshot, engine.busy) and the placements runs remembered (storage.placements), both reloaded
when their files change: a request never reads anyone's calendar.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from ..core.errors import KalenderSyncError
from ..core.history import CalendarPlan, calendar_plan
from ..core.model import Team
from ..core.planning import Plan
from ..core.timezones import VTimezones
from ..storage.teamfiles import load, log_path
from .runs import stamp_for

log = logging.getLogger("kalender_sync.feed")


@dataclass
class Snapshot:
    team: Team
    plan: CalendarPlan        # with the past stretch: a feed keeps the recent past too
    loaded_at: datetime       # when this config was loaded (real clock, UTC)
    rendered: dict[str, bytes] = field(default_factory=dict)     # person -> feed body


def _stat(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def render_feed(team: Team, plan: Plan, person_id: str, zones: VTimezones | None = None) -> bytes:
    """One person's feed: the past stretch and the plan, METHOD:PUBLISH, no ATTENDEE, refresh
    hints, stable DTSTAMP/SEQUENCE (derived from the plan's day), so the same input always
    gives the same bytes."""
    person = team.people[person_id]
    name = f"{team.feed.name or team.name} — {person.name}"
    from ..core.render import render_calendar   # icalendar: only when a feed is asked for
    shown = plan.shown_for(person_id) if isinstance(plan, CalendarPlan) else plan.for_person(person_id)
    return render_calendar(shown, stamp_for(plan.today), name, person.language,
                           zones, method="PUBLISH", refresh=team.feed.refresh)


class FeedPlans:
    """config + contact log + today -> the current plan, and each person's rendered feed.

    Reloaded when the config or log file changes (checked with stat() on every call) or the
    day changes; if a reload fails, the last good plan stays in service and the error is kept
    for /healthz.
    """

    def __init__(self, config_path: Path, today: date | None = None, wall_clock=time.time):
        self.config_path = Path(config_path)
        self.fixed_today = today
        self.wall_clock = wall_clock
        self._lock = threading.Lock()
        self._files_key: tuple | None = None
        self._good: Snapshot | None = None
        self._error: str | None = None
        self._error_since: datetime | None = None
        self.zones = VTimezones()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.wall_clock(), timezone.utc)

    def _today(self, team: Team) -> date:
        return self.fixed_today or self._now().astimezone(team.timezone).date()

    def current(self) -> Snapshot:
        """The snapshot to serve. Raises only if the config never loaded (then serve refuses to start)."""
        with self._lock:
            return self._refresh()

    def _plan(self, team: Team, today: date) -> CalendarPlan:
        from .busy import kept_busy
        busy = kept_busy(team, self.config_path)
        if busy is None:
            return calendar_plan(team, today)
        from ..storage.placements import load_placements, placements_path
        if busy.unreadable:
            log.warning("busy times not known for %s: nothing new is placed for them in the feeds (%s)",
                        ", ".join(sorted(busy.unreadable)), "; ".join(sorted(set(busy.unreadable.values()))))
        return calendar_plan(team, today, busy=busy.busy, unreadable=busy.unreadable,
                             placed=load_placements(placements_path(self.config_path)))

    def _refresh(self) -> Snapshot:
        from ..storage.placements import placements_path
        from .busy import snapshot_path
        key = (_stat(self.config_path), _stat(log_path(self.config_path)), _stat(snapshot_path(self.config_path)),
               _stat(placements_path(self.config_path)))
        good = self._good
        if good is not None and key == self._files_key:
            today = self._today(good.team)
            if today != good.plan.today:           # a new day: same team, new plan
                self._good = Snapshot(good.team, self._plan(good.team, today), good.loaded_at)
            return self._good
        self._files_key = key
        try:
            team = load(self.config_path)
            snapshot = Snapshot(team, self._plan(team, self._today(team)), self._now())
        except Exception as exc:                   # noqa: BLE001 - keep serving, report on /healthz
            message = (exc.args[0] if exc.args else str(exc)) if isinstance(exc, KalenderSyncError) else (
                f"internal error: {type(exc).__name__}: {exc}")
            if self._error != message:
                detail = str(exc) if isinstance(exc, KalenderSyncError) else message
                log.error("config %s does not load; %s:\n%s", self.config_path,
                          "still serving the plan loaded at " + good.loaded_at.isoformat(timespec="seconds")
                          if good else "nothing to serve", detail)
                self._error_since = self._now()
            self._error = message
            if good is None:
                raise
            today = self._today(good.team)
            if today != good.plan.today:
                try:
                    self._good = Snapshot(good.team, self._plan(good.team, today), good.loaded_at)
                except KalenderSyncError:           # the placements file: reported above
                    pass
            return self._good
        if self._error is not None:
            log.info("config %s loads again", self.config_path)
        elif good is not None:
            log.info("config or contact log changed: %s reloaded", self.config_path)
        self._error = self._error_since = None
        self._good = snapshot
        return snapshot

    def feed(self, person_id: str) -> bytes | None:
        """The person's feed in the current plan, or None if there is no such person."""
        with self._lock:
            snapshot = self._refresh()
            if person_id not in snapshot.team.people:
                return None
            body = snapshot.rendered.get(person_id)
            if body is None:
                body = snapshot.rendered[person_id] = render_feed(snapshot.team, snapshot.plan, person_id, self.zones)
            return body

    def health(self) -> dict:
        with self._lock:
            try:
                snapshot = self._refresh()
            except Exception:                       # noqa: BLE001 - never loaded: reported below
                snapshot = None
            doc = {
                "status": "ok" if self._error is None else "error",
                "config_ok": self._error is None,
                "people": len(snapshot.team.people) if snapshot else 0,
                "today": snapshot.plan.today.isoformat() if snapshot else None,
                "events": len(snapshot.plan.events) if snapshot else 0,
                "loaded_at": snapshot.loaded_at.isoformat(timespec="seconds") if snapshot else None,
            }
            if self._error is not None:
                doc["error"] = self._error
                doc["error_since"] = self._error_since.isoformat(timespec="seconds")
            return doc


