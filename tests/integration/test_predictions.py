"""`plan` and `sync --dry-run` predict exactly what `sync` then does, on a real Radicale.

Random scenarios (seeded): a small team syncs, then in each round days pass and people edit,
move, delete and mark done our events in their calendars, add their own events, the coach
changes the config and logs contacts. Before each sync, `plan` (table) and `sync --dry-run`
(JSON) are asked, and what they say is compared with what the sync then did: the server's
objects before and after (each created, updated, deleted UID; nothing else changed), the
sync's own counts, and the contacts it logged.
"""
from __future__ import annotations

import json
import random
import re
import textwrap
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from icalendar import Calendar

from helpers import foreign_event
from kalender_sync.targets.caldav import CalDAVTarget as Reader
from support.cli import run_in_process as run
from support.servers import CalDAVTarget
from teamkit import PASSWORD_ENV, SATURDAY, Team

pytestmark = pytest.mark.integration

SCENARIOS = 18
ROUNDS = 2
WRITES = ("create", "update", "delete")
# What a row in the plan table looks like: action, day, weekday, time(s) or "all day", kind, title.
ROW = re.compile(r"^  (\w+)\s+\d{4}-\d\d-\d\d \w{3} [\d:–]*(?:all day)?\s+(\w+)\s+(.+?)(?:  — (.+))?$")
HEADER = re.compile(r"^(.+) \((\w+)\) → (\S+): (.+)$")


class RandomTeam(Team):
    """A team whose config the scenario changes: contacts, the session's hour, language, horizon."""

    def __init__(self, server, tmp_path, people):
        self.options = {"contacts": 2, "start": "14:00", "language": "nl", "horizon": "3 months"}
        super().__init__(server, tmp_path, people=people)
        self.touched: dict[str, set[str]] = {}       # UID -> what its person did to it
        self.log_path = self.path.with_name("contacts-log.yaml")
        self.log_path.write_text("", encoding="utf-8")

    def yaml(self, contacts_per_person=None, extra: str = "") -> str:
        o = self.options
        people = "\n".join(f"  {p}: {{name: {p.title()}, calendar: dav}}" for p in self.people)
        contacts = "\n".join(
            f"  - {{owner: {p}, with: Contact {p} {i}, every: {('3 months', '2 months', '6 months')[i % 3]}, "
            f"last: {(date(2026, 7, 1) + timedelta(days=(i * 37 + len(p) * 11) % 120)).isoformat()}}}"
            for p in self.people for i in range(o["contacts"]))
        return textwrap.dedent(f"""\
            version: 1
            team: Voorspelling
            timezone: Europe/Amsterdam
            language: {o["language"]}
            horizon: {o["horizon"]}
            reminders: {{ahead: 2}}
            calendars:
              dav: {{caldav: "{self.template}", username: alice, password_env: {PASSWORD_ENV}}}
            people:
            """) + people + "\ncontacts:\n" + (contacts or "  []") + "\n" + textwrap.dedent(f"""\
            sessions:
              - {{name: Bel-uurtje, every: month, participants: all, prefer: {{weekday: thu, start: "{o["start"]}"}}}}
            """)


def snapshot(team: RandomTeam) -> dict[str, dict[str, tuple[str, str, str | None, bytes | None]]]:
    """person -> UID -> (href, etag, our key or None); one listing and one multiget per calendar."""
    result = {}
    for person in team.people:
        reader = Reader(team.urls[person], "alice", "not-a-secret")
        listing = reader.list(None)
        items = reader.read([i.href for i in listing.items])
        result[person] = {i.uid: (i.href, i.etag, i.key) for i in items.values() if i is not None}
        reader.close()
    return result


def edit(team: RandomTeam, href: str, change) -> None:
    reply = team.server.request("GET", href)
    calendar = Calendar.from_ical(reply.body)
    change(calendar.walk("VEVENT")[0])
    put = team.server.request("PUT", href, calendar.to_ical(),
                              {"If-Match": reply.headers["etag"], "Content-Type": "text/calendar"})
    assert put.status in (200, 204), put


def retitle(prefix: str):
    def change(event):
        event["summary"] = prefix + str(event["summary"])
    return change


