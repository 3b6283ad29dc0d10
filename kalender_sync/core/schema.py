"""Every config key in one table: its section, type, default, range or choices, and help.

The table drives the reader (config.py: unknown keys, missing keys, typed values and their
defaults), the model's defaults (model.py) and the key reference (docs/config.md, written by
`python -m kalender_sync.core.schema`), so the three cannot drift apart. As in Radicale's
config schema, a default is written as the text a user would put in the YAML and becomes a
value through the same parser that reads the user's text: the reference shows what to write,
and a default that does not parse fails at import, not in a user's run.

Rules that involve more than one key (working hours that overlap, `next` after `last`, a
session slot outside someone's working hours, duplicate ids, passwords) are not in the table:
config.py checks them explicitly.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo, available_timezones

from . import mediums, yamltree
from .durations import IntervalTooLong, check_supported, parse_interval, parse_length

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The people who keep the YAML write English and Dutch names, short and long.
_WEEKDAY_NAMES = MappingProxyType({
    **{d: i for i, d in enumerate(WEEKDAYS)},
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "ma": 0, "di": 1, "wo": 2, "do": 3, "vr": 4, "za": 5, "zo": 6,
    "maandag": 0, "dinsdag": 1, "woensdag": 2, "donderdag": 3, "vrijdag": 4, "zaterdag": 5, "zondag": 6,
})
LANGUAGES = ("nl", "en")
_SESSION_PERIODS = MappingProxyType({
    "month": 12, "monthly": 12, "quarter": 4, "quarterly": 4, "half year": 2, "half-year": 2,
    "year": 1, "yearly": 1, "maand": 12, "kwartaal": 4, "jaar": 1})
_TIMES_A_YEAR_RE = re.compile(r"^(\d+)\s*(?:times|x|keer)\s*(?:a|per)\s*(?:year|jaar)$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MEETING_TIME_RE = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Used by a few keys only: compiled on first use (re keeps them), not at every start-up.
_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_FEED_URL = r"^https?://[^/\s@]+"
_SERVER_URL = r"^https?://[^/\s]+"
_URL_WITH_PASSWORD = r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s]*:[^/@\s]*@"
_URL_AUTHORITY = r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/\s]*)"
_PUBLISHED_SCHEMES = ("https", "http", "webcal")
_LISTEN = r"(?:(\[[0-9a-fA-F:]+\]|[0-9.]+|[A-Za-z0-9.-]+):)?(\d{1,5})"
BUSY_QUERIES = ("events", "freebusy")
# busy_notice: a notice longer than a year would keep a placed occurrence wherever it is,
# whatever comes up in people's calendars.
NOTICE_DAYS = 366


class SecretValueError(ValueError):
    """A wrong value that may be a secret (a password pasted in the wrong place): it is reported
    on its key's line and never echoed."""


def suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def is_id(text: str) -> bool:
    return bool(_ID_RE.match(text))


def id_rule(noun: str) -> str:
    return f"a {noun} id must be lower-case letters, digits, '.', '_' or '-'"


# -- value types -------------------------------------------------------------------------------

class ValueType:
    """What a key's value is. `parse` turns the (stripped) text into the value or raises
    ValueError with the message the user sees; types without it are read from the YAML tree
    (lists, mappings, references to people or calendars) by config.py. One object per type,
    compared by identity."""

    __slots__ = ("name", "help", "parse", "item")

    def __init__(self, name: str, help: str, parse: Callable[[str, Key], object] | None = None,
                 item: ValueType | None = None):
        self.name = name          # as the reference calls it
        self.help = help          # what to write, with examples
        self.parse = parse
        self.item = item          # for a list: its items' type

    def __repr__(self) -> str:
        return f"ValueType({self.name!r})"


def _text(text: str, key: Key) -> str:
    return text


def _whole_number(text: str, key: Key) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        try:
            value = int(text.replace("_", ""), 0)   # YAML 1.1 spellings such as 0x1F
        except ValueError:
            raise ValueError("expected a whole number") from None
    if not key.minimum <= value <= key.maximum:
        raise ValueError(f"must be between {key.minimum} and {key.maximum}")
    return value


def _interval(text: str, key: Key):
    return parse_interval(text)


def _length(text: str, key: Key) -> timedelta:
    return parse_length(text)


def _alarm(text: str, key: Key) -> timedelta | None:
    return None if text.lower() in ("none", "off", "geen") else parse_length(text)


def _past(text: str, key: Key):
    if text.lower() in ("none", "off", "geen"):
        return None
    try:
        interval = parse_interval(text)
    except IntervalTooLong:
        interval = None
    except ValueError as exc:
        raise ValueError(f"{exc}, or none") from None
    days = {"days": 1, "weeks": 7}.get(interval.unit) if interval else None
    if interval is None or interval.months > 12 or days and interval.count * days > 366:
        raise ValueError("at most 1 year of the past is kept")
    return interval


