"""The command line as a user meets it: messages, exit codes, plan == export."""
from __future__ import annotations

import json
import textwrap
from collections import Counter
from datetime import timedelta

import pytest

from support.cli import run_in_process as run
from support.cli import run_process


def test_check_reports_ok_and_writes_nothing(example):
    before = sorted(example.parent.iterdir())
    result = run("check", "--config", str(example), "--today", "2026-11-24")
    assert result.returncode == 0, result.stderr
    assert "OK — 5 people, 35 contact agreements, 2 projects" in result.stdout
    assert sorted(example.parent.iterdir()) == before


def test_plan_then_export_then_plan_again(example):
    plan = json.loads(run("plan", "--config", str(example), "--today", "2026-11-24", "--format", "json").stdout)
    assert {p["id"] for p in plan["people"]} == {"maarten", "jan-willem", "sanne", "ad", "fatima"}
    creates = sum(p["changes"]["create"] for p in plan["people"])
    assert creates == sum(len(p["events"]) for p in plan["people"]) > 50
    exported = run("export", "--config", str(example), "--today", "2026-11-24")
    assert exported.returncode == 0, exported.stderr
    assert f"{creates} new, 0 changed, 0 removed, 0 kept" in exported.stdout
    again = json.loads(run("plan", "--config", str(example), "--today", "2026-11-24", "--format", "json").stdout)
    assert sum(p["changes"]["keep"] for p in again["people"]) == creates
    assert all(e["action"] == "keep" for p in again["people"] for e in p["events"])


def test_a_logged_contact_shows_as_update_and_delete_in_the_plan(example):
    run("export", "--config", str(example), "--today", "2026-11-24")
    log = example.with_name("contacts-log.yaml")
    log.write_text(log.read_text() + "- {who: maarten, with: Piet de Vries, on: 2026-11-23, next: 2027-02-01}\n")
    plan = json.loads(run("plan", "--config", str(example), "--today", "2026-11-24", "--format", "json",
                          "--person", "maarten").stdout)
    [maarten] = plan["people"]
    assert maarten["changes"]["create"] == 1 and maarten["changes"]["delete"] == 1
    [created] = [e for e in maarten["events"] if e["action"] == "create"]
    assert created["start"].startswith("2027-02-01T09:00")


def test_plan_table_is_readable(example):
    result = run("plan", "--config", str(example), "--today", "2026-11-24", "--person", "ad")
    assert result.returncode == 0
    assert "Ad Verhoeven (ad) →" in result.stdout
    assert "2027-02-10 wed 15:00–17:00  meeting     SAM netwerkbijeenkomst" in result.stdout
    assert "Maarten" not in result.stdout


