"""E-mail invitations end to end: which mails go out now (core.invitations decides), sending
them through a publisher with the shared retry policy, and recording each one the moment
the mail server accepted it, so a run that stops half-way neither sends twice nor forgets."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

from ..core.errors import UsageError
from ..core.invitations import (Mail, MailPlan, MassCancellation, MassCancellationRefused, mass_cancellation,
                                plan_mails, subject)
from ..core.model import MailSettings, Team
from ..core.planning import PlannedEvent
from ..storage.invites import InviteState
from ..targets import network
from ..targets.network import RetryPolicy

try:
    import fcntl
except ImportError:  # pragma: no cover  (Windows: no lock; do not run two invite jobs at once)
    fcntl = None


@dataclass
class Outcome:
    mail: Mail
    subject: str
    sent: bool = False
    error: str | None = None
    attempts: int = 0


@dataclass
class Delivery:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def sent(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.sent]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.sent]


def deliver(mails: list[Mail], publisher, settings: MailSettings, record: Callable[[Mail, str], None],
            clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
            retry: RetryPolicy | None = None) -> Delivery:
    """Send each mail (retrying temporary failures) and record it the moment it was accepted.

    A connection that cannot be made after all retries ends the run: the remaining mails
    are reported as not sent, and the next run sends them.
    """
    from ..core.timezones import VTimezones
    from ..targets.mail import Permanent, Temporary, build_message
    policy = retry or network.SMTP_RETRY
    zones = VTimezones()
    result = Delivery()
    unreachable: str | None = None
    for mail in mails:
        outcome = Outcome(mail, subject(mail))
        result.outcomes.append(outcome)
        if unreachable is not None:
            outcome.error = f"not tried: {unreachable}"
            continue
        now = clock()
        message = build_message(mail, settings, now, zones)
        pauses = policy.pauses()
        while True:
            outcome.attempts += 1
            try:
                publisher.publish(mail.to.email, message)
            except Temporary as exc:
                outcome.error = f"{exc} ({outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''})"
                pause = next(pauses, None)
                if pause is None:
                    break
                policy.sleep(pause)
                continue
            except Permanent as exc:
                outcome.error = str(exc)
                break
            outcome.sent, outcome.error = True, None
            record(mail, now.strftime("%Y%m%dT%H%M%SZ"))
            break
        if not outcome.sent and outcome.error and outcome.error.startswith("cannot connect"):
            unreachable = outcome.error
    return result


@contextmanager
def run_lock(path: Path):
    """One `invite` run at a time per database: two at once would send the same mails twice."""
    if fcntl is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UsageError(f"another `kalender-sync invite` is running with {path}; try again later") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def preview(team: Team, events: list[PlannedEvent], state_path: Path,
            today: date) -> tuple[MailPlan, MassCancellation | None]:
    """The mails a run would send now, and whether the mass-cancellation guard would refuse
    them; reads the invitation database, writes nothing."""
    state = InviteState(state_path, read_only=True) if state_path.exists() else None
    try:
        stored = state.load() if state else {}
        mail_plan = plan_mails(events, team, stored, today)
        return mail_plan, mass_cancellation(mail_plan, stored)
    finally:
        if state is not None:
            state.close()


def send(team: Team, events: list[PlannedEvent], state_path: Path, today: date,
         force_cancel: bool = False) -> tuple[MailPlan, Delivery]:
    """Send what is owed now and record it; returns what was planned and what happened.

    Raises MassCancellationRefused, before connecting to anything, when the run would
    cancel too much at once and `force_cancel` is not given.
    """
    from ..storage.credentials import mail_password
    from ..targets.mail import SmtpPublisher
    with run_lock(state_path):
        state = InviteState(state_path)
        try:
            stored = state.load()
            mail_plan = plan_mails(events, team, stored, today)
            refusal = mass_cancellation(mail_plan, stored)
            if refusal is not None and not force_cancel:
                raise MassCancellationRefused(refusal)
            delivery = Delivery()
            if mail_plan.mails:           # nothing to send: no connection, no password needed
                publisher = SmtpPublisher(team.mail, mail_password(team.mail))
                try:
                    delivery = deliver(mail_plan.mails, publisher, team.mail, state.record)
                finally:
                    publisher.close()
        finally:
            state.close()
    return mail_plan, delivery
