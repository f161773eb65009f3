"""The AMS search/order parser (aro.ledger.search): every operator, precedence, escapes, literal coercion by
field type, each error with its exact position, and the bounds on hostile input."""

from __future__ import annotations

import pytest

from aro.database.query import And, Compare, Expr, In, IsNull, Like, Not, Or, Order
from aro.ledger.fields import SUBSCRIPTION_FIELDS, Field, FieldType
from aro.ledger.search import (
    MAX_DEPTH,
    MAX_IN_VALUES,
    MAX_PREDICATES,
    MAX_TEXT,
    SearchError,
    parse_order,
    parse_search,
)

FIELDS = {
    **SUBSCRIPTION_FIELDS,
    "cpus": Field(("subscription", "cpus"), FieldType.NUMBER),
}
STATUS = ("subscription", "status")
NAME = ("subscription", "display_name")
MANAGED = ("subscription", "managed")
CREATED = ("subscription", "created_at")
CPUS = ("subscription", "cpus")


def parse(text: str) -> Expr | None:
    return parse_search(text, FIELDS)


def error(text: str) -> SearchError:
    with pytest.raises(SearchError) as e:
        parse(text)
    return e.value


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("status = 'Active'", Compare(STATUS, "=", "Active")),
        ("status != 'Active'", Compare(STATUS, "!=", "Active")),
        ("status <> 'Active'", Compare(STATUS, "!=", "Active")),
        ("status < 'B'", Compare(STATUS, "<", "B")),
        ("status <= 'B'", Compare(STATUS, "<=", "B")),
        ("status > 'B'", Compare(STATUS, ">", "B")),
        ("status >= 'B'", Compare(STATUS, ">=", "B")),
        ("status='Active'", Compare(STATUS, "=", "Active")),
        ("  status\t=\n'Active'  ", Compare(STATUS, "=", "Active")),
        ("plan.id = 'OCP-ARO-HCP'", Compare(("subscription", "plan", "id"), "=", "OCP-ARO-HCP")),
        ("creator.username = 'alice'", Compare(("subscription", "creator", "username"), "=", "alice")),
        ("display_name like 'prod%'", Like(NAME, "prod%")),
        ("display_name ilike 'PROD%'", Like(NAME, "PROD%", True)),
        ("display_name not like 'a_c'", Not(Like(NAME, "a_c"))),
        ("display_name NOT ILIKE 'x'", Not(Like(NAME, "x", True))),
        ("created_at like '2026-03%'", Like(CREATED, "2026-03%")),
        ("status in ('Active')", In(STATUS, ("Active",))),
        ("status in ('Active', 'Stale','Reserved')", In(STATUS, ("Active", "Stale", "Reserved"))),
        ("status not in ('Archived')", Not(In(STATUS, ("Archived",)))),
        ("external_cluster_id is null", IsNull(("subscription", "external_cluster_id"))),
        ("external_cluster_id IS NOT NULL", Not(IsNull(("subscription", "external_cluster_id")))),
        ("not status = 'Active'", Not(Compare(STATUS, "=", "Active"))),
        ("not (status = 'Active')", Not(Compare(STATUS, "=", "Active"))),
        ("not not status = 'a'", Not(Not(Compare(STATUS, "=", "a")))),
        ("((status = 'a'))", Compare(STATUS, "=", "a")),
    ],
)
def test_predicates(text: str, want: Expr) -> None:
    assert parse(text) == want


