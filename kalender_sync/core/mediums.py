"""How people meet (a contact agreement's `medium`): one table for the config, the import and the texts.

Each medium has one id (what the model holds), the words people write for it in English and
in Dutch, and how an event's title and description say it in each language. The config
reader and the contact-list import accept every word of the table, in either language, and
both offer the same names when a word is unknown; the texts show a medium the same way
whichever of its words was written (`koffie` and `coffee` are both "koffie drinken").
"""
from __future__ import annotations

import difflib
from types import MappingProxyType
from typing import NamedTuple


class Medium(NamedTuple):
    id: str
    english: tuple[str, ...]      # the words accepted; the first is the one offered
    dutch: tuple[str, ...]
    text_nl: str                  # "Contact met Piet (koffie drinken)", "Voorstel: koffie drinken, 30m."
    text_en: str                  # "Get in touch with Piet (coffee)", "Suggestion: coffee, 30m."

    def text(self, lang: str) -> str:
        return self.text_nl if lang == "nl" else self.text_en

    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.english + self.dutch))


MEDIA = (
    Medium("phone", ("phone", "phone call", "call", "telephone"), ("telefoon", "bellen", "telefonisch",
           "telefoongesprek"), "bellen", "a phone call"),
    Medium("video", ("video", "video call"), ("videobellen", "beeldbellen", "videogesprek"),
           "videobellen", "a video call"),
    Medium("coffee", ("coffee",), ("koffie", "koffie drinken"), "koffie drinken", "coffee"),
    Medium("lunch", ("lunch",), ("lunch", "lunchen"), "lunchen", "lunch"),
    Medium("walk", ("walk",), ("wandeling", "wandelen"), "een wandeling", "a walk"),
    Medium("visit", ("visit",), ("bezoek", "langsgaan", "op bezoek"), "langsgaan", "a visit"),
    Medium("email", ("email", "e-mail", "mail"), ("e-mail", "mail", "mailen"), "mailen", "an e-mail"),
    Medium("drinks", ("drinks",), ("borrel", "borrelen"), "een borrel", "drinks"),
    Medium("event", ("event",), ("bijeenkomst", "evenement"), "samen naar een bijeenkomst", "an event together"),
)

BY_ID = MappingProxyType({medium.id: medium for medium in MEDIA})
# Every accepted word (lower case, single spaces) -> its medium.
_BY_NAME = MappingProxyType({name: medium for medium in MEDIA for name in medium.names()})
if len(_BY_NAME) != sum(len(m.names()) for m in MEDIA):   # pragma: no cover - a mistake in the table
    raise AssertionError("a word names two mediums in core/mediums.py")

OFFERED_EN = tuple(medium.english[0] for medium in MEDIA)
OFFERED_NL = tuple(medium.dutch[0] for medium in MEDIA)


def _normal(word: str) -> str:
    return " ".join(word.lower().split())


def find(word: str) -> Medium | None:
    """The medium a word names, in English or Dutch, case and spacing ignored."""
    return _BY_NAME.get(_normal(word))


def offered() -> str:
    """The names a message offers, in both languages."""
    return f"{', '.join(OFFERED_EN)} (in Dutch: {', '.join(OFFERED_NL)})"


def suggestion(word: str) -> str:
    """' (did you mean ...?)' with the accepted word `word` most looks like, or ''."""
    close = difflib.get_close_matches(_normal(word), list(_BY_NAME), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown(word: str) -> str:
    """Why `word` is refused, and what to write instead."""
    return f"unknown medium{suggestion(word)}; use one of {offered()}"


def read(word: str) -> Medium:
    """The medium `word` names; ValueError with `unknown(word)` when it names none."""
    medium = find(word)
    if medium is None:
        raise ValueError(unknown(word))
    return medium


def text(medium_id: str, lang: str) -> str:
    """How an event says the medium; an id the table does not know is shown as it is."""
    medium = BY_ID.get(medium_id)
    return medium.text(lang) if medium is not None else medium_id


def reference() -> str:
    """For the key reference: every medium with all its words."""
    return "; ".join(f"{m.id} ({', '.join(n for n in m.names() if n != m.id)})" for m in MEDIA)
