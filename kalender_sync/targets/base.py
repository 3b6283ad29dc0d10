"""The one small interface every calendar target implements.

A target is one person's calendar somewhere: a CalDAV collection, an .ics file, a folder
of .ics files, a dict in memory for tests, later a Microsoft Graph or Google Calendar API
calendar. The engine (engine/sync.py) only ever does this with it:

    list(token)        what is there: hrefs with version tags (ETags), all of it or what
                       changed since `token` (capabilities.incremental)
    read(hrefs)        the items at those hrefs, read back by the target from its own
                       format into `Item` (the engine never parses iCalendar or JSON)
    encode(event, …)   a planned event in the target's own format (may run on another thread)
    create / update / delete   conditional writes: create only where nothing is; update and
                       delete only if the version tag is still the one given, else
                       PreconditionFailed — never a blind overwrite
    flush(unchanged)   for targets that write in one go (a whole file): write now

A new target implements this and passes tests/contract (run for every registered kind).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Protocol, Sequence

from ..core.errors import TargetError
from ..core.planning import PlannedEvent


class PreconditionFailed(TargetError):
    """The item is not in the state the write assumed: something is there already (create),
    its version tag moved on (update, delete), or another item holds its UID."""


class Transient(TargetError):
    """A failure worth retrying: 5xx, timeout, connection reset, a file busy."""


class Refused(TargetError):
    """401/403 or no permission: wrong credentials or no access. Retrying will not help."""


class InvalidSyncToken(TargetError):
    """The token from the last run is no longer accepted; list everything instead."""


@dataclass(frozen=True)
class Capabilities:
    # list(token) returns only what changed since the token (RFC 6578 sync-collection).
    incremental: bool = False
    # People change items with their own calendar apps: an edit is detected and kept, a
    # deletion is remembered and not undone. False for files we generate for subscription.
    others_can_edit: bool = True
    # Events that ended stay: a calendar is the person's record of what they did. False:
    # the target holds the planned window and the past stretch only (a generated file:
    # core.history), older events go.
    keeps_history: bool = True
    # Writes are collected and take effect at flush() (one whole file).
    batched: bool = False
    # Every request waits for a server: such calendars are synced side by side (sync --jobs).
    # A local one (a file, a folder) is quick, and shares the run's folder indexes: one at a time.
    remote: bool = False


@dataclass(frozen=True)
class Listed:
    href: str
    etag: str | None


@dataclass(frozen=True)
class Listing:
    items: list[Listed]          # everything there (full) or what changed since the token
    deleted: list[str]           # hrefs gone since the token (incremental listings only)
    token: str | None            # pass to the next list() to get only what changes after this
    full: bool                   # True: `items` is everything (what is not listed is not there)


@dataclass(frozen=True)
class Item:
    """One item as its target holds it, in the engine's words."""

    href: str
    etag: str | None
    uid: str | None              # None: not an event (or unreadable); never ours
    key: str | None = None       # our ownership marker, if it carries one
    written_hash: str | None = None   # the content hash we wrote into it, if any
    seen_hash: str | None = None      # the same fingerprint over what it holds now
    sequence: int = 0
    stamp: str = ""              # its DTSTAMP (UTC, basic format), for the record
    end: date | None = None      # the day it ends (exclusive end's date), for history
    title: str = ""
    start: str | None = None     # its start as ISO date or date-time: where a person moved it


@dataclass(frozen=True)
class Version:
    """What a write stamps on an event: the SEQUENCE clients compare, and the DTSTAMP."""

    sequence: int
    stamp: datetime


class CalendarTarget(Protocol):
    capabilities: Capabilities

    def identity(self) -> str:
        """Stable, without secrets: the status database's name for this calendar."""

    def describe(self) -> str:
        """Where this is, for messages (never containing secrets)."""

    def list(self, token: str | None) -> Listing:
        """All items (token None) or what changed since `token`. Raises InvalidSyncToken."""

    def read(self, hrefs: Sequence[str]) -> dict[str, Item | None]:
        """The items at these hrefs; None for an href where nothing (readable) is."""

    def href_for(self, uid: str) -> str:
        """Where a new event with this UID is created."""

    def encode(self, event: PlannedEvent, version: Version) -> object:
        """The event in this target's format. Pure: may run on another thread."""

    def create(self, href: str, body: object) -> str | None:
        """Create where nothing is; returns the new version tag. PreconditionFailed if taken."""

    def update(self, href: str, body: object, etag: str | None) -> str | None:
        """Replace the item if its version tag is still `etag`; returns the new tag."""

    def delete(self, href: str, etag: str | None) -> bool:
        """Remove the item if its version tag is still `etag`; False if it was already gone."""

    def flush(self, unchanged: Callable[[str], object | None] | None = None) -> bool:
        """Make batched writes take effect; True if anything was written.

        A batched target rewrites itself whole; `unchanged(href)` gives the body of an item
        the engine planned and kept (encoded as it is there: same SEQUENCE and DTSTAMP), so
        the target need not read it back; None for an item the engine does not know.
        """

    def close(self) -> None:
        """Let go of connections and files."""
