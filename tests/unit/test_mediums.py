"""One table of mediums (core/mediums.py) for the config, the contact-list import and the texts:
every word of it, English or Dutch, is accepted in both places and shown the same way."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from helpers import TODAY, make_team, planned
from kalender_sync.core import mediums
from kalender_sync.core.errors import ConfigError
from kalender_sync.features.importer import parse_rows

ALL_NAMES = [(medium, name) for medium in mediums.MEDIA for name in medium.names()]


def _contact(medium_word: str, language: str = "nl"):
    team = make_team(f"""
    contacts:
      - {{owner: maarten, with: Piet de Vries, every: 4 months, last: 2026-10-01, medium: "{medium_word}"}}
    """, language=language)
    [agreement] = team.contacts
    [event, *_] = planned(team, kind="contact")
    return agreement, event


@pytest.mark.parametrize("medium, word", ALL_NAMES, ids=[name for _, name in ALL_NAMES])
def test_every_word_of_the_table_is_read_as_its_medium_and_shown_the_same_way(medium, word):
    for language in ("nl", "en"):
        agreement, event = _contact(word, language)
        assert agreement.medium == medium.id
        assert event.title.endswith(f"({medium.text(language)})"), event.title


@pytest.mark.parametrize("dutch, english, shown", [
    ("koffie", "coffee", "koffie drinken"),
    ("telefoon", "phone", "bellen"),
    ("bellen", "phone", "bellen"),
    ("wandeling", "walk", "een wandeling"),
])
def test_a_dutch_and_an_english_word_for_one_medium_give_the_same_event(dutch, english, shown):
    (_, in_dutch), (_, in_english) = _contact(dutch), _contact(english)
    assert in_dutch.title == in_english.title == f"Contact met Piet de Vries ({shown})"
    assert in_dutch.description == in_english.description
    assert f"Voorstel: {shown}, 30m." in in_dutch.description


def test_an_unknown_medium_lists_the_names_in_both_languages():
    with pytest.raises(ConfigError) as caught:
        _contact("fax")
    [problem] = caught.value.problems
    assert problem.path == "contacts[0].medium" and problem.value == "fax"
    assert problem.message == (
        "unknown medium; use one of phone, video, coffee, lunch, walk, visit, email, drinks, event "
        "(in Dutch: telefoon, videobellen, koffie, lunch, wandeling, bezoek, e-mail, borrel, bijeenkomst)")


def test_a_near_miss_gets_a_suggestion_in_its_own_language():
    with pytest.raises(ConfigError) as caught:
        _contact("telefon")
    assert caught.value.problems[0].message.startswith("unknown medium (did you mean 'telefoon'?); use one of")


def _import(medium_word: str):
    team = make_team()
    table = [(1, ["naam", "interval", "medium"]), (2, ["Anne Bos", "4 maanden", medium_word])]
    return parse_rows(team, "maarten", table, None, TODAY)


@pytest.mark.parametrize("medium, word", ALL_NAMES, ids=[name for _, name in ALL_NAMES])
def test_the_import_accepts_every_word_the_config_accepts(medium, word):
    result = _import(word.upper())
    assert not result.problems, result.problems
    [new] = result.new
    # The person's own word goes into the config; reading it back gives the medium.
    written = new.values["medium"]
    assert written == word and mediums.find(written) is medium


def test_the_import_refuses_an_unknown_medium_with_the_same_names():
    result = _import("fax")
    [problem] = result.problems
    assert str(problem) == ("row 2: Anne Bos: medium 'fax': use one of phone, video, coffee, lunch, walk, visit, "
                            "email, drinks, event (in Dutch: telefoon, videobellen, koffie, lunch, wandeling, "
                            "bezoek, e-mail, borrel, bijeenkomst); skipped")


@given(st.text(min_size=1, max_size=20))
def test_config_and_import_agree_on_any_word(word):
    """Whatever is written, the config and the import accept or refuse it alike."""
    word = word.strip()
    if not word or any(c in word for c in '"\\') or not word.isprintable():
        return
    accepted_by_import = not _import(word).problems
    try:
        agreement, _ = _contact(word)
    except ConfigError:
        accepted_by_config = False
    else:
        accepted_by_config = True
        assert agreement.medium == mediums.find(word).id
    assert accepted_by_import == accepted_by_config == (mediums.find(word) is not None)


def test_no_word_names_two_mediums_and_every_medium_has_both_languages():
    seen = {}
    for medium in mediums.MEDIA:
        assert medium.english and medium.dutch and medium.text_nl and medium.text_en
        for name in medium.names():
            assert seen.setdefault(name, medium.id) == medium.id, name
            assert name == " ".join(name.lower().split())
