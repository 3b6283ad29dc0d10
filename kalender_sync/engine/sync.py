"""CalDAV sync: list what is there, decide with core.diff, write conditionally, record.

Two-way aware: only events that carry our marker *and* the UID derived from it are
ever written; someone else's edit is kept and reported; an event someone deleted is
not created again. Every write is conditional, a 412 leads to a re-read of that one
event, and each successful write is recorded at once, so a run that dies anywhere
can simply be run again.
"""
from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from ..core.diff import (CONFLICT, CREATE, DELETE, DONE, EDITED, GONE, KEEP, SKIP, SYNCED, TAKEN, UPDATE,
                        Change, Existing, diff, summarize)
from ..core.model import LoggedContact, Person, Team
from ..core.planning import PlannedEvent, Plan, uid_for
from ..core.fingerprint import HASH, MARKER, content_hash, observed_hash
from ..core.errors import TargetError
from ..storage.status import Record, State, stamp_text
from ..targets.caldav import CalDAVCalendar, InvalidSyncToken, Listed, Listing, PreconditionFailed, Refused

# Bodies rendered ahead of the request that sends them (see CalendarSync._write).
_RENDER_AHEAD = 4

# Below this many kalender-sync events, removing all of them is an ordinary change.
MASS_DELETE_MINIMUM = 3

# How a person says "done" in their own calendar app: a contact reminder whose title they
# change to start with one of these is logged as a contact on the next sync (README).
DONE_MARKERS = ("✓", "✔", "☑", "[x]", "done", "gedaan", "klaar")


def marked_done(summary: str) -> bool:
    text = summary.strip().casefold()
    return any(text.startswith(marker) for marker in DONE_MARKERS)


@dataclass
class CalendarResult:
    person: str
    target: str
    changes: list[Change] = field(default_factory=list)
    done: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: str | None = None

    @property
    def planned(self) -> dict[str, int]:
        return summarize(self.changes)

    def count(self, action: str) -> None:
        self.done[action] = self.done.get(action, 0) + 1


def shard_of(person_id: str, shards: int) -> int:
    """1-based shard of a person: stable across runs, machines and Python versions."""
    return int(hashlib.sha256(person_id.encode()).hexdigest()[:8], 16) % shards + 1


# -- reading what is there --------------------------------------------------------

def _first_event(data: str):
    from icalendar import Calendar   # not imported by a no-op sync, which parses nothing
    try:
        calendar = Calendar.from_ical(data)
    except ValueError:
        return None
    events = calendar.walk("VEVENT")
    return events[0] if events else None


def _end_day(vevent) -> str | None:
    try:
        value = vevent.decoded("dtend") if "dtend" in vevent else vevent.decoded("dtstart")
    except (KeyError, ValueError):
        return None
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def classify(calendar: str, item: Listed, known: dict[str, Record], planned_uids: set[str]) -> Record | None:
    """What one listed resource means to us; None for someone else's event."""
    vevent = _first_event(item.data or "")
    if vevent is None or "uid" not in vevent:
        return None
    uid = str(vevent["uid"])
    key = str(vevent[MARKER]) if MARKER in vevent else None
    owned = key is not None and uid_for(key) == uid
    sequence = int(vevent.get("sequence", 0) or 0)
    stamp = vevent.get("dtstamp")
    stamp_value = stamp_text(stamp.dt) if stamp is not None and isinstance(stamp.dt, datetime) else ""
    if owned:
        written = str(vevent[HASH]) if HASH in vevent else ""
        status = SYNCED if written and observed_hash(vevent) == written else EDITED
        if status == EDITED and key.startswith("contact/") and marked_done(str(vevent.get("summary", ""))):
            status = DONE
        return Record(calendar, uid, item.href, item.etag, written, sequence, stamp_value, status, key,
                      _end_day(vevent))
    if uid in known and known[uid].status != TAKEN:
        # Ours once, but a client dropped our properties while editing: theirs now.
        old = known[uid]
        return replace(old, href=item.href, etag=item.etag, status=EDITED, sequence=sequence)
    if uid in planned_uids:
        return Record(calendar, uid, item.href, item.etag, "", sequence, stamp_value, TAKEN, None,
                      _end_day(vevent))
    return None


