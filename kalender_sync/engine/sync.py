"""The one sync engine: list -> classify -> diff -> apply -> record, for every kind of target.

Two-way aware: only events that carry our marker *and* the UID derived from it are ever
written; someone else's edit is kept and reported; an event someone deleted is not created
again. Every write is conditional, a refused precondition leads to a re-read of that one
event and a new decision, and each successful write is recorded at once, so a run that dies
anywhere can simply be run again. What a target cannot do (report edits, keep history,
list incrementally) it says in its capabilities, and the same rules apply as far as they can.
"""
from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Callable, Mapping

from ..core.diff import (CONFLICT, CREATE, DELETE, DELETING, DONE, EDITED, GONE, KEEP, LOGGED, SKIP, SYNCED, TAKEN, UPDATE,
                         Action, Change, Existing, diff, summarize)
from ..core.errors import KalenderSyncError, TargetError
from ..core.fingerprint import content_hash
from ..core.history import CalendarPlan, PastStretch
from ..core.model import Calendar, LoggedContact, Person, Team
from ..core.planning import Plan, PlannedEvent, day_of, uid_for
from ..storage.status import Record, StatusStore, stamp_text
from ..targets.base import CalendarTarget, Capabilities, InvalidSyncToken, Item, Listing, PreconditionFailed, Refused, Version
from .done import marked_done

# Bodies encoded ahead of the request that sends them (see CalendarRun._write).
_ENCODE_AHEAD = 4

# Below this many kalender-sync events, removing all of them is an ordinary change.
MASS_DELETE_MINIMUM = 3


@dataclass
class CalendarResult:
    person: str
    target: str
    changes: list[Change] = field(default_factory=list)
    done: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: str | None = None
    written: bool = False        # a batched target (a file) was written
    listed: bool = False         # the calendar could be read (a failure before that: nothing known)

    @property
    def planned(self) -> dict[str, int]:
        return summarize(self.changes)

    def count(self, action: Action) -> None:
        self.done[action] = self.done.get(action, 0) + 1

    @property
    def wrote(self) -> bool:
        """Something in this calendar was changed by this run."""
        return any(self.done.get(a) for a in (CREATE, UPDATE, DELETE)) or self.written


def shard_of(person_id: str, shards: int) -> int:
    """1-based shard of a person: stable across runs, machines and Python versions."""
    return int(hashlib.sha256(person_id.encode()).hexdigest()[:8], 16) % shards + 1


# -- reading what is there --------------------------------------------------------

def classify(calendar: str, item: Item | None, known: dict[str, Record], planned_uids: set[str],
             capabilities: Capabilities) -> Record | None:
    """What one item means to us; None for someone else's event."""
    if item is None or item.uid is None:
        return None
    uid, key = item.uid, item.key
    end = item.end.isoformat() if item.end is not None else None
    if key is not None and uid_for(key) == uid:
        written = item.written_hash or ""
        status = SYNCED
        moved = None
        if capabilities.others_can_edit and not (written and item.seen_hash == written):
            status = DONE if key.startswith("contact/") and marked_done(item.title) else EDITED
            moved = _moved(known.get(uid), item)
        return Record(calendar, uid, item.href, item.etag, written, item.sequence, item.stamp, status, key, end,
                      item.title, item.start, moved)
    if capabilities.others_can_edit and uid in known and known[uid].status != TAKEN:
        # Ours once, but a client dropped our properties while editing: theirs now.
        return replace(known[uid], href=item.href, etag=item.etag, status=EDITED, sequence=item.sequence,
                       title=item.title, start=item.start, moved=_moved(known[uid], item))
    if uid in planned_uids:
        return Record(calendar, uid, item.href, item.etag, "", item.sequence, item.stamp, TAKEN, None, end,
                      item.title, item.start)
    return None


