"""iMIP invitations through a real SMTP server (aiosmtpd on 127.0.0.1, a free port).

The server captures every accepted message; the tests parse them back with the email
package and icalendar. Decided and asserted: one mail per attendee per group
occurrence (each in the attendee's own language), all with the occurrence's one UID.
"""
from __future__ import annotations

import email
import email.policy
import json
import os
import sqlite3
import subprocess
import sys
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from icalendar import Calendar

pytest.importorskip("aiosmtpd", reason="the SMTP test server: pip install aiosmtpd (test extra)")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

from kalender_sync import cli as cli_module  # noqa: E402
from kalender_sync.core.invitations import invite_uid  # noqa: E402
from kalender_sync.storage.invites import STATE_NAME  # noqa: E402
from kalender_sync.targets import network  # noqa: E402
from kalender_sync.targets.network import RetryPolicy  # noqa: E402
from support.servers import free_port  # noqa: E402

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
TODAY = "2026-11-24"
USER = "netwerkteam"
SECRET = "s3cr3t-Wachtwoord-42"         # must never show up anywhere but in the login
PASSWORD_ENV = "KS_TEST_SMTP_PASSWORD"
GROUPS = ["session/bel-uurtje/2027-01", "session/bel-uurtje/2027-04"]   # 6 months from TODAY
RECIPIENTS = {"maarten@example.nl", "jw@example.nl"}                   # sanne has no address


@dataclass
class Captured:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    raw: bytes


@dataclass
class Handler:
    """Accepts and captures messages; answers '451 try later' to the next `fail` DATA commands."""

    fail: int = 0
    drop: int = 0                       # the next `drop` DATA commands: the connection is cut instead
    messages: list[Captured] = field(default_factory=list)
    refused: int = 0
    logins: list[tuple[str, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.drop > 0:
                self.drop -= 1
                self.refused += 1
                server.transport.abort()            # like a connection reset mid-transaction
                return "421 4.3.0 gone"
            if self.fail > 0:
                self.fail -= 1
                self.refused += 1
                return "451 4.3.0 try later"
            raw = envelope.original_content or envelope.content
            self.messages.append(Captured(envelope.mail_from, list(envelope.rcpt_tos),
                                          email.message_from_bytes(raw, policy=email.policy.default), raw))
        return "250 2.0.0 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER
              and auth_data.password.decode() == SECRET)
        self.logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)   # handled=False: aiosmtpd sends the 535

    def take(self) -> list[Captured]:
        with self.lock:
            taken, self.messages = self.messages, []
        return taken


@dataclass
class SmtpServer:
    port: int
    handler: Handler


@pytest.fixture
def smtp_server():
    handler = Handler()
    port = free_port()
    with warnings.catch_warnings():     # AUTH without TLS: fine on loopback in a test
        warnings.simplefilter("ignore")
        controller = Controller(handler, hostname=HOST, port=port, authenticator=handler.authenticate,
                                auth_require_tls=False)
        controller.start()
    try:
        yield SmtpServer(port, handler)
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(network, "SMTP_RETRY", RetryPolicy(base_delay=0.0))
    monkeypatch.setenv(PASSWORD_ENV, SECRET)


