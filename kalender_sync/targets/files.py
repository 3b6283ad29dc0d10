"""A person's events as one .ics file, written atomically."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from functools import lru_cache

from ..core.diff import Change, Existing
from ..core.planning import PlannedEvent
from ..core.fingerprint import HASH, MARKER, content_hash
from ..storage import atomic
from ..core.errors import TargetError
from .icsindex import FolderIndex, digest

WHOLE_FILE = "*"


def read_existing(data: bytes) -> dict[str, Existing]:
    """The VEVENTs of an .ics file as `Existing` records."""
    from icalendar import Calendar   # only for files the index does not vouch for
    result: dict[str, Existing] = {}
    calendar = Calendar.from_ical(data)
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("uid", ""))
        if not uid:
            continue
        end = component.get("dtend") or component.get("dtstart")
        end_day = None
        if end is not None:
            value = end.dt
            end_day = value.date() if isinstance(value, datetime) else value if isinstance(value, date) else None
        stamp = component.get("dtstamp")
        result[uid] = Existing(
            uid=uid, key=str(component[MARKER]) if MARKER in component else None,
            hash=str(component[HASH]) if HASH in component else None,
            sequence=int(component.get("sequence", 0)),
            stamp=stamp.dt if stamp is not None else None, end=end_day)
    return result


@lru_cache(maxsize=1)
def _read_utc():
    """How icalendar reads back the UTC DTSTAMP we write (ZoneInfo("UTC") with icalendar 7.3)."""
    from icalendar.prop import vDatetime
    return vDatetime.from_ical("20000101T000000Z").tzinfo


def written_records(events: list[PlannedEvent], stamp: datetime,
                    versions: dict[str, tuple[int, datetime]] | None = None) -> dict[str, Existing]:
    """What `read_existing` will read from `render_calendar(events, stamp, …, versions=versions)`,
    known without parsing it: the same values, types and order (tests/unit/test_ics_index.py)."""
    result: dict[str, Existing] = {}
    for event in sorted(events, key=lambda e: (e.day, e.uid)):   # render_calendar's order
        if not event.uid:
            continue
        sequence, event_stamp = (versions or {}).get(event.uid, (0, stamp))
        end = event.end
        result[event.uid] = Existing(
            uid=event.uid, key=event.key, hash=content_hash(event), sequence=sequence,
            stamp=event_stamp.astimezone(_read_utc()).replace(microsecond=0),
            end=end.date() if isinstance(end, datetime) else end)
    return result


class IcsFile:
    def __init__(self, path: Path, index: FolderIndex | None = None):
        """`index`: the folder's index, shared by all files of that folder (None: no index)."""
        self.path = path
        self.index = index

    def describe(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        return self.path.exists()

    def current_bytes(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None  # nothing there yet; writing will say why if it cannot be created
        except OSError as exc:
            raise TargetError(f"cannot read {self.path}: {exc.strerror}") from exc

    def existing(self) -> dict[str, Existing]:
        """The events of the file: from the folder's index if it has these very bytes, else parsed."""
        data = self.current_bytes()
        if not data:
            return {}
        sha256 = digest(data) if self.index is not None else None
        if self.index is not None:
            known = self.index.lookup(self.path.name, sha256)
            if known is not None:
                self.index.record(self.path.name, sha256, known)
                return known
        try:
            records = read_existing(data)
        except ValueError as exc:
            raise TargetError(f"{self.path} is not a readable .ics file ({exc}); move it away "
                              "and export again") from exc
        if self.index is not None:
            self.index.record(self.path.name, sha256, records)
        return records

    def apply(self, changes: list[Change], rendered: dict[str, bytes],
              records: dict[str, Existing] | None = None) -> bool:
        """Write the whole file; returns False when the bytes were already there.

        `records`: what `read_existing` would read from the new bytes (`written_records`), for
        the folder's index; without them the file gets no index entry and is parsed next time.
        """
        data = rendered[WHOLE_FILE]
        if self.current_bytes() == data:
            written = False
        else:
            write_atomically(self.path, data)
            written = True
        if self.index is not None:
            self.index.record(self.path.name, digest(data), records)
        return written


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one (rename is atomic)."""
    try:
        atomic.write_atomically(path, data, make_parents=True)
    except OSError as exc:
        raise TargetError(f"cannot write {path}: {exc.strerror}") from exc
