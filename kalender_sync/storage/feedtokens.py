"""Secret feed tokens: one per person, stored only as hashes in a small file next to the config.

The raw token is part of the person's subscribe URL and is shown exactly once, when it is
created (``kalender-sync feed-token rotate``). The file keeps a SHA-256 of each token, so a
leaked token file (or a backup of it) does not give anyone a working feed URL.

Why plain SHA-256 and not bcrypt/scrypt/argon2: those slow hashes exist to protect
*low-entropy* secrets (passwords people choose) against guessing. A feed token is 256
random bits from ``secrets.token_urlsafe``; nobody can guess a preimage of its SHA-256,
with or without a slow hash, and a slow hash would only make every feed request (and
every wrong guess) expensive for the server.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from .atomic import held, write_atomically
from ..core.errors import TargetError, UsageError

TOKEN_FILE = ".kalender-sync-feeds.json"
TOKEN_BYTES = 32                 # 256 bits; token_urlsafe(32) gives 43 characters
MIN_TOKEN_CHARS = 22             # 22 url-safe characters = 132 bits: never accept less
MAX_TOKEN_CHARS = 128
TOKEN_RE = re.compile(rf"[A-Za-z0-9_-]{{{MIN_TOKEN_CHARS},{MAX_TOKEN_CHARS}}}")
FILE_VERSION = 1
# Compared against when the person has no token, so an unknown person costs the same work
# as a wrong token (the answer is the same 404 either way).
_NO_TOKEN = hashlib.sha256(b"kalender-sync: no token for this person").hexdigest()


class FeedTokenError(TargetError):
    """The token file cannot be read or written."""


def default_path(config_path: Path) -> Path:
    return config_path.parent / TOKEN_FILE


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: str) -> bool:
    return TOKEN_RE.fullmatch(token) is not None


# Addresses a server listens on to be reached on every interface: no client can open a link to
# them, so a link names this machine instead.
_ANY_ADDRESS = ("0.0.0.0", "::", "")


def base_url(feed, host: str | None = None, port: int | None = None) -> str:
    """Where the feeds are reached: feed.base_url, else http://HOST:PORT of the server.

    `host`/`port`: what `serve --host/--port` is (or will be) started with, over feed.listen.
    """
    if feed.base_url:
        return feed.base_url.rstrip("/")
    host = feed.host if host is None else host
    port = feed.port if port is None else port
    if host in _ANY_ADDRESS:
        host = socket.gethostname() or "localhost"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"


def feed_url(base: str, person: str, token: str) -> str:
    return f"{base.rstrip('/')}/feed/{quote(person, safe='')}/{token}.ics"


def webcal_url(url: str) -> str:
    """The same URL with the webcal:// scheme (calendar apps open it as a subscription)."""
    return "webcal://" + url.split("://", 1)[1]


@dataclass(frozen=True)
class TokenRecord:
    person: str
    sha256: str
    created: str                 # ISO 8601 UTC; when the token was made (not secret)


def page_generation(record: "TokenRecord") -> str:
    """What a personal-page link names of the person's feed token (core.links.page_token): a
    prefix of its hash, so a new or revoked feed link ends the page link too."""
    return record.sha256[:16]


@dataclass(frozen=True)
class _Contents:
    tokens: dict[str, TokenRecord]
    # person -> when their link was revoked (ISO 8601 UTC), while they have no new one: so
    # `feeds` can say "revoked" rather than "no link yet", and `rotate --missing` does not
    # quietly give back a link someone took away.
    revoked: dict[str, str]


