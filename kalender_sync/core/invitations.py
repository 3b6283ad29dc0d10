"""E-mail invitations (iMIP) for group events: which mails to send, and what was sent.

The planning part is pure: `plan_mails(events, team, stored, today)` compares the planned
group events with what the invitation database says each recipient last received and
returns the mails to send now, each with its METHOD and SEQUENCE. No clock, no files, no
network. `storage.invites.InviteState` is the small SQLite database that remembers, per invitation UID,
the organizer's current version (content hash, SEQUENCE, attendees) and, per recipient,
what they last got. The sender (targets/mail.py) records every mail right after the SMTP
server accepted it, so a run that stops half-way neither re-sends what went out nor
forgets a CANCEL that is still owed.

Which planned events become invitations (one per group occurrence, all PlannedEvents
that share `.group`):

* the event's kind belongs to a family listed in `mail.invite` (session; aftercare;
  meeting = the network meeting with its prepare / collect / report-back days);
* it is timed (not all-day): all-day "send your input" and "report back" days are
  personal to-do days; as an invitation they would block everyone's whole day;
* at least two people take part: an invitation is for a meeting people attend
  together. The network meeting itself has one attendee (the representative, who goes
  to someone else's meeting) and so is not sent; neither is a one-person session.

So today sessions and aftercare are sent; the `meeting` family has no event that
qualifies and sends nothing. Contact reminders are never sent.

Rules for the mails (RFC 5546, RFC 6047, and how Outlook and Gmail treat them):

* new for a recipient: REQUEST; content changed (what people see: title, description,
  time, place): REQUEST with the same UID to every attendee, SEQUENCE + 1;
* an attendee removed (or their address changed): CANCEL to that address only; the
  event gone from the plan: CANCEL to every recipient; both with STATUS:CANCELLED and
  the next SEQUENCE; a new attendee gets a REQUEST, the others are not bothered;
* unchanged: nothing; an event that started before `today` is history: never cancelled;
* SEQUENCE only goes up per UID; all mails of one version carry the same number, also
  when they go out over several runs.

A guard against mass cancellation (`mass_cancellation`), like the mass-delete guard of
`sync`: a config mistake (a deleted `sessions:` section, `participants: [ad]` for `all`)
would otherwise mail CANCEL to everyone, and a cancellation cannot be taken back. A run
is refused, unless forced, when it would withdraw every future occurrence of a series,
or send more than MASS_CANCEL_MAXIMUM cancellations at once.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import MappingProxyType

from . import texts
from .errors import KalenderSyncError
from .fingerprint import content_hash
from .model import MailSettings, Team
from .planning import Plan, PlannedEvent, day_of, uid_for
from .planning.events import Dated

REQUEST = "REQUEST"
CANCEL = "CANCEL"
# More cancellations than this in one run are refused unless forced (--force-cancel).
MASS_CANCEL_MAXIMUM = 10
# The organizer a dry run without a `mail:` section shows: .invalid can never be delivered to
# (RFC 2606), so it cannot be mistaken for a real address.
PLACEHOLDER_ORGANIZER = "organizer@example.invalid"
# Why a mail goes out (drives the subject line and the text).
NEW, CHANGED, CANCELLED, REMOVED = "new", "changed", "cancelled", "removed"
ACTIVE = "active"           # the organizer's current version is a live event
WITHDRAWN = "cancelled"     # the whole event was cancelled

# PlannedEvent.kind -> the family named in `mail.invite`.
FAMILIES = MappingProxyType({"session": "session", "aftercare": "aftercare",
            "meeting": "meeting", "prepare": "meeting", "report_back": "meeting"})



def invite_uid(group: str) -> str:
    """The invitation's UID: one per group occurrence, never a person's calendar UID.

    It must differ from the per-person UIDs that sync/export write, and the event carries
    X-KALENDER-SYNC-INVITE, not X-KALENDER-SYNC-KEY, so sync never takes an accepted
    invitation in someone's CalDAV calendar for one of its own events (and deletes it).
    """
    return uid_for(f"invite/{group}")


# -- what goes in -------------------------------------------------------------------

@dataclass(frozen=True)
class Attendee:
    person: str
    name: str
    email: str
    lang: str

    @property
    def address(self) -> str:       # the comparison key: e-mail addresses ignore case in practice
        return self.email.lower()


@dataclass(frozen=True)
class Seen:
    """What one recipient was last sent for one invitation."""

    email: str
    person: str
    name: str
    lang: str
    method: str
    sequence: int
    hash: str
    title: str
    start: datetime | date
    end: datetime | date
    location: str | None
    sent: str

    @property
    def address(self) -> str:
        return self.email.lower()

    @property
    def attendee(self) -> Attendee:
        return Attendee(self.person, self.name, self.email, self.lang)


@dataclass(frozen=True)
class Stored:
    """The organizer's current version of one invitation, and who got what."""

    uid: str
    group: str
    kind: str
    hash: str
    sequence: int
    attendees: tuple[str, ...]          # lower-cased addresses of this version
    status: str                         # ACTIVE | WITHDRAWN
    recipients: dict[str, Seen] = field(default_factory=dict)   # by lower-cased address