def observe(calendar: str, view: dict[str, Record], listing: Listing, planned_uids: set[str],
            target: CalDAVCalendar) -> tuple[list[Record], list[str]]:
    """Apply a listing to the known records. Returns (records to store, uids to forget)."""
    store: dict[str, Record] = {}
    forget: list[str] = []
    by_href = {r.href: uid for uid, r in view.items()}

    def gone(uid: str) -> None:
        record = view[uid]
        if record.status == TAKEN:
            forget.append(uid)
            del view[uid]
        elif record.status != GONE:
            view[uid] = store[uid] = replace(record, status=GONE, etag=None)

    listed_hrefs = {item.href for item in listing.changed}
    # Only bodies we have not seen are fetched (one multiget): an href whose ETag is the
    # one we recorded is exactly what we wrote or last read.
    unknown = [item for item in listing.changed
               if not (item.href in by_href and view[by_href[item.href]].etag == item.etag and item.etag)]
    target.fill(unknown)
    for item in unknown:
        record = classify(calendar, item, view, planned_uids)
        previous = by_href.get(item.href)
        if previous is not None and (record is None or record.uid != previous) and previous in view:
            gone(previous)
        if record is not None:
            view[record.uid] = store[record.uid] = record
    deleted = list(listing.deleted)
    if listing.full:
        deleted += [r.href for r in list(view.values()) if r.href not in listed_hrefs]
    for href in deleted:
        uid = by_href.get(href)
        if uid is not None and uid in view and view[uid].href == href:
            gone(uid)
    return list(store.values()), forget


def as_existing(record: Record) -> Existing:
    return Existing(uid=record.uid, key=record.key if record.status != TAKEN else None,
                    hash=record.hash, sequence=record.sequence, stamp=None,
                    end=date.fromisoformat(record.end) if record.end else None,
                    state=record.status, href=record.href, etag=record.etag)


# -- one calendar -------------------------------------------------------------------

