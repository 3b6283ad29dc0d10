"""The web pages `serve` runs beside the feeds: done links, the personal page, the coach dashboard.

    GET  /done/{token}            the contact of one reminder: a form (date, next date, note;
    POST /done/{token}            or "not now, remind me on ..."); the POST logs it, with undo
    GET  /me/{token}              a person's agreements, who is due, "log a contact I had"
    GET  /me/{token}/log/{id}     the same form for any agreement; POST logs it
    GET  /login, POST /login      the coach's login (password hash from the environment/keyring)
    GET  /team                    the coach's dashboard: the report's figures and chart
    GET  /team/person/{id}        what that person sees on their own page

GET and HEAD never change anything (mail scanners and link previewers open every link first:
../shared/reference/free-busy.md); only a form's POST acts, with a CSRF token (a signed
double-submit: a random cookie, and the same value signed into the form with the page's
path). Every bad, tampered, expired or foreign token gets one and the same 404; too many from
one client in a minute get 429. Tokens never reach a log (targets.feed.redact covers these
paths). Pages are Jinja2 templates with autoescape, under a strict Content-Security-Policy, and
work without JavaScript (there is none).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import itsdangerous
from flask import Flask, Response, redirect, request, session
from markupsafe import Markup

from ..core.errors import KalenderSyncError
from ..core.links import DoneLinks, DoneToken
from ..core.model import ContactAgreement, Snooze, Team
from ..core.planning import contact_status
from ..core.texts import day_text, interval_text
from .templating import environment
from .words import WORDS

log = logging.getLogger("kalender_sync.web")

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
NOTE_MAX = 1000                  # characters; a note is a line or two, not a report
FORM_MAX_BYTES = 64 * 1024       # a request body beyond this is refused before it is parsed
CSRF_COOKIE = "ks_csrf"
CSRF_SECONDS = 12 * 3600         # a form left open over a working day still posts
UNDO_SECONDS = 7 * 24 * 3600
BAD_TOKENS_PER_MINUTE = 20       # per client; then 429 for every token page until the minute is over
LOGINS_PER_FIVE_MINUTES = 5      # failed coach logins per client
COACH_HASH_ENV = "KALENDER_SYNC_COACH_PASSWORD_HASH"
COACH_KEYRING_ENV = "KALENDER_SYNC_COACH_KEYRING"


class Flood:
    """Counts failures per client in a sliding window; `blocked` once there were `most`."""

    def __init__(self, most: int, window: float, clock=time.monotonic, max_clients: int = 10_000):
        self.most, self.window, self.clock, self.max_clients = most, window, clock, max_clients
        self._seen: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque:
        times = self._seen.get(client)
        if times is None:
            if len(self._seen) >= self.max_clients:
                self._seen.clear()          # a flood from very many addresses: start again
            times = self._seen[client] = deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def blocked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client, self.clock())) >= self.most

    def failed(self, client: str) -> None:
        with self._lock:
            now = self.clock()
            self._recent(client, now).append(now)


def coach_password_hash() -> str | None:
    """The coach's password hash (werkzeug.security format), from the environment or keyring."""
    value = os.environ.get(COACH_HASH_ENV)
    if value:
        return value.strip()
    service = os.environ.get(COACH_KEYRING_ENV)
    if service:
        from ..storage.credentials import secret
        return secret("the coach's password hash", None, service, "coach")
    return None


@dataclass(frozen=True)
class Context:
    """One request's view: the team as loaded, the plan's day and the events of the plan."""
    team: Team
    today: date
    plan: object


class _Flask(Flask):
    def log_exception(self, exc_info) -> None:
        # Flask's own line names request.path: the token. Say only which kind of page it was.
        from ..targets.feed import redact
        log.error("internal error on %s %s", request.method, redact(request.path), exc_info=exc_info)