@dataclass(frozen=True)
class Invitation:
    """One planned group occurrence that should be in its attendees' calendars."""

    uid: str
    group: str
    kind: str
    hash: str
    start: datetime | date
    end: datetime | date
    attendees: tuple[Attendee, ...]     # people with an e-mail address
    events: dict[str, PlannedEvent]     # per person: their own event (their language)
    without_email: tuple[str, ...] = ()


# -- what comes out -----------------------------------------------------------------

@dataclass(frozen=True)
class Mail(Dated):
    """One iMIP message to one recipient."""

    method: str                         # REQUEST | CANCEL
    reason: str                         # NEW | CHANGED | CANCELLED | REMOVED
    uid: str
    group: str
    kind: str
    sequence: int
    to: Attendee
    attendees: tuple[Attendee, ...]     # the ATTENDEE lines
    title: str
    description: str | None
    start: datetime | date
    end: datetime | date
    location: str | None
    # The invitation version this mail belongs to; recorded when it has been sent.
    hash: str
    version_attendees: tuple[str, ...]
    version_status: str

    @property
    def status(self) -> str:
        return "CANCELLED" if self.method == CANCEL else "CONFIRMED"


@dataclass
class MailPlan:
    mails: list[Mail] = field(default_factory=list)
    unchanged: int = 0                  # invitations with nothing to send
    history: int = 0                    # past invitations left alone
    skipped: list[str] = field(default_factory=list)   # people without an address, said out loud
    planned: tuple[str, ...] = ()       # the groups of every invitation in the plan, sorted


# -- planning (pure) ------------------------------------------------------------------

def invitation_hash(events: list[PlannedEvent]) -> str:
    """What the attendees see, over every language in use; alarms are not part of an invitation."""
    parts = sorted({content_hash(replace(e, alarm=None)) for e in events})
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def is_invited(events: list[PlannedEvent], kinds: tuple[str, ...]) -> bool:
    first = events[0]
    people = {e.person for e in events} | {a for e in events for a in e.attendees}
    return FAMILIES.get(first.kind) in kinds and not first.all_day and len(people) >= 2


def invitations(events: list[PlannedEvent], team: Team) -> list[Invitation]:
    """The group occurrences that get invitations, one per `.group`."""
    if team.mail is None:
        return []
    groups: dict[str, list[PlannedEvent]] = {}
    for event in events:
        groups.setdefault(event.group, []).append(event)
    result = []
    for group, members in sorted(groups.items()):
        if not is_invited(members, team.mail.kinds):
            continue
        members.sort(key=lambda e: e.person)
        order = list(dict.fromkeys([a for e in members for a in e.attendees] + [e.person for e in members]))
        attendees, without = [], []
        for person_id in order:
            person = team.people.get(person_id)
            if person is None:
                continue
            if person.email:
                attendees.append(Attendee(person.id, person.name, person.email, person.language))
            else:
                without.append(person.id)
        first = members[0]
        result.append(Invitation(invite_uid(group), group, first.kind, invitation_hash(members), first.start,
                                 first.end, tuple(attendees), {e.person: e for e in members}, tuple(without)))
    return result


