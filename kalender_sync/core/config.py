"""Config text -> validated `Team`. Every problem is collected and reported at once.

What keys a section has, their types, ranges and defaults come from the table in schema.py:
`_Reader.fields` checks a mapping against its section (unknown keys with "did you mean",
missing required keys) and hands back `_Fields`, which reads a key the way the table says.
What is left here are the rules between keys, and building the model.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from . import schema, yamltree
from .errors import ConfigError, Problem
from .model import (WEEKDAYS, Aftercare, Calendar, ContactAgreement, FeedSettings, MailSettings,
                    NetworkMeeting, Person, ReminderSettings, SessionSeries, Team, WorkingHours)
from .publicholidays import HolidayFacts
from .schema import suggest
from .yamltree import Mapping, Node, Rejected, Scalar, Sequence

_MISSING = object()
_WRONG = object()   # a value that was reported; the key's default (or None) stands in for it


def slug(text: str) -> str:
    """'Jan-Willem van den Brink' -> 'jan-willem-van-den-brink' (accents folded)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-") or "x"


def _supported_countries() -> dict:
    import holidays
    return holidays.list_supported_countries()


class _Reader:
    """Typed access to the YAML tree that records a located Problem instead of raising."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []
        # What references can name, set as soon as it is read (calendars before people,
        # people before everything that names them).
        self.calendars: _Calendars = _Calendars()
        self.people: dict[str, Person] = {}
        # The day contacts must have happened by (`last`, a log's `on`); None: not checked.
        self.today: date | None = None
        self._tree_readers = {
            schema.WHOLE_NUMBER: self._whole_number, schema.LENGTH: self._length, schema.ALARM: self._alarm,
            schema.PERSON: self._person, schema.PEOPLE: self._people, schema.CALENDAR: self._calendar,
            schema.WEEKDAY_LIST: self._weekdays, schema.FOLLOW_UPS: self._follow_ups,
            schema.CHOICE_LIST: self._choices, schema.BUSY_SOURCES: self._busy_sources,
        }

    def problem(self, line: int, path: str, message: str, value: object = _MISSING) -> None:
        self.problems.append(Problem(self.filename, line, path, message,
                                     None if value is _MISSING else value, value is not _MISSING))

    def bad(self, node: Node, path: str, message: str) -> None:
        if not isinstance(node, Rejected):   # a forbidden tag was reported already
            self.problem(node.line, path, message, yamltree.shown(node))

    # -- structure ---------------------------------------------------------
    def fields(self, node: Node | None, path: str, section: str) -> _Fields | None:
        """The mapping's keys, checked against the section's in the schema."""
        if node is None or isinstance(node, Rejected):
            return None
        if not isinstance(node, Mapping):
            if isinstance(node, Scalar) and node.is_null:
                self.problem(node.line, path, "is empty; expected a mapping of keys")
            else:
                self.bad(node, path, "expected a mapping of keys")
            return None
        allowed = schema.SECTIONS[section].keys
        meant = set()
        for key, (line, _) in node.items.items():
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                hint = suggest(key, allowed)
                self.problem(line, where, "unknown key" + hint)
                meant.update(difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6))
        for key in allowed.values():
            # A misspelt key already got "did you mean"; "missing" on top would only confuse.
            if key.required and key.name not in node.items and key.name not in meant:
                self.problem(node.line, path or "(top level)", f"missing required key '{key.name}'")
        return _Fields(self, allowed, {k: v for k, v in node.items.items() if k in allowed}, path)

    def sequence(self, node: Node, path: str, allow_single: bool = False) -> list[Node] | None:
        if isinstance(node, Rejected):
            return None
        if isinstance(node, Sequence):
            return node.items
        if allow_single and isinstance(node, Scalar) and not node.is_null:
            return [node]
        self.bad(node, path, "expected a list")
        return None

    def text(self, node: Node, path: str) -> str | None:
        if isinstance(node, Rejected):
            return None
        if not isinstance(node, Scalar):
            self.bad(node, path, "expected text")
            return None
        if node.is_null or not node.text.strip():
            self.problem(node.line, path, "must not be empty")
            return None
        return node.text.strip()

    # -- one value, as its key's type says ---------------------------------
    def value(self, key: schema.Key, line: int, node: Node, path: str) -> object:
        """The value of `key` (written on `line`), or _WRONG once its problem is reported."""
        read = self._tree_readers.get(key.type)
        if read is not None:
            return read(key, line, node, path)
        if key.type.parse is None:
            raise TypeError(f"{key.section}.{key.name} ({key.type.name}) is read by its section's own code")
        text = self.text(node, path)
        if text is None:
            return _WRONG
        if key.type is schema.TEXT:     # most values; nothing to parse
            return text
        return self._parsed(key.type.parse, key, line, node, path, text)

    def _scalar(self, parse, key: schema.Key, line: int, node: Node, path: str) -> object:
        text = self.text(node, path)
        return _WRONG if text is None else self._parsed(parse, key, line, node, path, text)

    def _parsed(self, parse, key: schema.Key, line: int, node: Node, path: str, text: str) -> object:
        try:
            return parse(text, key)
        except schema.SecretValueError as exc:
            self.problem(line, path, str(exc))
        except ValueError as exc:
            self.bad(node, path, str(exc))
        return _WRONG

    def _whole_number(self, key, line, node, path):
        if not isinstance(node, Scalar) or not node.is_int:
            self.bad(node, path, "expected a whole number")
            return _WRONG
        return self._parsed(key.type.parse, key, line, node, path, node.text)

    def _length(self, key, line, node, path):
        if isinstance(node, Scalar) and node.is_int:
            self.bad(node, path, "a bare number is ambiguous; write '30m' or '1h'")
            return _WRONG
        return self._scalar(key.type.parse, key, line, node, path)

    def _alarm(self, key, line, node, path):
        # An empty value or YAML's false means "no alarm" as much as the word none does.
        if isinstance(node, Scalar) and (node.is_null or node.is_bool and node.text.lower() in ("false", "no", "off")):
            return None
        return self._length(key, line, node, path)

    def _person(self, key, line, node, path):
        text = self.text(node, path)
        if text is None:
            return _WRONG
        if text not in self.people:
            self.bad(node, path, "unknown person" + suggest(text, self.people))
            return _WRONG
        return text

    def _people(self, key, line, node, path):
        if isinstance(node, Scalar) and node.text.strip().lower() in ("all", "iedereen"):
            return tuple(self.people)
        items = self.sequence(node, path)
        if items is None:
            return _WRONG
        if not items:
            self.problem(node.line, path, "must name at least one person")
            return _WRONG
        result: list[str] = []
        for index, item in enumerate(items):
            person = self._person(key, line, item, f"{path}[{index}]")
            if person is _WRONG:
                continue
            if person in result:
                self.bad(item, f"{path}[{index}]", "person listed twice")
                continue
            result.append(person)
        return tuple(result) if len(result) == len(items) else _WRONG

    def _calendar(self, key, line, node, path):
        text = self.text(node, path)
        if text is None:
            return _WRONG
        if text not in self.calendars:
            if text not in self.calendars.defined:    # else its own problem was reported
                self.bad(node, path, "unknown calendar" + suggest(text, self.calendars))
            return _WRONG
        kind = schema.CALENDAR_KINDS[self.calendars[text].kind]
        if not kind.writes:
            self.bad(node, path, f"calendar '{text}' is read only ({kind.label}): no events can go there; "
                     "name it in busy to read busy times from it")
            return _WRONG
        return text

    def _busy_sources(self, key, line, node, path):
        """Calendar ids that can be read for busy times; one alone, or an empty value, will do."""
        if isinstance(node, Scalar) and node.is_null:
            return ()
        items = self.sequence(node, path, allow_single=True)
        if items is None:
            return _WRONG
        readable = " or ".join(f"'{k.key}'" for k in schema.CALENDAR_KINDS.values() if k.busy)
        result: list[str] = []
        for index, item in enumerate(items):
            where = f"{path}[{index}]" if isinstance(node, Sequence) else path
            text = self.text(item, where)
            if text is None:
                continue
            calendar = self.calendars.get(text)
            if calendar is None:
                if text not in self.calendars.defined:    # else its own problem was reported
                    self.bad(item, where, "unknown calendar" + suggest(text, self.calendars))
                continue
            if not schema.CALENDAR_KINDS[calendar.kind].busy:
                self.bad(item, where, f"calendar '{text}' ({calendar.kind}) cannot be read for busy times; "
                         f"busy names {readable} calendars")
                continue
            if text in result:
                self.bad(item, where, "calendar listed twice")
                continue
            result.append(text)
        return tuple(result) if len(result) == len(items) else _WRONG

    def _weekdays(self, key, line, node, path):
        """The weekdays named; one listed twice is reported and kept, so its overlap is reported too."""
        days: list[int] = []
        for index, day_node in enumerate(self.sequence(node, path) or ()):
            day = self._scalar(key.type.item.parse, key, line, day_node, f"{path}[{index}]")
            if day is not _WRONG:
                if day in days:
                    self.bad(day_node, f"{path}[{index}]", "weekday listed twice")
                days.append(day)
        return days

    def _follow_ups(self, key, line, node, path):
        items = self.sequence(node, path, allow_single=True) or []
        if not items:
            self.problem(line, path, "name at least one follow-up, e.g. [6 weeks]")
        offsets = []
        for index, item in enumerate(items):
            offset = self._scalar(key.type.item.parse, key, line, item, f"{path}[{index}]")
            if offset is not _WRONG:
                if offset in offsets:
                    self.bad(item, f"{path}[{index}]", "the same follow-up is listed twice")
                else:
                    offsets.append(offset)
        return tuple(offsets)

    def _choices(self, key, line, node, path):
        chosen = []
        for index, item in enumerate(self.sequence(node, path) or ()):
            choice = self._scalar(key.type.item.parse, key, line, item, f"{path}[{index}]")
            if choice is not _WRONG:
                chosen.append(choice)
        return tuple(chosen)


class _Fields:
    """The known keys of one mapping, each read as its section in the schema says."""

    __slots__ = ("reader", "keys", "items", "path")

    def __init__(self, reader: _Reader, keys, items: dict[str, tuple[int, Node]], path: str):
        self.reader = reader
        self.keys = keys            # the section's keys in the schema
        self.items = items          # key -> (line, node), as written
        self.path = path

    def __contains__(self, name: str) -> bool:
        return name in self.items

    def __getitem__(self, name: str) -> object:
        """The key's value; when it is absent or wrong (and reported), its default or None."""
        key = self.keys[name]
        item = self.items.get(name)
        if item is None:
            return key.default_value
        value = self.reader.value(key, item[0], item[1], f"{self.path}.{name}" if self.path else name)
        return key.default_value if value is _WRONG else value

    def line(self, name: str) -> int:
        return self.items[name][0]

    def node(self, name: str) -> Node | None:
        item = self.items.get(name)
        return item[1] if item else None

    def path_of(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name


Today = date | Callable[[ZoneInfo], date]


def load_team(text: str, filename: str = "config.yaml", holidays: HolidayFacts | None = None,
              today: Today | None = None) -> Team:
    """Parse and validate a team config. Raises ConfigError listing every problem.

    `holidays`: the public-holiday answers to use and add to (a fresh memo if not given);
    the team keeps it, so planning asks the same memo.
    `today`: the day the run plans for, or the caller's clock (a function of the team's time
    zone, whose date it gives) when the user named no day; a `last` contact after it is a
    problem. Without it that rule is not checked.
    """
    facts = holidays if holidays is not None else HolidayFacts()
    tree, problems = yamltree.parse(text, filename)
    reader = _Reader(filename)
    reader.problems.extend(problems)
    team = None
    if tree is not None:
        team = _read_team(reader, tree, facts, today)
    if reader.problems or team is None:
        raise ConfigError(reader.problems)
    return team


def _read_team(r: _Reader, tree: Node, facts: HolidayFacts, today: Today | None) -> Team | None:
    top = r.fields(tree, "", "top")
    if top is None:
        return None
    top["version"]      # only checked: there is one version of the format so far
    tz = top["timezone"]    # None only when it is missing or wrong, and then no team is made
    if isinstance(today, date):
        r.today = today
    elif today is not None and tz is not None:
        r.today = today(tz)
    language = top["language"]
    horizon = top["horizon"]
    if "horizon" in top and (horizon.unit == "days" and horizon.count > 3660 or horizon.months > 120):
        r.bad(top.node("horizon"), "horizon", "a horizon over 10 years cannot be planned")
    past = top["past"]
    busy_notice = top["busy_notice"]
    team_name = top["team"]
    country, subdivision = _read_holidays(r, top, facts)
    default_hours = _read_working_hours(r, top.node("working_hours"), "working_hours", _default_working_hours())
    reminders = _read_reminders(r, top.node("reminders"))

    calendars = r.calendars = _read_calendars(r, top.node("calendars"))
    default_busy = top["busy"] or ()
    people = r.people = _read_people(r, top.node("people"), default_hours, language, default_busy)
    for cal_id, line in getattr(calendars, "freebusy_lines", {}).items():
        # A free-busy answer has no UIDs: in a calendar we also write to, our own sessions and
        # reminders would come back as busy and push themselves away.
        writers = sorted(p.id for p in people.values() if p.calendar == cal_id
                         and cal_id in p.busy)
        if writers:
            r.problem(line, f"calendars.{cal_id}.busy_query", "a free-busy answer cannot tell our own events "
                      f"from others, and {', '.join(writers)} also get{'s' if len(writers) == 1 else ''} "
                      "their events in this calendar; use 'events' here", "freebusy")

    contacts = _read_list(r, top, "contacts", "contact", _read_contact)
    seen: dict[tuple[str, str], int] = {}
    for agreement, _, path in contacts.located:
        key = (agreement.owner, agreement.id)
        if key in seen:
            r.problem(agreement.line, path, f"duplicate contact agreement '{agreement.id}' for "
                      f"'{agreement.owner}'; the first is on line {seen[key]}", agreement.contact)
        else:
            seen[key] = agreement.line
    projects = _read_list(r, top, "projects", "project", _read_project)
    sessions = _read_list(r, top, "sessions", "session", _read_session)
    meetings = _read_list(r, top, "meetings", "meeting", lambda r, f, p, n: _read_meeting(r, f, p, n, tz))
    for kind, items in (("projects", projects), ("sessions", sessions), ("meetings", meetings)):
        _check_unique_ids(r, kind, items)
    mail = _read_mail(r, top.node("mail"), team_name)
    feed = _read_feed(r, top.node("feed"), team_name)
    if r.problems:
        return None
    return Team(name=team_name, timezone=tz, language=language, horizon=horizon, past=past,
                holiday_country=country, holiday_subdivision=subdivision, reminders=reminders,
                people=people, calendars=calendars, contacts=tuple(contacts), projects=tuple(projects),
                sessions=tuple(sessions), meetings=tuple(meetings), source=r.filename, mail=mail, feed=feed,
                public_holidays=facts, busy_notice=busy_notice)


def in_the_future(today: date) -> str:
    """The one rule for a contact dated after `today` (the config's `last`, the log's `on`, `log --on`)."""
    return f"is in the future (today is {today.isoformat()})"


def _check_unique_ids(r: _Reader, kind: str, items) -> None:
    seen: dict[str, str] = {}
    for item, fields, path in items.located:
        if item.id in seen:
            if "id" in fields:
                r.problem(fields.line("id"), f"{path}.id",
                          f"duplicate {kind[:-1]} id; {seen[item.id]} has it already", item.id)
            else:
                r.problem(fields.line("name"), f"{path}.name",
                          f"duplicate {kind[:-1]} id '{item.id}' (made from the name); {seen[item.id]} "
                          "has it already; give one of them an 'id'", item.name)
        else:
            seen[item.id] = path


class _Located(list):
    """A list of parsed items that also remembers (item, fields, path) for later checks."""

    def __init__(self):
        super().__init__()
        self.located: list[tuple[object, _Fields, str]] = []


def _read_list(r: _Reader, top: _Fields, key: str, section: str, read_one) -> _Located:
    result = _Located()
    node = top.node(key)
    if node is None or isinstance(node, Scalar) and node.is_null:
        return result
    items = r.sequence(node, key)
    for index, item in enumerate(items or ()):
        path = f"{key}[{index}]"
        fields = r.fields(item, path, section)
        if fields is None:
            continue
        parsed = read_one(r, fields, path, item)
        if parsed is not None:
            result.append(parsed)
            result.located.append((parsed, fields, path))
    return result


def _read_holidays(r: _Reader, top: _Fields, facts: HolidayFacts) -> tuple[str | None, str | None]:
    node = top.node("holidays")
    if node is None:
        return top["holidays"]
    if isinstance(node, Scalar):
        # No holidays: an empty value, YAML's false or the word none.
        if node.is_null or node.is_bool and node.text.lower() in ("false", "no", "off"):
            return None, None
        code, subdivision = schema.key("top", "holidays").parse(node.text)
        if code is None:
            return None, None
        line = node.line
        path = "holidays"
    else:
        fields = r.fields(node, "holidays", "holidays")
        if fields is None:
            return None, None
        code = (fields["country"] or "").upper() if "country" in fields else ""
        line = fields.line("country") if "country" in fields else node.line
        path = "holidays.country"
        subdivision = fields["subdivision"]
        if not code:
            return None, None
    subdivisions = facts.subdivisions(code)
    if subdivisions is None:
        r.problem(line, path, "unknown country code for public holidays"
                  + suggest(code, _supported_countries()), code)
        return None, None
    if subdivision is not None and subdivision not in subdivisions:
        r.problem(line, "holidays.subdivision", f"unknown subdivision of {code}"
                  + suggest(subdivision, subdivisions), subdivision)
        return code, None
    return code, subdivision


def _default_working_hours() -> WorkingHours:
    """The schema's default working hours, read like a user's."""
    text = schema.key("top", "working_hours").default
    tree, problems = yamltree.parse(text, "schema.py")
    reader = _Reader("schema.py")
    hours = _read_working_hours(reader, tree, "working_hours", None)
    if problems or reader.problems or hours is None:
        raise AssertionError(f"the default working hours in schema.py are wrong: {problems + reader.problems}")
    return hours


def _read_working_hours(r: _Reader, node: Node | None, path: str,
                        fallback: WorkingHours | None) -> WorkingHours | None:
    if node is None:
        return fallback
    blocks_nodes = node.items if isinstance(node, Sequence) else [node]
    per_day: list[list[tuple[time, time, int, str]]] = [[] for _ in range(7)]
    ok = True
    for index, block in enumerate(blocks_nodes):
        block_path = f"{path}[{index}]" if isinstance(node, Sequence) else path
        fields = r.fields(block, block_path, "working_hours")
        if fields is None:
            ok = False
            continue
        start, end, days = fields["start"], fields["end"], fields["days"]
        if start is None or end is None or "days" not in fields:
            ok = False
            continue
        if end <= start:
            r.problem(fields.node("end").line, f"{block_path}.end",
                      f"working hours end before they start ({start:%H:%M})", f"{end:%H:%M}")
            ok = False
            continue
        for day in days:
            per_day[day].append((start, end, block.line, block_path))
    for day, blocks in enumerate(per_day):
        blocks.sort()
        for (s1, e1, line1, p1), (s2, e2, line2, p2) in zip(blocks, blocks[1:]):
            if s2 < e1:
                later, earlier = sorted([(line1, p1, s1, e1), (line2, p2, s2, e2)], reverse=True)
                r.problem(later[0], later[1], f"working hours overlap on {WEEKDAYS[day]} with line {earlier[0]}",
                          f"{later[2]:%H:%M}-{later[3]:%H:%M}")
                ok = False
    if not ok:
        return fallback
    if not any(per_day):
        r.problem(node.line, path, "no working days at all; nothing could ever be planned")
        return fallback
    return WorkingHours(tuple(tuple((s, e) for s, e, _, _ in blocks) for blocks in per_day))


def _read_reminders(r: _Reader, node: Node | None) -> ReminderSettings:
    fields = r.fields(node, "reminders", "reminders")
    if fields is None:
        return ReminderSettings()
    return ReminderSettings(**{name: fields[name] for name in fields.keys})


class _Calendars(dict):
    """Valid calendars by id; `defined` also holds the ids of calendars that had problems."""

    defined: set[str] = frozenset()
    freebusy_lines: dict[str, int]      # calendar id -> line of its `busy_query: freebusy`


def _one_of(kinds) -> str:
    """'ics' (a file path) or 'caldav' (a server URL)"""
    named = [f"'{kind.key}' ({kind.label})" for kind in kinds]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]


