"""The contract every calendar target passes (after vdirsyncer's StorageTests).

Run against the memory target, every kind in the registry that keeps its calendars in
files or folders, and CalDAV on real Radicale and Xandikos (see conftest.py). Each test
is about the CalendarTarget interface only: conditional writes, version tags, listing,
what others put there, and text that survives the trip.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from harnesses import foreign_body
from kalender_sync.core.fingerprint import content_hash
from kalender_sync.core.planning import PlannedEvent
from kalender_sync.targets.base import InvalidSyncToken, PreconditionFailed, Version

AMS = ZoneInfo("Europe/Amsterdam")
STAMP = datetime(2026, 11, 24, tzinfo=timezone.utc)


def event(n: int = 0, title: str | None = None, description: str = "Bel even.", day: int = 1) -> PlannedEvent:
    start = datetime(2027, 3, day, 9, 0, tzinfo=AMS) + timedelta(days=n)
    return PlannedEvent(key=f"contact/anna/contact-{n}/2027-03-01/0", person="anna", kind="contact",
                        title=title or f"Contact met Piet {n}", description=description, start=start,
                        end=start + timedelta(minutes=30), group=f"contact/anna/contact-{n}",
                        alarm=timedelta(minutes=15), busy=False)


def create(target, planned: PlannedEvent, sequence: int = 0) -> tuple[str, str | None]:
    href = target.href_for(planned.uid)
    etag = target.create(href, target.encode(planned, Version(sequence, STAMP)))
    target.flush()
    return href, etag


def listed(target) -> dict[str, str | None]:
    return {item.href: item.etag for item in target.list(None).items}


def test_a_new_target_is_empty(harness):
    target = harness.new()
    listing = target.list(None)
    assert listing.items == [] and listing.deleted == [] and listing.full


def test_a_created_event_is_listed_and_reads_back_as_ours(harness):
    target = harness.new()
    planned = event()
    href, etag = create(target, planned)
    current = listed(harness.reopen(target))
    assert list(current) == [href]
    if etag is not None:
        assert current[href] == etag
    item = harness.reopen(target).read([href])[href]
    assert (item.uid, item.key, item.written_hash, item.sequence) == (planned.uid, planned.key,
                                                                      content_hash(planned), 0)
    assert item.seen_hash == item.written_hash           # nobody edited it
    assert item.title == planned.title and item.end == date(2027, 3, 1)


def test_create_where_something_is_fails_and_changes_nothing(harness):
    target = harness.new()
    planned = event()
    href, _ = create(target, planned)
    before = listed(harness.reopen(target))
    with pytest.raises(PreconditionFailed):
        target.create(href, target.encode(event(title="Anders"), Version(0, STAMP)))
    target.flush()
    assert listed(harness.reopen(target)) == before
    assert harness.reopen(target).read([href])[href].title == planned.title


def test_update_with_the_current_version_replaces_and_moves_the_version_tag(harness):
    target = harness.new()
    href, etag = create(target, event())
    etag = etag or listed(target)[href]
    changed = event(title="Contact met Piet (verzet)")
    new_etag = target.update(href, target.encode(changed, Version(1, STAMP)), etag)
    target.flush()
    again = harness.reopen(target)
    assert listed(again)[href] != etag
    if new_etag is not None:
        assert listed(again)[href] == new_etag
    item = again.read([href])[href]
    assert item.title == "Contact met Piet (verzet)" and item.sequence == 1


def test_a_stale_version_tag_fails_update_and_delete(harness):
    target = harness.new()
    href, etag = create(target, event())
    old = etag or listed(target)[href]
    target.update(href, target.encode(event(title="Tweede versie"), Version(1, STAMP)), old)
    target.flush()
    target = harness.reopen(target)
    with pytest.raises(PreconditionFailed):
        target.update(href, target.encode(event(title="Derde versie"), Version(2, STAMP)), old)
    with pytest.raises(PreconditionFailed):
        target.delete(href, old)
    target.flush()
    assert harness.reopen(target).read([href])[href].title == "Tweede versie"


def test_delete_with_the_current_version_removes_and_a_second_delete_says_gone(harness):
    target = harness.new()
    href, etag = create(target, event())
    etag = etag or listed(target)[href]
    assert target.delete(href, etag) is True
    target.flush()
    target = harness.reopen(target)
    assert href not in listed(target)
    assert target.read([href])[href] is None
    assert target.delete(href, etag) is False


def test_foreign_items_stay_byte_identical_through_our_writes(harness):
    target = harness.new()
    mine, _ = create(target, event(0))
    uid, body = foreign_body()
    harness.put_foreign(target, uid, body)
    before = harness.foreign_bytes(target, uid)
    target = harness.reopen(target)
    items = target.read(list(listed(target)))
    foreign = [i for i in items.values() if i.uid == uid]
    assert len(foreign) == 1 and foreign[0].key is None
    create(target, event(1))
    target.update(mine, target.encode(event(0, title="Verzet"), Version(1, STAMP)), items[mine].etag)
    target.flush()
    target = harness.reopen(target)
    second = next(h for h, i in target.read(list(listed(target))).items() if i.key and i.key.endswith("1/2027-03-01/0"))
    target.delete(second, listed(target)[second])
    target.flush()
    assert harness.foreign_bytes(target, uid) == before
    assert len(listed(harness.reopen(target))) == 2        # ours (updated) and theirs


def test_listing_after_writes_holds_exactly_what_is_there(harness):
    target = harness.new()
    hrefs = [create(target, event(n))[0] for n in range(5)]
    target = harness.reopen(target)
    current = listed(target)
    assert set(current) == set(hrefs)
    target.delete(hrefs[2], current[hrefs[2]])
    target.update(hrefs[4], target.encode(event(4, title="Vier"), Version(1, STAMP)), current[hrefs[4]])
    target.flush()
    target = harness.reopen(target)
    after = listed(target)
    assert set(after) == set(hrefs) - {hrefs[2]}
    assert after[hrefs[0]] == current[hrefs[0]] and after[hrefs[4]] != current[hrefs[4]]
    items = target.read(list(after))
    assert sorted(i.uid for i in items.values()) == sorted(event(n).uid for n in (0, 1, 3, 4))


def test_an_incremental_listing_names_only_what_changed_and_refuses_a_foreign_token(harness):
    target = harness.new()
    if not target.capabilities.incremental:
        pytest.skip(f"{harness.name} lists everything every time (capabilities.incremental is False)")
    hrefs = [create(target, event(n))[0] for n in range(3)]
    token = target.list(None).token
    assert token
    current = listed(target)
    target.update(hrefs[0], target.encode(event(0, title="Nul"), Version(1, STAMP)), current[hrefs[0]])
    target.delete(hrefs[1], current[hrefs[1]])
    changes = target.list(token)
    assert not changes.full
    assert [i.href for i in changes.items] == [hrefs[0]]
    assert changes.deleted == [hrefs[1]]
    quiet = target.list(changes.token)
    assert quiet.items == [] and quiet.deleted == []
    with pytest.raises(InvalidSyncToken):
        target.list(token + "-not-a-token-of-this-calendar")


def test_text_in_any_language_survives(harness):
    target = harness.new()
    title = "Koffie met Zoë Ångström — 日本語 ✓ «quotes» \"dubbel\" ; komma, dubbele:punt"
    description = "Regel één\nRegel twee: ‘€ 12,50’ \\ backslash\n\nÉmoji 🎉 en tab\t."
    planned = event(title=title, description=description)
    href, _ = create(target, planned)
    item = harness.reopen(target).read([href])[href]
    assert item.title == title
    assert item.seen_hash == item.written_hash == content_hash(planned)


def test_a_large_event_survives(harness):
    target = harness.new()
    description = "\n".join(f"Regel {n}: " + "notitie over het gesprek " * 8 for n in range(600))
    assert len(description.encode()) > 100_000
    planned = event(description=description)
    href, _ = create(target, planned)
    item = harness.reopen(target).read([href])[href]
    assert item.seen_hash == item.written_hash == content_hash(planned)


def test_reading_an_href_where_nothing_is_gives_none(harness):
    target = harness.new()
    create(target, event())
    missing = target.href_for(event(99).uid)
    assert harness.reopen(target).read([missing]) == {missing: None}


def test_one_uid_lives_at_one_href_only(harness):
    target = harness.new()
    planned = event()
    create(target, planned)
    other_href = target.href_for(planned.uid).replace(".ics", "-copy.ics") if target.href_for(planned.uid).endswith(".ics") else None
    if other_href is None:
        pytest.skip(f"{harness.name} addresses events by UID: a second href cannot exist")
    with pytest.raises(PreconditionFailed):
        target.create(other_href, target.encode(planned, Version(0, STAMP)))
        target.flush()