def move(event) -> None:
    start = event.decoded("dtstart")
    step = timedelta(hours=1) if isinstance(start, datetime) else timedelta(days=1)
    for name in ("dtstart", "dtend"):
        if name in event:
            event[name].dt = event.decoded(name) + step


def mutate(team: RandomTeam, chance: random.Random, today: date, foreign: dict) -> list[str]:
    """A few random things people and the coach do; returns what was done (for messages)."""
    done = []
    held = snapshot(team)
    for _ in range(chance.randint(1, 5)):
        person = chance.choice(team.people)
        ours = sorted((uid, v) for uid, v in held[person].items() if v[2] is not None)
        what = chance.choice(["retitle", "move", "delete", "done", "done", "foreign", "config", "log"])
        if what in ("retitle", "move", "delete", "done") and ours:
            candidates = [o for o in ours if o[1][2].startswith("contact/")] if what == "done" else ours
            if not candidates:
                continue
            uid, (href, _, key) = chance.choice(candidates)
            if what == "delete":
                etag = team.server.request("GET", href).headers["etag"]
                assert team.server.request("DELETE", href, headers={"If-Match": etag}).status in (200, 204)
                del held[person][uid]
            elif what == "done":
                edit(team, href, retitle(chance.choice(["gedaan ", "✓ ", "done: ", "[x] "])))
            else:
                edit(team, href, retitle("Verzet: ") if what == "retitle" else move)
            team.touched.setdefault(uid, set()).add(what)
            done.append(f"{what} {key}")
        elif what == "foreign":
            index = len(foreign)
            href = team.urls[person] + f"foreign-{index}.ics"
            body = foreign_event(index, spoof=chance.random() < 0.3)
            assert team.server.request("PUT", href, body, {"If-None-Match": "*",
                                                           "Content-Type": "text/calendar"}).status in (201, 204)
            foreign[href] = None
            done.append("foreign event")
        elif what == "config":
            option, value = chance.choice([("contacts", chance.randint(1, 4)), ("start", chance.choice(["14:00", "15:00"])),
                                           ("language", chance.choice(["nl", "en"])),
                                           ("horizon", chance.choice(["2 months", "3 months", "4 months"]))])
            team.options[option] = value
            team.write()
            if option == "contacts":
                # The coach removes the log lines of the agreements that went: a log line must name one.
                lines = team.log_path.read_text(encoding="utf-8").splitlines(keepends=True)
                team.log_path.write_text("".join(
                    line for line in lines
                    if int(re.search(r"with: contact-[a-z]+-(\d+)", line).group(1)) < value), encoding="utf-8")
            done.append(f"config {option}={value}")
        elif what == "log" and team.options["contacts"]:
            agreement = f"contact-{person}-{chance.randrange(team.options['contacts'])}"
            on = today - timedelta(days=chance.randint(0, 20))
            with team.log_path.open("a", encoding="utf-8") as log:
                log.write(f"- {{who: {person}, with: {agreement}, on: {on.isoformat()}}}\n")
            done.append(f"log {agreement} {on}")
    return done


def table_rows(text: str) -> dict[str, tuple[dict[str, int], list[tuple[str, str]]]]:
    """person -> (header counts, [(action, title)]) as `plan` prints them."""
    people: dict = {}
    current = None
    for line in text.splitlines():
        header = HEADER.match(line)
        if header:
            current = header.group(2)
            counts = {a: int(n) for n, a in (part.split(" ", 1) for part in header.group(4).split(", "))}
            people[current] = (counts, [])
            continue
        row = ROW.match(line)
        if row and current is not None:
            people[current][1].append((row.group(1), row.group(3)))
    return people


# The start of each reason, by language (core/texts.py).
REASONS = {"nl": {"moved": "door jou verplaatst naar ", "edited": "door jou aangepast",
                  "dropped": "door jou aangepast; niet meer gepland", "marked-done": "door jou afgevinkt"},
           "en": {"moved": "moved to ", "edited": "edited by you",
                  "dropped": "edited by you; no longer planned", "marked-done": "marked done by you"}}


def expected_reason(team: RandomTeam, row: dict) -> str:
    """What a conflict row must say, from what the scenario did to that event."""
    words = REASONS[team.options["language"]]
    touched = team.touched.get(row["uid"], set())
    if "planned" not in row:
        code = "marked-done" if touched == {"done"} else "dropped"
    elif "move" in touched:
        code = "moved"
    else:
        code = "marked-done" if touched == {"done"} else "edited"
    text = row["reason"] or ""
    return text if text.startswith(words[code]) else f"{words[code]}… ({sorted(touched)})"


