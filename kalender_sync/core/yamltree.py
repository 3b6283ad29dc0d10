"""YAML text -> a tree of nodes that remember their line, for located error messages.

Parsing follows `yaml.safe_load` (PyYAML's SafeLoader composes the document, so
no Python objects can be constructed from tags), with two deliberate changes:
duplicate keys are an error instead of "last one wins", and scalars keep their
source text, so `holidays: NO` stays the country code "NO" instead of YAML 1.1's
boolean false, and `start: 14:00` stays "14:00" instead of the base-60 int 840.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import yaml

from .errors import Problem

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_FLOAT = "tag:yaml.org,2002:float"
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# YAML 1.1's implicit scalar types, as PyYAML's resolver knows them, in one pattern each:
# PyYAML tries a list of regexes per scalar, which dominated loading a large team.
_IMPLICIT = (
    ("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$")),
    ("tag:yaml.org,2002:bool", re.compile(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")),
    ("tag:yaml.org,2002:int", re.compile(
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$")),
    ("tag:yaml.org,2002:float", re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")),
    ("tag:yaml.org,2002:timestamp", re.compile(
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
        r"(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$")),
    ("tag:yaml.org,2002:merge", re.compile(r"^<<$")),
)
_QUICK_STR = re.compile(r"^[A-Za-z_][^:]*$")   # starts with a letter, no colon: never one of the above


# A plain scalar whose YAML 1.1 type is worked out only when a reader asks (Scalar.is_int
# etc.): libyaml calls the resolver once per scalar, and typing every scalar of a large team
# up front is wasted on values that are read as text anyway.
_PLAIN = "?plain"


def resolve_plain(value: str) -> str:
    """The tag PyYAML's SafeLoader gives a plain scalar (tests hold the two equal)."""
    if _QUICK_STR.match(value) and value not in _WORDS:
        return _STR
    for tag, pattern in _IMPLICIT:
        if pattern.match(value):
            return tag
    return _STR


class _LazyLoader(_BASE_LOADER):
    """libyaml's composer when PyYAML has it; plain scalars are tagged _PLAIN and typed on demand."""

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode:
            if implicit[0]:
                return _PLAIN
            if implicit[1]:
                return _STR
        return super().resolve(kind, value, implicit)


_WORDS = frozenset({"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
          "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL"})
_NULL_TEXTS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL_TEXTS = _WORDS - _NULL_TEXTS
_LOADER = _LazyLoader
_SAFE_SCALAR_TAGS = frozenset({_STR, _NULL, _INT, _BOOL, _FLOAT, "tag:yaml.org,2002:timestamp", _PLAIN})


@dataclass(slots=True)
class Node:
    line: int


@dataclass(slots=True)
class Scalar(Node):
    text: str
    tag: str
    quoted: bool

    @property
    def resolved_tag(self) -> str:
        if self.tag == _PLAIN:
            self.tag = resolve_plain(self.text)
        return self.tag

    @property
    def is_null(self) -> bool:
        # Set lookups, not the resolver: asked of nearly every scalar.
        if self.tag == _PLAIN:
            return self.text in _NULL_TEXTS
        return self.tag == _NULL and not self.quoted

    @property
    def is_int(self) -> bool:
        return self.resolved_tag == _INT and not self.quoted

    @property
    def is_bool(self) -> bool:
        if self.tag == _PLAIN:
            return self.text in _BOOL_TEXTS
        return self.tag == _BOOL and not self.quoted

    def shown(self) -> object:
        """The value as the user wrote it, for '(got: …)'."""
        return None if self.is_null else self.text


@dataclass(slots=True)
class Mapping(Node):
    # key -> (line of the key, value node); insertion order kept
    items: dict[str, tuple[int, Node]] = field(default_factory=dict)


@dataclass(slots=True)
class Sequence(Node):
    items: list[Node] = field(default_factory=list)


@dataclass(slots=True)
class Rejected(Node):
    """A value with a forbidden tag: already reported, so readers say nothing more about it."""


