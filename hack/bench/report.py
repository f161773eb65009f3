"""The report: facts about the machine, the table (figure, goal, measured, met?) built from the scenarios'
results, bench-results/bench.json, and the summary printed at the end of a run."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import CONNECTIONS


def machine() -> dict[str, Any]:
    mem = ""
    with contextlib.suppress(OSError):
        mem = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
    cpu = ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(x for x in Path("/proc/cpuinfo").read_text().splitlines() if x.startswith("model name"))
    return {
        "cores": os.cpu_count(),
        "cpu": cpu.split(":", 1)[-1].strip(),
        "memTotalMB": int(mem.split()[1]) // 1024 if mem else None,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadAverageAtStart": [round(x, 2) for x in os.getloadavg()],
    }


def get(d: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def rows(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, goal, measured, met?) for the table."""
    out: list[tuple[str, str, str, str]] = []

    def add(label: str, goal: str, value: Any, fmt: str, ok: Callable[[Any], bool] | None = None) -> None:
        if value is None:
            out.append((label, goal, "-", "-"))
            return
        met = "-" if ok is None else ("yes" if ok(value) else "NO")
        out.append((label, goal, fmt.format(value), met))

    def err(section: str) -> bool:
        if isinstance(res.get(section), dict) and "error" in res[section]:
            out.append((f"{section}: ERROR", "", res[section]["error"][:60], "-"))
            return True
        return section not in res

    if not err("throughput"):
        t = res["throughput"]
        add("GET cluster req/s, aro rp", "", get(t, "get.aro.rps"), "{:,.0f}")
        add("GET req/s, bare FastAPI", "", get(t, "get.bare.rps"), "{:,.0f}")
        add("GET ratio aro/bare", ">= 0.50", get(t, "get.ratio"), "{:.2f}", lambda v: v >= 0.5)
        add("GET p50 / p99 ms, aro rp", "", f"{get(t, 'get.aro.p50Ms')} / {get(t, 'get.aro.p99Ms')}", "{}")
        add("PUT create req/s, aro rp", "", get(t, "put.aro.rps"), "{:,.0f}")
        add("PUT req/s, bare FastAPI", "", get(t, "put.bare.rps"), "{:,.0f}")
        add("PUT ratio aro/bare", ">= 0.25", get(t, "put.ratio"), "{:.2f}", lambda v: v >= 0.25)
        add("PUT p50 / p99 ms, aro rp", "", f"{get(t, 'put.aro.p50Ms')} / {get(t, 'put.aro.p99Ms')}", "{}")
        add("  PUT req/s, `aro frontend` alone", "", get(t, "put.frontendOnly.rps"), "{:,.0f}")
        add("  PUT ratio, frontend alone/bare", "", get(t, "put.frontendOnlyRatio"), "{:.2f}")
        add(
            "server CPU ms/req GET aro/bare",
            "",
            f"{get(t, 'get.aro.serverCpuMsPerRequest')} / {get(t, 'get.bare.serverCpuMsPerRequest')}",
            "{}",
        )
        add(
            "server CPU ms/req PUT rp/frontend/bare",
            "",
            f"{get(t, 'put.aro.serverCpuMsPerRequest')} / {get(t, 'put.frontendOnly.serverCpuMsPerRequest')}"
            f" / {get(t, 'put.bare.serverCpuMsPerRequest')}",
            "{}",
        )
        add("load errors (GET/PUT aro)", "0", f"{get(t, 'get.aro.errors')}/{get(t, 'put.aro.errors')}", "{}")
    if not err("latency"):
        lat = res["latency"]
        add("PUT->Succeeded p50 ms", "<= 150", get(lat, "putToSucceededMs.p50"), "{:.1f}", lambda v: v <= 150)
        add("PUT->Succeeded p99 ms", "<= 500", get(lat, "putToSucceededMs.p99"), "{:.1f}", lambda v: v <= 500)
        add(
            "  PUT response p50/p99 ms",
            "",
            f"{get(lat, 'putResponseMs.p50')} / {get(lat, 'putResponseMs.p99')}",
            "{}",
        )
        add(
            "  backend pickup p50/p99 ms",
            "",
            f"{get(lat, 'backendPickupMs.p50')} / {get(lat, 'backendPickupMs.p99')}",
            "{}",
        )
        add("  server CPU ms per create (PUT+install)", "", get(lat, "serverCpuMsPerCreate"), "{}")
        add(
            "  install steps p50/p99 ms",
            "",
            f"{get(lat, 'installStepsMs.p50')} / {get(lat, 'installStepsMs.p99')}",
            "{}",
        )
    for key, label in (("creates0", "delay 0"), ("creates1", "delay 1s")):
        if err(key):
            continue
        c = res[key]
        n = c["clusters"]
        if key == "creates0":
            add(f"{n} creates {label}: wall s", "<= 60", c["wallSeconds"], "{:.1f}", lambda v: v <= 60)
            add("  server CPU ms per create", "", c.get("serverCpuMsPerCreate"), "{}")
            add(f"{n} creates {label}: peak RSS MB", "<= 400", c["peakRssMB"], "{:.0f}", lambda v: v <= 400)
        else:
            add(f"{n} creates {label}: wall s", "", c["wallSeconds"], "{:.1f}")
            add(
                f"{n} creates {label}: max in flight",
                f"= {n}",
                c["maxInFlightFromHistory"],
                "{}",
                lambda v, n=n: v >= n,
            )
            add("  (sampled leases max)", "", c["maxLeasedSampled"], "{}")
            add(f"{n} creates {label}: peak RSS MB", "", c["peakRssMB"], "{:.0f}")
        bad = {k: v for k, v in c["states"].items() if k != "Succeeded"}
        if bad:
            out.append((f"  {label}: not Succeeded", "0", json.dumps(bad), "NO"))
    if not err("takeover"):
        t = res["takeover"]
        add(
            f"takeover of {t['clusters']} leases (TTL {t['leaseSeconds']:g}s)",
            f"<= {t['goalSeconds']:g} s",
            t["allResumedSeconds"],
            "{:.2f}",
            lambda v: v <= t["goalSeconds"],
        )
    if not err("list"):
        lst = res["list"]
        add(f"list {lst['clusters']:,}: page p50 ms $top=100", "", get(lst, "walks.top100.pageP50Ms"), "{}")
        add("  page p50 ms $top=1000", "", get(lst, "walks.top1000.pageP50Ms"), "{}")
        add("  page p50 ms default size (10)", "", get(lst, "walks.topDefault.pageP50Ms"), "{}")
        add("  server RSS growth MB", "", lst["rssGrowthMB"], "{}")
    if not err("coldstart"):
        cs = res["coldstart"]
        add("cold start to ready s (median of 5)", "", cs["freshMedianSeconds"], "{:.2f}")
        add("  restart on existing data dir s", "", cs["restartMedianSeconds"], "{:.2f}")
    return out


