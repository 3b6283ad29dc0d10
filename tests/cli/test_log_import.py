"""`kalender-sync log` and `kalender-sync import` as a user meets them."""
from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from helpers import BASE
from kalender_sync.features.importer import NotSafe, insert_plan
from kalender_sync.storage.teamfiles import load
from support.cli import run_in_process as run
from support.cli import run_process

DATA = Path(__file__).resolve().parent.parent / "data" / "import"


@pytest.fixture
def two_piets(tmp_path) -> Path:
    config = tmp_path / "team.yaml"
    config.write_text(BASE.format(language="en") + textwrap.dedent("""\
        contacts:
          - {owner: maarten, with: Piet de Vries, every: 4 months, last: 2026-07-01}
          - {owner: maarten, with: Pieter Post, every: 6 months, last: 2026-06-01}
          - {owner: maarten, with: Ingrid Mulder, every: 1 year, last: 2025-11-02}
        """))
    return config


# -- log ------------------------------------------------------------------------------------------

def test_log_appends_one_line_and_prints_the_next_reminder(example):
    log = example.with_name("contacts-log.yaml")
    before = log.read_bytes()
    result = run_process("log", "maarten", "Piet de Vries", "--on", "2026-11-23", "--config", str(example),
                 "--today", "2026-11-24")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "contacts-log.yaml:6: - {who: maarten, with: piet-de-vries, on: 2026-11-23}\n"
        "next reminder for Piet de Vries: Tue 2027-03-23 09:00 (due 2027-03-23: last contact 2026-11-23 + 4 months)\n")
    after = log.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1


def test_log_on_defaults_to_today_and_next_wins(example):
    result = run("log", "maarten", "KEES", "--next", "2027-01-12", "--note", 'Zei "ja": prima # café\nmet lunch',
                 "-c", str(example), "--today", "2026-11-24")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        'contacts-log.yaml:6: - {who: maarten, with: kees-van-leeuwen, on: 2026-11-24, next: 2027-01-12, '
        'note: "Zei \\"ja\\": prima # café\\nmet lunch"}',
        "next reminder for Kees van Leeuwen: Tue 2027-01-12 09:00 (due 2027-01-12: agreed)"]
    entry = load(example).log[-1]
    assert (entry.on.isoformat(), entry.next.isoformat(), entry.note) == (
        "2026-11-24", "2027-01-12", 'Zei "ja": prima # café\nmet lunch')


def test_log_after_the_horizon_says_so(example):
    result = run("log", "maarten", "Henk", "--on", "2026-11-20", "-c", str(example), "--today", "2026-11-24")
    assert result.returncode == 0, result.stderr
    # 2026-11-20 + 1 year = 2027-11-20; the plan ends at 2027-11-24, the reminder is Mon 2027-11-22.
    assert result.stdout.splitlines()[-1] == \
        "next reminder for Henk Jansen: Mon 2027-11-22 09:00 (due 2027-11-20: last contact 2026-11-20 + 1 year)"
    result = run("log", "maarten", "Henk", "--on", "2026-11-24", "--next", "2028-01-10", "-c", str(example),
                 "--today", "2026-11-24")
    assert result.stdout.splitlines()[-1] == (
        "next contact with Henk Jansen is due 2028-01-10 (agreed); that is after the planning horizon "
        "(2027-11-24), so no reminder is in the calendar yet")


@pytest.mark.parametrize("name, message", [
    ("piet", "error: 'piet' matches more than one contact of maarten: Piet de Vries, Pieter Post; "
             "type more of the name"),
    ("Jansen", "error: 'Jansen' is not a contact of maarten; candidates: Ingrid Mulder, Piet de Vries, Pieter Post"),
])
def test_log_ambiguous_or_unknown_names_list_the_candidates(two_piets, name, message):
    result = run("log", "maarten", name, "-c", str(two_piets), "--today", "2026-11-24")
    assert result.returncode == 2
    assert result.stderr.strip() == message
    assert not two_piets.with_name("contacts-log.yaml").exists()


def test_log_forgiving_names_work(two_piets):
    result = run("log", "maarten", "pieter", "-c", str(two_piets), "--today", "2026-11-24")
    assert result.returncode == 0, result.stderr
    log = two_piets.with_name("contacts-log.yaml").read_text()
    assert log.startswith("# Contact log") and log.endswith("- {who: maarten, with: pieter-post, on: 2026-11-24}\n")