def _time(text: str, key: Key) -> time:
    match = _TIME_RE.match(text)
    if not match:
        raise ValueError("expected a time as HH:MM (24-hour clock)")
    return time(int(match.group(1)), int(match.group(2)))


def _date(text: str, key: Key) -> date:
    if not _DATE_RE.fullmatch(text):
        raise ValueError("expected a date as YYYY-MM-DD")
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a real date: {exc}") from None
    return check_supported(day)


def _weekday(text: str, key: Key) -> int:
    if text.lower() not in _WEEKDAY_NAMES:
        raise ValueError("unknown weekday; use mon, tue, wed, thu, fri, sat or sun"
                         + suggest(text.lower(), _WEEKDAY_NAMES))
    return _WEEKDAY_NAMES[text.lower()]


def _choice(text: str, key: Key) -> str:
    if text.lower() not in key.choices:
        raise ValueError(f"must be one of {', '.join(key.choices)}" + suggest(text.lower(), key.choices))
    return text.lower()


def _medium(text: str, key: Key) -> str:
    """The medium's id: every word of core.mediums, English or Dutch, names one."""
    return mediums.read(text).id


def _id(text: str, key: Key) -> str:
    if not is_id(text):
        raise ValueError(id_rule(key.section))
    return text


def _email(text: str, key: Key) -> str:
    if not _EMAIL_RE.fullmatch(text):
        raise ValueError("not an e-mail address")
    return text


def _environment_variable(text: str, key: Key) -> str:
    if not re.fullmatch(_ENV_NAME, text):
        raise SecretValueError("expected the name of an environment variable, not a password")
    return text


def _feed_url(text: str, key: Key) -> str:
    if not re.match(_FEED_URL, text):
        raise ValueError("expected an https:// URL")
    return text


def _time_zone(text: str, key: Key) -> ZoneInfo:
    # Listing the zones walks the tz database: once per config read, never remembered.
    zones = available_timezones()
    if text not in zones:
        raise ValueError("unknown time zone" + suggest(text, zones))
    return ZoneInfo(text)


class Address(NamedTuple):
    host: str | None          # None: only a port was given
    port: int


def _listen(text: str, key: Key) -> Address:
    match = re.fullmatch(_LISTEN, text)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:8080")
    return Address(match.group(1).strip("[]") if match.group(1) else None, int(match.group(2)))


def _refresh(text: str, key: Key) -> timedelta:
    try:
        return parse_length(text)              # '6h', '30m'
    except ValueError:
        pass
    try:
        interval = parse_interval(text)        # '1 day', '1 week'
    except ValueError:
        interval = None
    if interval is None or interval.unit not in ("days", "weeks"):
        raise ValueError("expected a refresh interval such as '12h', '1 day' or '1 week'")
    return timedelta(days=interval.count * (7 if interval.unit == "weeks" else 1))


def _session_period(text: str, key: Key) -> int:
    """How many sessions a year."""
    lowered = " ".join(text.lower().split())
    match = _TIMES_A_YEAR_RE.match(lowered)
    if lowered in _SESSION_PERIODS:
        return _SESSION_PERIODS[lowered]
    if match and int(match.group(1)) in (1, 2, 3, 4, 6, 12):
        return int(match.group(1))
    raise ValueError("expected month, quarter, half year, year or "
                     "'N times a year' with N one of 1, 2, 3, 4, 6, 12")


def _meeting_time(text: str, key: Key) -> datetime:
    """Naive: the reader puts it in the team's time zone."""
    match = _MEETING_TIME_RE.fullmatch(text)
    if not match:
        raise ValueError("expected a date and time as 'YYYY-MM-DD HH:MM'")
    try:
        day = date.fromisoformat(match.group(1))
    except ValueError as exc:
        raise ValueError(f"not a real date: {exc}") from None
    check_supported(day)
    clock = _TIME_RE.match(match.group(2))
    if not clock:
        raise ValueError("not a real time of day")
    return datetime.combine(day, time(int(clock.group(1)), int(clock.group(2))))


def _relative(word: str, own_words: tuple[str, ...]):
    """'2 weeks before' / '1 day after' -> Interval."""
    other_words = {"before", "voor", "after", "na"} - set(own_words)

    def parse(text: str, key: Key):
        parts = text.strip().lower().rsplit(None, 1)
        body = parts[0] if len(parts) == 2 and parts[1] in own_words else text
        if len(parts) == 2 and parts[1] in other_words:
            raise ValueError(f"must be {word} the meeting, e.g. '2 weeks {word}'")
        try:
            return parse_interval(body)
        except IntervalTooLong:
            raise
        except ValueError as exc:
            raise ValueError(f"{exc} {word} the meeting") from None
    return parse


