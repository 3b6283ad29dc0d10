"""Planned events vs. what a calendar holds -> Create / Update / Delete / Keep.

Pure: the adapters read what is there and carry the changes out; deciding what
to do happens here, once, so that `plan` shows exactly what `export`/`sync` do.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from .fingerprint import content_hash
from .planning import PlannedEvent, uid_for


class _Words(str, Enum):
    """An Enum whose members read and print as their word (in tables, JSON and SQLite)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class Action(_Words):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    KEEP = "keep"
    # Not writes: reported so that the person running the sync sees why nothing happened.
    CONFLICT = "conflict"   # someone edited our event: their version stays
    SKIP = "skip"           # someone deleted our event, or another event holds its UID: not re-created
    LOGGED = "done"         # its owner marked the contact done: logged now (once); their event stays


class ItemState(_Words):
    """What the engine knows about an event a target holds (the status database's words)."""

    SYNCED = "synced"       # there as we wrote it
    EDITED = "edited"       # someone changed it: theirs now
    DONE = "done"           # its owner marked the contact done (a ✓ in the title): theirs, kept
    GONE = "gone"           # someone deleted it: not created again
    TAKEN = "taken"         # another event holds its UID
    # We sent a delete and do not know whether it got there (the answer was lost, the run was
    # killed): when it is gone next time, it was our delete, not its person's. The engine
    # settles this state when it lists the calendar; the diff never sees it.
    DELETING = "deleting"


CREATE, UPDATE, DELETE, KEEP, CONFLICT, SKIP, LOGGED = Action
ACTIONS = tuple(Action)
SYNCED, EDITED, DONE, GONE, TAKEN, DELETING = ItemState


@dataclass(frozen=True)
class Existing:
    """An event found in a target, as far as the diff needs it."""

    uid: str
    key: str | None          # our marker, if present
    hash: str | None         # the content hash we wrote
    sequence: int
    end: date | None
    state: ItemState = SYNCED
    href: str | None = None
    etag: str | None = None
    title: str | None = None                 # as the calendar holds it
    start: datetime | date | None = None     # as the calendar holds it
    moved: bool | None = None                # edited: its person moved it (None: not known)

    @property
    def owned(self) -> bool:
        # The marker alone can be copied; the UID must also be the one we derive from it.
        return self.key is not None and uid_for(self.key) == self.uid


@dataclass(frozen=True)
class Change:
    action: Action
    uid: str
    person: str
    event: PlannedEvent | None = None
    existing: Existing | None = None
    sequence: int = 0
    logged_on: date | None = None       # LOGGED: the day the contact is logged on

    @property
    def title(self) -> str:
        """What a person calls this event: the planned title, else the one in their calendar
        (never our internal key)."""
        if self.event is not None:
            return self.event.title
        if self.existing is not None and self.existing.title:
            return self.existing.title
        if self.existing is not None and self.existing.key:
            return f"{kind_of_key(self.existing.key)} event"
        return "an event"

    @property
    def kind(self) -> str:
        if self.event is not None:
            return self.event.kind
        return kind_of_key(self.existing.key) if self.existing is not None and self.existing.key else "event"

    @property
    def reason(self) -> Reason | None:
        """Why a change that writes nothing writes nothing: what the person did."""
        old = self.existing
        if self.action == LOGGED:
            return Reason(LOGGED_DONE, day=self.logged_on)
        if self.action == SKIP:
            return Reason(TAKEN_BY_OTHER if old is not None and old.state == TAKEN else DELETED)
        if self.action != CONFLICT or old is None:
            return None
        if old.state == DONE:
            return Reason(MARKED_DONE)
        if self.event is None:
            return Reason(DROPPED)
        moved = old.moved
        if moved is None:       # not known how it was: compared with where the plan has it
            moved = old.start is not None and (type(old.start) is not type(self.event.start)
                                               or old.start != self.event.start)
        return Reason(MOVED, moment=old.start) if moved and old.start is not None else Reason(EDITED_BY_OWNER)


# What a person did to one of our events, as `plan` and `sync` say it (core/texts.py).
MOVED, EDITED_BY_OWNER, MARKED_DONE, LOGGED_DONE, DROPPED, DELETED, TAKEN_BY_OTHER = (
    "moved", "edited", "marked-done", "logged", "dropped", "deleted", "taken")


@dataclass(frozen=True)
class Reason:
    code: str
    moment: datetime | date | None = None     # MOVED: where to
    day: date | None = None                   # LOGGED_DONE: the contact's day


def kind_of_key(key: str) -> str:
    """The kind of event a key of ours names (planning: kind/what/occurrence/person)."""
    parts = key.split("/")
    if parts[0] == "meeting" and len(parts) > 2:
        return {"collect": "prepare"}.get(parts[2], parts[2])
    return parts[0]


def diff(person: str, planned: list[PlannedEvent], existing: dict[str, Existing], today: date,
         keep_history: bool = True, logged: Mapping[str, date] | None = None) -> list[Change]:
    """Changes that bring one person's calendar to the plan. Foreign events are never touched.

    `keep_history`: events of ours that ended before `today` stay (a calendar is the person's
    record); False for a target that holds only the planned window (a generated file).
    `logged`: UIDs of events marked done whose contact this run logs, with the contact's day.
    An event marked done is the person's own from then on: once logged it is not reported again.
    """
    logged = logged or {}
    changes: list[Change] = []
    wanted = {e.uid: e for e in planned}
    for uid, event in wanted.items():
        old = existing.get(uid)
        if old is None:
            changes.append(Change(CREATE, uid, person, event, sequence=0))
        elif uid in logged and old.owned and old.state == DONE:
            changes.append(Change(LOGGED, uid, person, event, old, old.sequence, logged[uid]))
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
        if old.state == DONE:
            if uid in logged:
                changes.append(Change(LOGGED, uid, person, None, old, old.sequence, logged[uid]))
            continue
        # What already happened is history, not ours to remove from someone's calendar.
        if keep_history and old.end is not None and old.end < today:
            continue
        if old.state == EDITED:
            # Someone cared enough to change it: it stays, even now the plan dropped it.
            changes.append(Change(CONFLICT, uid, person, None, old, old.sequence))
            continue
        changes.append(Change(DELETE, uid, person, None, old, old.sequence + 1))
    order = {action: index for index, action in enumerate(ACTIONS)}
    changes.sort(key=lambda c: (order[c.action], c.event.day if c.event else date.min, c.uid))
    return changes


def summarize(changes: list[Change]) -> dict[Action, int]:
    counts = dict.fromkeys(ACTIONS, 0)
    for change in changes:
        counts[change.action] += 1
    return counts
