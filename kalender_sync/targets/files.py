"""A person's calendar as one .ics file (to subscribe to or import), written atomically.

Each VEVENT is an item addressed by its UID; its version tag is a hash of its text. Writes
are collected and the whole file is written once, at flush(), with a VTIMEZONE for every
zone it uses and the events in a fixed order, so the same plan always gives the same bytes.
Events someone else put in the file are kept as they are.

The file is generated output: people subscribe to it and do not edit it, so edits are not
looked for (`others_can_edit`), and it keeps no history of its own (`keeps_history`): the
engine keeps the past stretch in it (core.history: what it holds of the last weeks stays
as written; older events go).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from datetime import timezone
from pathlib import Path
from typing import Sequence

from ..core.errors import TargetError
from ..core.fingerprint import HASH, content_hash
from ..core.planning import PlannedEvent, day_of
from ..storage import atomic
from .base import Capabilities, Item, Listed, Listing, PreconditionFailed, Version
from .icsindex import FolderIndex, digest
from .ical import item_from_event


def _etag(component) -> str:
    """A version tag for one VEVENT of the file. For ours: its UID, content hash, SEQUENCE and
    DTSTAMP, which change with every write of ours (and nobody else writes these files), so
    the event need not be serialised a second time just to be hashed. For someone else's
    event: a hash of its text."""
    if HASH in component:
        parts = [component["uid"], component[HASH], component.get("sequence", 0), component.get("dtstamp")]
        text = "\x1f".join(p.to_ical().decode() if hasattr(p, "to_ical") else str(p) for p in parts).encode()
    else:
        text = component.to_ical()
    return '"' + hashlib.sha256(text).hexdigest()[:32] + '"'


def parse_file(data: bytes, zones) -> tuple[dict[str, object], list]:
    """A file's VEVENTs by UID, and what else it holds that is not ours to remake: components
    other than VEVENT and VTIMEZONE (someone's VTODO), and VTIMEZONEs of zones the IANA
    database does not know. Our zones are made anew for the years the file needs."""
    from icalendar import Calendar   # not for files the index vouches for
    events, others = {}, []
    for component in Calendar.from_ical(data).subcomponents:
        if component.name == "VEVENT" and "uid" in component and str(component["uid"]) not in events:
            events[str(component["uid"])] = component
        elif component.name != "VTIMEZONE" or not zones.knows(str(component.get("tzid", ""))):
            others.append(component)
    return events, others


def read_items(data: bytes, zones=None) -> dict[str, Item]:
    """What parsing a file gives, by href (its UIDs): the truth the index stands in for."""
    from ..core.timezones import VTimezones
    events, _ = parse_file(data, zones or VTimezones())
    return {uid: item_from_event(uid, _etag(event), event) for uid, event in events.items()}


class IcsFileTarget:
    capabilities = Capabilities(incremental=False, others_can_edit=False, keeps_history=False, batched=True)

    def __init__(self, path: Path, *, name: str, lang: str, zones, index: FolderIndex | None = None):
        """`index`: the folder's index, shared by all files of that folder (None: no index)."""
        self.path = path
        self.name = name
        self.lang = lang
        self.zones = zones
        self.index = index
        self._data: bytes | None = None
        self._read = False
        self._items: dict[str, Item] | None = None
        self._events: dict[str, object] | None = None    # uid -> VEVENT, once the file is parsed
        self._others: list = []                          # what else it holds (see parse_file)
        self._pending: dict[str, object] = {}            # uid -> VEVENT written this run
        self._changed = False

    @classmethod
    def open(cls, calendar, person, context) -> "IcsFileTarget":
        path = context.path(calendar.location.replace("{person}", person.id))
        return cls(path, name=f"{context.team_name} — {person.name}", lang=person.language, zones=context.zones,
                   index=context.folder_index(path.parent))

    def identity(self) -> str:
        return "file:" + os.path.abspath(self.path)

    def describe(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self._data, self._read, self._items, self._events, self._others, self._pending = None, False, None, None, [], {}

    # -- reading ---------------------------------------------------------------------
    def _bytes(self) -> bytes | None:
        if not self._read:
            try:
                self._data = self.path.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                self._data = None    # nothing there yet; writing will say why if it cannot be created
            except OSError as exc:
                raise TargetError(f"cannot read {self.path}: {exc.strerror}") from exc
            self._read = True
        return self._data

    def _parse(self) -> None:
        """Read the file's components: only when the index has no entry for these bytes, or a
        rewrite needs an item the engine cannot encode again (someone else's)."""
        if self._events is not None:
            return
        self._events, self._others = {}, []
        data = self._bytes()
        if not data:
            return
        try:
            self._events, self._others = parse_file(data, self.zones)
        except ValueError as exc:
            raise TargetError(f"{self.path} is not a readable .ics file ({exc}); move it away "
                              "and export again") from exc

    def _load(self) -> dict[str, Item]:
        if self._items is None:
            data = self._bytes()
            sha256 = digest(data) if data and self.index is not None else None
            known = self.index.lookup(self.path.name, sha256) if sha256 is not None else None
            if known is None:
                self._parse()
                known = [item_from_event(uid, _etag(event), event) for uid, event in self._events.items()]
            if sha256 is not None:
                # A file holding more than VEVENTs is parsed every time rather than indexed:
                # the index knows events only, and a rewrite must keep the rest.
                self.index.record(self.path.name, sha256, known if not self._others else None)
            self._items = {item.href: item for item in known}
        return self._items

    def list(self, token: str | None) -> Listing:
        return Listing([Listed(i.href, i.etag) for i in self._load().values()], [], None, full=True)

    def read(self, hrefs: Sequence[str]) -> dict[str, Item | None]:
        items = self._load()
        return {href: items.get(href) for href in hrefs}

    def href_for(self, uid: str) -> str:
        return uid

    # -- writing (collected, then written whole by flush) ------------------------------
    def encode(self, event: PlannedEvent, version: Version) -> tuple[object, Item]:
        """The VEVENT, and the Item it will read back as (known here without reading it back)."""
        from ..core.render import build_event
        component = build_event(event, version.stamp, version.sequence, self.lang)
        written = content_hash(event)
        return component, Item(event.uid, _etag(component), event.uid, event.key, written, written,
                               version.sequence, version.stamp.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
                               day_of(event.end), event.title, event.start.isoformat())

    def _check(self, href: str, etag: str | None) -> None:
        item = self._load().get(href)
        if item is None or (etag is not None and item.etag != etag):
            raise PreconditionFailed(f"{self.path}: {href} is not the version assumed")

    def _put(self, href: str, body: tuple[object, Item]) -> str:
        component, item = body
        self._load()
        self._pending[href] = component
        self._items[href] = replace(item, href=href)
        self._changed = True
        return item.etag

    def create(self, href: str, body) -> str | None:
        if href in self._load():
            raise PreconditionFailed(f"{self.path}: an event with UID {href} is there already")
        return self._put(href, body)

    def update(self, href: str, body, etag: str | None) -> str | None:
        self._check(href, etag)
        return self._put(href, body)

    def delete(self, href: str, etag: str | None) -> bool:
        if href not in self._load():
            return False
        self._check(href, etag)
        del self._items[href]
        self._pending.pop(href, None)
        self._changed = True
        return True

    def flush(self, unchanged=None) -> bool:
        """Write the file if it changed (or does not exist yet); True if bytes were written.

        Every event it keeps comes from what was written this run, from the engine
        (`unchanged`: ours, kept, encoded again as it is), or else from parsing the file.
        """
        if not self._changed and self._bytes() is not None:
            return False
        from ..core.render import compose
        items = self._load()
        events = {}
        for href in items:
            component = self._pending.get(href)
            if component is None and self._events is not None:
                component = self._events.get(href)
            if component is None and unchanged is not None:
                body = unchanged(href)
                component = body[0] if body is not None else None
            if component is None:
                self._parse()
                component = self._events[href]
            events[href] = component
        data = compose(list(events.values()), self.zones, self.name, "PUBLISH", others=self._others)
        written = data != self._bytes()
        if written:
            try:
                atomic.write_atomically(self.path, data, make_parents=True)
            except OSError as exc:
                raise TargetError(f"cannot write {self.path}: {exc.strerror}") from exc
            self._data = data
        self._changed = False
        if self.index is not None:
            self.index.record(self.path.name, digest(data), list(items.values()) if not self._others else None)
        # The components are written; a team of thousands need not keep them all until the
        # run ends. Anything asked of this file from now on is read from what was written.
        self._events, self._pending = None, {}
        return written
