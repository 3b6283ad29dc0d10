"""Feed links as `feeds` and `feed-token rotate` print them: the server's real address, and the
state of each person's link (issue 11, defect 14)."""
from __future__ import annotations

import json
import re

from support.cli import run_in_process


def _with_feed(config, text: str):
    config.write_text(config.read_text(encoding="utf-8") + "\nfeed:\n" + text, encoding="utf-8")


def _states(out: str) -> dict[str, str]:
    """person -> the state column of the `feeds` table."""
    rows = re.findall(r"^  (\S+)\s{2,}(link since \S+|revoked \S+|no link yet)\s", out, re.M)
    return dict(rows)


def test_links_use_feed_listen_and_the_port_serve_is_given(example):
    _with_feed(example, "  listen: 127.0.0.1:9191\n")
    listed = run_in_process("feeds", "--config", str(example), "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["base_url"] == "http://127.0.0.1:9191"

    # `serve --port 9000`: the same --port here gives links that reach that server.
    made = run_in_process("feed-token", "rotate", "sanne", "--config", str(example), "--port", "9000")
    assert made.returncode == 0, made.stderr
    assert re.search(r"^  http://127\.0\.0\.1:9000/feed/sanne/[A-Za-z0-9_-]{43}\.ics$", made.stdout, re.M)
    assert re.search(r"^  webcal://127\.0\.0\.1:9000/feed/sanne/[A-Za-z0-9_-]{43}\.ics$", made.stdout, re.M)
    assert "8080" not in made.stdout + made.stderr and "http://127.0.0.1:9000 (feed.listen, or --host/--port)" \
        in made.stderr
    table = run_in_process("feeds", "--config", str(example), "--host", "::1", "--port", "9000")
    assert table.returncode == 0, table.stderr
    assert "at http://[::1]:9000/feed/PERSON/TOKEN.ics" in table.stdout


def test_a_public_base_url_is_the_link_whatever_the_listen_address(example):
    _with_feed(example, "  base_url: https://agenda.example.nl/team\n  listen: 127.0.0.1:9191\n")
    made = run_in_process("feed-token", "rotate", "ad", "--config", str(example), "--port", "9000",
                          "--format", "json")
    assert made.returncode == 0, made.stderr
    [link] = json.loads(made.stdout)["links"]
    assert link["url"].startswith("https://agenda.example.nl/team/feed/ad/") and made.stderr == ""


def test_feeds_says_revoked_after_a_revoke_until_a_new_link(example):
    config = str(example)
    assert run_in_process("feed-token", "rotate", "sanne", "ad", "--config", config).returncode == 0
    revoked = run_in_process("feed-token", "revoke", "sanne", "--config", config)
    assert revoked.returncode == 0 and revoked.stdout == "sanne: link revoked\n"

    table = run_in_process("feeds", "--config", config)
    states = _states(table.stdout)
    assert states["sanne"].startswith("revoked 20") and states["ad"].startswith("link since ")
    assert states["maarten"] == "no link yet"
    doc = json.loads(run_in_process("feeds", "--config", config, "--format", "json").stdout)
    sanne = next(row for row in doc["people"] if row["person"] == "sanne")
    assert sanne["has_link"] is False and sanne["revoked"] == states["sanne"].split()[1]

    # --missing is for people who never had a link: a revoked one is not quietly given back.
    missing = run_in_process("feed-token", "rotate", "--missing", "--config", config, "--format", "json")
    assert missing.returncode == 0, missing.stderr
    assert sorted(link["person"] for link in json.loads(missing.stdout)["links"]) == ["fatima", "jan-willem",
                                                                                      "maarten"]
    assert "left alone, their link was revoked: sanne" in missing.stderr
    assert _states(run_in_process("feeds", "--config", config).stdout)["sanne"].startswith("revoked ")

    assert run_in_process("feed-token", "rotate", "sanne", "--config", config).returncode == 0
    assert _states(run_in_process("feeds", "--config", config).stdout)["sanne"].startswith("link since ")
