"""CLI commands for the mail features; they register themselves on the main click group."""
from __future__ import annotations

from .cli import cli, common, _load  # noqa: F401
