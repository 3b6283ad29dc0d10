"""The web pages' safety, against `kalender-sync serve` as a real process on 127.0.0.1.

All requests come from the one loopback client, so the tests that send many bad tokens or
wrong passwords (and trip the per-client limits) each run on a server of their own.
"""
from __future__ import annotations

import hashlib
import re
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from helpers import tampered
from kalender_sync.core.links import LINK_WEEKS, DoneLinks
from kalender_sync.storage.teamfiles import load
from webteam import (COACH_PASSWORD, TODAY, XSS_NAME, csrf_of, log_lines, payload, run_cli, start, today)

pytestmark = pytest.mark.integration

SCANNERS = ("Mozilla/5.0 (compatible; Microsoft Defender Safe Links)", "Proofpoint URL Defense",
            "Mimecast Link Scanner", "Slackbot-LinkExpanding 1.0", "Mozilla/5.0 (X11; Linux x86_64) "
            "AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start(tmp_path_factory.mktemp("web"))
    yield running
    running.stop()


@pytest.fixture
def own_server(tmp_path):
    running = start(tmp_path)
    yield running
    running.stop()


def key_of(server) -> bytes:
    return (server.folder / ".kalender-sync-key").read_text(encoding="ascii").strip().encode("ascii")


def log_bytes(server) -> bytes:
    return server.contact_log.read_bytes() if server.contact_log.exists() else b""


def open_form(session: requests.Session, link: str) -> str:
    page = session.get(link, timeout=10)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def post(session: requests.Session, link: str, **fields) -> requests.Response:
    return session.post(link, data=fields, timeout=30, allow_redirects=False)


def test_a_done_link_from_the_exported_file_opens_the_form_for_its_contact(server):
    links = server.links_of("fatima")
    assert len(links) == 10                        # one per agreement, all in the exported file
    link = links[sorted(links)[0]]
    page = requests.get(link, timeout=10)
    assert page.status_code == 200
    assert f"Contact with Contact {sorted(links)[0].split('-')[1]} van fatima" in page.text
    assert 'name="on"' in page.text and f'value="{TODAY}"' in page.text       # default: today
    assert 'name="next"' in page.text and 'name="note"' in page.text and 'value="snooze"' in page.text
    assert "<script" not in page.text                                         # works without JavaScript
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp and "script-src" not in csp
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    css = requests.get(f"{server.base}/static/site.css", timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")


def test_every_kind_of_bad_token_gets_one_and_the_same_404(own_server):
    server = own_server
    links = server.links_of("sanne")
    good = links[sorted(links)[0]]
    person, agreement, day = payload(good)
    ours = DoneLinks(server.base, key_of(server))
    other = DoneLinks(server.base, b"another server's key, 32 bytes long!!")
    token = good.rsplit("/", 1)[1]
    bad = {
        "garbage": "not-a-token",
        "tampered signature": tampered(token, len(token) - 1),
        "tampered payload": ours.done_token("ad", agreement, date.fromisoformat(day)).split(".")[0] + "." +
                            token.split(".")[1],
        "expired": ours.done_token(person, agreement, today() - timedelta(weeks=LINK_WEEKS, days=1)),
        "foreign key": other.done_token(person, agreement, date.fromisoformat(day)),
        "unknown person": ours.done_token("nobody", agreement, date.fromisoformat(day)),
        "unknown agreement": ours.done_token(person, "no-such-contact", date.fromisoformat(day)),
        "page token as done token": ours.page_token(person, "0" * 16),
        "too long": "A" * 2000,
    }
    answers = {}
    before = log_bytes(server)
    for kind, value in bad.items():
        for method in ("GET", "POST"):
            reply = requests.request(method, f"{server.base}/done/{value}", timeout=10)
            answers[(kind, method)] = (reply.status_code, reply.content, reply.headers["Content-Type"])
    assert {a for a in answers.values()} == {answers[("garbage", "GET")]}, answers
    assert answers[("garbage", "GET")][0] == 404
    assert log_bytes(server) == before
    # the last day a link works: still the form
    assert requests.get(f"{server.base}/done/" + ours.done_token(
        person, agreement, today() - timedelta(weeks=LINK_WEEKS)), timeout=10).status_code == 200
    served = server.server_log()
    for value in bad.values():
        assert value not in served
    assert token not in served


def test_get_and_head_by_scanners_and_previewers_change_nothing(server):
    links = server.links_of("ad")
    before = log_bytes(server)
    requests_made = 0
    for link in list(links.values())[:5]:
        for agent in SCANNERS:
            for method in ("GET", "HEAD"):
                reply = requests.request(method, link, headers={"User-Agent": agent}, timeout=10)
                assert reply.status_code == 200
                requests_made += 1
            assert requests.get(link + "?action=log&on=" + TODAY, timeout=10).status_code == 200
            requests_made += 1
    assert requests_made == 75                    # 5 links x 5 agents x (GET, HEAD, GET with a query)
    assert log_bytes(server) == before


def test_a_post_without_a_valid_csrf_token_writes_nothing(server):
    links = server.links_of("jan")
    first, second = links[sorted(links)[0]], links[sorted(links)[1]]
    before = log_bytes(server)
    # no token, no cookie
    assert requests.post(first, data={"on": TODAY}, timeout=10).status_code == 400
    # a token without the cookie it was made with (a forged cross-site form)
    field = csrf_of(requests.get(first, timeout=10).text)
    assert requests.post(first, data={"on": TODAY, "csrf": field}, timeout=10).status_code == 400
    # a token of another page, with its cookie
    session = requests.Session()
    other = open_form(session, second)
    assert post(session, first, on=TODAY, csrf=other).status_code == 400
    assert post(session, first, on=TODAY, csrf=other[:-2] + "xx").status_code == 400
    assert log_bytes(server) == before


def test_acting_twice_is_harmless_and_undo_takes_the_line_out(server):
    links = server.links_of("jan")
    link = links[sorted(links)[2]]
    session = requests.Session()
    field = open_form(session, link)
    before = log_lines(server)
    first = post(session, link, on=TODAY, next="2027-03-01", note="lunch", csrf=field, action="log")
    assert first.status_code == 200 and "Vastgelegd" in first.text and "1 maart 2027" in first.text
    after = log_lines(server)
    assert len(after) == len(before) + 1
    _, agreement, day = payload(link)
    assert after[-1] == (f'- {{who: jan, with: {agreement}, on: {TODAY}, next: 2027-03-01, for: {day}, '
                         'note: "lunch"}')
    replay = post(session, link, on=TODAY, next="2027-03-01", note="lunch", csrf=field, action="log")
    other_values = post(session, link, on="2026-11-30", csrf=field, action="log")
    snooze = post(session, link, until="2027-01-15", csrf=field, action="snooze")
    for reply in (replay, other_values, snooze):
        assert reply.status_code == 200 and "al vastgelegd" in reply.text
    assert log_lines(server) == after
    reopened = session.get(link, timeout=10)             # the link keeps working: it says what was logged
    assert "Vastgelegd" in reopened.text and 'value="undo"' in reopened.text and 'name="on"' not in reopened.text
    undo = re.search(r'name="undo" value="([^"]+)"', first.text).group(1)
    undone = post(session, link, undo=undo, csrf=field, action="undo")
    assert undone.status_code == 200 and "Ongedaan gemaakt" in undone.text
    assert log_lines(server) == before
    again = post(session, link, undo=undo, csrf=field, action="undo")
    assert "niets meer ongedaan" in again.text and log_lines(server) == before


def test_a_name_with_markup_stays_text(server):
    links = server.links_of("maarten")
    xss = next(link for link in links.values() if payload(link)[1].startswith("script"))
    session = requests.Session()
    page = session.get(xss, timeout=10)
    assert "<script>" not in page.text and "<b>Co</b>" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in page.text
    reply = post(session, xss, on=TODAY, note='<img src=x onerror="alert(1)">', csrf=csrf_of(page.text),
                 action="log")
    assert reply.status_code == 200 and "<img" not in reply.text and "&lt;script&gt;" in reply.text
    team = load(server.config)
    assert any(e.note == '<img src=x onerror="alert(1)">' for e in team.log)   # the log keeps the text as typed
    assert XSS_NAME in {a.contact for a in team.contacts}


@pytest.mark.parametrize("fields, message", [
    ({"on": "2026-12-03"}, "ligt in de toekomst"),
    ({"on": "2026-11-20", "next": "2026-11-19"}, "moet na dit contact komen"),
    ({"on": "2026-11-20", "note": "x" * 10_000}, "De notitie is te lang (10000 tekens"),
    ({"on": "20-11-2026"}, "geen geldige datum"),
    ({"on": ""}, "Vul een geldige datum in"),
    ({"until": "2026-12-01", "action": "snooze"}, "Kies een dag na vandaag"),
    ({"until": "2028-12-01", "action": "snooze"}, "binnen een jaar"),
])
def test_bad_input_gets_the_form_back_with_the_message_and_writes_nothing(server, fields, message):
    links = server.links_of("ad")
    link = links[sorted(links)[-1]]
    session = requests.Session()
    field = open_form(session, link)
    before = log_bytes(server)
    reply = post(session, link, csrf=field, **({"action": "log"} | fields))
    assert reply.status_code == 400
    assert message in reply.text and 'id="log-form"' in reply.text
    assert log_bytes(server) == before


def test_a_body_over_the_limit_is_refused_before_it_is_read(server):
    links = server.links_of("ad")
    link = links[sorted(links)[-2]]
    session = requests.Session()
    field = open_form(session, link)
    before = log_bytes(server)
    reply = post(session, link, csrf=field, on=TODAY, note="x" * 200_000)
    assert reply.status_code == 413 and log_bytes(server) == before


def test_fifty_simultaneous_posts_for_fifty_contacts_give_fifty_lines(own_server):
    links = [link for person in ("maarten", "sanne", "ad", "jan", "fatima")
             for link in own_server.links_of(person).values()]
    assert len(links) == 50
    forms = []
    for link in links:
        session = requests.Session()
        forms.append((session, link, open_form(session, link)))
    gate = threading.Barrier(len(forms))
    replies: list = [None] * len(forms)

    def send(index: int) -> None:
        session, link, field = forms[index]
        gate.wait()
        replies[index] = post(session, link, on=TODAY, note=f"gesprek {index}", csrf=field, action="log")

    before = log_lines(own_server)
    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(forms))]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    seconds = time.perf_counter() - began
    assert [r.status_code for r in replies] == [200] * 50, [r.text[-500:] for r in replies if r.status_code != 200]
    lines = log_lines(own_server)[len(before):]
    assert len(lines) == 50
    team = load(own_server.config)                       # every line valid: the log loads
    logged = {(e.owner, e.agreement) for e in team.log if e.on == today()}
    assert logged == {tuple(payload(link)[:2]) for link in links}
    print(f"\n50 simultaneous POSTs: 50 lines in {seconds:.2f} s")