def _utc_text(now: datetime | None) -> str:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(data: bytes, path: Path) -> _Contents:
    def broken(why: str) -> FeedTokenError:
        return FeedTokenError(f"the feed token file {path} is damaged ({why}); move it away and run "
                              "`kalender-sync feed-token rotate --all` to give everyone a new link")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise broken(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("version") != FILE_VERSION or not isinstance(doc.get("tokens"), dict):
        raise broken(f"expected an object with version {FILE_VERSION} and tokens")
    result = {}
    for person, entry in doc["tokens"].items():
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise broken(f"no valid sha256 for {person!r}")
        result[person] = TokenRecord(person, digest, str(entry.get("created", "")))
    # Written since revocations are remembered; a file without it is one from before.
    revoked = doc.get("revoked", {})
    if not isinstance(revoked, dict) or not all(isinstance(v, str) for v in revoked.values()):
        raise broken("revoked is not an object of person -> time")
    return _Contents(result, {p: t for p, t in revoked.items() if p not in result})


def _serialize(contents: _Contents) -> bytes:
    doc = {
        "version": FILE_VERSION,
        "comment": "kalender-sync feed tokens: SHA-256 hashes only; the links cannot be recovered "
                   "from this file. New link: kalender-sync feed-token rotate PERSON",
        "tokens": {p: {"sha256": r.sha256, "created": r.created} for p, r in sorted(contents.tokens.items())},
    }
    if contents.revoked:
        doc["revoked"] = dict(sorted(contents.revoked.items()))
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_private(path: Path, data: bytes) -> None:
    """Atomically replace `path` with a file only its owner can read (mode 0600)."""
    try:
        write_atomically(path, data, mode=0o600)
    except OSError as exc:
        raise FeedTokenError(f"cannot write the feed token file {path}: {exc.strerror}") from exc


def _locked(path: Path):
    """Serialize read-modify-write of the token file between concurrent commands: a lock on the
    folder that holds it (the file itself is replaced on every write, so it cannot carry the
    lock, and a lock file would be one more file next to the config)."""
    return held(path.parent, lambda exc: FeedTokenError(
        f"cannot open the folder of the feed token file {path}: {exc.strerror}"), folder=True)


class TokenStore:
    """The token file. Reads are cached and redone when the file changes on disk, so a running
    server sees a rotation at once; writes are atomic and locked."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._cache_key: tuple | None = None
        self._cache = _Contents({}, {})
        self._lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------------
    def _stat_key(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise FeedTokenError(f"cannot read the feed token file {self.path}: {exc.strerror}") from exc
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def _contents(self) -> _Contents:
        with self._lock:
            key = self._stat_key()
            if key is None:
                self._cache_key, self._cache = None, _Contents({}, {})
            elif key != self._cache_key:
                try:
                    data = self.path.read_bytes()
                except FileNotFoundError:
                    self._cache_key, self._cache = None, _Contents({}, {})
                    return self._cache
                except OSError as exc:
                    raise FeedTokenError(f"cannot read the feed token file {self.path}: {exc.strerror}") from exc
                self._cache = _parse(data, self.path)
                self._cache_key = key
            return self._cache

    def records(self) -> dict[str, TokenRecord]:
        """Every person's token record; {} when there is no file yet. Raises FeedTokenError
        when the file is damaged (the server then serves no feed at all: it fails closed)."""
        return dict(self._contents().tokens)

    def revoked(self) -> dict[str, str]:
        """person -> when their link was revoked, for people who have had no new link since."""
        return dict(self._contents().revoked)

    def verify(self, person: str, token: str) -> bool:
        """True if `token` is `person`'s current token. Constant time in the token: the hash
        of what was sent is compared with hmac.compare_digest, also for an unknown person."""
        record = self.records().get(person)
        expected = record.sha256 if record is not None else _NO_TOKEN
        presented = hash_token(token) if well_formed(token) else hash_token("")
        same = hmac.compare_digest(presented.encode("ascii"), expected.encode("ascii"))
        return same and record is not None and well_formed(token)

    # -- writing -----------------------------------------------------------------------------
    def rotate(self, people: list[str], now: datetime | None = None) -> dict[str, str]:
        """New tokens for these people (the old ones stop working). Returns person -> raw token:
        the only time the raw tokens exist outside the subscribers' calendar apps."""
        if not people:
            raise UsageError("name a person, or use --all")
        created = _utc_text(now)
        tokens = {person: new_token() for person in people}
        with _locked(self.path):
            current = self._read_for_update()
            for person, token in tokens.items():
                current.tokens[person] = TokenRecord(person, hash_token(token), created)
                current.revoked.pop(person, None)
            _write_private(self.path, _serialize(current))
        return tokens

    def revoke(self, people: list[str], now: datetime | None = None) -> list[str]:
        """End these people's links (no new link); the file remembers when. Returns who had one."""
        revoked = _utc_text(now)
        with _locked(self.path):
            current = self._read_for_update()
            removed = [p for p in people if p in current.tokens]
            for person in removed:
                del current.tokens[person]
                current.revoked[person] = revoked
            if removed:
                _write_private(self.path, _serialize(current))
        return removed

    def _read_for_update(self) -> _Contents:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return _Contents({}, {})
        except OSError as exc:
            raise FeedTokenError(f"cannot read the feed token file {self.path}: {exc.strerror}") from exc
        return _parse(data, self.path)
