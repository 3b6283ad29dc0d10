"""The feed token store: hashed at rest, rotation kills the old link, 0600, constant-time checks,
and nothing that could be a token in a log line."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import stat
import threading

import pytest

from kalender_sync.storage import feedtokens
from kalender_sync.storage.feedtokens import (FeedTokenError, TokenStore, base_url, feed_url, hash_token, new_token,
                                      webcal_url)
from kalender_sync.targets.feed import NotFoundLimiter, RedactingFilter, redact


@pytest.fixture
def store(tmp_path) -> TokenStore:
    return TokenStore(tmp_path / feedtokens.TOKEN_FILE)


def test_a_new_token_has_at_least_128_random_bits_and_is_url_safe():
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128
        assert feedtokens.well_formed(token)


def test_new_token_comes_from_the_secrets_module(monkeypatch):
    calls = []
    monkeypatch.setattr(feedtokens.secrets, "token_urlsafe", lambda n: calls.append(n) or "x" * 43)
    assert new_token() == "x" * 43
    assert calls == [feedtokens.TOKEN_BYTES] and feedtokens.TOKEN_BYTES >= 16


def test_the_file_keeps_the_sha256_and_never_the_token(store):
    tokens = store.rotate(["maarten", "sanne"])
    data = store.path.read_bytes()
    doc = json.loads(data)
    for person, token in tokens.items():
        assert token.encode() not in data
        assert token[:16].encode() not in data          # not even a prefix
        assert doc["tokens"][person]["sha256"] == hashlib.sha256(token.encode()).hexdigest()
        assert hash_token(token) == doc["tokens"][person]["sha256"]


def test_the_right_token_is_accepted_and_everything_else_refused(store):
    tokens = store.rotate(["maarten", "sanne"])
    assert store.verify("maarten", tokens["maarten"])
    assert store.verify("sanne", tokens["sanne"])
    assert not store.verify("maarten", tokens["sanne"])          # another person's token
    assert not store.verify("nobody", tokens["maarten"])         # unknown person
    assert not store.verify("maarten", new_token())               # a random well-formed token
    assert not store.verify("maarten", tokens["maarten"][:-1])    # one character short
    assert not store.verify("maarten", tokens["maarten"].swapcase())
    assert not store.verify("maarten", "")
    assert not store.verify("maarten", "short")
    assert not store.verify("maarten", "é" * 43)                  # not ASCII: no exception, just no
    assert not store.verify("maarten", "a" * 500)


def test_rotation_invalidates_the_old_token_and_only_that_one(store):
    first = store.rotate(["maarten", "sanne"])
    second = store.rotate(["maarten"])
    assert second["maarten"] != first["maarten"]
    assert not store.verify("maarten", first["maarten"])
    assert store.verify("maarten", second["maarten"])
    assert store.verify("sanne", first["sanne"])


def test_a_second_store_on_the_same_file_sees_a_rotation_at_once(store):
    """What the running server relies on: it re-reads the file when it changes."""
    server_side = TokenStore(store.path)
    old = store.rotate(["maarten"])["maarten"]
    assert server_side.verify("maarten", old)
    new = store.rotate(["maarten"])["maarten"]
    assert not server_side.verify("maarten", old)
    assert server_side.verify("maarten", new)
    store.revoke(["maarten"])
    assert not server_side.verify("maarten", new)


def test_revoke_removes_the_token(store):
    tokens = store.rotate(["maarten", "sanne"])
    digest = hash_token(tokens["maarten"])
    assert store.revoke(["maarten", "nobody"]) == ["maarten"]
    assert not store.verify("maarten", tokens["maarten"])
    assert store.verify("sanne", tokens["sanne"])
    # The token's hash is gone; the person stays named only as revoked (issue 11, defect 14).
    doc = json.loads(store.path.read_text())
    assert digest not in store.path.read_text() and "maarten" not in doc["tokens"]
    assert list(doc["revoked"]) == ["maarten"]


def test_a_revoked_link_is_remembered_until_a_new_one_is_made(store):
    from datetime import datetime, timezone
    store.rotate(["maarten", "sanne"])
    assert store.revoked() == {}
    store.revoke(["maarten"], now=datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc))
    assert store.revoked() == {"maarten": "2026-11-24T09:30:00Z"}
    assert TokenStore(store.path).revoked() == {"maarten": "2026-11-24T09:30:00Z"}   # read back from the file
    assert sorted(store.records()) == ["sanne"]
    assert store.revoke(["maarten"]) == []                         # no link left to revoke
    token = store.rotate(["maarten"])["maarten"]
    assert store.revoked() == {} and store.verify("maarten", token)
    assert "revoked" not in json.loads(store.path.read_text())     # the file is as before revocations


def test_a_token_file_without_revocations_still_reads(store):
    """Files written before revocations were remembered have no "revoked" object."""
    store.path.write_text(json.dumps({"version": 1, "tokens": {"maarten": {"sha256": "a" * 64, "created": "x"}}}))
    assert list(store.records()) == ["maarten"] and store.revoked() == {}
    store.path.write_text(json.dumps({"version": 1, "tokens": {}, "revoked": ["maarten"]}))
    with pytest.raises(FeedTokenError, match="rotate --all"):
        store.records()


def test_the_file_is_mode_0600_even_with_a_permissive_umask(store):
    old_umask = os.umask(0)
    try:
        store.rotate(["maarten"])
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
        store.path.chmod(0o644)                   # someone loosened it: the next write fixes it
        store.rotate(["sanne"])
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    finally:
        os.umask(old_umask)


def test_writes_are_atomic_and_leave_no_temporary_files(store):
    store.rotate(["maarten"])
    before = store.path.stat().st_ino
    store.rotate(["sanne"])
    assert store.path.stat().st_ino != before     # replaced by rename, never rewritten in place
    assert sorted(p.name for p in store.path.parent.iterdir()) == [feedtokens.TOKEN_FILE]


def test_the_check_uses_hmac_compare_digest_also_for_unknown_people(store, monkeypatch):
    token = store.rotate(["maarten"])["maarten"]
    seen = []
    real = hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(feedtokens.hmac, "compare_digest", spy)
    assert store.verify("maarten", token)
    assert seen[-1] == (hash_token(token).encode(), hash_token(token).encode())
    assert not store.verify("nobody", token)       # same work for an unknown person
    assert not store.verify("maarten", "bad")      # and for a malformed token
    assert len(seen) == 3


def test_no_file_means_no_tokens(store):
    assert store.records() == {}
    assert not store.verify("maarten", new_token())


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"version": 1, "tokens": {"maarten": {"sha256": "abc"}}}',
                                     b'{"version": 99, "tokens": {}}', b"\xff\xfe"])
def test_a_damaged_file_fails_closed_with_a_way_out(store, content):
    store.path.write_bytes(content)
    with pytest.raises(FeedTokenError, match="rotate --all"):
        store.records()
    with pytest.raises(FeedTokenError):
        store.verify("maarten", new_token())        # never "valid" when the file is unreadable
    with pytest.raises(FeedTokenError):
        store.rotate(["maarten"])                   # and never silently overwritten


def test_concurrent_rotations_lose_no_update(tmp_path):
    path = tmp_path / feedtokens.TOKEN_FILE
    people = [f"p{i}" for i in range(12)]
    results = {}

    def work(person):
        results.update(TokenStore(path).rotate([person]))

    threads = [threading.Thread(target=work, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store = TokenStore(path)
    assert sorted(store.records()) == sorted(people)
    assert all(store.verify(p, results[p]) for p in people)


def test_rotate_without_people_is_a_usage_error(store):
    from kalender_sync.core.errors import UsageError
    with pytest.raises(UsageError):
        store.rotate([])


def test_links(store):
    class Feed:
        base_url, host, port = None, "127.0.0.1", 8080
    assert base_url(Feed) == "http://127.0.0.1:8080"
    Feed.base_url = "https://feeds.example.nl/team/"
    url = feed_url(base_url(Feed), "jan-willem", "TOK")
    assert url == "https://feeds.example.nl/team/feed/jan-willem/TOK.ics"
    assert webcal_url(url) == "webcal://feeds.example.nl/team/feed/jan-willem/TOK.ics"
    Feed.base_url, Feed.host = None, "::1"
    assert base_url(Feed) == "http://[::1]:8080"


def test_links_follow_the_address_serve_listens_on_while_there_is_no_base_url():
    import socket

    class Feed:
        base_url, host, port = None, "127.0.0.1", 9191        # feed.listen: 127.0.0.1:9191
    assert base_url(Feed) == "http://127.0.0.1:9191"
    assert base_url(Feed, port=9000) == "http://127.0.0.1:9000"           # serve --port 9000
    assert base_url(Feed, "::1", 9000) == "http://[::1]:9000"             # serve --host ::1 --port 9000
    # Listening on every address: a link to 0.0.0.0 opens nothing on another machine.
    for anywhere in ("0.0.0.0", "::"):
        assert base_url(Feed, anywhere) == f"http://{socket.gethostname()}:9191"
    Feed.base_url = "https://agenda.example.nl/"
    assert base_url(Feed, "0.0.0.0", 9000) == "https://agenda.example.nl"   # the public address wins


# --- a token never reaches a log ----------------------------------------------------------------

def test_redact_hides_the_token_part_of_any_path():
    token = new_token()
    for text in (f"/feed/maarten/{token}.ics", f"GET /feed/maarten/{token}.ics HTTP/1.1",
                 f"/feed/maarten/{token}", f"/feeds/maarten/{token}.ics", f"/x?t={token}",
                 f"/FEED/maarten/{token}.ics", f"Client disconnected while serving /feed/ad/{token}.ics"):
        assert token not in redact(text), text
        assert "***" in redact(text)
    assert redact("/feed/maarten/abc.ics") == "/feed/maarten/***"
    assert redact("/healthz") == "/healthz"


def test_the_redacting_filter_cleans_messages_args_and_tracebacks():
    token = new_token()
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.feed.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("Client disconnected while serving %s", f"/feed/maarten/{token}.ics")
        try:
            raise ValueError(f"bad /feed/maarten/{token}.ics")
        except ValueError:
            logger.exception("Exception while serving /feed/maarten/%s.ics", token)
    finally:
        logger.removeHandler(handler)
    assert len(records) == 2
    assert all(token not in text for text in records)
    assert "ValueError" in records[1]


def test_not_found_is_logged_once_per_client_per_window_with_a_count():
    now = [1000.0]
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    logger = logging.getLogger("test.feed.limiter")
    logger.addHandler(Keep())
    logger.propagate = False
    limiter = NotFoundLimiter(logger, window=60, clock=lambda: now[0])
    token = new_token()
    for _ in range(25):
        limiter.record("10.0.0.1", "GET", f"/feed/maarten/{token}.ics")
        now[0] += 1
    limiter.record("10.0.0.2", "GET", "/wp-login.php")
    assert len(lines) == 2                                  # 10.0.0.1 once, 10.0.0.2 once
    now[0] += 60
    limiter.record("10.0.0.1", "GET", "/x")
    assert len(lines) == 3 and " 25 request(s)" in lines[2]   # 24 suppressed + this one
    assert all(token not in line for line in lines)


def test_the_limiter_forgets_clients_without_losing_their_count():
    now = [0.0]
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    logger = logging.getLogger("test.feed.limiter.bounded")
    logger.addHandler(Keep())
    logger.propagate = False
    limiter = NotFoundLimiter(logger, window=60, clock=lambda: now[0], max_clients=3)
    for ip in ("a", "b", "c"):
        limiter.record(ip, "GET", "/x")
        limiter.record(ip, "GET", "/x")                    # suppressed
    now[0] += 61
    limiter.record("d", "GET", "/x")                       # 4 > 3 clients: the expired ones go
    assert len(limiter._clients) == 1
    assert any("3 more request(s)" in line for line in lines)