def _moved(before: Record | None, item: Item) -> bool | None:
    """Did its person move an event we wrote? Compared with the start it had when we last
    knew it (as we wrote it, or as they had it already); None when we never knew it."""
    if before is None or before.start is None:
        return None
    now, then = _moment(item.start), _moment(before.start)
    shifted = type(now) is not type(then) or now != then
    if before.status in (EDITED, DONE):
        return True if before.moved or shifted else before.moved
    return shifted


def observe(calendar: str, view: dict[str, Record], listing: Listing, planned_uids: set[str],
            target: CalendarTarget) -> tuple[list[Record], list[str]]:
    """Apply a listing to the known records (`view`, changed in place).

    Returns (records to store, uids to forget).
    """
    capabilities = target.capabilities
    store: dict[str, Record] = {}
    forget: list[str] = []
    by_href = {r.href: uid for uid, r in view.items()}

    def gone(uid: str) -> None:
        record = view[uid]
        if record.status in (TAKEN, DELETING) or not capabilities.others_can_edit:
            # Nobody else deletes from a target they cannot edit: it is simply not there.
            # A delete of ours whose answer was lost got there: ours, not its person's.
            forget.append(uid)
            del view[uid]
        elif record.status != GONE:
            view[uid] = store[uid] = replace(record, status=GONE, etag=None)

    listed_hrefs = {item.href for item in listing.items}
    # Only items we have not seen are read: an href whose version tag is the one we
    # recorded holds exactly what we wrote or last read.
    unknown = [item.href for item in listing.items
               if not (item.href in by_href and item.etag and view[by_href[item.href]].etag == item.etag)]
    if not listing.full:
        # A delete of ours with no answer is settled by reading its event again when an
        # incremental listing does not name it (the delete never reached the server). A
        # full listing settles it by itself: its record has no version tag to match.
        unsettled = {r.href for r in view.values() if r.status == DELETING}
        unknown += sorted(unsettled - set(unknown) - set(listing.deleted))
    read = target.read(unknown) if unknown else {}
    for href in unknown:
        record = classify(calendar, read.get(href), view, planned_uids, capabilities)
        previous = by_href.get(href)
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
                    hash=record.hash, sequence=record.sequence,
                    end=date.fromisoformat(record.end) if record.end else None,
                    state=record.status, href=record.href, etag=record.etag,
                    title=record.title, start=_moment(record.start), moved=record.moved)


def _moment(text: str | None) -> datetime | date | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    except ValueError:
        return None


def _end_day(event: PlannedEvent) -> str:
    return day_of(event.end).isoformat()


# -- one calendar -------------------------------------------------------------------