class Holidays(NamedTuple):
    country: str | None       # None: no public holidays
    subdivision: str | None


def _holidays(text: str, key: Key) -> Holidays:
    """The short form, `holidays: NL`; the mapping form is read as the `holidays` section."""
    if text.strip().lower() == "none":
        return Holidays(None, None)
    return Holidays(text.strip().upper(), None)


def _file_template(text: str, key: Key) -> str:
    if not text.endswith(".ics"):
        raise ValueError("the file name must end in .ics")
    if "{person}" not in text:
        raise ValueError("must contain {person}, so that every person gets a file of their own")
    return text


def _folder_template(text: str, key: Key) -> str:
    if "{person}" not in text:
        raise ValueError("must contain {person}, so that every person gets a folder of their own")
    return text


def _server_url(text: str, key: Key) -> str:
    # The password first: a wrong value is echoed, and ftp://user:secret@host is wrong too.
    if re.match(_URL_WITH_PASSWORD, text):
        raise SecretValueError("the URL contains a password; use password_env or keyring instead")
    if not re.match(_SERVER_URL, text):
        raise ValueError("expected an http:// or https:// URL")
    return text


def _published_url(text: str, key: Key) -> str:
    """Where a published calendar is read: a web address (webcal:// is https:// by another name,
    as Outlook and Google hand it out) or a file. It is read without a login: the secret of a
    published calendar is its address, so a user name or password in it is refused, never echoed."""
    match = re.match(_URL_AUTHORITY, text)
    if match and "@" in match.group(2):
        raise SecretValueError("the URL contains a user name or password; a published calendar is read "
                               "without a login (use a caldav calendar for a server that wants one)")
    scheme = match.group(1).lower() if match else ""
    if scheme == "file":
        if match.group(2) or not text[len("file://"):].startswith("/"):
            raise ValueError("a file is written file:///path, with the absolute path after the third '/'")
        return text
    if scheme not in _PUBLISHED_SCHEMES:
        raise ValueError("expected an https://, http://, webcal:// or file:/// address")
    if not match.group(2):
        raise ValueError("the address names no server")
    return text


def _notice(text: str, key: Key) -> timedelta:
    if text.lower() in ("none", "off", "geen"):
        return timedelta(0)
    try:
        interval = parse_interval(text)
    except IntervalTooLong:
        interval = None
    except ValueError:
        raise ValueError("expected a number of days or weeks, such as 14 days or 2 weeks; or none") from None
    if interval is not None and interval.unit not in ("days", "weeks"):
        raise ValueError("give the notice in days or weeks, such as 14 days or 2 weeks")
    days = interval.count * (7 if interval.unit == "weeks" else 1) if interval else None
    if days is None or days > NOTICE_DAYS:
        raise ValueError(f"a notice over 1 year ({NOTICE_DAYS} days) cannot be given")
    return timedelta(days=days)


def _list(text: str, key: Key) -> tuple:
    """A list default, written as a YAML flow list: `[session, aftercare, meeting]`."""
    tree, problems = yamltree.parse(text, "schema")
    if problems or not isinstance(tree, yamltree.Sequence):
        raise ValueError(f"expected a YAML list such as [a, b], not {text!r}")
    return tuple(key.type.item.parse(item.text, key) for item in tree.items)


TEXT = ValueType("text", "Any text. Quote it if it contains ': ' or starts with a special character.", _text)
WHOLE_NUMBER = ValueType("whole number", "A number without quotes, such as 2.", _whole_number)
INTERVAL = ValueType("interval", "A count and a unit: days, weeks, months, quarters or years (Dutch words too), "
                     "such as 4 months, 6 weeks, 1 year; or a word such as quarterly. At most 100 years.", _interval)
LENGTH = ValueType("length", "Hours and minutes with their unit, such as 30m, 1h, 1h30m or 90 minutes; "
                   "at most 12 hours. A bare number is refused: is 30 minutes or hours?", _length)
ALARM = ValueType("length or none", "A length such as 15m, or none.", _alarm)
PAST = ValueType("interval or none", "An interval such as 4 weeks, at most 1 year; or none.", _past)
TIME = ValueType("time", "HH:MM on the 24-hour clock, such as 09:00.", _time)
DATE = ValueType("date", "YYYY-MM-DD, such as 2026-07-01; from 1970-01-01 to 2200-12-31.", _date)
WEEKDAY = ValueType("weekday", "mon, tue, wed, thu, fri, sat or sun (also monday ... sunday, ma ... zo, "
                    "maandag ... zondag).", _weekday)
CHOICE = ValueType("choice", "One of the words listed for the key.", _choice)
MEDIUM = ValueType("medium", "How you meet, in English or Dutch: " + mediums.reference() + ".", _medium)
ID = ValueType("id", "Lower-case letters, digits, '.', '_' or '-', at most 63 characters, "
               "starting with a letter or digit.", _id)
