"""Benchmarks 1-3: CalDAV push, no-op re-sync and one change, on a loopback server.

For one server and one N, in fresh calendars on that server:

1. initial push of the same N events
   - kalender-sync in-process: `sync_team` (plan and config load not timed; reported apart),
     with the time inside render / HTTP / status DB measured by wrapping those functions,
   - kalender-sync's HTTP layer alone: `CalDAVTarget.create` of the pre-rendered bodies,
   - kalender-sync as a process: `python -m kalender_sync sync` (what a user runs),
   - bare loop: `PUT If-None-Match: *` of the same rendered bodies over ONE keep-alive
     http.client connection (the server's own limit; rendering not timed),
   - vdirsyncer `sync` of the same bodies from a folder of .ics files (as a process);
   kalender-sync in-process and the bare loop run `push_repeat` times, alternating, and
   the fastest of each counts (the servers' own times vary by ~5-10 % run to run);
2. no-op re-sync: wall time (direct, median of `repeat`) and requests (counted at a
   loopback counting proxy, once) for kalender-sync in-process and as a process, and for
   vdirsyncer;
3. one changed agreement (medium phone -> coffee, i.e. one title): requests and time.

Wall times are taken without the proxy. kalender-sync keys its status database by the
calendar URL (with the port) and stores absolute hrefs, so for a proxied run the bench
copies the database and rewrites that key and the hrefs' scheme://host:port to the
proxy's; nothing else in it is touched.

Run it through run.py (with the planning and busy-time cases), or alone:

    python bench/pushbench.py --sizes 152 --servers radicale --push-repeat 6   # run.py's options
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # support.servers and support.proxies, shared with the tests
sys.path.insert(0, str(HERE))

import oneperson  # noqa: E402
import vdir  # noqa: E402
from support.proxies import FaultProxy  # noqa: E402
from support.servers import PASSWORD, RunningServer, basic_auth  # noqa: E402

from kalender_sync.cli.options import calendar_plan  # noqa: E402
from kalender_sync.core.config import load_team  # noqa: E402
from kalender_sync.core.render import render_object  # noqa: E402
from kalender_sync.engine.runs import context_for, stamp_for  # noqa: E402
from kalender_sync.engine.sync import calendar_jobs, sync_team  # noqa: E402
from kalender_sync.storage.status import State  # noqa: E402
from kalender_sync.targets.caldav import CalDAVTarget, redact  # noqa: E402
from kalender_sync.targets.network import RequestLog  # noqa: E402

PERSON = oneperson.PERSON
USERNAME = oneperson.USERNAME
PROCESS_TIMEOUT = 900
os.environ.setdefault(oneperson.PASSWORD_ENV, PASSWORD)
oneperson.compiled_like_an_install()


class Case:
    """The events of one N: the config text per calendar URL, the plan, the rendered bodies."""

    def __init__(self, n: int, workdir: Path):
        self.n = n
        self.workdir = workdir
        _, self.agreements = oneperson.write_config(n, workdir, None, name="template.yaml")
        self.years = oneperson.horizon_years(n)
        t0 = time.perf_counter()
        team = load_team(self.text(None), "bench.yaml")
        t1 = time.perf_counter()
        self.plan = calendar_plan(team, oneperson.TODAY)
        t2 = time.perf_counter()
        self.load_seconds, self.plan_seconds = t1 - t0, t2 - t1
        self.events = self.plan.for_person(PERSON)
        assert len(self.events) == n, (len(self.events), n)
        self.stamp = stamp_for(oneperson.TODAY)
        t0 = time.perf_counter()
        self.bodies = [(e.uid, render_object(e, self.stamp, 0, "nl")) for e in self.events]
        self.render_seconds = time.perf_counter() - t0
        self.body_bytes = sum(len(b) for _, b in self.bodies)
        # the folder vdirsyncer reads: one .ics per event, the same bytes we PUT
        self.ics_dir = workdir / "ics"
        self.ics_dir.mkdir(parents=True, exist_ok=True)
        for uid, body in self.bodies:
            (self.ics_dir / f"{uid.split('@', 1)[0]}.ics").write_bytes(body)

    def text(self, url: str | None, changed: bool = False) -> str:
        return oneperson.generate(self.agreements, self.years, url, changed=changed)

    def config(self, url: str, name: str, changed: bool = False) -> Path:
        path = self.workdir / name / "config.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text(url, changed), encoding="utf-8")
        return path


# -- kalender-sync -------------------------------------------------------------------

def ks_sync(config: Path, state_path: Path, changed_plan=None) -> dict:
    """One in-process sync of the config's one person; returns seconds, requests, done."""
    team = load_team(config.read_text(encoding="utf-8"), str(config))
    plan = changed_plan or calendar_plan(team, oneperson.TODAY)
    jobs = calendar_jobs(team)
    log = RequestLog()
    state = State(state_path)
    try:
        t0 = time.perf_counter()
        results = sync_team(team, plan, jobs, state, stamp_for(oneperson.TODAY), context_for(team, config, log=log),
                            dry_run=False)
        seconds = time.perf_counter() - t0
    finally:
        state.close()
    (result,) = results
    if result.failures or result.refused:
        raise RuntimeError(f"kalender-sync failed: {result.failures} {result.refused}")
    return {"seconds": seconds, "requests": dict(sorted(log.counts.items())), "done": dict(sorted(result.done.items()))}