def _read_calendars(r: _Reader, node: Node | None) -> _Calendars:
    result = _Calendars()
    result.defined = set(node.items) if isinstance(node, Mapping) else set()
    result.freebusy_lines = {}
    if node is None:
        return result
    if not isinstance(node, Mapping):
        r.bad(node, "calendars", "expected a mapping of calendar ids")
        return result
    if not node.items:
        r.problem(node.line, "calendars", "define at least one calendar")
    kinds = schema.CALENDAR_KINDS
    for cal_id, (line, cal_node) in node.items.items():
        path = f"calendars.{cal_id}"
        if not schema.is_id(cal_id):
            r.problem(line, path, schema.id_rule("calendar"), cal_id)
            continue
        fields = r.fields(cal_node, path, "calendar")
        if fields is None:
            continue
        if "password" in fields:
            # Never echo the value: it is a secret by definition.
            r.problem(fields.line("password"), f"{path}.password",
                      "a password must not be written in the config; use password_env (an "
                      "environment variable name) or keyring (a keyring service name)")
        present = [kind for kind in kinds.values() if kind.key in fields]
        if len(present) != 1:
            r.problem(cal_node.line, path, "a calendar needs exactly one of "
                      + _one_of(present or kinds.values()))
            continue
        kind = present[0]
        location = fields[kind.key]
        if "busy_query" in fields and kind.busy != "query":
            asked = " or ".join(f"'{k.key}'" for k in kinds.values() if k.busy == "query")
            r.bad(fields.node("busy_query"), f"{path}.busy_query", f"only used with {asked}")
            busy_query = fields.keys["busy_query"].default_value
        else:
            busy_query = fields["busy_query"]
            if busy_query == "freebusy":
                result.freebusy_lines[cal_id] = fields.line("busy_query")
        if not kind.credentials:
            logging_in = " or ".join(f"'{k.key}'" for k in kinds.values() if k.credentials)
            for extra in schema.CREDENTIAL_KEYS:
                if extra in fields:
                    r.problem(fields.line(extra), f"{path}.{extra}", f"only used with {logging_in}")
            if location is not None:
                result[cal_id] = Calendar(cal_id, kind.key, location)
            continue
        username, password_env, keyring = (fields[name] for name in schema.CREDENTIAL_KEYS)
        if "password_env" in fields and "keyring" in fields:
            r.problem(cal_node.line, path, "use either password_env or keyring, not both")
        if location is not None:
            result[cal_id] = Calendar(cal_id, kind.key, location, username, password_env, keyring, busy_query)
    return result


