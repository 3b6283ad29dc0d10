"""The schema table, the reader, the model's defaults and docs/config.md say the same thing."""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from types import MappingProxyType

import pytest

from kalender_sync.core import config, model, schema
from kalender_sync.core.config import load_team
from kalender_sync.core.contactlog import load_log
from kalender_sync.core.errors import ConfigError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "config.md"

# A valid config that uses every key of the table (a calendar has one kind, so there is one
# calendar per kind, and one with keyring instead of password_env). Values are YAML text; each
# top-level key is rendered on one line, so changing a value never moves another line.
KITCHEN_SINK = {
    "version": "1",
    "team": "Infra & Water",
    "timezone": "Europe/Amsterdam",
    "language": "en",
    "horizon": "18 months",
    "past": "2 weeks",
    "working_hours": [{"days": "[mon, tue, wed, thu]", "start": '"08:30"', "end": '"17:00"'},
                      {"days": "[fri]", "start": '"08:30"', "end": '"12:30"'}],
    "holidays": {"country": "DE", "subdivision": "BY"},
    "reminders": {"max_per_week": "3", "overdue_every": "1 week", "at": '"10:00"', "ahead": "2", "alarm": "30m"},
    "calendars": {
        "files": {"ics": '"out/{person}.ics"'},
        "dav": {"caldav": '"https://dav.example.nl/{person}/"', "username": "bot", "password_env": "KS_PW",
                "busy_query": "freebusy"},
        "ring": {"caldav": '"https://dav.example.nl/{person}/"', "username": "bot", "keyring": "kalender-sync"},
        "away": {"url": '"webcal://agenda.example.nl/{person}/calendar.ics"'},
    },
    "people": {
        "maarten": {"name": "Maarten van Os", "email": "maarten@example.nl", "calendar": "files",
                    "working_hours": {"days": "[mon, tue]", "start": '"09:00"', "end": '"17:00"'},
                    "language": "nl"},
        "sanne": {"name": "Sanne Bakker", "calendar": "ring", "busy": "[dav, away]"},
        "ad": {"name": "Ad Verhoeven", "calendar": "ring"},
    },
    "contacts": [{"id": "piet", "owner": "maarten", "with": "Piet de Vries", "role": "former client",
                  "organisation": "Gemeente Tilburg", "every": "4 months", "last": "2026-07-01",
                  "next": "2026-12-01", "medium": "phone", "duration": "45m", "question": "Hoe gaat het?"}],
    "projects": [{"id": "dijk", "name": "Dijkversterking", "client": "Waterschap", "team": "[maarten, sanne]",
                  "end": "2026-10-01", "aftercare": "[6 weeks, 6 months]", "duration": "90m", "at": '"14:00"',
                  "location": "Den Bosch"}],
    "sessions": [{"id": "bel", "name": "Bel-uurtje", "every": "quarter", "participants": "[maarten, sanne]",
                  "prefer": {"weekday": "tue", "start": '"14:00"'}, "duration": "45m", "location": "Zoom",
                  "description": "Samen bellen"}],
    "meetings": [{"id": "avond", "name": "Netwerkavond", "at": '"2027-03-18 19:30"', "duration": "3h",
                  "location": "Utrecht", "representative": "ad", "colleagues": "[maarten]",
                  "prepare": "2 weeks before", "report_back": "1 day after"}],
    "mail": {"organizer": "team@example.nl", "organizer_name": "Het Team", "smtp_host": "smtp.example.nl",
             "smtp_port": "2525", "security": "ssl", "username": "team", "password_env": "KS_MAIL",
             "keyring": "kalender-sync", "invite": "[session, meeting]"},
    "feed": {"base_url": "https://agenda.example.nl", "listen": '"[::1]:9090"', "refresh": "1 day"},
    "busy": "[away]",
    "busy_notice": "3 weeks",
}

# A kind added to the registry gets a calendar here without a test edit, so the tests below
# read its key too.
_SOMEWHERE = {"file": '"out/{person}.ics"', "url": '"https://dav.example.nl/{person}/"', "folder": '"out/{person}"',
              "published": '"https://agenda.example.nl/{person}/calendar.ics"'}
for _kind in schema.CALENDAR_KINDS.values():
    if not any(_kind.key in calendar for calendar in KITCHEN_SINK["calendars"].values()):
        KITCHEN_SINK["calendars"][f"by-{_kind.key}"] = {_kind.key: _SOMEWHERE[_kind.value]}

LOG_ENTRY = {"who": "maarten", "with": "Piet de Vries", "on": "2026-11-16", "next": "2027-02-08", "note": "koffie",
             "for": "2026-11-12"}
# A snooze ("not now, remind me on ...") logs no contact: it has no `on`, so it is an entry of its own.
SNOOZE_ENTRY = {"who": "maarten", "with": "Piet de Vries", "snooze": "2027-01-10", "for": "2026-11-12"}

