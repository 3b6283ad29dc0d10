"""The config of busy times (issue 12): people's `busy`, the top-level default, `busy_notice`,
`busy_query`, and the read-only kind `url`, which is never a sync target.

The refused configs are in the bad-config corpus (tests/data/bad-configs/71-78); here the
model a valid config becomes, and what reads it."""
from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from kalender_sync.core.config import load_team
from kalender_sync.core.errors import ConfigError, UsageError
from kalender_sync.core.model import Calendar, busy_sources_of, location_for, username_for
from kalender_sync.engine.sync import calendar_jobs
from kalender_sync.targets.registry import TargetContext, open_target
from support.cli import run_in_process

DATA = Path(__file__).resolve().parents[1] / "data"
BUSY_TEAM = DATA / "busy-team.yaml"


@pytest.fixture(scope="module")
def team():
    return load_team(BUSY_TEAM.read_text(encoding="utf-8"), str(BUSY_TEAM))


_CALENDARS = """\
    calendars:
      files: {ics: "out/{person}.ics"}
      werk: {caldav: "https://dav.example.nl/{person}/werk/"}
    """


def _team(body: str):
    """A config of `body` below its version and time zone; the calendars above, unless it has its own."""
    body = textwrap.dedent(body)
    calendars = "" if body.startswith("calendars:") else textwrap.dedent(_CALENDARS)
    return load_team("version: 1\ntimezone: Europe/Amsterdam\n" + calendars + body, "c.yaml")


