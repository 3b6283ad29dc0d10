"""The report command: per person and team, input against the yearly target.

    kalender-sync report [--from DATE] [--to DATE] [--format table|csv|json|html] [--out FILE] [--target N]
                         [--language nl|en] [--csv-dialect excel-nl|comma]
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ..core.errors import UsageError
from ..core.schema import LANGUAGES
from ..features.report import CSV_DIALECTS, FORMATS, build_report, render
from ..storage.atomic import write_atomically
from .options import common, load_team, parse_date

@click.command("report")
@common
@click.option("--from", "start", callback=parse_date, metavar="YYYY-MM-DD",
              help="First day of the period (default: 1 January of --today's year).")
@click.option("--to", "end", callback=parse_date, metavar="YYYY-MM-DD",
              help="Last day of the period, inclusive (default: 31 December of --today's year).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
              show_default=True, help="html is one standalone page with a chart.")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Write to this file (atomically) instead of standard output.")
@click.option("--target", type=click.IntRange(min=1), metavar="N",
              help="The team's yearly target of contacts (default: the number of agreements), "
                   "scaled to the period.")
@click.option("--language", type=click.Choice(LANGUAGES), help="The report's language (default: the team's).")
@click.option("--csv-dialect", type=click.Choice(CSV_DIALECTS),
              help="excel-nl: ';', decimal comma and a UTF-8 BOM, as Excel with Dutch settings opens it; "
                   "comma: ',' and decimal point (RFC 4180). Default: excel-nl for a Dutch report, else comma.")
def report_command(config_path: Path, today: date | None, start: date | None, end: date | None, fmt: str,
                   out_path: Path | None, target: int | None, language: str | None, csv_dialect: str | None):
    """Per person and team: agreements, contacts done and contacted, overdue, reminders, hours, target.

    With only --from, the period is one year from it; with only --to, one year up to it.
    Reminders and hours count what is planned in the period (from today to the horizon).
    """
    if csv_dialect is not None and fmt != "csv":
        raise UsageError(f"--csv-dialect is for --format csv (got --format {fmt})")
    team, today = load_team(config_path, today)
    report = build_report(team, today, start, end, target, language)
    text = render(report, fmt, csv_dialect)
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
