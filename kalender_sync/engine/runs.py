"""What every run of the engine shares: the DTSTAMP it writes and the context targets open in."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from pathlib import Path

from ..core.model import Team


def stamp_for(today: date) -> datetime:
    """DTSTAMP of new or changed events: derived from `today`, so runs are reproducible."""
    return datetime.combine(today, time(0), timezone.utc)


def context_for(team: Team, config_path: Path, **options):
    """The targets' context for one run over this team (options: log, retry, timeout)."""
    from ..targets.registry import TargetContext
    return TargetContext(config_dir=config_path.parent, team_name=team.name, **options)
