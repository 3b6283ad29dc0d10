"""A small team synced into memory calendars: the engine's rules, tested without a server."""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from icalendar import Calendar

from helpers import make_team
from kalender_sync.core.invitations import for_calendars
from kalender_sync.core.planning import plan, uid_for
from kalender_sync.engine.runs import stamp_for
from kalender_sync.engine.sync import Job, sync_team
from kalender_sync.storage.status import MemoryStatus
from kalender_sync.targets.memory import MemoryCalendar
from kalender_sync.targets.registry import TargetContext

SATURDAY = date(2026, 11, 28)


def team_yaml(contacts: int = 3, session: bool = True, session_start: str = "14:00", horizon: str | None = None) -> str:
    lines = [f"horizon: {horizon}"] if horizon else []
    lines += ["contacts:"] + [
        f"  - {{owner: {owner}, with: Contact {owner} {n}, every: {3 + n} months, last: 2026-0{1 + n}-15}}"
        for owner in ("maarten", "jw") for n in range(contacts)]
    if contacts == 0:
        lines.remove("contacts:")
    if session:
        lines += ["sessions:", "  - {name: Bel-uurtje, every: month, participants: all, "
                               f"prefer: {{weekday: thu, start: \"{session_start}\"}}}}"]
    return "\n".join(lines) + "\n"


class Engine:
    """The team's people, each with a memory calendar, and one status store."""

    def __init__(self, tmp_path, faults=None, jobs: int = 1):
        self.tmp = tmp_path
        self.jobs = jobs          # > 1: the calendars are synced side by side (sync --jobs)
        self.calendars = {p: MemoryCalendar(p, faults=faults) for p in ("maarten", "jw")}
        self.status = MemoryStatus()
        self.logged = []

    def team(self, **options):
        return make_team(team_yaml(**options))

    def plan(self, team, today: date = SATURDAY):
        return for_calendars(plan(team, today), team)

    def sync(self, team=None, today: date = SATURDAY, *, dry_run: bool = False, force_delete: bool = False):
        team = team or self.team()
        the_plan = self.plan(team, today)
        jobs = [Job(p, team.calendars[p.calendar]) for p in team.people.values()]

        def record(entries):
            self.logged.extend(entries)

        results = sync_team(team, the_plan, jobs, self.status, stamp_for(today), TargetContext(self.tmp, team.name,
                                                                                         jobs=self.jobs),
                            dry_run=dry_run, force_delete=force_delete, replan=lambda t: self.plan(t, today),
                            record_contacts=record, open_target=lambda calendar, person, context: self.calendars[person.id])
        return the_plan, results

    def uids(self, person: str) -> list[str]:
        return [uid for body in self.calendars[person].bodies().values() for uid in facts(body)[0]]

    def ours(self, person: str) -> dict[str, bytes]:
        """Our events in the calendar: the marker and the UID derived from it (a copied marker is not ours)."""
        result = {}
        for href, body in self.calendars[person].bodies().items():
            uids, key = facts(body)
            if key is not None and uids == [uid_for(key)]:
                result[href] = body
        return result


@lru_cache(maxsize=None)
def facts(body: bytes) -> tuple[list[str], str | None]:
    """(the VEVENT UIDs, our marker) of one body, read with icalendar once per distinct body:
    the invariants ask after every step of a long history."""
    events = Calendar.from_ical(body).walk("VEVENT")
    key = events[0].get("x-kalender-sync-key") if events else None
    return [str(e["uid"]) for e in events], str(key) if key is not None else None


def retitled(prefix: str):
    def change(body: bytes) -> bytes:
        calendar = Calendar.from_ical(body)
        event = calendar.walk("VEVENT")[0]
        event["summary"] = prefix + str(event["summary"])
        return calendar.to_ical()
    return change


def moved(hours: int = 1):
    def change(body: bytes) -> bytes:
        calendar = Calendar.from_ical(body)
        event = calendar.walk("VEVENT")[0]
        for name in ("dtstart", "dtend"):
            event[name].dt = event[name].dt + timedelta(hours=hours)
        return calendar.to_ical()
    return change


def done(results, action: str) -> int:
    return sum(r.done.get(action, 0) for r in results)
