"""What every run of the engine shares: the DTSTAMP it writes and the context targets open in."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from pathlib import Path

from ..core.model import Team

# Calendars synced side by side (sync --jobs), and busy-time sources read side by side: enough to
# hide a server's round trips, few enough for a small server (and its connection limit) to serve.
# 16 as vdirsyncer (aiohttp's connections per host): a team of ten goes in one wave, not two, and
# a server that closes the connection after every answer (Radicale's own) costs each request a
# new handshake, so it needs more requests in flight to fill the same round trips.
DEFAULT_JOBS = 16
MAX_JOBS = 64


def stamp_for(today: date) -> datetime:
    """DTSTAMP of new or changed events: derived from `today`, so runs are reproducible."""
    return datetime.combine(today, time(0), timezone.utc)


def context_for(team: Team, config_path: Path, *, jobs: int = DEFAULT_JOBS, **options):
    """The targets' context for one run over this team (options: log, retry, timeout)."""
    from ..targets.registry import TargetContext
    return TargetContext(config_dir=config_path.parent, team_name=team.name, jobs=jobs, **options)