def predicted_and_carried_out(team: RandomTeam, today: date, note: str) -> int:
    """Ask plan and the dry run, sync, and compare. Returns the number of rows compared."""
    common = ["--config", str(team.path), "--today", today.isoformat(), "--state", str(team.state_path)]
    table = run("plan", *common)
    dry = run("sync", "--dry-run", "--format", "json", *common)
    assert table.returncode == 0 and dry.returncode == 0, table.stderr + dry.stderr
    for kind in ("contact/", "session/", "meeting/", "aftercare/"):
        assert kind not in table.stdout, f"a raw key in the plan ({note}):\n{table.stdout}"
    predicted = {p["id"]: p for p in json.loads(dry.stdout)["people"]}
    printed = table_rows(table.stdout)
    log_before = team.log_path.read_text(encoding="utf-8")
    before = snapshot(team)
    synced = run("sync", "--format", "json", *common)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    after = snapshot(team)
    carried_out = {c["person"]: c for c in json.loads(synced.stdout)["calendars"]}
    compared = 0
    logged_predicted = set()
    for person in team.people:
        rows = predicted[person]["events"]
        counts = {a: n for a, n in predicted[person]["changes"].items() if n}
        where = f"{person}, {note}"
        # The JSON's counts, its rows and the table's header and rows say the same.
        assert Counter(r["action"] for r in rows) == counts, where
        header, lines = printed[person]
        assert {a: n for a, n in header.items() if n} == counts, where
        assert Counter(lines) == Counter((r["action"], r["title"]) for r in rows), where
        # The sync did what was predicted, by its own count ...
        assert {a: n for a, n in carried_out[person]["done"].items() if n} == counts, where
        assert not carried_out[person]["failures"] and not carried_out[person]["refused"], where
        # ... and on the server, event by event.
        old, new = before[person], after[person]
        created = set(new) - set(old)
        deleted = set(old) - set(new)
        updated = {uid for uid in set(old) & set(new) if old[uid][1] != new[uid][1]}
        by_action: dict[str, set[str]] = {}
        for row in rows:
            by_action.setdefault(row["action"], set()).add(row["uid"])
        assert created == by_action.get("create", set()), where
        assert deleted == by_action.get("delete", set()), where
        assert updated == by_action.get("update", set()), where
        for row in rows:
            if row["action"] in ("keep", "conflict", "done"):
                assert row["uid"] in old and new.get(row["uid"]) == old[row["uid"]], (where, row)
            if row["action"] == "skip":
                assert old.get(row["uid"], (None, None, None))[2] is None, (where, row)   # gone or someone else's
            if row["action"] == "done":
                logged_predicted.add((person, row["key"].split("/")[2]))
            if row["action"] != "keep":
                assert row["title"] and "/" not in row["title"][:1], (where, row)
            if row["action"] == "conflict":
                assert row["reason"] == expected_reason(team, row), (where, row)
        compared += len(rows)
    appended = team.log_path.read_text(encoding="utf-8")[len(log_before):]
    logged = {(m.group(1), m.group(2)) for m in re.finditer(r"who: ([\w-]+), with: ([\w-]+)", appended)}
    assert logged == logged_predicted, note
    return compared


@pytest.mark.parametrize("seed", range(SCENARIOS))
def test_the_dry_run_predicts_the_sync(radicale_server, tmp_path, seed):
    chance = random.Random(seed)
    dav = CalDAVTarget(radicale_server, f"predict-{seed}")
    try:
        people = ("anna", "bram")[:chance.randint(1, 2)]
        team = RandomTeam(dav, tmp_path, people)
        team.options.update(contacts=chance.randint(1, 3), language=chance.choice(["nl", "en"]))
        team.write()
        today = SATURDAY
        compared = predicted_and_carried_out(team, today, "first sync")
        foreign: dict = {}
        for round_ in range(ROUNDS):
            today += timedelta(days=chance.randint(0, 9))
            done = mutate(team, chance, today, foreign)
            compared += predicted_and_carried_out(team, today, f"round {round_ + 1}: {done}")
        assert compared > 0
    finally:
        dav.close()
