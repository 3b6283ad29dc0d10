"""Running the real command line: in this process, or as ``python -m kalender_sync``.

:func:`run_in_process` calls ``kalender_sync.cli.main(argv)`` -- the function the entry
point calls -- with what a child process would have of its own: its own stdin (empty),
stdout and stderr (UTF-8, read back with universal newlines as ``text=True`` does), its
own environment changes and working folder (both restored afterwards), Python's default
warning filters with warnings printed to its stderr, and an uncaught exception printed as
a traceback with exit code 1.  It returns the same fields as a ``CompletedProcess``, so a
test can switch between the two without touching its assertions.

:func:`run_process` is the real entry point, with a timeout.
"""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CLI_TIMEOUT = 120.0  # seconds; a hung child fails the test instead of the run


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def _child_env(env: Mapping[str, str | None] | None) -> dict[str, str]:
    child = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            child.pop(name, None)
        else:
            child[name] = value
    return child


def run_process(*args: str, cwd: Path | None = None, env: Mapping[str, str | None] | None = None,
                timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    """``python -m kalender_sync args...``; ``env`` changes this environment (None removes)."""
    return subprocess.run([sys.executable, "-m", "kalender_sync", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, env=_child_env(env), timeout=timeout)


def _default_warning_filters() -> None:
    """The filters a fresh interpreter starts with (no -W, no PYTHONWARNINGS)."""
    warnings.resetwarnings()
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.simplefilter("ignore", category, append=True)


def _exit_code(exc: SystemExit) -> int:
    """What the interpreter makes of ``sys.exit(code)``."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _text(data: bytes) -> str:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="strict").read()


def run_in_process(*args: str, cwd: Path | None = None,
                   env: Mapping[str, str | None] | None = None) -> Result:
    """``kalender_sync.cli.main(args)`` here; ``env`` changes the environment (None removes)."""
    from click.testing import CliRunner

    from kalender_sync.cli import main

    runner = CliRunner()
    with contextlib.chdir(cwd or os.getcwd()), runner.isolation(env=env) as (stdout, stderr, _), \
            warnings.catch_warnings(record=True) as caught:
        _default_warning_filters()
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = _exit_code(exc)
        except Exception:
            traceback.print_exc()
            code = 1
        for warning in caught:
            sys.stderr.write(warnings.formatwarning(warning.message, warning.category, warning.filename,
                                                    warning.lineno, warning.line))
        sys.stdout.flush()
        sys.stderr.flush()
        out, err = stdout.getvalue(), stderr.getvalue()
    return Result(list(args), code, _text(out), _text(err))