def table(res: dict[str, Any]) -> str:
    data = [("figure", "goal", "measured", "met?"), *rows(res)]
    widths = [max(len(r[i]) for r in data) for i in range(4)]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    out = [line]
    for i, r in enumerate(data):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
        if i == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


def document(
    started: float,
    info: dict[str, Any],
    load_generator: str,
    quick: bool,
    profiles: dict[str, str] | None,
    results: dict[str, Any],
) -> dict[str, Any]:
    """The content of bench.json; ``profiles`` is None when the run was not profiled."""
    return {
        "generatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "totalSeconds": round(time.time() - started, 1),
        "machine": info,
        "loadGenerator": load_generator,
        "quick": quick,
        "profiled": profiles is not None,
        "profiles": profiles or {},
        "results": results,
        "table": [dict(zip(("figure", "goal", "measured", "met"), r, strict=True)) for r in rows(results)],
    }


def write(path: Path, out: dict[str, Any]) -> None:
    path.write_text(json.dumps(out, indent=2) + "\n")


def summary(out: dict[str, Any], path: Path) -> None:
    """Print the machine line, the table and the notes of a run (``out`` as from ``document``)."""
    info = out["machine"]
    results = out["results"]
    print()
    print(
        f"aro bench: {info['cores']} cores, Python {info['python']}, load generator {out['loadGenerator']}, "
        f"{CONNECTIONS} connections; load average {info['loadAverageAtStart']} at start, "
        f"{info['loadAverageAtEnd']} at end"
    )
    print(table(results))
    print("notes:")
    print("- every server is a real `aro` subprocess over HTTPS on its own data directory (embedded SQLite store)")
    print("- the bare app is hack/bench/bare_app.py served by aro.util.serve.HTTPSServer with the RP's certificate")
    if "creates1" in results and "backendWorkers" in results["creates1"]:
        print(
            f"- creates run with backend.workers={results['creates1']['backendWorkers']} "
            "(the default, 200, caps installs in flight at 200)"
        )
    if "takeover" in results and "leaseSeconds" in results["takeover"]:
        t = results["takeover"]
        print(
            f"- takeover: lease TTL {t['leaseSeconds']:g}s, heartbeat {t['heartbeatSeconds']:g}s, backend poll "
            f"{t['pollSeconds']:g}s; B was ready {t['backendBReadySeconds']:g}s after the kill"
        )
    if "list" in results and "seededWith" in results["list"]:
        print(f"- list: the clusters were written directly into the embedded store ({results['list']['seededWith']})")
    if out["profiled"]:
        print("- profiled run: py-spy was attached, figures of the profiled scenarios are pessimistic")
    print(f"results: {path}  ({out['totalSeconds']:.0f}s)")
