"""Commands for people's calendars: check, plan, export, sync, purge."""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from ..core.diff import ACTIONS, summarize
from ..core.errors import KalenderSyncError, PartialFailure, TargetError, UsageError
from ..core.model import WEEKDAYS
from ..core.planning import PlannedEvent
from .options import (calendar_plan, check_people, common, load_team, parse_shard, people_option,
                      state_option)

STATE_NAME = ".kalender-sync-state.sqlite"

@click.command()
@common
def check(config_path: Path, today: date | None):
    """Validate the config and contact log; write nothing."""
    team, today = load_team(config_path, today)
    plan = calendar_plan(team, today)
    click.echo(f"{config_path}: OK — {len(team.people)} people, {len(team.contacts)} contact agreements, "
               f"{len(team.projects)} projects, {len(team.sessions)} session series, "
               f"{len(team.meetings)} meetings, {len(team.log)} logged contacts; "
               f"{len(plan.events)} events planned {today} – {plan.until}")
    for skipped in plan.skipped:
        click.echo(f"warning: {skipped.what}: {skipped.reason}", err=True)


def _when(event: PlannedEvent, lang: str = "en") -> str:
    start = event.start
    if event.all_day:
        return f"{start.isoformat()} {WEEKDAYS[start.weekday()]} all day    "
    # isoformat slices instead of strftime: this runs for every event of the whole team.
    return (f"{start.date().isoformat()} {WEEKDAYS[start.weekday()]} "
            f"{start.time().isoformat()[:5]}–{event.end.time().isoformat()[:5]}")


def _event_json(event: PlannedEvent) -> dict:
    return {"uid": event.uid, "key": event.key, "kind": event.kind, "title": event.title,
            "start": event.start.isoformat(), "end": event.end.isoformat(), "all_day": event.all_day,
            "location": event.location, "attendees": list(event.attendees)}


def _state_path(config_path: Path, state_path: Path | None) -> Path:
    return state_path or config_path.parent / STATE_NAME


@click.command("plan")
@common
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@people_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Compare with .ics files in this folder instead of each person's calendar.")
@state_option
def plan_command(config_path: Path, today: date | None, fmt: str, people: tuple[str, ...], out_dir: Path | None,
                 state_path: Path | None):
    """Show what each person gets and what export/sync would change. Writes nothing."""
    from ..engine.runs import context_for, stamp_for
    from ..engine.sync import calendar_jobs, sync_team
    team, today = load_team(config_path, today)
    check_people(team, people)
    plan = calendar_plan(team, today)
    jobs = calendar_jobs(team, list(people), out_dir=out_dir)
    results = sync_team(team, plan, jobs, _status(config_path, state_path, dry_run=True, files_only=out_dir is not None),
                        stamp_for(today), context_for(team, config_path), dry_run=True)
    _show_plan(team, plan, {r.person: (r.target, r.changes, r.failures, r.refused) for r in results}, people, fmt)
    if any(r.failures for r in results):
        raise PartialFailure("some calendars could not be read; see above")


def _show_plan(team, plan, results, people, fmt: str) -> None:
    chosen = [p for p in team.people.values() if not people or p.id in people]
    if fmt == "json":
        doc = {"today": plan.today.isoformat(), "until": plan.until.isoformat(), "people": [],
               "skipped": [{"what": s.what, "reason": s.reason} for s in plan.skipped]}
        for person in chosen:
            target, changes, failures, refused = results.get(person.id, (None, [], [], None))
            actions = {c.uid: c.action for c in changes}
            doc["people"].append({
                "id": person.id, "name": person.name, "calendar": person.calendar, "target": target,
                "changes": summarize(changes), "failures": failures, "refused": refused,
                "events": [_event_json(e) | {"action": actions.get(e.uid, "planned")}
                           for e in plan.for_person(person.id)],
                "deletes": [c.uid for c in changes if c.event is None and c.action == "delete"],
            })
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    # One write per person instead of one click.echo per line: a large team has a line per event.
    click.echo(f"Plan for {team.name}, {plan.today} – {plan.until}")
    for person in chosen:
        target, changes, failures, refused = results.get(person.id, (None, [], [], None))
        actions = {c.uid: c.action for c in changes}
        counts = summarize(changes)
        summary = ", ".join(f"{n} {a}" for a, n in counts.items() if n or a in ("create", "update", "delete", "keep"))
        lines = [f"\n{person.name} ({person.id}) → {target or person.calendar}: {summary}"]
        for event in plan.for_person(person.id):
            lines.append(f"  {actions.get(event.uid, 'planned'):<8} {_when(event)}  {event.kind:<11} {event.title}")
        for change in changes:
            if change.event is None:
                lines.append(f"  {change.action:<8} {change.existing.key or change.uid}")
        for failure in failures:
            lines.append(f"  FAILED   {failure}")
        if refused:
            lines.append(f"  REFUSED  {refused}")
        click.echo("\n".join(lines))
    for skipped in plan.skipped:
        click.echo(f"\nwarning: {skipped.what}: {skipped.reason}")


