"""The team report (`kalender-sync report`): are the networking habits kept?

A pure function of (team with its contact log, today, period, target); the renderers turn
it into a terminal table, CSV, JSON or a standalone HTML page with an inline SVG chart.
The same input gives byte-identical output (no clock is read here).

Definitions (per person, and summed for the team):

agreements
    The person's contact agreements in the config.
done
    Contacts that happened in the period [from, to] (both inclusive): every line of the
    contact log, and the config's `last` date of an agreement (a contact recorded by hand),
    counted once per agreement and date.
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
reminders
    Contact reminders in the calendar now: the `contact` events of `plan(team, today)`,
    which covers [today, today + horizon).
hours
    Networking time still planned in the period: the summed length of the timed events of
    kinds contact, session, aftercare and meeting in `plan(team, today)` that start on a day
    in [from, to].  The plan starts today and ends at the horizon, so a period in the past
    has 0 hours.  Group events count once for every person in them (person-hours).
contacts per month (chart)
    done: as above, per month.  planned: the contacts the agreements call for, per month of
    their due date.  Every contact record (the config's `last`/`next`, every log line) plans
    exactly one next contact: its agreed `next`, or its date plus the interval.  After the
    current due date the agreement keeps planning one contact per interval (dates from today
    on, as if each were kept on time).  Open agreements plan nothing.
"""
from __future__ import annotations

import csv
import html
import io
import json
import math
from calendar import isleap
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..core.durations import add_months
from ..core.errors import UsageError
from ..core.model import ContactAgreement, Team
from ..core.planning import contact_status, plan as make_plan

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NETWORKING_KINDS = ("contact", "session", "aftercare", "meeting")
FORMATS = ("table", "csv", "json", "html")


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
    target: float = 0.0
    overdue: list[Overdue] = field(default_factory=list)
    open: list[str] = field(default_factory=list)
    reminders: int = 0
    minutes: int = 0

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)


@dataclass(frozen=True)
class Month:
    month: str            # YYYY-MM
    planned: int
    done: int