def plan_mails(events: list[PlannedEvent], team: Team, stored: dict[str, Stored], today: date) -> MailPlan:
    """The mails to send now, given the planned events and what was sent before."""
    result = MailPlan()
    wanted = invitations(events, team)
    result.planned = tuple(inv.group for inv in wanted)
    missing: dict[str, int] = {}
    for inv in wanted:
        for person in inv.without_email:
            missing[person] = missing.get(person, 0) + 1
        before = stored.get(inv.uid)
        mails = _mails_for(inv, before, team, today)
        result.mails += mails
        if not mails:
            result.unchanged += 1
    for person, count in sorted(missing.items()):
        who = team.people[person]
        result.skipped.append(f"{who.name} ({person}) has no e-mail address: not invited to "
                              f"{count} event{'s' if count != 1 else ''}")
    planned = {inv.uid for inv in wanted}
    for uid, before in sorted(stored.items()):
        if uid in planned:
            continue
        owed = [seen for seen in before.recipients.values() if seen.method == REQUEST]
        live = [seen for seen in owed if day_of(seen.start) >= today]
        if owed and not live:
            result.history += 1
        if not live:
            continue
        # Withdrawing the whole event is one new version; a run that stopped half-way
        # continues with the same SEQUENCE for the rest.
        done = before.status == WITHDRAWN and before.attendees == ()
        sequence = before.sequence if done else before.sequence + 1
        cancelled = tuple(seen.attendee for seen in sorted(live, key=lambda s: s.address))
        for seen in sorted(live, key=lambda s: s.address):
            result.mails.append(_cancel(before.uid, before.group, before.kind, sequence, seen, cancelled, CANCELLED,
                                        before.hash, (), WITHDRAWN))
    result.mails.sort(key=lambda m: (m.day, m.uid, m.method != CANCEL, m.to.address))
    return result


def _mails_for(inv: Invitation, before: Stored | None, team: Team, today: date) -> list[Mail]:
    addresses = tuple(sorted(a.address for a in inv.attendees))
    if before is None:
        sequence = 0
    elif (before.hash, before.attendees, before.status) == (inv.hash, addresses, ACTIVE):
        sequence = before.sequence          # the same version (maybe partly sent already)
    else:
        sequence = before.sequence + 1      # a new version: content or attendees changed
    recipients = before.recipients if before else {}
    mails = []
    for attendee in inv.attendees:
        seen = recipients.get(attendee.address)
        if seen is not None and seen.method == REQUEST and seen.hash == inv.hash:
            continue                        # they have this content already
        event = inv.events.get(attendee.person) or next(iter(inv.events.values()))
        reason = CHANGED if seen is not None and seen.method == REQUEST else NEW
        mails.append(Mail(REQUEST, reason, inv.uid, inv.group, inv.kind, sequence, attendee, inv.attendees,
                          event.title, texts.for_invitation(event.description), event.start, event.end,
                          event.location, inv.hash, addresses, ACTIVE))
    wanted = set(addresses)
    for address, seen in sorted(recipients.items()):
        if address in wanted or seen.method != REQUEST or day_of(seen.start) < today:
            continue
        # Removed from the event (or their address changed): only they get a CANCEL.
        mails.append(_cancel(inv.uid, inv.group, inv.kind, sequence, seen, (seen.attendee,), REMOVED,
                             inv.hash, addresses, ACTIVE))
    return mails


def _cancel(uid: str, group: str, kind: str, sequence: int, seen: Seen, attendees: tuple[Attendee, ...],
            reason: str, version_hash: str, version_attendees: tuple[str, ...], status: str) -> Mail:
    return Mail(CANCEL, reason, uid, group, kind, sequence, seen.attendee, attendees, seen.title, None,
                seen.start, seen.end, seen.location, version_hash, version_attendees, status)


# -- the guard against mass cancellation (pure) ---------------------------------------------

def series_of(group: str) -> str:
    """The series an occurrence belongs to: 'session/bel-uurtje' of 'session/bel-uurtje/2027-01'
    (an aftercare's project, a meeting)."""
    return "/".join(group.split("/")[:2])


@dataclass(frozen=True)
class SeriesEnding:
    """A series whose every future occurrence this run would cancel."""

    series: str
    title: str
    occurrences: int
    people: tuple[str, ...]             # the recipients' names


@dataclass(frozen=True)
class MassCancellation:
    """What a refused run would have cancelled."""

    cancels: int                        # CANCEL mails that start a cancellation
    series: tuple[SeriesEnding, ...]
    per_person: tuple[tuple[str, int], ...]   # ("Ad Verhoeven (ad)", 12), most first

    def headline(self, dry_run: bool = False) -> str:
        reasons = []
        if self.series:
            reasons.append(f"every future occurrence of {len(self.series)} series")
        if self.cancels > MASS_CANCEL_MAXIMUM:
            reasons.append(f"more than {MASS_CANCEL_MAXIMUM} invitations at once")
        what = f"cancel {self.cancels} invitation{'s' if self.cancels != 1 else ''} ({' and '.join(reasons)})"
        if dry_run:
            return f"a run would refuse to {what} and send nothing"
        return f"refused to {what}; nothing was sent"

    def details(self) -> list[str]:
        lines = []
        for ending in self.series:
            lines.append(f"  {ending.title} ({ending.series}): all {ending.occurrences} future "
                         f"occurrence{'s' if ending.occurrences != 1 else ''}, for {len(ending.people)} "
                         f"{'person' if len(ending.people) == 1 else 'people'}: {', '.join(ending.people)}")
        lines.append("  cancellations per person: " + ", ".join(f"{who} {n}" for who, n in self.per_person))
        lines.append("A config mistake does this (a deleted sessions: or projects: entry, a wrong person id in "
                     "participants or team, a kind dropped from mail.invite): fix the config and run again. "
                     "If these events really are off, run again with --force-cancel.")
        return lines


