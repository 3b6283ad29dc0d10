"""Importing a contact list (CSV or Excel .xlsx) into contact agreements of one person.

The config is YAML kept in git by a person, so the import never reformats it: the new
agreements become one flow-style line each,

    - {owner: maarten, with: Piet de Vries, role: former client, every: 4 months, last: 2026-07-01}

inserted right after the last item of the `contacts:` list (or, without that list, a new
`contacts:` section appended at the end of the file).  Every other byte of the file stays
as it was.  The result is validated as a whole (`load_team`) and must give exactly the old
agreements plus the new ones before the file is replaced (atomically); when that cannot be
guaranteed (`contacts: [...]` in flow style, for instance) nothing is written and the block
is printed to paste by hand.

Columns are found by their header, Dutch or English, case and accents ignored:

    naam/name/contact, rol/role/functie, organisatie/organisation/organization/company/bedrijf,
    laatste contact/last contact/last, interval/every/frequentie/frequency, medium, vraag/question

Rows are numbered as a spreadsheet shows them: the header is row 1.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import yaml

from ..core import mediums
from ..core.config import in_the_future, load_team, slug
from ..core.contactlog import fold
from ..core.durations import Interval, check_supported, parse_interval
from ..core.model import ContactAgreement, Team
from ..storage.atomic import write_atomically
from ..core.errors import ConfigError, KalenderSyncError, UsageError
from .logbook import flow_scalar

# Normalised header -> field.  Order of FIELDS is the order of keys in the written line.
_HEADERS = {
    "naam": "with", "name": "with", "contact": "with", "contactpersoon": "with", "with": "with",
    "rol": "role", "role": "role", "functie": "role",
    "organisatie": "organisation", "organisation": "organisation", "organization": "organisation",
    "company": "organisation", "bedrijf": "organisation",
    "laatste contact": "last", "laatst": "last", "laatste": "last", "last contact": "last", "last": "last",
    "interval": "every", "every": "every", "frequentie": "every", "frequency": "every",
    "medium": "medium",
    "vraag": "question", "question": "question",
}
FIELDS = ("with", "role", "organisation", "every", "last", "medium", "question")
_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
    # Day first, as Dutch (and most European) spreadsheets write dates.
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$"), ("d", "m", "y")),
)


@dataclass(frozen=True)
class RowProblem:
    row: int
    kind: str             # "bad" | "duplicate"
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


@dataclass(frozen=True)
class NewAgreement:
    row: int
    values: dict          # field -> text (already validated), in FIELDS order

    @property
    def name(self) -> str:
        return self.values["with"]


@dataclass
class ImportResult:
    person: str
    new: list[NewAgreement] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows: int = 0         # data rows read (empty rows not counted)

    @property
    def duplicates(self) -> list[RowProblem]:
        return [p for p in self.problems if p.kind == "duplicate"]

    @property
    def bad(self) -> list[RowProblem]:
        return [p for p in self.problems if p.kind == "bad"]


# -- reading the file ----------------------------------------------------------------

def read_table(path: Path) -> list[tuple[int, list[object]]]:
    """(row number, cell values) for every row of the file, the header first (row 1)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix == ".xls":
        raise UsageError(f"{path}: the old .xls format is not supported; save it as .xlsx or .csv")
    return _read_csv(path)