def write_config(folder: Path, port: int, start: str = "14:00", session: bool = True,
                 security: str = "none", login: bool = True) -> Path:
    text = f"""\
version: 1
team: Netwerkteam
timezone: Europe/Amsterdam
language: nl
holidays: NL
horizon: 6 months
working_hours: {{days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}}
calendars:
  files: {{ics: "out/{{person}}.ics"}}
people:
  maarten: {{name: Maarten van Os, email: maarten@example.nl, calendar: files}}
  jw: {{name: Jan-Willem van den Brink, email: jw@example.nl, calendar: files, language: en}}
  sanne: {{name: Sanne Bakker, calendar: files}}
mail:
  organizer: netwerk@example.nl
  organizer_name: Netwerkteam Zuid
  smtp_host: {HOST}
  smtp_port: {port}
  security: {security}
"""
    if login:
        text += f"  username: {USER}\n  password_env: {PASSWORD_ENV}\n"
    if session:
        text += f"""\
sessions:
  - name: Bel-uurtje
    every: quarter
    participants: all
    prefer: {{weekday: thu, start: "{start}"}}
    duration: 1h
    location: Vergaderkamer 2
"""
    path = folder / "team.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def invite(config: Path, *extra: str, capsys=None) -> tuple[int, str, str]:
    """The CLI in this process (so the quick retries apply): exit code, stdout, stderr."""
    code = cli_module.main(["invite", "--config", str(config), "--today", TODAY, *extra])
    out, err = capsys.readouterr() if capsys else ("", "")
    return code, out, err


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, **{PASSWORD_ENV: SECRET})
    return subprocess.run([sys.executable, "-m", "kalender_sync", *args], capture_output=True, text=True,
                          env=env, timeout=120)


@dataclass
class Parsed:
    to: str
    subject: str
    method_param: str
    calendar: Calendar
    event: object
    text: str
    attachment: bytes
    calendar_part: bytes


def parse(captured: Captured) -> Parsed:
    message = captured.message
    assert message.get_content_type() == "multipart/mixed"
    [alternative] = [p for p in message.iter_parts() if p.get_content_type() == "multipart/alternative"]
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/calendar"]
    plain, cal_part = alternative.iter_parts()
    assert cal_part.get_content_charset() == "utf-8"
    [attachment] = [p for p in message.iter_parts() if p.get_filename() == "invite.ics"]
    assert attachment.get_content_type() == "application/ics"
    data = attachment.get_content()
    calendar = Calendar.from_ical(data)
    assert Calendar.from_ical(cal_part.get_content()) == calendar          # the same calendar twice
    [event] = calendar.walk("VEVENT")
    return Parsed(str(message["To"]), str(message["Subject"]), cal_part.get_param("method"), calendar, event,
                  plain.get_content(), data, cal_part.get_content().encode())


def check_common(mail: Parsed, method: str, sequence: int) -> None:
    assert mail.method_param == method == str(mail.calendar["METHOD"])   # MIME method= matches METHOD
    assert int(mail.event["SEQUENCE"]) == sequence
    assert str(mail.event["ORGANIZER"]) == "mailto:netwerk@example.nl"
    assert mail.event["ORGANIZER"].params["CN"] == "Netwerkteam Zuid"
    assert all(str(mail.calendar[k]) for k in ("PRODID", "VERSION"))
    assert {"UID", "DTSTAMP", "DTSTART", "DTEND"} <= set(mail.event)
    tzid = mail.event["DTSTART"].params["TZID"]
    assert [str(tz["TZID"]) for tz in mail.calendar.walk("VTIMEZONE")] == [tzid] == ["Europe/Amsterdam"]
    lines = mail.attachment.split(b"\r\n")
    assert b"\n" not in b"".join(lines) and all(len(line) <= 75 for line in lines)   # CRLF, folded


def attendees(mail: Parsed) -> dict[str, dict]:
    values = mail.event["ATTENDEE"]
    values = values if isinstance(values, list) else [values]
    return {str(a).removeprefix("mailto:"): dict(a.params) for a in values}