# Where in KITCHEN_SINK a mapping of each section is.
WHERE = {"top": (), "working_hours": ("working_hours", 0), "holidays": ("holidays",),
         "reminders": ("reminders",), "person": ("people", "maarten"), "calendar": ("calendars", "dav"),
         "contact": ("contacts", 0), "project": ("projects", 0), "session": ("sessions", 0),
         "prefer": ("sessions", 0, "prefer"), "meeting": ("meetings", 0), "mail": ("mail",), "feed": ("feed",)}

# Model fields whose default is a config default -> (section, key) of the table; "listen"
# gives two fields.
MODEL_DEFAULTS = {
    (model.ReminderSettings, "max_per_week"): lambda: schema.default("reminders", "max_per_week"),
    (model.ReminderSettings, "overdue_every"): lambda: schema.default("reminders", "overdue_every"),
    (model.ReminderSettings, "at"): lambda: schema.default("reminders", "at"),
    (model.ReminderSettings, "ahead"): lambda: schema.default("reminders", "ahead"),
    (model.ReminderSettings, "alarm"): lambda: schema.default("reminders", "alarm"),
    (model.ContactAgreement, "duration"): lambda: schema.default("contact", "duration"),
    (model.MailSettings, "kinds"): lambda: schema.default("mail", "invite"),
    (model.FeedSettings, "host"): lambda: schema.default("feed", "listen").host,
    (model.FeedSettings, "port"): lambda: schema.default("feed", "listen").port,
    (model.FeedSettings, "refresh"): lambda: schema.default("feed", "refresh"),
    (model.Calendar, "busy_query"): lambda: schema.default("calendar", "busy_query"),
    (model.Team, "busy_notice"): lambda: schema.default("top", "busy_notice"),
}


LEFT_OUT = object()     # a key not written (at the top level, a comment line keeps the lines)


def _yaml(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_yaml(item)}" for key, item in value.items() if item is not LEFT_OUT) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(item) for item in value) + "]"
    return value


def _render(tree: dict) -> str:
    return "".join("#\n" if value is LEFT_OUT else f"{key}: {_yaml(value)}\n" for key, value in tree.items())


def _mapping(tree: dict, section: str) -> dict:
    for step in WHERE[section]:
        tree = tree[step]
    return tree


def _load(tree: dict) -> model.Team:
    return load_team(_render(tree), "kitchen-sink.yaml")


def _problems(text: str, log: str | None = None) -> list[str]:
    try:
        team = load_team(text, "c.yaml")
        if log is not None:
            load_log(team, log, "log.yaml")
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def _all_keys():
    return [(section.name, key) for section in schema.SECTIONS.values() for key in section.keys.values()]


def test_the_key_reference_is_up_to_date():
    assert DOCS.read_bytes() == schema.render_reference().encode("utf-8"), (
        "docs/config.md is not what schema.py describes; regenerate it with "
        "`.venv/bin/python -m kalender_sync.core.schema` and commit it")


def test_the_kitchen_sink_config_and_log_are_valid():
    team = _load(KITCHEN_SINK)
    assert load_log(team, f"- {_yaml(LOG_ENTRY)}\n", "log.yaml").log


def test_the_reader_reads_every_key_of_the_table(monkeypatch):
    """A key in the table that no reader code reads would be accepted and silently ignored."""
    read: set[tuple[str, str]] = set()
    get_value, get_node = config._Fields.__getitem__, config._Fields.node

    def value(fields, name):
        if name in fields.items:
            read.add((fields.keys[name].section, name))
        return get_value(fields, name)

    def node(fields, name):
        if name in fields.items:
            read.add((fields.keys[name].section, name))
        return get_node(fields, name)

    monkeypatch.setattr(config._Fields, "__getitem__", value)
    monkeypatch.setattr(config._Fields, "node", node)
    team = _load(KITCHEN_SINK)
    load_log(team, f"- {_yaml(LOG_ENTRY)}\n- {_yaml(SNOOZE_ENTRY)}\n", "log.yaml")

    expected = {(section, key.name) for section, key in _all_keys() if key.type is not schema.REFUSED}
    assert expected - read == set(), "keys of the table that were not read (or KITCHEN_SINK lacks them)"


@pytest.mark.parametrize("section, key", [(s, k.name) for s, k in _all_keys()], ids=lambda v: str(v))
def test_a_misspelt_key_is_refused_with_the_table_key_it_meant(section: str, key: str):
    tree, entry = copy.deepcopy(KITCHEN_SINK), dict(LOG_ENTRY)
    (entry if section == "log" else _mapping(tree, section))[f"{key}x"] = "x"

    problems = _problems(_render(tree), f"- {_yaml(entry)}\n")

    assert [p for p in problems if p.endswith(f"{key}x: unknown key (did you mean '{key}'?)")], problems


def _keys_with_a_default():
    return [(section, key.name) for section, key in _all_keys() if key.default is not None]