EMAIL = ValueType("e-mail", "An e-mail address, such as maarten@example.nl.", _email)
ENVIRONMENT_VARIABLE = ValueType("environment variable", "The NAME of an environment variable, such as "
                                 "KS_CALDAV_PASSWORD, never the password itself.", _environment_variable)
URL = ValueType("URL", "An https:// (or http://) address.", _feed_url)
TIME_ZONE = ValueType("time zone", "An IANA time zone name, such as Europe/Amsterdam.", _time_zone)
HOST_PORT = ValueType("host:port", "HOST:PORT, such as 127.0.0.1:8080, or only a port.", _listen)
REFRESH = ValueType("refresh interval", "A length such as 12h, or a number of days or weeks, "
                    "such as 1 day or 1 week.", _refresh)
SESSION_PERIOD = ValueType("session period", "month, quarter, half year or year (Dutch: maand, kwartaal, "
                           "jaar), or 'N times a year' with N one of 1, 2, 3, 4, 6, 12.", _session_period)
MEETING_TIME = ValueType("date and time", "'YYYY-MM-DD HH:MM' in the team's time zone, such as "
                         "'2027-03-18 19:30'.", _meeting_time)
BEFORE_MEETING = ValueType("interval before", "An interval and 'before', such as '2 weeks before'.",
                           _relative("before", ("before", "voor", "vooraf", "ervoor")))
AFTER_MEETING = ValueType("interval after", "An interval and 'after', such as '1 day after'.",
                          _relative("after", ("after", "na", "erna", "achteraf")))
FILE_TEMPLATE = ValueType("file path", "A path ending in .ics that contains {person}, such as "
                          "out/{person}.ics; relative to the config's folder.", _file_template)
FOLDER_TEMPLATE = ValueType("folder path", "A path that contains {person}, such as out/{person}; "
                            "relative to the config's folder.", _folder_template)
SERVER_URL = ValueType("server URL", "An http:// or https:// URL, usually with {person}, and no password "
                       "in it, such as https://dav.example.nl/{person}/netwerk/.", _server_url)
PUBLISHED_URL = ValueType("published calendar URL", "An https://, http:// or webcal:// address, or file:///path "
                          "(an absolute path), with {person} for each person's own or without it for one "
                          "calendar everyone who names it shares; no user name or password in it.",
                          _published_url)
NOTICE = ValueType("notice", "A number of days or weeks, such as 14 days or 2 weeks, at most 1 year; or none.",
                   _notice)
HOLIDAYS = ValueType("public holidays", "A country code (NL), a mapping with country and subdivision, "
                     "or none.", _holidays)
# Read from the YAML tree by config.py:
PERSON = ValueType("person id", "The id of one of the people.")
PEOPLE = ValueType("people", "A list of person ids, such as [maarten, sanne], or all.")
CALENDAR = ValueType("calendar id", "The id of one of the calendars.")
BUSY_SOURCES = ValueType("list of calendar ids", "Calendars of kind caldav or url, such as [werk] or "
                         "[werk, outlook]; one id alone will do; [] for none.")
WEEKDAY_LIST = ValueType("list of weekdays", "Such as [mon, tue, thu].", item=WEEKDAY)
FOLLOW_UPS = ValueType("list of intervals", "Such as [6 weeks, 6 months], or one interval.", item=INTERVAL)
CHOICE_LIST = ValueType("list of choices", "Some of the words listed for the key, such as [session].",
                        _list, item=CHOICE)
WORKING_HOURS = ValueType("working hours", "A block {days, start, end}, or a list of such blocks.")
MAPPING = ValueType("mapping", "The keys of the section named.")
BY_ID = ValueType("mapping by id", "Ids (see id) each with the keys of the section named.")
ENTRIES = ValueType("list", "Entries, one '- {...}' each, with the keys of the section named.")
REFUSED = ValueType("not allowed", "Refused, so that no secret is ever written in the config.")


# -- keys and sections ------------------------------------------------------------------------

class Key(NamedTuple):
    """One key of a section. Its default is YAML text; `default_value` is that text as the reader
    gives it, so what the reference shows and what a left-out key means are the same thing."""

    name: str
    type: ValueType
    help: str
    required: bool = False
    default: str | None = None          # as written in the YAML
    default_note: str | None = None     # when the default is not one value: "the team's language"
    default_by: tuple[str, tuple[tuple[str, str], ...]] | None = None  # (other key, (its value, default))
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    see: str | None = None              # the section this key's value holds
    section: str = ""                   # filled in by the section
    default_value: object = None        # `default` parsed; filled in by the section

    def parse(self, text: str) -> object:
        return self.type.parse(text, self)

    def default_when(self, other: str) -> object:
        """The default of a key whose default depends on another key's value (smtp_port on security)."""
        return self.parse(dict(self.default_by[1])[other])


