"""The command line: thin. Library errors become messages and exit codes here, once."""
from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime
from functools import wraps
from pathlib import Path

import click

from . import __version__
from .core.gcpause import settle
from .apply import ics_targets, prepare_files, write_files
from .core.diff import ACTIONS, summarize
from .core.model import WEEKDAYS
from .core.planning import PlannedEvent, plan as make_plan
from .errors import EXIT_FAILURE, EXIT_PARTIAL, KalenderSyncError, PartialFailure, UsageError
from .loading import load
from .state import read_meta
from .apply import stamp_for

STATE_NAME = ".kalender-sync-state.sqlite"

DEFAULT_CONFIG = "kalender-sync.yaml"


def _parse_today(ctx, param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date as YYYY-MM-DD (got: {value})") from None


def common(func):
    """--config and --today, on every command."""
    @click.option("--config", "-c", "config_path", type=click.Path(path_type=Path, dir_okay=False),
                  default=DEFAULT_CONFIG, envvar="KALENDER_SYNC_CONFIG", show_default=True,
                  help="The team config (YAML).")
    @click.option("--today", callback=_parse_today, metavar="YYYY-MM-DD",
                  help="Plan as if today were this date (default: today in the team's time zone).")
    @wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper


def calendar_plan(team, today: date):
    """The plan for calendars: without the group events people get as e-mail invitations."""
    from .invitations import for_calendars
    result = for_calendars(make_plan(team, today), team)
    settle()
    return result


def _load(config_path: Path, today: date | None):
    team = load(config_path)
    settle()
    return team, today or datetime.now(team.timezone).date()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kalender-sync")
def cli():
    """Turn a team's networking agreements into events in everyone's own calendar."""


@cli.command()
@common
def check(config_path: Path, today: date | None):
    """Validate the config and contact log; write nothing."""
    team, today = _load(config_path, today)
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
    # isoformat slices instead of strftime: this runs for every one of 120,000 events.
    return (f"{start.date().isoformat()} {WEEKDAYS[start.weekday()]} "
            f"{start.time().isoformat()[:5]}–{event.end.time().isoformat()[:5]}")


def _event_json(event: PlannedEvent) -> dict:
    return {"uid": event.uid, "key": event.key, "kind": event.kind, "title": event.title,
            "start": event.start.isoformat(), "end": event.end.isoformat(), "all_day": event.all_day,
            "location": event.location, "attendees": list(event.attendees)}


def _state_option(func):
    return click.option("--state", "state_path", type=click.Path(path_type=Path, dir_okay=False),
                        help="The status database (default: .kalender-sync-state.sqlite next to the config).")(func)


def _state_path(config_path: Path, state_path: Path | None) -> Path:
    return state_path or config_path.parent / STATE_NAME


def _parse_shard(ctx, param, value):
    if value is None:
        return None
    try:
        index, total = (int(x) for x in value.split("/"))
    except ValueError:
        raise click.BadParameter(f"expected I/N, e.g. 1/4 (got: {value})") from None
    if not 1 <= index <= total:
        raise click.BadParameter(f"I must be between 1 and N (got: {value})")
    return index, total


@cli.command("plan")
@common
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--person", "people", multiple=True, help="Only this person (repeatable).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Compare with .ics files in this folder instead of each person's calendar.")
@_state_option
def plan_command(config_path: Path, today: date | None, fmt: str, people: tuple[str, ...], out_dir: Path | None,
                 state_path: Path | None):
    """Show what each person gets and what export/sync would change. Writes nothing."""
    team, today = _load(config_path, today)
    _check_people(team, people)
    plan = calendar_plan(team, today)
    targets = ics_targets(team, config_path.parent, out_dir, list(people))
    results = {f.person: (f.target.describe(), f.changes, [], None)
               for f in prepare_files(team, plan, targets, render=False)}
    if out_dir is None and any(team.calendars[p.calendar].kind == "caldav" for p in team.people.values()):
        # Imported here: the CalDAV stack (caldav, niquests) is a third of start-up time.
        from .state import State
        from .sync import caldav_jobs, sync_team
        jobs = caldav_jobs(team, list(people))
        if jobs:
            path = _state_path(config_path, state_path)
            state = State(path) if path.exists() else None
            for r in sync_team(team, plan, jobs, state, stamp_for(today), dry_run=True):
                results[r.person] = (r.target, r.changes, r.failures, r.refused)
    _show_plan(team, plan, results, people, fmt)
    if any(failures for _, _, failures, _ in results.values()):
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
    # One write per person instead of one click.echo per line: 130,000 lines for 10,000 people.
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


def _check_people(team, people) -> None:
    unknown = [p for p in people if p not in team.people]
    if unknown:
        raise UsageError(f"unknown person: {', '.join(unknown)} (known: {', '.join(team.people)})")


@cli.command()
@common
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Write every person's file into this folder (default: each person's ics calendar).")
@click.option("--person", "people", multiple=True, help="Only this person (repeatable).")
def export(config_path: Path, today: date | None, out_dir: Path | None, people: tuple[str, ...]):
    """Write one .ics file per person (atomically); unchanged files are not touched."""
    team, today = _load(config_path, today)
    _check_people(team, people)
    plan = calendar_plan(team, today)
    files = prepare_files(team, plan, ics_targets(team, config_path.parent, out_dir, list(people)))
    if not files:
        raise UsageError("nobody has an ics calendar; use --out DIR to write files for everyone")
    write_files(files)
    total = dict.fromkeys(ACTIONS, 0)
    for item in files:
        counts = summarize(item.changes)
        for action, count in counts.items():
            total[action] += count
        state = "written" if item.written else "unchanged"
        click.echo(f"{item.target.describe()}: {sum(counts[a] for a in ('create', 'update', 'keep'))} events "
                   f"({counts['create']} new, {counts['update']} changed, {counts['delete']} removed) — {state}")
    click.echo(f"{len(files)} files, {sum(1 for f in files if f.written)} written; "
               f"{total['create']} new, {total['update']} changed, {total['delete']} removed, "
               f"{total['keep']} kept; planned {today} – {plan.until}")
    for skipped in plan.skipped:
        click.echo(f"warning: {skipped.what}: {skipped.reason}", err=True)


