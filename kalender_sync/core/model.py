"""The validated team model: what the YAML means, in the users' own words."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import schema
from .durations import Interval
from .links import DoneLinks
from .publicholidays import HolidayFacts

WEEKDAYS = schema.WEEKDAYS


@dataclass(frozen=True)
class WorkingHours:
    """Per weekday (0 = Monday) the blocks of working time, sorted, not overlapping."""

    blocks: tuple[tuple[tuple[time, time], ...], ...]  # index = weekday

    def is_working_day(self, day: date) -> bool:
        return bool(self.blocks[day.weekday()])

    def fits(self, day: date, start: time, length: timedelta) -> bool:
        begin = datetime.combine(day, start)
        end = begin + length
        if end.date() != day and end.time() != time(0):
            return False
        for block_start, block_end in self.blocks[day.weekday()]:
            if datetime.combine(day, block_start) <= begin and end <= datetime.combine(day, block_end):
                return True
        return False


@dataclass(frozen=True)
class Calendar:
    """Where a person's events go, or where their busy times are read: one of
    schema.CALENDAR_KINDS, at a location with {person}."""

    id: str
    kind: str                            # a key of schema.CALENDAR_KINDS: "ics", "caldav", "url"
    location: str                        # a file path relative to the config, or a URL
    username: str | None = None          # None: no login at all (a server without authentication)
    password_env: str | None = None
    keyring: str | None = None           # keyring service name
    busy_query: str = schema.default("calendar", "busy_query")   # caldav: "events" | "freebusy"

    @property
    def writes(self) -> bool:
        """Whether events can go here (a url calendar is read only). A kind outside the table is
        a test's own target, handed to sync_team with its own open_target."""
        kind = schema.CALENDAR_KINDS.get(self.kind)
        return kind is None or kind.writes



@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str | None
    calendar: str
    working_hours: WorkingHours
    language: str
    # The calendars their busy times are read from: their own `busy`, else the top-level one.
    busy: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContactAgreement:
    """A person keeps in touch with a contact at least once per interval."""

    id: str               # unique per owner
    owner: str
    contact: str          # the contact's name, as people say it
    every: Interval
    role: str | None = None
    organisation: str | None = None
    last: date | None = None
    next: date | None = None
    medium: str | None = None
    duration: timedelta = schema.default("contact", "duration")
    question: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Aftercare:
    """Follow-up appointments after an assignment ends ("nazorg")."""

    id: str
    name: str
    client: str | None
    team: tuple[str, ...]
    end: date
    offsets: tuple[Interval, ...]
    duration: timedelta
    start: time
    location: str | None = None


@dataclass(frozen=True)
class SessionSeries:
    """A recurring group slot, one per period (a quarterly calling hour)."""

    id: str
    name: str
    periods_per_year: int      # 12 = monthly, 4 = quarterly, 3, 2, 1
    participants: tuple[str, ...]
    weekday: int
    start: time
    duration: timedelta
    location: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class NetworkMeeting:
    """A network meeting one person attends for the team, with prepare and report-back."""

    id: str
    name: str
    at: datetime               # aware, in the team's time zone
    duration: timedelta
    representative: str
    colleagues: tuple[str, ...]
    prepare_before: Interval | None
    report_back_after: Interval | None
    location: str | None = None


@dataclass(frozen=True)
class ReminderSettings:
    max_per_week: int = schema.default("reminders", "max_per_week")
    overdue_every: Interval = schema.default("reminders", "overdue_every")
    at: time = schema.default("reminders", "at")
    ahead: int = schema.default("reminders", "ahead")   # upcoming reminders of one agreement in the calendar
    alarm: timedelta | None = schema.default("reminders", "alarm")


@dataclass(frozen=True)
class LoggedContact:
    """One line of the contact log: a contact that happened, maybe with the next date agreed."""

    owner: str
    agreement: str
    on: date
    next: date | None = None
    note: str | None = None
    line: int = 0
    answered: date | None = None    # `for`: the day of the reminder whose done link logged it


@dataclass(frozen=True)
class Snooze:
    """A log line "not now, remind me on `until`": no contact, the next reminder moves."""

    owner: str
    agreement: str
    until: date
    answered: date | None = None    # `for`: the reminder's day, as in LoggedContact
    note: str | None = None
    line: int = 0


@dataclass(frozen=True)
class MailSettings:
    """E-mail invitations (iMIP) for group events; the password comes from env or keyring."""

    organizer_email: str
    organizer_name: str
    smtp_host: str
    smtp_port: int
    security: str                      # starttls | ssl | none
    username: str | None = None
    password_env: str | None = None
    keyring: str | None = None
    kinds: tuple[str, ...] = schema.default("mail", "invite")


@dataclass(frozen=True)
class FeedSettings:
    """The subscribable ICS feed server."""

    base_url: str | None = None        # public URL the feeds are reached at (https://...)
    host: str = schema.default("feed", "listen").host
    port: int = schema.default("feed", "listen").port
    refresh: timedelta = schema.default("feed", "refresh")
    name: str | None = None


@dataclass(frozen=True)
class Team:
    name: str
    timezone: ZoneInfo
    language: str
    horizon: Interval
    holiday_country: str | None
    holiday_subdivision: str | None
    reminders: ReminderSettings
    people: dict[str, Person]
    calendars: dict[str, Calendar]
    contacts: tuple[ContactAgreement, ...] = ()
    projects: tuple[Aftercare, ...] = ()
    sessions: tuple[SessionSeries, ...] = ()
    meetings: tuple[NetworkMeeting, ...] = ()
    source: str = ""
    log: tuple[LoggedContact, ...] = field(default=())
    snoozes: tuple[Snooze, ...] = field(default=())
    # The done links written into contact reminders (core.links); None: feed.base_url is not
    # set, or the caller plans without them. Carries the server key, so never shown.
    links: "DoneLinks | None" = field(default=None, repr=False)
    mail: MailSettings | None = None
    feed: FeedSettings = FeedSettings()
    # The memo of the `holidays` library's answers this team is planned with (not part of
    # what the team is: two teams with the same config are equal whatever they asked).
    public_holidays: HolidayFacts = field(default_factory=HolidayFacts, compare=False, repr=False)
    # How much of the past files and feeds keep (core.history); None: none. A config without
    # `past` gets the table's default from the reader; a Team built in code keeps no past.
    past: Interval | None = None
    # A placed occurrence moves for new busy times only while it is more than this far ahead.
    busy_notice: timedelta = schema.default("top", "busy_notice")


def location_for(calendar: Calendar, person: str) -> str:
    """The calendar's location for one person: {person} filled in (person ids are URL-safe);
    webcal://, how Outlook and Google hand out published calendars, is https://."""
    location = calendar.location.replace("{person}", person)
    if location[:9].lower() == "webcal://":
        location = "https://" + location[9:]
    return location


def username_for(calendar: Calendar, person: str) -> str | None:
    """The user name a calendar logs in with for one person; None: no login."""
    return calendar.username.replace("{person}", person) if calendar.username else None


def busy_sources_of(team: Team, person: Person | str) -> list[tuple[Calendar, str]]:
    """The calendars `person`'s busy times are read from, each with its location for them
    (location_for). The password, if any, comes from storage.credentials.password_for(calendar,
    username_for(calendar, person)): never from the config or the URL."""
    who = team.people[person] if isinstance(person, str) else person
    return [(team.calendars[source], location_for(team.calendars[source], who.id)) for source in who.busy]
