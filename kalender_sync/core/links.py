"""Links that act: the signed tokens in "done" links and personal-page links.

A done link names the person, the agreement and the occurrence (the reminder's day) it was
written for, signed with the server key (HMAC-SHA256, by itsdangerous). Nothing is stored per
link: the server checks the signature and the expiry, so the same plan always writes the same
link (no event changes on every run), and rotating the key ends every link at once.

A link only opens a page; acting on it takes the page's POST (see web.app: mail scanners and
link previewers open every link first).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta


# How long a done link keeps working after the reminder's day (README, "Done links"): long
# enough for a contact that happened weeks late to be logged from the old reminder.
LINK_WEEKS = 8
_DONE = "kalender-sync done link"
_PAGE = "kalender-sync personal page"
# A token longer than this is not one of ours (a done token is about 100 characters).
MAX_TOKEN = 400


@dataclass(frozen=True)
class DoneToken:
    person: str
    agreement: str
    occurrence: date

    @property
    def expires(self) -> date:
        """The last day the link works."""
        return self.occurrence + timedelta(weeks=LINK_WEEKS)


@dataclass(frozen=True)
class DoneLinks:
    """The public base URL and the server key: what a plan needs to write done links."""

    base_url: str
    key: bytes = field(repr=False)

    def _serializer(self, salt: str):
        # Imported here: a run without done links (and `--version`, `check`) does not pay for it.
        import itsdangerous
        return itsdangerous.URLSafeSerializer(self.key, salt=salt,
                                              signer_kwargs={"digest_method": hashlib.sha256})

    def done_token(self, person: str, agreement: str, occurrence: date) -> str:
        return self._serializer(_DONE).dumps([person, agreement, occurrence.isoformat()])

    def done_url(self, person: str, agreement: str, occurrence: date) -> str:
        return f"{self.base_url.rstrip('/')}/done/{self.done_token(person, agreement, occurrence)}"

    def read_done(self, token: str, today: date) -> DoneToken | None:
        """The token's content if it is ours, untampered and not expired on `today`; else None
        (one answer for every kind of bad token). The signature is compared in constant time."""
        payload = self._load(_DONE, token)
        if not (isinstance(payload, list) and len(payload) == 3 and all(isinstance(x, str) for x in payload)):
            return None
        try:
            occurrence = date.fromisoformat(payload[2])
        except ValueError:
            return None
        found = DoneToken(payload[0], payload[1], occurrence)
        return found if today <= found.expires else None

    def page_token(self, person: str, generation: str) -> str:
        """The personal page's token; `generation` changes when the person's feed link is rotated
        or revoked (the web layer checks it), so the page link ends with the feed link."""
        return self._serializer(_PAGE).dumps([person, generation])

    def page_url(self, person: str, generation: str) -> str:
        return f"{self.base_url.rstrip('/')}/me/{self.page_token(person, generation)}"

    def read_page(self, token: str) -> tuple[str, str] | None:
        payload = self._load(_PAGE, token)
        if isinstance(payload, list) and len(payload) == 2 and all(isinstance(x, str) for x in payload):
            return payload[0], payload[1]
        return None

    def _load(self, salt: str, token: str):
        if not token or len(token) > MAX_TOKEN:
            return None
        import itsdangerous
        try:
            return self._serializer(salt).loads(token)
        except (itsdangerous.BadData, ValueError, TypeError, UnicodeError):
            return None
