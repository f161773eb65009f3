"""AMS's ``search`` and ``order`` parameters: a hand-written tokenizer and recursive-descent parser from the
SQL-like filter language to the store's filter (``aro.database.query``), which each store compiles with every
value a parameter. User text is never part of a query's text.

    expr      := and_expr { OR and_expr }
    and_expr  := not_expr { AND not_expr }
    not_expr  := NOT not_expr | predicate
    predicate := '(' expr ')'
               | name op literal                       op: = != <> < <= > >=
               | name [NOT] LIKE 'pattern' | name [NOT] ILIKE 'pattern'
               | name [NOT] IN '(' literal { ',' literal } ')'
               | name IS [NOT] NULL
    name      := identifier { '.' identifier }         (a key of ``fields``: ``plan.id``)
    literal   := 'single-quoted, '' is a quote' | number | TRUE | FALSE

Keywords are case-insensitive. A literal is read by its field's type: BOOLEAN takes t, f, true, false
(quoted or not); NUMBER numbers (also quoted); TIME quoted RFC 3339 dates (kept as ``YYYY-MM-DD``, which
compares with the stored times as a prefix) or date-times (converted to UTC in the stored format; one
without an offset is UTC); STRING quoted strings only. Like patterns apply to STRING and TIME fields.

Errors are ``SearchError`` with the 0-based character position. Bounds for hostile input: 4096 characters,
64 levels of parentheses/not, 100 values in an in-list, 200 predicates.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from aro.database.query import And, Compare, CompareOp, Expr, In, IsNull, Like, Not, Or, Order, Scalar, like_regex
from aro.ledger.fields import Field, FieldType, format_time

MAX_TEXT = 4096
MAX_DEPTH = 64
MAX_IN_VALUES = 100
MAX_PREDICATES = 200
MAX_ORDER_TERMS = 5
_MAX_INT = 2**53  # integers beyond this are not exact in JSON (Cosmos DB's numbers are doubles)


class SearchError(ValueError):
    """An invalid ``search`` or ``order``: ``str()`` is ``f"{message} at position {position}"``."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.message = message
        self.position = position


# --- tokens ------------------------------------------------------------------------------------------------

KEYWORDS = frozenset({"and", "or", "not", "like", "ilike", "in", "is", "null", "true", "false"})
_OPS: dict[str, CompareOp] = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
      | (?P<number>-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<op><=|>=|<>|!=|=|<|>)
      | (?P<punct>[(),])
      | (?P<quote>')""",
    re.VERBOSE | re.ASCII,
)


@dataclass(frozen=True)
class Token:
    kind: str  # name, keyword, number, string, op, punct, end
    text: str  # as written
    position: int
    value: str = ""  # a string's content, quotes unescaped; a keyword lower-cased

    def is_(self, kind: str, value: str) -> bool:
        return self.kind == kind and (self.value if kind == "keyword" else self.text) == value

    def describe(self) -> str:
        if self.kind == "end":
            return "end of input"
        if self.kind == "string":
            return f"string {self.text}"
        return repr(self.text)


def tokenize(text: str, what: str = "search") -> list[Token]:
    """The tokens of ``text``, ending with an ``end`` token; SearchError for a character no token starts
    with, or an unterminated string."""
    if len(text) > MAX_TEXT:
        raise SearchError(f"Invalid {what}: longer than {MAX_TEXT} characters", MAX_TEXT)
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise SearchError(f"Invalid {what}: unexpected character {text[pos]!r}", pos)
        kind = m.lastgroup or ""
        if kind == "quote":
            end, value = _string(text, pos, what)
            tokens.append(Token("string", text[pos:end], pos, value))
            pos = end
            continue
        if kind == "name" and m.group().lower() in KEYWORDS:
            tokens.append(Token("keyword", m.group(), pos, m.group().lower()))
        elif kind != "space":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _string(text: str, start: int, what: str) -> tuple[int, str]:
    """The single-quoted string at ``start``: (the position after it, its value)."""
    out: list[str] = []
    pos = start + 1
    while True:
        quote = text.find("'", pos)
        if quote < 0:
            raise SearchError(f"Invalid {what}: unterminated string", start)
        out.append(text[pos:quote])
        if text.startswith("''", quote):
            out.append("'")
            pos = quote + 2
            continue
        return quote + 1, "".join(out)


# --- search ------------------------------------------------------------------------------------------------


def parse_search(text: str, fields: Mapping[str, Field]) -> Expr | None:
    """The filter ``text`` means over ``fields`` (None for an empty text); SearchError if it is invalid."""
    if not text.strip():
        if len(text) > MAX_TEXT:
            raise SearchError(f"Invalid search: longer than {MAX_TEXT} characters", MAX_TEXT)
        return None
    return _Parser(tokenize(text), fields).parse()


