"""Calendars named only in `busy` are read, never written: sync, export and purge leave a
busy-only CalDAV calendar and a published (url) calendar alone, and a calendar that is both
someone's `calendar:` and their busy source stays their target. On real Radicale (no login)."""
from __future__ import annotations

import textwrap
import uuid

import pytest

from support.cli import run_in_process as run

pytestmark = pytest.mark.integration

TODAY = "2026-11-24"
EMPTY_CALENDAR = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kantoor//Gesloten//NL\r\n"
                  b"END:VCALENDAR\r\n")


@pytest.fixture
def radicale(radicale_server):
    pytest.importorskip("caldav", reason="CalDAV tests need the 'caldav' package")
    return radicale_server


def _write_config(path, template: str, away: str, maarten_calendar: str) -> None:
    path.write_text(textwrap.dedent(f"""\
        version: 1
        timezone: Europe/Amsterdam
        calendars:
          dav: {{caldav: "{template}"}}
          away: {{url: "{away}"}}
          files: {{ics: "out/{{person}}.ics"}}
        people:
          maarten: {{name: Maarten van Os, calendar: {maarten_calendar}, busy: [dav, away]}}
          sanne: {{name: Sanne Bakker, calendar: dav, busy: [dav]}}
        contacts:
          - {{owner: maarten, with: Piet de Vries, every: 4 months, last: 2026-07-01}}
          - {{owner: sanne, with: Joost Willems, every: 6 months, last: 2026-06-30}}
        """), encoding="utf-8")


def _run(command: str, config, *extra: str):
    return run(command, "--config", str(config), "--today", TODAY, *extra, cwd=config.parent,
               env={"KALENDER_SYNC_CONFIG": None})


def test_sync_export_and_purge_never_write_a_calendar_that_is_only_read_for_busy_times(radicale, tmp_path):
    run_id = uuid.uuid4().hex[:8]
    urls = {person: radicale.new_calendar(f"busy-{run_id}-{person}") for person in ("maarten", "sanne")}
    template = urls["maarten"].replace("-maarten/", "-{person}/")
    (tmp_path / "away").mkdir()
    for person in urls:
        (tmp_path / "away" / f"{person}.ics").write_bytes(EMPTY_CALENDAR)
    away = (tmp_path / "away").as_uri() + "/{person}.ics"
    config = tmp_path / "team.yaml"

    # First maarten's events go to the server too: his calendar there then holds one of ours.
    _write_config(config, template, away, "dav")
    first = _run("sync", config)
    assert first.returncode == 0, first.stdout + first.stderr
    assert {person: radicale.count_objects(url) for person, url in urls.items()} == {"maarten": 1, "sanne": 1}

    # Now his events go to a file, and the server calendar is only read for his busy times.
    _write_config(config, template, away, "files")
    synced = _run("sync", config)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert (tmp_path / "out" / "maarten.ics").is_file()
    assert not (tmp_path / "out" / "sanne.ics").exists(), "sanne's calendar is on the server"
    exported = _run("export", config, "--out", str(tmp_path / "export"))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert sorted(p.name for p in (tmp_path / "export").glob("*.ics")) == ["maarten.ics", "sanne.ics"]

    purged = _run("purge", config, "--yes")
    assert purged.returncode == 0, purged.stdout + purged.stderr
    # sanne's calendar is her target (and her busy source): purged. maarten's is only read now.
    assert {person: radicale.count_objects(url) for person, url in urls.items()} == {"maarten": 1, "sanne": 0}
    assert all((tmp_path / "away" / f"{person}.ics").read_bytes() == EMPTY_CALENDAR for person in urls)
    assert sorted(p.name for p in (tmp_path / "away").iterdir()) == ["maarten.ics", "sanne.ics"]