class CalendarSync:
    def __init__(self, team: Team, person: Person, target: CalDAVCalendar, state: State | None,
                 today: date, stamp: datetime):
        self.team, self.person, self.target, self.state = team, person, target, state
        self.today, self.stamp = today, stamp
        self.key = target.describe()   # the calendar's identity in the status DB: no credentials

    def _store(self, *records: Record) -> None:
        if self.state is not None and records:
            self.state.put(*records)

    def _forget(self, *uids: str) -> None:
        if self.state is not None and uids:
            self.state.forget(self.key, *uids)

    def read(self, planned: list[PlannedEvent], persist: bool) -> tuple[dict[str, Record], Listing]:
        view = self.state.records(self.key) if self.state is not None else {}
        token = self.state.sync_token(self.key) if self.state is not None and view else None
        try:
            listing = self.target.listing(token)
        except InvalidSyncToken:
            listing = self.target.listing(None)
        store, forget = observe(self.key, view, listing, {e.uid for e in planned}, self.target)
        if persist:
            self._store(*store)
            self._forget(*forget)
            self.state is not None and self.state.set_sync_token(self.key, listing.token)
        return view, listing

    def run(self, planned: list[PlannedEvent], *, dry_run: bool, force_delete: bool, progress=None,
            read=None) -> CalendarResult:
        result = CalendarResult(self.person.id, self.target.describe())
        try:
            view, listing = read if read is not None else self.read(planned, persist=not dry_run)
        except Refused as exc:
            result.failures.append(str(exc))
            return result
        except TargetError as exc:
            result.failures.append(f"listing failed: {exc}")
            return result
        existing = {uid: as_existing(r) for uid, r in view.items()}
        result.changes = diff(self.person.id, planned, existing, self.today)
        counts = summarize(result.changes)
        live_owned = sum(1 for e in existing.values()
                         if e.owned and e.state == SYNCED and (e.end is None or e.end >= self.today))
        if (counts[DELETE] and counts[DELETE] == live_owned >= MASS_DELETE_MINIMUM
                and not (counts[KEEP] or counts[UPDATE]) and not force_delete):
            result.refused = (f"this would delete all {counts[DELETE]} kalender-sync events of this calendar; "
                              "if that is what you want, run again with --force-delete")
            return result
        if dry_run:
            return result
        wrote = self._write(result, view, progress)
        # Records of events that are neither planned nor on the server any more.
        planned_uids = {e.uid for e in planned}
        stale = [uid for uid, r in view.items() if r.status in (GONE, TAKEN) and uid not in planned_uids]
        self._forget(*stale)
        if wrote and not result.failures:
            # Move the token past our own writes, so the next run lists only what others did.
            try:
                view_after = self.state.records(self.key) if self.state is not None else dict(view)
                after = self.target.listing(listing.token)
                store, forget = observe(self.key, view_after, after, planned_uids, self.target)
                self._store(*store)
                self._forget(*forget)
                if self.state is not None:
                    self.state.set_sync_token(self.key, after.token)
            except TargetError:
                pass  # the next run lists from the older token: more to read, nothing wrong
        return result

    # -- writes ----------------------------------------------------------------
    def _write(self, result: CalendarResult, view: dict[str, Record], progress) -> bool:
        """Carry out the changes in order, one request at a time; True if anything was written.

        Bodies are rendered a few changes ahead on a worker thread, so rendering runs while
        this thread waits for the server (a socket wait leaves the interpreter free). The
        requests and the status DB stay on this thread: one request in flight, recorded in
        order, and a refusal stops before the next request goes out. (The other way round,
        requests on the worker, the worker could not start a request until rendering here
        let go of the interpreter, and nothing overlapped.)
        """
        wrote = False
        bodies = iter([c for c in result.changes if c.action in (CREATE, UPDATE)])
        ahead: dict[str, Future] = {}
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kalender-sync-render")

        def top_up() -> None:
            while len(ahead) < _RENDER_AHEAD and (change := next(bodies, None)) is not None:
                sequence = 0 if change.action == CREATE else change.sequence
                ahead[change.uid] = pool.submit(self._render, change.event, sequence)

        try:
            for change in result.changes:
                if progress is not None:
                    progress(1)
                if change.action in (KEEP, CONFLICT, SKIP):
                    result.count(change.action)
                    continue
                body = None
                if change.action != DELETE and _RENDER_AHEAD:
                    top_up()
                    body = ahead.pop(change.uid).result()
                    top_up()
                try:
                    self._apply(change, view, result, body)
                    wrote = True
                except Refused as exc:
                    result.failures.append(str(exc))
                    break
                except TargetError as exc:
                    result.failures.append(f"{change.action} '{change.title}': {exc}")
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return wrote

    def _request(self, change: Change, view: dict[str, Record], body: bytes | None = None) -> tuple:
        """The target call that carries out `change`, with its body."""
        record = view.get(change.uid)
        if change.action == CREATE:
            return self.target.create, self.target.href_for(change.uid), body or self._render(change.event, 0)
        if change.action == UPDATE:
            return (self.target.update, record.href, body or self._render(change.event, change.sequence),
                    record.etag)
        return self.target.delete, record.href, record.etag

    def _done(self, change: Change, view: dict[str, Record], result: CalendarResult, answer) -> None:
        """Record a write the server confirmed (`answer`: the new ETag, or for DELETE whether it was there)."""
        record = view.get(change.uid)
        if change.action == CREATE:
            view[change.uid] = self._record(change.event, self.target.href_for(change.uid), answer, 0)
            self._store(view[change.uid])
        elif change.action == UPDATE:
            view[change.uid] = self._record(change.event, record.href, answer, change.sequence)
            self._store(view[change.uid])
        else:
            view.pop(change.uid, None)
            self._forget(change.uid)
        result.count(change.action)

    def _render(self, event: PlannedEvent, sequence: int) -> bytes:
        from ..core.render import render_object   # icalendar: only when something is written
        return render_object(event, self.stamp, sequence, self.person.language)

    def _record(self, event: PlannedEvent, href: str, etag: str | None, sequence: int) -> Record:
        return Record(self.key, event.uid, href, etag, content_hash(event), sequence, stamp_text(self.stamp),
                      SYNCED, event.key, (event.end if isinstance(event.end, date) and not isinstance(event.end, datetime)
                                          else event.end.date()).isoformat())

    def _apply(self, change: Change, view: dict[str, Record], result: CalendarResult,
               body: bytes | None = None, retry: bool = True) -> None:
        call, *args = self._request(change, view, body)
        try:
            answer = call(*args)
        except PreconditionFailed:
            if not retry:
                raise
            self._reconcile(change, view, result)
            return
        self._done(change, view, result, answer)

    def _reconcile(self, change: Change, view: dict[str, Record], result: CalendarResult) -> None:
        """After a 412: read the one event again and decide anew; never overwrite blindly."""
        record = view.get(change.uid)
        href = record.href if record is not None else self.target.href_for(change.uid)
        item = self.target.get(href)
        if item is None:
            if change.action == DELETE:
                view.pop(change.uid, None)
                self._forget(change.uid)
                result.count(DELETE)
                return
            if change.action == UPDATE and record is not None:
                view[change.uid] = replace(record, status=GONE, etag=None)
                self._store(view[change.uid])
                result.count(SKIP)
                result.notes.append(f"'{change.title}' was deleted by someone else meanwhile; not re-created")
                return
            raise PreconditionFailed(f"another event holds the UID of '{change.title}' at another address")
        fresh = classify(self.key, item, view, {change.uid})
        if fresh is None or fresh.status == TAKEN:
            if fresh is not None:
                view[change.uid] = fresh
                self._store(fresh)
            raise PreconditionFailed(f"another event holds the UID of '{change.title}'")
        view[change.uid] = fresh
        self._store(fresh)
        if fresh.status == EDITED:
            result.count(CONFLICT)
            result.notes.append(f"'{change.title}' was edited by someone else meanwhile; their version is kept")
            return
        if change.event is not None and fresh.hash == content_hash(change.event):
            result.count(change.action)   # our own earlier attempt got there (reset after commit)
            return
        if change.event is None:
            again = Change(DELETE, change.uid, change.person, None, as_existing(fresh), fresh.sequence + 1)
        else:
            again = Change(UPDATE, change.uid, change.person, change.event, as_existing(fresh),
                           max(fresh.sequence, change.sequence) + 1)
        self._apply(again, view, result, retry=False)