class MassCancellationRefused(KalenderSyncError):
    """A run that would cancel too much at once, refused before anything was sent (exit 1, as a
    sync whose every calendar is refused by the mass-delete guard: nothing was done)."""

    def __init__(self, found: MassCancellation, dry_run: bool = False):
        super().__init__(found.headline(dry_run))
        self.found = found

    def __str__(self) -> str:
        return "\n".join(self.found.details())


def mass_cancellation(mail_plan: MailPlan, stored: dict[str, Stored]) -> MassCancellation | None:
    """Why this run's cancellations are too many to send without --force-cancel, or None.

    Counted are the CANCEL mails that start a cancellation: a mail of a version that was
    already decided (a forced run that stopped half-way) is finishing one, not a new one.
    """
    starting = []
    for mail in mail_plan.mails:
        before = stored.get(mail.uid)
        if mail.method == CANCEL and (before is None or mail.sequence > before.sequence):
            starting.append(mail)
    if not starting:
        return None
    planned = {series_of(group) for group in mail_plan.planned}
    withdrawn: dict[str, list[Mail]] = {}
    for mail in starting:
        if mail.reason == CANCELLED and series_of(mail.group) not in planned:
            withdrawn.setdefault(series_of(mail.group), []).append(mail)
    if not withdrawn and len(starting) <= MASS_CANCEL_MAXIMUM:
        return None
    endings = tuple(SeriesEnding(series, mails[0].title, len({m.uid for m in mails}),
                                 tuple(dict.fromkeys(m.to.name for m in sorted(mails, key=lambda m: m.to.name))))
                    for series, mails in sorted(withdrawn.items()))
    counts: dict[str, int] = {}
    for mail in starting:
        who = f"{mail.to.name} ({mail.to.person})"
        counts[who] = counts.get(who, 0) + 1
    return MassCancellation(len(starting), endings, tuple(sorted(counts.items(), key=lambda c: (-c[1], c[0]))))


# -- a dry run without a mail: section (pure) -------------------------------------------------

def placeholder_settings(team: Team) -> MailSettings:
    """Mail settings that show what would be sent when the config has no `mail:` section: the
    default kinds, a placeholder organizer, no server (nothing can be sent with them)."""
    return MailSettings(PLACEHOLDER_ORGANIZER, team.name, "", 0, "none")


def missing_for_sending(team: Team) -> str | None:
    """What the config lacks to send invitations for real; None when nothing is missing."""
    if team.mail is not None:
        return None
    return ("the config has no 'mail:' section, so nothing can be sent yet (the organizer above is a "
            "placeholder). To send these invitations, add at least:\n"
            "  mail:\n    organizer: you@example.nl     # the address invitations come from\n"
            "    smtp_host: smtp.example.nl    # the mail server to send through\n"
            "and, if the server wants a login, username and password_env (see docs/config.md, Mail). Once "
            "invitations are sent, these events are left out of the invitees' own calendars (files, feeds, "
            "CalDAV), so that they do not show twice.")


# -- texts (pure) -------------------------------------------------------------------

_WEEKDAYS = MappingProxyType({"nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
             "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")})
_SHORT_DAYS = MappingProxyType({"nl": ("ma", "di", "wo", "do", "vr", "za", "zo"),
               "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")})
_SHORT_MONTHS = MappingProxyType({"nl": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
                 "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")})
_PREFIX = MappingProxyType({"nl": MappingProxyType({NEW: "Uitnodiging", CHANGED: "Gewijzigd", CANCELLED: "Geannuleerd", REMOVED: "Geannuleerd"}),
           "en": MappingProxyType({NEW: "Invitation", CHANGED: "Updated", CANCELLED: "Cancelled", REMOVED: "Cancelled"})})