def ks_cli(config: Path, state_path: Path) -> dict:
    """`python -m kalender_sync sync` as a process (interpreter start and imports included)."""
    env = dict(os.environ, **{oneperson.PASSWORD_ENV: PASSWORD})
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kalender_sync", "sync", "--config", str(config),
                           "--today", oneperson.TODAY.isoformat(), "--state", str(state_path), "--format", "json"],
                          capture_output=True, text=True, env=env, timeout=PROCESS_TIMEOUT)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"kalender-sync sync exited {proc.returncode}: {proc.stderr[-2000:]}")
    done = json.loads(proc.stdout)["calendars"][0]["done"]
    return {"seconds": seconds, "done": done}


def ks_startup_seconds(repeat: int = 3) -> float:
    """`python -m kalender_sync --version`: interpreter start and imports of any CLI run."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kalender_sync", "--version"], capture_output=True,
                       timeout=60, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


# What a sync imports that is not ours (python -X importtime of `sync`): no Python client built
# on these libraries starts faster than this.
SYNC_LIBRARIES = ("click", "yaml", "icalendar", "lxml.etree", "caldav.elements.cdav", "caldav.response", "http.client",
                  "ssl", "sqlite3", "zoneinfo", "json", "concurrent.futures")


def library_floor_seconds(repeat: int = 5) -> float:
    """A process that starts the interpreter and imports SYNC_LIBRARIES, nothing of ours."""
    best = float("inf")
    code = "import " + ", ".join(SYNC_LIBRARIES)
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def proxied_state(state_path: Path, direct_url: str, proxy: FaultProxy, copy_to: Path) -> Path:
    """A copy of the status DB whose calendar key is the proxy's URL (same server behind it)."""
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{copy_to}{suffix}").exists():
            os.unlink(f"{copy_to}{suffix}")
    source = sqlite3.connect(str(state_path))
    target = sqlite3.connect(str(copy_to))
    source.backup(target)
    source.close()
    old, new = redact(direct_url), redact(proxy.translate(direct_url))
    target.execute("UPDATE events SET calendar = ? WHERE calendar = ?", (new, old))
    # hrefs are stored as absolute URLs: point them at the proxy as well
    direct_root, proxy_root = direct_url.split("/", 3)[:3], proxy.url.rstrip("/").split("/", 3)[:3]
    target.execute("UPDATE events SET href = ? || substr(href, ?) WHERE calendar = ? AND href LIKE ? || '%'",
                   ("/".join(proxy_root), len("/".join(direct_root)) + 1, new, "/".join(direct_root)))
    target.execute("UPDATE calendars SET calendar = ? WHERE calendar = ?", (new, old))
    target.commit()
    target.close()
    return copy_to


# -- the bare loop --------------------------------------------------------------------