# -- the whole team ---------------------------------------------------------------------

@dataclass
class Job:
    person: Person
    calendar_id: str
    url: str
    username: str | None


def caldav_jobs(team: Team, people: list[str] | None = None, shard: tuple[int, int] | None = None) -> list[Job]:
    jobs = []
    for person in team.people.values():
        calendar = team.calendars[person.calendar]
        if calendar.kind != "caldav" or (people and person.id not in people):
            continue
        if shard is not None and shard_of(person.id, shard[1]) != shard[0]:
            continue
        username = calendar.username.replace("{person}", person.id) if calendar.username else None
        jobs.append(Job(person, calendar.id, calendar.url.replace("{person}", person.id), username))
    return jobs


def open_target(team: Team, job: Job, log=None, timeout: float = 30, retry=None) -> CalDAVCalendar:
    from ..storage.credentials import password_for
    password = password_for(team.calendars[job.calendar_id], job.username)
    return CalDAVCalendar(job.url, job.username, password, timeout=timeout, log=log, retry=retry)


def completed_contacts(team: Team, views: list[dict[str, Record]], today: date) -> list[LoggedContact]:
    """Contacts people marked done in their own calendar, not yet in the log.

    A reminder counts once: only while its due date is still the agreement's current
    due date. After it is logged the due date moves on, so a second sync adds nothing.
    """
    from ..core.planning import contact_status
    agreements = {(a.owner, a.id): a for a in team.contacts}
    found: dict[tuple[str, str], LoggedContact] = {}
    for view in views:
        for record in view.values():
            if record.status != DONE or not record.key:
                continue
            _, owner, agreement_id, due, _ = record.key.split("/", 4)
            agreement = agreements.get((owner, agreement_id))
            if agreement is None or contact_status(team, agreement).due.isoformat() != due:
                continue
            on = min(date.fromisoformat(record.end), today) if record.end else today
            found.setdefault((owner, agreement_id), LoggedContact(
                owner, agreement_id, on, None, "marked done in the calendar"))
    return sorted(found.values(), key=lambda e: (e.owner, e.agreement))