def test_request_update_cancel_for_one_session_series(smtp_server, tmp_path, capsys):
    config = write_config(tmp_path, smtp_server.port)
    uids = {invite_uid(g) for g in GROUPS}

    # 1. First run: one REQUEST per attendee per occurrence: 2 occurrences x 2 addresses.
    code, out, _ = invite(config, "--format", "table", capsys=capsys)
    assert code == 0, out
    assert "Sanne Bakker (sanne) has no e-mail address" in out
    first = [parse(c) for c in smtp_server.handler.take()]
    assert len(first) == len(GROUPS) * len(RECIPIENTS) == 4
    assert {str(m.event["UID"]) for m in first} == uids
    assert sorted((str(m.event["UID"]), m.to.split("<")[1].rstrip(">")) for m in first) == sorted(
        (uid, to) for uid in uids for to in RECIPIENTS)
    for mail in first:
        check_common(mail, "REQUEST", 0)
        assert str(mail.event["STATUS"]) == "CONFIRMED"
        assert set(attendees(mail)) == RECIPIENTS
        for params in attendees(mail).values():
            assert params["ROLE"] == "REQ-PARTICIPANT" and params["PARTSTAT"] == "NEEDS-ACTION"
            assert params["RSVP"] == "TRUE" and params["CN"]
        assert str(mail.event["LOCATION"]) == "Vergaderkamer 2"
    january = {m.to: m for m in first if str(m.event["UID"]) == invite_uid(GROUPS[0])}
    dutch = january["Maarten van Os <maarten@example.nl>"]
    english = january["Jan-Willem van den Brink <jw@example.nl>"]
    assert dutch.subject == "Uitnodiging: Bel-uurtje, do 7 jan 2027 14:00"
    assert english.subject == "Invitation: Bel-uurtje, Thu 7 Jan 2027 14:00"
    assert "Je bent uitgenodigd voor: Bel-uurtje" in dutch.text and "donderdag 7 januari 2027, 14:00–15:00" in dutch.text
    assert "You are invited to: Bel-uurtje" in english.text and "Thursday 7 January 2027, 14:00–15:00" in english.text
    assert dutch.event.decoded("DTSTART").strftime("%Y-%m-%d %H:%M") == "2027-01-07 14:00"

    # 2. Unchanged: nothing is sent.
    code, out, _ = invite(config, "--format", "json", capsys=capsys)
    assert code == 0 and json.loads(out)["sent"] == 0 and json.loads(out)["unchanged"] == 2
    assert smtp_server.handler.take() == []

    # 3. The session moves to 15:00: the same UIDs, SEQUENCE 1, to everyone.
    write_config(tmp_path, smtp_server.port, start="15:00")
    code, out, _ = invite(config, capsys=capsys)
    assert code == 0, out
    moved = [parse(c) for c in smtp_server.handler.take()]
    assert len(moved) == 4 and {str(m.event["UID"]) for m in moved} == uids
    for mail in moved:
        check_common(mail, "REQUEST", 1)
        assert mail.event.decoded("DTSTART").strftime("%H:%M") == "15:00"
    assert {m.subject for m in moved} >= {"Gewijzigd: Bel-uurtje, do 7 jan 2027 15:00",
                                          "Updated: Bel-uurtje, Thu 7 Jan 2027 15:00"}
    code, _, _ = invite(config, capsys=capsys)
    assert code == 0 and smtp_server.handler.take() == []

    # 4. The session is removed: that cancels every future occurrence of the series, which a
    #    config mistake does too. Refused, nothing sent, until --force-cancel: then CANCEL,
    #    STATUS:CANCELLED, SEQUENCE 2, same UIDs.
    write_config(tmp_path, smtp_server.port, session=False)
    code, out, err = invite(config, capsys=capsys)
    assert code == 1 and out == "", (out, err)
    assert "refused to cancel 4 invitations (every future occurrence of 1 series); nothing was sent" in err
    assert "Bel-uurtje (session/bel-uurtje): all 2 future occurrences, for 2 people" in err
    assert "--force-cancel" in err
    assert smtp_server.handler.take() == []
    code, out, _ = invite(config, "--force-cancel", capsys=capsys)
    assert code == 0, out
    gone = [parse(c) for c in smtp_server.handler.take()]
    assert len(gone) == 4 and {str(m.event["UID"]) for m in gone} == uids
    for mail in gone:
        check_common(mail, "CANCEL", 2)
        assert str(mail.event["STATUS"]) == "CANCELLED"
        assert set(attendees(mail)) == RECIPIENTS
        assert mail.event.decoded("DTSTART").strftime("%H:%M") == "15:00"
        assert mail.subject.startswith(("Geannuleerd: Bel-uurtje", "Cancelled: Bel-uurtje"))

    # 5. And again: nothing.
    code, _, _ = invite(config, capsys=capsys)
    assert code == 0 and smtp_server.handler.take() == []
    # Every login used the right password; the password is nowhere in the database.
    assert smtp_server.handler.logins and all(ok for _, ok in smtp_server.handler.logins)
    for path in tmp_path.glob(STATE_NAME + "*"):
        assert SECRET.encode() not in path.read_bytes()