@cli.command()
@common
@click.option("--dry-run", is_flag=True, help="Show what would change (the same as `plan`); write nothing.")
@click.option("--force-delete", is_flag=True, help="Allow a sync that removes every kalender-sync event of a calendar.")
@click.option("--person", "people", multiple=True, help="Only this person (repeatable).")
@click.option("--shard", callback=_parse_shard, metavar="I/N",
              help="Only the people whose id hashes to shard I of N (1-based), for parallel jobs.")
@click.option("--format", "fmt", type=click.Choice(["auto", "table", "json"]), default="auto", show_default=True,
              help="auto: a table on a terminal, a JSON summary otherwise.")
@_state_option
def sync(config_path: Path, today: date | None, dry_run: bool, force_delete: bool, people: tuple[str, ...],
         shard, fmt: str, state_path: Path | None):
    """Push the plan into each person's CalDAV calendar (owned events only, edits kept)."""
    from .state import State
    from .sync import caldav_jobs, sync_team
    path = _state_path(config_path, state_path)
    holidays_seen = _recall_holidays(path)
    team, today = _load(config_path, today)
    _check_people(team, people)
    plan = calendar_plan(team, today)
    jobs = caldav_jobs(team, list(people), shard)
    if not jobs:
        raise UsageError("nobody in this selection has a caldav calendar")
    state = None if dry_run and not path.exists() else State(path)
    if state is not None and not dry_run:
        _remember_holidays(state, holidays_seen)
    if fmt == "auto":
        fmt = "table" if sys.stdout.isatty() else "json"
    replan = lambda changed: calendar_plan(changed, today)  # noqa: E731 - contacts marked done move reminders
    if dry_run:
        results = sync_team(team, plan, jobs, state, stamp_for(today), dry_run=True, replan=replan)
        _show_plan(team, plan, {r.person: (r.target, r.changes, r.failures, r.refused) for r in results},
                   [j.person.id for j in jobs], "json" if fmt == "json" else "table")
    else:
        total = len(plan.events)
        show_bar = sys.stderr.isatty() and total > 50
        with click.progressbar(length=total, label="syncing", file=sys.stderr) if show_bar else _nullbar() as bar:
            results = sync_team(team, plan, jobs, state, stamp_for(today), dry_run=False,
                                force_delete=force_delete, progress=bar.update, replan=replan,
                                record_contacts=lambda entries: _record_contacts(config_path, team, entries, today))
        _show_results(results, fmt)
    if any(r.failures or r.refused for r in results):
        failed = [r.person for r in results if r.failures or r.refused]
        raise PartialFailure(f"not finished for: {', '.join(failed)}; run sync again to continue")