class Section(NamedTuple):
    name: str            # as the reader names it: "contact"
    where: str           # where it is in the YAML: "contacts[]"
    title: str           # what it is: "A contact agreement"
    help: str
    keys: MappingProxyType   # key name -> Key, in the order the reference shows


def _section(name: str, where: str, title: str, help: str, *keys: Key) -> Section:
    filled = {}
    for entry in keys:
        entry = entry._replace(section=name)
        if entry.default is not None and entry.type.parse is not None:
            entry = entry._replace(default_value=entry.parse(entry.default))
        filled[entry.name] = entry
    return Section(name, where, title, help, MappingProxyType(filled))


class CalendarKind(NamedTuple):
    """One kind of calendar: where people's events go, or where busy times are read; a calendar
    names exactly one kind by its key."""

    key: str             # the key in the calendar's mapping
    target: str          # "module:name" of the adapter that serves it (the core never imports it)
    value: str           # how the location is checked: a key of LOCATIONS
    label: str           # how a message names the location: "a file path"
    credentials: bool    # whether username, password_env and keyring apply
    help: str = ""
    writes: bool = True  # False: read only, never a sync target (a person's `calendar:` cannot name it)
    busy: str | None = None   # how busy times are read from it: "query" (the server answers for a time
                              # range; busy_query applies), "whole" (the whole calendar); None: not at all


LOCATIONS = MappingProxyType({"file": FILE_TEMPLATE, "url": SERVER_URL, "folder": FOLDER_TEMPLATE,
                              "published": PUBLISHED_URL})
CREDENTIAL_KEYS = ("username", "password_env", "keyring")

CALENDAR_KINDS = MappingProxyType({kind.key: kind for kind in (
    CalendarKind(key="ics", target="kalender_sync.targets.files:IcsFileTarget", value="file",
                 label="a file path", credentials=False,
                 help="Write each person's events to an .ics file of their own, to import or subscribe to."),
    CalendarKind(key="caldav", target="kalender_sync.targets.caldav:CalDAVTarget", value="url",
                 label="a server URL", credentials=True,
                 help="Put each person's events in a calendar on a CalDAV server; also read for busy "
                      "times when named in busy.", busy="query"),
    CalendarKind("vdir", "kalender_sync.targets.vdir:VdirTarget", "folder", "a folder", False, "One .ics file per event in a folder of each person's own, as khal and vdirsyncer keep calendars (a vdir)."),
    CalendarKind(key="url", target="kalender_sync.targets.busysources:read_busy_sources", value="published",
                 label="a published calendar's address", credentials=False, writes=False, busy="whole",
                 help="A published calendar (Outlook's \"publish calendar\", Google's secret address in iCal "
                      "format), read only: only read for the busy times of the people who name it in busy."),
)})


def calendar_section(kinds) -> Section:
    """The keys of a calendar: one per kind, then the credentials."""
    credentialed = " or ".join(f"'{kind.key}'" for kind in kinds.values() if kind.credentials)
    return _section(
        "calendar", "calendars.<id>", "A calendar", "Where the events of the people who name it as their "
        "calendar go, or where the busy times of those who name it in busy are read: exactly one kind key "
        "(see Calendar kinds), and for a kind that logs in, its credentials.",
        *(Key(kind.key, LOCATIONS[kind.value], kind.help) for kind in kinds.values()),
        Key("username", TEXT, f"The user name to log in with (with {credentialed}). Without it there "
            "is no login, for a server without authentication, and no password is read."),
        Key("password_env", ENVIRONMENT_VARIABLE, "The environment variable that holds the password "
            "(with username)."),
        Key("keyring", TEXT, "The system keyring's service name under which the password is stored "
            "(for the user name above); instead of password_env."),
        Key("password", REFUSED, "Never: use password_env or keyring."),
        Key("busy_query", CHOICE, "How busy times are asked of the server (with " + " or ".join(
            f"'{kind.key}'" for kind in kinds.values() if kind.busy == "query") + "): events, its events "
            "in the time range, which every server answers; freebusy, RFC 4791's free-busy query, less to "
            "send, where the server answers it correctly (Xandikos; Radicale 3.8.2 and later).",
            default="events", choices=BUSY_QUERIES),
    )


_ID_FROM_NAME = "made from the name"

