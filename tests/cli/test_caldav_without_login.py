"""A CalDAV calendar on a server without login: no `username` means no authentication, and no
password is asked for (not even a `password_env` left over from a copied example). With a
username, a missing password is still the clear error it was. Against real servers that run
without authentication (Radicale with `[auth] type = none`, Xandikos)."""
from __future__ import annotations

import json
import textwrap
import uuid

import pytest

from support.cli import run_in_process as run

pytestmark = pytest.mark.integration

UNSET = "KS_TEST_NO_SUCH_PASSWORD"


@pytest.fixture(params=["radicale", "xandikos"])
def server(request):
    pytest.importorskip("caldav", reason="CalDAV tests need the 'caldav' package")
    return request.getfixturevalue(f"{request.param}_server")


def _team(server, tmp_path, credentials: str):
    """A config whose calendar is a fresh collection per person on `server`; its URL template."""
    run_id = uuid.uuid4().hex[:8]
    urls = {person: server.new_calendar(f"nologin-{run_id}-{person}") for person in ("maarten", "sanne")}
    template = urls["maarten"].replace("-maarten/", "-{person}/")
    config = tmp_path / "team.yaml"
    config.write_text(textwrap.dedent(f"""\
        version: 1
        timezone: Europe/Amsterdam
        calendars:
          dav: {{caldav: "{template}"{credentials}}}
        people:
          maarten: {{name: Maarten van Os, calendar: dav}}
          sanne: {{name: Sanne Bakker, calendar: dav}}
        contacts:
          - {{owner: maarten, with: Piet de Vries, every: 4 months, last: 2026-07-01}}
          - {{owner: sanne, with: Joost Willems, every: 6 months, last: 2026-06-30}}
        """), encoding="utf-8")
    return config, urls


def _sync(config, *extra):
    return run("sync", "--config", str(config), "--today", "2026-11-24", "--format", "json", *extra,
               cwd=config.parent, env={UNSET: None})


@pytest.mark.parametrize("credentials", ["", f", password_env: {UNSET}", ", keyring: kalender-sync"],
                         ids=["nothing", "password_env left over", "keyring left over"])
def test_without_a_username_sync_logs_in_to_nothing_and_asks_no_password(server, tmp_path, credentials):
    config, urls = _team(server, tmp_path, credentials)
    dry = _sync(config, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    planned = {person["id"]: person["changes"]["create"] for person in json.loads(dry.stdout)["people"]}
    assert planned == {"maarten": 1, "sanne": 1}
    assert all(server.count_objects(url) == 0 for url in urls.values())

    result = _sync(config)
    assert result.returncode == 0, result.stderr
    assert {person: server.count_objects(url) for person, url in urls.items()} == {"maarten": 1, "sanne": 1}
    again = _sync(config)
    assert again.returncode == 0, again.stderr
    assert {person: server.count_objects(url) for person, url in urls.items()} == {"maarten": 1, "sanne": 1}


@pytest.mark.parametrize("extra", [[], ["--dry-run"]], ids=["sync", "dry-run"])
def test_with_a_username_a_missing_password_is_still_a_clear_error(server, tmp_path, extra):
    config, urls = _team(server, tmp_path, f", username: alice, password_env: {UNSET}")
    result = _sync(config, *extra)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: calendar 'dav': the environment variable {UNSET} is not set\n"
    assert all(server.count_objects(url) == 0 for url in urls.values())




def test_a_server_that_wants_a_login_says_so_when_the_username_is_missing(radicale_with_login, tmp_path):
    config, urls = _team(radicale_with_login, tmp_path, "")
    result = _sync(config)
    assert result.returncode == 1, result.stdout + result.stderr   # nothing done: a run failure, not a config one
    assert ("the server asks for a login (401/403); give the calendar a username, and password_env or keyring"
            in result.stdout + result.stderr), result.stdout + result.stderr
    assert all(radicale_with_login.count_objects(url) == 0 for url in urls.values())
