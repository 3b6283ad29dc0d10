"""Titles and descriptions of generated events, in Dutch and English.

Descriptions say why the event exists and what to do, because the person who
sees it in Outlook has never seen the YAML it came from.
"""
from __future__ import annotations

from datetime import date
from types import MappingProxyType

from . import mediums
from .durations import Interval, format_length

_MONTHS = MappingProxyType({
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
})
_UNITS = MappingProxyType({
    "nl": MappingProxyType({"days": ("dag", "dagen"), "weeks": ("week", "weken"), "months": ("maand", "maanden"),
           "years": ("jaar", "jaar")}),
    "en": MappingProxyType({"days": ("day", "days"), "weeks": ("week", "weeks"), "months": ("month", "months"),
           "years": ("year", "years")}),
})

FOOTER = MappingProxyType({
    "nl": "Deze afspraak is gemaakt door kalender-sync uit de netwerkafspraken van je team. "
          "Wijzigingen die je zelf maakt blijven staan.",
    "en": "This event was made by kalender-sync from your team's networking agreements. "
          "Changes you make yourself are kept.",
})


INVITATION_FOOTER = MappingProxyType({
    "nl": "Deze uitnodiging is verstuurd door kalender-sync uit de netwerkafspraken van je team. "
          "Wijzigingen komen als nieuwe uitnodiging van de organisator.",
    "en": "This invitation was sent by kalender-sync from your team's networking agreements. "
          "Changes arrive as a new invitation from the organizer.",
})


def for_invitation(description: str) -> str:
    """An event description as an invitation says it: there, the organizer's updates win."""
    for lang, footer in FOOTER.items():
        if description.endswith(footer):
            return description[: -len(footer)] + INVITATION_FOOTER[lang]
    return description


def day_text(day: date, lang: str) -> str:
    month = _MONTHS[lang][day.month - 1]
    return f"{day.day} {month} {day.year}" if lang == "nl" else f"{day.day} {month} {day.year}"


# Dutch "elk" before a neuter (het-)word in the singular, "elke" before the others:
# "elk jaar", but "elke dag/week/maand" and, with a number, "elke 2 jaar".
_NEUTER_NL = frozenset({"years"})


def interval_text(interval: Interval, lang: str) -> str:
    one, many = _UNITS[lang][interval.unit]
    if lang != "nl":
        return f"every {one}" if interval.count == 1 else f"every {interval.count} {many}"
    if interval.count == 1:
        return ("elk " if interval.unit in _NEUTER_NL else "elke ") + one
    return f"elke {interval.count} {many}"


def medium_text(medium: str | None, lang: str) -> str | None:
    if medium is None:
        return None
    return mediums.text(medium, lang)


def contact_title(lang: str, contact: str, nudge: int, medium: str | None) -> str:
    how = medium_text(medium, lang)
    if lang == "nl":
        base = f"Contact met {contact}" + (f" ({how})" if how else "")
        return base if nudge == 0 else f"Nog even: {base[0].lower()}{base[1:]}"
    base = f"Get in touch with {contact}" + (f" ({how})" if how else "")
    return base if nudge == 0 else f"Friendly reminder: {base[0].lower()}{base[1:]}"


def contact_description(lang: str, *, contact: str, role: str | None, organisation: str | None,
                        every: Interval, last: date | None, due: date, on: date, nudge: int,
                        medium: str | None, question: str | None, length, owner: str,
                        done_url: str | None = None) -> str:
    """`on`: the day of the reminder itself, to count the days the contact has been open.
    `done_url`: the reminder's done link (core.links), which takes the place of the command."""
    who = contact + (f", {role}" if role else "") + (f" ({organisation})" if organisation else "")
    how = medium_text(medium, lang)
    if lang == "nl":
        lines = [f"Je hebt afgesproken {interval_text(every, lang)} contact te hebben met {who}."]
        lines.append(f"Laatste contact: {day_text(last, lang)}." if last else "Er is nog geen contact vastgelegd.")
        if nudge:
            lines.append(f"Dit contact staat open sinds {day_text(due, lang)} "
                         f"({(on - due).days} dagen). Een vriendelijk geweten: het hoeft niet lang te duren.")
        if how:
            lines.append(f"Voorstel: {how}, {format_length(length)}.")
        if question:
            lines.append(f"Vraag om te stellen: {question}")
        if done_url:
            lines.append("Spreek aan het eind af wanneer jullie elkaar weer spreken.")
            lines.append(f"Gesproken? Leg het vast (of kies \"nu niet\"): {done_url}")
        else:
            lines.append("Spreek aan het eind af wanneer jullie elkaar weer spreken, en leg het vast met: "
                         f"kalender-sync log {owner} \"{contact}\" --next JJJJ-MM-DD")
    else:
        lines = [f"You agreed to be in touch with {who} {interval_text(every, lang)}."]
        lines.append(f"Last contact: {day_text(last, lang)}." if last else "No contact has been logged yet.")
        if nudge:
            lines.append(f"This contact has been open since {day_text(due, lang)} "
                         f"({(on - due).days} days). A friendly conscience: it need not take long.")
        if how:
            lines.append(f"Suggestion: {how}, {format_length(length)}.")
        if question:
            lines.append(f"Question to ask: {question}")
        if done_url:
            lines.append("At the end, agree when you will speak next.")
            lines.append(f"Done? Log it (or choose \"not now\"): {done_url}")
        else:
            lines.append("At the end, agree when you will speak next, and log it with: "
                         f"kalender-sync log {owner} \"{contact}\" --next YYYY-MM-DD")
    return "\n".join(lines + ["", FOOTER[lang]])