def test_log_with_a_broken_log_names_the_line_and_appends_nothing(example):
    log = example.with_name("contacts-log.yaml")
    log.write_text(log.read_text() + "- {who: maarten, with: nobody, on: 2026-11-20}\n")
    before = log.read_bytes()
    result = run("log", "maarten", "Piet de Vries", "-c", str(example), "--today", "2026-11-24")
    assert result.returncode == 2
    assert f"{log}:6: [2].with: is not a contact of maarten; candidates: Anouk Smit" in result.stderr
    assert "Traceback" not in result.stderr
    assert log.read_bytes() == before


def test_log_with_unparsable_yaml_in_the_log(example):
    log = example.with_name("contacts-log.yaml")
    log.write_text(log.read_text() + "- {who: maarten, with: piet-de-vries, on: 2026-11-20\n")
    before = log.read_bytes()
    result = run("log", "maarten", "Piet de Vries", "-c", str(example), "--today", "2026-11-24")
    assert result.returncode == 2 and "contacts-log.yaml:7: not valid YAML" in result.stderr
    assert log.read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (["--on", "2026-11-20", "--next", "2026-11-19"], "error: --next 2026-11-19 must come after the contact (--on 2026-11-20)"),
    (["--on", "2026-11-25"], "error: --on 2026-11-25 is in the future (today is 2026-11-24)"),
    (["--on", "20-11-2026"], "expected a date as YYYY-MM-DD (got: 20-11-2026)"),
])
def test_log_bad_dates_exit_2(example, args, message):
    log = example.with_name("contacts-log.yaml")
    before = log.read_bytes()
    result = run("log", "maarten", "Piet de Vries", *args, "-c", str(example), "--today", "2026-11-24")
    assert result.returncode == 2 and message in result.stderr
    assert log.read_bytes() == before


def test_log_unknown_person(example):
    result = run("log", "marten", "Piet", "-c", str(example), "--today", "2026-11-24")
    assert result.returncode == 2
    assert "error: unknown person: marten (known: maarten, jan-willem, sanne, ad, fatima)" in result.stderr


# -- import: CSV ----------------------------------------------------------------------------------

NEW_LINES = [
    '  - {owner: maarten, with: Joris Bakker, role: oud-klant, organisation: Gemeente Oss, every: 4 months, '
    'last: 2026-09-14, medium: koffie, question: "Hoe gaat het: goed?"}\n',
    "  - {owner: maarten, with: Mila Smit, every: 3 months}\n",
    "  - {owner: maarten, with: Noor Janssen, organisation: Enexis, every: 1 year, last: 2026-01-05, medium: bellen}\n",
    "  - {owner: maarten, with: Émile Dupré, role: ambassadeur, organisation: Ministerie van I&W, every: 6 months, "
    'last: 2026-10-01, medium: video, question: "Wat speelt er; bij jullie?"}\n',
]
WARNINGS = [
    "warning: contacten.csv: row 3: no name; skipped",
    "warning: contacten.csv: row 4: piet de vries: already an agreement of maarten ('Piet de Vries', config line 49); skipped",
    "warning: contacten.csv: row 5: Eva Claes: last contact '31-2-2026': not a real date: day is out of range for month; skipped",
    "warning: contacten.csv: row 6: JORIS BAKKER: the same contact as row 2; skipped",
    "warning: contacten.csv: row 10: Sem de Wit: interval '12': a bare number is ambiguous; write '4 months' or '6 weeks'; skipped",
    "warning: contacten.csv: row 11: Lieke Mertens: medium 'fax': use one of phone, video, coffee, lunch, walk, "
    "visit, email, drinks, event (in Dutch: telefoon, videobellen, koffie, lunch, wandeling, bezoek, e-mail, borrel, "
    "bijeenkomst); skipped",
    "warning: contacten.csv: row 12: Tim Hol: last contact 2027-01-01 is in the future (today is 2026-11-24); skipped",
]


