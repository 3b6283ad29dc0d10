"""vdirsyncer, in its own virtual environment, as the reference sync tool.

vdirsyncer's dependencies (aiohttp, click pins) conflict with ours, so it lives in a
separate venv: VDIRSYNCER_VENV (default /tmp/vdir-venv), created on first use with

    python3 -m venv /tmp/vdir-venv && /tmp/vdir-venv/bin/pip install vdirsyncer==0.21.0

One pair per measurement: a filesystem storage (a folder of .ics files, one event each)
-> a caldav storage (the calendar URL), `collections = null` (the URLs are the
collections), `conflict_resolution = "a wins"`. `vdirsyncer discover` runs first (not
timed, stdin closed so it cannot ask anything), then `vdirsyncer sync` is timed as a
whole process, because that is how people run it.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

VERSION = "0.21.0"
VENV = Path(os.environ.get("VDIRSYNCER_VENV", "/tmp/vdir-venv"))
TIMEOUT = 600


def executable() -> Path:
    return VENV / "bin" / "vdirsyncer"


def ensure(log=print) -> str:
    """Create the venv if needed; returns vdirsyncer's version."""
    exe = executable()
    if not exe.exists():
        log(f"installing vdirsyncer=={VERSION} into {VENV} (one time) ...")
        python = "python3" if sys.prefix == sys.base_prefix else os.path.join(sys.base_prefix, "bin", "python3")
        subprocess.run([python, "-m", "venv", str(VENV)], check=True, timeout=TIMEOUT)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", f"vdirsyncer=={VERSION}"], check=True,
                       timeout=TIMEOUT)
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip().rsplit(" ", 1)[-1]


def startup_seconds(repeat: int = 3) -> float:
    """Wall time of `vdirsyncer --version`: the interpreter and import cost of any run."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([str(executable()), "--version"], capture_output=True, timeout=60, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def write_config(workdir: Path, ics_dir: Path, calendar_url: str, username: str, password: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "vdirsyncer.conf"
    config.write_text(f"""[general]
status_path = "{workdir / 'status'}/"

[pair bench]
a = "bench_local"
b = "bench_remote"
collections = null
conflict_resolution = "a wins"

[storage bench_local]
type = "filesystem"
path = "{ics_dir}/"
fileext = ".ics"

[storage bench_remote]
type = "caldav"
url = "{calendar_url}"
username = "{username}"
password = "{password}"
""", encoding="utf-8")
    return config


def _run(config: Path, *args: str) -> tuple[float, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    env["HOME"] = str(config.parent)      # never read a developer's own ~/.config/vdirsyncer
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(executable()), "-c", str(config), *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RuntimeError(f"vdirsyncer {' '.join(args)} took longer than {TIMEOUT} s") from None
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"vdirsyncer {' '.join(args)} exited {proc.returncode}:\n{out.decode()[-3000:]}")
    return seconds, {"output_tail": out.decode(errors="replace")[-500:]}


def discover(config: Path) -> float:
    return _run(config, "discover")[0]


def sync(config: Path) -> float:
    return _run(config, "sync")[0]


def child_rusage() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