@click.command()
@common
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Write every person's file into this folder (default: each person's ics calendar).")
@people_option
def export(config_path: Path, today: date | None, out_dir: Path | None, people: tuple[str, ...]):
    """Write one .ics file per person (atomically); unchanged files are not touched."""
    from ..engine.runs import context_for, stamp_for
    from ..engine.sync import calendar_jobs, sync_team
    from ..storage.status import MemoryStatus
    team, today = load_team(config_path, today)
    check_people(team, people)
    plan = calendar_plan(team, today)
    jobs = calendar_jobs(team, list(people), kinds=("ics",), out_dir=out_dir)
    if not jobs:
        raise UsageError("nobody has an ics calendar; use --out DIR to write files for everyone")
    # A file is generated output: it holds the plan, whatever was in it (no mass-delete guard).
    files = sync_team(team, plan, jobs, MemoryStatus(), stamp_for(today), context_for(team, config_path),
                      dry_run=False, force_delete=True)
    _raise_if_failed(files)
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
               f"{total['keep']} kept; planned {today} – {plan.until}")
    for skipped in plan.skipped:
        click.echo(f"warning: {skipped.what}: {skipped.reason}", err=True)


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
def sync(config_path: Path, today: date | None, dry_run: bool, force_delete: bool, people: tuple[str, ...],
         shard, fmt: str, state_path: Path | None):
    """Carry the plan into every person's calendar, whatever its kind (owned events only, edits kept)."""
    from ..engine.done import log_completed
    from ..engine.runs import context_for, stamp_for
    from ..engine.sync import calendar_jobs, sync_team
    from ..storage.status import recall_holidays
    path = _state_path(config_path, state_path)
    holidays, holidays_seen = recall_holidays(path)
    team, today = load_team(config_path, today, holidays)
    check_people(team, people)
    plan = calendar_plan(team, today)
    jobs = calendar_jobs(team, list(people), shard)
    if not jobs:
        raise UsageError("nobody is in this selection")
    status = _status(config_path, state_path, dry_run=dry_run)
    if not dry_run:
        status.remember_holidays(team.public_holidays, holidays_seen)
    if fmt == "auto":
        fmt = "table" if sys.stdout.isatty() else "json"
    replan = lambda changed: calendar_plan(changed, today)  # noqa: E731 - contacts marked done move reminders
    context = context_for(team, config_path)
    if dry_run:
        results = sync_team(team, plan, jobs, status, stamp_for(today), context, dry_run=True, replan=replan)
        _show_plan(team, plan, {r.person: (r.target, r.changes, r.failures, r.refused) for r in results},
                   [j.person.id for j in jobs], "json" if fmt == "json" else "table")
    else:
        total = len(plan.events)
        show_bar = sys.stderr.isatty() and total > 50
        with click.progressbar(length=total, label="syncing", file=sys.stderr) if show_bar else _nullbar() as bar:
            results = sync_team(team, plan, jobs, status, stamp_for(today), context, dry_run=False,
                                force_delete=force_delete, progress=bar.update, replan=replan,
                                record_contacts=lambda entries: log_completed(config_path, team, entries, today))
        _show_results(results, fmt)
    if any(r.failures or r.refused for r in results):
        failed = [r.person for r in results if r.failures or r.refused]
        raise PartialFailure(f"not finished for: {', '.join(failed)}; run sync again to continue")


def _status(config_path: Path, state_path: Path | None, *, dry_run: bool, files_only: bool = False):
    """The status database; a dry run without one (or over --out files) reads into memory."""
    from ..storage.status import MemoryStatus, State
    path = _state_path(config_path, state_path)
    if files_only or dry_run and not path.exists():
        return MemoryStatus()
    return State(path)


def _raise_if_failed(results) -> None:
    """Nothing written: the first failure is the error (exit 1); some written: partly (exit 3)."""
    failed = [r for r in results if r.failures]
    if not failed:
        return
    if len(failed) == len(results):
        raise TargetError(failed[0].failures[0])
    raise PartialFailure("not finished for: " + ", ".join(
        f"{r.person} ({r.failures[0]})" for r in failed))


class _nullbar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


def _show_results(results, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps({"calendars": [
            {"person": r.person, "target": r.target, "planned": r.planned, "done": r.done,
             "failures": r.failures, "refused": r.refused, "notes": r.notes} for r in results]},
            indent=2, ensure_ascii=False))
        return
    for r in results:
        done = ", ".join(f"{n} {a}" for a, n in sorted(r.done.items())) or "nothing to do"
        click.echo(f"{r.person} → {r.target}: {done}")
        for note in r.notes:
            click.echo(f"  note: {note}")
        for failure in r.failures:
            click.echo(f"  FAILED: {failure}")
        if r.refused:
            click.echo(f"  REFUSED: {r.refused}")


@click.command()
@common
@people_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@state_option
def purge(config_path: Path, today: date | None, people: tuple[str, ...], yes: bool, state_path: Path | None):
    """Remove every event kalender-sync created from people's calendars, and nothing else."""
    from ..engine.runs import context_for
    from ..engine.sync import CalendarResult, calendar_jobs, purge_calendar
    team, today = load_team(config_path, today)
    check_people(team, people)
    jobs = calendar_jobs(team, list(people))
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("purge deletes events; pass --yes to confirm when not on a terminal")
        click.confirm(f"Remove all kalender-sync events from {len(jobs)} calendars?", abort=True)
    status = _status(config_path, state_path, dry_run=False)
    context = context_for(team, config_path)
    results = []
    try:
        for job in jobs:
            try:
                results.append(purge_calendar(job, status, context))
            except KalenderSyncError as exc:
                results.append(CalendarResult(job.person.id, job.calendar.location.replace("{person}", job.person.id),
                                              failures=[str(exc)]))
    finally:
        context.finish(wrote=True)
    _show_results(results, "table")
    if any(r.failures for r in results):
        raise PartialFailure("purge did not finish; run it again")
