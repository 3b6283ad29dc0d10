"""The small interface of a publisher: a one-way channel to people.

Unlike a CalendarTarget nothing is read back from a publisher: a feed is made afresh from
the plan whenever it is asked for, and what an e-mail invitation said is remembered by the
invitation database (storage/invites.py). What is published when is decided in the engine
(engine/feeds.py, engine/invite.py); a publisher only delivers:

    publish(recipient, payload)   one payload to one recipient, now
                                  (a feed: the person's calendar body; mail: one message)

Implemented by targets.feed.FeedPublisher and targets.mail.SmtpPublisher.
"""
from __future__ import annotations

from typing import Protocol


class Publisher(Protocol):
    def describe(self) -> str:
        """Where this publishes, for messages (never containing secrets)."""

    def publish(self, recipient: str, payload) -> object:
        """Deliver one payload. Raises targets.base.Transient when worth trying again."""

    def close(self) -> None:
        """Let go of connections."""