A, B, C, D = (Compare(STATUS, "=", x) for x in "abcd")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("status = 'a' or status = 'b' and status = 'c'", Or((A, And((B, C))))),
        ("status = 'a' and status = 'b' or status = 'c'", Or((And((A, B)), C))),
        ("(status = 'a' or status = 'b') and status = 'c'", And((Or((A, B)), C))),
        ("not status = 'a' and status = 'b'", And((Not(A), B))),
        ("not (status = 'a' and status = 'b')", Not(And((A, B)))),
        ("status = 'a' AND status = 'b' Or status = 'c' oR status = 'd'", Or((And((A, B)), C, D))),
        # nested and/or of one kind are flattened
        ("status = 'a' or (status = 'b' or (status = 'c' or status = 'd'))", Or((A, B, C, D))),
        ("(status = 'a' and status = 'b') and (status = 'c' and status = 'd')", And((A, B, C, D))),
        ("status = 'a' and (status = 'b' or status = 'c')", And((A, Or((B, C))))),
        ("not (status = 'a' or status = 'b') or status = 'c'", Or((Not(Or((A, B))), C))),
    ],
)
def test_precedence_and_flattening(text: str, want: Expr) -> None:
    assert parse(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("display_name = 'o''brien'", "o'brien"),
        ("display_name = ''''", "'"),
        ("display_name = ''", ""),
        ("display_name = 'a''''b'", "a''b"),
        ("display_name = 'and or not ( ) , = \" \\'", 'and or not ( ) , = " \\'),
        ("display_name = 'Équipe ünd 東京'", "Équipe ünd 東京"),
        ("display_name = '%_'", "%_"),
    ],
)
def test_string_escapes(text: str, want: str) -> None:
    assert parse(text) == Compare(NAME, "=", want)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("managed = 't'", True),
        ("managed = 'f'", False),
        ("managed = 'TRUE'", True),
        ("managed = 'False'", False),
        ("managed = t", True),
        ("managed = F", False),
        ("managed = true", True),
        ("managed = FALSE", False),
        ("cpus = 4", 4),
        ("cpus = -4", -4),
        ("cpus = 2.5", 2.5),
        ("cpus = 1e3", 1000.0),
        ("cpus = '16'", 16),
        ("cpus = '0.5'", 0.5),
        ("created_at > '2026-03-01'", "2026-03-01"),
        ("created_at > '2026-03-01T00:00:00Z'", "2026-03-01T00:00:00.000000Z"),
        ("created_at > '2026-03-01t10:20:30.5z'", "2026-03-01T10:20:30.500000Z"),
        ("created_at > '2026-03-01T10:20:30.123456789Z'", "2026-03-01T10:20:30.123456Z"),
        ("created_at > '2026-03-01T01:00:00+02:00'", "2026-02-28T23:00:00.000000Z"),
        ("created_at > '2026-03-01T23:30:00-01:00'", "2026-03-02T00:30:00.000000Z"),
        ("created_at > '2026-03-01 10:00:00'", "2026-03-01T10:00:00.000000Z"),  # no offset: UTC
        ("created_at < '0999-01-01T00:00:00Z'", "0999-01-01T00:00:00.000000Z"),  # four digits: compares as text
    ],
)
def test_literals_are_read_by_field_type(text: str, want: object) -> None:
    expr = parse(text)
    assert isinstance(expr, Compare) and expr.value == want and type(expr.value) is type(want)


def test_in_list_values_are_coerced_too() -> None:
    assert parse("managed in (t, 'F', TRUE)") == In(MANAGED, (True, False, True))
    assert parse("cpus not in (1, '2')") == Not(In(CPUS, (1, 2)))
    assert parse("created_at in ('2026-01-02T03:04:05+01:00')") == In(CREATED, ("2026-01-02T02:04:05.000000Z",))


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_search_is_none(text: str) -> None:
    assert parse(text) is None


# (text, position, words the message must contain)
ERRORS: list[tuple[str, int, str]] = [
    ("status = ", 9, "unexpected end of input (expected a value"),
    ("status = 'x", 9, "unterminated string"),
    ("status = 'it''s", 9, "unterminated string"),
    ("foo = 'x'", 0, "unknown field 'foo'"),
    ("status = 'a' and stauts = 'b'", 17, "unknown field 'stauts' (known fields include status"),
    ("status === 'x'", 8, "unexpected '='"),
    ("(status = 'x'", 13, "expected ')' to close the '(' at position 0"),
    ("((status = 'x') or (status = 'y'", 32, "expected ')' to close the '(' at position 19"),
    ("status in ()", 11, "an in-list needs at least one value"),
    ("status in ('a',)", 15, "unexpected ')' (expected a value"),
    ("status in ('a' 'b')", 15, "expected ',' or ')' in the in-list"),
    ("status in 'a'", 10, "expected '(' to start the in-list"),
    ("managed = 'maybe'", 10, "field 'managed' is a boolean"),
    ("managed = 1", 10, "field 'managed' is a boolean"),
    ("status = 1", 9, "field 'status' is a string: it takes a quoted string, not 1"),
    ("status = true", 9, "field 'status' is a string"),
    ("status = Active", 9, "Active is not a value for it"),
    ("status 'x'", 7, "unexpected string 'x' (expected an operator such as =, like, in)"),
    ("status", 6, "unexpected end of input (expected an operator"),
    ("status = 'x' foo", 13, "unexpected 'foo' (expected 'and', 'or' or the end of the search)"),
    ("status = 'x')", 12, "unexpected ')'"),
    ("status = 'x' and", 16, "unexpected end of input (expected a field name, 'not' or '(')"),
    ("and status = 'x'", 0, "unexpected 'and'"),
    ("status = null", 9, "'is null' tests for null"),
    ("status is 'x'", 10, "expected null or not null after 'is'"),
    ("status not = 'x'", 11, "expected like, ilike or in after 'not'"),
    ("status ! 'x'", 7, "unexpected character '!'"),
    ("status = 'x' & status = 'y'", 13, "unexpected character '&'"),
    ("plan. = 'x'", 4, "unexpected character '.'"),
    ("statüs = 'x'", 4, "unexpected character 'ü'"),
    ("managed like 't'", 13, "field 'managed' is a boolean: like applies to text"),
    ("cpus like '1%'", 10, "like applies to text"),
    ("display_name like 5", 18, "expected a quoted pattern"),
    ("display_name like '" + "%a" * 50 + "'", 18, "invalid pattern: a like pattern has at most 49 '%' wildcards"),
    ("cpus = 'many'", 7, "field 'cpus' is a number"),
    ("cpus = 1e999", 7, "field 'cpus' is a number"),
    ("cpus = 99999999999999999999", 7, "field 'cpus' is a number"),
    ("created_at > 2026", 13, "field 'created_at' is a time"),
    ("created_at > '2026-02-30'", 13, "field 'created_at' is a time"),
    ("created_at > '2026-03-01T25:00:00Z'", 13, "is a time"),
    ("created_at > 'yesterday'", 13, "is a time"),
    ("created_at > '٢٠٢٦-٠١-٠١'", 13, "is a time"),
    ("()", 1, "unexpected ')' (expected a field name"),
]