class CalendarRun:
    """One person's calendar through the engine."""

    def __init__(self, person: Person, target: CalendarTarget, status: StatusStore, today: date,
                 stamp: datetime):
        self.person, self.target, self.status = person, target, status
        self.today, self.stamp = today, stamp
        self.key = target.identity()
        self.capabilities = target.capabilities
        self._view: dict[str, Record] | None = None
        self._listing: Listing | None = None

    def read(self, planned: list[PlannedEvent], persist: bool) -> dict[str, Record]:
        """List the target and classify what is there; the records, by UID."""
        view = self.status.records(self.key)
        token = self.status.sync_token(self.key) if self.capabilities.incremental and view else None
        try:
            listing = self.target.list(token)
        except InvalidSyncToken:
            listing = self.target.list(None)
        store, forget = observe(self.key, view, listing, {e.uid for e in planned}, self.target)
        if persist:
            # A listing that gave back the token it was asked with: nothing to store (a no-op
            # sync of a large team would otherwise write every calendar's token again).
            self._keep(store, forget, listing.token, token_changed=listing.token != token)
        self._view, self._listing = view, listing
        return view

    def release(self) -> None:
        """Done with this calendar: let go of what was read (a large team holds thousands)."""
        self.target.close()
        self._view = self._listing = None

    def _keep(self, store: list[Record], forget: list[str], token: str | None, *,
              token_changed: bool = True) -> None:
        if store:
            self.status.put(*store)
        if forget:
            self.status.forget(self.key, *forget)
        if self.capabilities.incremental and token_changed:
            self.status.set_sync_token(self.key, token)

    def run(self, planned: list[PlannedEvent], *, dry_run: bool, force_delete: bool,
            progress: Callable[[int], None] | None = None,
            logged: Mapping[str, date] | None = None, past: PastStretch | None = None) -> CalendarResult:
        """`logged`: events here marked done whose contacts this run logs (UID -> the contact's day).
        `past`: the past stretch, for a target that keeps no history of its own (a file)."""
        result = CalendarResult(self.person.id, self.target.describe())
        if self._view is None:
            try:
                self.read(planned, persist=not dry_run)
            except Refused as exc:
                result.failures.append(str(exc))
                return result
            except TargetError as exc:
                result.failures.append(f"listing failed: {exc}")
                return result
        result.listed = True
        view = self._view
        existing = {uid: as_existing(r) for uid, r in view.items()}
        if past is not None and not self.capabilities.keeps_history:
            planned, existing = past.for_calendar(self.person.id, planned, existing)
        result.changes = diff(self.person.id, planned, existing, self.today,
                              keep_history=self.capabilities.keeps_history, logged=logged)
        live = {uid for uid, e in existing.items()
                if e.owned and e.state == SYNCED and (e.end is None or e.end >= self.today)}
        counts = summarize(result.changes)
        live_deletes = sum(1 for c in result.changes if c.action == DELETE and c.uid in live)
        if (live_deletes and live_deletes == len(live) >= MASS_DELETE_MINIMUM
                and not (counts[KEEP] or counts[UPDATE]) and not force_delete):
            result.refused = (f"this would delete all {live_deletes} kalender-sync events of this calendar; "
                              "if that is what you want, run again with --force-delete")
            return result
        if dry_run:
            return result
        wrote = self._write(result, view, progress)
        planned_uids = {e.uid for e in planned}
        # Records of events that are neither planned nor there any more.
        stale = [uid for uid, r in view.items() if r.status in (GONE, TAKEN) and uid not in planned_uids]
        if stale:
            self.status.forget(self.key, *stale)
        if wrote and not result.failures and self.capabilities.incremental:
            # Move the token past our own writes. Not only so that the next run lists only what
            # others did: a server need not report a member created and deleted since the token
            # it is asked with (RFC 6578 leaves it open; Xandikos does not), so from a token
            # older than our creates a person's deletion of one of them would go unseen.
            try:
                view_after = self.status.records(self.key)
                after = self.target.list(self._listing.token)
                store, forget = observe(self.key, view_after, after, planned_uids, self.target)
                self._keep(store, forget, after.token)
            except TargetError:
                pass  # the next run lists from the older token: more to read, nothing wrong
        return result

    # -- writes ----------------------------------------------------------------
    def _write(self, result: CalendarResult, view: dict[str, Record], progress) -> bool:
        """Carry out the changes in order, one request at a time, each recorded when done.

        A remote target's bodies are encoded a few changes ahead on a worker thread while
        this thread waits for the server; requests and the status store stay on this
        thread: one request in flight, recorded in order, and a refusal stops before the
        next request goes out. A batched target (a file) is written once at the end, and
        its records are kept only when that worked.
        """
        batched = self.capabilities.batched
        pending: list[Record] = []
        record = pending.extend if batched else (lambda records: self.status.put(*records))
        forget = (lambda uid: None) if batched else (lambda uid: self.status.forget(self.key, uid))
        writer = _Writer(self, view, result, record, forget)
        wrote = False
        bodies = iter([c for c in result.changes if c.action in (CREATE, UPDATE)])
        ahead: dict[str, Future] = {}
        pool = None if batched else ThreadPoolExecutor(max_workers=1, thread_name_prefix="kalender-sync-encode")

        def top_up() -> None:
            while len(ahead) < _ENCODE_AHEAD and (change := next(bodies, None)) is not None:
                ahead[change.uid] = pool.submit(writer.encode, change)

        try:
            for change in result.changes:
                if progress is not None:
                    progress(1)
                if change.action in (KEEP, CONFLICT, SKIP, LOGGED):
                    result.count(change.action)
                    continue
                body = None
                if change.action != DELETE and pool is not None:
                    top_up()
                    body = ahead.pop(change.uid).result()
                    top_up()
                try:
                    writer.apply(change, body)
                    wrote = True
                except Refused as exc:
                    result.failures.append(str(exc))
                    break
                except TargetError as exc:
                    result.failures.append(f"{change.action} '{change.title}': {exc}")
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        if batched:
            try:
                result.written = self.target.flush(writer.unchanged(result.changes))
            except TargetError as exc:
                result.failures.append(str(exc))
                # Nothing of the batch took effect: it did not create, update or delete anything.
                for action in (CREATE, UPDATE, DELETE):
                    result.done.pop(action, None)
                return False
            # Records of a batched target are true once it is written: drop what it no
            # longer holds, keep what it holds now.
            gone = [uid for uid in self.status.records(self.key) if uid not in view]
            if gone:
                self.status.forget(self.key, *gone)
            if pending:
                self.status.put(*pending)
        return wrote


