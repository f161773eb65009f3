"""The size of the reliability drills: ``ARO_DRILL_SCALE=short`` (the default, part of `make test`) or
``soak`` (`make soak`). The same drill code runs both; only these numbers differ.

Figures (counts and timings a drill measured) are recorded with ``record()`` and printed in pytest's
terminal summary; ``ARO_DRILL_FIGURES=<file>`` also writes them there as JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCALE_ENV = "ARO_DRILL_SCALE"
FIGURES_ENV = "ARO_DRILL_FIGURES"


@dataclass(frozen=True)
class Scale:
    name: str
    # lost update: concurrent clients, each adding `rounds` tags one after the other
    lost_update_clients: int
    lost_update_rounds: int
    # chaos: installs per store, simulator step delay, seconds between kills (uniform range)
    chaos_installs: int
    chaos_step_delay: float
    chaos_kill_every: tuple[float, float]
    chaos_deadline: float
    # fuzz: generated requests in all (spread over the documented operations)
    fuzz_cases: int
    # slow clients: idle TLS connections, slowloris heads and stalled bodies held against one RP
    slow_idle: int = 100
    slow_slowloris: int = 20
    slow_bodies: int = 10


SCALES = {
    "short": Scale(
        name="short",
        lost_update_clients=64,
        lost_update_rounds=1,
        chaos_installs=30,
        chaos_step_delay=0.8,
        chaos_kill_every=(1.0, 2.5),
        chaos_deadline=120,
        fuzz_cases=200,
    ),
    "soak": Scale(
        name="soak",
        lost_update_clients=64,
        lost_update_rounds=4,
        chaos_installs=200,
        chaos_step_delay=1.0,
        chaos_kill_every=(1.0, 4.0),
        chaos_deadline=900,
        fuzz_cases=3000,
        slow_idle=500,
        slow_slowloris=50,
        slow_bodies=25,
    ),
}


def current() -> Scale:
    name = os.environ.get(SCALE_ENV, "short").strip().lower() or "short"
    if name not in SCALES:
        raise ValueError(f"{SCALE_ENV}={name!r}: use one of {', '.join(SCALES)}")
    return SCALES[name]


FIGURES: dict[str, dict[str, Any]] = {}


def record(drill: str, **figures: Any) -> None:
    """Keep a drill's figures for the summary (and the JSON file, when asked for)."""
    FIGURES.setdefault(drill, {}).update(figures)
    path = os.environ.get(FIGURES_ENV)
    if path:
        out = {"scale": asdict(current()), "figures": FIGURES}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(out, indent=2, default=str) + "\n")
