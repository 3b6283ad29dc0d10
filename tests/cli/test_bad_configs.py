"""The bad-config corpus: every broken config is refused with exactly the problems a user needs.

`tests/data/bad-configs` holds one case per problem class (a few combine problems, to show
that all of them are reported in one run). A case is either

- `NN-name.yaml` with `NN-name.expected`, or
- a folder `NN-name/` with `config.yaml`, `contacts-log.yaml` (read from next to the config,
  as the tool does) and `expected`.

`expected` holds the problems exactly as the tool prints them, one per line, in order. In it,
`{file}` stands for the config path given on the command line and `{log}` for the contact log
next to it. One problem is printed as `error: <problem>`; more as a count line followed by
one problem per line.

Cases in KNOWN_BAD hold what the tool *should* print, but does not yet (validator bugs that
are reported and being fixed); they are strict xfails, so a fix makes them fail loudly until
the case is taken off the list.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.cli import run_in_process, run_process

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad-configs"
TODAY = "2026-11-24"
LOG_NAME = "contacts-log.yaml"

# Expected text is what the tool should print; today it prints something else (or crashes).
KNOWN_BAD: set[str] = set()

# Secrets written in a case: they must never appear in anything the tool prints.
SECRETS = {
    "24-caldav-password-in-config": "Zomer2026!geheim",
    "25-caldav-url-with-password": "Zomer2026geheim",
    "49-password-in-password-env": "Zomer2026!geheim",
    "75-published-calendar-url-with-password": "Herfst2026geheim",
}


@dataclass(frozen=True)
class Case:
    name: str
    sources: tuple[Path, ...]   # files to copy into the working folder
    config_name: str            # the config's file name there
    expected: Path

    def expected_lines(self, config: Path) -> list[str]:
        text = self.expected.read_text(encoding="utf-8")
        return [line.replace("{file}", str(config)).replace("{log}", str(config.with_name(LOG_NAME)))
                for line in text.splitlines() if line.strip()]


def _cases() -> list[Case]:
    cases = []
    for path in sorted(CORPUS.iterdir()):
        if path.is_dir():
            sources = tuple(p for p in sorted(path.iterdir()) if p.name != "expected")
            cases.append(Case(path.name, sources, "config.yaml", path / "expected"))
        elif path.suffix == ".yaml":
            cases.append(Case(path.stem, (path,), path.name, path.with_suffix(".expected")))
    return cases


CASES = _cases()
BY_NAME = {case.name: case for case in CASES}


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason="validator bug, reported")] if case.name in KNOWN_BAD else []
    return pytest.param(case, id=case.name, marks=marks)


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder below `folder`."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in folder.rglob("*")}


def _install(case: Case, folder: Path) -> Path:
    for source in case.sources:
        shutil.copy(source, folder / source.name)
    return folder / case.config_name


# A developer's own default config must not leak into a case.
_ENV = {"KALENDER_SYNC_CONFIG": None}


def _run(command: str, config: Path, *extra: str):
    """In this process: the corpus is large, and a child per case costs most of its time."""
    return run_in_process(command, "--config", str(config), "--today", TODAY, *extra, cwd=config.parent, env=_ENV)


def _run_process(command: str, config: Path, *extra: str):
    return run_process(command, "--config", str(config), "--today", TODAY, *extra, cwd=config.parent,
                       env={**_ENV, "PYTHONUTF8": "1"}, timeout=60)


def _stderr_for(lines: list[str]) -> str:
    if len(lines) == 1:
        return f"error: {lines[0]}\n"
    # The count line names the file kind: the log is checked after the config is valid.
    what = "contact log" if all(line.split(":", 1)[0].endswith(LOG_NAME) for line in lines) else "configuration"
    return f"error: {len(lines)} problems in the {what}:\n" + "".join(f"{line}\n" for line in lines)


def _assert_refused(case: Case, tmp_path: Path, run) -> None:
    config = _install(case, tmp_path)
    before = _snapshot(tmp_path)
    out = tmp_path / "out"

    result = run("export", config, "--out", str(out))

    if case.name in SECRETS:
        secret = SECRETS[case.name]
        assert secret not in result.stdout and secret not in result.stderr, "the secret was printed"
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr == _stderr_for(case.expected_lines(config))
    assert not out.exists(), "export wrote output for a config with problems"
    assert _snapshot(tmp_path) == before, "files in the config's folder were added or changed"


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_config_is_refused_with_exactly_its_problems(case: Case, tmp_path: Path):
    _assert_refused(case, tmp_path, _run)


@pytest.mark.parametrize("case", [_param(BY_NAME[name]) for name in ("24-caldav-password-in-config",
                                                                      "54-log-bad-entries")])
def test_the_real_entry_point_refuses_a_bad_config_the_same_way(case: Case, tmp_path: Path):
    """`python -m kalender_sync` as a process: exit code, exact stderr, nothing written, no secret."""
    _assert_refused(case, tmp_path, _run_process)


@pytest.mark.parametrize("name", ["50-several-problems-at-once", "54-log-bad-entries",
                                  "58-last-contact-in-the-future", "59-log-contact-in-the-future"])
def test_check_reports_the_same_problems_as_export(name: str, tmp_path: Path):
    case = BY_NAME[name]
    config = _install(case, tmp_path)
    before = _snapshot(tmp_path)

    checked = _run("check", config)
    exported = _run("export", config, "--out", str(tmp_path / "out"))

    assert checked.returncode == exported.returncode == 2
    assert checked.stdout == exported.stdout == ""
    assert checked.stderr == exported.stderr == _stderr_for(case.expected_lines(config))
    assert _snapshot(tmp_path) == before


def test_corpus_does_not_shrink():
    assert len(CASES) >= 25


def test_corpus_is_well_formed():
    for case in CASES:
        assert case.expected.is_file(), f"{case.name}: no expected file"
        lines = case.expected.read_text(encoding="utf-8").splitlines()
        assert lines and all(line.strip() for line in lines), f"{case.name}: empty or blank lines"
        assert all(line.startswith(("{file}:", "{log}:")) for line in lines), \
            f"{case.name}: every problem starts with {{file}}: or {{log}}:"
        assert str(CORPUS) not in case.expected.read_text(encoding="utf-8")
        if case.expected.name == "expected":
            assert {p.name for p in case.sources} == {"config.yaml", LOG_NAME}, case.name
    names = [case.name for case in CASES]
    assert len({name.split("-", 1)[0] for name in names}) == len(names), "case numbers must be unique"
    orphans = {p.stem for p in CORPUS.glob("*.expected")} - set(names)
    assert not orphans, f"expected files without a case: {orphans}"
    assert KNOWN_BAD <= set(names), f"KNOWN_BAD names unknown cases: {KNOWN_BAD - set(names)}"
    assert set(SECRETS) <= set(names)
    for name, secret in SECRETS.items():
        assert secret in BY_NAME[name].sources[0].read_text(encoding="utf-8")
        assert secret not in BY_NAME[name].expected.read_text(encoding="utf-8")
