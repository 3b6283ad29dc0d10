"""Commands for the subscribable feeds: serve, feeds, feed-token."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from .options import common, load_team
from ..core.errors import UsageError
from ..storage.feedtokens import TokenStore, base_url, default_path, feed_url, page_generation, webcal_url


def _tokens_option(func):
    return click.option("--tokens", "tokens_path", type=click.Path(path_type=Path, dir_okay=False),
                        help="The feed token file (default: .kalender-sync-feeds.json next to the config).")(func)


def _store(config_path: Path, tokens_path: Path | None) -> TokenStore:
    return TokenStore(tokens_path or default_path(config_path))


def _address_options(func):
    """--host/--port: the address `serve` listens on, when it is not feed.listen; the links'
    address follows it while feed.base_url is not set."""
    func = click.option("--port", type=click.IntRange(1, 65535),
                        help="The port `kalender-sync serve` listens on, if not the one of feed.listen "
                             "(for the links, while feed.base_url is not set).")(func)
    return click.option("--host", help="The address `kalender-sync serve` listens on, if not the one of "
                                       "feed.listen (for the links, while feed.base_url is not set).")(func)


def _base_note(team, base: str) -> str | None:
    if team.feed.base_url:
        return None
    return (f"note: feed.base_url is not set in the config, so these links use the server's own address "
            f"{base} (feed.listen, or --host/--port). Google and Outlook need a public https:// address: set "
            "feed.base_url to the address of the reverse proxy in front of `kalender-sync serve` (the secret "
            "part of a link does not change with it).")


@click.command()
@common
@_tokens_option
@click.option("--host", help="Address to listen on (default: from feed.listen in the config, else 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port to listen on (default: from feed.listen, else 8080).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Worker threads.")
@click.option("--trusted-proxy", metavar="ADDRESS",
              help="The reverse proxy's address; its X-Forwarded-For then names the client in the log.")
def serve(config_path: Path, today: date | None, tokens_path: Path | None, host: str | None, port: int | None,
          threads: int, trusted_proxy: str | None):
    """Serve each person's calendar as a subscribable ICS feed at a secret URL.

    \b
    GET /feed/PERSON/TOKEN.ics   the person's planned events (METHOD:PUBLISH)
    GET /healthz                 JSON status; 503 while the config does not load
    /done/TOKEN                  a contact reminder's done link: log it, snooze, undo
    /me/TOKEN                    a person's own page (the link from feed-token rotate)
    /team                        the coach's dashboard (login: coach-password)

    Links are made with `kalender-sync feed-token rotate`. The server listens on
    127.0.0.1 unless told otherwise: put an https reverse proxy in front of it and
    set feed.base_url to its address (Google and Outlook need a public https URL).

    Edits to the config and the contact log, a new day and rotated tokens take
    effect on the next request, without a restart. A config that stops loading
    does not take the feeds down: the last good plan is served and /healthz
    answers 503 until the config loads again. Tokens never appear in the log;
    wrong links get a 404 and are logged at most once a minute per client.
    """
    from ..storage.linkkey import link_key, where
    from ..storage.teamfiles import load
    from ..targets.feed import FeedApp, create_server, log_to_stderr, run_until_stopped
    from ..web.app import Site, coach_password_hash, create_app

    # Not load_team: a long-running server must be able to collect old configs (see options).
    team = load(config_path)                 # refuse to start with a broken config
    store = _store(config_path, tokens_path)
    records = store.records()                # ... or a damaged token file
    host = host or team.feed.host
    port = team.feed.port if port is None else port
    log = log_to_stderr()
    app = FeedApp(config_path, store, today)
    app.plans.current()
    key = link_key(config_path)              # the same key `sync` and `export` sign links with
    web = create_app(app.plans, store, key, secure_cookies=(team.feed.base_url or "").startswith("https://"))
    server = create_server(Site(app, web), host, port, threads=threads, trusted_proxy=trusted_proxy)
    shown_host = f"[{host}]" if ":" in host else host
    revoked = store.revoked()
    missing = [p for p in team.people if p not in records and p not in revoked]
    ended = [p for p in team.people if p in revoked]
    log.info("serving %d feeds of %s on http://%s:%s/ (health: /healthz)%s", len(records.keys() & team.people),
             team.name, shown_host, server.effective_port, f"; today fixed at {today}" if today else "")
    links = base_url(team.feed, host, server.effective_port)
    # Not the whole link form: anything after /feed/PERSON/ is redacted from the log.
    log.info("feed links here start with %s/feed/", links)
    if not team.feed.base_url and (host, server.effective_port) != (team.feed.host, team.feed.port):
        options = (f" --host {host}" if host != team.feed.host else "") + (
            f" --port {server.effective_port}" if server.effective_port != team.feed.port else "")
        log.warning("links made by `kalender-sync feed-token rotate` use feed.listen (%s), not this server's "
                    "address: give it the same%s, or set feed.listen (or feed.base_url) in the config",
                    base_url(team.feed), options)
    if team.feed.base_url:
        log.info("done links on: %s/done/… (signed with the key from %s)", team.feed.base_url, where(config_path))
    else:
        log.info("done links off: set feed.base_url to put a done link in every contact reminder")
    log.info("coach dashboard: %s", f"{links}/team" if coach_password_hash() else
             "off (set KALENDER_SYNC_COACH_PASSWORD_HASH; `kalender-sync coach-password` makes it)")
    if missing:
        log.warning("no feed link yet for: %s (kalender-sync feed-token rotate --missing)", ", ".join(missing))
    if ended:
        log.info("link revoked for: %s (kalender-sync feed-token rotate PERSON gives a new one)", ", ".join(ended))
    run_until_stopped(server)
    log.info("stopped")


@click.command()
@common
@_tokens_option
@_address_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def feeds(config_path: Path, today: date | None, tokens_path: Path | None, host: str | None, port: int | None,
          fmt: str):
    """List who has a feed link, and how to give someone a new one.

    The links themselves cannot be shown again: the token file keeps only a hash
    of each secret token, so a copy of that file gives nobody a working link. A
    link is printed once, by `kalender-sync feed-token rotate PERSON` (which also
    ends that person's previous link); `feed-token rotate --missing` makes links
    for everyone who has none yet without touching the others. A revoked link
    stays "revoked" until `feed-token rotate PERSON` makes a new one.
    """
    team, _ = load_team(config_path, today)
    store = _store(config_path, tokens_path)
    records = store.records()
    revoked = store.revoked()
    base = base_url(team.feed, host, port)
    rows = []
    for person in team.people.values():
        record = records.get(person.id)
        shape = feed_url(base, person.id, "TOKEN")
        rows.append({"person": person.id, "name": person.name, "has_link": record is not None,
                     "since": record.created if record else None, "revoked": revoked.get(person.id),
                     "url": shape, "webcal": webcal_url(shape)})
    stale = sorted(p for p in records if p not in team.people)
    if fmt == "json":
        click.echo(json.dumps({"base_url": base, "token_file": str(store.path), "people": rows,
                               "not_in_config": stale}, indent=2, ensure_ascii=False))
        return
    click.echo(f"Feeds of {team.name} at {base}/feed/PERSON/TOKEN.ics (tokens: {store.path})")
    width = max((len(r["person"]) for r in rows), default=0)
    for row in rows:
        state = (f"link since {row['since']}" if row["has_link"] else
                 f"revoked {row['revoked']}" if row["revoked"] else "no link yet")
        click.echo(f"  {row['person']:<{width}}  {state:<32} {row['name']}")
    for person in stale:
        click.echo(f"  {person:<{width}}  not in the config, but still has a working link "
                   f"(kalender-sync feed-token revoke {person})")
    click.echo("\nOnly a hash of each token is stored, so existing links cannot be shown again.\n"
               "New link for someone (their old one stops working): kalender-sync feed-token rotate PERSON\n"
               "Links for everyone who has none yet:              kalender-sync feed-token rotate --missing\n"
               "(--missing leaves revoked links alone: name the person to give them a new one.)")
    note = _base_note(team, base)
    if note:
        click.echo(note, err=True)


@click.group("feed-token")
def feed_token():
    """Create, rotate and revoke the secret tokens in the feed links."""


@feed_token.command()
@common
@_tokens_option
@click.argument("people", nargs=-1, metavar="[PERSON]...")
@click.option("--all", "everyone", is_flag=True, help="Everyone in the config.")
@click.option("--missing", is_flag=True,
              help="Everyone in the config who has no link yet (not those whose link was revoked).")
@_address_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def rotate(config_path: Path, today: date | None, tokens_path: Path | None, people: tuple[str, ...],
           everyone: bool, missing: bool, host: str | None, port: int | None, fmt: str):
    """Make a new secret feed link for PERSON (or --all, --missing) and print it.

    This is the only time a link is shown: only a hash of the token is stored.
    The person's previous link stops working at once (also in a running
    `kalender-sync serve`), so whoever subscribed with it must subscribe again
    with the new link. Each link is printed twice: as the web address, https://
    once feed.base_url is set (Google, Outlook on the web: add calendar from
    URL), and as webcal:// (opens a subscription in Apple Calendar and Outlook).
    Without feed.base_url the address is the server's own: feed.listen, or the
    --host/--port that `kalender-sync serve` is started with (give the same here).
    """
    if sum(bool(x) for x in (people, everyone, missing)) != 1:
        raise UsageError("name one or more people, or use --all or --missing (one of these)")
    team, _ = load_team(config_path, today)
    store = _store(config_path, tokens_path)
    if everyone:
        chosen = list(team.people)
    elif missing:
        have, revoked = store.records(), store.revoked()
        chosen = [p for p in team.people if p not in have and p not in revoked]
        left = [p for p in team.people if p in revoked]
        if left:
            click.echo(f"left alone, their link was revoked: {', '.join(left)} "
                       "(kalender-sync feed-token rotate PERSON gives one a new link)", err=True)
    else:
        unknown = [p for p in people if p not in team.people]
        if unknown:
            raise UsageError(f"unknown person: {', '.join(unknown)} (known: {', '.join(team.people)})")
        chosen = list(dict.fromkeys(people))
    if not chosen:
        click.echo("everyone already has a link; nothing to do", err=True)
        if fmt == "json":
            click.echo(json.dumps({"links": []}))
        return
    tokens = store.rotate(chosen)
    base = base_url(team.feed, host, port)
    links = [{"person": p, "name": team.people[p].name, "url": feed_url(base, p, tokens[p]),
              "webcal": webcal_url(feed_url(base, p, tokens[p]))} for p in chosen]
    if team.links:
        # The personal page's link names the feed token's generation: it ends with the feed link.
        for link in links:
            link["page"] = team.links.page_url(link["person"], page_generation(store.records()[link["person"]]))
    if fmt == "json":
        click.echo(json.dumps({"links": links}, indent=2, ensure_ascii=False))
    else:
        click.echo("New feed links. They are shown only this once; each person's previous link no longer works.")
        for link in links:
            click.echo(f"\n{link['person']} ({link['name']})\n  {link['url']}\n  {link['webcal']}")
            if "page" in link:
                click.echo(f"  personal page: {link['page']}")
    note = _base_note(team, base)
    if note:
        click.echo(note, err=True)


@feed_token.command()
@common
@_tokens_option
@click.argument("people", nargs=-1, metavar="[PERSON]...")
@click.option("--all", "everyone", is_flag=True, help="Every token in the token file.")
def revoke(config_path: Path, today: date | None, tokens_path: Path | None, people: tuple[str, ...],
           everyone: bool):
    """End PERSON's feed link (or --all) without making a new one.

    Works from the token file alone, so also for people no longer in the config
    and while the config does not load. `kalender-sync feeds` shows the link as
    revoked until `feed-token rotate PERSON` makes a new one.
    """
    if bool(people) == everyone:
        raise UsageError("name one or more people, or use --all (one of these)")
    store = _store(config_path, tokens_path)
    chosen = list(store.records()) if everyone else list(dict.fromkeys(people))
    removed = store.revoke(chosen)
    for person in chosen:
        click.echo(f"{person}: link revoked" if person in removed else f"{person}: had no link")


@click.command("coach-password")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def coach_password(password_stdin: bool):
    """Make the hash of the coach's password for the dashboard (/team) of `serve`.

    Prints a line to put in the environment of `kalender-sync serve`:
    KALENDER_SYNC_COACH_PASSWORD_HASH='scrypt:...' (or store the hash in the
    system keyring under the service named by KALENDER_SYNC_COACH_KEYRING, user
    "coach"). The password itself is never stored, and never goes in the YAML.
    """
    import sys

    from werkzeug.security import generate_password_hash

    from ..web.app import COACH_HASH_ENV
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Coach password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise UsageError("use a password of at least 10 characters")
    click.echo(f"{COACH_HASH_ENV}='{generate_password_hash(password)}'")