class _Parser:
    def __init__(self, tokens: list[Token], fields: Mapping[str, Field]) -> None:
        self.tokens = tokens
        self.fields = fields
        self.i = 0
        self.depth = 0
        self.predicates = 0

    # token helpers
    @property
    def token(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        token = self.tokens[self.i]
        if token.kind != "end":
            self.i += 1
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        return self.token.kind == kind if text is None else self.token.is_(kind, text)

    def error(self, message: str, token: Token | None = None) -> SearchError:
        return SearchError(f"Invalid search: {message}", (token or self.token).position)

    def unexpected(self, expected: str, token: Token | None = None) -> SearchError:
        token = token or self.token
        return self.error(f"unexpected {token.describe()} (expected {expected})", token)

    # grammar
    def parse(self) -> Expr:
        expr = self.expr()
        if not self.at("end"):
            raise self.unexpected("'and', 'or' or the end of the search")
        return expr

    def expr(self) -> Expr:
        items = [self.and_expr()]
        while self.at("keyword", "or"):
            self.next()
            items.append(self.and_expr())
        return _join(Or, items)

    def and_expr(self) -> Expr:
        items = [self.not_expr()]
        while self.at("keyword", "and"):
            self.next()
            items.append(self.not_expr())
        return _join(And, items)

    def nested(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nested more than {MAX_DEPTH} levels deep", token)

    def not_expr(self) -> Expr:
        if self.at("keyword", "not"):
            self.nested(self.next())
            item = self.not_expr()
            self.depth -= 1
            return Not(item)
        return self.predicate()

    def predicate(self) -> Expr:
        if self.at("punct", "("):
            opening = self.next()
            self.nested(opening)
            inner = self.expr()
            if not self.at("punct", ")"):
                raise self.unexpected(f"')' to close the '(' at position {opening.position}")
            self.next()
            self.depth -= 1
            return inner
        if not self.at("name"):
            raise self.unexpected("a field name, 'not' or '('")
        name = self.next()
        field = self.field(name)
        self.predicates += 1
        if self.predicates > MAX_PREDICATES:
            raise self.error(f"more than {MAX_PREDICATES} conditions", name)
        token = self.next()
        if token.kind == "op":
            value = self.literal(name.text, field)
            return Compare(field.path, _OPS[token.text], value)
        negated = token.is_("keyword", "not")
        if negated:
            token = self.next()
            if not (token.is_("keyword", "like") or token.is_("keyword", "ilike") or token.is_("keyword", "in")):
                raise self.unexpected("like, ilike or in after 'not'", token)
        if token.is_("keyword", "like") or token.is_("keyword", "ilike"):
            expr: Expr = self.like(name.text, field, token.is_("keyword", "ilike"))
        elif token.is_("keyword", "in"):
            expr = self.in_list(name.text, field)
        elif token.is_("keyword", "is"):
            negated = self.at("keyword", "not")
            if negated:
                self.next()
            if not self.at("keyword", "null"):
                raise self.unexpected("null or not null after 'is'")
            self.next()
            expr = IsNull(field.path)
        else:
            raise self.unexpected("an operator such as =, like, in", token)
        return Not(expr) if negated else expr

    def field(self, name: Token) -> Field:
        field = self.fields.get(name.text)
        if field is None:
            raise self.error(_unknown(name.text, self.fields), name)
        return field

    def like(self, name: str, field: Field, case_insensitive: bool) -> Like:
        token = self.next()
        if field.type not in (FieldType.STRING, FieldType.TIME):
            raise self.error(f"field {name!r} is a {field.type}: like applies to text", token)
        if token.kind != "string":
            raise self.unexpected("a quoted pattern", token)
        try:
            like_regex(token.value)
        except ValueError as e:  # too many wildcards
            raise self.error(f"invalid pattern: {e}", token) from None
        return Like(field.path, token.value, case_insensitive)

    def in_list(self, name: str, field: Field) -> In:
        if not self.at("punct", "("):
            raise self.unexpected("'(' to start the in-list")
        self.next()
        if self.at("punct", ")"):
            raise self.error("an in-list needs at least one value")
        values: list[Scalar] = []
        while True:
            if len(values) == MAX_IN_VALUES:
                raise self.error(f"more than {MAX_IN_VALUES} values in an in-list")
            values.append(self.literal(name, field))
            token = self.next()
            if token.is_("punct", ")"):
                return In(field.path, tuple(values))
            if not token.is_("punct", ","):
                raise self.unexpected("',' or ')' in the in-list", token)

    def literal(self, name: str, field: Field) -> Scalar:
        token = self.next()
        if token.kind not in ("string", "number", "name", "keyword") or (
            token.kind == "keyword" and token.value not in ("true", "false")
        ):
            hint = " ('is null' tests for null)" if token.is_("keyword", "null") else ""
            raise self.unexpected(f"a value: a quoted string, a number, true or false{hint}", token)
        try:
            return coerce(token, field)
        except ValueError as e:
            raise self.error(f"field {name!r} {e}", token) from None


def coerce(token: Token, field: Field) -> Scalar:
    """The value of a literal token for ``field``; ValueError (the reason, worded after the field name)."""
    raw = token.value if token.kind == "string" else token.text
    if field.type is FieldType.BOOLEAN:
        if token.kind != "number" and raw.lower() in ("t", "true", "f", "false"):
            return raw.lower() in ("t", "true")
        raise ValueError(f"is a boolean: t, f, true or false, not {token.text}")
    if token.kind in ("name", "keyword"):
        raise ValueError(f"is a {field.type}: {token.text} is not a value for it (quote strings: 'text')")
    if field.type is FieldType.NUMBER:
        number = _number(raw)
        if number is None:
            raise ValueError(f"is a number, not {token.text}")
        return number
    if token.kind != "string":
        raise ValueError(f"is a {field.type}: it takes a quoted string, not {token.text}")
    if field.type is FieldType.TIME:
        return _time(raw, token.text)
    return raw


_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _number(raw: str) -> int | float | None:
    if not _NUMBER.fullmatch(raw):
        return None
    try:
        number: int | float = int(raw) if re.fullmatch(r"-?[0-9]+", raw) else float(raw)
    except ValueError:
        return None  # (digits beyond Python's int conversion limit)
    if abs(number) > _MAX_INT:  # also inf
        return None
    return number


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?P<frac>[0-9]{1,9}))?"
    r"(?P<zone>[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _time(raw: str, written: str) -> str:
    problem = f"is a time: an RFC 3339 date ('2026-01-02') or date-time ('2026-01-02T15:04:05Z'), not {written}"
    try:
        if _DATE.fullmatch(raw):
            dt.date.fromisoformat(raw)  # a real date
            return raw
        m = _DATE_TIME.fullmatch(raw)
        if m is None:
            raise ValueError(problem)
        frac = (m["frac"] or "").ljust(6, "0")[:6]
        zone = m["zone"] or "Z"
        when = dt.datetime.fromisoformat(f"{m['date']}T{m['time']}.{frac}{'+00:00' if zone in ('Z', 'z') else zone}")
        return format_time(when.astimezone(dt.UTC))
    except (ValueError, OverflowError):
        raise ValueError(problem) from None