def test_failed_sends_exit_3_and_the_next_run_sends_only_what_is_missing(smtp_server, tmp_path, capsys):
    config = write_config(tmp_path, smtp_server.port)
    # 4 attempts per mail: the first mail fails 4 times and gives up; the second fails once, then goes.
    smtp_server.handler.fail = 5
    code, out, err = invite(config, "--format", "json", capsys=capsys)
    assert code == 3, (out, err)
    report = json.loads(out)
    assert report["sent"] == 3 and report["failed"] == 1
    [failed] = [m for m in report["mails"] if m["status"] == "failed"]
    assert "451" in failed["error"] and "4 attempts" in failed["error"]
    assert "run invite again" in err
    assert smtp_server.handler.refused == 5
    delivered = smtp_server.handler.take()
    assert len(delivered) == 3

    code, out, err = invite(config, "--format", "json", capsys=capsys)
    assert code == 0, (out, err)
    assert json.loads(out)["sent"] == 1
    rest = smtp_server.handler.take()
    assert [(str(parse(c).event["UID"]), c.rcpt_tos) for c in rest] == [(failed["uid"], [failed["to"]])]
    everything = [parse(c) for c in delivered + rest]
    keys = [(str(m.event["UID"]), m.to, int(m.event["SEQUENCE"])) for m in everything]
    assert len(keys) == len(set(keys)) == 4                      # no duplicates, nothing missing
    assert len({c.message["Message-ID"] for c in delivered + rest}) == 4

    code, out, _ = invite(config, "--format", "json", capsys=capsys)
    assert code == 0 and json.loads(out)["sent"] == 0 and smtp_server.handler.take() == []


def test_a_dropped_connection_is_retried_on_a_new_one(smtp_server, tmp_path, capsys):
    config = write_config(tmp_path, smtp_server.port)
    smtp_server.handler.drop = 2
    code, out, err = invite(config, "--format", "json", capsys=capsys)
    assert code == 0, (out, err)
    assert json.loads(out)["sent"] == 4 and smtp_server.handler.refused == 2
    keys = [(str(parse(c).event["UID"]), tuple(c.rcpt_tos)) for c in smtp_server.handler.take()]
    assert len(keys) == len(set(keys)) == 4


def test_an_unreachable_server_exits_3_records_nothing_and_the_next_run_sends_everything(smtp_server, tmp_path,
                                                                                         capsys):
    config = write_config(tmp_path, free_port())                 # nothing listens there
    code, out, err = invite(config, "--format", "json", capsys=capsys)
    assert code == 3, err
    report = json.loads(out)
    assert report["sent"] == 0 and report["failed"] == 4
    assert all("cannot connect" in m["error"] for m in report["mails"])
    write_config(tmp_path, smtp_server.port)
    code, out, _ = invite(config, "--format", "json", capsys=capsys)
    assert code == 0 and json.loads(out)["sent"] == 4
    assert len(smtp_server.handler.take()) == 4


