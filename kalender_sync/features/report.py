"""The team report (`kalender-sync report`): are the networking habits kept?

A pure function of (team with its contact log, today, period, target, language); the renderers
turn it into a terminal table, CSV, JSON or a standalone HTML page with an inline SVG chart, in
the report's language (the team's `language`, or `--language`).  The same input gives
byte-identical output (no clock is read here).

Definitions (per person, and summed for the team):

agreements
    The person's contact agreements in the config.
done
    Contacts that happened in the period [from, to] (both inclusive): every line of the
    contact log, and the config's `last` date of an agreement (a contact recorded by hand),
    counted once per agreement and date.  A second conversation with the same person counts
    again, so `done` can reach the target while agreements are overdue.
contacted
    Agreements with at least one contact (as under done) in the period: distinct contacts,
    each agreement once however often it was kept.
target
    The team's yearly target: `--target N`, or by default the number of agreements (one
    conversation per agreement per year: "10 people x 7 contacts = 70 a year").  It is
    scaled to the period day by day: every day adds 1/365 of the yearly target (1/366 in a
    leap year), so a calendar year gets exactly the target and January 2026 gets 31/365 of
    it.  A person's target is the team's, split by their share of the agreements.
overdue
    As of `today`: agreements with a last contact or an agreed date whose due date (see
    `planning.contact_status`) lies before today; per contact the days since the due date.
open
    Agreements that never had a contact (no `last`, `next` or log line); they are
    reminded on a fixed two-weekly grid and are not counted as overdue.
on schedule
    As of `today`: agreements that are neither overdue nor open.
planned span
    The part of the period that the plan covers: from max(from, today) to min(to, the last
    day before the horizon).  None when the period lies wholly in the past or beyond the
    horizon.  Reminders and hours count the same span.
reminders
    Contact reminders planned in the planned span: the `contact` events of `plan(team, today)`
    that start on a day in it.
hours
    Networking time planned in the planned span: the summed length of the timed events of
    kinds contact, session, aftercare and meeting in `plan(team, today)` that start on a day
    in it.  Group events count once for every person in them (person-hours).
contacts per month (chart)
    done: as above, per month.  planned: the contacts the agreements call for, per month of
    their due date.  Every contact record (the config's `last`/`next`, every log line) plans
    exactly one next contact: its agreed `next`, or its date plus the interval.  After the
    current due date the agreement keeps planning one contact per interval (dates from today
    on, as if each were kept on time).  Open agreements plan nothing.  Months before the
    month of `today` are past and have no planned figure (None): the config keeps only an
    agreement's latest contact, so what was due in them is not known, and a count of the due
    dates that happen to be known would read as "nothing was planned".
"""
from __future__ import annotations

import csv
import functools
import io
import json
import math
from calendar import isleap
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

import jinja2
from markupsafe import Markup

from ..core.durations import add_months
from ..core.errors import UsageError
from ..core.model import ContactAgreement, Team
from ..core.planning import contact_status, plan as make_plan
from ..core.schema import LANGUAGES
from ..web.templating import environment

NETWORKING_KINDS = ("contact", "session", "aftercare", "meeting")
FORMATS = ("table", "csv", "json", "html")
# excel-nl: what Excel with Dutch regional settings opens as columns (it splits on the list
# separator ";", reads "3,5" as a number and needs the BOM to take the file as UTF-8);
# comma: RFC 4180 with a decimal point, for scripts and English-language spreadsheets.
CSV_DIALECTS = ("excel-nl", "comma")
DEFAULT_CSV_DIALECT = MappingProxyType({"nl": "excel-nl", "en": "comma"})


@dataclass(frozen=True)
class Overdue:
    person: str
    contact: str
    due: date
    days: int


@dataclass
class PersonFigures:
    id: str
    name: str
    agreements: int = 0
    done: int = 0
    contacted: int = 0
    target: float = 0.0
    overdue: list[Overdue] = field(default_factory=list)
    open: list[str] = field(default_factory=list)
    reminders: int = 0
    minutes: int = 0

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)

    @property
    def on_schedule(self) -> int:
        return self.agreements - len(self.overdue) - len(self.open)


@dataclass(frozen=True)
class Month:
    month: str            # YYYY-MM
    planned: int | None   # None for a past month: what was due then is not known
    done: int

    @property
    def past(self) -> bool:
        return self.planned is None


