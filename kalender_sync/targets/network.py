"""What every connection to a server shares (CalDAV, SMTP, later web APIs): one timeout, one
retry policy, one request count.

Servers fail in passing (a 503 while restarting, a reset connection, a 4xx "try later" from
SMTP); a few tries with growing pauses ride that out, and a bounded count makes a server
that stays down end the run, which then exits 3 and converges on the next one.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

# How long one request may take before it counts as failed (and is retried).
NETWORK_TIMEOUT = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4            # tries per request, the first included
    base_delay: float = 0.1      # pause before the second try; doubles each time
    max_delay: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def pauses(self) -> Iterator[float]:
        """The pause before each try after the first."""
        delay = self.base_delay
        for _ in range(self.attempts - 1):
            yield min(delay, self.max_delay)
            delay *= 2


# CalDAV: a request is cheap to repeat, and a sync run should not stall for long.
CALDAV_RETRY = RetryPolicy()
# SMTP: a mail server that answers 4xx asks us to come back a little later.
SMTP_RETRY = RetryPolicy(base_delay=0.5)


@dataclass
class RequestLog:
    """Counts requests per method, for the summary, the tests and the benchmarks."""

    counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, method: str) -> None:
        with self._lock:     # calendars are synced side by side (sync --jobs)
            self.counts[method] = self.counts.get(method, 0) + 1

    @property
    def writes(self) -> int:
        return self.counts.get("PUT", 0) + self.counts.get("DELETE", 0)