def _written(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


def shown(node: Node) -> object:
    if isinstance(node, Scalar):
        return node.shown()
    return [] if isinstance(node, Sequence) else {}


def parse(text: str, filename: str) -> tuple[Node | None, list[Problem]]:
    """Parse one YAML document. Returns (tree, problems); tree is None if unreadable."""
    problems: list[Problem] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as refused:
        # Parse again with the pure-Python parser for its message: libyaml words its errors
        # differently, and the same file should get the same message on every machine.
        try:
            list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        except yaml.MarkedYAMLError as exc:
            return None, [_syntax_problem(exc, filename, text)]
        # Only libyaml refuses it, such as `{name: Ad, busy:}` (a key without a value at the
        # end of a flow mapping): its own message, located, rather than a crash.
        problem = _syntax_problem(refused, filename, text)
        if "found unexpected ':'" in problem.message:
            problem = replace(problem, message=problem.message + "; give the key a value, or leave it out")
        return None, [problem]
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML marks nearly all errors
        return None, [Problem(filename, 1, "", f"not valid YAML: {exc}")]
    if len(nodes) > 1:
        return None, [Problem(filename, nodes[1].start_mark.line + 1, "",
                              "more than one YAML document ('---'); keep one document per file")]
    if not nodes or isinstance(nodes[0], yaml.ScalarNode) and nodes[0].tag in (_NULL, _PLAIN) and not nodes[0].value:
        return None, [Problem(filename, 1, "", "the file is empty")]
    return _convert(nodes[0], filename, problems, ""), problems


def _syntax_problem(exc: yaml.MarkedYAMLError, filename: str, text: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    what = str(exc.problem or exc.context)
    if exc.context and exc.problem and exc.context_mark is not None:
        # "while parsing a flow mapping" -> "(in the flow mapping that starts on line 17)"
        where = str(exc.context).replace("while parsing ", "").replace("while scanning ", "")
        where = re.sub(r"^an? ", "", where)
        what += f" (in the {where} that starts on line {exc.context_mark.line + 1})"
    if _tab_in_indent(text, line) or "'\\t'" in what:
        # YAML forbids tabs in indentation; editors that indent with a tab give only the
        # parser's "found character '\t' that cannot start any token".
        what += "; indent with spaces, not tabs"
    return Problem(filename, line, "", f"not valid YAML: {what}")


def _tab_in_indent(text: str, line: int) -> bool:
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return False
    written = lines[line - 1]
    return "\t" in written[:len(written) - len(written.lstrip(" \t-"))]


def _convert(node: yaml.Node, filename: str, problems: list[Problem], path: str) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        tag = node.tag
        if tag not in _SAFE_SCALAR_TAGS:
            problems.append(Problem(filename, line, path, f"YAML tag '{_written(tag)}' is not allowed here"))
            return Rejected(line)
        return Scalar(line, node.value, tag, node.style in ("'", '"', "|", ">"))
    if isinstance(node, yaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            problems.append(Problem(filename, line, path, f"YAML tag '{_written(node.tag)}' is not allowed here"))
            return Rejected(line)
        return Sequence(line, [_convert(item, filename, problems, f"{path}[{i}]")
                               for i, item in enumerate(node.value)])
    assert isinstance(node, yaml.MappingNode)
    if node.tag != "tag:yaml.org,2002:map":
        problems.append(Problem(filename, line, path, f"YAML tag '{_written(node.tag)}' is not allowed here"))
        return Rejected(line)
    result = Mapping(line)
    merged: dict[str, tuple[int, Node]] = {}
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1
        if key_node.tag == "tag:yaml.org,2002:merge" or key_node.tag == _PLAIN and key_node.value == "<<":
            # `<<: *defaults` — keys written out next to it win, as in YAML's merge-key spec.
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                converted = _convert(source, filename, problems, path)
                if isinstance(converted, Mapping):
                    for key, item in converted.items.items():
                        merged.setdefault(key, item)
                else:
                    problems.append(Problem(filename, key_line, path, "'<<' must merge a mapping"))
            continue
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(Problem(filename, key_line, path, "a key must be plain text"))
            continue
        key = key_node.value
        child_path = f"{path}.{key}" if path else key
        if key in result.items:
            first = result.items[key][0]
            problems.append(Problem(filename, key_line, child_path,
                                    f"duplicate key; it was already set on line {first}"))
            continue
        result.items[key] = (key_line, _convert(value_node, filename, problems, child_path))
    for key, item in merged.items():
        result.items.setdefault(key, item)
    return result
