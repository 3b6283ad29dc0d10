"""iMIP e-mail: an invitation `Mail` -> iCalendar + MIME message -> SMTP.

The iCalendar is built with icalendar only (a VTIMEZONE for every TZID, CRLF, folded
lines). The MIME layout is the one Outlook and Gmail handle best (RFC 6047):

    multipart/mixed
      multipart/alternative
        text/plain; charset=utf-8                         (the recipient's language)
        text/calendar; charset=utf-8; method=REQUEST      (method = the iCalendar METHOD)
      application/ics; name=invite.ics                    (the same bytes, as an attachment)

SMTP: STARTTLS, SSL or none. A temporary failure (a 4xx reply, a dropped or refused
connection) raises Temporary and the sender (engine/invite.py) tries again with the shared
retry policy. The password is only handed to smtplib.login: it is never part of a message,
a log line, an exception text or the invitation database.
"""
from __future__ import annotations

import ipaddress
import smtplib
import ssl
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.headerregistry import Address
from email.utils import format_datetime

from icalendar import Event

from ..core.errors import TargetError, UsageError
from ..core.invitations import CANCEL, Mail, body_text, message_id, subject
from ..core.model import MailSettings
from ..core.render import KIND, add_timezones, new_calendar
from ..core.timezones import VTimezones
from .base import Transient
from .network import NETWORK_TIMEOUT

# The invitation's own marker. Deliberately NOT render.MARKER (X-KALENDER-SYNC-KEY): an
# accepted invitation in a CalDAV calendar that sync manages must never look like one
# of sync's own events, or sync would delete it as "no longer planned".
INVITE_MARKER = "X-KALENDER-SYNC-INVITE"


# -- iCalendar and MIME (pure) ---------------------------------------------------------

def _clean(text: str) -> str:
    """A display name for a header or a CN parameter: one line."""
    return " ".join(text.split())


def render_ics(mail: Mail, settings: MailSettings, stamp: datetime, zones: VTimezones | None = None) -> bytes:
    calendar = new_calendar(method=mail.method)
    if not mail.all_day and not VTimezones.knows(getattr(mail.start.tzinfo, "key", None) or ""):
        raise TargetError(f"invitation {mail.uid}: the start time has no named time zone")
    event = Event()
    event.add("uid", mail.uid)
    event.add("dtstamp", stamp.astimezone(timezone.utc))
    event.add("sequence", mail.sequence)
    event.add("summary", mail.title)
    event.add("dtstart", mail.start)
    event.add("dtend", mail.end)
    if mail.description:
        event.add("description", mail.description)
    if mail.location:
        event.add("location", mail.location)
    event.add("status", mail.status)
    event.add("transp", "OPAQUE")
    event.add("organizer", f"mailto:{settings.organizer_email}",
              parameters={"CN": _clean(settings.organizer_name)})
    for attendee in mail.attendees:
        params = {"CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION",
                  "CN": _clean(attendee.name)}
        if mail.method != CANCEL:
            params["RSVP"] = "TRUE"
        event.add("attendee", f"mailto:{attendee.email}", parameters=params)
    event.add(INVITE_MARKER, mail.group)
    event.add(KIND, mail.kind)
    # The same zones as every other calendar: covering the start and the end (render.add_timezones).
    add_timezones(calendar, [event], zones if zones is not None else VTimezones())
    calendar.add_component(event)
    return calendar.to_ical()


def build_message(mail: Mail, settings: MailSettings, stamp: datetime,
                  zones: VTimezones | None = None) -> EmailMessage:
    ics = render_ics(mail, settings, stamp, zones)
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = Address(_clean(settings.organizer_name), addr_spec=settings.organizer_email)
    message["To"] = Address(_clean(mail.to.name), addr_spec=mail.to.email)
    message["Subject"] = subject(mail)
    message["Date"] = format_datetime(stamp.astimezone(timezone.utc))
    message["Message-ID"] = message_id(mail, settings.organizer_email.rsplit("@", 1)[1])
    message["X-Kalender-Sync-Invite"] = f"{mail.uid} {mail.sequence} {mail.method}"
    message.set_content(body_text(mail, settings.organizer_name, settings.organizer_email))
    message.add_alternative(ics.decode("utf-8"), subtype="calendar", charset="utf-8",
                            params={"method": mail.method})
    message.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    return message


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# -- SMTP ----------------------------------------------------------------------------------

class Temporary(Transient):
    """Worth another try: a 4xx reply, a dropped or refused connection, a timeout."""


class Permanent(TargetError):
    """This mail will not go through as it is (a 5xx reply)."""


class SmtpPublisher:
    """Invitations out by SMTP: one connection, opened on the first mail, re-opened after a failure.

    A publisher (targets/publish.py): `publish(address, message)` hands one message to the
    server or raises Temporary (try again) or Permanent.
    """

    def __init__(self, settings: MailSettings, password: str | None, timeout: float = NETWORK_TIMEOUT):
        if settings.security == "none" and settings.username and not _is_loopback(settings.smtp_host):
            raise UsageError(f"mail.security is none: the password would go unencrypted to "
                             f"{settings.smtp_host}; use starttls or ssl")
        self.settings = settings
        self._password = password
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def __repr__(self) -> str:          # never the password
        return f"SmtpPublisher({self.describe()})"

    def describe(self) -> str:
        s = self.settings
        return f"smtp://{s.smtp_host}:{s.smtp_port} ({s.security})"

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "ssl":
                smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=self.timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout)
            try:
                smtp.ehlo()
                if s.security == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise TargetError(f"{self.describe()} does not offer STARTTLS; check mail.security")
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if s.username:
                    smtp.login(s.username, self._password or "")
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPAuthenticationError as exc:
            raise TargetError(f"{self.describe()}: login as {s.username} refused ({exc.smtp_code} "
                              f"{_reply_text(exc.smtp_error)})") from None
        except ssl.SSLCertVerificationError as exc:
            raise TargetError(f"{self.describe()}: the server certificate is not trusted ({exc.verify_message})") from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise Temporary(f"{exc.smtp_code} {_reply_text(exc.smtp_error)}") from None
            raise TargetError(f"{self.describe()}: {exc.smtp_code} {_reply_text(exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise TargetError(f"{self.describe()}: {exc}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Temporary(f"cannot connect to {self.describe()}: {type(exc).__name__}: {exc}") from None
        return smtp

    def publish(self, to: str, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            refused = self._smtp.send_message(message, from_addr=self.settings.organizer_email, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            codes = [code for code, _ in exc.recipients.values()]
            text = "; ".join(f"{code} {_reply_text(reply)}" for code, reply in exc.recipients.values())
            if codes and all(400 <= code < 500 for code in codes):
                raise Temporary(text) from None
            raise Permanent(text) from None
        except smtplib.SMTPResponseException as exc:
            self._reset()
            text = f"{exc.smtp_code} {_reply_text(exc.smtp_error)}"
            if 400 <= exc.smtp_code < 500:
                raise Temporary(text) from None
            raise Permanent(text) from None
        except (OSError, smtplib.SMTPException) as exc:   # reset, timeout, server disconnected
            self._drop()
            raise Temporary(f"{type(exc).__name__}: {exc}") from None
        if refused:
            raise Permanent("; ".join(f"{code} {_reply_text(reply)}" for code, reply in refused.values()))

    def _reset(self) -> None:
        # After a refused transaction the connection is usually fine; start clean anyway.
        self._drop()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def close(self) -> None:
        self._drop()


def _reply_text(reply) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(str(reply).split())
