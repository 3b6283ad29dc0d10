"""The one small interface every target implements."""
from __future__ import annotations

from typing import Protocol

from ..core.diff import Change, Existing


class Target(Protocol):
    """One person's calendar somewhere."""

    def describe(self) -> str:
        """Where this is, for messages (never containing secrets)."""

    def existing(self) -> dict[str, Existing]:
        """The events there now, keyed by UID (foreign ones included, marked as not owned)."""

    def apply(self, changes: list[Change], rendered: dict[str, bytes]) -> None:
        """Carry out the changes; `rendered` holds the iCalendar text to write, per UID or whole."""
