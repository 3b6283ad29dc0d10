"""One run at a time on a status database: the lock file, with real second processes as holders.

flock locks belong to an open file description, so a second open in this very process is a
second holder too (checked below); the other holders here are child processes, as a running
sync would be.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kalender_sync.core.errors import EXIT_FAILURE, KalenderSyncError
from kalender_sync.storage.runlock import AlreadyRunning, lock_file_for, run_lock, shard_lock_file_for
from support.lockholders import HOLDER, lock_holders

# Takes the raw flock itself and writes `content` (maybe nothing): a holder that does not say
# who it is, as an older version or a run in the instant before it writes its name would.
RAW_HOLDER = textwrap.dedent("""\
    import fcntl, os, sys
    path, mode, content = sys.argv[1:4]
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX if mode == "ex" else fcntl.LOCK_SH)
    if mode == "ex":
        os.ftruncate(fd, 0)
        os.write(fd, content.encode())
    print("held", flush=True)
    sys.stdin.readline()
    """)


@pytest.fixture
def children():
    """Start child processes that hold a lock; every one still running is killed afterwards."""
    with lock_holders() as start:
        yield start


@pytest.fixture
def state(tmp_path) -> Path:
    return tmp_path / ".kalender-sync-state.sqlite"


def hold(children, state: Path, *, shard: str = "-", command: str = "sync", seconds: str = "stdin"):
    return children("-c", HOLDER, str(state), shard, command, seconds)


def finish(child: subprocess.Popen) -> bytes:
    """Let a HOLDER child leave its `with` block and exit normally."""
    out, err = child.communicate(b"\n", timeout=30)
    assert child.returncode == 0, err
    return out


def refused(state: Path, **kwargs) -> tuple[AlreadyRunning, float]:
    started = time.monotonic()
    with pytest.raises(AlreadyRunning) as caught:
        with run_lock(state, **kwargs):
            pytest.fail("got the lock while another run holds it")
    return caught.value, time.monotonic() - started


def test_a_second_whole_run_waits_then_names_the_running_one(children, state):
    first = hold(children, state, command="purge")
    error, elapsed = refused(state, wait=0.6, poll=0.1)
    assert 0.6 <= elapsed < 3.0
    message = str(error)
    assert message.startswith(f"another kalender-sync purge is running on this status database "
                              f"(pid {first.pid} on host {socket.gethostname()}, started 20")
    assert f" UTC); it holds {lock_file_for(state).absolute()}. Waited 0.6 s. " in message
    assert message.endswith("Run again when it has finished (or pass --wait SECONDS)")
    assert isinstance(error, KalenderSyncError) and error.exit_code == EXIT_FAILURE == 1
    assert error.holders[0]["pid"] == first.pid and error.lock_file == lock_file_for(state)
    # The waiting run tried again and again and never emptied the file: the name is still there.
    assert json.loads(lock_file_for(state).read_text())["pid"] == first.pid


def test_the_start_time_is_written_and_shown_in_utc(children, state):
    hold(children, state)
    error, _ = refused(state, wait=0)
    started = datetime.fromisoformat(json.loads(lock_file_for(state).read_text())["started"])
    assert started.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - started) < timedelta(minutes=2)
    assert f"started {started:%Y-%m-%d %H:%M:%S} UTC)" in str(error)


def test_wait_0_tries_once_and_fails_at_once(children, state):
    hold(children, state)
    error, elapsed = refused(state, wait=0, poll=1.0)
    assert elapsed < 0.5                       # not even one poll interval
    assert "Tried once, without waiting." in str(error)


def test_the_lock_is_free_again_after_the_holder_exits_normally(children, state):
    first = hold(children, state)
    refused(state, wait=0)
    assert finish(first).strip().endswith(b"released")
    assert lock_file_for(state).exists() and lock_file_for(state).read_bytes() == b""  # left behind, empty
    with run_lock(state, wait=0) as own:
        assert own == lock_file_for(state)
        assert json.loads(own.read_text())["pid"] == os.getpid()


def test_a_waiting_run_starts_when_the_running_one_finishes(children, state):
    hold(children, state, seconds="1.0")
    started = time.monotonic()
    with run_lock(state, wait=20, poll=0.05):
        elapsed = time.monotonic() - started
    assert 0.3 < elapsed < 15


def test_two_different_shards_run_side_by_side(children, state):
    first = hold(children, state, shard="1/2")
    second = hold(children, state, shard="2/2")      # would not have printed "held" if it waited
    assert first.poll() is None and second.poll() is None
    with run_lock(state, shard=(3, 4), wait=0) as own:  # and a third, of another split, here
        assert own == shard_lock_file_for(state, (3, 4))
    for child in (first, second):
        finish(child)


def test_two_runs_of_the_same_shard_do_not(children, state):
    first = hold(children, state, shard="2/3")
    error, _ = refused(state, shard=(2, 3), wait=0)
    assert str(error).startswith(f"another kalender-sync sync --shard 2/3 is running on this status database "
                                 f"(pid {first.pid} on host ")
    assert f"it holds {shard_lock_file_for(state, (2, 3)).absolute()}." in str(error)


def test_a_whole_run_waits_for_running_shards_and_names_them(children, state):
    # A whole run killed long ago left its name in the main file: it must not be named now.
    lock_file_for(state).write_text(json.dumps({"pid": 999999, "host": "old", "command": "sync",
                                                "started": "2020-01-01T00:00:00+00:00", "shard": None}))
    # So did a killed shard run of an earlier split, in its shard file: nobody holds that one.
    shard_lock_file_for(state, (3, 4)).write_text(json.dumps({"pid": 888888, "host": "old", "command": "sync",
                                                              "started": "2020-01-01T00:00:00+00:00",
                                                              "shard": "3/4"}))
    one = hold(children, state, shard="1/2")
    two = hold(children, state, shard="2/2")
    error, _ = refused(state, wait=0.3, poll=0.1)
    message = str(error)
    assert message.startswith("kalender-sync --shard runs are running on this status database: "
                              f"shard 1/2 (pid {one.pid} on host ")
    assert f"; shard 2/2 (pid {two.pid} on host " in message
    assert f"they hold {lock_file_for(state).absolute()} shared. Waited 0.3 s. " in message
    assert "999999" not in message and "888888" not in message and "3/4" not in message
    assert {h["pid"] for h in error.holders} == {one.pid, two.pid}


def test_a_shard_waits_for_a_whole_run(children, state):
    whole = hold(children, state)
    error, _ = refused(state, shard=(1, 2), wait=0)
    assert str(error).startswith(f"another kalender-sync sync is running on this status database (pid {whole.pid} ")
    assert f"it holds {lock_file_for(state).absolute()}." in str(error)
    finish(whole)
    with run_lock(state, shard=(1, 2), wait=0):
        pass


def test_a_holder_killed_with_sigkill_leaves_its_file_but_never_blocks(children, state):
    victim = hold(children, state)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    assert victim.returncode == -signal.SIGKILL
    assert json.loads(lock_file_for(state).read_text())["pid"] == victim.pid    # stale, left behind
    started = time.monotonic()
    with run_lock(state, wait=5):
        elapsed = time.monotonic() - started
        assert json.loads(lock_file_for(state).read_text())["pid"] == os.getpid()
    assert elapsed < 1.0


@pytest.mark.parametrize("content", ["", "not json at all\n", '{"pid": "x"}', "[1, 2]"])
def test_a_holder_that_does_not_say_who_it_is(children, state, content):
    children("-c", RAW_HOLDER, str(lock_file_for(state)), "ex", content)
    error, _ = refused(state, wait=0)
    assert str(error) == ("another kalender-sync run is running on this status database (it did not say who it "
                          f"is: its lock file is empty or unreadable); it holds {lock_file_for(state).absolute()}. "
                          "Tried once, without waiting. Run again when it has finished (or pass --wait SECONDS)")
    assert error.holders == []


def test_shared_holders_without_shard_files_are_reported_without_a_name(children, state):
    children("-c", RAW_HOLDER, str(lock_file_for(state)), "sh", "")
    error, _ = refused(state, wait=0)
    assert str(error).startswith("kalender-sync --shard runs are running on this status database (they do not "
                                 "say who they are in this file, and none of their shard lock files names them); "
                                 f"they hold {lock_file_for(state).absolute()} shared.")


def test_a_second_open_in_the_same_process_is_a_second_holder(state):
    """flock is per open file description: a nested run_lock in one process conflicts too."""
    with run_lock(state, command="purge"):
        error, _ = refused(state, wait=0)
        assert f"another kalender-sync purge is running on this status database (pid {os.getpid()} " in str(error)
    with run_lock(state, wait=0):
        pass


def test_the_lock_file_is_private_and_its_folder_is_made(tmp_path):
    state = tmp_path / "not" / "yet" / "state.sqlite"
    with run_lock(state, wait=0) as own:
        assert own == tmp_path / "not" / "yet" / "state.sqlite.lock"
        assert own.stat().st_mode & 0o777 == 0o600
        holder = json.loads(own.read_text())
        assert holder["command"] == "sync" and holder["host"] == socket.gethostname() and holder["shard"] is None
    wide = tmp_path / "old.sqlite.lock"
    wide.write_text("")
    wide.chmod(0o644)
    with run_lock(tmp_path / "old.sqlite", shard=(1, 2), wait=0) as own:
        assert wide.stat().st_mode & 0o777 == 0o600 and own.stat().st_mode & 0o777 == 0o600
        assert json.loads(own.read_text())["shard"] == "1/2"
        assert wide.read_text() == ""            # held shared only: never written


def test_a_negative_wait_is_a_usage_error(state):
    with pytest.raises(KalenderSyncError) as caught:
        with run_lock(state, wait=-1):
            pass
    assert caught.value.exit_code == 2 and "--wait must be 0 or more seconds" in str(caught.value)
