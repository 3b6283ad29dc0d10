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


def jobs_option(func):
    from ..engine.runs import DEFAULT_JOBS, MAX_JOBS
    return click.option("--jobs", "-j", type=click.IntRange(1, MAX_JOBS), default=DEFAULT_JOBS, show_default=True,
                        help="How many calendars on a server are synced side by side, busy times read "
                             "likewise (1: one after another).")(func)


def wait_option(func):
    return click.option("--wait", type=click.FloatRange(0, 24 * 3600), default=60.0, show_default=True,
                        metavar="SECONDS",
                        help="How long to wait for another run on the same status database to finish "
                             "before giving up (exit 1).")(func)


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


def load_team(config_path: Path, today: date | None, holidays: HolidayFacts | None = None,
              links: str = "make"):
    """The team with its contact log, and the day to plan for (default: today in its zone).
    `links`: as storage.teamfiles.load takes it."""
    from ..storage import holidaycache
    from ..storage.teamfiles import load
    facts = holidays if holidays is not None else HolidayFacts()
    shared = holidaycache.cache_file()
    seen = holidaycache.recall(facts, shared)
    with _paused_gc():
        team = load(config_path, holidays=facts, today=today or _today_in, links=links)
    # Kept when the command ends (planning asks for more years than loading did), and only
    # for a config that loaded: a bad config writes nothing anywhere.
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(lambda: holidaycache.remember(facts, seen, shared))
    else:
        holidaycache.remember(facts, seen, shared)
    _settle()
    return team, today or _today_in(team.timezone)


def _today_in(zone) -> date:
    return datetime.now(zone).date()


def calendar_plan(team, today: date, busy=None, placed=None, unreadable=None):
    """The plan for calendars: without the group events people get as e-mail invitations,
    with the past stretch that files keep (core.history). `busy`, `placed`, `unreadable`:
    as core.planning.plan takes them (engine.busy reads them, storage.placements keeps them)."""
    from ..core.history import calendar_plan as plan_for_calendars
    with _paused_gc():
        if busy is None and placed is None and unreadable is None:
            result = plan_for_calendars(team, today)
        else:
            result = plan_for_calendars(team, today, busy=busy, placed=placed, unreadable=unreadable)
    _settle()
    return result


def group_plan(team, today: date, busy=None, placed=None, unreadable=None):
    """The whole plan, invitations included (for `invite`)."""
    from ..core.planning import plan
    with _paused_gc():
        if busy is None and placed is None and unreadable is None:
            result = plan(team, today)
        else:
            result = plan(team, today, busy=busy, placed=placed, unreadable=unreadable)
    _settle()
    return result


def offline_option(func):
    return click.option("--offline", is_flag=True,
                        help="Plan with the busy times kept by the last run that read them; read no calendar "
                             "for busy times.")(func)


def busy_and_placed(team, today: date, config_path: Path, *, offline: bool, save: bool,
                    status_path: Path | None = None, invites_path: Path | None = None, context=None):
    """For a team with busy sources: the busy times (read now, or kept, with --offline) and
    the placements earlier runs remembered; (None, None) for a team without them, which
    plans as it always did."""
    from ..engine.busy import has_busy_sources, read_busy
    from ..storage.placements import load_placements, placements_path
    if not has_busy_sources(team):
        return None, None
    placed = load_placements(placements_path(config_path))
    busy = read_busy(team, today, config_path, placed=placed, offline=offline, save=save,
                     status_path=status_path, invites_path=invites_path, context=context)
    if busy.offline and busy.snapshot.today != today:
        click.echo(f"note: --offline: the busy times were read on {busy.snapshot.today}, for "
                   f"{busy.snapshot.start.astimezone(team.timezone).date()} – "
                   f"{busy.snapshot.end.astimezone(team.timezone).date()}; later ones are not known", err=True)
    return busy, placed


def plan_args(busy, placed) -> dict:
    """The keyword arguments calendar_plan and group_plan take for them."""
    if busy is None:
        return {}
    return {**busy.plan_args(), "placed": placed}


def remember_placements(config_path: Path, plan, busy) -> None:
    """After a run that carried events out: keep where its sessions and aftercare in
    [today, until) went (merged with earlier runs'), so that the next run keeps them there."""
    if busy is None:
        return
    from ..storage.placements import keep_placements as remember, placements_path
    shown = {group: placement for group, placement in plan.placements.items()
             if plan.today <= placement.start.date() < plan.until}
    remember(placements_path(config_path), shown, plan.today)


def unread_note(busy) -> str:
    """'; busy times could not be read for: hanna, kim', to end another failure's message."""
    if busy is None or not busy.unreadable:
        return ""
    return f"; busy times could not be read for: {', '.join(sorted(busy.unreadable))}"


def raise_if_unread(team, busy) -> None:
    """Exit 3 when someone's busy times could not be read, after everything else was done:
    nothing of theirs was moved, nothing new placed for them; the next run catches up."""
    if busy is None or not busy.unreadable:
        return
    from ..core.errors import PartialFailure
    from ..engine.busy import unreadable_text
    raise PartialFailure(f"busy times could not be read for: {unreadable_text(team, busy.unreadable)}; "
                         "nothing of theirs was moved and nothing new placed for them; run again when "
                         "their calendars can be read")


def check_people(team, people) -> None:
    unknown = [p for p in people if p not in team.people]
    if unknown:
        raise UsageError(f"unknown person: {', '.join(unknown)} (known: {', '.join(team.people)})")
