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
from ..core.model import ContactAgreement, LoggedContact, Snooze, Team
from ..core.planning import ContactStatus, contact_status, plan as make_plan
from ..core.errors import ConfigError, UsageError
from ..storage.teamfiles import log_path

LOCK_NAME = ".contacts-log.lock"

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


def format_entry(owner: str, agreement: str, on: date | None, next_date: date | None = None,
                 note: str | None = None, answered: date | None = None, snooze: date | None = None) -> str:
    """One log line, without the line break:

    - {who: maarten, with: piet-de-vries, on: 2026-09-14, next: 2027-01-10, note: "lunch"}
    - {who: maarten, with: piet-de-vries, snooze: 2027-01-20, for: 2026-12-01}
    """
    parts = [f"who: {flow_scalar(owner)}", f"with: {flow_scalar(agreement)}"]
    if on is not None:
        parts.append(f"on: {on.isoformat()}")
    if snooze is not None:
        parts.append(f"snooze: {snooze.isoformat()}")
    if next_date is not None:
        parts.append(f"next: {next_date.isoformat()}")
    if answered is not None:
        parts.append(f"for: {answered.isoformat()}")
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
    entry: LoggedContact | Snooze
    team: Team                 # the team with the new log applied
    # Nothing was written: the log already held this entry (a replayed form, a second click
    # on a done link); `entry` and `line` are the one already there.
    already: bool = False


def append_contact(config_path: Path, team: Team, person: str, contact: str, on: date,
                   next_date: date | None = None, note: str | None = None,
                   today: date | None = None, answered: date | None = None, once: bool = False) -> Appended:
    """Validate, then append one line to the contact log next to the config.

    `team` must be the config as loaded (its own log is re-read from disk here, so the
    validation sees exactly the bytes the new line is appended to).
    `answered`: the reminder's day a done link was for (written as `for`).
    `once`: write nothing if the log already holds this contact (for `answered`: any contact
    or snooze for that reminder; else the same day, next date and note): acting twice is harmless.
    """
    agreement = resolve_contact(team, person, contact)
    if today is not None and on > today:
        raise UsageError(f"--on {on} {in_the_future(today)}; log a contact after it happened")
    if next_date is not None and next_date <= on:
        raise UsageError(f"--next {next_date} must come after the contact (--on {on})")
    if note is not None:
        note = note.strip() or None
    line = format_entry(person, agreement.id, on, next_date, note, answered)
    expected = LoggedContact(person, agreement.id, on, next_date, note, 0, answered)
    return _append(config_path, team, line, expected, today, once)


def append_snooze(config_path: Path, team: Team, person: str, contact: str, until: date,
                  today: date | None = None, answered: date | None = None, note: str | None = None,
                  once: bool = False) -> Appended:
    """Append "not now, remind me on `until`" (no contact) for one agreement."""
    agreement = resolve_contact(team, person, contact)
    if today is not None and until <= today:
        raise UsageError(f"the day to be reminded on ({until}) must come after today ({today})")
    if note is not None:
        note = note.strip() or None
    line = format_entry(person, agreement.id, None, note=note, answered=answered, snooze=until)
    expected = Snooze(person, agreement.id, until, answered, note, 0)
    return _append(config_path, team, line, expected, today, once)


def _key(entry: LoggedContact | Snooze) -> tuple:
    """An entry without its line number, to compare what was meant with what reads back."""
    return replace(entry, line=0)


def _same_act(entry, existing) -> bool:
    if entry.owner != existing.owner or entry.agreement != existing.agreement:
        return False
    if entry.answered is not None:
        return existing.answered == entry.answered
    return _key(existing) == _key(entry)


def locked(config_path: Path):
    """Every change to the contact log holds this lock from reading to writing, so concurrent
    writers (the web pages' POSTs, `log`, a sync marking contacts done) never lose a line: a lock
    file beside the log (the log itself is replaced by an undo, so it cannot carry it)."""
    from ..storage.atomic import held
    path = log_path(config_path).with_name(LOCK_NAME)
    return held(path, lambda exc: UsageError(f"cannot open the contact log's lock {path}: {exc.strerror}"))


