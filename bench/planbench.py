"""Benchmark 4: planning at scale, each measurement in its own process.

A config from bench/genconfig.py (P people x 7 contacts + projects + sessions, .ics
calendars, one-year horizon) is measured in a fresh child process per step, so that
peak memory (ru_maxrss, read by the parent with os.wait4) belongs to that step alone:

  core        load the config + plan (the planning itself; nothing rendered or printed)
  plan-fresh  `kalender-sync plan --out EMPTY`     (the real CLI, stdout to /dev/null)
  export      `kalender-sync export --out DIR`     (writes P files)
  plan-noop   `kalender-sync plan --out DIR`       (after the export: nothing changed)
  export-noop `kalender-sync export --out DIR`     (again: no file may be written)

"No-op plan" for .ics targets means `plan --out DIR` after `export --out DIR` with the
same config and --today: every change is `keep`, so ideally nothing is rendered. The
child runs the real click command and wraps (times and counts, never changes) the
functions it calls: load_team, calendar_plan, the engine's sync_team, _show_plan,
Plan.for_person, files.parse_file, the engine's diff, render.compose and build_event
and render.build_event (one call = one VEVENT rendered).

Run as a child:  python bench/planbench.py child MODE CONFIG TODAY OUT RESULT.json
"""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = "2027-01-04"
MODES = ("core", "plan-fresh", "export", "plan-noop", "export-noop")


# -- child side ----------------------------------------------------------------------

class Meter:
    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.depth: dict[str, int] = defaultdict(int)

    def wrap(self, owner, name: str, label: str | None = None, after=None) -> bool:
        if not hasattr(owner, name):
            return False
        label = label or name
        original = getattr(owner, name)
        meter = self

        def timed(*args, **kwargs):
            meter.calls[label] += 1
            meter.depth[label] += 1
            t0 = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            finally:
                meter.depth[label] -= 1
                if meter.depth[label] == 0:     # recursion is not counted twice
                    meter.seconds[label] += time.perf_counter() - t0
            if after is not None:
                after(args, result)
            return result

        setattr(owner, name, timed)
        return True


def child(mode: str, config: str, today: str, out: str, result_path: str) -> None:
    t_start = time.perf_counter()
    meter = Meter()
    extra: dict = {}
    if mode == "core":
        from datetime import date
        from kalender_sync.cli.options import calendar_plan, load_team
        t_imported = time.perf_counter()
        t0 = time.perf_counter()
        team, _ = load_team(Path(config), date.fromisoformat(today))
        t1 = time.perf_counter()
        plan = calendar_plan(team, date.fromisoformat(today))
        t2 = time.perf_counter()
        meter.seconds.update(load=t1 - t0, plan=t2 - t1)
        extra.update(people=len(team.people), contacts=len(team.contacts), projects=len(team.projects),
                     sessions=len(team.sessions), events=len(plan.events), skipped=len(plan.skipped))
    else:
        import kalender_sync.cli as cli
        import kalender_sync.cli.calendars as calendars
        import kalender_sync.core.planning as planning
        import kalender_sync.core.render as render
        import kalender_sync.engine.sync as engine
        import kalender_sync.targets.files as icsfile
        t_imported = time.perf_counter()
        meter.wrap(calendars, "load_team", "load")
        meter.wrap(calendars, "calendar_plan", "plan")
        meter.wrap(calendars, "_show_plan", "show_plan (output)")

        def count_written(args, result):
            if mode.startswith("export"):
                extra["files"] = len(result)
                extra["files_written"] = sum(1 for r in result if r.written)
        meter.wrap(engine, "sync_team", "engine (read, diff, write)", after=count_written)
        meter.wrap(planning.Plan, "for_person", "Plan.for_person")
        meter.wrap(icsfile, "parse_file", "read existing .ics (parse)")
        meter.wrap(engine, "diff", "diff")
        meter.wrap(render, "compose", "compose (whole files)")
        meter.wrap(render, "build_event", "build_event (VEVENTs rendered)")
        command = "plan" if mode.startswith("plan") else "export"
        args = [command, "--config", config, "--today", today, "--out", out]
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        try:
            code = cli.main(args)
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
        if code != 0:
            raise SystemExit(f"kalender-sync {' '.join(args)} exited {code}")
    wall = time.perf_counter() - t_start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    Path(result_path).write_text(json.dumps({
        "mode": mode, "seconds_in_process": wall, "import_seconds": t_imported - t_start,
        "stages": {k: round(v, 4) for k, v in meter.seconds.items()},
        "calls": dict(meter.calls), "maxrss_mib_self": usage.ru_maxrss / 1024, **extra}), encoding="utf-8")


# -- parent side ------------------------------------------------------------------------

def run_child(mode: str, config: Path, out: Path, result: Path, timeout: float) -> dict:
    """One child; wall time and rusage measured from outside (os.wait4)."""
    cmd = [sys.executable, str(HERE / "planbench.py"), "child", mode, str(config), TODAY, str(out), str(result)]
    if result.exists():
        result.unlink()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = t0 + timeout
    status, usage = None, None
    while time.perf_counter() < deadline:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        time.sleep(0.02)
    else:
        proc.send_signal(signal.SIGKILL)
        os.wait4(proc.pid, 0)
        proc.returncode = -9
        return {"mode": mode, "timeout": True, "wall_seconds": time.perf_counter() - t0,
                "note": f"stopped after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"planbench child {mode} exited {proc.returncode}: {stderr[-3000:]}")
    data = json.loads(result.read_text(encoding="utf-8"))
    data.update(wall_seconds=wall, maxrss_mib=usage.ru_maxrss / 1024, user_seconds=usage.ru_utime,
                system_seconds=usage.ru_stime)
    return data


def run_planning(people: int, workdir: Path, *, timeout: float, core_repeat: int = 2, quick: bool = False,
                 log=print) -> dict:
    """All steps in order; `quick` (the smoke test) runs core once, export and plan-noop only."""
    sys.path.insert(0, str(HERE))
    import genconfig
    import shutil
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "team.yaml"
    config.write_text(genconfig.generate(people), encoding="utf-8")
    out, empty = workdir / "exported", workdir / "empty"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(empty, ignore_errors=True)
    empty.mkdir()
    result: dict = {"people": people, "config_bytes": config.stat().st_size, "today": TODAY, "steps": {}}
    steps = result["steps"]
    cores = []
    for index in range(1 if quick else core_repeat):
        log(f"[plan {people} people] core (load + plan) #{index + 1} ...")
        cores.append(run_child("core", config, empty, workdir / "r.json", timeout))
    steps["core"] = min(cores, key=lambda r: r.get("wall_seconds", 1e9))
    steps["core"]["wall_seconds_all"] = [r.get("wall_seconds") for r in cores]
    modes = ("export", "plan-noop") if quick else ("plan-fresh", "export", "plan-noop", "export-noop")
    folders = {"plan-fresh": empty, "export": out, "plan-noop": out, "export-noop": out}
    for mode in modes:
        folder = folders[mode]
        log(f"[plan {people} people] {mode} ...")
        steps[mode] = run_child(mode, config, folder, workdir / "r.json", timeout)
        if steps[mode].get("timeout") and mode == "export":
            log("  export did not finish: the no-op steps are skipped")
            break
    return result


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "child":
        child(*sys.argv[2:])
    else:
        raise SystemExit(__doc__)
