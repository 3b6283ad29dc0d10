"""The invite command: e-mail invitations (iMIP) for group events."""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import click

from .options import (busy_and_placed, common, group_plan, load_team, offline_option, plan_args, raise_if_unread,
                      remember_placements, unread_note)
from ..core.errors import PartialFailure, UsageError
from ..core.invitations import (MASS_CANCEL_MAXIMUM, MailPlan, MassCancellation, MassCancellationRefused,
                                missing_for_sending, placeholder_settings, subject)
from ..storage.invites import STATE_NAME


def _invite_state_path(config_path: Path, state_path: Path | None) -> Path:
    return state_path or config_path.parent / STATE_NAME


def _when(mail) -> str:
    if mail.all_day:
        return f"{mail.start.isoformat()} all day"
    return f"{mail.start:%Y-%m-%d %H:%M}–{mail.end:%H:%M}"


def _mail_json(mail, status: str, error: str | None = None) -> dict:
    doc = {"status": status, "method": mail.method, "reason": mail.reason, "uid": mail.uid,
           "sequence": mail.sequence, "to": mail.to.email, "name": mail.to.name, "person": mail.to.person,
           "subject": subject(mail), "summary": mail.title, "start": mail.start.isoformat(),
           "end": mail.end.isoformat(), "group": mail.group}
    if error is not None:
        doc["error"] = error
    return doc


def _show_dry_run(team, mail_plan: MailPlan, refusal: MassCancellation | None, missing: str | None,
                  fmt: str) -> None:
    organizer = {"email": team.mail.organizer_email, "name": team.mail.organizer_name,
                 "placeholder": missing is not None}
    if fmt == "json":
        click.echo(json.dumps({"dry_run": True, "organizer": organizer,
                               "mails": [_mail_json(m, "planned") for m in mail_plan.mails],
                               "unchanged": mail_plan.unchanged, "past": mail_plan.history,
                               "skipped": mail_plan.skipped,
                               "refused": refusal.headline(dry_run=True) if refusal else None,
                               "missing": missing},
                              indent=2, ensure_ascii=False))
    else:
        click.echo(f"would send {len(mail_plan.mails)} mail{'s' if len(mail_plan.mails) != 1 else ''} "
                   f"({mail_plan.unchanged} invitations unchanged); nothing sent")
        if mail_plan.mails:
            click.echo(f"From: {organizer['name']} <{organizer['email']}>"
                       + (" (a placeholder: the config has no mail: section)" if missing else ""))
        for mail in mail_plan.mails:
            click.echo(f"\n  {mail.method:<7} SEQUENCE {mail.sequence}  ({mail.reason})")
            click.echo(f"    To:      {mail.to.name} <{mail.to.email}>")
            click.echo(f"    Subject: {subject(mail)}")
            click.echo(f"    UID:     {mail.uid}")
            click.echo(f"    Event:   {mail.title}, {_when(mail)}")
        for note in mail_plan.skipped:
            click.echo(f"\nskipped: {note}")
    if missing:
        click.echo(f"note: {missing}", err=True)


def _show_delivery(mail_plan: MailPlan, delivery, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps({
            "dry_run": False,
            "mails": [_mail_json(o.mail, "sent" if o.sent else "failed", o.error) for o in delivery.outcomes],
            "sent": len(delivery.sent), "failed": len(delivery.failed), "unchanged": mail_plan.unchanged,
            "past": mail_plan.history,
            "skipped": mail_plan.skipped}, indent=2, ensure_ascii=False))
        return
    for outcome in delivery.outcomes:
        mail = outcome.mail
        state = "sent  " if outcome.sent else "FAILED"
        click.echo(f"{state} {mail.method:<7} SEQUENCE {mail.sequence}  {mail.to.email}  {outcome.subject}")
        if outcome.error:
            click.echo(f"       {outcome.error}")
    for note in mail_plan.skipped:
        click.echo(f"skipped: {note}")
    click.echo(f"{len(delivery.sent)} sent, {len(delivery.failed)} failed; "
               f"{mail_plan.unchanged} invitations unchanged")


