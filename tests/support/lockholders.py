"""Child processes that hold the run lock (storage.runlock) as a running sync does: the tests of
one run at a time (tests/unit/test_runlock.py, tests/cli/test_one_run_at_a_time.py) need a real
second process, since flock is held per open file and released by the kernel when a process dies."""
from __future__ import annotations

import select
import subprocess
import sys
import textwrap
from contextlib import contextmanager

import pytest

START_TIMEOUT = 30.0   # seconds for a child to import the tool and take its lock

# Holds run_lock until its stdin closes (or for a number of seconds), then exits normally.
# argv: state path, shard ("-" or "k/n"), command, "stdin" or seconds.
HOLDER = textwrap.dedent("""\
    import sys, time
    from pathlib import Path
    from kalender_sync.storage.runlock import run_lock
    state, shard, command, hold = sys.argv[1:5]
    shard = tuple(int(x) for x in shard.split("/")) if shard != "-" else None
    with run_lock(Path(state), shard=shard, command=command, wait=10):
        print("held", flush=True)
        if hold == "stdin":
            sys.stdin.readline()
        else:
            time.sleep(float(hold))
    print("released", flush=True)
    """)


@contextmanager
def lock_holders():
    """`start(*python_argv)` starts a child and returns once it printed "held" (or fails the
    test with the child's stderr); every child still running is killed at the end."""
    started: list[subprocess.Popen] = []

    def start(*argv: str) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        started.append(child)
        ready, _, _ = select.select([child.stdout], [], [], START_TIMEOUT)
        line = child.stdout.readline() if ready else b""
        if line.strip() != b"held":
            child.kill()
            _, err = child.communicate(timeout=10)
            pytest.fail(f"the holder did not take its lock: {line!r} {err.decode(errors='replace')}")
        return child

    try:
        yield start
    finally:
        for child in started:
            if child.poll() is None:
                child.kill()
            child.communicate(timeout=10)
