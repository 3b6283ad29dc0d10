"""The README's "Try it on a copy" block works as written and leaves the tracked example team alone."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRY_DIR = "/tmp/kalender-try"


def _try_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Try it on a copy", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the README has no sh block under 'Try it on a copy'"
    return match.group(1)


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "out" not in p.relative_to(folder).parts}


def test_the_try_block_runs_on_a_copy_and_leaves_config_untouched(tmp_path):
    block = _try_block()
    assert TRY_DIR in block
    # Every command that writes must be pointed away from config/: by the copy's env var,
    # and never by an explicit --config config/...
    assert "--config config/" not in block
    before = _tree_digest(ROOT / "config")
    copy = tmp_path / "try"
    # The block calls the README's .venv; run it with whatever environment runs the tests.
    script = block.replace(TRY_DIR, str(copy)).replace(".venv/bin/", f"{Path(sys.executable).parent}/")
    env = {k: v for k, v in os.environ.items() if k != "KALENDER_SYNC_CONFIG"}
    commands = [line for line in script.splitlines() if line.strip()]
    # Run line by line so that a failure names its command; `set -e` keeps the env var.
    result = subprocess.run(["bash", "-e", "-x", "-c", "\n".join(commands)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _tree_digest(ROOT / "config") == before
    # The commands did write, into the copy: the log line and the imported agreements.
    log = (copy / "contacts-log.yaml").read_text(encoding="utf-8")
    assert "2026-11-20" in log and "2027-03-01" in log
    assert "Joris Bakker" in (copy / "example.yaml").read_text(encoding="utf-8")