def sync_team(team: Team, plan: Plan, jobs: list[Job], state: State | None, stamp: datetime, *,
              dry_run: bool, force_delete: bool = False, log=None, retry=None, progress=None,
              timeout: float = 30, replan=None, record_contacts=None) -> list[CalendarResult]:
    """Read every calendar, take in contacts marked done there, then plan and write.

    `replan(team)` plans again once such contacts joined the log (they move reminders);
    `record_contacts(entries)` appends them to the contact log (not in a dry run).
    """
    engines = []
    results: list[CalendarResult] = []
    for job in jobs:
        try:
            target = open_target(team, job, log=log, retry=retry, timeout=timeout)
        except TargetError as exc:
            results.append(CalendarResult(job.person.id, job.url, failures=[str(exc)]))
            continue
        engine = CalendarSync(team, job.person, target, state, plan.today, stamp)
        try:
            read = engine.read(plan.for_person(job.person.id), persist=not dry_run)
        except TargetError as exc:
            read = None
            failure = exc
        engines.append((job, engine, read, None if read is not None else failure))
    completed = completed_contacts(team, [read[0] for _, _, read, _ in engines if read is not None], plan.today)
    if completed:
        if record_contacts is not None and not dry_run:
            record_contacts(completed)
        team = replace(team, log=team.log + tuple(completed))
        if replan is not None:
            plan = replan(team)
    for job, engine, read, failure in engines:
        if read is None:
            results.append(CalendarResult(job.person.id, engine.target.describe(),
                                          failures=[f"listing failed: {failure}"]))
            continue
        engine.team = team
        result = engine.run(plan.for_person(job.person.id), dry_run=dry_run, force_delete=force_delete,
                            progress=progress, read=read)
        result.notes[:0] = [f"'{e.agreement}' marked done in the calendar: logged as a contact on {e.on}"
                            for e in completed if e.owner == job.person.id]
        results.append(result)
    return results


def purge_calendar(team: Team, job: Job, state: State | None, log=None, retry=None) -> CalendarResult:
    """Remove every event this tool created from one calendar, and nothing else."""
    target = open_target(team, job, log=log, retry=retry)
    result = CalendarResult(job.person.id, target.describe())
    key = target.describe()
    try:
        listing = target.listing(None, with_data=True)
    except TargetError as exc:
        result.failures.append(f"listing failed: {exc}")
        return result
    for item in listing.changed:
        record = classify(key, item, {}, set())
        if record is None or record.status == TAKEN:
            continue
        try:
            target.delete(item.href, item.etag)
            result.count(DELETE)
            if state is not None:
                state.forget(key, record.uid)
        except PreconditionFailed:
            result.failures.append(f"'{record.key}' changed while purging; run purge again")
        except TargetError as exc:
            result.failures.append(str(exc))
    if state is not None and not result.failures:
        state.forget(key, *state.records(key))
        state.set_sync_token(key, None)
    return result