def test_import_semicolon_csv_inserts_lines_and_reports_skipped_rows(example):
    before = example.read_text()
    result = run("import", str(DATA / "contacten.csv"), "--person", "maarten", "--every", "6 months",
                 "-c", str(example), "--today", "2026-11-24")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == WARNINGS
    assert result.stdout == ("added 4 agreements for maarten to team.yaml (lines 127–130); "
                             "skipped 7 rows (2 duplicate, 5 bad)\n")
    old = before.splitlines(keepends=True)
    # Nothing of the person's text changes: the new lines are inserted after the last contact (line 126).
    assert example.read_text().splitlines(keepends=True) == old[:126] + NEW_LINES + old[126:]
    assert old[125].startswith("     medium: walk, duration: 1h}") and old[127] == "projects:                     # aftercare after an assignment ends\n"
    check = run("check", "-c", str(example), "--today", "2026-11-24")
    assert check.returncode == 0 and "39 contact agreements" in check.stdout
    # Importing the same file again adds nothing: all four are duplicates now.
    again = run("import", str(DATA / "contacten.csv"), "--person", "maarten", "--every", "6 months",
                "-c", str(example), "--today", "2026-11-24")
    assert again.returncode == 0
    assert again.stdout == "nothing to add for maarten from contacten.csv (11 rows); skipped 11 rows (6 duplicate, 5 bad)\n"


def test_import_dry_run_prints_the_lines_and_writes_nothing(example):
    before = example.read_bytes()
    result = run("import", str(DATA / "contacten.csv"), "--person", "maarten", "--every", "6 months", "--dry-run",
                 "-c", str(example), "--today", "2026-11-24")
    assert result.returncode == 0
    assert result.stdout == "".join(line[2:] for line in NEW_LINES)
    assert result.stderr.splitlines()[-1] == ("would add 4 agreements for maarten to team.yaml; skipped 7 rows "
                                              "(2 duplicate, 5 bad); nothing written (--dry-run)")
    assert example.read_bytes() == before


def test_import_without_an_interval_says_which_rows_need_one(example):
    result = run("import", str(DATA / "contacten.csv"), "--person", "maarten", "--dry-run",
                 "-c", str(example), "--today", "2026-11-24")
    assert result.returncode == 0
    assert ("warning: contacten.csv: row 13: Émile Dupré: no interval (fill it in, or pass --every); skipped"
            in result.stderr.splitlines())


def test_import_comma_csv_from_windows_excel(example):
    result = run("import", str(DATA / "sanne-cp1252.csv"), "--person", "sanne", "-c", str(example),
                 "--today", "2026-11-24")
    assert result.returncode == 0, result.stderr
    assert "row 2: Joost Willems: already an agreement of sanne ('Joost Willems', config line 81)" in result.stderr
    assert "  - {owner: sanne, with: Björn Müller, organisation: Café Zuid, every: 6 months, last: 2026-11-03}\n" \
        in example.read_text()
    assert result.stdout == "added 1 agreement for sanne to team.yaml (line 127); skipped 1 row (1 duplicate, 0 bad)\n"


def test_import_needs_a_name_column(example, tmp_path):
    bad = tmp_path / "list.csv"
    bad.write_text("wie;wanneer\nPiet;gisteren\n")
    result = run("import", str(bad), "--person", "maarten", "--every", "4 months", "-c", str(example))
    assert result.returncode == 2
    assert "error: row 1: no name column (naam/name); the header has 'wie', 'wanneer'" in result.stderr


def test_import_unknown_person(example):
    result = run("import", str(DATA / "contacten.csv"), "--person", "nobody", "-c", str(example))
    assert result.returncode == 2 and "unknown person: nobody" in result.stderr


# -- import: Excel ---------------------------------------------------------------------------------

