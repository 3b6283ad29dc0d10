"""Options and steps every command shares. Imports no command module (see cli/__init__.py)."""
from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from datetime import date, datetime
from functools import wraps
from pathlib import Path

import click

from ..core.errors import UsageError
from ..core.publicholidays import HolidayFacts

DEFAULT_CONFIG = "kalender-sync.yaml"


def parse_date(ctx, param, value):
    """A date option (--today, --on, --next, --from, --to): a real date inside the supported range,
    so that no date the planner derives from it can overflow."""
    from ..core.durations import check_supported
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise click.BadParameter(f"expected a date as YYYY-MM-DD (got: {value})")
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not a real date: {exc} (got: {value})") from None
    try:
        return check_supported(day)
    except ValueError as exc:
        raise click.BadParameter(f"{exc} (got: {value})") from None


def common(func):
    """--config and --today, on every command."""
    @click.option("--config", "-c", "config_path", type=click.Path(path_type=Path, dir_okay=False),
                  default=DEFAULT_CONFIG, envvar="KALENDER_SYNC_CONFIG", show_default=True,
                  help="The team config (YAML).")
    @click.option("--today", callback=parse_date, metavar="YYYY-MM-DD",
                  help="Plan as if today were this date (default: today in the team's time zone).")
    @wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper


def state_option(func):
    return click.option("--state", "state_path", type=click.Path(path_type=Path, dir_okay=False),
                        help="The status database (default: .kalender-sync-state.sqlite next to the config).")(func)


def people_option(func):
    return click.option("--person", "people", multiple=True, help="Only this person (repeatable).")(func)


def parse_shard(ctx, param, value):
    if value is None:
        return None
    try:
        index, total = (int(x) for x in value.split("/"))
    except ValueError:
        raise click.BadParameter(f"expected I/N, e.g. 1/4 (got: {value})") from None
    if not 1 <= index <= total:
        raise click.BadParameter(f"I must be between 1 and N (got: {value})")
    return index, total


@contextmanager
def _paused_gc():
    """Building a large team's model allocates about a million small objects that all live on;
    CPython's cyclic GC would rescan the growing heap again and again. None of them form
    cycles that need collecting. Only for one-shot commands: the feed server reloads configs
    and must collect the old ones, so this lives at the CLI edge, not in the core."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _settle() -> None:
    """For one-shot commands: everything allocated so far lives until the process ends, so
    gc.freeze() keeps later collections from walking it again."""
    gc.freeze()


def load_team(config_path: Path, today: date | None, holidays: HolidayFacts | None = None):
    """The team with its contact log, and the day to plan for (default: today in its zone)."""
    from ..storage.teamfiles import load
    with _paused_gc():
        team = load(config_path, holidays=holidays, today=today or _today_in)
    _settle()
    return team, today or _today_in(team.timezone)


def _today_in(zone) -> date:
    return datetime.now(zone).date()


def calendar_plan(team, today: date):
    """The plan for calendars: without the group events people get as e-mail invitations,
    with the past stretch that files keep (core.history)."""
    from ..core.history import calendar_plan as plan_for_calendars
    with _paused_gc():
        result = plan_for_calendars(team, today)
    _settle()
    return result


def group_plan(team, today: date):
    """The whole plan, invitations included (for `invite`)."""
    from ..core.planning import plan
    with _paused_gc():
        result = plan(team, today)
    _settle()
    return result


def check_people(team, people) -> None:
    unknown = [p for p in people if p not in team.people]
    if unknown:
        raise UsageError(f"unknown person: {', '.join(unknown)} (known: {', '.join(team.people)})")
