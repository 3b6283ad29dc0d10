"""Appending to the contact log (`kalender-sync log`): one new line, never a rewrite.

The log is kept in git and edited by hand, so this module only ever *adds* one line at
the end of the file (opened in append mode, then fsync'ed).  Before anything is written:

- the existing log is validated (a hand-edited mistake is reported with its line, and
  nothing is appended), and
- the new text (old log + the new line) is parsed again with the same reader the planner
  uses, and must give back exactly the entry that was meant.  So any note text (quotes,
  colons, '#', accents, newlines) round-trips, or nothing is written.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import yaml

from ..core.config import in_the_future, slug
from ..core.contactlog import fold, load_log, match_agreement
from ..core.model import ContactAgreement, LoggedContact, Team
from ..core.planning import ContactStatus, contact_status, plan as make_plan
from ..core.errors import ConfigError, UsageError
from ..storage.teamfiles import log_path

HEADER = (
    "# Contact log: one line per contact that happened. Append-only: written by\n"
    "# `kalender-sync log`, and fine to add to by hand. A later line wins over `last`\n"
    "# in the config; `next` is the date agreed at the end of the conversation.\n"
)

# Text that YAML reads back as the same plain string in a flow mapping: no indicators,
# no leading/trailing space.  Anything else is written double-quoted by PyYAML itself.
_PLAIN_SAFE = re.compile(r"[^\W_][\w .'/()&+-]*", re.UNICODE)


def flow_scalar(value: str) -> str:
    """`value` as a YAML scalar that is safe inside a flow mapping `{...}` on one line.

    Plain when that reads back as the same string (`Piet de Vries`), otherwise
    double-quoted with YAML's own escapes (`"koffie: \\"ja\\" # daarna\\nlunch"`).
    """
    if _PLAIN_SAFE.fullmatch(value) and value == value.strip():
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    text = yaml.safe_dump(value, default_style='"', width=float("inf"), allow_unicode=True)
    return text.rstrip("\n")


def format_entry(owner: str, agreement: str, on: date, next_date: date | None = None,
                 note: str | None = None) -> str:
    """One log line, without the line break:

    - {who: maarten, with: piet-de-vries, on: 2026-09-14, next: 2027-01-10, note: "lunch"}
    """
    parts = [f"who: {flow_scalar(owner)}", f"with: {flow_scalar(agreement)}", f"on: {on.isoformat()}"]
    if next_date is not None:
        parts.append(f"next: {next_date.isoformat()}")
    if note:
        # Notes are always quoted: a note is free text and should look like one.
        parts.append("note: " + yaml.safe_dump(note, default_style='"', width=float("inf"),
                                               allow_unicode=True).rstrip("\n"))
    return "- {" + ", ".join(parts) + "}"


def resolve_contact(team: Team, person: str, name: str) -> ContactAgreement:
    """The person's agreement meant by `name` (id, name, accents/case ignored, unique prefix)."""
    if person not in team.people:
        raise UsageError(f"unknown person: {person} (known: {', '.join(team.people)})")
    if not name.strip():
        raise UsageError("CONTACT must not be empty")
    agreement, candidates = match_agreement(team, person, name)
    if agreement is not None:
        return agreement
    own = [a for a in team.contacts if a.owner == person]
    wanted, wanted_slug = fold(name), slug(name)
    ambiguous = len(candidates) > 1 and (len(candidates) < len(own) or any(
        fold(a.contact).startswith(wanted) or a.id.startswith(wanted_slug) for a in own))
    if ambiguous:
        raise UsageError(f"'{name}' matches more than one contact of {person}: {', '.join(candidates)}; "
                         "type more of the name")
    listed = ", ".join(candidates) if candidates else "none (add agreements under contacts: in the config)"
    raise UsageError(f"'{name}' is not a contact of {person}; candidates: {listed}")


@dataclass(frozen=True)
class Appended:
    path: Path
    line: str                  # the line written, without the line break
    line_number: int           # its line number in the log
    created: bool              # the log file did not exist before
    entry: LoggedContact
    team: Team                 # the team with the new log applied


