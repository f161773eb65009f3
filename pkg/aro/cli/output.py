"""What the client prints: results (``-o json|table``) on stdout; progress, notes and errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aro.cli.errors import ArmError, CliError

Row = Sequence[Any]
TableSpec = tuple[Sequence[str], Callable[[Any], Row]]  # headers, item -> cells


class Format(StrEnum):
    JSON = "json"
    TABLE = "table"


def _console(file: TextIO) -> Console:
    # Piped output is never wrapped or truncated (rich would fold at 80 columns).
    interactive = file.isatty()
    return Console(file=file, width=None if interactive else 100_000, highlight=False, soft_wrap=not interactive)


@dataclass
class Printer:
    """The invocation's output streams (resolved at construction: tests swap sys.stdout/stderr)."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def __post_init__(self) -> None:
        self.stdout = _console(self.out)
        self.stderr = _console(self.err)
        self.stdout_tty = self.out.isatty()  # colour and folding only for a real terminal (FORCE_COLOR aside)

    def result(self, value: Any, fmt: Format, table: TableSpec) -> None:
        if fmt is Format.JSON:
            self.json(value)
        else:
            headers, row = table
            self.table(headers, [row(item) for item in (value if isinstance(value, list) else [value])])

    def json(self, value: Any) -> None:
        if self.stdout_tty:
            self.stdout.print_json(data=value, indent=2)
        else:
            self.out.write(json.dumps(value, indent=2) + "\n")
            self.out.flush()

    def table(self, headers: Sequence[str], rows: Sequence[Row]) -> None:
        t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
        for h in headers:
            t.add_column(h, overflow="fold" if self.stdout_tty else "ignore", no_wrap=True)
        for r in rows:
            t.add_row(*("" if c is None else str(c) for c in r))
        if self.stdout_tty:
            self.stdout.print(t)
            return
        with self.stdout.capture() as captured:
            self.stdout.print(t)
        self.out.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
        self.out.flush()

    def note(self, text: str, style: str = "dim") -> None:
        self.stderr.print(escape(text), style=style)

    def error(self, e: ArmError | CliError) -> None:
        if isinstance(e, ArmError):
            for line, style in arm_error_lines(e):
                self.stderr.print(escape(line), style=style)
        else:
            self.stderr.print(escape(f"ERROR: {e.message}"), style="bold red")
        if e.hint:
            self.stderr.print(escape(e.hint), style="yellow")


def arm_error_lines(e: ArmError, indent: str = "") -> list[tuple[str, str]]:
    """``ERROR: (Code) message`` then target, details and request id, like az prints a CloudError."""
    head = "ERROR: " if not indent else ""
    lines = [(f"{indent}{head}({e.code}) {e.message}", "bold red" if not indent else "red")]
    if e.target:
        lines.append((f"{indent}  target: {e.target}", "red"))
    if e.status is not None and not indent:
        lines.append((f"{indent}  status: {e.status}", "dim"))
    for d in e.details:
        lines += arm_error_lines(d, indent + "  ")
    if e.request_id and not indent:
        lines.append((f"  request id: {e.request_id}", "dim"))
    return lines