def _problems(body: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _team(body)
    return [str(problem) for problem in caught.value.problems]


def test_each_person_reads_their_own_busy_else_the_top_level_one(team):
    busy = {person.id: person.busy for person in team.people.values()}
    assert busy == {"hanna": ("werk",), "kim": ("outlook",), "bram": ("netwerk", "kantoor"),
                    "sanne": ("google",), "ad": ()}


def test_the_calendars_of_the_issue_shape(team):
    calendars = team.calendars
    assert {cal_id: cal.kind for cal_id, cal in calendars.items()} == {
        "werk": "caldav", "outlook": "url", "google": "url", "kantoor": "url", "netwerk": "caldav", "files": "ics"}
    assert calendars["werk"] == Calendar("werk", "caldav", "https://dav.example.nl/{person}/werk/", "{person}",
                                         "KALENDER_SYNC_PASSWORD", None, "events")
    assert calendars["netwerk"].busy_query == "freebusy"
    assert calendars["netwerk"].username is None
    assert [cal_id for cal_id, cal in calendars.items() if not cal.writes] == ["outlook", "google", "kantoor"]
    assert team.busy_notice == timedelta(weeks=3)


def test_busy_sources_of_gives_each_calendar_with_its_location_for_that_person(team):
    assert busy_sources_of(team, "hanna") == [(team.calendars["werk"], "https://dav.example.nl/hanna/werk/")]
    assert busy_sources_of(team, team.people["bram"]) == [
        (team.calendars["netwerk"], "https://xandikos.example.nl/bram/calendars/netwerk/"),
        (team.calendars["kantoor"], "file:///srv/agenda/kantoor-dicht.ics")]
    # webcal:// is how Google and Outlook hand out a published calendar: it is read over https.
    assert busy_sources_of(team, "sanne") == [(team.calendars["google"], "https://calendar.google.com/calendar/"
                                               "ical/sanne%40example.nl/private-0123abcd/basic.ics")]
    assert busy_sources_of(team, "ad") == []
    assert username_for(team.calendars["werk"], "hanna") == "hanna"
    assert username_for(team.calendars["netwerk"], "bram") is None
    assert location_for(Calendar("x", "url", "WEBCAL://h/{person}.ics"), "kim") == "https://h/kim.ics"


def test_without_busy_keys_nobody_reads_busy_times_and_the_notice_is_two_weeks():
    team = _team("people:\n  maarten: {name: Maarten van Os, calendar: files}\n")
    assert team.people["maarten"].busy == ()
    assert team.busy_notice == timedelta(days=14)
    assert team.calendars["werk"].busy_query == "events"


@pytest.mark.parametrize("written, notice", [("2 weeks", timedelta(days=14)), ("10 dagen", timedelta(days=10)),
                                             ("none", timedelta(0)), ("52 weeks", timedelta(weeks=52)),
                                             ("366 days", timedelta(days=366))])
def test_busy_notice_is_days_or_weeks_up_to_a_year(written: str, notice: timedelta):
    team = _team(f"busy_notice: {written}\npeople:\n  maarten: {{name: Maarten van Os, calendar: files}}\n")
    assert team.busy_notice == notice


@pytest.mark.parametrize("written, message", [
    ("367 days", "a notice over 1 year (366 days) cannot be given"),
    ("2 months", "give the notice in days or weeks, such as 14 days or 2 weeks"),
    ("14", "expected a number of days or weeks, such as 14 days or 2 weeks; or none"),
    ("0 days", "expected a number of days or weeks, such as 14 days or 2 weeks; or none"),
])
def test_a_wrong_busy_notice_says_what_to_write(written: str, message: str):
    assert _problems(f"busy_notice: {written}\npeople:\n  maarten: {{name: Maarten van Os, calendar: files}}\n") \
        == [f"c.yaml:6: busy_notice: {message} (got: {written})"]


def test_an_empty_busy_overrides_the_default_and_one_id_alone_is_a_list():
    team = _team("""\
        busy: werk
        people:
          maarten: {name: Maarten van Os, calendar: files}
          sanne: {name: Sanne Bakker, calendar: files, busy: []}
          ad:
            name: Ad Verhoeven
            calendar: files
            busy:
        """)
    assert {p.id: p.busy for p in team.people.values()} == {"maarten": ("werk",), "sanne": (), "ad": ()}


def test_a_key_without_a_value_at_the_end_of_a_flow_mapping_is_a_located_problem_not_a_crash():
    """libyaml refuses `{..., busy:}` where PyYAML's own parser reads busy as empty; the reader
    used to re-raise libyaml's error, and the CLI printed an internal error."""
    text = "people:\n  ad: {name: Ad Verhoeven, calendar: files, busy:}\n"
    if getattr(yaml, "CSafeLoader", None) is None:
        assert _team(text).people["ad"].busy == ()
        return
    assert _problems(text) == ["c.yaml:7: not valid YAML: found unexpected ':' (in the plain scalar that starts "
                               "on line 7); give the key a value, or leave it out"]


def test_every_busy_problem_is_reported_at_once_with_its_place():
    assert _problems("""\
        busy: [wrek]
        people:
          maarten: {name: Maarten van Os, calendar: files, busy: [werk, files, wrek, werk]}
          sanne: {name: Sanne Bakker, calendar: files, busy: {werk: 1}}
        """) == [
        "c.yaml:6: busy[0]: unknown calendar (did you mean 'werk'?) (got: wrek)",
        "c.yaml:8: people.maarten.busy[1]: calendar 'files' (ics) cannot be read for busy times; busy names "
        "'caldav' or 'url' calendars (got: files)",
        "c.yaml:8: people.maarten.busy[2]: unknown calendar (did you mean 'werk'?) (got: wrek)",
        "c.yaml:8: people.maarten.busy[3]: calendar listed twice (got: werk)",
        "c.yaml:9: people.sanne.busy: expected a list (got: a mapping)",
    ]


def test_a_caldav_url_with_a_password_and_a_wrong_scheme_is_not_echoed():
    """ftp://user:secret@host is wrong twice; the scheme's message used to echo the secret."""
    problems = _problems("""\
        calendars:
          files: {ics: "out/{person}.ics"}
          dav: {caldav: "ftp://maarten:Winter2026geheim@dav.example.nl/{person}/"}
        people:
          maarten: {name: Maarten van Os, calendar: dav}
        """)
    assert problems == ["c.yaml:5: calendars.dav.caldav: the URL contains a password; use password_env or "
                        "keyring instead"]
    assert "Winter2026geheim" not in "\n".join(problems)


@pytest.mark.parametrize("url", ["webcal://x.example.nl/{person}.ics", "http://127.0.0.1:8000/team.ics",
                                 "file:///srv/agenda/{person}.ics", "HTTPS://x.example.nl/a.ics"])
def test_a_published_calendar_is_read_from_these_addresses(url: str):
    team = _team(f"""\
        calendars:
          files: {{ics: "out/{{person}}.ics"}}
          away: {{url: "{url}"}}
        people:
          maarten: {{name: Maarten van Os, calendar: files, busy: away}}
        """)
    assert team.calendars["away"] == Calendar("away", "url", url)


@pytest.mark.parametrize("url, message", [
    ("ftp://x.example.nl/a.ics", "expected an https://, http://, webcal:// or file:/// address (got: {url})"),
    ("file://server/a.ics", "a file is written file:///path, with the absolute path after the third '/' (got: {url})"),
    ("file:a.ics", "expected an https://, http://, webcal:// or file:/// address (got: {url})"),
    ("https:///a.ics", "the address names no server (got: {url})"),
    ("https://kim@x.example.nl/a.ics", "the URL contains a user name or password; a published calendar is read "
                                       "without a login (use a caldav calendar for a server that wants one)"),
])
def test_a_published_calendar_elsewhere_is_refused(url: str, message: str):
    assert _problems(f"""\
        calendars:
          files: {{ics: "out/{{person}}.ics"}}
          away: {{url: "{url}", username: kim}}
        people:
          maarten: {{name: Maarten van Os, calendar: files}}
        """) == [f"c.yaml:5: calendars.away.url: {message.format(url=url)}",
                 "c.yaml:5: calendars.away.username: only used with 'caldav'"]


def test_calendar_jobs_are_the_people_s_own_calendars_only(team):
    jobs = calendar_jobs(team)
    assert [(job.person.id, job.calendar.id) for job in jobs] == [
        ("hanna", "werk"), ("kim", "files"), ("bram", "files"), ("sanne", "files"), ("ad", "files")]
    assert not {"outlook", "google", "kantoor", "netwerk"} & {job.calendar.id for job in jobs}
    assert [job.calendar.id for job in calendar_jobs(team, kinds=("ics",))] == ["files"] * 4


def test_a_read_only_calendar_is_never_a_job_nor_opened_as_a_target(team, tmp_path):
    """A Team built in code can give someone a url calendar; it is still never written."""
    from dataclasses import replace
    kim = replace(team.people["kim"], calendar="outlook")
    odd = replace(team, people={**team.people, "kim": kim})
    assert "kim" not in {job.person.id for job in calendar_jobs(odd)}
    with pytest.raises(UsageError, match="calendar 'outlook' is read only"):
        open_target(team.calendars["outlook"], kim, TargetContext(tmp_path, team.name))


def test_check_names_the_busy_sources_it_validated(tmp_path):
    config = tmp_path / "team.yaml"
    config.write_text(BUSY_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_in_process("check", "--config", str(config), "--today", "2026-11-24", cwd=tmp_path,
                            env={"KALENDER_SYNC_CONFIG": None, "KALENDER_SYNC_PASSWORD": None})
    assert result.returncode == 0, result.stderr
    assert ", 0 logged contacts, busy times of 4 people from google, kantoor, netwerk, outlook, werk; " \
        in result.stdout, result.stdout
    assert not (tmp_path / "out").exists()


def test_check_says_nothing_of_busy_times_without_them(tmp_path):
    config = tmp_path / "team.yaml"
    config.write_text("version: 1\ntimezone: Europe/Amsterdam\ncalendars:\n  files: {ics: \"out/{person}.ics\"}\n"
                      "people:\n  maarten: {name: Maarten van Os, calendar: files}\n", encoding="utf-8")
    result = run_in_process("check", "--config", str(config), "--today", "2026-11-24", cwd=tmp_path,
                            env={"KALENDER_SYNC_CONFIG": None})
    assert result.returncode == 0, result.stderr
    assert "busy" not in result.stdout
