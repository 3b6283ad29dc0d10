"""The example team, copied into a fresh folder for each CLI test."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import EXAMPLE


@pytest.fixture
def example(tmp_path) -> Path:
    shutil.copy(EXAMPLE, tmp_path / "team.yaml")
    shutil.copy(EXAMPLE.with_name("contacts-log.yaml"), tmp_path / "contacts-log.yaml")
    return tmp_path / "team.yaml"