_HOLIDAYS_META = "holidays"


def _recall_holidays(state_path: Path) -> str | None:
    """Seed the public-holiday answers the status DB kept from an earlier sync, if they came
    from the installed `holidays` version: a no-op sync then never imports that library
    (115 ms of its start-up). Returns what was stored, to see later whether it grew."""
    from .core import holidayfacts
    stored = read_meta(state_path, _HOLIDAYS_META)
    if stored is None:
        return None
    try:
        memo = json.loads(stored)
        if memo.get("version") == holidayfacts.library_version():
            holidayfacts.seed(memo)
    except (ValueError, TypeError, AttributeError):
        return None     # unreadable: asked again, and stored anew
    return stored


def _remember_holidays(state, stored: str | None) -> None:
    from .core import holidayfacts
    memo = json.dumps({"version": holidayfacts.library_version(), **holidayfacts.known()}, sort_keys=True)
    if memo != stored:
        state.set_meta(_HOLIDAYS_META, memo)


def _record_contacts(config_path: Path, team, entries, today: date) -> None:
    from .logbook import append_contact
    for entry in entries:
        append_contact(config_path, team, entry.owner, entry.agreement, entry.on, note=entry.note, today=today)


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


@cli.command()
@common
@click.option("--person", "people", multiple=True, help="Only this person (repeatable).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_state_option
def purge(config_path: Path, today: date | None, people: tuple[str, ...], yes: bool, state_path: Path | None):
    """Remove every event kalender-sync created from the CalDAV calendars, and nothing else."""
    from .state import State
    from .sync import caldav_jobs, purge_calendar
    team, today = _load(config_path, today)
    _check_people(team, people)
    jobs = caldav_jobs(team, list(people))
    if not jobs:
        raise UsageError("nobody in this selection has a caldav calendar")
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("purge deletes events; pass --yes to confirm when not on a terminal")
        click.confirm(f"Remove all kalender-sync events from {len(jobs)} calendars?", abort=True)
    state = State(_state_path(config_path, state_path))
    results = []
    for job in jobs:
        try:
            results.append(purge_calendar(team, job, state))
        except KalenderSyncError as exc:
            from .sync import CalendarResult
            results.append(CalendarResult(job.person.id, job.url, failures=[str(exc)]))
    _show_results(results, "table")
    if any(r.failures for r in results):
        raise PartialFailure("purge did not finish; run it again")


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="kalender-sync", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_FAILURE
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KalenderSyncError as exc:
        click.echo(f"error: {exc}" if "\n" not in str(exc) else f"error: {exc.args[0]}:\n{exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted; run the same command again to continue", err=True)
        return EXIT_PARTIAL
    except Exception as exc:  # a bug: say so plainly; the traceback only on request
        if os.environ.get("KALENDER_SYNC_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (set KALENDER_SYNC_DEBUG=1 for a traceback)",
                   err=True)
        return EXIT_FAILURE
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


# Commands of the other features live in their own modules and attach to `cli` on import.
from . import cli_feed, cli_mail, cli_report  # noqa: E402,F401
