"""The one Jinja2 environment every page and the HTML report are rendered with.

Autoescape is on for every template (not only *.html): a contact's name or a note with
`<script>` in it stays text wherever it is shown.
"""
from __future__ import annotations

import jinja2


def environment() -> jinja2.Environment:
    """A new environment (the caller keeps it; nothing here is module-global state)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("kalender_sync.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,     # a misspelt variable fails the test, not the page
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