def _read_people(r: _Reader, node: Node | None, default_hours: WorkingHours, language: str,
                 default_busy: tuple[str, ...]) -> dict[str, Person]:
    result: dict[str, Person] = {}
    if node is None:
        return result
    if not isinstance(node, Mapping) or not node.items:
        r.bad(node, "people", "expected a mapping of person ids to their details")
        return result
    emails: dict[str, str] = {}
    for person_id, (line, person_node) in node.items.items():
        path = f"people.{person_id}"
        if not schema.is_id(person_id):
            r.problem(line, path, schema.id_rule("person"), person_id)
            continue
        fields = r.fields(person_node, path, "person")
        if fields is None:
            continue
        name = fields["name"]
        email = fields["email"]
        if email is not None:
            if email.lower() in emails:
                r.bad(fields.node("email"), f"{path}.email",
                      f"the same e-mail address as person '{emails[email.lower()]}'")
            emails[email.lower()] = person_id
        calendar = fields["calendar"]
        hours = _read_working_hours(r, fields.node("working_hours"), f"{path}.working_hours", default_hours)
        person_language = fields["language"] or language
        busy = fields["busy"] if "busy" in fields else default_busy
        if name and calendar:
            result[person_id] = Person(person_id, name, email, calendar, hours, person_language, busy or ())
    return result