def test_cli_subprocess_dry_run_sends_nothing_then_a_real_run_sends(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server.port)
    common = ["--config", str(config), "--today", TODAY]
    dry = run_cli("invite", "--dry-run", "--format", "json", *common)
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] is True and len(planned["mails"]) == 4
    assert {(m["method"], m["sequence"], m["status"]) for m in planned["mails"]} == {("REQUEST", 0, "planned")}
    assert {m["uid"] for m in planned["mails"]} == {invite_uid(g) for g in GROUPS}
    assert {m["to"] for m in planned["mails"]} == RECIPIENTS
    assert all(m["subject"] and m["summary"] == "Bel-uurtje" and m["start"] for m in planned["mails"])
    table = run_cli("invite", "--dry-run", "--format", "table", *common)
    assert table.returncode == 0 and "would send 4 mails" in table.stdout
    assert "Subject: Uitnodiging: Bel-uurtje, do 7 jan 2027 14:00" in table.stdout
    assert "REQUEST SEQUENCE 0" in table.stdout and "UID:     " + invite_uid(GROUPS[0]) in table.stdout
    assert smtp_server.handler.take() == [] and smtp_server.handler.logins == []
    assert not list(tmp_path.glob(STATE_NAME + "*"))             # a dry run writes no state

    real = run_cli("invite", "--format", "json", *common)
    assert real.returncode == 0, real.stderr
    assert json.loads(real.stdout)["sent"] == 4 and len(smtp_server.handler.take()) == 4
    for text in (dry.stdout, dry.stderr, table.stdout, real.stdout, real.stderr):
        assert SECRET not in text

    # A dry run over an existing database plans from it and leaves it as it was.
    state = tmp_path / STATE_NAME
    before = sqlite3.connect(state).execute("SELECT * FROM recipients ORDER BY uid, address").fetchall()
    again = run_cli("invite", "--dry-run", "--format", "json", *common)
    assert again.returncode == 0 and json.loads(again.stdout)["mails"] == []
    moved = write_config(tmp_path, smtp_server.port, start="15:00")
    changed = json.loads(run_cli("invite", "--dry-run", "--format", "json", *common).stdout)
    assert {(m["method"], m["sequence"]) for m in changed["mails"]} == {("REQUEST", 1)} and moved == config
    assert sqlite3.connect(state).execute("SELECT * FROM recipients ORDER BY uid, address").fetchall() == before
    assert smtp_server.handler.take() == []