@click.command()
@common
@click.option("--dry-run", is_flag=True, help="Print the mails that would be sent; send nothing, write nothing. "
              "Works without a mail: section too (with a placeholder organizer).")
@click.option("--force-cancel", is_flag=True,
              help="Allow a run that cancels every future occurrence of a series, or more than "
                   f"{MASS_CANCEL_MAXIMUM} invitations at once.")
@click.option("--format", "fmt", type=click.Choice(["auto", "table", "json"]), default="auto", show_default=True,
              help="auto: a table on a terminal, JSON otherwise.")
@click.option("--state", "state_path", type=click.Path(path_type=Path, dir_okay=False),
              help=f"The invitation database (default: {STATE_NAME} next to the config).")
@offline_option
def invite(config_path: Path, today: date | None, dry_run: bool, force_cancel: bool, fmt: str,
           state_path: Path | None, offline: bool):
    """Send e-mail invitations (iMIP) for group events: new, changed and cancelled ones.

    One invitation per session or aftercare occurrence, to every participant with an
    e-mail address. Unchanged events are not sent again; a changed one is re-sent with
    the same UID and a higher SEQUENCE; a removed one is cancelled. Exit code 3 when
    some mails could not be sent: the next run sends only those.

    A run that would cancel every future occurrence of a series, or more than 10
    invitations at once, sends nothing and exits 1 (a config mistake, such as a
    deleted sessions: section, does that); --force-cancel lets it through.
    """
    team, today = load_team(config_path, today)
    missing = missing_for_sending(team)
    if missing and not dry_run:
        raise UsageError(f"{config_path}: no 'mail:' section; invitations need at least mail.organizer "
                         "and mail.smtp_host (`invite --dry-run` shows what they would be)")
    if missing:
        team = replace(team, mail=placeholder_settings(team))
    if fmt == "auto":
        fmt = "table" if sys.stdout.isatty() else "json"
    path = _invite_state_path(config_path, state_path)
    from ..cli.calendars import STATE_NAME as STATUS_NAME
    from ..engine.runs import context_for
    busy, placed = busy_and_placed(team, today, config_path, offline=offline, save=not dry_run,
                                   status_path=config_path.parent / STATUS_NAME, invites_path=path,
                                   context=context_for(team, config_path))
    whole = group_plan(team, today, **plan_args(busy, placed))
    events = whole.events
    # Imported here: sending pulls in icalendar, which the other commands' start-up need not pay for.
    from ..engine.invite import preview, send
    if dry_run:
        mail_plan, refusal = preview(team, events, path, today)
        if force_cancel:
            refusal = None
        _show_dry_run(team, mail_plan, refusal, missing, fmt)
        if refusal is not None:
            # What the run itself would do: refuse, send nothing.
            raise MassCancellationRefused(refusal, dry_run=True)
        _show_busy(team, whole, busy, fmt)
        raise_if_unread(team, busy)
        return
    mail_plan, delivery = send(team, events, path, today, force_cancel=force_cancel)
    if delivery.sent or not delivery.outcomes:
        remember_placements(config_path, whole, busy)
    _show_delivery(mail_plan, delivery, fmt)
    _show_busy(team, whole, busy, fmt)
    if delivery.failed:
        again = "run invite again" + (" with --force-cancel" if force_cancel and any(
            o.mail.method == "CANCEL" for o in delivery.failed) else "")
        raise PartialFailure(f"{len(delivery.failed)} of {len(delivery.outcomes)} mails were not sent; "
                             f"{again} to send them" + unread_note(busy))
    raise_if_unread(team, busy)


def _show_busy(team, plan, busy, fmt: str) -> None:
    """The conflicts kept and whose busy times could not be read; on stderr, so that the JSON
    on stdout stays what it was."""
    if busy is None:
        return
    for conflict in plan.conflicts:
        click.echo(f"conflict: {conflict.what}: {conflict.reason}", err=True)
    for person, why in sorted(busy.unreadable.items()):
        click.echo(f"busy times could not be read: {person}: {why}", err=True)