def _id_of(fields: _Fields, made_from: str | None) -> str | None:
    """The item's id: its own, or made from its name."""
    if "id" in fields:
        return fields["id"]
    return slug(made_from) if made_from else None


def _read_contact(r: _Reader, fields: _Fields, path: str, node: Node) -> ContactAgreement | None:
    owner, contact, every = fields["owner"], fields["with"], fields["every"]
    ident = _id_of(fields, contact)
    last, next_date = fields["last"], fields["next"]
    if last and r.today and last > r.today:
        # `next` is the field for a date agreed ahead; a `last` ahead of today is a typo
        # (2027 for 2026) that would silently move the reminder a year.
        r.problem(fields.line("last"), f"{path}.last", f"{in_the_future(r.today)}; 'last' is a contact that "
                  "happened, a date agreed for later is 'next'", str(last))
        last = None
    if last and next_date and next_date <= last:
        r.problem(fields.line("next"), f"{path}.next", f"the next contact must come after the last ({last})",
                  str(next_date))
        next_date = None
    medium, duration = fields["medium"], fields["duration"]
    if not (owner and contact and every and ident):
        return None
    return ContactAgreement(
        id=ident, owner=owner, contact=contact, every=every, role=fields["role"],
        organisation=fields["organisation"], last=last, next=next_date, medium=medium, duration=duration,
        question=fields["question"], line=node.line)


