"""Fixtures shared by every test folder; tests/helpers.py and tests/support/ are importable
from each of them (pytest puts this folder on sys.path).

Real CalDAV servers (Radicale, Xandikos) on 127.0.0.1, for the integration tests and the
contract suite of the calendar targets.

The servers themselves are started by ``support.servers`` (shared with bench/): each is a
subprocess started once per test session, bound to 127.0.0.1 only, on a free port, with
its storage and its log file in a pytest tmp dir.  Each test gets a fresh, uniquely named
calendar, so tests never see each other's events.

Fixtures:

* ``radicale_server``, ``strict_radicale_server``, ``xandikos_server``
  (session): a :class:`support.servers.RunningServer` (``.kind``, ``.url``, ``.log_path``,
  ``.start_seconds``, ...).
* ``caldav_server`` (function, parametrized over ``radicale`` and
  ``xandikos``): a :class:`CalDAVTarget` with ``.url``, ``.kind``,
  ``.principal_url``, ``.calendar_url`` (a fresh empty calendar made for this
  test), ``.new_calendar(name)`` (MKCALENDAR, returns the URL),
  ``.calendar(url=None)`` (a caldav Calendar), ``.request(method, url, body,
  headers)`` (raw authenticated HTTP, returns ``.status/.headers/.body``),
  ``.client`` (caldav.DAVClient), ``.principal``, ``.auth`` (Authorization
  header value), ``.server`` (the RunningServer).
* ``strict_radicale`` (function): the same for a Radicale started with
  ``[storage] strict_preconditions = True`` (``.kind == "radicale-strict"``).

A missing radicale / xandikos / caldav package skips the tests that need it
(the reason is listed by ``-ra``); a server that does not start fails them,
with its log in the message.
"""

from __future__ import annotations

import os
import textwrap

import pytest

from support import servers
from support.servers import CalDAVTarget

__all__ = ["CalDAVTarget"]


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: needs real CalDAV servers")
    config.addinivalue_line("markers", "contract: the contract every calendar target passes")
    # The per-user holiday cache (storage.holidaycache) of the test run lives in a folder of its
    # own, shared by the run's processes (they inherit the environment): never the user's own.
    if "KALENDER_SYNC_CACHE_DIR" not in os.environ:
        import tempfile
        os.environ["KALENDER_SYNC_CACHE_DIR"] = config._ks_cache_dir = tempfile.mkdtemp(prefix="ks-test-cache-")


def pytest_unconfigure(config):
    made = getattr(config, "_ks_cache_dir", None)
    if made:
        import shutil
        shutil.rmtree(made, ignore_errors=True)


def _require(module: str) -> None:
    """Skip (with the reason shown by -ra) when a server/client package is missing."""
    pytest.importorskip(module, reason=f"integration tests need the '{module}' package")


def _serve(tmp_path_factory, kind: str):
    _require("xandikos" if kind == "xandikos" else "radicale")
    try:
        server = servers.start(kind, tmp_path_factory.mktemp(kind))
    except servers.ServerStartError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def radicale_server(tmp_path_factory):
    yield from _serve(tmp_path_factory, "radicale")


@pytest.fixture(scope="session")
def strict_radicale_server(tmp_path_factory):
    yield from _serve(tmp_path_factory, "radicale-strict")


@pytest.fixture(scope="session")
def xandikos_server(tmp_path_factory):
    yield from _serve(tmp_path_factory, "xandikos")


def _target(request, server) -> CalDAVTarget:
    _require("caldav")
    return CalDAVTarget(server, request.node.name)


@pytest.fixture(params=["radicale", "xandikos"])
def caldav_server(request):
    target = _target(request, request.getfixturevalue(f"{request.param}_server"))
    yield target
    target.close()


@pytest.fixture
def strict_radicale(request, strict_radicale_server):
    target = _target(request, strict_radicale_server)
    yield target
    target.close()


@pytest.fixture(scope="session")
def radicale_with_login(tmp_path_factory):
    """Radicale that wants a login (htpasswd) and knows servers.USERNAME with servers.PASSWORD:
    for a calendar that forgot its username, and for a busy source that gets a 401."""
    pytest.importorskip("radicale", reason="integration tests need the 'radicale' package")
    workdir = tmp_path_factory.mktemp("radicale-login")
    storage = workdir / "collections"
    (workdir / "users").write_text(f"{servers.USERNAME}:{servers.PASSWORD}\n", encoding="utf-8")
    port = servers.free_port()
    config = workdir / "radicale.conf"
    config.write_text(textwrap.dedent(f"""\
        [server]
        hosts = {servers.HOST}:{port}
        [auth]
        type = htpasswd
        htpasswd_filename = {workdir / "users"}
        htpasswd_encryption = plain
        delay = 0
        [rights]
        type = owner_only
        [storage]
        filesystem_folder = {storage}
        [web]
        type = none
        """), encoding="utf-8")
    try:
        running = servers.start_server("radicale", ["-m", "radicale", "-C", str(config)], port, workdir, storage,
                                       home=f"/{servers.USERNAME}/")
    except servers.ServerStartError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield running
    running.stop()