def test_bad_tokens_are_rate_limited_per_client(own_server):
    links = own_server.links_of("fatima")
    good = next(iter(links.values()))
    codes = [requests.get(f"{own_server.base}/done/wrong-{n}", timeout=10).status_code for n in range(25)]
    assert codes == [404] * 20 + [429] * 5
    assert requests.get(good, timeout=10).status_code == 429        # the limit is per client, for every link
    log = own_server.server_log()
    assert "wrong-" not in log
    assert len(re.findall(r"not found for 127\.0\.0\.1", log)) == 1   # one log line a minute, not 20


def test_the_personal_page_lists_the_agreements_and_logs_a_contact(server):
    made = run_cli("feed-token", "rotate", "sanne", "--config", str(server.config), "--today", TODAY,
                   "--format", "json", env=server.env)
    assert made.returncode == 0, made.stderr
    import json
    link = json.loads(made.stdout)["links"][0]
    page_url = link["page"]
    assert page_url.startswith(f"{server.base}/me/")
    session = requests.Session()
    page = session.get(page_url, timeout=10)
    assert page.status_code == 200
    assert page.text.count('data-agreement="') == 10
    assert "Netwerkafspraken van Sanne Bakker" in page.text
    agreement = re.findall(r'data-agreement="([^"]+)"', page.text)[3]
    form_url = f"{page_url}/log/{agreement}"
    form = session.get(form_url, timeout=10)
    assert form.status_code == 200 and 'value="snooze"' not in form.text
    feed_before = requests.get(link["url"], timeout=10).content
    reply = post(session, form_url, on="2026-11-30", next="2027-01-20", csrf=csrf_of(form.text), action="log")
    assert reply.status_code == 200 and "20 januari 2027" in reply.text
    assert log_lines(server)[-1].startswith(f"- {{who: sanne, with: {agreement}, on: 2026-11-30, next: 2027-01-20")
    replay = post(session, form_url, on="2026-11-30", next="2027-01-20", csrf=csrf_of(form.text), action="log")
    assert "al vastgelegd" in replay.text
    feed_after = requests.get(link["url"], timeout=10).content      # the feed shows it on the next request
    assert feed_after != feed_before and b"20270120T" in feed_after
    rotated = run_cli("feed-token", "rotate", "sanne", "--config", str(server.config), "--today", TODAY,
                      env=server.env)
    assert rotated.returncode == 0
    assert requests.get(page_url, timeout=10).status_code == 404   # the page link ends with the feed link