def _unknown(name: str, fields: Mapping[str, Field]) -> str:
    known = difflib.get_close_matches(name, list(fields), n=3) or sorted(fields)[:6]
    return f"unknown field {name!r} (known fields include {', '.join(known)}, ...)"


def _join(kind: type[And] | type[Or], items: list[Expr]) -> Expr:
    """``kind`` of ``items``, nested ``kind``s flattened; a single item as itself."""
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


# --- order -------------------------------------------------------------------------------------------------


def parse_order(text: str, fields: Mapping[str, Field]) -> tuple[Order, ...]:
    """``field [asc|desc], ...`` over ``fields``: at most 5 terms, each field once; () for an empty text."""
    tokens = tokenize(text, "order")
    if tokens[0].kind == "end":
        return ()
    orders: list[Order] = []
    seen: set[str] = set()
    i = 0

    def fail(message: str, token: Token) -> SearchError:
        return SearchError(f"Invalid order: {message}", token.position)

    while True:
        name = tokens[i]
        if name.kind != "name":
            raise fail(f"unexpected {name.describe()} (expected a field name)", name)
        field = fields.get(name.text)
        if field is None:
            raise fail(_unknown(name.text, fields), name)
        if name.text in seen:
            raise fail(f"field {name.text!r} appears twice", name)
        if len(orders) == MAX_ORDER_TERMS:
            raise fail(f"more than {MAX_ORDER_TERMS} fields", name)
        seen.add(name.text)
        i += 1
        descending = False
        if tokens[i].kind == "name" and tokens[i].text.lower() in ("asc", "desc"):
            descending = tokens[i].text.lower() == "desc"
            i += 1
        orders.append(Order(field.path, descending))
        token = tokens[i]
        if token.kind == "end":
            return tuple(orders)
        if not token.is_("punct", ","):
            raise fail(f"unexpected {token.describe()} (expected asc, desc, ',' or the end)", token)
        i += 1
