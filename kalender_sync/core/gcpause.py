"""Building a large team's model allocates about a million small objects that all live on;
CPython's cyclic GC then rescans the growing heap again and again (7 s of 11 s for a
10,000-person config). None of these objects form cycles that need collecting."""
from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def paused_gc():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
