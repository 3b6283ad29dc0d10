"""A vdir: a folder with one .ics file per event, as khal, vdirsyncer and todoman keep calendars.

Each file is an item; its name is the href, the SHA-256 of its bytes its version tag. People
edit these files with khal and the like, so edits are looked for and kept. Writes are
conditional on the tag read before (a file changed since is refused) and atomic (a reader
sees the old file or the new one). Two writers on the same file at the same instant are not
guarded against: vdirs are local, one sync at a time.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Sequence

from ..core.errors import TargetError
from ..core.planning import PlannedEvent
from ..core.timezones import VTimezones
from ..storage import atomic
from .base import Capabilities, Item, Listed, Listing, PreconditionFailed, Version
from .ical import read_item


class VdirTarget:
    capabilities = Capabilities(incremental=False, others_can_edit=True, keeps_history=True)

    def __init__(self, folder: Path, *, lang: str, zones: VTimezones):
        self.folder = folder
        self.lang = lang
        self.zones = zones
        self._uids: dict[str, str] | None = None     # href -> UID of what was read, for one UID per vdir

    @classmethod
    def open(cls, calendar, person, context) -> "VdirTarget":
        return cls(context.path(calendar.location.replace("{person}", person.id)), lang=person.language,
                   zones=context.zones)

    def identity(self) -> str:
        return "vdir:" + os.path.abspath(self.folder)

    def describe(self) -> str:
        return str(self.folder)

    def close(self) -> None:
        pass

    def _file(self, href: str) -> Path:
        if "/" in href or href.startswith("."):
            raise TargetError(f"{self.folder}: not an item of this folder: {href}")
        return self.folder / href

    def _tag(self, href: str) -> tuple[str, bytes] | None:
        try:
            data = self._file(href).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TargetError(f"cannot read {self._file(href)}: {exc.strerror}") from exc
        return '"' + hashlib.sha256(data).hexdigest()[:32] + '"', data

    def list(self, token: str | None) -> Listing:
        try:
            names = sorted(n for n in os.listdir(self.folder) if n.endswith(".ics") and not n.startswith("."))
        except FileNotFoundError:
            names = []
        except OSError as exc:
            raise TargetError(f"cannot read {self.folder}: {exc.strerror}") from exc
        items = []
        for name in names:
            tagged = self._tag(name)
            if tagged is not None:
                items.append(Listed(name, tagged[0]))
        return Listing(items, [], None, full=True)

    def read(self, hrefs: Sequence[str]) -> dict[str, Item | None]:
        result = {}
        for href in hrefs:
            tagged = self._tag(href)
            result[href] = read_item(href, *tagged) if tagged is not None else None
        return result

    def href_for(self, uid: str) -> str:
        return uid.split("@", 1)[0].replace("/", "_") + ".ics"

    def encode(self, event: PlannedEvent, version: Version) -> bytes:
        from ..core.render import render_object
        return render_object(event, version.stamp, version.sequence, self.lang, self.zones)

    def _holder(self, uid: str | None) -> str | None:
        if self._uids is None:
            hrefs = [i.href for i in self.list(None).items]
            self._uids = {h: item.uid for h, item in self.read(hrefs).items() if item is not None}
        return next((h for h, u in self._uids.items() if uid is not None and u == uid), None)

    def _write(self, href: str, body: bytes) -> str:
        try:
            atomic.write_atomically(self._file(href), body, make_parents=True)
        except OSError as exc:
            raise TargetError(f"cannot write {self._file(href)}: {exc.strerror}") from exc
        if self._uids is not None:
            item = read_item(href, None, body)
            self._uids[href] = item.uid if item is not None else None
        return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'

    def create(self, href: str, body: bytes) -> str | None:
        item = read_item(href, None, body)
        if self._tag(href) is not None or self._holder(item.uid if item else None) is not None:
            raise PreconditionFailed(f"{self._file(href)}: something is there already")
        return self._write(href, body)

    def update(self, href: str, body: bytes, etag: str | None) -> str | None:
        tagged = self._tag(href)
        if tagged is None or (etag is not None and tagged[0] != etag):
            raise PreconditionFailed(f"{self._file(href)}: not the version assumed")
        return self._write(href, body)

    def delete(self, href: str, etag: str | None) -> bool:
        tagged = self._tag(href)
        if tagged is None:
            return False
        if etag is not None and tagged[0] != etag:
            raise PreconditionFailed(f"{self._file(href)}: not the version assumed")
        try:
            self._file(href).unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise TargetError(f"cannot remove {self._file(href)}: {exc.strerror}") from exc
        if self._uids is not None:
            self._uids.pop(href, None)
        return True

    def flush(self, unchanged=None) -> bool:
        return False