def _read_project(r: _Reader, fields: _Fields, path: str, node: Node) -> Aftercare | None:
    name = fields["name"]
    ident = _id_of(fields, name)
    team, end, offsets = fields["team"], fields["end"], fields["aftercare"]
    duration, start = fields["duration"], fields["at"]
    if not (name and ident and team and end and offsets):
        return None
    return Aftercare(ident, name, fields["client"], team, end, offsets, duration, start, fields["location"])


def _read_session(r: _Reader, fields: _Fields, path: str, node: Node) -> SessionSeries | None:
    name = fields["name"]
    ident = _id_of(fields, name)
    periods, participants = fields["every"], fields["participants"]
    weekday = start = None
    prefer = r.fields(fields.node("prefer"), f"{path}.prefer", "prefer")
    if prefer is not None:
        weekday, start = prefer["weekday"], prefer["start"]
    duration = fields["duration"]
    if None in (name, ident, periods, participants, weekday, start):
        return None
    # The preferred slot must be possible for every participant, or no date could ever be found.
    blocked = [p for p in participants if not _slot_possible(r.people[p].working_hours, weekday, start, duration)]
    if blocked:
        r.problem(prefer.line("start"), f"{path}.prefer",
                  f"{WEEKDAYS[weekday]} {start:%H:%M} for {int(duration.total_seconds() // 60)} minutes "
                  f"is outside the working hours of {', '.join(blocked)}",
                  f"{WEEKDAYS[weekday]} {start:%H:%M}")
        return None
    return SessionSeries(ident, name, periods, participants, weekday, start, duration,
                         fields["location"], fields["description"])