@pytest.mark.parametrize(("text", "position", "words"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_their_position(text: str, position: int, words: str) -> None:
    e = error(text)
    assert e.position == position
    assert words in e.message
    assert e.message.startswith("Invalid search: ")
    assert str(e) == f"{e.message} at position {position}"
    assert isinstance(e, ValueError)


def test_error_message_reads_like_ams() -> None:
    e = error("status = 'Active' and sttaus = 'x'")
    assert str(e) == "Invalid search: unknown field 'sttaus' (known fields include status, ...) at position 22"
    e = error("display_name foo 'x'")
    assert str(e) == "Invalid search: unexpected 'foo' (expected an operator such as =, like, in) at position 13"


def test_bounds_on_hostile_input() -> None:
    # text length
    long_value = "status = '" + "x" * (MAX_TEXT - 11) + "'"
    assert len(long_value) == MAX_TEXT and parse(long_value) is not None
    assert error(long_value + " ").position == MAX_TEXT
    assert error(" " * (MAX_TEXT + 1)).position == MAX_TEXT
    # nesting: parentheses and not, never a RecursionError
    ok = "(" * MAX_DEPTH + "status = 'a'" + ")" * MAX_DEPTH
    assert parse(ok) == Compare(STATUS, "=", "a")
    e = error("(" * (MAX_DEPTH + 1) + "status = 'a'" + ")" * (MAX_DEPTH + 1))
    assert e.position == MAX_DEPTH and "nested" in e.message
    e = error("not " * (MAX_DEPTH + 1) + "status = 'a'")
    assert e.position == 4 * MAX_DEPTH and "nested" in e.message
    e = error("(" * 2000 + "status = 'a'" + ")" * 2000)
    assert e.position == MAX_DEPTH
    e = error("not (" * 500 + "status = 'a'" + ")" * 500)
    assert e.position == 5 * (MAX_DEPTH // 2)
    # in-list values
    values = ", ".join(f"'{i}'" for i in range(MAX_IN_VALUES))
    parsed = parse(f"status in ({values})")
    assert isinstance(parsed, In) and len(parsed.values) == MAX_IN_VALUES
    e = error(f"status in ({values}, 'x')")
    assert e.position == len(f"status in ({values}, ") and f"more than {MAX_IN_VALUES} values" in e.message
    # predicates
    many = " or ".join(["status = 'a'"] * MAX_PREDICATES)
    parsed = parse(many)
    assert isinstance(parsed, Or) and len(parsed.items) == MAX_PREDICATES
    e = error(many + " or status = 'a'")
    assert e.position == len(many) + 4 and f"more than {MAX_PREDICATES} conditions" in e.message


# --- order --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("", ()),
        ("  ", ()),
        ("created_at", (Order(CREATED),)),
        ("created_at asc", (Order(CREATED),)),
        ("created_at desc", (Order(CREATED, True),)),
        ("created_at DESC", (Order(CREATED, True),)),
        (
            "status, created_at desc,display_name ASC",
            (Order(STATUS), Order(CREATED, True), Order(NAME)),
        ),
        ("plan.id desc", (Order(("subscription", "plan", "id"), True),)),
    ],
)
def test_order(text: str, want: tuple[Order, ...]) -> None:
    assert parse_order(text, FIELDS) == want


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("foo", 0, "unknown field 'foo'"),
        ("status, created_ta", 8, "unknown field 'created_ta' (known fields include created_at"),
        ("status,", 7, "unexpected end of input (expected a field name)"),
        (",status", 0, "unexpected ','"),
        ("status status", 7, "expected asc, desc, ',' or the end"),
        ("status descending", 7, "expected asc, desc, ',' or the end"),
        ("status asc desc", 11, "expected asc, desc, ',' or the end"),
        ("status asc, created_at, status desc", 24, "field 'status' appears twice"),
        ("status; drop", 6, "unexpected character ';'"),
        ("'status'", 0, "unexpected string 'status' (expected a field name)"),
        ("id, status, plan.id, created_at, updated_at, display_name", 45, "more than 5 fields"),
    ],
)
def test_order_errors(text: str, position: int, words: str) -> None:
    with pytest.raises(SearchError) as e:
        parse_order(text, FIELDS)
    assert e.value.position == position
    assert words in e.value.message and e.value.message.startswith("Invalid order: ")


def test_order_bounds() -> None:
    five = parse_order("id, status, plan.id, created_at, updated_at", FIELDS)
    assert len(five) == 5 and five[-1] == Order(("subscription", "updated_at"))
    with pytest.raises(SearchError) as e:
        parse_order("id" + " " * MAX_TEXT, FIELDS)
    assert e.value.position == MAX_TEXT