def test_the_coach_logs_in_and_sees_the_team(server):
    session = requests.Session()
    assert session.get(f"{server.base}/team", allow_redirects=False, timeout=10).status_code == 303
    form = session.get(f"{server.base}/login", timeout=10)
    wrong = session.post(f"{server.base}/login", data={"password": "wrong", "csrf": csrf_of(form.text)},
                         allow_redirects=False, timeout=10)
    assert wrong.status_code == 401
    right = session.post(f"{server.base}/login", data={"password": COACH_PASSWORD, "csrf": csrf_of(wrong.text)},
                         allow_redirects=False, timeout=10)
    assert right.status_code == 303 and "HttpOnly" in right.headers["Set-Cookie"] \
        and "SameSite=Strict" in right.headers["Set-Cookie"]
    team = session.get(f"{server.base}/team", timeout=10)
    assert team.status_code == 200 and team.text.count('data-person="') == 5
    assert 'id="contacts-per-month"' in team.text
    assert "<script>" not in team.text
    person = session.get(f"{server.base}/team/person/fatima", timeout=10)
    assert person.status_code == 200 and person.text.count('data-agreement="') == 10
    assert requests.get(f"{server.base}/team/person/fatima", allow_redirects=False, timeout=10).status_code == 303
    out = session.post(f"{server.base}/logout", data={"csrf": csrf_of(team.text)}, allow_redirects=False, timeout=10)
    assert out.status_code == 303
    assert session.get(f"{server.base}/team", allow_redirects=False, timeout=10).status_code == 303


