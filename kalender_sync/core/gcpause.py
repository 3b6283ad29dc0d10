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


def settle() -> None:
    """For one-shot commands: everything allocated so far lives until the process ends.

    gc.freeze() moves it to the permanent generation, so the collections that later work
    triggers do not walk the million objects of a large team again (1 s per `plan` of
    10,000 people). Not for the feed server, which reloads the config and must be able to
    collect the old one.
    """
    gc.freeze()