SECTIONS = MappingProxyType({section.name: section for section in (
    _section(
        "top", "", "Top level", "The keys at the top of the config file.",
        Key("version", WHOLE_NUMBER, "The version of this file's format.", required=True, minimum=1, maximum=1),
        Key("team", TEXT, "The team's name: the organizer's name of invitations and the feeds' name.",
            default="Team"),
        Key("timezone", TIME_ZONE, "The time zone every time in this file is in.", required=True),
        Key("language", CHOICE, "The language of the events' titles and texts.", default="nl",
            choices=LANGUAGES),
        Key("horizon", INTERVAL, "How far ahead events are planned; at most 10 years.", default="12 months"),
        Key("past", PAST, "How much of the past .ics files and feeds keep (CalDAV calendars keep all of it).",
            default="4 weeks"),
        Key("working_hours", WORKING_HOURS, "The team's working hours: events are only planned inside them.",
            default='{days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}', see="working_hours"),
        Key("holidays", HOLIDAYS, "Whose public holidays no event is planned on.", default="NL",
            see="holidays"),
        Key("reminders", MAPPING, "How contact reminders are placed.", see="reminders"),
        Key("people", BY_ID, "The team's members, by person id.", required=True, see="person"),
        Key("calendars", BY_ID, "Where events go, by calendar id; every person names one. Also the "
            "calendars busy times are read from.", required=True, see="calendar"),
        Key("busy", BUSY_SOURCES, "The calendars busy times are read from, for every person without a "
            "busy of their own: no session, aftercare or reminder is placed where someone is busy.",
            default_note="none"),
        Key("busy_notice", NOTICE, "A placed session or aftercare moves because someone became busy only "
            "while it is more than this far ahead; closer by, it stays and is reported as a conflict.",
            default="14 days"),
        Key("contacts", ENTRIES, "The contact agreements: who keeps in touch with whom, how often.",
            see="contact"),
        Key("projects", ENTRIES, "Finished projects whose team gets follow-up appointments (aftercare).",
            see="project"),
        Key("sessions", ENTRIES, "Recurring group slots, one per period, such as a quarterly calling hour.",
            see="session"),
        Key("meetings", ENTRIES, "Network meetings one person attends for the team.", see="meeting"),
        Key("mail", MAPPING, "Send group events as e-mail invitations.", see="mail"),
        Key("feed", MAPPING, "The server of subscribable .ics feeds.", see="feed"),
    ),
    _section(
        "working_hours", "working_hours", "Working hours", "One block of working time, for the team or "
        "(in people.<id>.working_hours) for one person; a list of blocks gives days different hours.",
        Key("days", WEEKDAY_LIST, "The weekdays of this block.", required=True),
        Key("start", TIME, "When work starts.", required=True),
        Key("end", TIME, "When work ends; after start.", required=True),
    ),
    _section(
        "holidays", "holidays", "Public holidays", "The long form of holidays, for a region of a country "
        "with holidays of its own.",
        Key("country", TEXT, "The country's ISO 3166 code, such as NL, BE or DE.", required=True),
        Key("subdivision", TEXT, "The region, as the holidays library names it, such as BY (Bavaria) in DE."),
    ),
    _section(
        "reminders", "reminders", "Reminders", "How the reminders of contact agreements are placed.",
        Key("max_per_week", WHOLE_NUMBER, "At most this many contact reminders per person per week.",
            default="2", minimum=1, maximum=7),
        Key("overdue_every", INTERVAL, "Remind again this often while a contact is overdue, until it is "
            "logged.", default="2 weeks"),
        Key("at", TIME, "The time of day reminders are placed at, on a working day.", default="09:00"),
        Key("ahead", WHOLE_NUMBER, "How many upcoming reminders of one agreement are in the calendar.",
            default="1", minimum=1, maximum=12),
        Key("alarm", ALARM, "A pop-up alarm this long before each reminder, or none.", default="15m"),
    ),
    _section(
        "person", "people.<id>", "A person", "A member of the team, under their person id.",
        Key("name", TEXT, "The person's full name.", required=True),
        Key("email", EMAIL, "Their e-mail address; no two people share one."),
        Key("calendar", CALENDAR, "The calendar their events go to; not a read-only kind (url).", required=True),
        Key("busy", BUSY_SOURCES, "The calendars their busy times are read from; may include their own "
            "calendar (the events kalender-sync put there never count as busy).",
            default_note="the top-level busy"),
        Key("working_hours", WORKING_HOURS, "Their own working hours, such as for part-time work.",
            default_note="the team's working_hours", see="working_hours"),
        Key("language", CHOICE, "The language of their events.", default_note="the team's language",
            choices=LANGUAGES),
    ),
    calendar_section(CALENDAR_KINDS),
    _section(
        "contact", "contacts[]", "A contact agreement", "Its owner keeps in touch with a contact at least "
        "once per interval.",
        Key("id", ID, "A short name, unique among the owner's agreements.", default_note="made from the contact's name"),
        Key("owner", PERSON, "The person who keeps in touch.", required=True),
        Key("with", TEXT, "The contact's name, as people say it.", required=True),
        Key("role", TEXT, "Who the contact is to the team, such as former client or ambassador."),
        Key("organisation", TEXT, "Where the contact works."),
        Key("every", INTERVAL, "Keep in touch at least this often.", required=True),
        Key("last", DATE, "When you were last in touch."),
        Key("next", DATE, "The next contact, when a date was agreed; after last."),
        Key("medium", MEDIUM, "How you usually meet.",
            choices=tuple(dict.fromkeys(mediums.OFFERED_EN + mediums.OFFERED_NL))),   # shown, not parsed
        Key("duration", LENGTH, "How long the reminder's slot in the calendar is.", default="30m"),
        Key("question", TEXT, "Something to ask next time; the reminder shows it."),
    ),
    _section(
        "project", "projects[]", "A project", "A finished project: its team gets follow-up appointments "
        "(aftercare).",
        Key("id", ID, "A short name, unique among the projects.", default_note=_ID_FROM_NAME),
        Key("name", TEXT, "The project's name.", required=True),
        Key("client", TEXT, "The client the project was for."),
        Key("team", PEOPLE, "Who did the project; they all get the follow-ups.", required=True),
        Key("end", DATE, "When the project ended; follow-ups count from here.", required=True),
        Key("aftercare", FOLLOW_UPS, "How long after the end each follow-up is.", required=True),
        Key("duration", LENGTH, "How long a follow-up is.", default="1h"),
        Key("at", TIME, "The preferred time of day of a follow-up.", default="10:00"),
        Key("location", TEXT, "Where the follow-ups are."),
    ),
    _section(
        "session", "sessions[]", "A session series", "A recurring group slot, one per period.",
        Key("id", ID, "A short name, unique among the sessions.", default_note=_ID_FROM_NAME),
        Key("name", TEXT, "The session's name.", required=True),
        Key("every", SESSION_PERIOD, "How often: one session per period.", required=True),
        Key("participants", PEOPLE, "Who takes part.", required=True),
        Key("prefer", MAPPING, "The preferred slot; it must fit everyone's working hours.", required=True,
            see="prefer"),
        Key("duration", LENGTH, "How long a session is.", default="1h"),
        Key("location", TEXT, "Where the sessions are."),
        Key("description", TEXT, "What the sessions are about; the events show it."),
    ),
    _section(
        "prefer", "sessions[].prefer", "A session's preferred slot", "Where a session is planned when "
        "everyone can.",
        Key("weekday", WEEKDAY, "The preferred weekday.", required=True),
        Key("start", TIME, "The preferred start.", required=True),
    ),
    _section(
        "meeting", "meetings[]", "A network meeting", "One person attends it for the team; the colleagues "
        "give input before and hear the report back after.",
        Key("id", ID, "A short name, unique among the meetings.", default_note=_ID_FROM_NAME),
        Key("name", TEXT, "The meeting's name.", required=True),
        Key("at", MEETING_TIME, "When the meeting starts.", required=True),
        Key("duration", LENGTH, "How long the meeting is.", default="2h"),
        Key("location", TEXT, "Where the meeting is."),
        Key("representative", PERSON, "Who attends for the team.", required=True),
        Key("colleagues", PEOPLE, "Who give the representative input before and hear the report back.",
            default_note="everyone but the representative"),
        Key("prepare", BEFORE_MEETING, "When the colleagues give their input, this long before the meeting."),
        Key("report_back", AFTER_MEETING, "When the representative reports back, this long after the meeting."),
    ),
    _section(
        "mail", "mail", "Mail", "E-mail invitations (iMIP) for group events; the password comes from the "
        "environment or the keyring.",
        Key("organizer", EMAIL, "The address invitations come from; replies go there.", required=True),
        Key("organizer_name", TEXT, "The organizer's name in invitations.", default_note="the team's name"),
        Key("smtp_host", TEXT, "The mail server to send through.", required=True),
        Key("smtp_port", WHOLE_NUMBER, "The mail server's port.", minimum=1, maximum=65535,
            default_by=("security", (("starttls", "587"), ("ssl", "465"), ("none", "25")))),
        Key("security", CHOICE, "How the connection to the mail server is secured.", default="starttls",
            choices=("starttls", "ssl", "none")),
        Key("username", TEXT, "The user name to log in with."),
        Key("password_env", ENVIRONMENT_VARIABLE, "The environment variable that holds the password."),
        Key("keyring", TEXT, "The system keyring's service name under which the password is stored."),
        Key("password", REFUSED, "Never: use password_env or keyring."),
        Key("invite", CHOICE_LIST, "Which group events are sent as invitations.",
            default="[session, aftercare, meeting]", choices=("session", "aftercare", "meeting")),
    ),
    _section(
        "feed", "feed", "Feeds", "The server of subscribable .ics feeds, one per person.",
        Key("base_url", URL, "The public address the feeds and web pages are reached at, such as "
            "https://agenda.example.nl; also turns on the done links in contact reminders.",
            default_note="none: no done links are written"),
        Key("listen", HOST_PORT, "Where the feed server listens.", default="127.0.0.1:8080"),
        Key("refresh", REFRESH, "How often calendar apps are asked to fetch a feed again.", default="12h"),
    ),
    _section(
        "log", "contacts-log.yaml", "A contact log entry", "One line of the contact log, the file "
        "contacts-log.yaml next to the config: a contact that happened.",
        Key("who", PERSON, "The person who had the contact.", required=True),
        Key("with", TEXT, "The contact's name or agreement id; a unique start of the name will do.",
            required=True),
        Key("on", DATE, "When the contact was; an entry has on, or snooze.",
            default_note="required, unless the entry is a snooze"),
        Key("next", DATE, "The next contact, when a date was agreed; after on."),
        Key("note", TEXT, "What was said or agreed."),
        Key("snooze", DATE, "No contact yet: remind me on this day instead (\"not now\" on the done page)."),
        Key("for", DATE, "The day of the reminder a done link answered (written by the done page), so "
            "that acting on the same link twice logs nothing new."),
    ),
)})


