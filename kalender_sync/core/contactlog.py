"""The contact log: what was done. Human-readable, append-only YAML next to the config.

Each entry is one line, so appending never rewrites history and `git diff` shows
exactly one added line per logged contact:

    - {who: maarten, with: piet-de-vries, on: 2026-09-14, next: 2027-01-10, note: "lunch"}
"""
from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date

from .errors import ConfigError
from . import yamltree
from .config import _Reader, in_the_future, slug
from .model import ContactAgreement, LoggedContact, Snooze, Team
from .yamltree import Mapping, Scalar, Sequence


def fold(text: str) -> str:
    """Case- and accent-insensitive form for forgiving name matching."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold().strip()


def match_agreement(team: Team, owner: str, name: str) -> tuple[ContactAgreement | None, list[str]]:
    """Find the owner's agreement by id, name (case/accents ignored) or unique prefix.

    Returns (agreement, candidates); candidates lists the names when it is ambiguous or unknown.
    """
    own = [a for a in team.contacts if a.owner == owner]
    wanted = fold(name)
    for test in (lambda a: a.id == name or a.id == slug(name),
                 lambda a: fold(a.contact) == wanted,
                 lambda a: fold(a.contact).startswith(wanted) or a.id.startswith(slug(name))):
        found = [a for a in own if test(a)]
        if len(found) == 1:
            return found[0], []
        if len(found) > 1:
            return None, sorted(a.contact for a in found)
    return None, sorted(a.contact for a in own)


def load_log(team: Team, text: str, filename: str, today: date | None = None) -> Team:
    """Read the contact log into the team. Raises ConfigError with every bad line.

    `today`: an entry `on` a later day is a problem (as `kalender-sync log --on` refuses it);
    without it that rule is not checked.
    """
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        return team             # empty, or only comments (the header left after an undo)
    tree, problems = yamltree.parse(text, filename)
    reader = _Reader(filename)
    reader.problems.extend(problems)
    reader.people = team.people
    reader.today = today
    entries: list[LoggedContact | Snooze] = []
    if tree is not None and not (isinstance(tree, Scalar) and tree.is_null):
        if not isinstance(tree, Sequence):
            reader.bad(tree, "", "the contact log must be a list of entries, one '- {...}' per line")
        else:
            for index, node in enumerate(tree.items):
                entry = _read_entry(reader, team, node, f"[{index}]")
                if entry is not None:
                    entries.append(entry)
    if reader.problems:
        raise ConfigError(reader.problems, "contact log")
    return replace(team, log=tuple(e for e in entries if isinstance(e, LoggedContact)),
                   snoozes=tuple(e for e in entries if isinstance(e, Snooze)))


def _read_entry(r: _Reader, team: Team, node, path: str) -> LoggedContact | Snooze | None:
    if not isinstance(node, Mapping):
        r.bad(node, path, "expected an entry like {who: maarten, with: piet-de-vries, on: 2026-09-14}")
        return None
    fields = r.fields(node, path, "log")
    if fields is None:
        return None
    who = fields["who"]
    agreement = None
    if who is not None and "with" in fields:
        name = fields["with"]
        if name is not None:
            agreement, candidates = match_agreement(team, who, name)
            if agreement is None:
                what = "matches more than one contact" if candidates and any(
                    fold(c).startswith(fold(name)) for c in candidates) else f"is not a contact of {who}"
                r.bad(fields.node("with"), f"{path}.with",
                      f"{what}; candidates: {', '.join(candidates) or 'none'}")
    on, next_date, snooze, answered = fields["on"], fields["next"], fields["snooze"], fields["for"]
    if snooze is not None:
        if on is not None or next_date is not None:
            r.bad(fields.node("snooze"), f"{path}.snooze",
                  "a snooze logs no contact: leave out on and next (or log the contact without snooze)")
            return None
        if who is None or agreement is None:
            return None
        return Snooze(who, agreement.id, snooze, answered, fields["note"], node.line)
    if on is None and "on" not in fields and who is not None:
        r.problem(node.line, path, "missing required key 'on'")
        return None
    if on and r.today and on > r.today:
        r.bad(fields.node("on"), f"{path}.on", f"{in_the_future(r.today)}; log a contact after it happened")
        return None
    if on and next_date and next_date <= on:
        r.bad(fields.node("next"), f"{path}.next", f"the next contact must come after this one ({on})")
        return None
    note = fields["note"]
    if who is None or agreement is None or on is None:
        return None
    return LoggedContact(who, agreement.id, on, next_date, note, node.line, answered)