@dataclass
class Report:
    team: str
    today: date
    start: date
    end: date               # inclusive
    horizon_until: date     # exclusive end of the plan
    planned_span: tuple[date, date] | None   # both inclusive; see the module docstring
    yearly_target: float
    target_source: str      # "agreements" | "option"
    period_target: float
    people: list[PersonFigures]
    months: list[Month]
    language: str = "en"

    @property
    def total(self) -> PersonFigures:
        total = PersonFigures("team", self.team)
        for p in self.people:
            total.agreements += p.agreements
            total.done += p.done
            total.contacted += p.contacted
            total.overdue += p.overdue
            total.open += p.open
            total.reminders += p.reminders
            total.minutes += p.minutes
        total.target = self.period_target
        return total

    @property
    def percent(self) -> float | None:
        return round(100 * self.total.done / self.period_target, 1) if self.period_target else None

    @property
    def contacted_percent(self) -> float | None:
        total = self.total
        return round(100 * total.contacted / total.agreements, 1) if total.agreements else None


def default_period(today: date) -> tuple[date, date]:
    return date(today.year, 1, 1), date(today.year, 12, 31)


def year_fraction(start: date, end: date) -> float:
    """Σ over the days of [start, end] of 1/(days in that day's year): a calendar year is exactly 1."""
    total = 0.0
    year = start.year
    while year <= end.year:
        first = max(start, date(year, 1, 1))
        last = min(end, date(year, 12, 31))
        if first <= last:
            total += ((last - first).days + 1) / (366 if isleap(year) else 365)
        year += 1
    return total


def _records(team: Team, agreement: ContactAgreement) -> list[tuple[date | None, date | None]]:
    """(date, agreed next) of every contact record of the agreement, config first."""
    records = [(agreement.last, agreement.next)] if (agreement.last or agreement.next) else []
    records += [(e.on, e.next) for e in team.log if e.owner == agreement.owner and e.agreement == agreement.id]
    return records


def _done_dates(team: Team, agreement: ContactAgreement) -> set[date]:
    return {on for on, _ in _records(team, agreement) if on is not None}


def _planned_dates(team: Team, agreement: ContactAgreement, today: date, end: date) -> list[date]:
    """Due dates the agreement calls for (see the module docstring), up to `end`."""
    dues = []
    for on, agreed in dict.fromkeys(_records(team, agreement)):   # an identical record twice plans once
        if agreed is not None:
            dues.append(agreed)
        elif on is not None:
            dues.append(agreement.every.after(on))
    if not dues:
        return []
    status = contact_status(team, agreement)
    k = 1
    while True:
        due = agreement.every.after(status.due, k)
        if due > end:
            break
        if due >= today:
            dues.append(due)
        k += 1
    return dues


def report_period(today: date, start: date | None, end: date | None) -> tuple[date, date]:
    """The period to report on: this calendar year; with only a start, one year from it; with
    only an end, the year up to it (both inclusive)."""
    if start is not None and end is None:
        end = add_months(start, 12) - timedelta(days=1)
    elif end is not None and start is None:
        start = add_months(end, -12) + timedelta(days=1)
    default_start, default_end = default_period(today)
    return start or default_start, end or default_end