def _read_csv(path: Path) -> list[tuple[int, list[object]]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"file not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    text = _csv_text(path, raw)
    header = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((";", ",", "\t"), key=lambda d: (header.count(d), d == ";"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [(number, row) for number, row in enumerate(reader, start=1)]


# Control characters a text CSV may hold: tab, line ends, form feed, and DOS's end-of-file mark.
_TEXT_CONTROLS = frozenset("\t\n\r\f\v\x1a")


def _csv_text(path: Path, raw: bytes) -> str:
    """The file's text; UsageError when it is not text (its bytes are never echoed)."""
    if raw.startswith(b"PK\x03\x04"):
        raise UsageError(f"{path}: not a text CSV file: it is a zip archive, such as an Excel workbook; "
                         "name it .xlsx, or save it from Excel as CSV")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise UsageError(f"{path}: not a text CSV file: it is an old Excel (.xls) or Office file; "
                         "save it as .xlsx or .csv")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" is UTF-16 with a byte order mark (and tabs between columns).
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in the ANSI code page: Windows-1252 in the Netherlands.
        text = raw.decode("cp1252", errors="replace")
    sample = text[:65536]
    controls = sum(1 for char in sample if char < " " and char not in _TEXT_CONTROLS or char == "\x7f")
    if "\x00" in sample or controls > max(2, len(sample) // 100):
        raise UsageError(f"{path}: not a text CSV file (it holds binary data); save the contact list "
                         "as CSV or .xlsx")
    return text


def _read_xlsx(path: Path) -> list[tuple[int, list[object]]]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency, but say so plainly if missing
        raise UsageError("reading .xlsx needs the 'openpyxl' package: pip install openpyxl") from None
    if not path.exists():
        raise UsageError(f"file not found: {path}")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zipfile, KeyError, InvalidFileException)
        raise UsageError(f"{path}: not a readable .xlsx file ({type(exc).__name__}: {exc})") from None
    try:
        sheet = book.worksheets[0]
        return [(number, list(row)) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        book.close()


# -- rows -> agreements ----------------------------------------------------------------

def _header_key(value: object) -> str:
    text = fold(str(value or ""))
    text = re.sub(r"[_\s]+", " ", text).strip(" :*")
    return text


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


def _parse_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value)
    for pattern, order in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups())))
            try:
                return date(parts["y"], parts["m"], parts["d"])
            except ValueError as exc:
                raise ValueError(f"not a real date: {exc}") from None
    raise ValueError("expected a date such as 2026-07-01 or 1-7-2026")


def _supported_date(value: object) -> date:
    return check_supported(_parse_date(value))


def _parse_every(value: object) -> Interval:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("a bare number is ambiguous; write '4 months' or '6 weeks'")
    text = re.sub(r"^(?:every|elke|iedere|ieder|per)\s+", "", _cell_text(value), flags=re.IGNORECASE)
    if re.fullmatch(r"\d+", text):
        raise ValueError("a bare number is ambiguous; write '4 months' or '6 weeks'")
    return parse_interval(text)