def append_contact(config_path: Path, team: Team, person: str, contact: str, on: date,
                   next_date: date | None = None, note: str | None = None,
                   today: date | None = None) -> Appended:
    """Validate, then append one line to the contact log next to the config.

    `team` must be the config as loaded (its own log is re-read from disk here, so the
    validation sees exactly the bytes the new line is appended to).
    """
    agreement = resolve_contact(team, person, contact)
    if today is not None and on > today:
        raise UsageError(f"--on {on} {in_the_future(today)}; log a contact after it happened")
    if next_date is not None and next_date <= on:
        raise UsageError(f"--next {next_date} must come after the contact (--on {on})")
    if note is not None:
        note = note.strip() or None
    path = log_path(config_path)
    try:
        old = path.read_bytes()
        exists = True
    except FileNotFoundError:
        old, exists = b"", False
    except OSError as exc:
        raise UsageError(f"cannot read contact log {path}: {exc.strerror}") from None
    try:
        old_text = old.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = old[:exc.start].count(b"\n") + 1
        raise UsageError(f"{path}:{line}: not UTF-8 text; save the contact log as UTF-8; nothing was logged") \
            from None
    base = _without_log(team)
    # 1. The log as it is must be valid: a hand-edited mistake is reported, nothing appended.
    try:
        load_log(base, old_text, str(path), today)
    except ConfigError as exc:
        raise ConfigError(exc.problems, "contact log (nothing was logged; fix it first)") from None

    newline = "\r\n" if b"\r\n" in old else "\n"
    line = format_entry(person, agreement.id, on, next_date, note)
    prefix = ""
    if not exists:
        prefix = HEADER.replace("\n", newline)
    elif old and not old.endswith(b"\n"):
        prefix = newline
    addition = prefix + line + newline

    # 2. The new text must read back as exactly the entry we mean (round trip), and be a
    #    valid log as a whole (an old file that is not a block list cannot take a '- ' line).
    new_text = old_text + addition
    try:
        new_team = load_log(base, new_text, str(path), today)
    except ConfigError as exc:
        raise UsageError(f"cannot append to {path}: the result would not be a valid contact log "
                         f"({exc.problems[0] if exc.problems else exc}); nothing was logged") from None
    expected = (person, agreement.id, on, next_date, note)
    got = new_team.log[-1] if new_team.log else None
    if got is None or (got.owner, got.agreement, got.on, got.next, got.note) != expected:
        raise UsageError(f"cannot append to {path}: the new line would not read back as written; "
                         "nothing was logged")

    data = addition.encode("utf-8")
    flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT | os.O_EXCL if not exists else 0)
    try:
        fd = os.open(path, flags, 0o644)
    except FileExistsError:
        raise UsageError(f"{path} appeared while logging (another process?); run the command again") from None
    except OSError as exc:
        raise UsageError(f"cannot write contact log {path}: {exc.strerror}") from None
    try:
        if exists and os.fstat(fd).st_size != len(old):
            raise UsageError(f"{path} changed while logging (another process?); nothing was logged; "
                             "run the command again")
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    if not exists:
        _fsync_dir(path.parent)
    return Appended(path=path, line=line, line_number=new_text.count("\n"), created=not exists,
                    entry=got, team=new_team)


def _without_log(team: Team) -> Team:
    return replace(team, log=())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - not every platform can open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


@dataclass(frozen=True)
class NextReminder:
    agreement: ContactAgreement
    status: ContactStatus
    start: datetime | None        # the first reminder in the calendars, None beyond the horizon
    until: date                   # the end of the planning horizon


def next_reminder(team: Team, entry: LoggedContact, today: date) -> NextReminder:
    """What a logged contact means for the next reminder of its agreement."""
    agreement = next(a for a in team.contacts if a.owner == entry.owner and a.id == entry.agreement)
    plan = make_plan(team, today)
    prefix = f"contact/{entry.owner}/{entry.agreement}/"
    reminders = [e for e in plan.for_person(entry.owner) if e.kind == "contact" and e.key.startswith(prefix)]
    return NextReminder(agreement, contact_status(team, agreement), reminders[0].start if reminders else None,
                        plan.until)