def _slot_possible(hours: WorkingHours, weekday: int, start: time, duration: timedelta) -> bool:
    monday = date(2024, 1, 1)  # a Monday: any week will do to test the weekly pattern
    return hours.fits(monday + timedelta(days=weekday), start, duration)


def _read_meeting(r: _Reader, fields: _Fields, path: str, node: Node, tz) -> NetworkMeeting | None:
    name = fields["name"]
    ident = _id_of(fields, name)
    at = fields["at"]
    duration, representative = fields["duration"], fields["representative"]
    # Without a list, everyone but the representative is a colleague.
    colleagues = fields["colleagues"] if "colleagues" in fields else tuple(r.people)
    prepare, report_back = fields["prepare"], fields["report_back"]
    if None in (name, ident, at, representative, colleagues):
        return None
    if "prepare" in fields and prepare is None or "report_back" in fields and report_back is None:
        return None     # wrong, and reported
    return NetworkMeeting(ident, name, at.replace(tzinfo=tz), duration, representative,
                          tuple(c for c in colleagues if c != representative),
                          prepare, report_back, fields["location"])


def _read_mail(r: _Reader, node: Node | None, team_name: str) -> MailSettings | None:
    fields = r.fields(node, "mail", "mail")
    if fields is None:
        return None
    if "password" in fields:
        r.problem(fields.line("password"), "mail.password",
                  "a password must not be written in the config; use password_env or keyring")
    organizer, host, security = fields["organizer"], fields["smtp_host"], fields["security"]
    port = fields["smtp_port"]
    if port is None:
        port = fields.keys["smtp_port"].default_when(security)
    password_env, kinds = fields["password_env"], fields["invite"]
    if not (organizer and host):
        return None
    return MailSettings(organizer, fields["organizer_name"] or team_name, host, port, security,
                        fields["username"], password_env, fields["keyring"], kinds)


def _read_feed(r: _Reader, node: Node | None, team_name: str) -> FeedSettings:
    fields = r.fields(node, "feed", "feed")
    if fields is None:
        return FeedSettings(name=team_name)
    base_url, listen, refresh = fields["base_url"], fields["listen"], fields["refresh"]
    host = listen.host or fields.keys["listen"].default_value.host
    return FeedSettings(base_url.rstrip("/") if base_url else None, host, listen.port, refresh, team_name)
