"""Passwords come from an environment variable or the system keyring, never from YAML.

One lookup for every secret the tool needs (a CalDAV calendar's, the SMTP server's), so the
rules and the messages are the same everywhere, and no message ever holds the secret.
"""
from __future__ import annotations

import os

from ..core.errors import UsageError
from ..core.model import Calendar, MailSettings


class MissingSecret(UsageError):
    pass


def secret(where: str, password_env: str | None, keyring_service: str | None, user: str | None) -> str | None:
    """The password for `where` (how messages name its owner), or None if it names no source."""
    if password_env:
        value = os.environ.get(password_env)
        if value is None:
            raise MissingSecret(f"{where}: the environment variable {password_env} is not set")
        return value
    if keyring_service:
        try:
            import keyring  # optional: only people who use it install it
        except ImportError:
            raise MissingSecret(f"{where} uses the keyring, but the 'keyring' package "
                                "is not installed (pip install keyring)") from None
        try:
            value = keyring.get_password(keyring_service, user or "")
        except Exception as exc:  # backends raise their own types
            raise MissingSecret(f"{where}: the keyring could not be read ({type(exc).__name__})") from None
        if value is None:
            raise MissingSecret(f"{where}: no password in the keyring for service "
                                f"'{keyring_service}' and user '{user}'")
        return value
    return None


def password_for(calendar: Calendar, username: str | None) -> str | None:
    """The calendar's password; None without a username: a server without login needs none, so
    its password_env or keyring (left from a copied example) is not read."""
    if username is None:
        return None
    return secret(f"calendar '{calendar.id}'", calendar.password_env, calendar.keyring, username)


def mail_password(settings: MailSettings) -> str | None:
    """From mail.password_env or mail.keyring (service; user = mail.username or the organizer)."""
    value = secret("mail", settings.password_env, settings.keyring, settings.username or settings.organizer_email)
    if value is None and settings.username:
        raise MissingSecret("mail.username is set but no password source: add mail.password_env or mail.keyring")
    return value