@pytest.mark.parametrize("args, message", [
    (["check", "--config", "nope.yaml"], "error: config file not found: nope.yaml"),
    (["plan", "--person", "nobody"], "error: unknown person: nobody (known: maarten, jan-willem, sanne, ad, fatima)"),
    (["check", "--today", "2026-02-30"], "not a real date: day is out of range for month (got: 2026-02-30)"),
    (["frobnicate"], "No such command 'frobnicate'"),
])
def test_usage_errors_exit_2(example, args, message):
    if "--config" not in args:
        args = args + ["--config", str(example)]
    result = run(*args, cwd=example.parent)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_export_to_an_unwritable_place_exits_1_without_traceback(example, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    result = run("export", "--config", str(example), "--today", "2026-11-24", "--out", str(blocker / "sub"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot write")
    assert "Traceback" not in result.stderr


def test_version_and_module_entry_point():
    result = run_process("--version")
    assert result.returncode == 0 and "kalender-sync" in result.stdout


def test_group_events_sent_as_invitations_are_not_also_in_the_calendar_files(tmp_path):
    """With a mail section, an invited person gets the session by e-mail only (no duplicate)."""
    config = tmp_path / "team.yaml"
    config.write_text(textwrap.dedent("""\
        version: 1
        timezone: Europe/Amsterdam
        calendars: {files: {ics: "out/{person}.ics"}}
        people:
          anna: {name: Anna, email: anna@example.nl, calendar: files}
          bram: {name: Bram, calendar: files}
        sessions:
          - {name: Bel-uurtje, every: quarter, participants: all, prefer: {weekday: thu, start: "14:00"}}
        mail: {organizer: coach@example.nl, smtp_host: 127.0.0.1, smtp_port: 2525, security: none}
        """), encoding="utf-8")
    result = run("export", "--config", str(config), "--today", "2026-11-24")
    assert result.returncode == 0, result.stderr
    anna = (tmp_path / "out" / "anna.ics").read_text(encoding="utf-8")
    bram = (tmp_path / "out" / "bram.ics").read_text(encoding="utf-8")
    assert "SUMMARY:Bel-uurtje" not in anna          # Anna gets the invitation instead
    assert bram.count("SUMMARY:Bel-uurtje") == 4      # Bram has no e-mail address: in his calendar
    dry = run("invite", "--config", str(config), "--today", "2026-11-24", "--dry-run", "--format", "json")
    assert dry.returncode == 0, dry.stderr
    assert "anna@example.nl" in dry.stdout


# -- plan == what sync does, in calendars people edit (a vdir folder per person) -------------------

TODAY = "2026-11-24"


@pytest.fixture
def vdir_example(example):
    """The example team with a vdir folder per person: calendars people edit with khal and the like."""
    text = example.read_text(encoding="utf-8")
    example.write_text(text.replace("ics: out/{person}.ics", "vdir: agenda/{person}"), encoding="utf-8")
    return example


def _event_file(folder, *needles: str):
    [path] = [p for p in sorted(folder.glob("*.ics")) if all(n in p.read_text(encoding="utf-8") for n in needles)]
    return path


def _edit(path, change) -> None:
    from icalendar import Calendar
    calendar = Calendar.from_ical(path.read_bytes())
    change(calendar.walk("VEVENT")[0])
    path.write_bytes(calendar.to_ical())


def _plan(config, *args):
    return run("plan", "--config", str(config), "--today", TODAY, *args)


def _header_and_rows(stdout: str, person: str):
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if f"({person}) →" in line)
    header = lines[start].split(": ", 1)[1]
    counts = {a: int(n) for n, a in (part.split(" ", 1) for part in header.split(", "))}
    rows = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        rows.append(line)
    return counts, rows


def test_a_reminder_marked_done_is_predicted_shown_once_as_done_and_then_left_alone(vdir_example):
    """The issue's case: Kees van Leeuwen's reminder retitled 'gedaan …' in Maarten's calendar."""
    first = run("sync", "--config", str(vdir_example), "--today", TODAY, "--person", "maarten")
    assert first.returncode == 0, first.stderr
    folder = vdir_example.parent / "agenda" / "maarten"
    reminder = _event_file(folder, "contact/maarten/kees-van-leeuwen/2027-02-08/0")
    _edit(reminder, lambda e: e.__setitem__("summary", "gedaan " + str(e["summary"])))
    table = _plan(vdir_example, "--person", "maarten")
    assert table.returncode == 0, table.stderr
    assert "kees-van-leeuwen/" not in table.stdout and "contact/" not in table.stdout
    counts, rows = _header_and_rows(table.stdout, "maarten")
    # The header counts what the rows list, one row per event.
    assert {a: n for a, n in counts.items() if n} == dict(Counter(row.split()[0] for row in rows))
    assert counts["done"] == 1 and counts["create"] == 1 and "conflict" not in counts
    [done_row] = [row for row in rows if row.split()[0] == "done"]
    assert "2027-02-08 mon 09:00" in done_row and "gedaan Contact met Kees van Leeuwen (bellen)" in done_row
    assert done_row.endswith("— door jou afgevinkt: vastgelegd als contact op 24 november 2026")
    [create_row] = [row for row in rows if row.split()[0] == "create"]
    assert "Contact met Kees van Leeuwen (bellen)" in create_row
    planned = json.loads(_plan(vdir_example, "--person", "maarten", "--format", "json").stdout)
    [maarten] = planned["people"]
    assert Counter(e["action"] for e in maarten["events"]) == {a: n for a, n in maarten["changes"].items() if n}
    assert {a: n for a, n in maarten["changes"].items() if n} == {a: n for a, n in counts.items() if n}
    synced = run("sync", "--config", str(vdir_example), "--today", TODAY, "--person", "maarten", "--format", "json")
    assert synced.returncode == 0, synced.stderr
    [calendar] = json.loads(synced.stdout)["calendars"]
    assert calendar["done"] == {a: n for a, n in maarten["changes"].items() if n}     # as predicted
    log = vdir_example.with_name("contacts-log.yaml").read_text(encoding="utf-8")
    assert log.count("with: kees-van-leeuwen") == 2                  # the example's line, and this one
    # Logged once; from now on the person's own event: no row, no conflict, nothing to do.
    after = _plan(vdir_example, "--person", "maarten")
    counts, rows = _header_and_rows(after.stdout, "maarten")
    assert {a for a, n in counts.items() if n} == {"keep"}
    assert "gedaan" not in after.stdout
    assert "gedaan" in reminder.read_text(encoding="utf-8")            # left as Maarten made it


def test_a_conflict_row_shows_the_persons_time_and_what_they_changed(vdir_example):
    first = run("sync", "--config", str(vdir_example), "--today", TODAY, "--person", "maarten", "--person", "fatima")
    assert first.returncode == 0, first.stderr
    for person in ("maarten", "fatima"):
        folder = vdir_example.parent / "agenda" / person
        session = _event_file(folder, f"session/bel-uurtje/2027-04/{person}")
        _edit(session, lambda e: [e[name].__setattr__("dt", e.decoded(name) - timedelta(hours=1))
                                  for name in ("dtstart", "dtend")])
        aftercare = _event_file(folder, "KEY:aftercare/", "/6-weeks/")
        _edit(aftercare, lambda e: e.__setitem__("summary", "Verzet: " + str(e["summary"])))
    table = _plan(vdir_example, "--person", "maarten", "--person", "fatima")
    assert table.returncode == 0, table.stderr
    _, maarten = _header_and_rows(table.stdout, "maarten")
    _, fatima = _header_and_rows(table.stdout, "fatima")
    [moved] = [row for row in maarten if row.split()[0] == "conflict" and "session" in row]
    assert moved.startswith("  conflict 2027-04-01 thu 13:00 ")           # where Maarten has it, not 14:00
    assert moved.endswith("Bel-uurtje  — door jou verplaatst naar do 1 apr 13:00")
    [edited] = [row for row in maarten if row.split()[0] == "conflict" and "aftercare" in row]
    assert "Verzet: Nazorg" in edited and edited.endswith("— door jou aangepast")
    [moved] = [row for row in fatima if row.split()[0] == "conflict" and "session" in row]
    assert moved.endswith("Bel-uurtje  — moved to Thu 1 Apr 13:00 by you")
    [edited] = [row for row in fatima if row.split()[0] == "conflict" and "aftercare" in row]
    assert "Verzet: Aftercare" in edited and edited.endswith("— edited by you")
    doc = json.loads(_plan(vdir_example, "--person", "fatima", "--format", "json").stdout)
    [row] = [e for e in doc["people"][0]["events"] if e["action"] == "conflict" and e["kind"] == "session"]
    assert row["start"] == "2027-04-01T13:00:00+02:00" and row["planned"]["start"] == "2027-04-01T14:00:00+02:00"
    assert row["reason"] == "moved to Thu 1 Apr 13:00 by you"


# -- purge -------------------------------------------------------------------------------------

def run_on_a_terminal(*args: str, answer: str, cwd=None):
    """The real command with its stdin on a terminal (a pseudo-terminal), answering `answer`."""
    import os
    import pty
    import subprocess
    import sys
    controller, terminal = pty.openpty()
    try:
        child = subprocess.Popen([sys.executable, "-m", "kalender_sync", *args], stdin=terminal,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                                 cwd=cwd, env=dict(os.environ, PYTHONUTF8="1"))
        os.write(controller, answer.encode())
        out, err = child.communicate(timeout=120)
    finally:
        os.close(terminal)
        os.close(controller)
    return child.returncode, out, err


@pytest.fixture
def purgeable(vdir_example):
    """Maarten's and Ad's calendars synced; Maarten moved one event and marked a reminder done."""
    first = run("sync", "--config", str(vdir_example), "--today", TODAY, "--person", "maarten", "--person", "ad")
    assert first.returncode == 0, first.stderr
    folder = vdir_example.parent / "agenda"
    moved = _event_file(folder / "maarten", "session/bel-uurtje/2027-04/maarten")
    _edit(moved, lambda e: [e[name].__setattr__("dt", e.decoded(name) + timedelta(days=1))
                            for name in ("dtstart", "dtend")])
    marked = _event_file(folder / "maarten", "contact/maarten/kees-van-leeuwen/2027-02-08/0")
    _edit(marked, lambda e: e.__setitem__("summary", "✓ " + str(e["summary"])))
    counts = {p: len(list((folder / p).glob("*.ics"))) for p in ("maarten", "ad")}
    return vdir_example, folder, counts, moved, marked


def test_purge_says_what_it_removes_per_calendar_and_no_removes_nothing(purgeable):
    config, folder, counts, _, _ = purgeable
    before = {p: sorted(f.read_bytes() for f in (folder / p).glob("*.ics")) for p in counts}
    code, out, err = run_on_a_terminal("purge", "--config", str(config), "--today", TODAY, "--person", "maarten",
                                       "--person", "ad", answer="n\n")
    assert code == 0, out + err                                      # declining is not a failure
    assert f"maarten → {folder / 'maarten'}: {counts['maarten'] - 2} events to remove; 2 changed by their person " \
           "stay (1 moved or edited, 1 marked done; --include-changed removes them too)" in out
    assert f"ad → {folder / 'ad'}: {counts['ad']} events to remove" in out
    assert f"Remove {counts['maarten'] - 2 + counts['ad']} kalender-sync events from 2 calendars? [y/N]" in out
    assert out.rstrip().endswith("nothing removed") and "aborted" not in out + err
    assert {p: sorted(f.read_bytes() for f in (folder / p).glob("*.ics")) for p in counts} == before
    code, out, err = run_on_a_terminal("purge", "--config", str(config), "--today", TODAY, "--person", "ad",
                                       "--format", "json", answer="n\n")
    assert code == 0 and json.loads(out)["outcome"] == "declined" and json.loads(out)["removed"] == 0
    assert "Remove " in err and f"ad → {folder / 'ad'}: {counts['ad']} events to remove" in err
    refused = run("purge", "--config", str(config), "--today", TODAY)   # no terminal, no --yes
    assert refused.returncode == 2 and "pass --yes" in refused.stderr


def test_purge_keeps_what_people_changed_unless_asked_and_reports_in_json(purgeable):
    config, folder, counts, moved, marked = purgeable
    common = ["--config", str(config), "--today", TODAY, "--person", "maarten", "--person", "ad", "--yes"]
    code, out, err = run_on_a_terminal("purge", *common, answer="")
    assert code == 0, out + err
    assert f"maarten → {folder / 'maarten'}: {counts['maarten'] - 2} removed; 2 changed by their person kept " \
           "(1 moved or edited, 1 marked done)" in out
    assert sorted((folder / "maarten").glob("*.ics")) == sorted([moved, marked])
    assert list((folder / "ad").glob("*.ics")) == []
    result = run("purge", *common, "--include-changed", "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["outcome"] == "removed" and doc["removed"] == 2
    maarten = next(c for c in doc["calendars"] if c["person"] == "maarten")
    assert maarten["to_remove"] == maarten["removed"] == 2 and maarten["read"] is True
    assert maarten["changed_by_person"] == {"moved_or_edited": 1, "marked_done": 1, "removed": True}
    assert list((folder / "maarten").glob("*.ics")) == []
    empty = run("purge", *common, "--format", "json")
    assert empty.returncode == 0 and json.loads(empty.stdout)["removed"] == 0
    assert json.loads(empty.stdout)["outcome"] == "nothing to remove"


def test_a_sync_whose_files_cannot_be_written_did_nothing_and_exits_1(example, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    text = example.read_text(encoding="utf-8")
    example.write_text(text.replace("ics: out/{person}.ics", "ics: blocker/sub/{person}.ics"), encoding="utf-8")
    result = run("sync", "--config", str(example), "--today", TODAY, "--person", "ad", "--format", "table")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(f"ad → {tmp_path / 'blocker' / 'sub' / 'ad.ics'}: nothing written\n  FAILED: ")
    assert "create" not in result.stdout and "nothing to do" not in result.stdout
    assert "error: nothing was synced; not finished for: ad" in result.stderr
