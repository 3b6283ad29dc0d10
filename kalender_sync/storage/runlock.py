"""One run at a time on a status database: a lock file next to it, held for the whole run.

Two `sync` (or `purge`) runs on the same status database must not interleave: both would
plan from the same records and write the same events twice. The lock is `fcntl.flock` on
``<state>.lock``. The kernel drops a flock when its holder dies, kill -9 included, so a
lock file left behind never blocks anyone and nobody has to guess whether a PID is still
alive; the file itself is never removed (see `_open`).

``--shard I/N`` runs split the people between parallel processes on purpose and share one
status database: each holds ``<state>.lock`` shared and ``<state>.shard-I-of-N.lock``
exclusively. Shards run side by side; two runs of the same shard, or a whole run and any
shard, do not.

The holder writes who it is (pid, host, command, start time) into the file it holds
exclusively, so the run that has to give up can name it.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from ..core.errors import EXIT_FAILURE, KalenderSyncError, UsageError

try:
    import fcntl
except ImportError:  # Windows: no flock; the tool runs on Linux and macOS
    fcntl = None

# Holder descriptions shown when shard runs hold the lock; a --shard 1/200 setup should not
# print two hundred of them.
_SHOWN_SHARDS = 8
_HOLDER_BYTES = 64 * 1024


class AlreadyRunning(KalenderSyncError):
    """Another run holds the status database's lock and did not finish within --wait."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, lock_file: Path, holders: list[dict], waited: float):
        super().__init__(message)
        self.lock_file = lock_file
        self.holders = holders    # what the running ones wrote about themselves; empty when unknown
        self.waited = waited


def lock_file_for(state_path: Path) -> Path:
    """The lock file of a status database: ``.kalender-sync-state.sqlite.lock`` beside it."""
    state_path = Path(state_path)
    return state_path.with_name(state_path.name + ".lock")


def shard_lock_file_for(state_path: Path, shard: tuple[int, int]) -> Path:
    state_path = Path(state_path)
    index, total = shard
    return state_path.with_name(f"{state_path.name}.shard-{index}-of-{total}.lock")


@contextmanager
def run_lock(state_path: Path, *, shard: tuple[int, int] | None = None, wait: float = 60.0,
             command: str = "sync", poll: float = 0.2):
    """Held for the whole run by sync and purge.

    Tries every `poll` seconds for up to `wait` seconds (0: once), then raises
    AlreadyRunning naming the run that holds it. Yields the lock file that names this run.
    """
    if fcntl is None:
        raise KalenderSyncError("running one kalender-sync at a time needs fcntl.flock (Linux, macOS); "
                                "this platform has none, so sync and purge are not supported here")
    if wait < 0:
        raise UsageError(f"--wait must be 0 or more seconds (got: {wait:g})")
    if poll <= 0:
        raise ValueError(f"poll must be more than 0 seconds (got: {poll})")
    if shard is not None and not 1 <= shard[0] <= shard[1]:
        raise ValueError(f"shard must be I/N with 1 <= I <= N (got: {shard[0]}/{shard[1]})")
    main_file = lock_file_for(state_path)
    shard_file = shard_lock_file_for(state_path, shard) if shard is not None else None
    try:
        main_file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KalenderSyncError(f"cannot create the folder for the lock file {main_file}: "
                                f"{exc.strerror or exc}") from None
    main_fd = _open(main_file)
    shard_fd = None
    try:
        if shard_file is not None:
            shard_fd = _open(shard_file)
        deadline = time.monotonic() + wait
        while True:
            blocked_by = _attempt(main_fd, shard_fd, main_file, shard_file)
            if blocked_by is None:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _already_running(blocked_by, main_fd, shard_fd, main_file, shard_file, wait)
            time.sleep(min(poll, remaining))
        own_fd, own_file = (main_fd, main_file) if shard_fd is None else (shard_fd, shard_file)
        _write_holder(own_fd, command, shard)
        try:
            yield own_file
        finally:
            # An empty file is what a finished run leaves: nobody reads a stale name from it.
            with contextlib.suppress(OSError):
                os.ftruncate(own_fd, 0)
    finally:
        # Unlock before closing: a child forked meanwhile shares the open file description
        # and would otherwise keep the lock for as long as it lives.
        for fd in (shard_fd, main_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)


