"""Reading the config and contact log from disk (the only file I/O before planning)."""
from __future__ import annotations

from pathlib import Path

from ..core.config import Today, load_team
from ..core.contactlog import load_log
from ..core.model import Team
from ..core.publicholidays import HolidayFacts
from ..core.errors import ConfigError, Problem, UsageError

LOG_NAME = "contacts-log.yaml"


def log_path(config_path: Path) -> Path:
    return config_path.with_name(LOG_NAME)


def _read_text(path: Path, what: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"{what} is a directory, not a file: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError([Problem(str(path), line, "", "not UTF-8 text; save the file as UTF-8")]) from None


def load(config_path: Path, holidays: HolidayFacts | None = None, today: Today | None = None,
         links: str = "make") -> Team:
    """The team with its contact log applied. Raises ConfigError / UsageError.

    `holidays`: public-holiday answers remembered from an earlier run (see storage.status).
    `today`: the day, or the clock (see core.config.load_team), no contact may be dated after.
    `links`: with feed.base_url set, the done links: "make" (the key is made on first use),
    "existing" (only with a key already there: `check` writes nothing), "off".
    """
    team = load_team(_read_text(config_path, "config file"), str(config_path), holidays, today)
    log = log_path(config_path)
    if log.exists():
        day = today(team.timezone) if callable(today) else today
        team = load_log(team, _read_text(log, "contact log"), str(log), day)
    if links != "off" and team.feed.base_url:
        from dataclasses import replace
        from ..core.links import DoneLinks
        from .linkkey import link_key
        key = link_key(config_path, create=links == "make")
        if key is not None:
            team = replace(team, links=DoneLinks(team.feed.base_url, key))
    return team