def test_wrong_password_exits_1_without_showing_any_password(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server.port)
    env = dict(os.environ, **{PASSWORD_ENV: "wrong-" + SECRET})
    result = subprocess.run([sys.executable, "-m", "kalender_sync", "invite", "--config", str(config),
                             "--today", TODAY], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "login as netwerkteam refused" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert smtp_server.handler.take() == []
    unset = dict(os.environ)
    unset.pop(PASSWORD_ENV, None)
    missing = subprocess.run([sys.executable, "-m", "kalender_sync", "invite", "--config", str(config),
                              "--today", TODAY], capture_output=True, text=True, env=unset, timeout=120)
    assert missing.returncode == 2 and PASSWORD_ENV in missing.stderr


def test_starttls_required_but_not_offered_is_an_error_not_a_plaintext_send(smtp_server, tmp_path, capsys):
    config = write_config(tmp_path, smtp_server.port, security="starttls")
    code, _, err = invite(config, capsys=capsys)
    assert code == 1 and "does not offer STARTTLS" in err
    assert smtp_server.handler.take() == [] and smtp_server.handler.logins == []


# --- the guard against mass cancellation, and a dry run without mail settings (issue 11) -----

def _edit(config: Path, *pairs: tuple[str, str]) -> None:
    text = config.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    config.write_text(text, encoding="utf-8")


def test_a_mistaken_participants_list_sends_no_cancel_until_forced(smtp_server, tmp_path, capsys):
    config = write_config(tmp_path, smtp_server.port)
    code, out, _ = invite(config, capsys=capsys)
    assert code == 0 and len(smtp_server.handler.take()) == 4, out
    # `participants: [jw]` where `all` was meant: a one-person session is no invitation, so
    # everyone would get a CANCEL for every occurrence.
    _edit(config, ("participants: all", "participants: [jw]"))
    code, out, err = invite(config, "--dry-run", "--format", "json", capsys=capsys)
    assert code == 1, err
    shown = json.loads(out)
    assert shown["refused"] == ("a run would refuse to cancel 4 invitations (every future occurrence of 1 series) "
                                "and send nothing")
    assert "error: a run would refuse to cancel 4 invitations" in err
    assert {(m["method"], m["to"]) for m in shown["mails"]} == {("CANCEL", a) for a in RECIPIENTS}
    assert "Jan-Willem van den Brink (jw) 2, Maarten van Os (maarten) 2" in err
    logins = len(smtp_server.handler.logins)
    code, out, err = invite(config, "--format", "json", capsys=capsys)
    assert code == 1 and out == "" and "nothing was sent" in err
    assert smtp_server.handler.take() == [] and len(smtp_server.handler.logins) == logins   # not even a login
    code, out, _ = invite(config, "--dry-run", "--force-cancel", "--format", "json", capsys=capsys)
    assert code == 0 and json.loads(out)["refused"] is None and len(json.loads(out)["mails"]) == 4

    code, out, _ = invite(config, "--force-cancel", "--format", "json", capsys=capsys)
    assert code == 0 and json.loads(out)["sent"] == 4, out
    gone = [parse(c) for c in smtp_server.handler.take()]
    assert len(gone) == 4 and {m.method_param for m in gone} == {"CANCEL"}
    code, out, _ = invite(config, capsys=capsys)                     # done: nothing left to refuse
    assert code == 0 and smtp_server.handler.take() == []


def test_more_than_ten_cancellations_at_once_need_force_cancel(smtp_server, tmp_path, capsys):
    config = write_config(tmp_path, smtp_server.port)
    _edit(config, ("horizon: 6 months", "horizon: 12 months"), ("every: quarter", "every: month"))
    code, out, _ = invite(config, "--format", "json", capsys=capsys)
    assert code == 0 and json.loads(out)["sent"] == 24, out           # 12 months x 2 addresses
    smtp_server.handler.take()
    # jw leaves the monthly session; it goes on for maarten and sanne: 12 cancellations to jw.
    _edit(config, ("participants: all", "participants: [maarten, sanne]"))
    code, out, err = invite(config, capsys=capsys)
    assert code == 1, (out, err)
    assert "refused to cancel 12 invitations (more than 10 invitations at once)" in err
    assert "cancellations per person: Jan-Willem van den Brink (jw) 12" in err
    assert smtp_server.handler.take() == []
    code, out, _ = invite(config, "--force-cancel", "--format", "json", capsys=capsys)
    assert code == 0, out
    sent = [parse(c) for c in smtp_server.handler.take()]
    assert sorted({(m.method_param, m.to) for m in sent}) == [
        ("CANCEL", "Jan-Willem van den Brink <jw@example.nl>"), ("REQUEST", "Maarten van Os <maarten@example.nl>")]
    assert sum(m.method_param == "CANCEL" for m in sent) == 12


def test_a_dry_run_without_a_mail_section_shows_the_mails_and_what_is_missing(smtp_server, tmp_path, capsys):
    config = write_config(tmp_path, smtp_server.port)
    text = config.read_text(encoding="utf-8")
    config.write_text(text[:text.index("mail:\n")] + text[text.index("sessions:\n"):], encoding="utf-8")
    code, out, err = invite(config, "--dry-run", "--format", "table", capsys=capsys)
    assert code == 0, err
    assert "would send 4 mails" in out
    assert "From: Netwerkteam <organizer@example.invalid> (a placeholder: the config has no mail: section)" in out
    assert "Subject: Uitnodiging: Bel-uurtje, do 7 jan 2027 14:00" in out
    assert "no 'mail:' section, so nothing can be sent yet" in err
    assert "organizer:" in err and "smtp_host:" in err
    code, out, err = invite(config, "--dry-run", "--format", "json", capsys=capsys)
    shown = json.loads(out)
    assert code == 0 and len(shown["mails"]) == 4 and shown["organizer"] == {
        "email": "organizer@example.invalid", "name": "Netwerkteam", "placeholder": True}
    assert "smtp_host" in shown["missing"]
    # For real it still refuses, and says how to see what would go out.
    code, _, err = invite(config, capsys=capsys)
    assert code == 2 and "no 'mail:' section" in err and "invite --dry-run" in err
    assert smtp_server.handler.take() == [] and not list(tmp_path.glob(STATE_NAME + "*"))
