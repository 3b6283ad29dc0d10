"""Which target class serves a calendar of each kind, and what opening one needs.

The kinds themselves (the config key, how its location is written, whether it takes
credentials, and the class that serves it by name) are one table in the config schema
(core.schema.CALENDAR_KINDS), so that reading the config never imports a target: a target
module, with the libraries it needs, is imported only when a calendar of its kind is opened.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import UsageError
from ..core.model import Calendar, Person
from ..core.timezones import VTimezones
from .base import CalendarTarget
from .network import NETWORK_TIMEOUT, RequestLog, RetryPolicy


def _kinds() -> dict[str, str]:
    from ..core import schema
    return {key: kind.target for key, kind in schema.CALENDAR_KINDS.items()}


def target_class(kind: str) -> type:
    module_name, _, class_name = _kinds()[kind].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


@dataclass
class TargetContext:
    """What a run hands every target it opens: shared caches, the network policy, secrets."""

    config_dir: Path
    team_name: str
    zones: VTimezones = field(default_factory=VTimezones)
    log: RequestLog = field(default_factory=RequestLog)
    retry: RetryPolicy | None = None
    timeout: float = NETWORK_TIMEOUT
    # Calendars synced side by side (sync --jobs); the busy-time reads use the same workers.
    jobs: int = 1
    _indexes: dict = field(default_factory=dict)
    _connections: object = None
    _pool: object = None

    def connections(self):
        """The run's keep-alive HTTP connections: one per worker thread and server."""
        if self._connections is None:
            from .connections import Connections
            self._connections = Connections(self.timeout)
        return self._connections

    def pool(self):
        """The run's workers (`jobs` threads), made on first use; None when jobs is 1."""
        if self.jobs <= 1:
            return None
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="kalender-sync")
        return self._pool

    def release(self) -> None:
        """Close the connections and stop the workers (made again if the run goes on)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)   # after Ctrl-C: no calendar is started anew
            self._pool = None
        if self._connections is not None:
            self._connections.close()

    def path(self, template: str) -> Path:
        """A file or folder named in the config: relative to the config's folder."""
        return self.config_dir / template

    def folder_index(self, folder: Path):
        """The index of a folder of .ics files, one per folder for the whole run."""
        from .icsindex import FolderIndex
        key = os.path.normpath(os.path.abspath(folder))
        if key not in self._indexes:
            self._indexes[key] = FolderIndex(folder)
        return self._indexes[key]

    @staticmethod
    def password(calendar: Calendar, username: str | None) -> str | None:
        from ..storage.credentials import password_for
        return password_for(calendar, username)

    def finish(self, wrote: bool) -> None:
        """At the end of a run: keep what the folders' indexes learnt (only if files were written)."""
        if not wrote:
            return
        for index in self._indexes.values():
            try:
                index.save()
            except OSError:
                # The index is only a cache and every entry is checked against its file's
                # SHA-256: an old one left behind costs a parse next time, nothing more.
                pass


def open_target(calendar: Calendar, person: Person, context: TargetContext) -> CalendarTarget:
    if not calendar.writes:
        # The config refuses a read-only calendar as anyone's `calendar:`; a Team built in code
        # must not get one written either.
        raise UsageError(f"calendar '{calendar.id}' is read only ({calendar.kind}): no events can go there")
    return target_class(calendar.kind).open(calendar, person, context)
