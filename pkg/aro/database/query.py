"""A store-neutral filter and order over documents: what ``Container.query`` and ``Container.count_where``
take. Each store compiles it to its own query language with every value passed as a parameter (never
concatenated into the query text); paths are tuples of JSON object keys checked against ``SEGMENT``.

Semantics every store keeps (the contract suite proves them):

- A path that is missing, or holds JSON ``null``, is *null*. A comparison, ``In`` or ``Like`` with a null
  operand is false, and stays false under ``Not`` (SQL's three-valued logic: ``Not(Compare(p, "=", x))``
  does not match a document where ``p`` is null); ``IsNull`` is the way to find nulls.
- Values are compared only with values of the same JSON type (the caller types its literals; strings
  compare by code point, so RFC 3339 times written in one fixed format compare chronologically): a
  comparison, ``In`` or ``Like`` with a value of another type is, like one with null, false also under
  ``Not``. (An ``In`` with values of several types is the ``Or`` of its comparisons.)
- ``Like`` patterns use ``%`` (any run of characters, also none) and ``_`` (exactly one character); every
  other character is literal. ``case_insensitive`` folds case as Unicode simple case folding does.
- ``Order``: ascending puts nulls first, descending last; ties are broken by the document id in the
  direction of the last ``Order`` (so pages are stable; ids are expected to be unique across the partitions
  queried together). Values of different types sort as Cosmos DB sorts them: missing, JSON null, booleans
  (false first), numbers, strings (ascending; descending reverses it all).
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

Path = tuple[str, ...]
Scalar = str | int | float | bool
CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]

SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
MAX_LIMIT = 1000


def check_path(path: Path) -> Path:
    if not path or not all(SEGMENT.match(p) for p in path):
        raise ValueError(f"invalid document path {path!r}")
    return path


@dataclass(frozen=True)
class Compare:
    path: Path
    op: CompareOp
    value: Scalar


@dataclass(frozen=True)
class Like:
    path: Path
    pattern: str
    case_insensitive: bool = False


@dataclass(frozen=True)
class In:
    path: Path
    values: tuple[Scalar, ...]  # at least one


@dataclass(frozen=True)
class IsNull:
    path: Path


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]  # at least two


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]  # at least two


@dataclass(frozen=True)
class Not:
    item: Expr


Expr = Compare | Like | In | IsNull | And | Or | Not


@dataclass(frozen=True)
class Order:
    path: Path
    descending: bool = False


@dataclass(frozen=True)
class Query:
    where: Expr | None = None
    order: tuple[Order, ...] = ()
    offset: int = 0
    limit: int = 100  # 1..MAX_LIMIT


MAX_LIKE_PARTS = 50  # ``%``-separated parts of a ``Like`` pattern (each middle one is a numbered group)


def _like_segments(pattern: str) -> list[str]:
    """A ``Like`` pattern split at its unescaped ``%``, each part as regular-expression text: ``_`` -> ``.``,
    ``\\`` escapes the next character (``\\%``, ``\\_``, ``\\\\`` are literal ``%``, ``_``, ``\\``, as in
    PostgreSQL's LIKE, which AMS runs on; a final lone ``\\`` is itself), regular-expression punctuation
    escaped with a backslash, everything else literal."""
    parts: list[list[str]] = [[]]
    chars = iter(pattern)
    for ch in chars:
        if ch == "%":
            parts.append([])
            continue
        if ch == "_":
            parts[-1].append(".")
            continue
        if ch == "\\":
            ch = next(chars, "\\")
        parts[-1].append("\\" + ch if ch in _REGEX_SPECIAL else ch)
    if len(parts) > MAX_LIKE_PARTS:
        raise ValueError(f"a like pattern has at most {MAX_LIKE_PARTS - 1} '%' wildcards")
    return ["".join(part) for part in parts]


def like_regex(pattern: str) -> str:
    """A ``Like`` pattern as a regular expression whose text means the same in Python's ``re``, JavaScript and
    PCRE (``%`` -> ``.*``; see ``_like_segments``). Match the whole value (Python: ``re.fullmatch``; elsewhere
    ``^...$``) with DOTALL, and IGNORECASE for ``case_insensitive``. (``$`` also matches before a final
    newline in PCRE: the callers' values hold no control characters.)"""
    return ".*".join(_like_segments(pattern))


_REGEX_SPECIAL = frozenset("\\^$.|?*+()[]{}/-#&~")


def like_match_regex(pattern: str) -> str:
    """The regular expression both stores match a ``Like`` with (Python: ``re.fullmatch``; Cosmos DB's PCRE
    and JavaScript: ``^...$``; DOTALL, and IGNORECASE for ``case_insensitive``). It matches exactly what
    ``like_regex(pattern)`` matches, in time linear in the value: a pattern is its fixed-length segments
    between ``%``; the segments between the first and the last are taken at their earliest occurrence (which
    loses no match), each in a lookahead whose capture is then consumed (``(?=(.*?S))\\1``: an atomic group in
    every dialect), so a hostile ``%a%a%a%b`` never backtracks over the value. At most MAX_LIKE_PARTS parts,
    so every back-reference has two digits at most (``\\100`` is an octal escape to Python)."""
    segments = _like_segments(pattern)
    if len(segments) == 1:
        return segments[0]
    out = [segments[0]]
    group = 0
    for segment in segments[1:-1]:
        if segment:
            group += 1
            out.append(f"(?=(.*?{segment}))\\{group}")
    out.append(".*" + segments[-1])
    return "".join(out)


# --- compiling a filter (shared by the stores) ------------------------------------------------------------

Kind = Literal["string", "number", "boolean"]
MAX_DEPTH = 24  # nesting of And/Or in a filter (each a parenthesis in the query text; SQLite parses 26)
_INVERSE: dict[CompareOp, CompareOp] = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def kind_of(value: object) -> Kind:
    """The JSON type of a literal; ValueError for anything that is not a JSON string, number (integers: 64 bits,
    floats: finite) or boolean."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if (isinstance(value, int) and -(2**63) <= value < 2**63) or (isinstance(value, float) and math.isfinite(value)):
        return "number"
    raise ValueError(f"not a JSON string, number or boolean: {value!r}")


def check_query(query: Query) -> Query:
    """ValueError unless ``query`` is one a store may run: limit 1..MAX_LIMIT, offset >= 0, valid order paths
    (the filter is checked as it is compiled)."""
    if isinstance(query.limit, bool) or not isinstance(query.limit, int) or not 1 <= query.limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1..{MAX_LIMIT}, not {query.limit!r}")
    if isinstance(query.offset, bool) or not isinstance(query.offset, int) or query.offset < 0:
        raise ValueError(f"offset must be a non-negative integer, not {query.offset!r}")
    for order in query.order:
        check_path(order.path)
    return query


class Dialect(ABC):
    """How one store writes the parts of a filter: ``render_where`` composes them. Values are collected in
    ``params`` (name -> value), never written into the text."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    @abstractmethod
    def placeholder(self, name: str) -> str:
        """The query text naming parameter ``name``."""

    def value(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return self.placeholder(name)

    @abstractmethod
    def path(self, path: Path) -> str:
        """The value at ``path`` (already checked)."""

    @abstractmethod
    def is_kind(self, path: Path, kind: Kind) -> str:
        """True exactly when the value at ``path`` is a JSON value of ``kind``."""

    @abstractmethod
    def is_null(self, path: Path) -> str:
        """True exactly when ``path`` is missing or holds JSON null."""

    @abstractmethod
    def regex_match(self, path: Path, regex: str, case_insensitive: bool) -> str:
        """True when the string at ``path`` matches ``regex`` (``like_match_regex``) as a whole."""


def render_where(expr: Expr, dialect: Dialect) -> str:
    """``expr`` as a two-valued condition of ``dialect``. The null semantics are made explicit rather than
    left to each store's three-valued logic (which differ: Cosmos DB compares JSON null with a string as
    false, so ``NOT (x = 'a')`` would match it): a comparison, ``In`` or ``Like`` is *known* only when the
    value has the literal's JSON type, and ``Not`` is pushed down to the predicates (De Morgan), where a
    negated predicate is "known and the comparison fails"."""
    return _render(expr, dialect, False, 0)


def _render(expr: Expr, d: Dialect, negated: bool, depth: int) -> str:
    if depth > MAX_DEPTH:
        raise ValueError(f"filter nested more than {MAX_DEPTH} and/or levels deep")
    while isinstance(expr, Not):  # pushed down to the predicates: no level of its own
        expr, negated = expr.item, not negated
    if isinstance(expr, And | Or):
        if not expr.items:
            raise ValueError(f"empty {type(expr).__name__}")
        joiner = " AND " if isinstance(expr, And) != negated else " OR "
        return "(" + joiner.join(_render(item, d, negated, depth + 1) for item in expr.items) + ")"
    if isinstance(expr, IsNull):
        test = d.is_null(check_path(expr.path))
        return f"(NOT {test})" if negated else test
    if isinstance(expr, Compare):
        if expr.op not in _INVERSE:
            raise ValueError(f"unknown comparison {expr.op!r}")
        kind = kind_of(expr.value)
        op = _INVERSE[expr.op] if negated else expr.op
        path = check_path(expr.path)
        return f"({d.is_kind(path, kind)} AND {d.path(path)} {op} {d.value(expr.value)})"
    if isinstance(expr, In):
        if not expr.values:
            raise ValueError("In needs at least one value")
        kinds = {kind_of(v) for v in expr.values}
        if len(kinds) > 1:  # values of several types: one comparison each
            return _render(Or(tuple(Compare(expr.path, "=", v) for v in expr.values)), d, negated, depth + 1)
        path = check_path(expr.path)
        values = ", ".join(d.value(v) for v in expr.values)
        test = f"{d.path(path)} IN ({values})"
        return f"({d.is_kind(path, kinds.pop())} AND {f'NOT ({test})' if negated else test})"
    if isinstance(expr, Like):
        if not isinstance(expr.pattern, str):
            raise ValueError(f"a like pattern is a string, not {expr.pattern!r}")
        path = check_path(expr.path)
        test = d.regex_match(path, like_match_regex(expr.pattern), expr.case_insensitive)
        return f"({d.is_kind(path, 'string')} AND {'NOT ' if negated else ''}{test})"
    raise ValueError(f"not a filter expression: {expr!r}")
