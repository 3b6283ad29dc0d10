"""Generate a large, realistic team config for benchmarks: N people x 7 contacts + projects + sessions."""
from __future__ import annotations

import argparse
import random
from datetime import date, timedelta

from oneperson import PASSWORD_ENV, USERNAME

INTERVALS = ["3 months", "4 months", "6 months", "1 year"]
MEDIA = ["phone", "coffee", "lunch", "walk", "video"]


def generate(people: int, contacts: int = 7, seed: int = 1, calendar: str = "files",
             caldav_url: str | None = None, *, projects: bool = True, session_size: int = 10,
             busy: bool = False) -> str:
    """`session_size`: participants per quarterly session series (people or more: one series for
    all); `busy`: everyone's busy times are read from their own calendar (top-level busy)."""
    rng = random.Random(seed)
    lines = ["version: 1", "team: Benchmark", "timezone: Europe/Amsterdam", "language: nl", "holidays: NL",
             "calendars:"]
    if caldav_url:
        lines.append(f'  {calendar}: {{caldav: "{caldav_url}", username: {USERNAME}, password_env: {PASSWORD_ENV}}}')
    else:
        lines.append(f'  {calendar}: {{ics: "out/{{person}}.ics"}}')
    if busy:
        lines.append(f"busy: [{calendar}]")
    lines.append("people:")
    ids = [f"p{i:05d}" for i in range(people)]
    for pid in ids:
        lines.append(f"  {pid}: {{name: Person {pid}, email: {pid}@example.nl, calendar: {calendar}}}")
    lines.append("contacts:" if contacts else "contacts: []")
    for pid in ids:
        for c in range(contacts):
            last = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 320))
            lines.append(f"  - {{owner: {pid}, with: Contact {c} of {pid}, every: {rng.choice(INTERVALS)}, "
                         f"last: {last.isoformat()}, medium: {rng.choice(MEDIA)}}}")
    lines.append("projects:" if projects else "projects: []")
    for index in range(max(1, people // 5) if projects else 0):
        team = rng.sample(ids, min(3, len(ids)))
        end = date(2026, 9, 1) + timedelta(days=rng.randrange(0, 300))
        lines.append(f"  - {{name: Project {index}, team: [{', '.join(team)}], end: {end.isoformat()}, "
                     "aftercare: [6 weeks, 6 months]}")
    lines.append("sessions:")
    for start in range(0, people, session_size):
        group = ids[start:start + session_size]
        lines.append(f"  - {{name: Bel-uurtje {start // session_size}, every: quarter, participants: [{', '.join(group)}], "
                     "prefer: {weekday: thu, start: \"14:00\"}}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("people", type=int)
    parser.add_argument("--out", default="-")
    args = parser.parse_args()
    text = generate(args.people)
    if args.out == "-":
        print(text, end="")
    else:
        open(args.out, "w", encoding="utf-8").write(text)
