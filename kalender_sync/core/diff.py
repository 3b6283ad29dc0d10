"""Planned events vs. what a calendar holds -> Create / Update / Delete / Keep.

Pure: the adapters read what is there and carry the changes out; deciding what
to do happens here, once, so that `plan` shows exactly what `export`/`sync` do.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .planning import PlannedEvent, uid_for
from .fingerprint import content_hash

CREATE, UPDATE, DELETE, KEEP = "create", "update", "delete", "keep"
# Not writes: reported so that the person running the sync sees why nothing happened.
CONFLICT = "conflict"   # someone edited our event: their version stays
SKIP = "skip"           # someone deleted our event, or another event holds its UID: not re-created
ACTIONS = (CREATE, UPDATE, DELETE, KEEP, CONFLICT, SKIP)

# What a target knows about an event it holds (the status database's words).
SYNCED, EDITED, GONE, TAKEN = "synced", "edited", "gone", "taken"
DONE = "done"   # edited by its owner to say the contact happened (a ✓ in the title): theirs, kept



@dataclass(frozen=True)
class Existing:
    """An event found in a target, as far as the diff needs it."""

    uid: str
    key: str | None          # our marker, if present
    hash: str | None         # the content hash we wrote
    sequence: int
    stamp: datetime | None
    end: date | None
    state: str = SYNCED      # synced | edited (by someone else) | gone (deleted by someone) | taken
    href: str | None = None
    etag: str | None = None

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
        if old is None:
            changes.append(Change(CREATE, uid, person, event, sequence=0))
        elif old.state == GONE or old.state == TAKEN or not old.owned:
            changes.append(Change(SKIP, uid, person, event, old, old.sequence))
        elif old.state in (EDITED, DONE):
            changes.append(Change(CONFLICT, uid, person, event, old, old.sequence))
        elif old.hash == content_hash(event):
            changes.append(Change(KEEP, uid, person, event, old, old.sequence))
        else:
            changes.append(Change(UPDATE, uid, person, event, old, old.sequence + 1))
    for uid, old in existing.items():
        if uid in wanted or not old.owned or old.state in (GONE, TAKEN):
            continue
        # What already happened is history, not ours to remove from someone's calendar.
        if old.end is not None and old.end < today:
            continue
        if old.state in (EDITED, DONE):
            # Someone cared enough to change it: it stays, even now the plan dropped it.
            changes.append(Change(CONFLICT, uid, person, None, old, old.sequence))
            continue
        changes.append(Change(DELETE, uid, person, None, old, old.sequence + 1))
    order = {action: index for index, action in enumerate(ACTIONS)}
    changes.sort(key=lambda c: (order[c.action], c.event.day if c.event else date.min, c.uid))
    return changes


def summarize(changes: list[Change]) -> dict[str, int]:
    counts = dict.fromkeys(ACTIONS, 0)
    for change in changes:
        counts[change.action] += 1
    return counts