def test_failed_logins_are_limited(own_server):
    session = requests.Session()
    field = csrf_of(session.get(f"{own_server.base}/login", timeout=10).text)
    codes = [session.post(f"{own_server.base}/login", data={"password": f"guess {n}", "csrf": field},
                          timeout=10).status_code for n in range(7)]
    assert codes == [401] * 5 + [429] * 2
    assert session.post(f"{own_server.base}/login", data={"password": COACH_PASSWORD, "csrf": field},
                        allow_redirects=False, timeout=10).status_code == 429
    assert COACH_PASSWORD not in own_server.server_log() and "guess" not in own_server.server_log()


def test_no_token_and_no_secret_reaches_the_server_log(server):
    log = server.server_log()
    tokens = [link.rsplit("/", 1)[1] for person in ("maarten", "sanne", "ad", "jan", "fatima")
              for link in server.links_of(person).values()]
    assert tokens and not [t for t in tokens if t in log or t.split(".")[1] in log]
    assert "/done/***" in log
    assert COACH_PASSWORD not in log and hashlib.sha256(key_of(server)).hexdigest() not in log
    assert key_of(server).decode() not in log
    assert (server.folder / ".kalender-sync-key").stat().st_mode & 0o777 == 0o600


def test_check_says_whether_links_are_on(server, tmp_path):
    checked = run_cli("check", "--config", str(server.config), "--today", TODAY, env=server.env)
    assert checked.returncode == 0 and "done links: on" in checked.stdout
    plain = tmp_path / "plain.yaml"
    plain.write_text(re.sub(r"feed:\n  base_url: \S+\n", "feed:\n", server.config.read_text()), encoding="utf-8")
    checked = run_cli("check", "--config", str(plain), "--today", TODAY, env=server.env)
    assert checked.returncode == 0 and "done links: off" in checked.stdout
    assert not (tmp_path / ".kalender-sync-key").exists()
    exported = run_cli("export", "--config", str(plain), "--today", TODAY, env=server.env)
    assert exported.returncode == 0
    texts = "".join(p.read_text() for p in Path(tmp_path / "out").glob("*.ics"))
    assert "/done/" not in texts and "kalender-sync log" in texts
