"""Contacts marked done in a calendar: the person retitles a reminder ("✓ Contact met Piet"),
the next sync logs the contact and plans the next reminder from it."""
from __future__ import annotations

from datetime import date
from pathlib import Path

# How a person says "done" in their own calendar app: a contact reminder whose title they
# change to start with one of these is logged as a contact on the next sync (README).
DONE_MARKERS = ("✓", "✔", "☑", "[x]", "done", "gedaan", "klaar")


def marked_done(summary: str) -> bool:
    text = summary.strip().casefold()
    return any(text.startswith(marker) for marker in DONE_MARKERS)


def log_completed(config_path: Path, team, entries, today: date) -> None:
    """Append the contacts found marked done to the contact log next to the config."""
    from ..features.logbook import append_contact
    for entry in entries:
        append_contact(config_path, team, entry.owner, entry.agreement, entry.on, note=entry.note, today=today)
