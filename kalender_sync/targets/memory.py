"""A calendar held in memory: the reference target for the engine's tests and the contract suite.

It behaves like a strict CalDAV server: conditional writes only, one UID per calendar,
incremental listing with sync tokens, version tags that change on every write. Tests play
"the other people" through `put_foreign`, `edit` and `remove`, and inject faults through
`faults`, which the engine meets exactly as it meets a failing server: a `Transient` error
either before the write happened, or after it took effect (the answer was lost).
"""
from __future__ import annotations

import itertools
from typing import Callable, Sequence

from ..core.planning import PlannedEvent
from ..core.timezones import VTimezones
from .base import (Capabilities, InvalidSyncToken, Item, Listed, Listing, PreconditionFailed, Transient,
                   Version)
from .ical import first_event, read_item

# faults(operation, href) -> "before" | "after" | None; operation: list, read, create, update, delete
FaultHook = Callable[[str, str], "str | None"]


class MemoryCalendar:
    def __init__(self, name: str = "memory", *, lang: str = "nl", capabilities: Capabilities | None = None,
                 faults: FaultHook | None = None, zones: VTimezones | None = None):
        self.name = name
        self.zones = zones if zones is not None else VTimezones()
        self.lang = lang
        self.capabilities = capabilities or Capabilities(incremental=True, others_can_edit=True, keeps_history=True,
                                                         remote=True)    # stands in for a server
        self.faults = faults
        self.items: dict[str, tuple[str, bytes]] = {}       # href -> (etag, body)
        self._versions = itertools.count(1)
        self._log: list[str] = []                           # hrefs in the order they changed
        self._uids: dict[str, str] = {}                     # href -> UID, for one UID per calendar
        self.writes = 0

    @classmethod
    def open(cls, calendar, person, context) -> "MemoryCalendar":
        return cls(calendar.location.replace("{person}", person.id), lang=person.language, zones=context.zones)

    def identity(self) -> str:
        return f"memory:{self.name}"

    def describe(self) -> str:
        return f"memory:{self.name}"

    def close(self) -> None:
        pass

    # -- the engine's side ---------------------------------------------------------
    def _fault(self, operation: str, href: str = "") -> str | None:
        when = self.faults(operation, href) if self.faults is not None else None
        if when == "before":
            raise Transient(f"{operation} {href}: injected fault")
        return when

    def list(self, token: str | None) -> Listing:
        self._fault("list")
        position = len(self._log)
        token_now = f"{self.identity()}#{position}"
        if token is None:
            return Listing([Listed(h, e) for h, (e, _) in sorted(self.items.items())], [], token_now, full=True)
        prefix, _, since = token.rpartition("#")
        if prefix != self.identity() or not since.isdigit() or int(since) > position:
            raise InvalidSyncToken(f"{self.describe()}: the sync token is no longer valid")
        changed = dict.fromkeys(self._log[int(since):])
        items = [Listed(h, self.items[h][0]) for h in changed if h in self.items]
        deleted = [h for h in changed if h not in self.items]
        return Listing(items, deleted, token_now, full=False)

    def read(self, hrefs: Sequence[str]) -> dict[str, Item | None]:
        for href in hrefs:
            self._fault("read", href)
        return {href: read_item(href, *self.items[href]) if href in self.items else None for href in hrefs}

    def href_for(self, uid: str) -> str:
        return f"{uid.split('@', 1)[0]}.ics"

    def encode(self, event: PlannedEvent, version: Version) -> bytes:
        from ..core.render import render_object
        return render_object(event, version.stamp, version.sequence, self.lang, self.zones)

    def create(self, href: str, body: bytes) -> str | None:
        when = self._fault("create", href)
        if href in self.items:
            raise PreconditionFailed(f"create {href}: something is there already")
        uid = _uid(body)
        if uid is not None and uid in self._uids.values():
            raise PreconditionFailed(f"create {href}: another item holds UID {uid}")
        return self._store(href, body, when)

    def update(self, href: str, body: bytes, etag: str | None) -> str | None:
        when = self._fault("update", href)
        if href not in self.items or (etag is not None and self.items[href][0] != etag):
            raise PreconditionFailed(f"update {href}: not the version assumed")
        return self._store(href, body, when)

    def delete(self, href: str, etag: str | None) -> bool:
        when = self._fault("delete", href)
        if href not in self.items:
            return False
        if etag is not None and self.items[href][0] != etag:
            raise PreconditionFailed(f"delete {href}: not the version assumed")
        self._drop(href)
        self.writes += 1
        if when == "after":
            raise Transient(f"delete {href}: injected fault after the write")
        return True

    def flush(self, unchanged=None) -> bool:
        return False

    def _store(self, href: str, body: bytes, when: str | None) -> str:
        etag = f'"{next(self._versions)}"'
        self.items[href] = (etag, bytes(body))
        self._uids[href] = _uid(body)
        self._log.append(href)
        self.writes += 1
        if when == "after":
            raise Transient(f"write {href}: injected fault after the write")
        return etag

    # -- what other people's calendar apps do ----------------------------------------
    def put_foreign(self, href: str, body: bytes) -> str:
        """Someone else's event, created with their own app."""
        return self._store(href, body, None)

    def edit(self, href: str, change: Callable[[bytes], bytes]) -> str:
        """Someone changes an event with their own app (new body, new version tag)."""
        return self._store(href, change(self.items[href][1]), None)

    def remove(self, href: str) -> None:
        """Someone deletes an event with their own app."""
        self._drop(href)

    def _drop(self, href: str) -> None:
        del self.items[href]
        self._uids.pop(href, None)
        self._log.append(href)

    def bodies(self) -> dict[str, bytes]:
        return {href: body for href, (_, body) in self.items.items()}


def _uid(body: bytes) -> str | None:
    event = first_event(body)
    return str(event["uid"]) if event is not None and "uid" in event else None
