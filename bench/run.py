"""kalender-sync benchmarks (issue 6): CalDAV push / no-op / one change, and planning at scale.

    python bench/run.py            # full: N = 500 and 1000 events, 10,000-person plan,
                                   # busy times of 1,000 people (~40 min)
    python bench/run.py --quick    # smoke test: N = 100, 1,000-person plan (core, export and
                                   # no-op plan only), busy times of 50 people (~1-2 min)
    python bench/run.py --sizes --plan-people 0 --busy-people 1000   # the busy-times case alone

Everything runs on this machine: Radicale and Xandikos are started on free 127.0.0.1
ports (tests/support/servers.py), requests are counted at a loopback proxy (tests/support/proxies.py),
vdirsyncer runs from its own venv (bench/vdir.py; created on first use). Every loop is
bounded in count, every process has a timeout. Results: a table on stdout and a JSON file
in bench/results/ (the path is printed at the end).

Use the project's venv, e.g. `/tmp/dev/bin/python bench/run.py` or `.venv/bin/python bench/run.py`
(kalender-sync, radicale, xandikos installed).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # support.servers and support.proxies, shared with the tests
sys.path.insert(0, str(HERE))

TARGETS = {
    "push_vs_bare": 1.10,     # kalender-sync push time / bare PUT loop
    "noop_requests": 2,       # requests per calendar for a no-op re-sync
    "one_change_writes": 1,   # PUT + DELETE for one changed agreement
    "plan_seconds": 10.0,     # 10k people, one year
    "plan_mib": 1024.0,
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def code_version() -> dict:
    """The commit measured, and whether kalender_sync/ had uncommitted changes (read-only git)."""
    import subprocess
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": git("status", "--porcelain", "kalender_sync")}


def machine() -> dict:
    import importlib.metadata as md
    versions = {}
    for name in ("kalender-sync", "Radicale", "xandikos", "caldav", "niquests", "icalendar"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    return {"code": code_version(), "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "loadavg_start": os.getloadavg(), "versions": versions}


# -- tables ----------------------------------------------------------------------------

def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def s(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def ratio(a, b) -> str:
    return "-" if a is None or b is None or not b else f"{a / b:.2f}x"


def reqs(counts: dict | None) -> str:
    if counts is None:
        return "-"
    total = sum(counts.values())
    return f"{total} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})"


def get(d: dict, *path):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def report(results: dict) -> tuple[str, list[dict]]:
    out, verdicts = [], []

    def verdict(name: str, ok: bool | None, detail: str) -> None:
        verdicts.append({"target": name, "met": ok, "detail": detail})

    cases = results.get("caldav", [])
    if cases:
        rows = []
        for c in cases:
            n = c["n"]
            ks, bare, http = get(c, "ks_push", "seconds"), get(c, "bare_push", "seconds"), get(c, "ks_http_push", "seconds")
            cli, vd = get(c, "ks_cli_push", "seconds"), get(c, "vdir_push", "seconds")
            rows.append([c["server"], n, s(bare), s(http), s(ks), s(cli), s(vd), ratio(ks, bare), ratio(http, bare),
                         ratio(ks, vd), ratio(cli, vd), f"{1000 * bare / n:.1f}", f"{1000 * (ks - bare) / n:.1f}"])
            verdict(f"push {c['server']} N={n}: within {TARGETS['push_vs_bare']:.2f}x of the bare PUT loop",
                    ks / bare <= TARGETS["push_vs_bare"], f"{ks:.2f} s vs {bare:.2f} s = {ks / bare:.2f}x")
            if vd is not None:
                verdict(f"push {c['server']} N={n}: no slower than vdirsyncer (CLI vs CLI)", cli is not None and cli <= vd,
                        f"kalender-sync CLI {s(cli)} s (in-process {ks:.2f} s) vs vdirsyncer {vd:.2f} s")
        out.append("1. Initial push into an empty calendar (wall seconds)\n" + table(
            ["server", "N", "bare PUT loop", "ks HTTP layer", "ks sync_team", "ks CLI", "vdirsyncer",
             "ks/bare", "ksHTTP/bare", "ks/vdir", "ksCLI/vdir", "server ms/event", "our ms/event"], rows))
        rows = []
        for c in cases:
            b = get(c, "ks_push", "breakdown") or {}
            rows.append([c["server"], c["n"]] + [s(get(b, k, "seconds")) for k in (
                "HTTP incl. server (caldav+niquests)", "render (icalendar)", "status DB writes", "observe listing",
                "diff")] + [reqs(get(c, "ks_push", "requests"))])
        out.append("   where kalender-sync's in-process push spends its time (seconds)\n" + table(
            ["server", "N", "HTTP+server", "render", "status DB", "observe", "diff", "requests"], rows))

        rows = []
        for c in cases:
            noop, cli, vd = c.get("ks_noop", {}), c.get("ks_cli_noop", {}), c.get("vdir_noop", {})
            rows.append([c["server"], c["n"], f"{1000 * noop['seconds']:.0f} ms", s(cli.get("seconds")),
                         s(vd.get("seconds")), reqs(noop.get("requests")), reqs(vd.get("requests")),
                         ratio(cli.get("seconds"), vd.get("seconds"))])
            total = sum((noop.get("requests") or {}).values())
            verdict(f"no-op {c['server']} N={c['n']}: <= {TARGETS['noop_requests']} requests per calendar",
                    total <= TARGETS["noop_requests"], reqs(noop.get("requests")))
            if vd.get("seconds") is not None:
                verdict(f"no-op {c['server']} N={c['n']}: faster than vdirsyncer (CLI vs CLI)",
                        cli.get("seconds") is not None and cli["seconds"] < vd["seconds"],
                        f"kalender-sync CLI {s(cli.get('seconds'))} s (in-process {noop['seconds']:.3f} s) "
                        f"vs vdirsyncer {vd['seconds']:.2f} s")
        startup = results.get("startup", {})
        out.append("2. No-op re-sync (median wall time; requests counted at the proxy)\n" + table(
            ["server", "N", "ks sync_team", "ks CLI s", "vdirsyncer s", "ks requests", "vdirsyncer requests",
             "ksCLI/vdir"], rows) + f"\n   process start + imports only: `kalender-sync --version` "
            f"{s(startup.get('kalender_sync'))} s, `vdirsyncer --version` {s(startup.get('vdirsyncer'))} s")

        rows = []
        for c in cases:
            one = c.get("ks_one_change", {})
            r = one.get("requests") or {}
            writes = r.get("PUT", 0) + r.get("DELETE", 0)
            rows.append([c["server"], c["n"], reqs(r), writes, json.dumps(one.get("done")),
                         f"{1000 * one.get('seconds', 0):.0f} ms", reqs(get(c, "ks_after_change_noop", "requests"))])
            verdict(f"one change {c['server']} N={c['n']}: one write", writes == TARGETS["one_change_writes"],
                    f"{reqs(r)}; ideal: 1 PUT + 1 listing")
        out.append("3. One changed agreement (requests at the proxy)\n" + table(
            ["server", "N", "requests", "writes", "result", "time", "next run"], rows))

    planning = results.get("planning")
    if planning:
        rows = []
        for mode, step in planning["steps"].items():
            if step.get("timeout"):
                rows.append([mode, f">{step['wall_seconds']:.0f} (stopped)", "-", "-", "-", "-", "-", "-"])
                continue
            st = step.get("stages", {})
            rows.append([mode, s(step["wall_seconds"]), f"{step['maxrss_mib']:.0f}", s(st.get("load")),
                         s(st.get("plan")), s(st.get("Plan.for_person")), s(st.get("read existing .ics (parse)")),
                         s(st.get("compose (whole files)")),
                         get(step, "calls", "build_event (VEVENTs rendered)") if mode != "core" else "-",
                         step.get("files_written", "-")])
        core = planning["steps"]["core"]
        people = planning["people"]
        out.append(f"4. Planning at scale: {people} people x 7 contacts + {core.get('projects')} projects + "
                   f"{core.get('sessions')} session series, one year -> {core.get('events')} events "
                   "(each step a fresh process; wall s, peak RSS MiB)\n" + table(
                       ["step", "wall s", "peak MiB", "load", "plan", "for_person", "parse .ics", "render",
                        "VEVENTs rendered", "files written"], rows))
        if people >= 10000:
            verdict(f"plan {people} people < {TARGETS['plan_seconds']:.0f} s (load + plan, fresh process)",
                    core["wall_seconds"] < TARGETS["plan_seconds"], f"{core['wall_seconds']:.2f} s")
            verdict(f"plan {people} people < 1 GiB", core["maxrss_mib"] < TARGETS["plan_mib"],
                    f"{core['maxrss_mib']:.0f} MiB")
            fresh = planning["steps"].get("plan-fresh", {})
            verdict(f"`kalender-sync plan` CLI, {people} people < {TARGETS['plan_seconds']:.0f} s",
                    not fresh.get("timeout") and fresh.get("wall_seconds", 1e9) < TARGETS["plan_seconds"],
                    f"{fresh.get('wall_seconds', 0):.1f} s" + (" (stopped)" if fresh.get("timeout") else ""))
        noop = planning["steps"].get("plan-noop")
        if noop and not noop.get("timeout"):
            rendered = get(noop, "calls", "build_event (VEVENTs rendered)") or 0
            verdict("no-op plan renders iCalendar only for changed events (0 here)", rendered == 0,
                    f"{rendered} VEVENTs rendered for 0 changes; {noop['wall_seconds']:.1f} s")
    busy = results.get("busy")
    if busy:
        import busybench
        text, busy_verdicts = busybench.report(busy, table)
        out.append(text)
        for name, ok, detail in busy_verdicts:
            verdict(name, ok, detail)
    lines = ["\n\n".join(out), "", "Targets:"]
    for v in verdicts:
        mark = "MET   " if v["met"] else "MISSED" if v["met"] is not None else "n/a   "
        lines.append(f"  {mark} {v['target']}: {v['detail']}")
    return "\n".join(lines), verdicts


# -- main ---------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="N=100 and a 1,000-person plan (< 1 min)")
    parser.add_argument("--sizes", type=int, nargs="*", help="event counts for the CalDAV benchmarks")
    parser.add_argument("--servers", nargs="*", default=["radicale", "xandikos"], choices=["radicale", "xandikos"])
    parser.add_argument("--plan-people", type=int, help="people in the planning benchmark (0: skip it)")
    parser.add_argument("--busy-people", type=int,
                        help="people in the busy-times benchmark (default 1000, --quick 50; 0: skip it)")
    parser.add_argument("--repeat", type=int, help="no-op re-syncs timed per case (median)")
    parser.add_argument("--push-repeat", type=int,
                        help="initial pushes of kalender-sync and the bare loop per case, alternating (fastest counts)")
    parser.add_argument("--no-vdirsyncer", action="store_true", help="skip vdirsyncer")
    parser.add_argument("--no-cli", action="store_true", help="skip the kalender-sync CLI (process) runs")
    parser.add_argument("--step-timeout", type=float, default=900, help="seconds per planning step (process)")
    parser.add_argument("--results", type=Path, default=HERE / "results", help="folder for the JSON")
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a new temp folder, removed after)")
    args = parser.parse_args()

    sizes = args.sizes if args.sizes is not None else ([100] if args.quick else [500, 1000])
    people = args.plan_people if args.plan_people is not None else (1000 if args.quick else 10000)
    busy_people = args.busy_people if args.busy_people is not None else (50 if args.quick else 1000)
    repeat = args.repeat or 3
    push_repeat = args.push_repeat or (1 if args.quick else 2)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ks-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict = {"mode": "quick" if args.quick else "full", "started": datetime.now(timezone.utc).isoformat(),
                     "machine": machine(), "sizes": sizes, "plan_people": people, "busy_people": busy_people, "targets": TARGETS}
    t_start = time.perf_counter()
    try:
        import pushbench
        from support import servers
        import vdir
        with_vdir = not args.no_vdirsyncer
        if sizes:
            if with_vdir:
                results["machine"]["versions"]["vdirsyncer"] = vdir.ensure(log)
                results.setdefault("startup", {})["vdirsyncer"] = vdir.startup_seconds()
            results.setdefault("startup", {})["kalender_sync"] = pushbench.ks_startup_seconds()
            cases = {n: pushbench.Case(n, workdir / f"events-{n}") for n in sizes}
            results["events"] = {str(n): {"agreements": c.agreements, "horizon_years": c.years,
                                          "load_seconds": c.load_seconds, "plan_seconds": c.plan_seconds,
                                          "render_seconds": c.render_seconds, "body_bytes": c.body_bytes}
                                 for n, c in cases.items()}
            results["caldav"] = []
            for kind in args.servers:
                server = servers.start(kind, workdir / kind, username=pushbench.USERNAME, quiet=True)
                try:
                    for n in sizes:
                        case_result = pushbench.run_case(server, cases[n], repeat=repeat, with_cli=not args.no_cli,
                                                         with_vdir=with_vdir, push_repeat=push_repeat, log=log)
                        case_result["server_version"] = server.version
                        results["caldav"].append(case_result)
                finally:
                    server.stop()
        if people:
            import planbench
            results["planning"] = planbench.run_planning(people, workdir / f"plan-{people}",
                                                         timeout=args.step_timeout, quick=args.quick, log=log)
        if busy_people:
            import busybench
            results["busy"] = busybench.run_busy(busy_people, workdir / f"busy-{busy_people}", log=log)
    finally:
        results["seconds"] = time.perf_counter() - t_start
        text, verdicts = report(results) if results.get("caldav") or results.get("planning") or results.get("busy") else ("", [])
        results["verdicts"] = verdicts
        finish(results, text, args.results, results["mode"], None if args.workdir else workdir)
    return 0


def finish(results: dict, text: str, folder: Path, name: str, scratch: Path | None) -> Path:
    """The end of every bench script: the JSON written to folder/<name>-<UTC time>.json, the
    scratch folder removed, the tables and the closing lines printed."""
    results["machine"]["loadavg_end"] = os.getloadavg()
    # others may be changing kalender_sync/ while a long run goes on
    results["machine"]["code_end"] = code_version()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{name}-{stamp}.json"
    path.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
    print(text)
    print(f"\ncode: {results['machine']['code']} (at the end: {results['machine']['code_end']})")
    print(f"versions: {results['machine']['versions']}; load average start/end: "
          f"{results['machine']['loadavg_start']} / {results['machine']['loadavg_end']}")
    print(f"total {results['seconds']:.0f} s; results written to {path}")
    return path


if __name__ == "__main__":
    sys.exit(main())