_LEAD = MappingProxyType({
    "nl": MappingProxyType({NEW: "Je bent uitgenodigd voor: {title}",
           CHANGED: "Deze afspraak is gewijzigd: {title}",
           CANCELLED: "Deze afspraak gaat niet door: {title}",
           REMOVED: "Je staat niet meer op de deelnemerslijst van: {title}"}),
    "en": MappingProxyType({NEW: "You are invited to: {title}",
           CHANGED: "This event has changed: {title}",
           CANCELLED: "This event has been cancelled: {title}",
           REMOVED: "You are no longer on the list of attendees of: {title}"}),
})
_LABELS = MappingProxyType({"nl": MappingProxyType({"when": "Wanneer", "where": "Waar", "with": "Deelnemers", "from": "Uitnodiging van",
                  "hello": "Hallo", "all_day": "hele dag",
                  "accept": "Accepteer of wijs af in je agenda; de afspraak komt dan in je eigen agenda.",
                  "gone": "Je agenda haalt de afspraak weg als je dit bericht opent of verwerkt."}),
           "en": MappingProxyType({"when": "When", "where": "Where", "with": "Attendees", "from": "Invitation from",
                  "hello": "Hello", "all_day": "all day",
                  "accept": "Accept or decline in your calendar; the event then appears in your own calendar.",
                  "gone": "Your calendar removes the event when you open or process this message."})})


def _lang(lang: str) -> str:
    return lang if lang in _PREFIX else "en"


def short_when(mail: Mail, lang: str) -> str:
    """'do 7 jan 2027 14:00' / 'Thu 7 Jan 2027 14:00'."""
    lang = _lang(lang)
    day = mail.day
    text = f"{_SHORT_DAYS[lang][day.weekday()]} {day.day} {_SHORT_MONTHS[lang][day.month - 1]} {day.year}"
    return text + (f" {mail.start:%H:%M}" if isinstance(mail.start, datetime) else "")


def long_when(mail: Mail, lang: str) -> str:
    lang = _lang(lang)
    day = mail.day
    text = f"{_WEEKDAYS[lang][day.weekday()]} {texts.day_text(day, lang)}"
    if isinstance(mail.start, datetime):
        return text + f", {mail.start:%H:%M}–{mail.end:%H:%M}"
    return text + f" ({_LABELS[lang]['all_day']})"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def subject(mail: Mail) -> str:
    lang = _lang(mail.to.lang)
    return _one_line(f"{_PREFIX[lang][mail.reason]}: {mail.title}, {short_when(mail, lang)}")


def body_text(mail: Mail, organizer_name: str, organizer_email: str) -> str:
    """The human-readable part, in the recipient's language."""
    lang = _lang(mail.to.lang)
    labels = _LABELS[lang]
    lines = [f"{labels['hello']} {mail.to.name},", "", _LEAD[lang][mail.reason].format(title=mail.title), "",
             f"{labels['when']}: {long_when(mail, lang)}"]
    if mail.location:
        lines.append(f"{labels['where']}: {mail.location}")
    if mail.method == REQUEST:
        lines.append(f"{labels['with']}: {', '.join(a.name for a in mail.attendees)}")
    lines.append(f"{labels['from']}: {organizer_name} <{organizer_email}>")
    lines.append("")
    if mail.method == REQUEST:
        if mail.description:
            lines += [mail.description, ""]
        lines.append(labels["accept"])
    else:
        lines.append(labels["gone"])
    return "\n".join(lines) + "\n"


def message_id(mail: Mail, domain: str) -> str:
    """The same mail gets the same Message-ID, so a re-send after a crash can be recognised."""
    token = uuid.uuid5(uuid.NAMESPACE_URL, f"kalender-sync:{mail.uid}/{mail.sequence}/{mail.method}/{mail.to.address}")
    return f"<{token}@{domain}>"


def for_calendars(plan: Plan, team: Team) -> Plan:
    """The plan as calendars (CalDAV, .ics files, feeds) should show it.

    An event that a person receives as an e-mail invitation is left out of that person's
    calendar: the accepted invitation puts it there, and both would show it twice. People
    without an e-mail address get no invitation, so they keep it in their calendar.
    """
    if team.mail is None:
        return plan
    invited = {(person_id, inv.group) for inv in invitations(plan.events, team)
               for person_id in (a.person for a in inv.attendees)}
    if not invited:
        return plan
    return replace(plan, events=[e for e in plan.events if (e.person, e.group) not in invited])