def parse_rows(team: Team, person: str, table: list[tuple[int, list[object]]], every: Interval | None,
               today: date) -> ImportResult:
    """Check every row; collect the new agreements, the duplicates and the bad rows."""
    if person not in team.people:
        raise UsageError(f"unknown person: {person} (known: {', '.join(team.people)})")
    rows = [(n, r) for n, r in table if any(_cell_text(c) for c in r)]
    if not rows:
        raise UsageError("the file has no rows (expected a header row with at least a name column)")
    header_row, header = rows[0]
    columns: dict[str, int] = {}
    result = ImportResult(person)
    for index, cell in enumerate(header):
        key = _header_key(cell)
        name = _HEADERS.get(key)
        if name is None:
            if key:
                result.ignored_columns.append(_cell_text(cell))
            continue
        if name in columns:
            raise UsageError(f"row {header_row}: two columns mean '{name}': "
                             f"{_cell_text(header[columns[name]])!r} and {_cell_text(cell)!r}")
        columns[name] = index
    if "with" not in columns:
        found = ", ".join(repr(_cell_text(c)) for c in header if _cell_text(c)) or "nothing"
        raise UsageError(f"row {header_row}: no name column (naam/name); the header has {found}")
    if "every" not in columns and every is None:
        raise UsageError("the file has no interval column (interval/every); pass --every, e.g. --every '4 months'")

    existing = [a for a in team.contacts if a.owner == person]
    seen: dict[str, int] = {}        # folded name / slug -> row
    # A contact whose row was skipped: a later row for it is skipped too, or a near-empty
    # duplicate would be imported in place of the row the person meant.
    skipped: dict[str, int] = {}
    for number, cells in rows[1:]:
        result.rows += 1

        def cell(name: str) -> object:
            index = columns.get(name)
            return cells[index] if index is not None and index < len(cells) else None

        name = _cell_text(cell("with"))
        if not name:
            result.problems.append(RowProblem(number, "bad", "no name; skipped"))
            continue
        folded, ident = fold(name), slug(name)
        clash = next((a for a in existing if fold(a.contact) == folded or a.id == ident), None)
        if clash is not None:
            result.problems.append(RowProblem(
                number, "duplicate", f"{name}: already an agreement of {person} "
                f"('{clash.contact}', config line {clash.line}); skipped"))
            continue
        first = seen.get(folded) or seen.get(ident)
        if first is not None:
            result.problems.append(RowProblem(number, "duplicate", f"{name}: the same contact as row {first}; skipped"))
            continue
        first = skipped.get(folded) or skipped.get(ident)
        if first is not None:
            result.problems.append(RowProblem(
                number, "duplicate", f"{name}: the same contact as row {first}, which was skipped; fix row {first} "
                "and import again; skipped"))
            continue
        values: dict[str, str] = {"with": name}
        errors: list[str] = []
        for key in ("role", "organisation"):
            if text := _cell_text(cell(key)):
                values[key] = text
        raw_every = cell("every")
        if _cell_text(raw_every):
            try:
                values["every"] = str(_parse_every(raw_every))
            except ValueError as exc:
                errors.append(f"interval {_cell_text(raw_every)!r}: {exc}")
        elif every is not None:
            values["every"] = str(every)
        else:
            errors.append("no interval (fill it in, or pass --every)")
        raw_last = cell("last")
        if _cell_text(raw_last):
            try:
                last = _supported_date(raw_last)
            except ValueError as exc:
                errors.append(f"last contact {_cell_text(raw_last)!r}: {exc}")
            else:
                if last > today:
                    errors.append(f"last contact {last} {in_the_future(today)}")
                else:
                    values["last"] = last.isoformat()
        if medium := _cell_text(cell("medium")):
            if mediums.find(medium) is None:
                errors.append(f"medium {medium!r}{mediums.suggestion(medium)}: use one of {mediums.offered()}")
            else:
                values["medium"] = medium.lower()    # the person's own word: the config reads it
        if question := _cell_text(cell("question")):
            values["question"] = question
        if errors:
            result.problems.append(RowProblem(number, "bad", f"{name}: {'; '.join(errors)}; skipped"))
            skipped.setdefault(folded, number)
            skipped.setdefault(ident, number)
            continue
        seen[folded] = seen[ident] = number
        result.new.append(NewAgreement(number, {k: values[k] for k in FIELDS if k in values}))
    return result


def agreement_line(person: str, agreement: NewAgreement) -> str:
    """One flow-style YAML item, without indentation: `- {owner: ..., with: ..., ...}`."""
    parts = [f"owner: {flow_scalar(person)}"]
    for key, value in agreement.values.items():
        if key == "last":       # a validated ISO date: plain, as people write it
            parts.append(f"last: {value}")
        elif key == "question":   # free text: always quoted, like notes in the log
            parts.append("question: " + yaml.safe_dump(value, default_style='"', width=float("inf"),
                                                       allow_unicode=True).rstrip("\n"))
        else:
            parts.append(f"{key}: {flow_scalar(value)}")
    return "- {" + ", ".join(parts) + "}"


# -- putting the lines into the config ----------------------------------------------------

class NotSafe(Exception):
    """The lines cannot be inserted without touching what the person wrote."""


@dataclass(frozen=True)
class Inserted:
    path: Path
    first_line: int          # 1-based line number of the first new line
    count: int


