"""Optional profiling: py-spy record (collapsed stacks) on a pid while a block runs, a flame graph when
``flamegraph.pl``/``inferno-flamegraph`` is on PATH, and a top-frames summary per profile."""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from common import RESULTS, log


class Profiler:
    """py-spy record on a pid while a block runs; writes collapsed stacks and a top-functions summary."""

    def __init__(self, enabled: bool):
        self.exe = shutil.which("py-spy") or (shutil.which("py-spy", path=str(Path(sys.executable).parent)))
        self.enabled = enabled and self.exe is not None
        if enabled and not self.exe:
            log("--profile: py-spy not found (pip install py-spy); profiling skipped")
        self.outputs: dict[str, str] = {}

    @contextlib.contextmanager
    def record(self, name: str, pid: int) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        raw = RESULTS / f"profile-{name}.txt"
        svg = RESULTS / f"profile-{name}.svg"
        cmd = [self.exe, "record", "--pid", str(pid), "--rate", "200", "--nonblocking", "--threads"]
        procs = [
            subprocess.Popen(
                [*cmd, "--format", "raw", "-o", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        ]
        time.sleep(0.5)
        try:
            yield
        finally:
            for p in procs:
                p.send_signal(signal.SIGINT)
            for p in procs:
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
            if raw.exists():
                summary = summarize_profile(raw)
                (RESULTS / f"profile-{name}.top.txt").write_text(summary)
                self.outputs[name] = str(raw)
                with contextlib.suppress(Exception):
                    flamegraph(raw, svg)
            else:
                log(f"profile {name}: py-spy wrote nothing: {(procs[0].stderr.read() or b'').decode()[-500:]}")  # type: ignore[union-attr]


def flamegraph(raw: Path, svg: Path) -> None:
    """Optional: render with `flamegraph.pl` when it is on PATH (py-spy's raw format is collapsed stacks)."""
    tool = shutil.which("flamegraph.pl") or shutil.which("inferno-flamegraph")
    if tool:
        with svg.open("wb") as out:
            subprocess.run([tool, str(raw)], stdout=out, check=False)


def summarize_profile(raw: Path, top: int = 40) -> str:
    """Top frames by self and by inclusive samples (main thread and all threads) from collapsed stacks."""
    self_n: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    threads: dict[str, int] = {}
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        threads[frames[0]] = threads.get(frames[0], 0) + n
        frames = [re.sub(r":\d+\)$", ")", f) for f in frames[1:]]  # drop line numbers
        if frames:
            self_n[frames[-1]] = self_n.get(frames[-1], 0) + n
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n
    out = [f"samples: {total}", "", "by thread:"]
    out += [f"  {n / total:6.1%}  {t}" for t, n in sorted(threads.items(), key=lambda x: -x[1])]
    out += ["", f"top {top} self:"]
    out += [f"  {n / total:6.1%}  {f}" for f, n in sorted(self_n.items(), key=lambda x: -x[1])[:top]]
    out += ["", f"top {top} inclusive:"]
    out += [f"  {n / total:6.1%}  {f}" for f, n in sorted(incl.items(), key=lambda x: -x[1])[:top]]
    return "\n".join(out) + "\n"