@dataclass
class Report:
    team: str
    today: date
    start: date
    end: date               # inclusive
    horizon_until: date     # exclusive end of the plan
    yearly_target: float
    target_source: str      # "agreements" | "option"
    period_target: float
    people: list[PersonFigures]
    months: list[Month]

    @property
    def total(self) -> PersonFigures:
        total = PersonFigures("team", self.team)
        for p in self.people:
            total.agreements += p.agreements
            total.done += p.done
            total.overdue += p.overdue
            total.open += p.open
            total.reminders += p.reminders
            total.minutes += p.minutes
        total.target = self.period_target
        return total

    @property
    def percent(self) -> float | None:
        return round(100 * self.total.done / self.period_target, 1) if self.period_target else None


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
                 target: float | None = None) -> Report:
    start, end = report_period(today, start, end)
    if end < start:
        raise UsageError(f"the period ends ({end}) before it starts ({start})")
    fraction = year_fraction(start, end)
    total_agreements = len(team.contacts)
    yearly = float(target) if target is not None else float(total_agreements)
    plan = make_plan(team, today)
    months = _month_keys(start, end)
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
            for day in _done_dates(team, agreement):
                if start <= day <= end:
                    figures.done += 1
                    done_per_month[f"{day:%Y-%m}"] += 1
            for day in _planned_dates(team, agreement, today, end):
                if start <= day <= end:
                    planned_per_month[f"{day:%Y-%m}"] += 1
            status = contact_status(team, agreement)
            if status.last is None and not status.explicit:
                figures.open.append(agreement.contact)
            elif status.due < today:
                figures.overdue.append(Overdue(person.id, agreement.contact, status.due,
                                               status.overdue_days(today)))
        figures.overdue.sort(key=lambda o: (-o.days, o.contact))
        figures.open.sort()
        for event in plan.for_person(person.id):
            if event.kind == "contact":
                figures.reminders += 1
            if event.kind in NETWORKING_KINDS and not event.all_day and start <= event.day <= end:
                figures.minutes += int((event.end - event.start).total_seconds() // 60)
        people.append(figures)
    return Report(team=team.name, today=today, start=start, end=end, horizon_until=plan.until,
                  yearly_target=yearly, target_source="option" if target is not None else "agreements",
                  period_target=yearly * fraction, people=people,
                  months=[Month(m, planned_per_month[m], done_per_month[m]) for m in months])


def _month_keys(start: date, end: date) -> list[str]:
    keys = []
    month = date(start.year, start.month, 1)
    while month <= end:
        keys.append(f"{month:%Y-%m}")
        month = add_months(month, 1)
    return keys


# -- rendering ---------------------------------------------------------------------------

def _num(value: float) -> str:
    """1 decimal, without a useless '.0' on whole numbers in text output."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _hours(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value else "0"


def _target_text(report: Report) -> str:
    source = "the number of agreements" if report.target_source == "agreements" else "--target"
    return (f"yearly target {_num(report.yearly_target)} ({source}), "
            f"{_num(report.period_target)} for {report.start} – {report.end}")


def render_table(report: Report) -> str:
    out = io.StringIO()
    total = report.total
    out.write(f"Networking report {report.team}, {report.start} – {report.end} "
              f"(today {report.today}; reminders planned until {report.horizon_until})\n\n")
    headers = ("person", "agreements", "done", "target", "overdue", "open", "reminders", "hours")
    rows = [(f"{p.name} ({p.id})", str(p.agreements), str(p.done), _num(p.target), str(len(p.overdue)),
             str(len(p.open)), str(p.reminders), _hours(p.hours)) for p in report.people]
    rows.append(("team", str(total.agreements), str(total.done), _num(total.target), str(len(total.overdue)),
                 str(len(total.open)), str(total.reminders), _hours(total.hours)))
    widths = [max(len(r[i]) for r in rows + [headers]) for i in range(len(headers))]

    def line(cells) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out.write(line(headers).rstrip() + "\n")
    for row in rows[:-1]:
        out.write(line(row) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    out.write(line(rows[-1]) + "\n\n")
    percent = f" ({_num(report.percent)}%)" if report.percent is not None else ""
    out.write(f"Team: {total.done} contacts done of {_num(report.period_target)}{percent}; "
              f"{_target_text(report)}\n")
    if total.overdue:
        out.write(f"\nOverdue on {report.today}:\n")
        name_width = max(len(o.contact) for o in total.overdue)
        for o in total.overdue:
            out.write(f"  {o.person:<12} {o.contact:<{name_width}}  due {o.due}  {o.days:>4} days\n")
    if total.open:
        out.write("\nNever contacted (open): " + ", ".join(
            f"{p.id}: {name}" for p in report.people for name in p.open) + "\n")
    out.write("\nContacts per month   planned  done\n")
    for month in report.months:
        out.write(f"  {month.month}           {month.planned:>7}  {month.done:>4}\n")
    return out.getvalue()


CSV_COLUMNS = ("person", "name", "agreements", "done", "target", "overdue", "overdue_days", "open",
               "reminders", "hours")


def render_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in report.people + [report.total]:
        writer.writerow([p.id, p.name, p.agreements, p.done, f"{p.target:.2f}", len(p.overdue),
                         "; ".join(f"{o.contact}: {o.days}" for o in p.overdue), len(p.open),
                         p.reminders, f"{p.hours:.2f}"])
    return out.getvalue()


def _person_json(p: PersonFigures) -> dict:
    return {"id": p.id, "name": p.name, "agreements": p.agreements, "done": p.done,
            "target": round(p.target, 2),
            "overdue": {"count": len(p.overdue),
                        "contacts": [{"person": o.person, "contact": o.contact, "due": o.due.isoformat(),
                                      "days": o.days} for o in p.overdue]},
            "open": p.open, "reminders": p.reminders, "hours": p.hours}


def to_json(report: Report) -> dict:
    return {
        "team": report.team, "today": report.today.isoformat(),
        "period": {"from": report.start.isoformat(), "to": report.end.isoformat()},
        "horizon_until": report.horizon_until.isoformat(),
        "target": {"yearly": report.yearly_target, "source": report.target_source,
                   "period": round(report.period_target, 2), "percent_done": report.percent},
        "people": [_person_json(p) for p in report.people],
        "team_total": _person_json(report.total),
        "months": [{"month": m.month, "planned": m.planned, "done": m.done} for m in report.months],
    }


def render_json(report: Report) -> str:
    return json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"


# -- HTML ------------------------------------------------------------------------------------

_CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --planned: #9fb3c8; --done: #2f855a;
        --late: #c53030; --bg: #f7f9fb; }
* { box-sizing: border-box; }
body { margin: 0; padding: 32px 40px; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
       "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; }
.sub { color: var(--muted); margin: 0 0 20px; }
.cards { display: flex; gap: 16px; flex-wrap: wrap; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; min-width: 170px; }
.card .big { font-size: 28px; font-weight: 650; }
.card .label { color: var(--muted); font-size: 13px; }
.progress { height: 8px; background: var(--line); border-radius: 4px; margin-top: 8px; overflow: hidden; }
.progress span { display: block; height: 100%; background: var(--done); }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); min-width: 640px; }
th, td { padding: 6px 12px; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { font-size: 13px; color: var(--muted); font-weight: 600; background: #fbfcfd; }
tr.total td { font-weight: 650; border-top: 2px solid var(--ink); }
td.late { color: var(--late); font-weight: 600; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; display: inline-block; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--muted); }
svg .planned { fill: var(--planned); }
svg .done { fill: var(--done); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis { stroke: var(--muted); stroke-width: 1; }
.note { color: var(--muted); font-size: 13px; max-width: 900px; }
"""


def _nice_max(value: int) -> tuple[int, int]:
    """A round top for the y axis and the step between grid lines."""
    value = max(value, 1)
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value / step <= 6:
            return step * math.ceil(value / step), step
    step = 10 ** int(math.log10(value))
    return step * math.ceil(value / step), step


def render_svg(months: list[Month], width: int = 960, height: int = 320) -> str:
    left, right, top, bottom = 44, 16, 36, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value, step = _nice_max(max([m.planned for m in months] + [m.done for m in months] + [1]))
    slot = plot_w / max(len(months), 1)
    bar = max(2.0, min(28.0, slot * 0.36))

    def y(value: int) -> float:
        return top + plot_h - plot_h * value / top_value

    parts = [f'<svg id="contacts-per-month" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="Contacts per month: planned versus done">',
             "<title>Contacts per month: planned versus done</title>"]
    for tick in range(0, top_value + 1, step):
        parts.append(f'<line class="grid" x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    parts.append(f'<line class="axis" x1="{left}" y1="{y(0):.1f}" x2="{width - right}" y2="{y(0):.1f}"/>')
    every_label = max(1, math.ceil(len(months) / 18))
    for index, month in enumerate(months):
        centre = left + slot * (index + 0.5)
        for kind, value, x in (("planned", month.planned, centre - bar - 1), ("done", month.done, centre + 1)):
            bar_h = y(0) - y(value)
            parts.append(f'<rect class="bar {kind}" data-month="{month.month}" data-kind="{kind}" '
                         f'data-value="{value}" x="{x:.1f}" y="{y(value):.1f}" width="{bar:.1f}" '
                         f'height="{bar_h:.1f}"><title>{month.month}: {value} {kind}</title></rect>')
        if index % every_label == 0:
            year, mon = month.month.split("-")
            label = _MONTH_NAMES[int(mon) - 1]
            parts.append(f'<text x="{centre:.1f}" y="{y(0) + 16:.1f}" text-anchor="middle">{label}</text>')
            if index == 0 or mon == "01":
                parts.append(f'<text x="{centre:.1f}" y="{y(0) + 31:.1f}" text-anchor="middle">{year}</text>')
    legend_x = width - right - 190
    parts.append(f'<rect class="planned" x="{legend_x}" y="10" width="12" height="12"/>'
                 f'<text x="{legend_x + 18}" y="20">planned (due)</text>')
    parts.append(f'<rect class="done" x="{legend_x + 110}" y="10" width="12" height="12"/>'
                 f'<text x="{legend_x + 128}" y="20">done</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_html(report: Report) -> str:
    e = html.escape
    total = report.total
    percent = report.percent
    bar = min(100.0, percent or 0.0)
    rows = []
    for p in report.people + [total]:
        cls = ' class="total"' if p is total else ""
        late = ' class="late"' if p.overdue else ""
        label = "Team total" if p is total else f"{e(p.name)} <small>({e(p.id)})</small>"
        rows.append(f"<tr{cls}><td>{label}</td>"
                    f"<td>{p.agreements}</td><td>{p.done}</td><td>{_num(p.target)}</td>"
                    f"<td{late}>{len(p.overdue)}</td><td>{len(p.open)}</td><td>{p.reminders}</td>"
                    f"<td>{_hours(p.hours)}</td></tr>")
    overdue_rows = "".join(
        f"<tr><td>{e(o.contact)}</td><td>{e(o.person)}</td><td>{o.due}</td><td class=\"late\">{o.days}</td></tr>"
        for o in total.overdue)
    overdue = (f"<table><thead><tr><th>contact</th><th>person</th><th>due</th><th>days overdue</th></tr></thead>"
               f"<tbody>{overdue_rows}</tbody></table>") if total.overdue else "<p>Nothing is overdue.</p>"
    month_rows = "".join(f"<tr><td>{m.month}</td><td>{m.planned}</td><td>{m.done}</td></tr>" for m in report.months)
    title = f"Networking report {report.team}, {report.start} – {report.end}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="kalender-sync">
<title>{e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{e(title)}</h1>
<p class="sub">As of {report.today}; reminders are planned until {report.horizon_until}. {e(_target_text(report)[0].upper() + _target_text(report)[1:])}.</p>
<div class="cards">
<div class="card"><div class="big">{total.done} / {_num(report.period_target)}</div><div class="label">contacts done / target</div>
<div class="progress"><span style="width: {bar:.1f}%"></span></div><div class="label">{_num(percent) + '%' if percent is not None else '–'} of target</div></div>
<div class="card"><div class="big">{total.agreements}</div><div class="label">agreements</div></div>
<div class="card"><div class="big">{len(total.overdue)}</div><div class="label">overdue today</div></div>
<div class="card"><div class="big">{total.reminders}</div><div class="label">reminders in the calendars</div></div>
<div class="card"><div class="big">{_hours(total.hours)}</div><div class="label">hours of networking planned</div></div>
</div>
<h2>Contacts per month</h2>
<figure>
{render_svg(report.months)}
<figcaption>Planned: the contacts the agreements call for in that month (due dates). Done: contacts logged (or recorded as <code>last</code> in the config).</figcaption>
</figure>
<h2>Per person</h2>
<table>
<thead><tr><th>person</th><th>agreements</th><th>done</th><th>target</th><th>overdue</th><th>open</th><th>reminders</th><th>hours</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<h2>Overdue on {report.today}</h2>
{overdue}
<h2>Per month</h2>
<table><thead><tr><th>month</th><th>planned</th><th>done</th></tr></thead><tbody>{month_rows}</tbody></table>
<p class="note">Hours: networking events still planned in the period (contact reminders, sessions, aftercare,
meetings; person-hours). Reminders: contact reminders in the calendars now. Open: agreements without any contact yet.</p>
</body>
</html>
"""


def render(report: Report, fmt: str) -> str:
    return {"table": render_table, "csv": render_csv, "json": render_json, "html": render_html}[fmt](report)