def _last_end(node: yaml.Node) -> yaml.Mark:
    """Where the text of `node` really ends (a block collection's own end mark lies at the next token)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return node.end_mark
    children = node.value if isinstance(node, yaml.SequenceNode) else [n for kv in node.value for n in kv]
    if not children:
        return node.end_mark
    return max((_last_end(c) for c in children), key=lambda m: m.index)


def insert_plan(text: str, lines: list[str]) -> tuple[str, int]:
    """The config text with `lines` (unindented `- {...}` items) added; and the 1-based first new line.

    Raises NotSafe with the reason when it cannot be done by inserting whole lines.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:  # pragma: no cover - the config was validated before
        raise NotSafe(f"the config is not valid YAML ({exc})") from None
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise NotSafe("the config's top level is not a block mapping")
    newline = "\r\n" if "\r\n" in text else "\n"
    source = text.splitlines(keepends=True)
    contacts = [(k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "contacts"]
    if not contacts:
        # No contacts section yet: a new one at the end of the file.
        if source and not source[-1].endswith(("\n", "\r")):
            source[-1] += newline
        first = len(source) + 1
        block = ["contacts:" + newline] + ["  " + line + newline for line in lines]
        return "".join(source + block), first + 1
    key, value = contacts[0]
    if isinstance(value, yaml.ScalarNode):
        rest = text[key.end_mark.index:].split("\n", 1)[0]
        if value.tag != "tag:yaml.org,2002:null" or value.value != "" or not re.fullmatch(r":\s*(#.*)?\r?", rest):
            raise NotSafe("`contacts:` is not a list")
        at = key.start_mark.line + 1
        indent = " " * (key.start_mark.column + 2)
    elif isinstance(value, yaml.SequenceNode) and not value.flow_style:
        indent = " " * value.start_mark.column
        end = _last_end(value.value[-1]) if value.value else value.end_mark
        at = end.line + 1 if end.column > 0 else end.line
        tail = text[end.index:].split("\n", 1)[0]
        if tail.strip() and not tail.strip().startswith("#"):
            raise NotSafe("something follows the last contact on its line")
    else:
        raise NotSafe("`contacts:` is written in flow style ([...]); add the lines by hand")
    if at >= len(source) and source and not source[-1].endswith(("\n", "\r")):
        source[-1] += newline
    new = [indent + line + newline for line in lines]
    return "".join(source[:at] + new + source[at:]), at + 1


def _strip_lines(agreements) -> tuple[ContactAgreement, ...]:
    return tuple(replace(a, line=0) for a in agreements)


def write_agreements(config_path: Path, team: Team, person: str, new: list[NewAgreement]) -> Inserted:
    """Insert the agreements into the config file; validate; replace the file atomically.

    Raises NotSafe (nothing written) when the result would not be exactly the old config
    plus these agreements.
    """
    raw = config_path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    lines = [agreement_line(person, a) for a in new]
    new_text, first = insert_plan(text, lines)
    # Everything must be as before, plus exactly the new agreements.
    try:
        before = load_team(text, str(config_path))
        after = load_team(new_text, str(config_path))
    except ConfigError as exc:
        raise NotSafe(f"the result would not be a valid config: {exc.problems[0] if exc.problems else exc}") \
            from None
    added = after.contacts[len(before.contacts):]
    if (_strip_lines(after.contacts[:len(before.contacts)]) != _strip_lines(before.contacts)
            or len(added) != len(new)
            or [(a.owner, a.contact) for a in added] != [(person, n.name) for n in new]
            or replace(after, contacts=()) != replace(before, contacts=())):
        raise NotSafe("the result would change more than the list of contacts")
    data = (b"\xef\xbb\xbf" if bom else b"") + new_text.encode("utf-8")
    _replace_file(config_path, raw, data)
    return Inserted(config_path, first, len(lines))


def _replace_file(path: Path, expected: bytes, data: bytes) -> None:
    """Write `data` to `path` atomically, unless the file changed since it was read."""
    def unchanged() -> None:
        if path.read_bytes() != expected:
            raise UsageError(f"{path} changed while importing (someone editing it?); nothing was written; "
                             "run the command again")
    write_atomically(path, data, mode=path.stat().st_mode & 0o7777, before_replace=unchanged)


def restore(path: Path, data: bytes) -> None:
    """Put the original bytes back (after a failed re-validation of the written file)."""
    _replace_file(path, path.read_bytes(), data)


def insert_agreements(config_path: Path, team: Team, person: str, new: list[NewAgreement]) -> Inserted:
    """Insert the agreements into the config, then read the whole config and contact log back
    as every command does; if that fails, the config is put back as it was. Raises NotSafe
    (nothing written) or the loading error (config restored)."""
    from ..storage.teamfiles import load
    original = config_path.read_bytes()
    inserted = write_agreements(config_path, team, person, new)
    try:
        load(config_path)
    except KalenderSyncError:
        restore(config_path, original)
        raise
    return inserted
