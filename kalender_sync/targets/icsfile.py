"""A person's events as one .ics file, written atomically."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from icalendar import Calendar

from ..core.diff import Change, Existing
from ..core.render import HASH, MARKER
from .. import atomic
from ..errors import TargetError

WHOLE_FILE = "*"


def read_existing(data: bytes) -> dict[str, Existing]:
    """The VEVENTs of an .ics file as `Existing` records."""
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


class IcsFile:
    def __init__(self, path: Path):
        self.path = path

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
        data = self.current_bytes()
        if not data:
            return {}
        try:
            return read_existing(data)
        except ValueError as exc:
            raise TargetError(f"{self.path} is not a readable .ics file ({exc}); move it away "
                              "and export again") from exc

    def apply(self, changes: list[Change], rendered: dict[str, bytes]) -> bool:
        """Write the whole file; returns False when the bytes were already there."""
        data = rendered[WHOLE_FILE]
        if self.current_bytes() == data:
            return False
        write_atomically(self.path, data)
        return True


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one (rename is atomic)."""
    try:
        atomic.write_atomically(path, data, make_parents=True)
    except OSError as exc:
        raise TargetError(f"cannot write {path}: {exc.strerror}") from exc
