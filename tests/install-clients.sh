#!/usr/bin/env bash
# What the tests read calendars and pages with, besides Python packages: Debian's Chromium (the
# HTML report; no browser download works here), Mozilla's ical.js on Node and libical through
# Debian's python3 + GObject bindings (tests/integration/test_client_parsers.py).
# Installs only what is missing: a Node that brings its own npm must not get Debian's.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
/usr/bin/python3 -c "import gi; gi.require_version('ICalGLib', '3.0')" 2>/dev/null || missing+=(gir1.2-ical-3.0 python3-gi)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null
fi
[ -d tests/clients/node_modules/ical.js ] || npm ci --prefix tests/clients --no-audit --no-fund --silent
