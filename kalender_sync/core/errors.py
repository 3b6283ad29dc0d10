"""One exception tree for the whole tool.

Library code raises these; the CLI edge (cli.py) turns them into a message and
an exit code exactly once.  Nothing below the CLI prints or exits.
"""
from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3


class KalenderSyncError(Exception):
    """Base of every error the tool reports to its user."""

    exit_code = EXIT_FAILURE


class UsageError(KalenderSyncError):
    """Bad command-line usage: the user can fix it by calling differently."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a config file, located for the person who edits it."""

    file: str
    line: int
    path: str
    message: str
    value: object = None
    has_value: bool = False

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}: {self.path}: {self.message}" if self.path else (
            f"{self.file}:{self.line}: {self.message}")
        if self.has_value:
            text += f" (got: {format_value(self.value)})"
        return text


def format_value(value: object) -> str:
    if isinstance(value, str):
        return repr(value) if value == "" or value != value.strip() else value
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    if value is None:
        return "nothing"
    return str(value)


class ConfigError(UsageError):
    """A config (or contact log) with one or more problems; all are reported at once."""

    def __init__(self, problems: list[Problem], what: str = "configuration"):
        unique = {str(p): p for p in problems}   # values may be lists: dedupe on the text
        self.problems = sorted(unique.values(), key=lambda p: (p.file, p.line, p.path, p.message))
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the {what}")

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class TargetError(KalenderSyncError):
    """Writing to a calendar target (file, server, mail) failed."""


class PartialFailure(KalenderSyncError):
    """Some of the work was done, some failed; the next run converges."""

    exit_code = EXIT_PARTIAL


class BusySourceError(KalenderSyncError):
    """A calendar read for busy times (or the kept snapshot of them) cannot be understood.

    The message is short and names no secret: it ends up in the "could not be read" line
    for that person, after the source's id.
    """
