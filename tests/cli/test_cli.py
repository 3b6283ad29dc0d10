"""The command line as a user meets it: messages, exit codes, plan == export."""
from __future__ import annotations

import json
import textwrap

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
    (["check", "--today", "2026-02-30"], "expected a date as YYYY-MM-DD (got: 2026-02-30)"),
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
