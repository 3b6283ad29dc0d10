"""Carrying a plan out against targets. The decisions were made in core.diff."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path

from ..core.diff import CREATE, KEEP, Change, Existing, diff
from ..core.model import Team
from ..core.planning import Plan
from ..targets.files import WHOLE_FILE, IcsFile, written_records
from ..targets.icsindex import FolderIndex


def stamp_for(today: date) -> datetime:
    """DTSTAMP of new or changed events: derived from `today`, so runs are reproducible."""
    return datetime.combine(today, time(0), timezone.utc)


@dataclass
class PersonFile:
    person: str
    target: IcsFile
    changes: list[Change]
    data: bytes | None          # None: nothing to write (no change), or not rendered (plan only)
    written: bool = False
    records: dict[str, Existing] | None = None   # what `data` holds, as read_existing reads it (for the index)


def ics_targets(team: Team, config_dir: Path, out_dir: Path | None, people: list[str] | None) -> dict[str, IcsFile]:
    """Which people get an .ics file, and where: their calendar's path, or --out for everyone.

    The files of one folder share that folder's index (read once, see targets/icsindex.py).
    """
    result = {}
    indexes: dict[str, FolderIndex] = {}

    def target(path: Path) -> IcsFile:
        folder = os.path.normpath(os.path.abspath(path.parent))
        if folder not in indexes:
            indexes[folder] = FolderIndex(path.parent)
        return IcsFile(path, indexes[folder])

    for person in team.people.values():
        if people and person.id not in people:
            continue
        if out_dir is not None:
            result[person.id] = target(out_dir / f"{person.id}.ics")
            continue
        calendar = team.calendars[person.calendar]
        if calendar.kind == "ics":
            result[person.id] = target(config_dir / calendar.ics_path.replace("{person}", person.id))
    return result


def prepare_files(team: Team, plan: Plan, targets: dict[str, IcsFile], render: bool = True) -> list[PersonFile]:
    """Diff each person's file against the plan and render what it should hold.

    iCalendar is rendered only for files that change (and never for `plan`): rendering is
    the expensive part, and a file whose events all kept their content stays as it is.
    """
    stamp = stamp_for(plan.today)
    result = []
    for person_id, target in targets.items():
        person = team.people[person_id]
        events = plan.for_person(person_id)
        changes = diff(person_id, events, target.existing(), plan.today)
        # A kept event keeps its DTSTAMP and SEQUENCE; a changed one gets a higher
        # SEQUENCE, or clients that re-import the file drop it as outdated.
        versions = {c.uid: ((c.existing.sequence, c.existing.stamp or stamp) if c.action == KEEP
                            else (c.sequence, stamp)) for c in changes if c.event is not None}
        changed = any(c.action != KEEP for c in changes) or (not changes and not target.exists())
        data = records = None
        if render and changed:
            from ..core.render import render_calendar   # icalendar: only when a file changes
            name = f"{team.name} — {person.name}"
            data = render_calendar(events, stamp, name, person.language, versions=versions)
            records = written_records(events, stamp, versions)
        result.append(PersonFile(person_id, target, changes, data, records=records))
    return result


def write_files(files: list[PersonFile]) -> None:
    """Write the files that change, then the index of each folder (what every file holds now)."""
    for item in files:
        if item.data is not None:
            item.written = item.target.apply(item.changes, {WHOLE_FILE: item.data}, item.records)
    indexes = {id(f.target.index): f.target.index for f in files if f.target.index is not None}
    for index in indexes.values():
        try:
            index.save()
        except OSError:
            # The index is only a cache and every entry is checked against the file's SHA-256,
            # so an old one left behind is harmless: the files are written, the export succeeded.
            pass


__all__ = ["CREATE", "PersonFile", "ics_targets", "prepare_files", "stamp_for", "write_files"]
