"""Commands for people's calendars: check, plan, export, sync, purge."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

import click

from ..core.diff import ACTIONS, summarize
from ..core.errors import PartialFailure, TargetError, UsageError
from ..core.model import WEEKDAYS
from ..core.planning import PlannedEvent
from .options import (busy_and_placed, calendar_plan, check_people, common, jobs_option, load_team, offline_option,
                      parse_shard, people_option, plan_args, raise_if_unread, remember_placements, state_option,
                      unread_note, wait_option)

STATE_NAME = ".kalender-sync-state.sqlite"

@click.command()
@common
def check(config_path: Path, today: date | None):
    """Validate the config and contact log; write nothing."""
    team, today = load_team(config_path, today, links="existing")
    plan = calendar_plan(team, today)
    click.echo(f"{config_path}: OK — {_count(team.people, 'person', 'people')}, "
               f"{_count(team.contacts, 'contact agreement')}, {_count(team.projects, 'project')}, "
               f"{_count(team.sessions, 'session series', 'session series')}, "
               f"{_count(team.meetings, 'meeting')}, {_count(team.log, 'logged contact')}{_busy_note(team)}; "
               f"{len(plan.events)} events planned {today} – {plan.until}{_past_note(plan)}")
    click.echo(_links_note(team, config_path))
    for skipped in plan.skipped:
        click.echo(f"warning: {skipped.what}: {skipped.reason}", err=True)


def _links_note(team, config_path: Path) -> str:
    if not team.feed.base_url:
        return ("done links: off (set feed.base_url to the public address of `kalender-sync serve` to put "
                "a done link in every contact reminder)")
    from ..storage.linkkey import where
    made = "" if team.links else " (made on the first run that writes reminders)"
    return f"done links: on, {team.feed.base_url}/done/…, signed with the key from {where(config_path)}{made}"


def _when(event: PlannedEvent, lang: str = "en") -> str:
    start = event.start
    if event.all_day:
        return f"{start.isoformat()} {WEEKDAYS[start.weekday()]} all day    "
    # isoformat slices instead of strftime: this runs for every event of the whole team.
    return (f"{start.date().isoformat()} {WEEKDAYS[start.weekday()]} "
            f"{start.time().isoformat()[:5]}–{event.end.time().isoformat()[:5]}")


def _when_held(moment) -> str:
    """The start of an event as a calendar holds it (its end is not kept): as wide as `_when`."""
    if not isinstance(moment, datetime):
        return f"{moment.isoformat()} {WEEKDAYS[moment.weekday()]} all day    "
    return f"{moment.date().isoformat()} {WEEKDAYS[moment.weekday()]} {moment.time().isoformat()[:5]}      "


def _event_json(event: PlannedEvent) -> dict:
    return {"uid": event.uid, "key": event.key, "kind": event.kind, "title": event.title,
            "start": event.start.isoformat(), "end": event.end.isoformat(), "all_day": event.all_day,
            "location": event.location, "attendees": list(event.attendees)}


def _local(moment, zone):
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return moment.astimezone(zone)
    return moment


class _Row:
    """One line of the plan: what `sync` does with one event (`change`; None: not read, `planned`).

    An event its person changed shows as they have it (their title and time, `held`), with
    what they did (`reason`). The JSON fields are made only for --format json.
    """

    __slots__ = ("action", "event", "change", "held", "when", "sort", "reason")

    def __init__(self, action, event, change, held, when, sort, reason):
        self.action, self.event, self.change, self.held = action, event, change, held
        self.when, self.sort, self.reason = when, sort, reason

    @property
    def title(self) -> str:
        old = self.change.existing if self.change is not None else None
        if self.event is None or (self.held is not None and old is not None and old.title):
            return self.change.title if self.event is None else old.title
        return self.event.title

    @property
    def kind(self) -> str:
        return self.event.kind if self.event is not None else self.change.kind

    def line(self) -> str:
        text = f"  {self.action:<8} {self.when}  {self.kind:<11} {self.title}"
        return text + (f"  — {self.reason}" if self.reason else "")

    def json(self) -> dict:
        if self.held is None and self.event is not None:
            doc = _event_json(self.event)
        else:
            old = self.change.existing
            held = self.held
            doc = {"uid": self.change.uid, "key": old.key if old is not None else None, "kind": self.kind,
                   "title": self.title, "start": held.isoformat() if held is not None else None, "end": None,
                   "all_day": held is not None and not isinstance(held, datetime), "location": None, "attendees": []}
            if self.event is not None:
                doc["planned"] = {"title": self.event.title, "start": self.event.start.isoformat(),
                                  "end": self.event.end.isoformat()}
        doc["action"] = self.action
        doc["reason"] = self.reason
        return doc


# Actions whose row shows the event as its person has it (where they have one).
_THEIRS = frozenset({"conflict", "done", "delete"})


def _rows(person, listed: bool, changes, planned: list[PlannedEvent], zone) -> list[_Row]:
    """One row per change, in the order of the calendar; a calendar that could not be read has
    no changes: its planned events are listed as `planned`."""
    if not listed:
        return [_Row("planned", e, None, None, _when(e), _sort_key(e.start), None) for e in planned]
    from ..core.texts import reason_text
    rows = []
    for change in changes:
        event, old = change.event, change.existing
        held = None
        if old is not None and old.start is not None and (event is None or change.action in _THEIRS):
            held = _local(old.start, zone)
        if held is None and event is not None:
            when, sort = _when(event), _sort_key(event.start)
        elif held is not None:
            when, sort = _when_held(held), _sort_key(held)
        else:
            day = old.end if old is not None else None      # a record from before starts were kept
            when = f"{day.isoformat()} {WEEKDAYS[day.weekday()]}".ljust(22) if day is not None else " " * 22
            sort = _sort_key(day)
        reason = change.reason
        text = (reason_text(person.language, reason.code, _local(reason.moment, zone), reason.day)
                if reason is not None else None)
        rows.append(_Row(change.action, event, change, held, when, sort, text))
    rows.sort(key=lambda r: r.sort)
    return rows


def _sort_key(moment):
    if moment is None:
        return (date.max, "")
    if isinstance(moment, datetime):
        return (moment.date(), moment.time().isoformat())
    return (moment, "")


def _state_path(config_path: Path, state_path: Path | None) -> Path:
    return state_path or config_path.parent / STATE_NAME


@click.command("plan")
@common
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@people_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Compare with .ics files in this folder instead of each person's calendar.")
@state_option
@offline_option
@jobs_option
def plan_command(config_path: Path, today: date | None, fmt: str, people: tuple[str, ...], out_dir: Path | None,
                 state_path: Path | None, offline: bool, jobs: int):
    """Show what each person gets and what export/sync would change. Writes nothing.

    For a team with busy sources: why each session and aftercare is where it is, what was
    kept in spite of someone being busy, and whose busy times could not be read (exit 3)."""
    from ..engine.runs import context_for, stamp_for
    from ..engine.sync import calendar_jobs, sync_team
    team, today = load_team(config_path, today)
    check_people(team, people)
    context = context_for(team, config_path, jobs=jobs)
    busy, placed = _busy_for(team, today, config_path, state_path, offline=offline, save=False, context=context)
    plans = [calendar_plan(team, today, **plan_args(busy, placed))]
    jobs = calendar_jobs(team, list(people), out_dir=out_dir)
    results = sync_team(team, plans[0], jobs, _status(config_path, state_path, dry_run=True,
                                                      files_only=out_dir is not None),
                        stamp_for(today), context, dry_run=True,
                        replan=_replanner(plans, today, busy, placed))
    _show_plan(team, plans[-1], results, people, fmt, busy)
    failed = [r for r in results if r.failures]
    if failed:
        if not any(r.listed for r in results):
            raise TargetError("no calendar could be read; see above")
        raise PartialFailure("some calendars could not be read; see above" + unread_note(busy))
    raise_if_unread(team, busy)


def _replanner(plans: list, today: date, busy=None, placed=None):
    """Plans again when contacts marked done in a calendar join the log (they move reminders);
    the last plan made is the one the changes come from, for `plan` and `sync` alike."""
    def replan(changed_team):
        plans.append(calendar_plan(changed_team, today, **plan_args(busy, placed)))
        return plans[-1]
    return replan


def _busy_for(team, today: date, config_path: Path, state_path: Path | None, *, offline: bool, save: bool,
              context=None):
    """The busy times and the remembered placements (engine.busy, storage.placements); (None,
    None) for a team without busy sources."""
    from ..storage.invites import STATE_NAME as INVITES_NAME
    return busy_and_placed(team, today, config_path, offline=offline, save=save,
                           status_path=_state_path(config_path, state_path),
                           invites_path=config_path.parent / INVITES_NAME, context=context)


def _busy_lines(team, plan, busy) -> list[str]:
    """For `plan`: why each session and aftercare is where it is, what was kept although
    someone is busy then, and whose busy times could not be read."""
    if busy is None:
        return []
    titles = {}
    for event in plan.events:
        titles.setdefault(event.group, event.title)
    lines = []
    if busy.offline:
        lines.append(f"\nbusy times as read on {busy.snapshot.today} (--offline)")
    if plan.reasons:
        lines.append("\nSessions and aftercare, why each is where it is:")
        for group in _by_start(plan, plan.reasons):
            lines.append(f"  {titles.get(group, group)}: {plan.reasons[group]}")
    for conflict in plan.conflicts:
        lines.append(f"\nconflict: {conflict.what}: {conflict.reason}")
    for person, why in sorted(busy.unreadable.items()):
        name = team.people[person].name if person in team.people else person
        lines.append(f"\nbusy times could not be read: {name} ({person}): {why}")
    return lines


def _by_start(plan, groups) -> list[str]:
    def key(group):
        placement = plan.placements.get(group)
        return (placement.start.isoformat() if placement is not None else "~", group)
    return sorted(groups, key=key)


def _busy_json(team, plan, busy) -> dict:
    titles = {}
    for event in plan.events:
        titles.setdefault(event.group, event.title)
    return {
        "busy": {"offline": busy.offline, "read_on": busy.snapshot.today.isoformat(),
                 "unreadable": dict(sorted(busy.unreadable.items()))},
        "placements": [{"group": group, "title": titles.get(group), "reason": plan.reasons[group],
                        "start": plan.placements[group].start.isoformat() if group in plan.placements else None}
                       for group in _by_start(plan, plan.reasons)],
        "conflicts": [{"what": c.what, "reason": c.reason} for c in plan.conflicts],
    }


def _busy_note(team) -> str:
    """', busy times of 4 people from netwerk, outlook': what `check` validated, not read."""
    readers = [person for person in team.people.values() if person.busy]
    sources = sorted({source for person in readers for source in person.busy})
    return f", busy times of {_count(readers, 'person', 'people')} from {', '.join(sources)}" if readers else ""


def _count(items, one: str, many: str | None = None) -> str:
    return f"{len(items)} {one if len(items) == 1 else many or one + 's'}"


def _past_note(plan) -> str:
    """Files and feeds also keep the recent past (core.history): say from when, so that past
    rows in the table are not a surprise."""
    past = getattr(plan, "past", None)
    return f" (files and feeds keep the past from {past.since})" if past is not None else ""


def _show_plan(team, plan, results, people, fmt: str, busy=None) -> None:
    """Per person: the counts of each action, then one row per event, from the same changes,
    so that the header, the rows and the JSON say the same."""
    chosen = [p for p in team.people.values() if not people or p.id in people]
    by_person = {r.person: r for r in results}
    if fmt == "json":
        doc = {"today": plan.today.isoformat(), "until": plan.until.isoformat(), "people": [],
               "skipped": [{"what": s.what, "reason": s.reason} for s in plan.skipped]}
        for person in chosen:
            result = by_person.get(person.id)
            changes = result.changes if result else []
            rows = _rows(person, bool(result and result.listed), changes, plan.for_person(person.id),
                         team.timezone)
            doc["people"].append({
                "id": person.id, "name": person.name, "calendar": person.calendar,
                "target": result.target if result else None, "read": bool(result and result.listed),
                "changes": summarize(changes), "failures": result.failures if result else [],
                "refused": result.refused if result else None,
                "events": [row.json() for row in rows],
                "deletes": [c.uid for c in changes if c.action == "delete"],
            })
        if busy is not None:
            doc.update(_busy_json(team, plan, busy))
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    # One write per person instead of one click.echo per line: a large team has a line per event.
    click.echo(f"Plan for {team.name}, {plan.today} – {plan.until}{_past_note(plan)}")
    for person in chosen:
        result = by_person.get(person.id)
        changes = result.changes if result else []
        listed = bool(result and result.listed)
        if listed:
            counts = summarize(changes)
            summary = ", ".join(f"{n} {a}" for a, n in counts.items()
                                if n or a in ("create", "update", "delete", "keep"))
        else:
            summary = "could not be read"
        lines = [f"\n{person.name} ({person.id}) → {(result.target if result else None) or person.calendar}: "
                 f"{summary}"]
        lines += [row.line() for row in _rows(person, listed, changes, plan.for_person(person.id), team.timezone)]
        for failure in result.failures if result else []:
            lines.append(f"  FAILED   {failure}")
        if result and result.refused:
            lines.append(f"  REFUSED  {result.refused}")
        click.echo("\n".join(lines))
    for skipped in plan.skipped:
        click.echo(f"\nwarning: {skipped.what}: {skipped.reason}")
    lines = _busy_lines(team, plan, busy)
    if lines:
        click.echo("\n".join(lines))


@click.command()
@common
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Write every person's file into this folder (default: each person's ics calendar).")
@people_option
@offline_option
def export(config_path: Path, today: date | None, out_dir: Path | None, people: tuple[str, ...], offline: bool):
    """Write one .ics file per person (atomically); unchanged files are not touched."""
    from ..engine.runs import context_for, stamp_for
    from ..engine.sync import calendar_jobs, sync_team
    from ..storage.status import MemoryStatus
    team, today = load_team(config_path, today)
    check_people(team, people)
    jobs = calendar_jobs(team, list(people), kinds=("ics",), out_dir=out_dir)
    if not jobs:
        raise UsageError("nobody has an ics calendar; use --out DIR to write files for everyone")
    context = context_for(team, config_path)
    busy, placed = _busy_for(team, today, config_path, None, offline=offline, save=True, context=context)
    plan = calendar_plan(team, today, **plan_args(busy, placed))
    # A file is generated output: it holds the plan, whatever was in it (no mass-delete guard).
    files = sync_team(team, plan, jobs, MemoryStatus(), stamp_for(today), context,
                      dry_run=False, force_delete=True)
    if any(not f.failures for f in files):
        remember_placements(config_path, plan, busy)
    _raise_if_failed(files, unread_note(busy))
    total = dict.fromkeys(ACTIONS, 0)
    for item in files:
        counts = summarize(item.changes)
        for action, count in counts.items():
            total[action] += count
        state = "written" if item.written else "unchanged"
        click.echo(f"{item.target}: {sum(counts[a] for a in ('create', 'update', 'keep'))} events "
                   f"({counts['create']} new, {counts['update']} changed, {counts['delete']} removed) — {state}")
    click.echo(f"{len(files)} files, {sum(1 for f in files if f.written)} written; "
               f"{total['create']} new, {total['update']} changed, {total['delete']} removed, "
               f"{total['keep']} kept; planned {today} – {plan.until}{_past_note(plan)}")
    for skipped in plan.skipped:
        click.echo(f"warning: {skipped.what}: {skipped.reason}", err=True)
    for conflict in plan.conflicts if busy is not None else ():
        click.echo(f"conflict: {conflict.what}: {conflict.reason}", err=True)
    raise_if_unread(team, busy)


@click.command()
@common
@click.option("--dry-run", is_flag=True, help="Show what would change (the same as `plan`); write nothing.")
@click.option("--force-delete", is_flag=True, help="Allow a sync that removes every kalender-sync event of a calendar.")
@people_option
@click.option("--shard", callback=parse_shard, metavar="I/N",
              help="Only the people whose id hashes to shard I of N (1-based), for parallel jobs.")
@click.option("--format", "fmt", type=click.Choice(["auto", "table", "json"]), default="auto", show_default=True,
              help="auto: a table on a terminal, a JSON summary otherwise.")
@state_option
@offline_option
@jobs_option
@wait_option
def sync(config_path: Path, today: date | None, dry_run: bool, force_delete: bool, people: tuple[str, ...],
         shard, fmt: str, state_path: Path | None, offline: bool, jobs: int, wait: float):
    """Carry the plan into every person's calendar, whatever its kind (owned events only, edits kept).

    One run at a time per status database: a second one waits up to --wait seconds, then exits 1."""
    from ..storage.runlock import run_lock
    from ..storage.status import recall_holidays
    path = _state_path(config_path, state_path)
    holidays, holidays_seen = recall_holidays(path)
    team, today = load_team(config_path, today, holidays)
    check_people(team, people)
    calendars = _jobs_for(team, people, shard)
    if dry_run:
        return _sync(config_path, team, today, holidays_seen, calendars, dry_run, force_delete, fmt, state_path,
                     offline, jobs)
    with run_lock(path, shard=shard, wait=wait, command="sync"):
        return _sync(config_path, team, today, holidays_seen, calendars, dry_run, force_delete, fmt, state_path,
                     offline, jobs)


def _jobs_for(team, people, shard):
    from ..engine.sync import calendar_jobs
    jobs = calendar_jobs(team, list(people), shard)
    if not jobs:
        raise UsageError("nobody is in this selection")
    return jobs


def _sync(config_path: Path, team, today: date, holidays_seen, jobs, dry_run: bool, force_delete: bool, fmt: str,
          state_path: Path | None, offline: bool, workers: int):
    from ..engine.done import log_completed
    from ..engine.runs import context_for, stamp_for
    from ..engine.sync import sync_team
    context = context_for(team, config_path, jobs=workers)
    busy, placed = _busy_for(team, today, config_path, state_path, offline=offline, save=not dry_run,
                             context=context)
    plans = [calendar_plan(team, today, **plan_args(busy, placed))]
    status = _status(config_path, state_path, dry_run=dry_run)
    if not dry_run:
        status.remember_holidays(team.public_holidays, holidays_seen)
    if fmt == "auto":
        fmt = "table" if sys.stdout.isatty() else "json"
    logged = []
    if dry_run:
        results = sync_team(team, plans[0], jobs, status, stamp_for(today), context, dry_run=True,
                            replan=_replanner(plans, today, busy, placed))
        _show_plan(team, plans[-1], results, [j.person.id for j in jobs], "json" if fmt == "json" else "table",
                   busy)
    else:
        def record_contacts(entries):
            log_completed(config_path, team, entries, today)
            logged.extend(entries)

        total = len(plans[0].events)
        show_bar = sys.stderr.isatty() and total > 50
        with click.progressbar(length=total, label="syncing", file=sys.stderr) if show_bar else _nullbar() as bar:
            results = sync_team(team, plans[0], jobs, status, stamp_for(today), context, dry_run=False,
                                force_delete=force_delete, progress=bar.update,
                                replan=_replanner(plans, today, busy, placed), record_contacts=record_contacts)
        if any(r.listed for r in results):
            remember_placements(config_path, plans[-1], busy)
        _show_results(results, fmt, team, plans[-1], busy)
    unfinished = [r for r in results if r.failures or r.refused]
    if unfinished:
        names = ", ".join(r.person for r in unfinished)
        if len(unfinished) == len(results) and not logged and not any(r.wrote for r in results):
            raise TargetError(f"nothing {'would be' if dry_run else 'was'} synced; not finished for: {names}; "
                              "run sync again to continue" + unread_note(busy))
        raise PartialFailure(f"not finished for: {names}; run sync again to continue" + unread_note(busy))
    raise_if_unread(team, busy)


def _status(config_path: Path, state_path: Path | None, *, dry_run: bool, files_only: bool = False):
    """The status database; a dry run without one (or over --out files) reads into memory."""
    from ..storage.status import MemoryStatus, State
    path = _state_path(config_path, state_path)
    if files_only or dry_run and not path.exists():
        return MemoryStatus()
    return State(path)


def _raise_if_failed(results, note: str = "") -> None:
    """Nothing written: the first failure is the error (exit 1); some written: partly (exit 3)."""
    failed = [r for r in results if r.failures]
    if not failed:
        return
    if len(failed) == len(results):
        raise TargetError(failed[0].failures[0] + note)
    raise PartialFailure("not finished for: " + ", ".join(
        f"{r.person} ({r.failures[0]})" for r in failed) + note)


class _nullbar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


def _show_results(results, fmt: str, team=None, plan=None, busy=None) -> None:
    if fmt == "json":
        doc = {"calendars": [
            {"person": r.person, "target": r.target, "read": r.listed, "planned": r.planned, "done": r.done,
             "failures": r.failures, "refused": r.refused, "notes": r.notes} for r in results]}
        if busy is not None:
            doc.update(_busy_json(team, plan, busy))
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    for r in results:
        if not r.listed:
            done = "could not be read"
        else:
            done = ", ".join(f"{n} {a}" for a, n in sorted(r.done.items())) or (
                "nothing written" if r.failures or r.refused else "nothing to do")
        click.echo(f"{r.person} → {r.target}: {done}")
        for note in r.notes:
            click.echo(f"  note: {note}")
        for failure in r.failures:
            click.echo(f"  FAILED: {failure}")
        if r.refused:
            click.echo(f"  REFUSED: {r.refused}")
    if busy is not None:
        for conflict in plan.conflicts:
            click.echo(f"conflict: {conflict.what}: {conflict.reason}")
        for person, why in sorted(busy.unreadable.items()):
            click.echo(f"busy times could not be read: {person}: {why}")


@click.command()
@common
@people_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--include-changed", is_flag=True,
              help="Also remove the events people moved, edited or marked done (kept by default).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@state_option
@wait_option
def purge(config_path: Path, today: date | None, people: tuple[str, ...], yes: bool, include_changed: bool,
          fmt: str, state_path: Path | None, wait: float):
    """Remove every event kalender-sync created from people's calendars, and nothing else.

    Events a person moved, edited or marked done are theirs: they stay unless --include-changed.
    """
    from ..engine.sync import calendar_jobs
    team, today = load_team(config_path, today)
    check_people(team, people)
    jobs = calendar_jobs(team, list(people))
    if not yes and not sys.stdin.isatty():
        raise UsageError("purge deletes events; pass --yes to confirm when not on a terminal")
    from ..storage.runlock import run_lock
    with run_lock(_state_path(config_path, state_path), wait=wait, command="purge"):
        _purge(config_path, team, jobs, yes, include_changed, fmt, state_path)


def _purge(config_path: Path, team, jobs, yes: bool, include_changed: bool, fmt: str, state_path: Path | None):
    from ..engine.runs import context_for
    from ..engine.sync import carry_out_purge, survey_purge
    status = _status(config_path, state_path, dry_run=False)
    context = context_for(team, config_path)
    results = surveys = None
    try:
        surveys = [survey_purge(job, context) for job in jobs]
        total = sum(_to_remove(s, include_changed) for s in surveys if not s.failures)
        calendars = sum(1 for s in surveys if not s.failures and _to_remove(s, include_changed))
        if not yes or not total:
            # Said before the question, so that a "yes" knows what it removes; with --format
            # json on stderr, so that stdout stays one JSON document.
            for survey in surveys:
                click.echo(_survey_line(survey, include_changed), err=fmt == "json")
        if total and (yes or click.confirm(f"Remove {total} kalender-sync event{'s' if total != 1 else ''} "
                                           f"from {calendars} calendar{'s' if calendars != 1 else ''}?",
                                           default=False, err=fmt == "json")):
            results = [carry_out_purge(s, status, include_changed=include_changed) for s in surveys]
    finally:
        if results is None:
            for survey in surveys or []:
                if survey.target is not None:
                    survey.target.close()
        context.finish(wrote=results is not None)
        context.release()
    _show_purge(surveys, results, fmt, include_changed, "nothing removed" if total else "nothing to remove")
    if total and results is None:
        return                      # declined: a choice, not a failure
    failed = [s.job.person.id for s in surveys if s.failures] + [
        r.person for r in results or [] if r.failures and r.listed]
    if failed:
        if results is None or not any(r.done.get("delete") for r in results):
            raise TargetError(f"purge removed nothing; not finished for: {', '.join(failed)}")
        raise PartialFailure(f"purge did not finish for: {', '.join(failed)}; run it again")


def _to_remove(survey, include_changed: bool) -> int:
    return len(survey.remove) - (0 if include_changed else len(survey.changed))


def _changed_text(survey) -> str:
    from ..core.diff import DONE
    done = sum(1 for r in survey.changed if r.status == DONE)
    parts = [f"{len(survey.changed) - done} moved or edited"] if len(survey.changed) > done else []
    parts += [f"{done} marked done"] if done else []
    return ", ".join(parts)


def _survey_line(survey, include_changed: bool) -> str:
    head = f"{survey.job.person.id} → {survey.where}: "
    if survey.failures:
        return head + "could not be read\n" + "\n".join(f"  FAILED: {f}" for f in survey.failures)
    count = _to_remove(survey, include_changed)
    text = head + f"{count} event{'s' if count != 1 else ''} to remove"
    if survey.changed:
        text += (f", {len(survey.changed)} of them changed by their person ({_changed_text(survey)})"
                 if include_changed else
                 f"; {len(survey.changed)} changed by their person {'stays' if len(survey.changed) == 1 else 'stay'} "
                 f"({_changed_text(survey)}; "
                 "--include-changed removes them too)")
    return text


def _show_purge(surveys, results, fmt: str, include_changed: bool, nothing: str) -> None:
    """What purge removed (`results`), or, declined or with nothing to remove (None), `nothing`."""
    from ..core.diff import DONE
    if fmt == "json":
        calendars = []
        for index, survey in enumerate(surveys):
            result = results[index] if results is not None else None
            done = sum(1 for r in survey.changed if r.status == DONE)
            calendars.append({
                "person": survey.job.person.id, "target": survey.where, "read": not survey.failures,
                "to_remove": _to_remove(survey, include_changed) if not survey.failures else 0,
                "removed": result.done.get("delete", 0) if result else 0,
                "changed_by_person": {"moved_or_edited": len(survey.changed) - done, "marked_done": done,
                                      "removed": include_changed and result is not None},
                "failures": result.failures if result else survey.failures})
        outcome = "removed" if results is not None else ("declined" if nothing == "nothing removed" else nothing)
        click.echo(json.dumps({"outcome": outcome, "calendars": calendars,
                               "removed": sum(c["removed"] for c in calendars)}, indent=2, ensure_ascii=False))
        return
    if results is None:
        click.echo(nothing)
        return
    for survey, result in zip(surveys, results):
        head = f"{result.person} → {result.target}: "
        if not result.listed:
            click.echo(head + "could not be read")
        else:
            removed = result.done.get("delete", 0)
            line = head + f"{removed} removed"
            kept = result.done.get("conflict", 0)
            if kept:
                line += f"; {kept} changed by their person kept ({_changed_text(survey)})"
            click.echo(line)
        for failure in result.failures:
            click.echo(f"  FAILED: {failure}")
