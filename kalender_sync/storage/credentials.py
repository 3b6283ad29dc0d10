"""Passwords come from an environment variable or the system keyring, never from YAML."""
from __future__ import annotations

import os

from ..core.model import Calendar
from ..core.errors import UsageError


class MissingSecret(UsageError):
    pass


def password_for(calendar: Calendar, username: str | None) -> str | None:
    if calendar.password_env:
        value = os.environ.get(calendar.password_env)
        if value is None:
            raise MissingSecret(f"calendar '{calendar.id}': the environment variable "
                                f"{calendar.password_env} is not set")
        return value
    if calendar.keyring:
        try:
            import keyring  # optional: only people who use it install it
        except ImportError:
            raise MissingSecret(f"calendar '{calendar.id}' uses the keyring, but the 'keyring' package "
                                "is not installed (pip install keyring)") from None
        try:
            value = keyring.get_password(calendar.keyring, username or "")
        except Exception as exc:  # backends raise their own types
            raise MissingSecret(f"calendar '{calendar.id}': the keyring could not be read "
                                f"({type(exc).__name__})") from None
        if value is None:
            raise MissingSecret(f"calendar '{calendar.id}': no password in the keyring for service "
                                f"'{calendar.keyring}' and user '{username}'")
        return value
    return None
