"""The per-user holiday cache (storage.holidaycache), through real processes: a second command
does not import the `holidays` library, a memo of another version is not believed, a bad
config writes no cache, and a cache that cannot be written is no error."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import EXAMPLE, HOLIDAYS_PROBE

def run(cache: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUTF8="1", KALENDER_SYNC_CACHE_DIR=cache)
    return subprocess.run([sys.executable, "-c", HOLIDAYS_PROBE, *args], capture_output=True, text=True, env=env,
                          timeout=120)


def example(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE.parent, tmp_path / "config", ignore=shutil.ignore_patterns("out"))
    return tmp_path / "config" / "example.yaml"


def test_the_second_command_takes_public_holidays_from_the_cache(tmp_path):
    config, cache = example(tmp_path), tmp_path / "cache"
    plan = ("plan", "--config", str(config), "--today", "2026-12-02", "--person", "maarten")
    first = run(str(cache), *plan)
    assert first.returncode == 0, first.stderr
    assert "holidays imported: True" in first.stderr
    memo = json.loads((cache / "holidays.json").read_text(encoding="utf-8"))
    import holidays
    assert memo["version"] == holidays.__version__
    assert memo["dates"] and all(
        sorted(days) == sorted(d.isoformat() for d in holidays.country_holidays(c, subdiv=s, years=[y]))
        for c, s, y, days in memo["dates"])
    again = run(str(cache), *plan)
    assert again.returncode == 0, again.stderr
    assert "holidays imported: False" in again.stderr
    assert again.stdout == first.stdout
    # Another command and another config folder share it.
    other = example(tmp_path / "other")
    check = run(str(cache), "check", "--config", str(other))
    assert check.returncode == 0, check.stderr
    assert "holidays imported: False" in check.stderr


def test_a_memo_of_another_library_version_is_not_believed(tmp_path):
    config, cache = example(tmp_path), tmp_path / "cache"
    plan = ("plan", "--config", str(config), "--today", "2026-12-02", "--person", "maarten", "--format", "json")
    honest = run("off", *plan)
    assert honest.returncode == 0, honest.stderr
    first = run(str(cache), *plan)
    memo = json.loads((cache / "holidays.json").read_text(encoding="utf-8"))
    # Every working day of 2027 a holiday, from "another version": it must be ignored.
    from datetime import date, timedelta
    every_day = [(date(2027, 1, 1) + timedelta(days=i)).isoformat() for i in range(365)]
    memo["dates"] = [[c, s, y, every_day if y == 2027 else d] for c, s, y, d in memo["dates"]]
    (cache / "holidays.json").write_text(json.dumps(memo | {"version": "0.0.1"}), encoding="utf-8")
    again = run(str(cache), *plan)
    assert again.returncode == 0, again.stderr
    assert "holidays imported: True" in again.stderr
    assert again.stdout == honest.stdout == first.stdout
    renewed = json.loads((cache / "holidays.json").read_text(encoding="utf-8"))
    import holidays
    assert renewed["version"] == holidays.__version__


def test_a_bad_config_writes_no_cache_and_an_unwritable_cache_is_no_error(tmp_path):
    config, cache = example(tmp_path), tmp_path / "cache"
    bad = tmp_path / "bad.yaml"
    bad.write_text(config.read_text(encoding="utf-8").replace("holidays: NL ", "holidays: XX "), encoding="utf-8")
    assert "holidays: XX " in bad.read_text(encoding="utf-8")
    refused = run(str(cache), "check", "--config", str(bad))
    assert refused.returncode == 2, refused.stderr
    assert not cache.exists()
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    ok = run(str(blocked / "cache"), "check", "--config", str(config))
    assert ok.returncode == 0, ok.stderr
    assert not (blocked / "cache").exists() and blocked.read_text(encoding="utf-8") == "not a folder"


def test_the_library_version_is_the_installed_one_without_importlib_metadata():
    # A fresh interpreter: whether importlib.metadata was needed is visible in sys.modules.
    probe = ("import sys; from kalender_sync.storage.holidaycache import library_version; "
             "print(library_version(), 'importlib.metadata' in sys.modules, 'holidays' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    from importlib.metadata import version
    assert out.stdout.split() == [version("holidays"), "False", "False"]


def test_the_library_version_comes_from_the_folder_beside_the_package(tmp_path, monkeypatch):
    from kalender_sync.storage import holidaycache
    site = tmp_path / "site"
    (site / "holidays").mkdir(parents=True)
    (site / "holidays" / "__init__.py").write_text("", encoding="utf-8")
    (site / "holidays-9.8.7.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(site))
    # find_spec answers from sys.modules for a library imported already (by another test).
    monkeypatch.delitem(sys.modules, "holidays", raising=False)
    assert holidaycache.library_version() == "9.8.7"
    # Two such folders (a half-finished upgrade): importlib.metadata decides, here from the
    # first folder on the path that has metadata.
    (site / "holidays-9.9.dist-info").mkdir()
    (site / "holidays-9.9.dist-info" / "METADATA").write_text("Name: holidays\nVersion: 9.9\n", encoding="utf-8")
    assert holidaycache.library_version() == "9.9"
