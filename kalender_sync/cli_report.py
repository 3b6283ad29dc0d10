"""CLI commands for the report features; they register themselves on the main click group.

    kalender-sync log PERSON CONTACT [--on DATE] [--next DATE] [--note TEXT]
    kalender-sync import FILE --person PERSON [--every INTERVAL] [--dry-run]
    kalender-sync report [--from DATE] [--to DATE] [--format table|csv|json|html] [--out FILE] [--target N]
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import click

from .atomic import write_atomically
from .cli import cli, common, _load, _parse_today  # noqa: F401
from .core.durations import Interval, add_months, parse_interval
from .core.planning import contact_status, plan as make_plan
from .errors import KalenderSyncError, UsageError
from .loading import load

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _when(moment) -> str:
    return f"{_DAY_NAMES[moment.weekday()]} {moment:%Y-%m-%d %H:%M}"


# -- log -------------------------------------------------------------------------------------

@cli.command("log")
@common
@click.argument("person")
@click.argument("contact")
@click.option("--on", "on", callback=_parse_today, metavar="YYYY-MM-DD",
              help="The day of the contact (default: --today, or today).")
@click.option("--next", "next_date", callback=_parse_today, metavar="YYYY-MM-DD",
              help="The date agreed for the next contact; it wins over the interval.")
@click.option("--note", metavar="TEXT", help="A short note (any text; it is quoted for you).")
def log_command(config_path: Path, today: date | None, person: str, contact: str, on: date | None,
                next_date: date | None, note: str | None):
    """Log a contact: append one line to the contact log next to the config.

    CONTACT is the agreement id or the contact's name; case and accents are ignored and a
    unique prefix works ("piet" for Piet de Vries). The log is only ever appended to; a log
    with a mistake in it is reported and nothing is added. Prints the next reminder.
    """
    from .logbook import append_contact
    team, today = _load(config_path, today)
    appended = append_contact(config_path, team, person, contact, on or today, next_date, note, today=today)
    entry = appended.entry
    click.echo(f"{appended.path.name}:{appended.line_number}: {appended.line}"
               + ("  (new file)" if appended.created else ""))
    new_team = appended.team
    agreement = next(a for a in new_team.contacts if a.owner == entry.owner and a.id == entry.agreement)
    status = contact_status(new_team, agreement)
    plan = make_plan(new_team, today)
    prefix = f"contact/{entry.owner}/{entry.agreement}/"
    reminders = [e for e in plan.for_person(entry.owner) if e.kind == "contact" and e.key.startswith(prefix)]
    why = "agreed" if status.explicit else f"last contact {status.last} + {agreement.every}"
    if reminders:
        click.echo(f"next reminder for {agreement.contact}: {_when(reminders[0].start)} "
                   f"(due {status.due}: {why})")
    else:
        click.echo(f"next contact with {agreement.contact} is due {status.due} ({why}); that is after the "
                   f"planning horizon ({plan.until}), so no reminder is in the calendar yet")


# -- import ----------------------------------------------------------------------------------

@cli.command("import")
@common
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--person", required=True, metavar="ID", help="Whose contacts these are (a person id from the config).")
@click.option("--every", metavar="INTERVAL",
              help="Interval for rows without one in the file, e.g. '4 months' or '6 weken'.")
@click.option("--dry-run", is_flag=True, help="Print the lines that would be added; write nothing.")
def import_command(config_path: Path, today: date | None, file: Path, person: str, every: str | None,
                   dry_run: bool):
    """Import a contact list (.csv or .xlsx) as contact agreements of PERSON.

    Columns are found by their header, Dutch or English: naam/name, rol/role,
    organisatie/organisation/company, laatste contact/last, interval/every, medium,
    vraag/question. CSV may use ',' or ';'. Dates: 2026-07-01 or 1-7-2026 (day first).

    The new agreements are inserted as one line each after the last item of the
    `contacts:` list; nothing else in the config changes, and the result is validated
    before the file is replaced. Duplicates (already an agreement of PERSON, or twice in
    the file) and bad rows are reported with their row number and skipped; the exit code
    is still 0 when the rest was imported.
    """
    from .importer import NotSafe, agreement_line, parse_rows, read_table, restore, write_agreements
    team, today = _load(config_path, today)
    interval: Interval | None = None
    if every is not None:
        try:
            interval = parse_interval(every)
        except ValueError as exc:
            raise UsageError(f"--every: {exc} (got: {every})") from None
    result = parse_rows(team, person, read_table(file), interval, today)
    for column in result.ignored_columns:
        click.echo(f"warning: column {column!r} is not used", err=True)
    for problem in result.problems:
        click.echo(f"warning: {file.name}: {problem}", err=True)
    skipped = (f"; skipped {len(result.problems)} row{'s' if len(result.problems) != 1 else ''} "
               f"({len(result.duplicates)} duplicate, {len(result.bad)} bad)") if result.problems else ""
    lines = [agreement_line(person, a) for a in result.new]
    if not lines:
        click.echo(f"nothing to add for {person} from {file.name} ({result.rows} rows){skipped}")
        return
    if dry_run:
        for line in lines:
            click.echo(line)
        click.echo(f"would add {len(lines)} agreement{'s' if len(lines) != 1 else ''} for {person} to "
                   f"{config_path.name}{skipped}; nothing written (--dry-run)", err=True)
        return
    original = config_path.read_bytes()
    try:
        inserted = write_agreements(config_path, team, person, result.new)
    except NotSafe as exc:
        click.echo(f"# add these lines at the end of the contacts: list in {config_path.name}")
        for line in lines:
            click.echo("  " + line)
        raise KalenderSyncError(f"could not add the agreements to {config_path} safely: {exc}; nothing was "
                                "written; paste the lines above by hand") from None
    try:
        load(config_path)     # the whole config and the contact log, as every command reads them
    except KalenderSyncError:
        restore(config_path, original)
        raise
    last = inserted.first_line + inserted.count - 1
    click.echo(f"added {inserted.count} agreement{'s' if inserted.count != 1 else ''} for {person} to "
               f"{config_path.name} (line{'s' if inserted.count != 1 else ''} {inserted.first_line}"
               f"{'' if inserted.count == 1 else f'–{last}'}){skipped}")


# -- report ----------------------------------------------------------------------------------

@cli.command("report")
@common
@click.option("--from", "start", callback=_parse_today, metavar="YYYY-MM-DD",
              help="First day of the period (default: 1 January of --today's year).")
@click.option("--to", "end", callback=_parse_today, metavar="YYYY-MM-DD",
              help="Last day of the period, inclusive (default: 31 December of --today's year).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "html"]), default="table",
              show_default=True, help="html is one standalone page with a chart.")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Write to this file (atomically) instead of standard output.")
@click.option("--target", type=click.IntRange(min=1), metavar="N",
              help="The team's yearly target of contacts (default: the number of agreements), "
                   "scaled to the period.")
def report_command(config_path: Path, today: date | None, start: date | None, end: date | None, fmt: str,
                   out_path: Path | None, target: int | None):
    """Per person and team: agreements, contacts done, overdue, reminders, hours, target.

    With only --from, the period is one year from it; with only --to, one year up to it.
    """
    from .report import build_report, render
    team, today = _load(config_path, today)
    if start is not None and end is None:
        end = add_months(start, 12) - timedelta(days=1)
    elif end is not None and start is None:
        start = add_months(end, -12) + timedelta(days=1)
    report = build_report(team, today, start, end, target)
    text = render(report, fmt)
    if out_path is None:
        click.echo(text, nl=False)
        return
    _write_atomic(out_path, text)
    click.echo(f"wrote {out_path} ({fmt}, {report.start} – {report.end})", err=True)


def _write_atomic(path: Path, text: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"--out: the folder {folder} does not exist")
    write_atomically(path, text.encode("utf-8"))
