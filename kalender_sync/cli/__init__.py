"""The command line: thin. Library errors become messages and exit codes here, once.

Each command group lives in a module of its own and is imported only when it is run (or
listed by --help): `kalender-sync --version` imports no command, and `sync` does not pay
for the feed server or the report. The shared options live in `options`, which imports no
command module, so nothing here can form an import cycle.
"""
from __future__ import annotations

import importlib
import os
import sys

import click

from .. import __version__
from ..core.errors import EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL, KalenderSyncError

# name -> "module:attribute" (module relative to this package)
COMMANDS = {
    "check": "calendars:check",
    "plan": "calendars:plan_command",
    "export": "calendars:export",
    "sync": "calendars:sync",
    "purge": "calendars:purge",
    "log": "contacts:log_command",
    "import": "contacts:import_command",
    "report": "report:report_command",
    "invite": "invite:invite",
    "serve": "feeds:serve",
    "feeds": "feeds:feeds",
    "feed-token": "feeds:feed_token",
    "coach-password": "feeds:coach_password",
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use (click's documented pattern)."""

    def __init__(self, *args, lazy: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module_name, attribute = self.lazy[name].split(":")
            module = importlib.import_module(f"{__name__}.{module_name}")
            return getattr(module, attribute)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kalender-sync")
def cli():
    """Turn a team's networking agreements into events in everyone's own calendar."""


def main(argv: list[str] | None = None) -> int:
    """Run one command; every error ends here as a message and an exit code."""
    try:
        cli.main(args=argv, prog_name="kalender-sync", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_FAILURE
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KalenderSyncError as exc:
        click.echo(f"error: {exc}" if "\n" not in str(exc) else f"error: {exc.args[0]}:\n{exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted; run the same command again to continue", err=True)
        return EXIT_PARTIAL
    except Exception as exc:  # a bug: say so plainly; the traceback only on request
        if os.environ.get("KALENDER_SYNC_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (set KALENDER_SYNC_DEBUG=1 for a traceback)",
                   err=True)
        return EXIT_FAILURE
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
