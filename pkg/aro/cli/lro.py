"""Waiting for a long-running ARM operation, with a live progress display.

Like azure-mgmt-core's ARMPolling: poll the ``Azure-AsyncOperation`` URL (sleeping ``Retry-After`` seconds,
else the configured interval) until its ``status`` is Succeeded, Failed or Canceled; Failed and Canceled raise
the operation's ARM error. Without that header the resource's ``provisioningState`` is polled instead. The
caller makes the final GET of the resource.

Each poll also reads the resource's provisioningState (absent once a delete is done), and the non-standard
``currentStep`` / ``percentComplete`` of the operation status when the RP provides them. On a terminal the
display is a rich ``Live`` panel; otherwise one line is printed per change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from aro.cli.client import ArmClient
from aro.cli.errors import ArmError, CliError

TERMINAL = ("succeeded", "failed", "canceled")
MAX_TRANSPORT_RETRIES = 3


@dataclass
class Snapshot:
    """What the display shows."""

    title: str
    started: float = field(default_factory=time.monotonic)
    status: str | None = None  # the operation's status
    state: str | None = None  # the resource's provisioningState ("(gone)" once deleted)
    step: str | None = None
    percent: float | None = None
    ended: float | None = None

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def key(self) -> tuple[Any, ...]:
        return (self.status, self.state, self.step, self.percent)

    def step_text(self) -> str | None:
        if self.step is None and self.percent is None:
            return None
        pct = f"{self.percent:g}%" if self.percent is not None else None
        return " ".join(x for x in (self.step, f"({pct})" if self.step and pct else pct) if x)

    def line(self) -> str:
        parts = [f"operation: {self.status or '?'}", f"provisioningState: {self.state or '?'}"]
        step = self.step_text()
        if step:
            parts.append(f"step: {step}")
        parts.append(f"elapsed: {format_elapsed(self.elapsed)}")
        return f"{self.title}: " + ", ".join(parts)


def format_elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


class Reporter(Protocol):
    def __enter__(self) -> Reporter: ...
    def __exit__(self, *exc: object) -> None: ...
    def update(self, snap: Snapshot) -> None: ...


class LineReporter:
    """Non-interactive: one line on stderr whenever the status, state or step changes."""

    def __init__(self, console: Console):
        self.console = console
        self.last: tuple[Any, ...] | None = None

    def __enter__(self) -> LineReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, snap: Snapshot) -> None:
        if snap.key() != self.last or snap.ended is not None:
            self.last = snap.key()
            self.console.print(Text(snap.line()))


class _LiveView:
    """Re-rendered on every refresh, so the elapsed time ticks between polls."""

    def __init__(self, snap: Snapshot):
        self.snap = snap

    def __rich__(self) -> RenderableType:
        s = self.snap
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", justify="right")
        grid.add_column()
        grid.add_row("operation", _styled(s.status))
        grid.add_row("provisioningState", _styled(s.state))
        step = s.step_text()
        if step:
            grid.add_row("step", step)
        grid.add_row("elapsed", format_elapsed(s.elapsed))
        if s.ended is not None:
            head: RenderableType = Text(s.title, style="bold")
        else:
            head = Spinner("dots", text=Text(s.title, style="bold"))
        return Group(head, grid)


def _styled(value: str | None) -> Text:
    style = {"succeeded": "green", "failed": "red", "canceled": "yellow"}.get((value or "").lower(), "cyan")
    return Text(value or "…", style=style)


class LiveReporter:
    """Interactive: a rich Live panel on stderr, left on screen when done."""

    def __init__(self, console: Console, snap: Snapshot):
        self.view = _LiveView(snap)
        self.live = Live(self.view, console=console, refresh_per_second=8, transient=False)

    def __enter__(self) -> LiveReporter:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.update(self.view, refresh=True)
        self.live.stop()

    def update(self, snap: Snapshot) -> None:
        self.view.snap = snap
        self.live.refresh()


def reporter_for(console: Console, snap: Snapshot) -> Reporter:
    return LiveReporter(console, snap) if console.is_terminal else LineReporter(console)


def retry_after(response: httpx.Response, default: float) -> float:
    value = response.headers.get("retry-after", "")
    return min(float(value), 60.0) if value.isdigit() else default


@dataclass
class Poller:
    """``state_of`` reads the provisioningState from a body of the polled resource (default: an ARM
    resource's ``properties.provisioningState``; the admin client reads it from a stored document)."""

    arm: ArmClient
    console: Console
    sleep: Callable[[float], None] = time.sleep
    state_of: Callable[[Any], str | None] | None = None

    def wait(
        self,
        initial: httpx.Response,
        *,
        title: str,
        resource_url: str,
        api_version: str,
        initial_state: str | None = None,
    ) -> dict[str, Any]:
        """Wait for the operation ``initial`` started; returns the final operation status body.
        ``initial_state`` is the provisioningState to show until the first poll when ``initial`` has no body."""
        snap = Snapshot(title=title, status="Accepted")
        snap.state = self._state(_json_or_none(initial)) or initial_state
        status_url = initial.headers.get("azure-asyncoperation")
        interval = retry_after(initial, self.arm.settings.poll_interval)
        with reporter_for(self.console, snap) as reporter:
            reporter.update(snap)
            errors = 0
            op: dict[str, Any] = {}
            while True:
                self.sleep(interval)
                try:
                    op, interval = self._poll(snap, status_url, resource_url, api_version)
                except CliError:
                    errors += 1  # a transient transport error: the RP may be restarting
                    if errors > MAX_TRANSPORT_RETRIES:
                        raise
                    continue
                errors = 0
                if (snap.status or "").lower() in TERMINAL:
                    snap.ended = time.monotonic()
                    reporter.update(snap)
                    break
                reporter.update(snap)
        return _finish(op, snap)

    def _state(self, body: Any) -> str | None:
        return (self.state_of or _provisioning_state)(body)

    def _poll(
        self, snap: Snapshot, status_url: str | None, resource_url: str, api_version: str
    ) -> tuple[dict[str, Any], float]:
        op: dict[str, Any] = {}
        interval = self.arm.settings.poll_interval
        if status_url:
            response = self.arm.request("GET", status_url)
            body = _json_or_none(response)
            if not isinstance(body, dict) or not body.get("status"):
                raise ArmError("InvalidOperationStatus", f"the operation status at {status_url} has no 'status'")
            op = body
            interval = retry_after(response, interval)
            snap.status = str(op["status"])
            step = op.get("currentStep", (op.get("properties") or {}).get("currentStep"))
            percent = op.get("percentComplete", (op.get("properties") or {}).get("percentComplete"))
            snap.step = str(step) if step else None
            snap.percent = float(percent) if isinstance(percent, (int, float)) else None
        resource = self.arm.request("GET", resource_url, api_version=api_version, ok=(200, 404))
        if resource.status_code == 404:
            snap.state = "(gone)"
            if not status_url:
                snap.status = "Succeeded"  # a delete polled through the resource
        else:
            snap.state = self._state(_json_or_none(resource))
            if not status_url:
                snap.status = snap.state or "Succeeded"  # no provisioningState means Succeeded
                op = {"status": snap.state}
        return op, interval


def _finish(op: dict[str, Any], snap: Snapshot) -> dict[str, Any]:
    status = (snap.status or "").lower()
    if status == "succeeded":
        return op
    error = op.get("error")
    if isinstance(error, dict):
        raise ArmError.from_error(error)
    if status == "canceled":
        raise ArmError("Canceled", "The operation was canceled.")
    raise ArmError("OperationFailed", f"The operation ended {snap.status} without an error body.")


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _provisioning_state(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("properties"), dict):
        state = body["properties"].get("provisioningState")
        return str(state) if state else None
    return None