def key(section: str, name: str) -> Key:
    return SECTIONS[section].keys[name]


def default(section: str, name: str) -> object:
    """A key's default as the reader gives it: its YAML text read by the key's own parser."""
    found = key(section, name)
    if found.default is None or found.type.parse is None:
        raise LookupError(f"{section}.{name} has no default that is one value"
                          + (" (config.py reads it from the YAML tree)" if found.default else ""))
    return found.default_value


# -- the key reference ------------------------------------------------------------------------

def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{text}`"


def _type_cell(found: Key) -> str:
    if found.see is None:
        return found.type.name
    return f"{found.type.name}, see `{SECTIONS[found.see].where}`"


def _default_cell(found: Key) -> str:
    if found.default is not None:
        return _code(found.default)
    if found.default_by is not None:
        other, pairs = found.default_by
        return ", ".join(f"{_code(value)} with {other} {_code(when)}" for when, value in pairs)
    return found.default_note or ""


def _allowed_cell(found: Key) -> str:
    if found.choices:
        return ", ".join(_code(choice) for choice in found.choices)
    if found.minimum is not None:
        if found.minimum == found.maximum:
            return _code(str(found.minimum))
        return f"{found.minimum} to {found.maximum}"
    return ""


def render_reference() -> str:
    """docs/config.md: every section and key, the calendar kinds and the value types."""
    lines = [
        "# Config key reference",
        "",
        "<!-- Generated from kalender_sync/core/schema.py by `python -m kalender_sync.core.schema`;",
        "     edit the table there, not this file. -->",
        "",
        ("Every key kalender-sync reads from a team config, by section. A key that is not listed "
         "here is refused, with the listed key it most looks like. A default is written as you would "
         "write it in the YAML."),
        "",
    ]
    for section in SECTIONS.values():
        heading = f"{section.title}: `{section.where}`" if section.where else section.title
        lines += [f"## {heading}", "", section.help, "",
                  "| Key | Type | Required | Default | Allowed | Meaning |",
                  "|-----|------|----------|---------|---------|---------|"]
        for found in section.keys.values():
            cells = (_code(found.name), _type_cell(found), "yes" if found.required else "",
                     _default_cell(found), _allowed_cell(found), found.help)
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        lines.append("")
    lines += ["## Calendar kinds", "",
              ("A calendar has exactly one of these keys; its value is the location, with `{person}` "
               "standing for each person's id."), "",
              "| Key | Location | Logs in | Events go here | Busy times | Meaning |",
              "|-----|----------|---------|----------------|------------|---------|"]
    busy_read = {"query": "asked for a time range", "whole": "the whole calendar is read", None: ""}
    for kind in CALENDAR_KINDS.values():
        cells = (_code(kind.key), LOCATIONS[kind.value].name, "yes" if kind.credentials else "",
                 "yes" if kind.writes else "no: read only", busy_read[kind.busy], kind.help)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    lines += ["", "## Value types", "", "| Type | What to write |", "|------|---------------|"]
    types = {}
    for section in SECTIONS.values():
        for found in section.keys.values():
            types.setdefault(found.type.name, found.type)
    for kind in CALENDAR_KINDS.values():
        types.setdefault(LOCATIONS[kind.value].name, LOCATIONS[kind.value])
    for value_type in sorted(types.values(), key=lambda t: t.name.lower()):
        lines.append(f"| {_cell(value_type.name)} | {_cell(value_type.help)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    target = Path(__file__).resolve().parents[2] / "docs" / "config.md"
    target.parent.mkdir(exist_ok=True)
    target.write_text(render_reference(), encoding="utf-8", newline="\n")
    print(f"wrote {target}")
