"""Planned events vs. what a calendar holds -> Create / Update / Delete / Keep.

Pure: the adapters read what is there and carry the changes out; deciding what
to do happens here, once, so that `plan` shows exactly what `export`/`sync` do.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .planning import PlannedEvent, uid_for
from .render import content_hash

CREATE, UPDATE, DELETE, KEEP = "create", "update", "delete", "keep"


@dataclass(frozen=True)
class Existing:
    """An event found in a target, as far as the diff needs it."""

    uid: str
    key: str | None          # our marker, if present
    hash: str | None         # the content hash we wrote
    sequence: int
    stamp: datetime | None
    end: date | None

    @property
    def owned(self) -> bool:
        # The marker alone can be copied; the UID must also be the one we derive from it.
        return self.key is not None and uid_for(self.key) == self.uid


@dataclass(frozen=True)
class Change:
    action: str
    uid: str
    person: str
    event: PlannedEvent | None = None
    existing: Existing | None = None
    sequence: int = 0

    @property
    def title(self) -> str:
        return self.event.title if self.event else (self.existing.key or self.uid if self.existing else self.uid)


def diff(person: str, planned: list[PlannedEvent], existing: dict[str, Existing], today: date) -> list[Change]:
    """Changes that bring one person's calendar to the plan. Foreign events are never touched."""
    changes: list[Change] = []
    wanted = {e.uid: e for e in planned}
    for uid, event in wanted.items():
        old = existing.get(uid)
        if old is None or not old.owned:
            changes.append(Change(CREATE, uid, person, event, sequence=0))
        elif old.hash == content_hash(event):
            changes.append(Change(KEEP, uid, person, event, old, old.sequence))
        else:
            changes.append(Change(UPDATE, uid, person, event, old, old.sequence + 1))
    for uid, old in existing.items():
        if uid in wanted or not old.owned:
            continue
        # What already happened is history, not ours to remove from someone's calendar.
        if old.end is not None and old.end < today:
            continue
        changes.append(Change(DELETE, uid, person, None, old, old.sequence + 1))
    order = {CREATE: 0, UPDATE: 1, DELETE: 2, KEEP: 3}
    changes.sort(key=lambda c: (order[c.action], c.event.day if c.event else date.min, c.uid))
    return changes


def summarize(changes: list[Change]) -> dict[str, int]:
    counts = {CREATE: 0, UPDATE: 0, DELETE: 0, KEEP: 0}
    for change in changes:
        counts[change.action] += 1
    return counts