def bare_put_loop(calendar_url: str, bodies: list[tuple[str, bytes]]) -> dict:
    """Conditional PUTs of pre-rendered bodies over one keep-alive connection."""
    parts = urllib.parse.urlsplit(calendar_url)
    probe = CalDAVTarget(calendar_url, None, None)       # the same hrefs kalender-sync uses
    paths = [urllib.parse.urlsplit(probe.href_for(uid)).path for uid, _ in bodies]
    headers = {"Authorization": basic_auth(USERNAME, PASSWORD), "If-None-Match": "*",
               "Content-Type": "text/calendar; charset=utf-8"}
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    reconnects = 0
    statuses: dict[int, int] = {}
    t0 = time.perf_counter()
    try:
        for path, (_, body) in zip(paths, bodies):
            conn.request("PUT", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.will_close:
                reconnects += 1
    finally:
        conn.close()
    seconds = time.perf_counter() - t0
    if set(statuses) - {201, 204}:
        raise RuntimeError(f"bare PUT loop got {statuses}")
    return {"seconds": seconds, "requests": {"PUT": len(bodies)}, "statuses": statuses,
            "server_closed_connection": reconnects}


def ks_http_loop(calendar_url: str, bodies: list[tuple[str, bytes]]) -> dict:
    """kalender-sync's own HTTP layer alone: CalDAVTarget.create() of pre-rendered bodies
    (caldav's DAVClient on niquests, our retry wrapper); no planning, diff, render or state."""
    target = CalDAVTarget(calendar_url, USERNAME, PASSWORD)
    t0 = time.perf_counter()
    for uid, body in bodies:
        target.create(target.href_for(uid), body)
    return {"seconds": time.perf_counter() - t0, "requests": dict(target.log.counts)}


class Breakdown:
    """Wall time spent inside a few of our functions during one sync (wrapped, not changed)."""

    def __init__(self):
        import kalender_sync.core.render as render_mod
        import kalender_sync.engine.sync as sync_mod
        from kalender_sync.storage.status import State as StateClass
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._undo = []
        # sync imports render_object when it renders (and renders on a worker thread, ahead of
        # the requests: this time overlaps "HTTP incl. server").
        for owner, name, label in ((render_mod, "render_object", "render (icalendar)"),
                                   (CalDAVTarget, "_call", "HTTP incl. server (caldav+niquests)"),
                                   (StateClass, "put", "status DB writes"),
                                   (sync_mod, "observe", "observe listing"),
                                   (sync_mod, "diff", "diff")):
            if hasattr(owner, name):
                self._wrap(owner, name, label)

    def _wrap(self, owner, name, label):
        original = getattr(owner, name)
        meter = self

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                meter.seconds[label] = meter.seconds.get(label, 0.0) + time.perf_counter() - t0
                meter.calls[label] = meter.calls.get(label, 0) + 1
        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def close(self) -> dict:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        return {label: {"seconds": round(self.seconds[label], 4), "calls": self.calls[label]}
                for label in self.seconds}


# -- one server, one N ------------------------------------------------------------------------

def _median(values: list[float]) -> float:
    return statistics.median(values)


def run_case(server: RunningServer, case: Case, *, repeat: int, with_cli: bool, with_vdir: bool, push_repeat: int = 1,
             log=print) -> dict:
    n, kind = case.n, server.kind
    work = case.workdir / kind
    work.mkdir(parents=True, exist_ok=True)
    out: dict = {"server": kind, "n": n}
    tag = f"[{kind} N={n}]"

    # 1a/1b. kalender-sync in-process and the bare loop, `push_repeat` times each in
    # alternating order (fresh calendars each time); the fastest of each counts.
    pushes, bares = [], []
    for rep in range(push_repeat):
        for which in (("ks", "bare") if rep % 2 == 0 else ("bare", "ks")):
            if which == "ks":
                log(f"{tag} kalender-sync initial push #{rep + 1} ...")
                url = server.new_calendar(f"ks-{n}-{rep}")
                config, state_path = case.config(url, f"{kind}-ks-{rep}"), work / f"ks-{rep}.sqlite"
                breakdown = Breakdown()
                try:
                    push = ks_sync(config, state_path)
                finally:
                    push["breakdown"] = breakdown.close()
                assert push["done"].get("create") == n, push
                assert server.count_objects(url) == n
                push.update(url=url, config=config, state=state_path)
                pushes.append(push)
            else:
                log(f"{tag} bare PUT loop #{rep + 1} ...")
                bare_url = server.new_calendar(f"bare-{n}-{rep}")
                bares.append(bare_put_loop(bare_url, case.bodies))
                assert server.count_objects(bare_url) == n
    best = min(pushes, key=lambda r: r["seconds"])
    url, config, state_path = best.pop("url"), best.pop("config"), best.pop("state")
    for other in pushes:
        for key in ("url", "config", "state"):
            other.pop(key, None)
    out["ks_push"] = dict(best, seconds_all=[r["seconds"] for r in pushes])
    out["bare_push"] = dict(min(bares, key=lambda r: r["seconds"]), seconds_all=[r["seconds"] for r in bares])

    # 1b'. our HTTP layer alone
    log(f"{tag} kalender-sync HTTP layer alone (CalDAVTarget.create loop) ...")
    http_url = server.new_calendar(f"kshttp-{n}")
    out["ks_http_push"] = ks_http_loop(http_url, case.bodies)
    assert server.count_objects(http_url) == n

    # 1c. kalender-sync as a process
    if with_cli:
        log(f"{tag} kalender-sync CLI initial push ...")
        cli_url = server.new_calendar(f"kscli-{n}")
        cli_config, cli_state = case.config(cli_url, f"{kind}-kscli"), work / "kscli.sqlite"
        out["ks_cli_push"] = ks_cli(cli_config, cli_state)
        assert out["ks_cli_push"]["done"].get("create") == n, out["ks_cli_push"]
        assert server.count_objects(cli_url) == n

    # 1d. vdirsyncer
    if with_vdir:
        log(f"{tag} vdirsyncer initial push ...")
        vd_url = server.new_calendar(f"vdir-{n}")
        vd_config = vdir.write_config(work / "vdir", case.ics_dir, vd_url, USERNAME, PASSWORD)
        vdir.discover(vd_config)
        out["vdir_push"] = {"seconds": vdir.sync(vd_config)}
        assert server.count_objects(vd_url) == n

    # 2. no-op re-sync: times direct, requests at the proxy
    log(f"{tag} no-op re-syncs ...")
    out["ks_noop"] = {"seconds_all": [ks_sync(config, state_path)["seconds"] for _ in range(repeat)]}
    out["ks_noop"]["seconds"] = _median(out["ks_noop"]["seconds_all"])
    if with_cli:
        runs = [ks_cli(cli_config, cli_state) for _ in range(repeat)]
        out["ks_cli_noop"] = {"seconds_all": [r["seconds"] for r in runs], "done": runs[-1]["done"]}
        out["ks_cli_noop"]["seconds"] = _median(out["ks_cli_noop"]["seconds_all"])
    if with_vdir:
        out["vdir_noop"] = {"seconds_all": [vdir.sync(vd_config) for _ in range(repeat)]}
        out["vdir_noop"]["seconds"] = _median(out["vdir_noop"]["seconds_all"])
    with FaultProxy(server.url, max_requests=50000, upstream_timeout=60) as proxy:  # rate 0: counts only
        p_url = proxy.translate(url)
        p_config = case.config(p_url, f"{kind}-ks-proxied")
        p_state = proxied_state(state_path, url, proxy, work / "ks-proxied.sqlite")
        proxy.reset()
        counted = ks_sync(p_config, p_state)
        out["ks_noop"].update(requests=proxy.snapshot(), client_counted=counted["requests"], done=counted["done"])
        if with_vdir:
            # vdirsyncer wants `discover` after any config change; it is not counted
            p_vd_config = vdir.write_config(work / "vdir", case.ics_dir, proxy.translate(vd_url), USERNAME, PASSWORD)
            vdir.discover(p_vd_config)
            proxy.reset()
            vdir.sync(p_vd_config)
            out["vdir_noop"]["requests"] = proxy.snapshot()
            vdir.discover(vdir.write_config(work / "vdir", case.ics_dir, vd_url, USERNAME, PASSWORD))

        # 3. one changed agreement, through the proxy (the copy of the DB is at the no-op state)
        log(f"{tag} one changed agreement ...")
        c_config = case.config(p_url, f"{kind}-ks-changed", changed=True)
        proxy.reset()
        changed = ks_sync(c_config, p_state)
        out["ks_one_change"] = {"seconds": changed["seconds"], "requests": proxy.snapshot(),
                                "client_counted": changed["requests"], "done": changed["done"]}
        # the same change once more: now a no-op again
        proxy.reset()
        again = ks_sync(c_config, p_state)
        out["ks_after_change_noop"] = {"requests": proxy.snapshot(), "done": again["done"]}
    return out


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    # The CalDAV cases alone: run.py without its planning and busy-time benchmarks.
    import run
    sys.argv[1:1] = ["--plan-people", "0", "--busy-people", "0"]
    sys.exit(run.main())
