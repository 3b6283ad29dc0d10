"""The command line: thin. Library errors become messages and exit codes here, once."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime
from functools import wraps
from pathlib import Path

import click

from . import __version__
from .apply import ics_targets, prepare_files, write_files
from .core.diff import ACTIONS, summarize
from .core.model import WEEKDAYS
from .core.planning import PlannedEvent, plan as make_plan
from .errors import EXIT_FAILURE, KalenderSyncError, UsageError
from .loading import load

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


def _load(config_path: Path, today: date | None):
    team = load(config_path)
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
    plan = make_plan(team, today)
    click.echo(f"{config_path}: OK — {len(team.people)} people, {len(team.contacts)} contact agreements, "
               f"{len(team.projects)} projects, {len(team.sessions)} session series, "
               f"{len(team.meetings)} meetings, {len(team.log)} logged contacts; "
               f"{len(plan.events)} events planned {today} – {plan.until}")
    for skipped in plan.skipped:
        click.echo(f"warning: {skipped.what}: {skipped.reason}", err=True)


def _when(event: PlannedEvent, lang: str = "en") -> str:
    if event.all_day:
        return f"{event.start.isoformat()} {WEEKDAYS[event.start.weekday()]} all day    "
    return (f"{event.start:%Y-%m-%d} {WEEKDAYS[event.start.weekday()]} "
            f"{event.start:%H:%M}–{event.end:%H:%M}")


def _event_json(event: PlannedEvent) -> dict:
    return {"uid": event.uid, "key": event.key, "kind": event.kind, "title": event.title,
            "start": event.start.isoformat(), "end": event.end.isoformat(), "all_day": event.all_day,
            "location": event.location, "attendees": list(event.attendees)}


@cli.command("plan")
@common
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--person", "people", multiple=True, help="Only this person (repeatable).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Compare with .ics files in this folder instead of each person's calendar.")
def plan_command(config_path: Path, today: date | None, fmt: str, people: tuple[str, ...], out_dir: Path | None):
    """Show what each person gets, and what `export` would change. Writes nothing."""
    team, today = _load(config_path, today)
    _check_people(team, people)
    plan = make_plan(team, today)
    targets = ics_targets(team, config_path.parent, out_dir, list(people))
    files = {f.person: f for f in prepare_files(team, plan, targets)}
    chosen = [p for p in team.people.values() if not people or p.id in people]
    if fmt == "json":
        doc = {"today": today.isoformat(), "until": plan.until.isoformat(), "people": [],
               "skipped": [{"what": s.what, "reason": s.reason} for s in plan.skipped]}
        for person in chosen:
            item = files.get(person.id)
            doc["people"].append({
                "id": person.id, "name": person.name, "calendar": person.calendar,
                "target": item.target.describe() if item else None,
                "changes": summarize(item.changes) if item else None,
                "events": [_event_json(e) | {"action": _action(item, e)} for e in plan.for_person(person.id)],
                "deletes": [c.uid for c in item.changes if c.action == "delete"] if item else [],
            })
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    click.echo(f"Plan for {team.name}, {today} – {plan.until}")
    for person in chosen:
        item = files.get(person.id)
        events = plan.for_person(person.id)
        where = item.target.describe() if item else f"calendar '{person.calendar}' (use `sync`)"
        counts = summarize(item.changes) if item else None
        summary = ", ".join(f"{n} {a}" for a, n in counts.items()) if counts else f"{len(events)} events"
        click.echo(f"\n{person.name} ({person.id}) → {where}: {summary}")
        for event in events:
            click.echo(f"  {_action(item, event):<7} {_when(event)}  {event.kind:<11} {event.title}")
        for change in item.changes if item else ():
            if change.action == "delete":
                click.echo(f"  delete  {change.uid}")
    for skipped in plan.skipped:
        click.echo(f"\nwarning: {skipped.what}: {skipped.reason}")


def _action(item, event: PlannedEvent) -> str:
    if item is None:
        return "planned"
    for change in item.changes:
        if change.uid == event.uid:
            return change.action
    return "planned"


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
    plan = make_plan(team, today)
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
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