def aftercare_title(lang: str, project: str, offset: Interval) -> str:
    one, many = _UNITS[lang][offset.unit]
    after = f"{offset.count} {one if offset.count == 1 else many}"
    return f"Nazorg {project} ({after} na afronding)" if lang == "nl" else (
        f"Aftercare {project} ({after} after the end)")


def aftercare_description(lang: str, project: str, client: str | None, end: date, team_names: list[str]) -> str:
    client_text = f" bij {client}" if client and lang == "nl" else (f" at {client}" if client else "")
    if lang == "nl":
        text = (f"De opdracht {project}{client_text} is afgerond op {day_text(end, lang)}. "
                "Nazorg hoort standaard bij elke opdracht: bel of bezoek de opdrachtgever, "
                "vraag hoe het nu loopt en wat er nog nodig is.\n"
                f"Projectteam: {', '.join(team_names)}.")
    else:
        text = (f"The assignment {project}{client_text} ended on {day_text(end, lang)}. "
                "Aftercare is standard after every assignment: call or visit the client, "
                "ask how things are going now and what is still needed.\n"
                f"Project team: {', '.join(team_names)}.")
    return text + "\n\n" + FOOTER[lang]


def session_description(lang: str, name: str, description: str | None, periods: int, names: list[str]) -> str:
    how_often = {12: ("elke maand", "every month"), 4: ("elk kwartaal", "every quarter"),
                 2: ("elk half jaar", "every half year"), 1: ("elk jaar", "every year")}.get(
        periods, (f"{periods} keer per jaar", f"{periods} times a year"))
    if lang == "nl":
        text = (f"{name}: samen netwerken werkt beter dan alleen. Dit moment komt {how_often[0]} terug.\n"
                f"Met: {', '.join(names)}.")
    else:
        text = (f"{name}: networking together works better than alone. This comes back {how_often[1]}.\n"
                f"With: {', '.join(names)}.")
    if description:
        text += "\n" + description
    return text + "\n\n" + FOOTER[lang]


def meeting_texts(lang: str, part: str, meeting: str, representative: str, when: date) -> tuple[str, str]:
    """(title, description) for the parts of a network meeting."""
    day = day_text(when, lang)
    nl = {
        "prepare": (f"Input voor {meeting}",
                    f"Op {day} gaat {representative} namens het team naar {meeting}. Welke vragen of "
                    f"onderwerpen moet {representative} meenemen? Geef ze vandaag door."),
        "collect": (f"Input ophalen voor {meeting}",
                    f"Op {day} ga je namens het team naar {meeting}. Vraag je collega's vandaag om "
                    "vragen en onderwerpen die je mee moet nemen."),
        "meeting": (meeting, f"Je gaat namens het team naar {meeting}. Neem de input van je collega's mee."),
        "report_back": (f"Terugkoppeling {meeting}",
                        f"Je was op {day} bij {meeting}. Vertel je collega's vandaag wat je hoorde "
                        "en wie je sprak."),
    }
    en = {
        "prepare": (f"Input for {meeting}",
                    f"On {day} {representative} attends {meeting} for the team. Which questions or topics "
                    f"should {representative} bring? Send them today."),
        "collect": (f"Collect input for {meeting}",
                    f"On {day} you attend {meeting} for the team. Ask your colleagues today for "
                    "questions and topics to bring."),
        "meeting": (meeting, f"You attend {meeting} for the team. Bring your colleagues' input."),
        "report_back": (f"Report back on {meeting}",
                        f"You were at {meeting} on {day}. Tell your colleagues today what you heard "
                        "and whom you met."),
    }
    title, body = (nl if lang == "nl" else en)[part]
    return title, body + "\n\n" + FOOTER[lang]


def alarm_text(lang: str) -> str:
    return "Herinnering" if lang == "nl" else "Reminder"


# -- What a person did to one of our events, as `plan`, `sync` and `purge` report it ------------
# (core.diff.Reason; cli/calendars.py). Said to the person whose calendar it is: "by you".

_WEEKDAYS_SHORT = MappingProxyType({"nl": ("ma", "di", "wo", "do", "vr", "za", "zo"),
                                    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")})
_MONTHS_SHORT = MappingProxyType({
    "nl": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
})
_REASONS = MappingProxyType({
    "nl": MappingProxyType({
        "moved": "door jou verplaatst naar {moment}",
        "edited": "door jou aangepast",
        "marked-done": "door jou afgevinkt",
        "logged": "door jou afgevinkt: vastgelegd als contact op {day}",
        "dropped": "door jou aangepast; niet meer gepland, maar het blijft staan",
        "deleted": "door jou verwijderd; komt niet terug",
        "taken": "een andere afspraak heeft dezelfde UID",
    }),
    "en": MappingProxyType({
        "moved": "moved to {moment} by you",
        "edited": "edited by you",
        "marked-done": "marked done by you",
        "logged": "marked done by you: logged as a contact on {day}",
        "dropped": "edited by you; no longer planned, but it stays",
        "deleted": "deleted by you; not created again",
        "taken": "another event has its UID",
    }),
})


def moment_text(moment, lang: str) -> str:
    """'Wed 16 Dec 13:00' / 'wo 16 dec 13:00' (a date alone for an all-day event)."""
    text = f"{_WEEKDAYS_SHORT[lang][moment.weekday()]} {moment.day} {_MONTHS_SHORT[lang][moment.month - 1]}"
    if hasattr(moment, "hour"):
        text += f" {moment.hour:02d}:{moment.minute:02d}"
    return text


def reason_text(lang: str, code: str, moment=None, day: date | None = None) -> str:
    """Why kalender-sync leaves an event alone: what its person did to it."""
    lang = lang if lang in _REASONS else "en"
    return _REASONS[lang][code].format(moment=moment_text(moment, lang) if moment is not None else "",
                                       day=day_text(day, lang) if day is not None else "")