def _open(path: Path) -> int:
    """Open (or create, 0600) without truncating: another run may hold it and its name is in it.

    The file is never deleted, not even by its holder: a run that opened the old file just
    before the delete would lock that orphan while a third run locks a new file of the same
    name, and both would run. Python's descriptors are not inherited across exec, so a
    process the run starts cannot keep the lock alive after the run died.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise KalenderSyncError(f"cannot open the lock file {path}: {exc.strerror or exc}") from None
    # A file made by an older run (or by hand) with a wider mode: it names a host and a pid.
    with contextlib.suppress(OSError):
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    return fd


def _flock(fd: int, operation: int, path: Path) -> bool:
    """One non-blocking attempt; False when someone else holds a conflicting lock."""
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:   # e.g. ENOLCK on a network file system without lock support
        raise KalenderSyncError(f"cannot lock {path}: {exc.strerror or exc}") from None
    return True


def _attempt(main_fd: int, shard_fd: int | None, main_file: Path, shard_file: Path | None) -> Path | None:
    """Take every lock this run needs, or none of them; returns the file that was busy."""
    if shard_fd is None:
        return None if _flock(main_fd, fcntl.LOCK_EX, main_file) else main_file
    if not _flock(main_fd, fcntl.LOCK_SH, main_file):
        return main_file
    if not _flock(shard_fd, fcntl.LOCK_EX, shard_file):
        # Holding nothing while waiting: a waiting shard must not keep a whole run out.
        fcntl.flock(main_fd, fcntl.LOCK_UN)
        return shard_file
    return None


def _write_holder(fd: int, command: str, shard: tuple[int, int] | None) -> None:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "shard": f"{shard[0]}/{shard[1]}" if shard is not None else None,
    }
    data = (json.dumps(holder) + "\n").encode("utf-8")
    # Only the lock matters for correctness; a full disk must not stop the run here
    # (the run's own writes will report it).
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)


def _read_holder(fd: int) -> dict | None:
    """What the holder wrote about itself; None when the file is empty or not ours."""
    try:
        holder = json.loads(os.pread(fd, _HOLDER_BYTES, 0).decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(holder, dict) or not isinstance(holder.get("pid"), int) or isinstance(holder["pid"], bool):
        return None
    return holder


def _describe(holder: dict) -> str:
    """``pid 4242 on host x, started 2026-12-02 07:12:03 UTC``"""
    parts = [f"pid {holder['pid']}"]
    if isinstance(holder.get("host"), str) and holder["host"]:
        parts[0] += f" on host {holder['host']}"
    started = holder.get("started")
    if isinstance(started, str) and started:
        try:
            moment = datetime.fromisoformat(started).astimezone(timezone.utc)
            parts.append(f"started {moment:%Y-%m-%d %H:%M:%S} UTC")
        except ValueError:
            parts.append(f"started {started}")
    return ", ".join(parts)


def _what(holder: dict) -> str:
    """``kalender-sync sync`` or ``kalender-sync sync --shard 2/4``"""
    command = holder.get("command") if isinstance(holder.get("command"), str) and holder.get("command") else "run"
    shard = holder.get("shard")
    return f"kalender-sync {command}" + (f" --shard {shard}" if isinstance(shard, str) and shard else "")


def _held_shards(main_file: Path) -> list[tuple[Path, dict | None]]:
    """The shard lock files someone holds now, with what their holders wrote."""
    prefix, suffix = main_file.name[:-len(".lock")] + ".shard-", ".lock"
    try:
        candidates = sorted(p for p in main_file.parent.iterdir()
                            if p.name.startswith(prefix) and p.name.endswith(suffix) and "-of-" in p.name)
    except OSError:
        return []
    held = []
    for path in candidates:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            # A shared probe, dropped at once: only a shard starting in this instant notices
            # it, and that one tries again at its next poll.
            if _flock(fd, fcntl.LOCK_SH, path):
                fcntl.flock(fd, fcntl.LOCK_UN)
            else:
                held.append((path, _read_holder(fd)))
        except KalenderSyncError:
            continue
        finally:
            os.close(fd)
    return held


def _already_running(blocked_by: Path, main_fd: int, shard_fd: int | None, main_file: Path,
                     shard_file: Path | None, wait: float) -> AlreadyRunning:
    waited = f"Waited {wait:g} s." if wait > 0 else "Tried once, without waiting."
    shown = blocked_by.absolute()
    if blocked_by == main_file and shard_fd is None and _flock(main_fd, fcntl.LOCK_SH, main_file):
        # A shared lock was free: the holders are --shard runs, which write their names into
        # their own shard files (the main file may still name a whole run killed long ago).
        fcntl.flock(main_fd, fcntl.LOCK_UN)
        shards = _held_shards(main_file)
        holders = [h for _, h in shards if h is not None]
        if shards:
            listed = "; ".join(f"shard {_shard_name(path)} ({_describe(h) if h else 'did not say who it is'})"
                               for path, h in shards[:_SHOWN_SHARDS])
            more = f"; and {len(shards) - _SHOWN_SHARDS} more" if len(shards) > _SHOWN_SHARDS else ""
            lead = f"kalender-sync --shard runs are running on this status database: {listed}{more}"
        else:
            lead = ("kalender-sync --shard runs are running on this status database (they do not say who "
                    "they are in this file, and none of their shard lock files names them)")
        message = (f"{lead}; they hold {shown} shared. {waited} "
                   "Run again when they have finished (or pass --wait SECONDS)")
        return AlreadyRunning(message, lock_file=blocked_by, holders=holders, waited=wait)
    holder = _read_holder(shard_fd if blocked_by == shard_file else main_fd)
    if holder is None:
        lead = ("another kalender-sync run is running on this status database (it did not say who it is: "
                "its lock file is empty or unreadable)")
    else:
        lead = f"another {_what(holder)} is running on this status database ({_describe(holder)})"
    message = f"{lead}; it holds {shown}. {waited} Run again when it has finished (or pass --wait SECONDS)"
    return AlreadyRunning(message, lock_file=blocked_by, holders=[holder] if holder else [], waited=wait)


def _shard_name(path: Path) -> str:
    """``2/4`` from ``….shard-2-of-4.lock``"""
    middle = path.name.rsplit(".shard-", 1)[-1][:-len(".lock")]
    return middle.replace("-of-", "/")
