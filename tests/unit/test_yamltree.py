"""The fast scalar resolver must type every plain scalar exactly as PyYAML's safe_load does."""
from __future__ import annotations

import yaml
from hypothesis import given, settings, strategies as st

from kalender_sync.core import yamltree

REFERENCE = yaml.SafeLoader("")
SAMPLES = ["", "~", "null", "yes", "No", "on", "OFF", "12", "012", "0x1F", "1_000", "14:00", "09:00", "190:20:30",
           "1.5", ".5", "1e3", "1.0e+3", ".inf", "-.inf", ".NaN", "2026-02-30", "2026-1-5 10:00:00",
           "2027-02-10 15:00", "Maarten", "NL", "NO", "4 months", "a:b", "<<", "-1", "+5", "0", "0b101", "Y"]


def _same(value: str) -> bool:
    fast = yamltree.resolve_plain(value)
    slow = REFERENCE.resolve(yaml.ScalarNode, value, (True, False))
    return fast == slow or (slow == "tag:yaml.org,2002:value" and fast == "tag:yaml.org,2002:str")


def test_known_tricky_scalars():
    assert all(_same(v) for v in SAMPLES)
    assert all(_lazy_agrees(v) for v in SAMPLES)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789-+:._eEbxXaAfFnNoOyYsStTlLuU~< \t", max_size=14))
def test_random_scalars(value):
    assert _same(value)
    assert _lazy_agrees(value)


def test_norway_and_clock_times_stay_text():
    tree, problems = yamltree.parse("holidays: NO\nstart: 14:00\n", "t.yaml")
    assert not problems
    assert tree.items["holidays"][1].text == "NO" and tree.items["start"][1].text == "14:00"


def _lazy_agrees(value: str) -> bool:
    """A plain scalar typed on demand answers is_null/is_bool/is_int (and its tag says float) as
    SafeLoader types it."""
    slow = REFERENCE.resolve(yaml.ScalarNode, value, (True, False))
    scalar = yamltree.Scalar(1, value, yamltree._PLAIN, False)
    answers = (scalar.is_null, scalar.is_bool, scalar.is_int, scalar.resolved_tag == yamltree._FLOAT)
    expected = tuple(slow == f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float"))
    return answers == expected


def test_quoted_scalars_are_text_and_merge_keys_still_merge():
    tree, problems = yamltree.parse('a: "12"\nb: ~\nd: &d {x: 1}\ne: {<<: *d, y: 2}\n', "t.yaml")
    assert not problems
    a, b = tree.items["a"][1], tree.items["b"][1]
    assert not a.is_int and not a.is_null and b.is_null
    assert set(tree.items["e"][1].items) == {"x", "y"}