def test_import_xlsx(example, tmp_path):
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Role", "Company", "Last contact", "Every", "Medium", "Question", "Notes"])
    sheet.append(["Lars Vos", "ambassador", "Vitens", datetime(2026, 10, 2), "6 months", "Coffee", None, "x"])
    sheet.append(["Marloes Visser", None, None, None, "4 months", None, None, None])      # duplicate
    sheet.append(["Ria Smit", None, None, "2026-08-15", 4, None, None, None])              # bare number
    sheet.append([None, None, None, None, None, None, None, None])                         # empty: ignored
    sheet.append(["Tess Kramer", None, "Gemeente 's-Hertogenbosch", "15-8-2026", "1 year", None,
                  "Hoe staat het met project #2?", None])
    sheet.append(["lars vos", None, None, None, "1 year", None, None, None])               # twice in the file
    path = tmp_path / "contacts.xlsx"
    book.save(path)
    result = run("import", str(path), "--person", "jan-willem", "-c", str(example), "--today", "2026-11-24")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "warning: column 'Notes' is not used",
        "warning: contacts.xlsx: row 3: Marloes Visser: already an agreement of jan-willem ('Marloes Visser', "
        "config line 66); skipped",
        "warning: contacts.xlsx: row 4: Ria Smit: interval '4': a bare number is ambiguous; write '4 months' or "
        "'6 weeks'; skipped",
        "warning: contacts.xlsx: row 7: lars vos: the same contact as row 2; skipped",
    ]
    text = example.read_text()
    assert ("  - {owner: jan-willem, with: Lars Vos, role: ambassador, organisation: Vitens, every: 6 months, "
            "last: 2026-10-02, medium: coffee}\n"
            "  - {owner: jan-willem, with: Tess Kramer, organisation: Gemeente 's-Hertogenbosch, every: 1 year, "
            'last: 2026-08-15, question: "Hoe staat het met project #2?"}\n'
            "\nprojects:") in text
    team = load(example)
    tess = next(a for a in team.contacts if a.contact == "Tess Kramer")
    assert (tess.owner, tess.question, str(tess.every)) == ("jan-willem", "Hoe staat het met project #2?", "1 year")


def test_import_into_a_flow_style_list_prints_the_lines_to_paste(two_piets, tmp_path):
    text = two_piets.read_text().split("contacts:")[0] + (
        "contacts: [{owner: maarten, with: Piet de Vries, every: 4 months}]\n")
    two_piets.write_text(text)
    listing = tmp_path / "new.csv"
    listing.write_text("naam,interval\nAnne Bos,4 maanden\n")
    result = run("import", str(listing), "--person", "maarten", "-c", str(two_piets), "--today", "2026-11-24")
    assert result.returncode == 1
    assert result.stdout == ("# add these lines at the end of the contacts: list in team.yaml\n"
                             "  - {owner: maarten, with: Anne Bos, every: 4 months}\n")
    assert "nothing was written" in result.stderr and "flow style" in result.stderr
    assert two_piets.read_text() == text


# -- where the lines go --------------------------------------------------------------------------

LINE = "- {owner: a, with: B, every: 4 months}"


def test_insert_after_a_block_mapping_item_and_a_trailing_comment():
    text = ("version: 1\ncontacts:\n  - owner: a\n    with: A\n    every: 4 months   # keep\n"
            "  # more later\n\nprojects: []\n")
    new, first = insert_plan(text, [LINE])
    assert new == ("version: 1\ncontacts:\n  - owner: a\n    with: A\n    every: 4 months   # keep\n"
                   f"  {LINE}\n  # more later\n\nprojects: []\n")
    assert first == 6


def test_insert_when_contacts_is_the_last_section_without_a_final_newline():
    new, first = insert_plan("version: 1\ncontacts:\n- {owner: a, with: A, every: 1 year}", [LINE])
    assert new == f"version: 1\ncontacts:\n- {{owner: a, with: A, every: 1 year}}\n{LINE}\n" and first == 4


def test_insert_a_new_contacts_section_at_the_end():
    new, first = insert_plan("version: 1\npeople: {}\n", [LINE, LINE])
    assert new == f"version: 1\npeople: {{}}\ncontacts:\n  {LINE}\n  {LINE}\n" and first == 4


def test_insert_under_an_empty_contacts_key_keeps_crlf():
    new, first = insert_plan("version: 1\r\ncontacts:   # none yet\r\nprojects: []\r\n", [LINE])
    assert new == f"version: 1\r\ncontacts:   # none yet\r\n  {LINE}\r\nprojects: []\r\n" and first == 3


@pytest.mark.parametrize("text", [
    "contacts: []\n",
    "contacts: [{owner: a, with: A, every: 1 year}]\n",
    "contacts: ~\n",
    "contacts: {owner: a}\n",
    "- just a list\n",
])
def test_insert_refuses_what_it_cannot_do_by_adding_lines(text):
    with pytest.raises(NotSafe):
        insert_plan(text, [LINE])


# -- import: a skipped row, and files that are not text -------------------------------------------

