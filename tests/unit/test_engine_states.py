"""Random histories of plan changes, people editing and deleting in their own calendar
apps, foreign events, injected faults and a lost status store: the engine's invariants hold
after every step, and once a sync runs without faults the calendars hold exactly the plan.

Invariants (always): no UID twice in a calendar; someone else's events byte-identical;
an edit a person made is never overwritten or removed. After a fault-free sync: every
planned event is there with our content (unless the person edited or deleted it), nothing
of ours is there that is not planned (unless the person edited it), and a further sync
writes nothing.
"""
from __future__ import annotations

import random
import tempfile
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from icalendar import Calendar

from enginekit import Engine, facts, moved, retitled
from helpers import foreign_event
from kalender_sync.core.fingerprint import content_hash
from kalender_sync.storage.status import MemoryStatus

PEOPLE = ("maarten", "jw")
# Teams and plans by config variant, shared by all examples: they are pure functions of it.
_TEAMS: dict = {}
_PLANS: dict = {}
FAULT_KINDS = ("before", "after")


def _events(body: bytes):
    return Calendar.from_ical(body).walk("VEVENT")


class EngineMachine(RuleBasedStateMachine):
    jobs = 1

    @initialize()
    def start(self):
        self.engine = Engine(Path(tempfile.gettempdir()), jobs=self.jobs)
        self.options = {"contacts": 2, "session": True, "session_start": "14:00", "horizon": "3 months"}
        self.foreign: dict[str, dict[str, bytes]] = {p: {} for p in PEOPLE}
        self.edited: dict[tuple[str, str], bytes] = {}       # (person, uid) -> the person's version
        self.deleted: set[tuple[str, str]] = set()            # (person, uid) the person deleted
        self.faulty = False
        self.synced_clean = False

    def team(self):
        key = tuple(sorted(self.options.items()))
        if key not in _TEAMS:
            _TEAMS[key] = self.engine.team(**self.options)
        # With the contacts the syncs logged (marked done), as the contact log file would have them.
        return replace(_TEAMS[key], log=tuple(self.engine.logged))

    def _owned(self, person: str) -> list[tuple[str, str]]:
        """(href, uid) of our events in the calendar that the person has not touched."""
        result = []
        for href, body in sorted(self.engine.ours(person).items()):
            uid = facts(body)[0][0]
            if (person, uid) not in self.edited:
                result.append((href, uid))
        return result

    # -- what the coach does ---------------------------------------------------------
    @rule(contacts=st.integers(0, 3), session=st.booleans(), start=st.sampled_from(["14:00", "15:00"]))
    def change_the_plan(self, contacts, session, start):
        self.options.update(contacts=contacts, session=session, session_start=start)

    # -- what people do in their own calendar apps -------------------------------------
    @rule(person=st.sampled_from(PEOPLE), pick=st.integers(0, 50), how=st.sampled_from(["retitle", "move"]))
    def a_person_edits_one_of_our_events(self, person, pick, how):
        owned = self._owned(person)
        if not owned:
            return
        href, uid = owned[pick % len(owned)]
        calendar = self.engine.calendars[person]
        calendar.edit(href, retitled("Verzet: ") if how == "retitle" else moved(1))
        self.edited[(person, uid)] = calendar.bodies()[href]

    @rule(person=st.sampled_from(PEOPLE), pick=st.integers(0, 50), marker=st.sampled_from(["✓ ", "gedaan ", "done "]))
    def a_person_marks_a_reminder_done(self, person, pick, marker):
        reminders = [(h, u) for h, u in self._owned(person) if b"contact/" in self.engine.calendars[person].bodies()[h]]
        if not reminders:
            return
        href, uid = reminders[pick % len(reminders)]
        calendar = self.engine.calendars[person]
        calendar.edit(href, retitled(marker))
        self.edited[(person, uid)] = calendar.bodies()[href]

    @rule(person=st.sampled_from(PEOPLE), pick=st.integers(0, 50))
    def a_person_deletes_one_of_our_events(self, person, pick):
        owned = self._owned(person)
        if not owned:
            return
        href, uid = owned[pick % len(owned)]
        calendar = self.engine.calendars[person]
        calendar.remove(href)
        # Remembered only if the status store knows the event: it is the only memory of a
        # deletion (README), so one the store never saw may be created again.
        if uid in self.engine.status.records(calendar.identity()):
            self.deleted.add((person, uid))

    @rule(person=st.sampled_from(PEOPLE), n=st.integers(0, 1000), spoof=st.booleans())
    def someone_adds_their_own_event(self, person, n, spoof):
        href = f"foreign-{n}.ics"
        if href in self.engine.calendars[person].items:
            return
        body = foreign_event(n, spoof=spoof)
        self.engine.calendars[person].put_foreign(href, body)
        self.foreign[person][href] = body

    # -- what goes wrong -----------------------------------------------------------
    @rule(rate=st.sampled_from([0.2, 0.5]), seed=st.integers(0, 2**16))
    def the_server_starts_failing(self, rate, seed):
        def faults_for(person: str):
            # One sequence per calendar: calendars synced side by side ask in any order.
            chance = random.Random(f"{seed}/{person}")

            def fault(operation, href):
                return chance.choice(FAULT_KINDS) if chance.random() < rate else None
            return fault
        for person, calendar in self.engine.calendars.items():
            calendar.faults = faults_for(person)
        self.faulty = True

    @rule()
    def the_status_store_is_lost(self):
        self.engine.status = MemoryStatus()
        self.deleted.clear()     # see a_person_deletes_one_of_our_events

    # -- syncing ---------------------------------------------------------------------
    @rule()
    def sync(self):
        self.engine.sync(self.team(), force_delete=True)
        self.synced_clean = False

    @rule()
    def the_server_recovers_and_we_sync(self):
        for calendar in self.engine.calendars.values():
            calendar.faults = None
        self.faulty = False
        logged = len(self.engine.logged)
        _, predicted = self.engine.sync(self.team(), force_delete=True, dry_run=True)
        assert len(self.engine.logged) == logged
        _, results = self.engine.sync(self.team(), force_delete=True)
        assert not [f for r in results for f in r.failures], results
        # Without faults, the dry run said exactly what the sync then did, event by event.
        assert [[(c.action, c.uid) for c in r.changes] for r in predicted] == \
            [[(c.action, c.uid) for c in r.changes] for r in results]
        assert [{a: n for a, n in r.planned.items() if n} for r in results] == [r.done for r in results]
        self.synced_clean = True

    # -- invariants --------------------------------------------------------------------
    @invariant()
    def no_uid_twice(self):
        if not hasattr(self, "engine"):
            return
        for person in PEOPLE:
            uids = self.engine.uids(person)
            assert len(uids) == len(set(uids)), person

    @invariant()
    def foreign_events_untouched(self):
        if not hasattr(self, "engine"):
            return
        for person, items in self.foreign.items():
            bodies = self.engine.calendars[person].bodies()
            assert {h: bodies.get(h) for h in items} == items

    @invariant()
    def edits_kept(self):
        if not hasattr(self, "engine"):
            return
        for (person, uid), body in self.edited.items():
            if (person, uid) in self.deleted:
                continue
            held = [b for b in self.engine.calendars[person].bodies().values() if uid.encode() in b]
            assert held == [body], (person, uid)

    @precondition(lambda self: getattr(self, "synced_clean", False))
    @invariant()
    def converged_to_the_plan(self):
        the_plan = self.engine.plan(self.team())
        for person in PEOPLE:
            ours = {}
            for body in self.engine.ours(person).values():
                event = _events(body)[0]
                ours[str(event["uid"])] = event
            edited = {uid for p, uid in self.edited if p == person}
            deleted = {uid for p, uid in self.deleted if p == person}
            for planned in the_plan.for_person(person):
                if planned.uid in deleted and planned.uid not in edited:
                    assert planned.uid not in ours, planned.key
                elif planned.uid not in edited:
                    assert planned.uid in ours, planned.key
                    assert str(ours[planned.uid]["x-kalender-sync-hash"]) == content_hash(planned)
            planned_uids = {e.uid for e in the_plan.for_person(person)}
            assert set(ours) - planned_uids <= edited
        writes = sum(c.writes for c in self.engine.calendars.values())
        self.engine.sync(self.team(), force_delete=True)
        assert sum(c.writes for c in self.engine.calendars.values()) == writes
        self.synced_clean = False


EngineMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=12, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
test_engine_histories = EngineMachine.TestCase


class SideBySideMachine(EngineMachine):
    """The same histories with both calendars synced at once (sync --jobs)."""

    jobs = 2


SideBySideMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=12, deadline=None,
                                               suppress_health_check=[HealthCheck.too_slow])
test_engine_histories_side_by_side = SideBySideMachine.TestCase