def build_report(team: Team, today: date, start: date | None = None, end: date | None = None,
                 target: float | None = None, language: str | None = None) -> Report:
    start, end = report_period(today, start, end)
    if end < start:
        raise UsageError(f"the period ends ({end}) before it starts ({start})")
    language = language or team.language
    if language not in LANGUAGES:
        raise UsageError(f"the report's language must be one of {', '.join(LANGUAGES)} (got: {language})")
    fraction = year_fraction(start, end)
    total_agreements = len(team.contacts)
    yearly = float(target) if target is not None else float(total_agreements)
    plan = make_plan(team, today)
    first, last = max(start, today), min(end, plan.until - timedelta(days=1))
    span = (first, last) if first <= last else None
    months = _month_keys(start, end)
    this_month = f"{today:%Y-%m}"
    planned_per_month = dict.fromkeys(months, 0)
    done_per_month = dict.fromkeys(months, 0)
    people: list[PersonFigures] = []
    for person in team.people.values():
        figures = PersonFigures(person.id, person.name)
        own = [a for a in team.contacts if a.owner == person.id]
        figures.agreements = len(own)
        share = len(own) / total_agreements if total_agreements else 0.0
        figures.target = yearly * share * fraction
        for agreement in own:
            done = [day for day in _done_dates(team, agreement) if start <= day <= end]
            figures.done += len(done)
            figures.contacted += bool(done)
            for day in done:
                done_per_month[f"{day:%Y-%m}"] += 1
            for day in _planned_dates(team, agreement, today, end):
                if start <= day <= end:
                    planned_per_month[f"{day:%Y-%m}"] += 1
            status = contact_status(team, agreement)
            if status.never_contacted:
                figures.open.append(agreement.contact)
            elif status.due < today:
                figures.overdue.append(Overdue(person.id, agreement.contact, status.due,
                                               status.overdue_days(today)))
        figures.overdue.sort(key=lambda o: (-o.days, o.contact))
        figures.open.sort()
        for event in plan.for_person(person.id):
            if span is None or not span[0] <= event.day <= span[1]:
                continue
            if event.kind == "contact":
                figures.reminders += 1
            if event.kind in NETWORKING_KINDS and not event.all_day:
                figures.minutes += int((event.end - event.start).total_seconds() // 60)
        people.append(figures)
    return Report(team=team.name, today=today, start=start, end=end, horizon_until=plan.until,
                  planned_span=span, yearly_target=yearly,
                  target_source="option" if target is not None else "agreements",
                  period_target=yearly * fraction, people=people,
                  months=[Month(m, None if m < this_month else planned_per_month[m], done_per_month[m])
                          for m in months],
                  language=language)


def _month_keys(start: date, end: date) -> list[str]:
    keys = []
    month = date(start.year, start.month, 1)
    while month <= end:
        keys.append(f"{month:%Y-%m}")
        month = add_months(month, 1)
    return keys


# -- texts -------------------------------------------------------------------------------

_TEXTS = MappingProxyType({
    "en": MappingProxyType({
        "title": "Networking report {team}, {start} – {end}",
        "span": "reminders and hours planned {first} – {last}",
        "no_span": "reminders and hours: nothing planned in the period, the plan covers {first} – {last}",
        "today": "today {today}",
        "as_of": "As of {today}",
        "person": "person", "agreements": "agreements", "done": "done", "contacted": "contacted",
        "target": "target", "overdue": "overdue", "open": "open", "on_schedule": "on schedule",
        "reminders": "reminders", "hours": "hours", "team": "team", "team_total": "Team total",
        "target_source": MappingProxyType({"agreements": "the number of agreements", "option": "--target"}),
        "target_text": "yearly target {yearly} ({source}), {period} for {start} – {end}",
        "team_line": "Team: {done} contacts done of {target}{percent}; {target_text}",
        "agreements_line": ("Agreements: {contacted} of {agreements}{percent} had a contact in the period, "
                            "each person counted once; {on_schedule} of {agreements} on schedule today "
                            "({overdue} overdue, {open} never contacted)"),
        "overdue_on": "Overdue on {today}",
        "overdue_row": "due {due}  {days:>4} days",
        "never": "Never contacted (open)",
        "per_month": "Contacts per month", "planned": "planned", "past": "past",
        "past_note": "past: only what was done; what was due in an earlier month is not known",
        "contact": "contact", "due": "due", "days_overdue": "days overdue", "nothing_overdue": "Nothing is overdue.",
        "month": "month", "per_person": "Per person",
        "chart": "Contacts per month: planned versus done",
        "legend_planned": "planned (due)", "legend_done": "done", "legend_past": "past: done only",
        "months": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        "card_done": "contacts done / target", "of_target": "{percent} of target",
        "card_contacted": "agreements with a contact in the period",
        "card_on_schedule": "agreements on schedule today",
        "card_overdue": "overdue today",
        "card_reminders": "reminders planned in {span}",
        "card_hours": "hours of networking planned in {span}",
        "card_no_span": "the period (nothing planned in it)",
        "span_short": "{first} – {last}",
        "caption": ("Planned: the contacts the agreements call for in that month (due dates). Done: contacts "
                    "logged (or recorded as <code>last</code> in the config). Past months show only what was "
                    "done: what was due in them is not known (the config keeps only the latest contact)."),
        "note": ("Done counts every contact, also a second one with the same person; contacted counts each "
                 "agreement once. Reminders and hours: contact reminders and networking events (contact "
                 "reminders, sessions, aftercare, meetings; person-hours) planned in {span}. "
                 "On schedule: neither overdue nor open. Open: agreements without any contact yet."),
    }),
    "nl": MappingProxyType({
        "title": "Netwerkrapport {team}, {start} – {end}",
        "span": "herinneringen en uren gepland {first} – {last}",
        "no_span": "herinneringen en uren: niets gepland in de periode, de planning loopt {first} – {last}",
        "today": "vandaag {today}",
        "as_of": "Stand van {today}",
        "person": "persoon", "agreements": "afspraken", "done": "gedaan", "contacted": "gesproken",
        "target": "doel", "overdue": "te laat", "open": "open", "on_schedule": "op schema",
        "reminders": "herinneringen", "hours": "uren", "team": "team", "team_total": "Team totaal",
        "target_source": MappingProxyType({"agreements": "het aantal afspraken", "option": "--target"}),
        "target_text": "jaardoel {yearly} ({source}), {period} voor {start} – {end}",
        "team_line": "Team: {done} contacten gedaan van {target}{percent}; {target_text}",
        "agreements_line": ("Afspraken: {contacted} van {agreements}{percent} hadden contact in de periode, "
                            "elke persoon één keer geteld; {on_schedule} van {agreements} op schema vandaag "
                            "({overdue} te laat, {open} nog nooit gesproken)"),
        "overdue_on": "Te laat op {today}",
        "overdue_row": "gepland {due}  {days:>4} dagen",
        "never": "Nog nooit gesproken (open)",
        "per_month": "Contacten per maand", "planned": "gepland", "past": "voorbij",
        "past_note": "voorbij: alleen wat gedaan is; wat in een eerdere maand gepland stond, is niet bekend",
        "contact": "contact", "due": "gepland op", "days_overdue": "dagen te laat",
        "nothing_overdue": "Niets is te laat.",
        "month": "maand", "per_person": "Per persoon",
        "chart": "Contacten per maand: gepland tegenover gedaan",
        "legend_planned": "gepland", "legend_done": "gedaan", "legend_past": "voorbij: alleen gedaan",
        "months": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
        "card_done": "contacten gedaan / doel", "of_target": "{percent} van het doel",
        "card_contacted": "afspraken met contact in de periode",
        "card_on_schedule": "afspraken op schema vandaag",
        "card_overdue": "te laat vandaag",
        "card_reminders": "herinneringen gepland {span}",
        "card_hours": "uren netwerken gepland {span}",
        "card_no_span": "in de periode (er is niets gepland)",
        "span_short": "{first} – {last}",
        "caption": ("Gepland: de contacten die de afspraken in die maand vragen (de datum waarop ze aan de beurt "
                    "zijn). Gedaan: vastgelegde contacten (of <code>last</code> in de config). Voorbije maanden "
                    "tonen alleen wat gedaan is: wat toen aan de beurt was, is niet bekend (de config bewaart "
                    "alleen het laatste contact)."),
        "note": ("Gedaan telt elk contact, ook een tweede met dezelfde persoon; gesproken telt elke afspraak één "
                 "keer. Herinneringen en uren: contactherinneringen en netwerkmomenten (herinneringen, sessies, "
                 "nazorg, bijeenkomsten; persoonsuren) gepland {span}. Op schema: niet te laat en niet open. "
                 "Open: afspraken zonder enig contact."),
    }),
})


def texts(report: Report) -> MappingProxyType:
    """The report's words in its language (column headers, labels, sentences)."""
    return _TEXTS[report.language]


# -- rendering ---------------------------------------------------------------------------

def _decimal(text: str, lang: str) -> str:
    return text.replace(".", ",") if lang == "nl" else text


def _num(value: float, lang: str = "en") -> str:
    """1 decimal, without a useless '.0' on whole numbers in text output."""
    text = f"{value:.1f}"
    return _decimal(text[:-2] if text.endswith(".0") else text, lang)


def _hours(value: float, lang: str = "en") -> str:
    return _decimal(f"{value:.2f}".rstrip("0").rstrip("."), lang) if value else "0"


def _percent(value: float | None, lang: str) -> str:
    return f"{_num(value, lang)}%" if value is not None else "–"


def _target_text(report: Report) -> str:
    t, lang = texts(report), report.language
    return t["target_text"].format(yearly=_num(report.yearly_target, lang),
                                   source=t["target_source"][report.target_source],
                                   period=_num(report.period_target, lang), start=report.start, end=report.end)


def _span_text(report: Report) -> str:
    t = texts(report)
    if report.planned_span is None:
        return t["no_span"].format(first=report.today, last=report.horizon_until - timedelta(days=1))
    first, last = report.planned_span
    return t["span"].format(first=first, last=last)


def _summary_lines(report: Report) -> tuple[str, str]:
    t, lang, total = texts(report), report.language, report.total
    percent = f" ({_percent(report.percent, lang)})" if report.percent is not None else ""
    team_line = t["team_line"].format(done=total.done, target=_num(report.period_target, lang), percent=percent,
                                      target_text=_target_text(report))
    contacted = report.contacted_percent
    agreements_line = t["agreements_line"].format(
        contacted=total.contacted, agreements=total.agreements,
        percent=f" ({_percent(contacted, lang)})" if contacted is not None else "",
        on_schedule=total.on_schedule, overdue=len(total.overdue), open=len(total.open))
    return team_line, agreements_line


COLUMNS = ("agreements", "done", "contacted", "target", "overdue", "open", "reminders", "hours")
OVERDUE_COLUMN = COLUMNS.index("overdue")


def figure_cells(p: PersonFigures, lang: str) -> tuple[str, ...]:
    """One person's (or the team's) figures as the table, the HTML page and the coach's
    dashboard show them, in the order of COLUMNS."""
    return (str(p.agreements), str(p.done), str(p.contacted), _num(p.target, lang), str(len(p.overdue)),
            str(len(p.open)), str(p.reminders), _hours(p.hours, lang))


def render_table(report: Report) -> str:
    t, lang = texts(report), report.language
    out = io.StringIO()
    total = report.total
    out.write(t["title"].format(team=report.team, start=report.start, end=report.end)
              + f" ({t['today'].format(today=report.today)}; {_span_text(report)})\n\n")
    headers = (t["person"],) + tuple(t[c] for c in COLUMNS)
    rows = [(f"{p.name} ({p.id})",) + figure_cells(p, lang) for p in report.people]
    rows.append((t["team"],) + figure_cells(total, lang))
    widths = [max(len(r[i]) for r in rows + [headers]) for i in range(len(headers))]

    def line(cells) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out.write(line(headers).rstrip() + "\n")
    for row in rows[:-1]:
        out.write(line(row) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    out.write(line(rows[-1]) + "\n\n")
    for summary in _summary_lines(report):
        out.write(summary + "\n")
    if total.overdue:
        out.write(f"\n{t['overdue_on'].format(today=report.today)}:\n")
        name_width = max(len(o.contact) for o in total.overdue)
        for o in total.overdue:
            out.write(f"  {o.person:<12} {o.contact:<{name_width}}  {t['overdue_row'].format(due=o.due, days=o.days)}\n")
    if total.open:
        out.write(f"\n{t['never']}: " + ", ".join(
            f"{p.id}: {name}" for p in report.people for name in p.open) + "\n")
    heading, planned_word, done_word = t["per_month"], t["planned"], t["done"]
    planned_width = max(len(planned_word), len(t["past"]), 4)
    done_width = max(len(done_word), 4)
    out.write(f"\n{heading}  {planned_word:>{planned_width}}  {done_word:>{done_width}}\n")
    for month in report.months:
        planned = t["past"] if month.past else str(month.planned)
        out.write(f"  {month.month:<{len(heading) - 2}}  {planned:>{planned_width}}  {month.done:>{done_width}}\n")
    if any(m.past for m in report.months):
        out.write(f"  ({t['past_note']})\n")
    return out.getvalue()


CSV_COLUMNS = ("person", "name", "agreements", "done", "contacted", "target", "overdue", "overdue_days", "open",
               "on_schedule", "reminders", "hours")
_CSV_HEADERS = MappingProxyType({
    "en": CSV_COLUMNS,
    "nl": ("persoon", "naam", "afspraken", "gedaan", "gesproken", "doel", "te laat", "dagen te laat", "open",
           "op schema", "herinneringen", "uren"),
})


def render_csv(report: Report, dialect: str | None = None) -> str:
    """The per-person figures, one row each and one for the team, headed in the report's language.

    `dialect` (see CSV_DIALECTS) defaults to the one the language's spreadsheets expect."""
    dialect = dialect or DEFAULT_CSV_DIALECT[report.language]
    if dialect not in CSV_DIALECTS:
        raise UsageError(f"the CSV dialect must be one of {', '.join(CSV_DIALECTS)} (got: {dialect})")
    dutch_excel = dialect == "excel-nl"
    out = io.StringIO()
    if dutch_excel:
        out.write("\ufeff")
    writer = csv.writer(out, delimiter=";" if dutch_excel else ",", lineterminator="\n")
    writer.writerow(_CSV_HEADERS[report.language])

    def number(value: float) -> str:
        text = f"{value:.2f}"
        return text.replace(".", ",") if dutch_excel else text

    for p in report.people + [report.total]:
        writer.writerow([p.id, p.name, p.agreements, p.done, p.contacted, number(p.target), len(p.overdue),
                         "; ".join(f"{o.contact}: {o.days}" for o in p.overdue), len(p.open),
                         p.on_schedule, p.reminders, number(p.hours)])
    return out.getvalue()


def _person_json(p: PersonFigures) -> dict:
    return {"id": p.id, "name": p.name, "agreements": p.agreements, "done": p.done, "contacted": p.contacted,
            "target": round(p.target, 2),
            "overdue": {"count": len(p.overdue),
                        "contacts": [{"person": o.person, "contact": o.contact, "due": o.due.isoformat(),
                                      "days": o.days} for o in p.overdue]},
            "open": p.open, "on_schedule": p.on_schedule, "reminders": p.reminders, "hours": p.hours}


def to_json(report: Report) -> dict:
    span = report.planned_span
    return {
        "team": report.team, "today": report.today.isoformat(), "language": report.language,
        "period": {"from": report.start.isoformat(), "to": report.end.isoformat()},
        "horizon_until": report.horizon_until.isoformat(),
        "planned_span": {"from": span[0].isoformat(), "to": span[1].isoformat()} if span else None,
        "target": {"yearly": report.yearly_target, "source": report.target_source,
                   "period": round(report.period_target, 2), "percent_done": report.percent},
        "contacted_percent": report.contacted_percent,
        "people": [_person_json(p) for p in report.people],
        "team_total": _person_json(report.total),
        "months": [{"month": m.month, "past": m.past, "planned": m.planned, "done": m.done} for m in report.months],
    }


def render_json(report: Report) -> str:
    return json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"


# -- HTML ------------------------------------------------------------------------------------
# The page and its chart are Jinja2 templates (kalender_sync/web/templates/report.html, with
# the CSS, and chart.svg), rendered with autoescape: every value below is plain text or a
# number formatted here, and the template escapes it.

@functools.cache
def _templates() -> jinja2.Environment:
    return environment()


def _render(template: str, **context) -> str:
    return _templates().get_template(template).render(**context)


def _nice_max(value: int) -> tuple[int, int]:
    """A round top for the y axis and the step between grid lines."""
    value = max(value, 1)
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value / step <= 6:
            return step * math.ceil(value / step), step
    step = 10 ** int(math.log10(value))
    return step * math.ceil(value / step), step


def _chart(months: list[Month], width: int, height: int, lang: str) -> dict:
    """What chart.svg draws: the geometry, every coordinate formatted as it appears in the SVG."""
    t = _TEXTS[lang]
    left, right, top, bottom = 44, 16, 36, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value, step = _nice_max(max([m.planned or 0 for m in months] + [m.done for m in months] + [1]))
    slot = plot_w / max(len(months), 1)
    bar = max(2.0, min(28.0, slot * 0.36))

    def y(value: int) -> float:
        return top + plot_h - plot_h * value / top_value

    # Past months come first (the months are in order): the shaded band covers them.
    past = sum(1 for m in months if m.past)
    band = {"x": left, "y": top, "width": f"{slot * past:.1f}", "height": plot_h,
            "label_x": f"{left + slot * past / 2:.1f}", "label_y": top + 14, "label": t["past"]} if past else None
    ticks = [{"value": tick, "y": f"{y(tick):.1f}", "label_y": f"{y(tick) + 4:.1f}"}
             for tick in range(0, top_value + 1, step)]
    every_label = max(1, math.ceil(len(months) / 18))
    names = {"planned": t["legend_planned"], "done": t["legend_done"]}
    columns = []
    for index, month in enumerate(months):
        centre = left + slot * (index + 0.5)
        bars = [("done", month.done, centre + 1)]
        if not month.past:
            bars.insert(0, ("planned", month.planned, centre - bar - 1))
        year, mon = month.month.split("-")
        labelled = index % every_label == 0
        columns.append({
            "month": month.month, "x": f"{centre:.1f}",
            "bars": [{"kind": kind, "value": value, "name": names[kind], "x": f"{x:.1f}", "y": f"{y(value):.1f}",
                      "height": f"{y(0) - y(value):.1f}"} for kind, value, x in bars],
            "label": t["months"][int(mon) - 1] if labelled else None,
            "year": year if labelled and (index == 0 or mon == "01") else None,
        })
    # Legend, right-aligned; about 7 px per character of the 12 px font.
    legend = [("planned", t["legend_planned"]), ("done", t["legend_done"])] + (
        [("past", t["legend_past"])] if past else [])
    x = width - right - sum(18 + 7 * len(label) + 14 for _, label in legend)
    legend_items = []
    for kind, label in legend:
        legend_items.append({"kind": kind, "label": label, "x": x, "text_x": x + 18})
        x += 18 + 7 * len(label) + 14
    return {"width": width, "height": height, "title": t["chart"], "left": left, "right": width - right,
            "tick_x": left - 8, "axis_y": f"{y(0):.1f}", "label_y": f"{y(0) + 16:.1f}", "year_y": f"{y(0) + 31:.1f}",
            "bar_width": f"{bar:.1f}", "band": band, "ticks": ticks, "columns": columns, "legend": legend_items}


def render_svg(months: list[Month], width: int = 960, height: int = 320, lang: str = "en") -> str:
    """The chart alone, one <svg> element (without a trailing newline)."""
    return _render("chart.svg", chart=_chart(months, width, height, lang)).removesuffix("\n")


def render_html(report: Report) -> str:
    t, lang = texts(report), report.language
    total = report.total
    percent = report.percent
    span = (t["span_short"].format(first=report.planned_span[0], last=report.planned_span[1])
            if report.planned_span else t["card_no_span"])
    target_text = _target_text(report)
    _, agreements_line = _summary_lines(report)
    text = {key: t[key] for key in ("card_done", "card_contacted", "card_on_schedule", "card_overdue", "per_month",
                                    "per_person", "contact", "person", "due", "days_overdue", "nothing_overdue",
                                    "month", "planned", "done", "past")}
    text.update(as_of=t["as_of"].format(today=report.today), span=_span_text(report),
                target=target_text[0].upper() + target_text[1:], agreements=agreements_line,
                of_target=t["of_target"].format(percent=_percent(percent, lang)),
                card_reminders=t["card_reminders"].format(span=span), card_hours=t["card_hours"].format(span=span),
                overdue_on=t["overdue_on"].format(today=report.today), note=t["note"].format(span=span))
    cards = {"done": total.done, "target": _num(report.period_target, lang), "bar": f"{min(100.0, percent or 0.0):.1f}",
             "contacted": total.contacted, "agreements": total.agreements, "on_schedule": total.on_schedule,
             "overdue": len(total.overdue), "reminders": total.reminders, "hours": _hours(total.hours, lang)}
    rows = [{"total": p is total, "name": t["team_total"] if p is total else p.name, "id": p.id,
             "cells": figure_cells(p, lang), "late": bool(p.overdue)}
            for p in report.people + [total]]
    return _render(
        "report.html", lang=lang, title=t["title"].format(team=report.team, start=report.start, end=report.end),
        text=text, cards=cards, chart=_chart(report.months, 960, 320, lang),
        # Deliberately HTML: the caption is our own constant text (_TEXTS, never user input) and
        # marks up the config key `last` as <code>last</code>.
        caption=Markup(t["caption"]),
        headers=[t[c] for c in ("person",) + COLUMNS], rows=rows, overdue_column=OVERDUE_COLUMN,
        overdue=[{"contact": o.contact, "person": o.person, "due": o.due.isoformat(), "days": o.days}
                 for o in total.overdue],
        months=[{"month": m.month, "past": m.past, "planned": m.planned, "done": m.done} for m in report.months],
    )


def render(report: Report, fmt: str, csv_dialect: str | None = None) -> str:
    if fmt == "csv":
        return render_csv(report, csv_dialect)
    return {"table": render_table, "json": render_json, "html": render_html}[fmt](report)
