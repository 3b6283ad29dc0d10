"""cProfile the places where bench/run.py shows a miss; text reports in bench/results/profiles/.

    python bench/profiling.py push  [--server radicale] [--n 500]   # sync_team initial push
    python bench/profiling.py noop  [--server radicale] [--n 1000]  # `kalender-sync sync` no-op, as a process
    python bench/profiling.py core  [--people 10000]                # load config + plan
    python bench/profiling.py plan-noop [--people 2000]             # `kalender-sync plan --out DIR` after export

cProfile slows pure-Python code down (about 1.5-2x), so read the shares, not the
absolute times; bench/run.py has the real times. Loopback servers only, as in run.py.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # support.servers and support.proxies, shared with the tests
sys.path.insert(0, str(HERE))


def stats_text(profile, title: str, limit: int = 35) -> str:
    buffer = io.StringIO()
    buffer.write(f"# {title}\n")
    for order in ("tottime", "cumulative"):
        stats = pstats.Stats(profile, stream=buffer) if not isinstance(profile, pstats.Stats) else profile
        stats.stream = buffer
        stats.strip_dirs().sort_stats(order).print_stats(limit)
    return buffer.getvalue()


def profile_push(kind: str, n: int, work: Path) -> str:
    import pushbench
    from support import servers
    case = pushbench.Case(n, work / "case")
    server = servers.start(kind, work / kind, username=pushbench.USERNAME, quiet=True)
    try:
        url = server.new_calendar("profile")
        config = case.config(url, "profile")
        profile = cProfile.Profile()
        profile.enable()
        result = pushbench.ks_sync(config, work / "state.sqlite")
        profile.disable()
    finally:
        server.stop()
    return stats_text(profile, f"sync_team initial push, {kind}, N={n}: {result['seconds']:.2f} s under cProfile")


def profile_noop(kind: str, n: int, work: Path) -> str:
    import oneperson
    import pushbench
    from support import servers
    case = pushbench.Case(n, work / "case")
    server = servers.start(kind, work / kind, username=pushbench.USERNAME, quiet=True)
    try:
        url = server.new_calendar("profile")
        config, state = case.config(url, "profile"), work / "state.sqlite"
        pushbench.ks_sync(config, state)
        args = ["-m", "kalender_sync", "sync", "--config", str(config), "--today", oneperson.TODAY.isoformat(),
                "--state", str(state), "--format", "json"]
        out = work / "noop.prof"
        subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), *args], capture_output=True, check=True,
                       timeout=300)
        imports = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True,
                                 timeout=300).stderr
    finally:
        server.stop()
    rows = []
    for line in imports.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    top = "\n".join(f"{us / 1000:8.1f} ms  {name}" for us, name in sorted(rows, reverse=True)[:25])
    return (stats_text(pstats.Stats(str(out)), f"`kalender-sync sync` no-op as a process, {kind}, N={n}")
            + "\n# -X importtime, cumulative, top 25\n" + top + "\n")


def profile_core(people: int, work: Path) -> str:
    import genconfig
    from datetime import date
    from kalender_sync.cli.options import calendar_plan, load_team
    config = work / "team.yaml"
    config.write_text(genconfig.generate(people), encoding="utf-8")
    profile = cProfile.Profile()
    profile.enable()
    team, _ = load_team(config, date(2027, 1, 4))
    calendar_plan(team, date(2027, 1, 4))
    profile.disable()
    return stats_text(profile, f"load + plan, {people} people")


def profile_plan_noop(people: int, work: Path) -> str:
    import genconfig
    import kalender_sync.cli as cli
    config = work / "team.yaml"
    config.write_text(genconfig.generate(people), encoding="utf-8")
    out = work / "exported"
    args = ["--config", str(config), "--today", "2027-01-04", "--out", str(out)]
    subprocess.run([sys.executable, "-m", "kalender_sync", "export", *args], capture_output=True, check=True,
                   timeout=1800)
    profile = cProfile.Profile()
    sink = io.StringIO()
    saved, sys.stdout = sys.stdout, sink
    try:
        profile.enable()
        cli.main(["plan", *args])
        profile.disable()
    finally:
        sys.stdout = saved
    return stats_text(profile, f"`kalender-sync plan --out DIR` after `export --out DIR` (no-op), {people} people")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["push", "noop", "core", "plan-noop"])
    parser.add_argument("--server", default="radicale", choices=["radicale", "xandikos"])
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--results", type=Path, default=HERE / "results" / "profiles")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ks-profile-"))
    try:
        if args.what == "push":
            n = args.n or 500
            text, name = profile_push(args.server, n, work), f"push-{args.server}-{n}"
        elif args.what == "noop":
            n = args.n or 1000
            text, name = profile_noop(args.server, n, work), f"noop-cli-{args.server}-{n}"
        elif args.what == "core":
            people = args.people or 10000
            text, name = profile_core(people, work), f"core-plan-{people}"
        else:
            people = args.people or 2000
            text, name = profile_plan_noop(people, work), f"plan-noop-{people}"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"{name}.txt"
    path.write_text(text, encoding="utf-8")
    print(text[:6000])
    print(f"... written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
