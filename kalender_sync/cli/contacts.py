"""Commands for the contact log: log (one contact that happened) and import (a contact list).

    kalender-sync log PERSON CONTACT [--on DATE] [--next DATE] [--note TEXT]
    kalender-sync import FILE --person PERSON [--every INTERVAL] [--dry-run]
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ..core.durations import Interval, parse_interval
from ..core.errors import KalenderSyncError, UsageError
from .options import common, load_team, parse_date

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _when(moment) -> str:
    return f"{_DAY_NAMES[moment.weekday()]} {moment:%Y-%m-%d %H:%M}"


# -- log -------------------------------------------------------------------------------------

@click.command("log")
@common
@click.argument("person")
@click.argument("contact")
@click.option("--on", "on", callback=parse_date, metavar="YYYY-MM-DD",
              help="The day of the contact (default: --today, or today).")
@click.option("--next", "next_date", callback=parse_date, metavar="YYYY-MM-DD",
              help="The date agreed for the next contact; it wins over the interval.")
@click.option("--note", metavar="TEXT", help="A short note (any text; it is quoted for you).")
def log_command(config_path: Path, today: date | None, person: str, contact: str, on: date | None,
                next_date: date | None, note: str | None):
    """Log a contact: append one line to the contact log next to the config.

    CONTACT is the agreement id or the contact's name; case and accents are ignored and a
    unique prefix works ("piet" for Piet de Vries). The log is only ever appended to; a log
    with a mistake in it is reported and nothing is added. Prints the next reminder.
    """
    from ..features.logbook import append_contact, next_reminder
    team, today = load_team(config_path, today)
    appended = append_contact(config_path, team, person, contact, on or today, next_date, note, today=today)
    click.echo(f"{appended.path.name}:{appended.line_number}: {appended.line}"
               + ("  (new file)" if appended.created else ""))
    upcoming = next_reminder(appended.team, appended.entry, today)
    agreement, status = upcoming.agreement, upcoming.status
    why = "agreed" if status.explicit else f"last contact {status.last} + {agreement.every}"
    if upcoming.start is not None:
        click.echo(f"next reminder for {agreement.contact}: {_when(upcoming.start)} "
                   f"(due {status.due}: {why})")
    else:
        click.echo(f"next contact with {agreement.contact} is due {status.due} ({why}); that is after the "
                   f"planning horizon ({upcoming.until}), so no reminder is in the calendar yet")


# -- import ----------------------------------------------------------------------------------

@click.command("import")
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
    from ..features.importer import NotSafe, agreement_line, insert_agreements, parse_rows, read_table
    team, today = load_team(config_path, today)
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
    try:
        inserted = insert_agreements(config_path, team, person, result.new)
    except NotSafe as exc:
        click.echo(f"# add these lines at the end of the contacts: list in {config_path.name}")
        for line in lines:
            click.echo("  " + line)
        raise KalenderSyncError(f"could not add the agreements to {config_path} safely: {exc}; nothing was "
                                "written; paste the lines above by hand") from None
    last = inserted.first_line + inserted.count - 1
    click.echo(f"added {inserted.count} agreement{'s' if inserted.count != 1 else ''} for {person} to "
               f"{config_path.name} (line{'s' if inserted.count != 1 else ''} {inserted.first_line}"
               f"{'' if inserted.count == 1 else f'–{last}'}){skipped}")