class _Writer:
    """Carries out one change against the target and keeps `view` and the records up to date."""

    def __init__(self, run: CalendarRun, view: dict[str, Record], result: CalendarResult, record, forget):
        self.run, self.view, self.result = run, view, result
        self.target, self.key = run.target, run.key
        self._record, self._forget = record, forget

    def encode(self, change: Change):
        sequence = 0 if change.action == CREATE else change.sequence
        return self.target.encode(change.event, Version(sequence, self.run.stamp))

    def unchanged(self, changes: list[Change]):
        """For a target that rewrites itself whole: the body of a kept event, encoded again as
        it is there (its SEQUENCE and DTSTAMP), instead of reading it back."""
        kept = {self.view[c.uid].href: (c.event, self.view[c.uid]) for c in changes
                if c.action == KEEP and c.uid in self.view}

        def body(href: str):
            if href not in kept:
                return None
            event, record = kept[href]
            try:
                stamp = datetime.strptime(record.stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
            except ValueError:
                return None      # no DTSTAMP of ours to keep: the target reads it back
            return self.target.encode(event, Version(record.sequence, stamp))
        return body

    def _new_record(self, event: PlannedEvent, href: str, etag: str | None, sequence: int) -> Record:
        return Record(self.key, event.uid, href, etag, content_hash(event), sequence, stamp_text(self.run.stamp),
                      SYNCED, event.key, _end_day(event), event.title, event.start.isoformat())

    def apply(self, change: Change, body=None, retry: bool = True) -> None:
        record = self.view.get(change.uid)
        try:
            if change.action == CREATE:
                href = self.target.href_for(change.uid)
                etag = self.target.create(href, body if body is not None else self.encode(change))
                self._stored(self._new_record(change.event, href, etag, 0))
            elif change.action == UPDATE:
                etag = self.target.update(record.href, body if body is not None else self.encode(change), record.etag)
                self._stored(self._new_record(change.event, record.href, etag, change.sequence))
            else:
                record_delete_intent(self.run.capabilities, self._record, record)
                self.target.delete(record.href, record.etag)
                self.view.pop(change.uid, None)
                self._forget(change.uid)
        except PreconditionFailed:
            if not retry:
                raise
            self._reconcile(change)
            return
        self.result.count(change.action)

    def _stored(self, record: Record) -> None:
        self.view[record.uid] = record
        self._record([record])

    def _reconcile(self, change: Change) -> None:
        """After a refused precondition: read the one event again and decide anew; never
        overwrite blindly."""
        record = self.view.get(change.uid)
        href = record.href if record is not None else self.target.href_for(change.uid)
        item = self.target.read([href]).get(href)
        if item is None:
            if change.action == DELETE:
                self.view.pop(change.uid, None)
                self._forget(change.uid)
                self.result.count(DELETE)
                return
            if change.action == UPDATE and record is not None:
                self._stored(replace(record, status=GONE, etag=None))
                self.result.count(SKIP)
                self.result.notes.append(f"'{change.title}' was deleted by someone else meanwhile; not re-created")
                return
            raise PreconditionFailed(f"another event holds the UID of '{change.title}' at another address")
        fresh = classify(self.key, item, self.view, {change.uid}, self.run.capabilities)
        if fresh is None or fresh.status == TAKEN:
            if fresh is not None:
                self._stored(fresh)
            raise PreconditionFailed(f"another event holds the UID of '{change.title}'")
        self._stored(fresh)
        if fresh.status in (EDITED, DONE):
            self.result.count(CONFLICT)
            self.result.notes.append(f"'{change.title}' was edited by someone else meanwhile; their version is kept")
            return
        if change.event is not None and fresh.hash == content_hash(change.event):
            self.result.count(change.action)   # our own earlier attempt got there (reset after commit)
            return
        if change.event is None:
            again = Change(DELETE, change.uid, change.person, None, as_existing(fresh), fresh.sequence + 1)
        else:
            again = Change(UPDATE, change.uid, change.person, change.event, as_existing(fresh),
                           max(fresh.sequence, change.sequence) + 1)
        self.apply(again, retry=False)


# -- the whole team ---------------------------------------------------------------------

@dataclass
class Job:
    """One person's calendar to carry the plan into."""

    person: Person
    calendar: Calendar


def calendar_jobs(team: Team, people: list[str] | None = None, shard: tuple[int, int] | None = None,
                  kinds: tuple[str, ...] | None = None, out_dir=None) -> list[Job]:
    """The calendars of the chosen people (all, `people`, or one `shard` of I/N).

    `kinds`: only calendars of these kinds; `out_dir`: every person gets an .ics file in that
    folder instead of their own calendar (`export --out`, `plan --out`). A job is a person's
    `calendar:`: the calendars named only in `busy` are read, never written, and a read-only
    kind (url) is never a job.
    """
    jobs = []
    for person in team.people.values():
        if people and person.id not in people:
            continue
        if shard is not None and shard_of(person.id, shard[1]) != shard[0]:
            continue
        calendar = team.calendars[person.calendar]
        if out_dir is not None:
            calendar = Calendar(calendar.id, "ics", str(out_dir / "{person}.ics"))
        elif kinds is not None and calendar.kind not in kinds or not calendar.writes:
            continue
        jobs.append(Job(person, calendar))
    return jobs


def completed_contacts(team: Team, views: list[dict[str, Record]], today: date) -> list[LoggedContact]:
    """Contacts people marked done in their own calendar, not yet in the log."""
    return marked_contacts(team, views, today)[0]


def marked_contacts(team: Team, views: list[dict[str, Record]],
                    today: date) -> tuple[list[LoggedContact], dict[str, date]]:
    """Contacts people marked done in their own calendar, not yet in the log; and the events
    that say so (UID -> the day the contact is logged on).

    A reminder counts once: only while its due date is still the agreement's current
    due date. After it is logged the due date moves on, so a second sync adds nothing.
    """
    from ..core.planning import contact_status
    agreements = {(a.owner, a.id): a for a in team.contacts}
    found: dict[tuple[str, str], LoggedContact] = {}
    marks: list[tuple[str, tuple[str, str]]] = []
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
            marks.append((record.uid, (owner, agreement_id)))
    # Every event marked done for that due date says the same: the one contact, on its one day.
    events = {uid: found[agreement].on for uid, agreement in marks}
    return sorted(found.values(), key=lambda e: (e.owner, e.agreement)), events


def sync_team(team: Team, plan: Plan, jobs: list[Job], status: StatusStore, stamp: datetime, context, *,
              dry_run: bool, force_delete: bool = False, progress=None, replan=None,
              record_contacts=None, open_target=None) -> list[CalendarResult]:
    """Read every calendar, take in contacts marked done there, then plan and write.

    `replan(team)` plans again once such contacts joined the log (they move reminders);
    `record_contacts(entries)` appends them to the contact log (not in a dry run);
    `open_target(calendar, person, context)`: the registry's, unless a test hands in its own.

    Calendars on a server are synced side by side by the context's workers (`context.jobs`,
    sync --jobs); inside one calendar nothing changes: one request at a time, in order, each
    write recorded before the next. Local ones (files, folders) go one after another.
    The results come in the order of `jobs`.
    """
    if open_target is None:
        from ..targets.registry import open_target
    runs: list[tuple[Job, CalendarRun | None, str | None]] = []
    results: list[CalendarResult] = []
    pool = context.pool()
    if progress is not None and pool is not None:
        progress = _locked(progress)

    def side_by_side(work, items: list) -> list:
        """work(item) for each item, remote calendars on the workers, local ones here meanwhile;
        the results in order. Every worker has finished before this returns or raises."""
        if pool is None:
            return [work(item) for item in items]
        futures = {i: pool.submit(work, item) for i, item in enumerate(items) if _remote(item)}
        try:
            local = {i: work(item) for i, item in enumerate(items) if i not in futures}
            wait(futures.values())
        except BaseException:
            # Ctrl-C or a failure here: calendars not started yet are not started; those under
            # way finish (each write is recorded as it is made), then the run ends.
            for future in futures.values():
                future.cancel()
            wait(futures.values())
            raise
        return [futures[i].result() if i in futures else local[i] for i in range(len(items))]

    def first_read(entry):
        job, run, failure = entry
        # Read first only where people can edit: that is where contacts are marked done,
        # and they must be in the log before anything is planned. The rest is read when its
        # turn comes, so a large team's files are not all held at once.
        if failure is None and run.target.capabilities.others_can_edit:
            try:
                run.read(plan.for_person(job.person.id), persist=not dry_run)
            except TargetError as exc:
                return job, run, f"listing failed: {exc}"
        return entry

    try:
        for job in jobs:
            try:
                target = open_target(job.calendar, job.person, context)
            except TargetError as exc:
                runs.append((job, None, str(exc)))
                continue
            runs.append((job, CalendarRun(job.person, target, status, plan.today, stamp), None))
        runs = side_by_side(first_read, runs)
        completed, marked = marked_contacts(team, [run._view for _, run, failure in runs
                                                  if failure is None and run._view is not None], plan.today)
        names = {(a.owner, a.id): a.contact for a in team.contacts} if completed else {}
        if completed:
            if record_contacts is not None and not dry_run:
                record_contacts(completed)
            team = replace(team, log=team.log + tuple(completed))
            if replan is not None:
                plan = replan(team)

        def carry_out(entry) -> CalendarResult:
            job, run, failure = entry
            if failure is not None:
                where = run.target.describe() if run else job.calendar.location.replace("{person}", job.person.id)
                return CalendarResult(job.person.id, where, failures=[failure])
            result = run.run(plan.for_person(job.person.id), dry_run=dry_run, force_delete=force_delete,
                             progress=progress, logged=marked,
                             past=plan.past if isinstance(plan, CalendarPlan)
                             and not run.target.capabilities.keeps_history else None)
            result.notes[:0] = [f"contact with {names.get((e.owner, e.agreement), e.agreement)} marked done "
                                f"in the calendar: logged as a contact on {e.on}"
                                for e in completed if e.owner == job.person.id]
            run.release()
            return result

        results = side_by_side(carry_out, runs)
    finally:
        for _, run, _ in runs:
            if run is not None:
                run.target.close()
        context.finish(wrote=not dry_run)
        context.release()
    return results


def record_delete_intent(capabilities: Capabilities, record_all, record: Record) -> None:
    """Recorded before a delete goes out: should its answer be lost, the next run does not take
    the missing event for one its person deleted (and creates it again when the plan wants it
    back). A batched target records nothing until it is written."""
    if not capabilities.batched:
        record_all([replace(record, status=DELETING, etag=None)])


def _remote(entry) -> bool:
    _, run, failure = entry
    return failure is None and run is not None and run.target.capabilities.remote


def _locked(progress):
    """The progress bar, updated from the workers one at a time."""
    lock = threading.Lock()

    def update(steps: int) -> None:
        with lock:
            progress(steps)
    return update


@dataclass
class PurgeSurvey:
    """What purging one calendar would remove, and what it leaves because its person changed it."""

    job: Job
    target: CalendarTarget | None
    key: str
    where: str
    remove: list[tuple[str, Item, Record]] = field(default_factory=list)
    changed: list[Record] = field(default_factory=list)     # edited, moved or marked done by the person
    failures: list[str] = field(default_factory=list)


def survey_purge(job: Job, context, *, open_target=None) -> PurgeSurvey:
    """Read one calendar and sort what is ours in it: untouched, or changed by its person."""
    if open_target is None:
        from ..targets.registry import open_target
    where = job.calendar.location.replace("{person}", job.person.id)
    try:
        target = open_target(job.calendar, job.person, context)
    except KalenderSyncError as exc:      # no password, no such folder: this calendar only
        return PurgeSurvey(job, None, "", where, failures=[str(exc)])
    survey = PurgeSurvey(job, target, target.identity(), target.describe())
    try:
        listing = target.list(None)
        items = target.read([item.href for item in listing.items]) if listing.items else {}
    except TargetError as exc:
        survey.failures.append(f"listing failed: {exc}")
        return survey
    for href, item in sorted(items.items()):
        record = classify(survey.key, item, {}, set(), target.capabilities)
        if record is None or record.status == TAKEN:
            continue
        if record.status in (EDITED, DONE):
            survey.changed.append(record)
        survey.remove.append((href, item, record))
    return survey


def carry_out_purge(survey: PurgeSurvey, status: StatusStore, *, include_changed: bool) -> CalendarResult:
    """Remove what the survey found (with the version tags it read: an event changed since
    stays); events their person changed only with `include_changed`."""
    result = CalendarResult(survey.job.person.id, survey.where, failures=list(survey.failures))
    target = survey.target
    if target is None:
        return result
    result.listed = not survey.failures
    try:
        if survey.failures:
            return result
        for href, item, record in survey.remove:
            if record.status in (EDITED, DONE) and not include_changed:
                result.count(CONFLICT)
                continue
            try:
                record_delete_intent(target.capabilities, lambda records: status.put(*records), record)
                target.delete(href, item.etag)
                result.count(DELETE)
                status.forget(survey.key, record.uid)
            except PreconditionFailed:
                result.failures.append(f"'{record.title or item.title}' changed while purging; run purge again")
            except TargetError as exc:
                result.failures.append(str(exc))
        try:
            result.written = target.flush()
        except TargetError as exc:
            result.failures.append(str(exc))
    finally:
        target.close()
    if not result.failures:
        status.forget(survey.key, *status.records(survey.key))
        status.set_sync_token(survey.key, None)
    return result


def purge_calendar(job: Job, status: StatusStore, context, *, include_changed: bool = False) -> CalendarResult:
    """Remove every event this tool created from one calendar, and nothing else; an event its
    person changed (moved, edited, marked done) only with `include_changed`."""
    return carry_out_purge(survey_purge(job, context), status, include_changed=include_changed)