def create_app(plans, tokens, key: bytes, *, coach_hash=coach_password_hash, secure_cookies: bool = False,
               wall_clock=time.time, clock=time.monotonic) -> Flask:
    """The Flask application. `plans`: engine.feeds.FeedPlans (the team, the log and the plan,
    reloaded when their files change); `tokens`: the feed TokenStore (the personal page's link
    ends with the feed link); `key`: the server key (storage.linkkey)."""
    app = _Flask("kalender_sync.web", static_folder=None)
    app.config.update(
        SECRET_KEY=hmac.new(key, b"kalender-sync coach session", hashlib.sha256).hexdigest(),
        SESSION_COOKIE_NAME="ks_coach", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=secure_cookies, PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=FORM_MAX_BYTES, MAX_FORM_MEMORY_SIZE=FORM_MAX_BYTES,
    )
    templates = environment()
    reader = DoneLinks("", key)
    csrf = itsdangerous.URLSafeTimedSerializer(key, salt="kalender-sync csrf",
                                               signer_kwargs={"digest_method": hashlib.sha256})
    undo_signer = itsdangerous.URLSafeTimedSerializer(key, salt="kalender-sync undo",
                                                      signer_kwargs={"digest_method": hashlib.sha256})
    bad_tokens = Flood(BAD_TOKENS_PER_MINUTE, 60.0, clock)
    bad_logins = Flood(LOGINS_PER_FIVE_MINUTES, 300.0, clock)
    config_path: Path = plans.config_path

    # -- helpers ---------------------------------------------------------------------------
    def client() -> str:
        return request.remote_addr or "-"

    def context() -> Context:
        snapshot = plans.current()
        return Context(snapshot.team, snapshot.plan.today, snapshot.plan)

    def page(name: str, status: int = 200, lang: str = "en", **values) -> Response:
        words = WORDS[lang]
        values.setdefault("csrf_token", "")
        values.setdefault("title", "kalender-sync")
        body = templates.get_template(name).render(w=words, lang=lang, **values)
        return Response(body, status=status, mimetype="text/html")

    def not_found() -> Response:
        """One answer for every link that is not ours or no longer works."""
        bad_tokens.failed(client())
        return page("notfound.html", 404)

    def csrf_token(path: str | None = None) -> str:
        """For a form that posts to `path` (default: the page's own address)."""
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if not (16 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum()):
            nonce = secrets.token_urlsafe(24)
        request.environ["kalender_sync.csrf"] = nonce
        return csrf.dumps([nonce, path or request.path])

    def csrf_ok() -> bool:
        nonce = request.cookies.get(CSRF_COOKIE, "")
        try:
            sent_nonce, path = csrf.loads(request.form.get("csrf", ""), max_age=CSRF_SECONDS)
        except (itsdangerous.BadData, ValueError, TypeError):
            return False
        return bool(nonce) and hmac.compare_digest(str(sent_nonce), nonce) and path == request.path

    def csrf_refused(lang: str) -> Response:
        return page("message.html", 400, lang, title=WORDS[lang]["err_csrf"], message="", back=request.path)

    @app.after_request
    def headers(response: Response) -> Response:
        nonce = request.environ.get("kalender_sync.csrf")
        if nonce and request.cookies.get(CSRF_COOKIE) != nonce:
            response.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="Strict", secure=secure_cookies,
                                max_age=CSRF_SECONDS)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        # The page's address holds a secret token: never hand it on, never keep it in a cache.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(404)
    def unknown_path(_error):
        return page("notfound.html", 404)

    @app.errorhandler(405)
    def wrong_method(_error):
        return page("notfound.html", 405)

    @app.errorhandler(413)
    def too_large(_error):
        return page("message.html", 413, title="413", message="", back=None)

    @app.errorhandler(500)
    def internal(_error):
        return page("message.html", 500, title="500", message="", back=None)

    @app.route("/static/site.css")
    def stylesheet():
        body = templates.get_template("site.css").render()
        response = Response(body, mimetype="text/css")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    # -- what a page shows about one agreement -----------------------------------------------
    def agreement_of(team: Team, person: str, agreement_id: str) -> ContactAgreement | None:
        return next((a for a in team.contacts if a.owner == person and a.id == agreement_id), None)

    def next_reminder(ctx: Context, agreement: ContactAgreement):
        prefix = f"contact/{agreement.owner}/{agreement.id}/"
        upcoming = sorted((e for e in ctx.plan.events if e.person == agreement.owner and e.kind == "contact"
                           and e.key.startswith(prefix) and e.start.date() >= ctx.today), key=lambda e: e.start)
        return upcoming[0].start if upcoming else None

    def when_text(moment, lang: str) -> str:
        return f"{day_text(moment.date(), lang)} {moment.strftime('%H:%M')}"

    def describe(ctx: Context, agreement: ContactAgreement, lang: str) -> dict:
        status = contact_status(ctx.team, agreement)
        who = agreement.contact + (f", {agreement.role}" if agreement.role else "") + (
            f" ({agreement.organisation})" if agreement.organisation else "")
        snoozed = [s for s in ctx.team.snoozes if s.owner == agreement.owner and s.agreement == agreement.id]
        words = WORDS[lang]
        if status.never_contacted:
            state, late = words["open"], False
        elif snoozed and status.due == max(snoozed, key=lambda s: s.line).until and status.due >= ctx.today:
            state, late = words["snoozed_until"].format(day=day_text(status.due, lang)), False
        elif status.due < ctx.today:
            state, late = words["overdue"].format(day=day_text(status.due, lang)), True
        else:
            state, late = words["due_on"].format(day=day_text(status.due, lang)), False
        upcoming = next_reminder(ctx, agreement)
        return {
            "id": agreement.id, "contact": agreement.contact, "who": who,
            "every": interval_text(agreement.every, lang),
            "last": day_text(status.last, lang) if status.last else None,
            "due": day_text(status.due, lang), "state": state, "late": late,
            "next": when_text(upcoming, lang) if upcoming else None,
        }

    def outcome(ctx: Context, agreement: ContactAgreement, lang: str, done, undo_for: str) -> dict:
        """What the confirmation shows, from the team as it is after the write."""
        team = done.team
        after = Context(team, ctx.today, plan_after(team, ctx.today))
        upcoming = next_reminder(after, agreement)
        words = WORDS[lang]
        entry = done.entry
        if isinstance(entry, Snooze):
            lines = [words["snoozed"].format(contact=agreement.contact, day=day_text(entry.until, lang))]
        else:
            lines = [words["logged"].format(contact=agreement.contact, day=day_text(entry.on, lang))]
            if entry.next:
                lines.append(words["logged_next"].format(day=day_text(entry.next, lang)))
        if done.already:
            lines.insert(0, words["already"])
        lines.append(words["next_reminder"].format(when=when_text(upcoming, lang)) if upcoming else
                     words["no_next_reminder"].format(day=day_text(after.plan.until, lang)))
        return {"lines": lines, "undo": undo_signer.dumps([agreement.owner, undo_for, done.line])}

    def plan_after(team: Team, today: date):
        from ..core.history import calendar_plan
        return calendar_plan(team, today)

    # -- the form ----------------------------------------------------------------------------
    def read_form(today: date, lang: str, snooze: bool):
        """(values, problems): the form's fields checked; nothing is written on any problem."""
        words = WORDS[lang]
        problems, values = [], {}

        def day(name: str, required: bool) -> date | None:
            text = request.form.get(name, "").strip()
            values[name] = text
            if not text:
                if required:
                    problems.append(words["err_on"])
                return None
            try:
                return date.fromisoformat(text)
            except ValueError:
                problems.append(words["err_date"].format(value=text[:40]))
                return None

        note = request.form.get("note", "")
        values["note"] = note
        if len(note) > NOTE_MAX:
            problems.append(words["err_note"].format(length=len(note), most=NOTE_MAX))
            values["note"] = note[:NOTE_MAX]
        if snooze:
            until = day("until", True)
            if until is not None and until <= today:
                problems.append(words["err_snooze"])
            elif until is not None and until > today + timedelta(days=366):
                problems.append(words["err_snooze_far"])
            return values, problems, {"until": until, "note": note.strip() or None}
        on = day("on", True)
        next_day = day("next", False)
        if on is not None and on > today:
            problems.append(words["err_future"].format(day=day_text(on, lang)))
        if on is not None and next_day is not None and next_day <= on:
            problems.append(words["err_next"].format(day=day_text(on, lang)))
        return values, problems, {"on": on, "next": next_day, "note": note.strip() or None}

    def form_page(ctx, agreement, lang, *, status=200, values=None, problems=(), token=None,
                  done=None, message=None, snooze=True, view_only=False):
        info = describe(ctx, agreement, lang)
        return page("done.html", status, lang, a=info, token=token, today=ctx.today.isoformat(),
                    values=values or {"on": ctx.today.isoformat(), "next": "", "note": "", "until": ""},
                    problems=list(problems), done=done, message=message, snooze=snooze,
                    csrf_token="" if view_only else csrf_token(),
                    title=WORDS[lang]["done_title"].format(contact=agreement.contact))

    def act(ctx: Context, agreement: ContactAgreement, lang: str, answered: date | None, allow_snooze: bool,
            extra: dict) -> Response:
        """The POST of a form: check the CSRF token and the fields, then write (or undo)."""
        if not csrf_ok():
            return csrf_refused(lang)
        action = request.form.get("action", "log")
        from ..features import logbook
        if action == "undo":
            try:
                owner, where, line = undo_signer.loads(request.form.get("undo", ""), max_age=UNDO_SECONDS)
            except (itsdangerous.BadData, ValueError, TypeError):
                return csrf_refused(lang)
            if owner != agreement.owner or where != request.path:
                return csrf_refused(lang)
            words = WORDS[lang]
            try:
                removed = logbook.remove_line(config_path, ctx.team, line, ctx.today)
            except KalenderSyncError as exc:
                log.error("nothing was undone for %s: %s", agreement.owner, exc)
                return page("message.html", 409, lang, title=str(exc.args[0] if exc.args else exc), message="",
                            back=request.path)
            return page("message.html", 200, lang, title=words["undone"] if removed else words["undo_gone"],
                        message=words["feeds_note"], back=request.path)
        snooze = action == "snooze" and allow_snooze
        values, problems, fields = read_form(ctx.today, lang, snooze)
        if problems:
            merged = {"on": ctx.today.isoformat(), "next": "", "note": "", "until": ""} | values
            return form_page(ctx, agreement, lang, status=400, values=merged, problems=problems,
                             snooze=allow_snooze, **extra)
        try:
            if snooze:
                done = logbook.append_snooze(config_path, ctx.team, agreement.owner, agreement.id, fields["until"],
                                             today=ctx.today, answered=answered, note=fields["note"], once=True)
            else:
                done = logbook.append_contact(config_path, ctx.team, agreement.owner, agreement.id, fields["on"],
                                              fields["next"], fields["note"], today=ctx.today, answered=answered,
                                              once=True)
        except KalenderSyncError as exc:
            log.error("nothing was logged for %s: %s", agreement.owner, exc)
            merged = {"on": ctx.today.isoformat(), "next": "", "note": "", "until": ""} | values
            return form_page(ctx, agreement, lang, status=409, values=merged,
                             problems=[str(exc.args[0] if exc.args else exc)], snooze=allow_snooze, **extra)
        if not done.already:
            log.info("logged from the web for %s: %s", agreement.owner, done.line)
        return page("done_result.html", 200, lang, result=outcome(ctx, agreement, lang, done, request.path),
                    csrf_token=csrf_token(), back=request.path, feeds_note=WORDS[lang]["feeds_note"],
                    title=WORDS[lang]["done_title"].format(contact=agreement.contact))

    # -- done links ----------------------------------------------------------------------------
    def done_target(token: str):
        ctx = context()
        found: DoneToken | None = reader.read_done(token, ctx.today)
        if found is None or found.person not in ctx.team.people:
            return ctx, None, None
        return ctx, found, agreement_of(ctx.team, found.person, found.agreement)

    @app.route("/done/<token>", methods=["GET", "POST"])
    def done_link(token: str):
        if bad_tokens.blocked(client()):
            return page("message.html", 429, title=WORDS["en"]["err_rate"], message=WORDS["nl"]["err_rate"],
                        back=None)
        ctx, found, agreement = done_target(token)
        if agreement is None:
            return not_found()
        lang = ctx.team.people[found.person].language
        words = WORDS[lang]
        extra = {"token": {"back": None, "reminder": words["reminder_of"].format(
            day=day_text(found.occurrence, lang), expires=day_text(found.expires, lang))}}
        if request.method == "POST":
            return act(ctx, agreement, lang, found.occurrence, True, extra)
        from ..features.logbook import answered_before
        earlier = answered_before(config_path, ctx.team, found.person, found.agreement, found.occurrence, ctx.today)
        done = outcome(ctx, agreement, lang, earlier, request.path) if earlier is not None else None
        return form_page(ctx, agreement, lang, done=done, **extra)

    # -- the personal page -------------------------------------------------------------------
    def page_owner(token: str, ctx: Context) -> str | None:
        found = reader.read_page(token)
        if found is None:
            return None
        person, generation = found
        try:
            record = tokens.records().get(person)
        except KalenderSyncError:
            return None
        from ..storage.feedtokens import page_generation
        if record is None or person not in ctx.team.people or not hmac.compare_digest(
                page_generation(record).encode(), generation.encode()):
            return None
        return person

    def personal(ctx: Context, person: str, base: str | None, view_only: bool) -> Response:
        who = ctx.team.people[person]
        lang = who.language
        rows = [describe(ctx, a, lang) for a in ctx.team.contacts if a.owner == person]
        return page("me.html", 200, lang, person=who.name, rows=rows, base=base, view_only=view_only,
                    title=WORDS[lang]["me_title"].format(name=who.name))

    @app.route("/me/<token>")
    def me(token: str):
        if bad_tokens.blocked(client()):
            return page("message.html", 429, title=WORDS["en"]["err_rate"], message=WORDS["nl"]["err_rate"],
                        back=None)
        ctx = context()
        person = page_owner(token, ctx)
        if person is None:
            return not_found()
        return personal(ctx, person, f"/me/{token}", False)

    @app.route("/me/<token>/log/<agreement_id>", methods=["GET", "POST"])
    def me_log(token: str, agreement_id: str):
        if bad_tokens.blocked(client()):
            return page("message.html", 429, title=WORDS["en"]["err_rate"], message=WORDS["nl"]["err_rate"],
                        back=None)
        ctx = context()
        person = page_owner(token, ctx)
        agreement = agreement_of(ctx.team, person, agreement_id) if person else None
        if agreement is None:
            return not_found()
        lang = ctx.team.people[person].language
        extra = {"token": {"reminder": None, "back": f"/me/{token}"}}
        if request.method == "POST":
            return act(ctx, agreement, lang, None, False, extra)
        return form_page(ctx, agreement, lang, snooze=False, **extra)

    # -- the coach ---------------------------------------------------------------------------
    def coach() -> bool:
        return session.get("coach") is True and wall_clock() - session.get("since", 0) < 12 * 3600

    @app.route("/login", methods=["GET", "POST"])
    def login():
        ctx = context()
        lang = ctx.team.language
        words = WORDS[lang]
        expected = coach_hash()
        if expected is None:
            return page("login.html", 503, lang, off=True, problem=None, csrf_token="", title=words["login_title"])
        if request.method == "GET":
            return page("login.html", 200, lang, off=False, problem=None, csrf_token=csrf_token(),
                        title=words["login_title"])
        if bad_logins.blocked(client()):
            return page("message.html", 429, lang, title=words["err_rate"], message="", back=None)
        if not csrf_ok():
            return csrf_refused(lang)
        from werkzeug.security import check_password_hash
        password = request.form.get("password", "")
        try:
            right = check_password_hash(expected, password)
        except (ValueError, TypeError):
            log.error("the coach's password hash (%s) is not a werkzeug hash: make one with "
                      "`kalender-sync coach-password`", COACH_HASH_ENV)
            right = False
        if not right:
            bad_logins.failed(client())
            log.warning("failed coach login from %s", client())
            return page("login.html", 401, lang, off=False, problem=words["login_wrong"], csrf_token=csrf_token(),
                        title=words["login_title"])
        session.clear()
        session["coach"], session["since"] = True, wall_clock()
        session.permanent = True
        return redirect("/team", code=303)

    @app.route("/logout", methods=["POST"])
    def logout():
        if not csrf_ok():
            return csrf_refused(context().team.language)
        session.clear()
        return redirect("/login", code=303)

    @app.route("/team")
    def team_page():
        if not coach():
            return redirect("/login", code=303)
        ctx = context()
        from ..features.report import COLUMNS, build_report, figure_cells, render_svg, texts
        report = build_report(ctx.team, ctx.today)
        lang = report.language
        t = texts(report)
        people = [{"id": p.id, "name": p.name, "cells": figure_cells(p, lang)} for p in report.people]
        total = report.total
        percent = report.percent
        # render_svg builds its markup with autoescape (web/templates/chart.svg): safe to embed.
        chart = Markup(render_svg(report.months, lang=lang))
        return page("team.html", 200, lang, title=WORDS[lang]["team_title"].format(team=ctx.team.name),
                    headers=[t[c] for c in ("person",) + COLUMNS], people=people,
                    total=figure_cells(total, lang), total_label=t["team_total"], chart=chart,
                    done=total.done, target=round(report.period_target, 1),
                    percent=min(100.0, percent or 0.0), percent_text=f"{percent or 0:.0f}%",
                    overdue=[{"contact": o.contact, "person": o.person, "due": day_text(o.due, lang), "days": o.days}
                             for o in total.overdue],
                    t=t, csrf_token=csrf_token("/logout"), today=day_text(ctx.today, lang))

    @app.route("/team/person/<person>")
    def team_person(person: str):
        if not coach():
            return redirect("/login", code=303)
        ctx = context()
        if person not in ctx.team.people:
            return page("notfound.html", 404)
        return personal(ctx, person, None, True)

    return app


_PAGES = frozenset({"/login", "/logout", "/team", "/static/site.css"})
_PAGE_PREFIXES = ("/done/", "/me/", "/team/")


class Site:
    """One WSGI application for `serve`: the feeds (targets.feed.FeedApp) and the web pages."""

    def __init__(self, feeds, web):
        self.feeds, self.web = feeds, web

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        # Only the pages' own paths reach the pages; every other path (the feeds, /healthz, an
        # unknown one) gets the feed server's answers, so its one 404 stays the same for all.
        if not (path in _PAGES or path.startswith(_PAGE_PREFIXES)):
            return self.feeds(environ, start_response)
        began = time.perf_counter()
        seen = {}

        def recording_start(status, headers, exc_info=None):
            seen["status"] = status
            return start_response(status, headers, exc_info)

        body = self.web(environ, recording_start)
        from ..targets.feed import access_log, redact
        client, method = environ.get("REMOTE_ADDR", "-"), environ.get("REQUEST_METHOD", "-")
        status = seen.get("status", "-")[:3]
        if status == "404":
            self.feeds.limiter.record(client, method, path)
        else:
            access_log.info('%s "%s %s" %s %.1fms', client, method, redact(path), status,
                            (time.perf_counter() - began) * 1000)
        return body
