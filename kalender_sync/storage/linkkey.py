"""The server key that signs done links and personal-page links (core.links).

From the environment (KALENDER_SYNC_LINK_KEY), or the system keyring (service named by
KALENDER_SYNC_LINK_KEY_KEYRING, user "link-key"), else a file next to the config, made on
first use with 32 random bytes and mode 0600. Every command that writes reminders must use
the same key as `serve`, or the links it writes are refused; rotating (deleting the file,
changing the variable) ends every link at once, and the next run writes new ones.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from ..core.errors import UsageError
from .atomic import write_atomically
from .credentials import secret

KEY_FILE = ".kalender-sync-key"
KEY_ENV = "KALENDER_SYNC_LINK_KEY"
KEYRING_ENV = "KALENDER_SYNC_LINK_KEY_KEYRING"
MIN_KEY_CHARS = 32


def key_path(config_path: Path) -> Path:
    return config_path.parent / KEY_FILE


def where(config_path: Path) -> str:
    """Where the key comes from, for `check` and `serve` (never the key itself)."""
    if os.environ.get(KEY_ENV):
        return f"the environment variable {KEY_ENV}"
    if os.environ.get(KEYRING_ENV):
        return f"the keyring (service {os.environ[KEYRING_ENV]})"
    return str(key_path(config_path))


def link_key(config_path: Path, create: bool = True) -> bytes | None:
    """The key; None if it is kept in a file that does not exist yet and `create` is False."""
    value = secret("the link key", KEY_ENV if os.environ.get(KEY_ENV) else None,
                   os.environ.get(KEYRING_ENV) or None, "link-key")
    if value is not None:
        if len(value) < MIN_KEY_CHARS:
            raise UsageError(f"the link key ({where(config_path)}) is too short: use at least "
                             f"{MIN_KEY_CHARS} random characters, e.g. from `python3 -c 'import secrets; "
                             "print(secrets.token_urlsafe(32))'`")
        return value.encode("utf-8")
    path = key_path(config_path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if not create:
            return None
        text = secrets.token_hex(32)
        try:
            # O_EXCL through write_atomically's rename is not enough against a second process
            # making its own key at the same moment: link the finished file into place instead.
            tmp = path.with_name(f"{KEY_FILE}.{os.getpid()}.tmp")
            write_atomically(tmp, (text + "\n").encode("ascii"), mode=0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                text = path.read_text(encoding="ascii").strip()
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot write the link key {path}: {exc.strerror}") from None
    except (OSError, UnicodeError) as exc:
        raise UsageError(f"cannot read the link key {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if len(text) < MIN_KEY_CHARS:
        raise UsageError(f"the link key {path} is damaged (too short); delete it to make a new one "
                         "(every done link ends)")
    return text.encode("ascii")
