"""Replacing a file so that readers see the old one or the new one, never half of one."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, *, mode: int = 0o644, make_parents: bool = False,
                     before_replace=None) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, rename it over `path`.

    `mode` is set before the rename, so a private file (0600) is never readable by others,
    not even for a moment. `before_replace()` runs just before the rename and may raise to
    abort (e.g. when someone changed the file meanwhile). Raises OSError.
    """
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):   # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextlib.contextmanager
def held(path: Path, refused, *, folder: bool = False):
    """An exclusive flock on `path` for the block: a folder, or a lock file (made if missing) for
    what is replaced by rename and so cannot carry a lock itself. Serializes read-modify-write
    between processes and threads alike (each call opens its own file description). No flock
    (not POSIX): no lock. `refused(OSError)` gives the error to raise when `path` cannot be opened."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no locking
        yield
        return
    try:
        fd = os.open(path, os.O_RDONLY) if folder else os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise refused(exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)                 # closing releases the lock
