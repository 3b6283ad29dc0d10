"""The web pages in a real browser: Playwright for Python driving Debian's Chromium.

No browser download works on these machines (field notes): Playwright is pointed at
/usr/bin/chromium with `executable_path`. The person's pages are driven with JavaScript off
(they must work without it); every page is saved as a screenshot under test-artifacts/web/
(or $KS_ARTIFACTS) to be looked at.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kalender_sync.storage.teamfiles import load
from webteam import COACH_PASSWORD, TODAY, log_lines, payload, start, today

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("KS_ARTIFACTS", ROOT / "test-artifacts")) / "web"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def chromium() -> str:
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    message = "Debian's Chromium is needed for the browser tests: apt-get install -y chromium"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this is a failure, not a skip)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start(tmp_path_factory.mktemp("webbrowser"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def person_page(browser):
    """A page with JavaScript off, collecting what the console says (a CSP refusal would show there)."""
    context = browser.new_context(java_script_enabled=False, locale="nl-NL", viewport={"width": 900, "height": 900})
    page = context.new_page()
    page.console_messages = []
    page.on("console", lambda message: page.console_messages.append(message.text))
    yield page
    context.close()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000          # a page was drawn, not a blank
    return path


def test_a_person_logs_a_contact_from_the_link_in_their_exported_calendar_and_undoes_it(server, person_page):
    page = person_page
    links = server.links_of("fatima")              # taken from the .ics descriptions
    agreement = sorted(links)[1]
    link = links[agreement]
    page.goto(link)
    assert page.locator("h1").inner_text() == "Contact with Contact 1 van fatima"
    assert page.locator("#on").input_value() == TODAY
    shot(page, "1-done-form")
    before = log_lines(server)
    page.fill("#next", "2027-04-01")
    page.fill("#note", "Coffee at the station <b>really</b>")
    page.click("text=Log the contact")
    page.wait_for_selector("#result")
    result = page.locator("#result").inner_text()
    assert "Logged: contact with Contact 1 van fatima on 2 December 2026." in result
    assert "Next contact agreed on 1 April 2027." in result and "Next reminder: 1 April 2027" in result
    shot(page, "2-done-logged")
    lines = log_lines(server)
    assert lines[:-1] == before
    assert lines[-1] == (f'- {{who: fatima, with: {agreement}, on: {TODAY}, next: 2027-04-01, '
                         f'for: {payload(link)[2]}, note: "Coffee at the station <b>really</b>"}}')
    page.click("text=Undo")
    page.wait_for_selector("h1:has-text('Undone')")
    shot(page, "3-done-undone")
    assert log_lines(server) == before
    assert not [m for m in page.console_messages if "Content Security Policy" in m]


def test_bad_input_comes_back_with_the_message_and_the_values(server, person_page):
    page = person_page
    links = server.links_of("fatima")
    page.goto(links[sorted(links)[2]])
    before = log_lines(server)
    page.fill("#on", "2026-11-20")
    page.fill("#next", "2026-11-19")
    page.fill("#note", "kept as typed")
    page.click("text=Log the contact")
    page.wait_for_selector("#problems")
    assert "The next contact must come after this one (20 November 2026)." in page.locator("#problems").inner_text()
    assert page.locator("#note").input_value() == "kept as typed" and page.locator("#on").input_value() == "2026-11-20"
    shot(page, "4-done-bad-input")
    assert log_lines(server) == before


def test_not_now_moves_the_next_reminder(server, person_page):
    page = person_page
    links = server.links_of("fatima")
    agreement = sorted(links)[3]
    page.goto(links[agreement])
    page.fill("#until", "2027-01-19")
    page.click("button[value=snooze]")
    page.wait_for_selector("#result")
    text = page.locator("#result").inner_text()
    assert "You get a new reminder about Contact 3 van fatima on or after 19 January 2027." in text
    assert "Next reminder: 19 January 2027" in text
    shot(page, "5-done-snoozed")
    assert log_lines(server)[-1] == f"- {{who: fatima, with: {agreement}, snooze: 2027-01-19, for: {payload(links[agreement])[2]}}}"


def test_the_coach_sees_the_persons_contact_as_done(server, browser, person_page):
    links = server.links_of("jan")
    agreement = sorted(links)[0]
    person_page.goto(links[agreement])
    person_page.fill("#on", "2026-12-01")
    person_page.click("text=Contact vastleggen")
    person_page.wait_for_selector("#result")
    assert "Vastgelegd: contact met Contact 0 van jan op 1 december 2026." in person_page.locator("#result").inner_text()
    team = load(server.config)
    assert any(e.owner == "jan" and e.agreement == agreement and e.on.isoformat() == "2026-12-01" for e in team.log)

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{server.base}/team")
    assert page.url.endswith("/login")
    shot(page, "6-coach-login")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert "Dat wachtwoord klopt niet." in page.content()
    page.fill("#password", COACH_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#people")
    row = page.locator("tr[data-person=jan]")
    cells = row.locator("td").all_inner_texts()
    # done this year: the ten `last:` dates of 2026 in the config, and the one just logged
    assert cells[0].startswith("Jan de Wit") and cells[1:3] == ["10", "11"]
    assert page.locator("svg#contacts-per-month rect.bar.done[data-month='2026-12']").get_attribute("data-value") \
        == str(sum(1 for e in load(server.config).log if e.on.month == 12))
    shot(page, "7-coach-team")
    row.locator("a").click()
    page.wait_for_selector("#agreements")
    state = page.locator(f"tr[data-agreement={agreement}]").locator("td").all_inner_texts()
    assert state[0] == "Contact 0 van jan" and state[2] == "1 december 2026" and "gepland" in state[3]
    assert page.locator("form").count() == 0                               # the coach's view only shows
    shot(page, "8-coach-person")
    context.close()


def test_the_personal_page_shows_the_agreements_and_logs_any_of_them(server, person_page):
    from webteam import run_cli
    import json
    made = run_cli("feed-token", "rotate", "ad", "--config", str(server.config), "--today", TODAY,
                   "--format", "json", env=server.env)
    page_url = json.loads(made.stdout)["links"][0]["page"]
    page = person_page
    page.goto(page_url)
    assert page.locator("tr[data-agreement]").count() == 10
    shot(page, "9-personal-page")
    page.locator("tr[data-agreement] a").nth(4).click()
    page.wait_for_selector("#log-form")
    assert page.locator("#snooze-form").count() == 0
    page.fill("#on", "2026-11-28")
    page.click("text=Contact vastleggen")
    page.wait_for_selector("#result")
    assert "28 november 2026" in page.locator("#result").inner_text()
    shot(page, "10-personal-logged")
    assert re.match(r"- \{who: ad, with: contact-4-van-ad, on: 2026-11-28\}", log_lines(server)[-1])
    assert today().isoformat() == TODAY
