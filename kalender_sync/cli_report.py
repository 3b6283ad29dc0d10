"""CLI commands for the report features; they register themselves on the main click group."""
from __future__ import annotations

from .cli import cli, common, _load  # noqa: F401
