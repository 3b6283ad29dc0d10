"""Subscribable ICS feeds: one per person, at a secret URL, as a plain WSGI application.

    GET /feed/{person}/{token}.ics   the person's planned events (METHOD:PUBLISH)
    GET /healthz                     JSON for monitoring; 503 while the config does not load

The app re-reads the config and contact log when their files change and re-plans when the
day changes, so edits need no restart; a config that stops loading leaves the last good
plan in service (and /healthz says so). Tokens are checked against hashes in the token
file (kalender_sync.feedtokens), which is re-read when it changes, so a rotation takes
effect at once.

Anything that could carry a token never reaches a log: the access log shows the path with
the token replaced by '***', and the same redaction is applied to the WSGI server's own log
lines (waitress names the request path when a client disconnects). Wrong or unknown links
all get one and the same 404, and are logged at most once a minute per client address.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path


from ..core.errors import KalenderSyncError, TargetError
from ..engine.feeds import FeedPlans
from ..storage.feedtokens import TokenStore

log = logging.getLogger("kalender_sync.feed")
access_log = logging.getLogger("kalender_sync.feed.access")

CONTENT_TYPE = "text/calendar; charset=utf-8"
# How long a browser or calendar app may reuse a feed without asking. Calendar apps poll
# far less often anyway (Google 8-24 h, Outlook ~3 h: field notes 1); a short max-age keeps
# manual reloads honest after a config edit. "private": no shared cache may keep a
# response to a secret URL.
CACHE_SECONDS = 300
NOT_FOUND_WINDOW = 60.0           # at most one "not found" log line per client per minute
_MAX_TRACKED_CLIENTS = 10_000

_FEED_PATH = re.compile(r"/feed/([^/]+)/([^/]+)\.ics")
# Redaction: the segment after /feed/{person}/ (what a token sits in), any long url-safe
# run (a token pasted into some other path) and every query string.
_REDACT_FEED = re.compile(r"(/feed/[^/\s\"']*/)[^\s\"'?]*")
# The web pages' tokens: a done link's or a personal page's, with whatever follows it.
_REDACT_PAGES = re.compile(r"(/(?:done|me)/)[^\s\"'?]*")
_REDACT_LONG = re.compile(r"[A-Za-z0-9_-]{32,}")
_REDACT_QUERY = re.compile(r"\?[^\s\"']*")


def redact(text: str) -> str:
    """`text` with anything that may be a feed token replaced by '***'."""
    text = _REDACT_FEED.sub(r"\1***", text)
    text = _REDACT_PAGES.sub(r"\1***", text)
    text = _REDACT_QUERY.sub("?***", text)
    return _REDACT_LONG.sub("***", text)


class RedactingFilter(logging.Filter):
    """Applies `redact` to every record it sees (put it on the handlers of the server log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # tracebacks are formatted later by the handler; format (and redact) them here
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class NotFoundLimiter:
    """Logs 404s (wrong, rotated or unknown links; unknown paths) at most once per `window`
    seconds per client address, with a count of the requests since the previous line."""

    def __init__(self, logger: logging.Logger = log, window: float = NOT_FOUND_WINDOW,
                 clock=time.monotonic, max_clients: int = _MAX_TRACKED_CLIENTS):
        self.logger, self.window, self.clock, self.max_clients = logger, window, clock, max_clients
        self._clients: dict[str, list] = {}       # ip -> [time of the last line, requests since]
        self._lock = threading.Lock()

    def record(self, client: str, method: str, path: str) -> None:
        now = self.clock()
        with self._lock:
            entry = self._clients.get(client)
            if entry is not None and now - entry[0] < self.window:
                entry[1] += 1
                return
            count = 1 + (entry[1] if entry else 0)
            self._clients[client] = [now, 0]
            if len(self._clients) > self.max_clients:
                self._prune(now)
        self.logger.warning("not found for %s: %d request(s) since the last report (a wrong, rotated or "
                            "unknown feed link, or an unknown path); last: %s %s",
                            client, count, method, redact(path))

    def _prune(self, now: float) -> None:
        expired = [ip for ip, (at, _) in self._clients.items() if now - at >= self.window]
        dropped = sum(self._clients.pop(ip)[1] for ip in expired)
        if len(self._clients) > self.max_clients:        # a flood from very many addresses
            dropped += sum(n for _, n in self._clients.values())
            self._clients.clear()
        if dropped:
            self.logger.warning("not found: %d more request(s) from clients no longer tracked", dropped)


@dataclass
class Rendered:
    body: bytes
    etag: str                 # strong, quoted
    modified: int             # unix seconds: when this process first served these bytes


class FeedPublisher:
    """The feeds as published: per person the body served, its strong ETag, and since when.

    Last-Modified stays the moment a body was first published, as long as the same bytes
    are published again (a reload that changes nothing moves no validator).
    """

    def __init__(self, wall_clock=time.time):
        self.wall_clock = wall_clock
        self._published: dict[str, Rendered] = {}
        self._lock = threading.Lock()

    def describe(self) -> str:
        return "feeds"

    def publish(self, person: str, body: bytes, now: float | None = None) -> Rendered:
        """`now`: the moment of the response that serves it (its Date), so Last-Modified is never later."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
        with self._lock:
            previous = self._published.get(person)
            if previous is not None and previous.etag == etag:
                return previous
            moment = self.wall_clock() if now is None else now
            rendered = self._published[person] = Rendered(body, etag, int(moment))
            return rendered

    def close(self) -> None:
        pass


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored."""
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


def _not_modified_since(header: str, modified: int, now: float) -> bool:
    try:
        since = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    # HTTP dates have whole seconds: bytes first served in the current second may still
    # change within that second, so only a version from an earlier second counts.
    return modified <= since and modified < int(now)


_NOT_FOUND = b"not found\n"
_SAFE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


class FeedApp:
    """The WSGI application. It never raises (an exception in waitress would be logged with
    the request path, i.e. the token); any internal error becomes a logged, redacted 500."""

    def __init__(self, config_path: Path, tokens: TokenStore, today: date | None = None,
                 wall_clock=time.time, limiter: NotFoundLimiter | None = None):
        self.plans = FeedPlans(config_path, today, wall_clock)
        self.published = FeedPublisher(wall_clock)
        self.tokens = tokens
        self.wall_clock = wall_clock
        self.limiter = limiter or NotFoundLimiter()
        self.started_at = datetime.fromtimestamp(wall_clock(), timezone.utc)
        self._token_error: str | None = None

    def __call__(self, environ, start_response):
        began = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET").upper()
        raw_path = environ.get("PATH_INFO", "") or "/"
        try:
            path = raw_path.encode("latin-1").decode("utf-8")   # PEP 3333: bytes as latin-1
        except (UnicodeEncodeError, UnicodeDecodeError):
            path = raw_path
        client = environ.get("REMOTE_ADDR", "-")
        try:
            status, headers, body = self._handle(method, path, environ)
        except Exception:                            # noqa: BLE001 - see the class docstring
            log.error("internal error serving %s %s", method, redact(path), exc_info=True)
            status, headers, body = "500 Internal Server Error", [("Content-Type", "text/plain")], b"internal error\n"
        if not any(name == "Content-Length" for name, _ in headers) and not status.startswith("304"):
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        if status.startswith("404"):
            self.limiter.record(client, method, path)
        else:
            access_log.info('%s "%s %s" %s %d %.1fms "%s"', client, method, redact(path), status[:3],
                            0 if method == "HEAD" else len(body), (time.perf_counter() - began) * 1000,
                            redact(environ.get("HTTP_USER_AGENT", "-")[:120]))
        return [] if method == "HEAD" or status.startswith("304") else [body]

    def _handle(self, method: str, path: str, environ) -> tuple[str, list, bytes]:
        if method not in ("GET", "HEAD"):
            # decided before looking at the path, so it says nothing about a token
            return "405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Type", "text/plain")], \
                b"method not allowed\n"
        if path == "/healthz":
            return self._health()
        match = _FEED_PATH.fullmatch(path)
        if match is None:
            return self._not_found()
        person, token = match.groups()
        # One answer for an unknown person, a wrong, rotated or malformed token, and a person
        # who left the team: the same 404, so a guesser learns nothing about which part is wrong.
        try:
            valid = self.tokens.verify(person, token)
        except KalenderSyncError as exc:
            # A damaged token file: serve no feed at all (fail closed), the same answer for
            # every link, and say why once (not on every request).
            message = exc.args[0] if exc.args else str(exc)
            if message != self._token_error:
                log.error("%s", message)
                self._token_error = message
            return "503 Service Unavailable", [("Content-Type", "text/plain"), ("Cache-Control", "no-store"),
                                               ("Retry-After", "300")], b"feeds temporarily unavailable\n"
        if self._token_error is not None:
            log.info("the feed token file is readable again")
            self._token_error = None
        if not valid:
            return self._not_found()
        body = self.plans.feed(person)
        if body is None:
            return self._not_found()
        # One clock reading, taken after the body was made, for both Date and a new
        # Last-Modified: RFC 9110 §8.8.2.1 forbids a Last-Modified later than Date, and the
        # WSGI server's own Date is stamped when the request came in, before the plan was made.
        now = self.wall_clock()
        rendered = self.published.publish(person, body, now)
        headers = [
            ("Date", formatdate(now, usegmt=True)),
            ("ETag", rendered.etag),
            ("Last-Modified", formatdate(min(rendered.modified, int(now)), usegmt=True)),
            ("Cache-Control", f"private, max-age={CACHE_SECONDS}"),
        ]
        inm = environ.get("HTTP_IF_NONE_MATCH")
        ims = environ.get("HTTP_IF_MODIFIED_SINCE")
        if (inm is not None and _etag_matches(inm, rendered.etag)) or (
                inm is None and ims is not None and _not_modified_since(ims, rendered.modified, now)):
            return "304 Not Modified", headers, b""
        name = person if _SAFE_NAME.fullmatch(person) else "feed"
        headers += [
            ("Content-Type", CONTENT_TYPE),
            ("Content-Length", str(len(rendered.body))),
            ("Content-Disposition", f'inline; filename="{name}.ics"'),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        ]
        return "200 OK", headers, rendered.body

    def _not_found(self) -> tuple[str, list, bytes]:
        return "404 Not Found", [("Content-Type", "text/plain"), ("Cache-Control", "no-store")], _NOT_FOUND

    def _health(self) -> tuple[str, list, bytes]:
        doc = self.plans.health()
        try:
            records = self.tokens.records()
            doc["tokens_ok"] = True
            doc["feeds"] = len(records)
        except KalenderSyncError as exc:
            doc["tokens_ok"] = False
            doc["status"] = "error"
            doc.setdefault("error", exc.args[0] if exc.args else str(exc))
        doc["started_at"] = self.started_at.isoformat(timespec="seconds")
        status = "200 OK" if doc["status"] == "ok" else "503 Service Unavailable"
        body = (json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8")
        return status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body


def create_server(app, host: str, port: int, threads: int = 4, trusted_proxy: str | None = None):
    """A waitress server bound to host:port (not yet serving). Raises TargetError if it cannot listen."""
    import waitress

    options = dict(host=host, port=port, threads=threads, ident="kalender-sync",
                   expose_tracebacks=False)
    if trusted_proxy:
        # Behind a reverse proxy (the https:// base_url), take the client address from it, so
        # the not-found log names the real client.
        options.update(trusted_proxy=trusted_proxy, trusted_proxy_count=1,
                       trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
                       clear_untrusted_proxy_headers=True)
    try:
        return waitress.create_server(app, **options)
    except OSError as exc:
        raise TargetError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    except ValueError as exc:                     # waitress rejects bad option values this way
        raise TargetError(f"cannot start the feed server: {exc}") from exc


def log_to_stderr() -> logging.Logger:
    """Send the server's own and waitress's log lines to stderr, every one through the redaction."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    for name in ("kalender_sync", "waitress"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return log


def run_until_stopped(server) -> None:
    """Serve until SIGTERM or Ctrl-C (waitress's run() closes the server on KeyboardInterrupt)."""
    def stop(signum, frame):
        raise KeyboardInterrupt
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