@pytest.mark.parametrize("section, key", _keys_with_a_default(), ids=lambda v: str(v))
def test_leaving_a_key_out_is_writing_its_default(section: str, key: str):
    """The reader's default for a missing key is the table's default text, read as the user's."""
    left_out, written = copy.deepcopy(KITCHEN_SINK), copy.deepcopy(KITCHEN_SINK)
    assert key in _mapping(left_out, section), "KITCHEN_SINK should set the key to something else"
    _mapping(left_out, section)[key] = LEFT_OUT
    _mapping(written, section)[key] = schema.key(section, key).default

    assert _load(left_out) == _load(written)
    assert _load(left_out) != _load(KITCHEN_SINK), "KITCHEN_SINK should not use the default"


@pytest.mark.parametrize("security, port", schema.key("mail", "smtp_port").default_by[1])
def test_the_smtp_port_defaults_by_security(security: str, port: str):
    left_out, written = copy.deepcopy(KITCHEN_SINK), copy.deepcopy(KITCHEN_SINK)
    left_out["mail"]["smtp_port"] = LEFT_OUT
    left_out["mail"]["security"] = written["mail"]["security"] = security
    written["mail"]["smtp_port"] = port

    assert _load(left_out).mail == _load(written).mail
    assert _load(left_out).mail.smtp_port == int(port)


def test_every_default_is_read_by_its_own_parser():
    for section, key in _all_keys():
        if key.default is not None and key.type.parse is not None:
            assert key.default_value == key.parse(key.default), (section, key.name)
            assert schema.default(section, key.name) is key.default_value
    with pytest.raises(LookupError):
        schema.default("top", "timezone")            # required: no default
    with pytest.raises(LookupError):
        schema.default("top", "working_hours")       # read from the YAML tree by the reader


def test_the_models_defaults_are_the_tables():
    for (cls, name), table_default in MODEL_DEFAULTS.items():
        assert {f.name: f for f in dataclasses.fields(cls)}[name].default == table_default(), (cls, name)


def test_no_model_default_is_written_outside_the_table():
    """A default added to a model dataclass must come from the table (and be listed above)."""
    for cls in vars(model).values():
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)) or cls.__module__ != model.__name__:
            continue
        for f in dataclasses.fields(cls):
            value = f.default
            if f.name == "line" or value is dataclasses.MISSING or value in (None, "", ()) \
                    or dataclasses.is_dataclass(value):    # a line in the file; no value; made of table defaults
                continue
            assert (cls, f.name) in MODEL_DEFAULTS, f"{cls.__name__}.{f.name} = {value!r} is not from schema.py"


def test_each_calendar_kind_is_a_key_of_the_calendar_section():
    calendar = schema.SECTIONS["calendar"].keys
    assert list(schema.CALENDAR_KINDS) == list(calendar)[:len(schema.CALENDAR_KINDS)]
    for kind in schema.CALENDAR_KINDS.values():
        assert calendar[kind.key].type is schema.LOCATIONS[kind.value]
        assert ":" in kind.target


def test_a_calendar_keeps_its_location_under_the_old_names_too():
    team = _load(KITCHEN_SINK)
    files, dav = team.calendars["files"], team.calendars["dav"]
    assert (files.kind, files.location) == ("ics", "out/{person}.ics")
    assert (dav.kind, dav.location, dav.username) == ("caldav", "https://dav.example.nl/{person}/", "bot")


@pytest.fixture
def with_a_folder_kind(monkeypatch):
    """One more kind, added the way a new target would add it: one entry in the table."""
    kinds = MappingProxyType({**schema.CALENDAR_KINDS, "vdir": schema.CalendarKind(
        key="vdir", target="tests:Folder", value="folder", label="a folder path", credentials=False)})
    monkeypatch.setattr(schema, "CALENDAR_KINDS", kinds)
    monkeypatch.setattr(schema, "SECTIONS", MappingProxyType(
        {**schema.SECTIONS, "calendar": schema.calendar_section(kinds)}))


def _with_calendar(calendar: str) -> str:
    """KITCHEN_SINK with one more calendar (that nobody uses), `extra`."""
    tree = copy.deepcopy(KITCHEN_SINK)
    tree["calendars"]["extra"] = calendar
    return _render(tree)


def test_a_new_calendar_kind_is_read_from_the_table(with_a_folder_kind):
    team = load_team(_with_calendar('{vdir: "out/{person}"}'), "c.yaml")
    assert team.calendars["extra"] == model.Calendar("extra", "vdir", "out/{person}")

    line = 'c.yaml:{}: calendars.extra'.format(list(KITCHEN_SINK).index("calendars") + 1)
    assert _problems(_with_calendar("{}")) == [
        (f"{line}: a calendar needs exactly one of 'ics' (a file path), 'caldav' (a server URL), "
         "'vdir' (a folder path) or 'url' (a published calendar's address)")]
    assert _problems(_with_calendar('{ics: "out/{person}.ics", vdir: "out/{person}"}')) == [
        f"{line}: a calendar needs exactly one of 'ics' (a file path) or 'vdir' (a folder path)"]
    assert _problems(_with_calendar('{vdir: out, username: bot}')) == [
        f"{line}.username: only used with 'caldav'",
        f"{line}.vdir: must contain {{person}}, so that every person gets a folder of their own (got: out)"]