def test_a_skipped_rows_contact_is_not_imported_from_a_weaker_later_row(example):
    """Row 2 (Bert Kok, with his role, date and interval) is skipped for its medium; rows 4 and 5 name
    him again with next to nothing. Neither may take his place: they are reported, and fixing row 2
    imports him as meant."""
    result = run("import", str(DATA / "skipped-then-weaker.csv"), "--person", "maarten", "-c", str(example),
                 "--today", "2026-11-24")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[1:] == [
        "warning: skipped-then-weaker.csv: row 4: bert kok: the same contact as row 2, which was skipped; "
        "fix row 2 and import again; skipped",
        "warning: skipped-then-weaker.csv: row 5: BERT KOK: the same contact as row 2, which was skipped; "
        "fix row 2 and import again; skipped",
    ]
    assert result.stderr.splitlines()[0].startswith("warning: skipped-then-weaker.csv: row 2: Bert Kok: medium 'fax'")
    assert result.stdout.startswith("added 1 agreement for maarten to team.yaml")
    assert "skipped 3 rows (2 duplicate, 1 bad)" in result.stdout
    text = example.read_text()
    assert "Bert Kok" not in text and "bert kok" not in text.lower() and "dubbel" not in text
    assert "  - {owner: maarten, with: Anne Bos, role: klant, every: 6 months, last: 2026-10-02, medium: telefoon}\n" \
        in text


@pytest.mark.parametrize("content, message", [
    (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4,
     "not a text CSV file (it holds binary data); save the contact list as CSV or .xlsx"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
     "not a text CSV file (it holds binary data); save the contact list as CSV or .xlsx"),
    (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(1, 200)),
     "not a text CSV file: it is a zip archive, such as an Excel workbook; name it .xlsx, or save it from Excel as CSV"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200),
     "not a text CSV file: it is an old Excel (.xls) or Office file; save it as .xlsx or .csv"),
])
def test_a_binary_file_named_csv_is_refused_without_echoing_its_bytes(example, tmp_path, content, message):
    listing = tmp_path / "contacts.csv"
    listing.write_bytes(content)
    before = example.read_bytes()
    result = run("import", str(listing), "--person", "maarten", "--every", "4 months", "-c", str(example),
                 "--today", "2026-11-24")
    assert result.returncode == 2
    assert result.stderr == f"error: {listing}: {message}\n"
    assert example.read_bytes() == before


def test_a_utf16_unicode_text_export_is_read(example, tmp_path):
    """Excel's "Unicode text" export: UTF-16 with a byte order mark, tabs between the columns."""
    listing = tmp_path / "contacts.csv"
    listing.write_bytes("Naam\tInterval\tMedium\r\nÉmile Dupré\t4 maanden\tkoffie\r\n".encode("utf-16"))
    result = run("import", str(listing), "--person", "maarten", "--dry-run", "-c", str(example),
                 "--today", "2026-11-24")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "- {owner: maarten, with: Émile Dupré, every: 4 months, medium: koffie}\n"


def test_the_log_and_the_config_refuse_a_contact_after_today_alike(example):
    """`log --on` refuses a future day; a line written by hand with that day is refused the same way."""
    log = example.with_name("contacts-log.yaml")
    refused = run("log", "maarten", "Piet de Vries", "--on", "2026-11-25", "-c", str(example), "--today", "2026-11-24")
    assert refused.returncode == 2
    assert refused.stderr == ("error: --on 2026-11-25 is in the future (today is 2026-11-24); "
                              "log a contact after it happened\n")
    log.write_text(log.read_text() + "- {who: maarten, with: piet-de-vries, on: 2026-11-25}\n")
    lines = log.read_text().count("\n")
    for command in ("check", "plan", "export"):
        result = run(command, "-c", str(example), "--today", "2026-11-24")
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr == (f"error: {log}:{lines}: [{lines - 4}].on: is in the future (today is 2026-11-24); "
                                 "log a contact after it happened (got: 2026-11-25)\n")
    # A day later it has happened.
    assert run("check", "-c", str(example), "--today", "2026-11-25").returncode == 0
    # And `log` itself will not append to a log that holds it.
    before = log.read_bytes()
    again = run("log", "maarten", "Anouk Smit", "-c", str(example), "--today", "2026-11-24")
    assert again.returncode == 2 and "[2].on: is in the future" in again.stderr
    assert log.read_bytes() == before