def _read_log(path: Path) -> tuple[bytes, str, bool]:
    try:
        old = path.read_bytes()
        exists = True
    except FileNotFoundError:
        old, exists = b"", False
    except OSError as exc:
        raise UsageError(f"cannot read contact log {path}: {exc.strerror}") from None
    try:
        return old, old.decode("utf-8-sig"), exists
    except UnicodeDecodeError as exc:
        line = old[:exc.start].count(b"\n") + 1
        raise UsageError(f"{path}:{line}: not UTF-8 text; save the contact log as UTF-8; nothing was logged") \
            from None


def _entries(team: Team) -> list:
    return sorted(team.log + team.snoozes, key=lambda e: e.line)


def _earlier(current: Team, expected, text: str, path: Path) -> Appended | None:
    """The entry of `current` (read from `text`) that `expected` would repeat (_same_act), as an
    Appended that wrote nothing; None if there is none."""
    for existing in _entries(current):
        if _same_act(expected, existing):
            return Appended(path=path, line=text.splitlines()[existing.line - 1], line_number=existing.line,
                            created=False, entry=existing, team=current, already=True)
    return None


def answered_before(config_path: Path, team: Team, person: str, agreement: str, occurrence: date,
                    today: date | None = None) -> Appended | None:
    """What a done link for the reminder of `occurrence` logged already (a contact or a snooze),
    read from the log as it is now; None if nothing, or if the log cannot be read."""
    path = log_path(config_path)
    try:
        _, text, exists = _read_log(path)
        if not exists:
            return None
        current = load_log(_without_log(team), text, str(path), today)
    except (UsageError, ConfigError):
        return None
    return _earlier(current, Snooze(person, agreement, occurrence, answered=occurrence), text, path)


def _append(config_path: Path, team: Team, line: str, expected, today: date | None, once: bool) -> Appended:
    path = log_path(config_path)
    with locked(config_path):
        old, old_text, exists = _read_log(path)
        base = _without_log(team)
        # 1. The log as it is must be valid: a hand-edited mistake is reported, nothing appended.
        try:
            current = load_log(base, old_text, str(path), today)
        except ConfigError as exc:
            raise ConfigError(exc.problems, "contact log (nothing was logged; fix it first)") from None
        if once:
            earlier = _earlier(current, expected, old_text, path)
            if earlier is not None:
                return earlier

        newline = "\r\n" if b"\r\n" in old else "\n"
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
        entries = _entries(new_team)
        got = entries[-1] if entries else None
        if got is None or type(got) is not type(expected) or _key(got) != _key(expected):
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


def remove_line(config_path: Path, team: Team, line: str, today: date | None = None) -> bool:
    """Undo: take out the last line of the log that is exactly `line` (the one an undo button
    was made for). False if there is no such line (undone already). The rest of the file is
    kept byte for byte; the result must still be a valid log."""
    path = log_path(config_path)
    with locked(config_path):
        old, old_text, exists = _read_log(path)
        if not exists:
            return False
        lines = old_text.splitlines(keepends=True)
        for index in range(len(lines) - 1, -1, -1):
            if lines[index].rstrip("\r\n") == line:
                break
        else:
            return False
        new_text = "".join(lines[:index] + lines[index + 1:])
        try:
            load_log(_without_log(team), new_text, str(path), today)
        except ConfigError as exc:
            raise UsageError(f"cannot undo in {path}: the result would not be a valid contact log "
                             f"({exc.problems[0] if exc.problems else exc})") from None
        from ..storage.atomic import write_atomically
        bom = "\ufeff" if old.startswith(b"\xef\xbb\xbf") else ""
        try:
            write_atomically(path, (bom + new_text).encode("utf-8"), mode=0o644)
        except OSError as exc:
            raise UsageError(f"cannot write contact log {path}: {exc.strerror}") from None
    return True


def _without_log(team: Team) -> Team:
    """The team before any log line: what the log on disk is read onto (contacts and snoozes)."""
    return replace(team, log=(), snoozes=())


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
