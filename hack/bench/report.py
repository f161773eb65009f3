"""The report: facts about the machine, the table (figure, goal, measured, met?) built from the scenarios'
results, bench-results/bench.json, and the summary printed at the end of a run."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
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


def oneline(text: Any, width: int) -> str:
    """The first line of an error, at most ``width`` characters."""
    first = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return first if len(first) <= width else first[: width - 3] + "..."


def ms(d: dict[str, Any] | None, *roles: str) -> str:
    """CPU ms per request of some roles, from a ``cpuMsPerRequestByProcess``-like dict: '1.2 / 0.3'."""
    d = d or {}
    return " / ".join("-" if d.get(r) is None else f"{d[r]:.2f}" for r in roles)


def rows(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, goal, measured, met?) for the table of every figure."""
    out: list[tuple[str, str, str, str]] = []

    def add(label: str, goal: str, value: Any, fmt: str, ok: Callable[[Any], bool] | None = None) -> None:
        if value is None:
            out.append((label, goal, "-", "-"))
            return
        met = "-" if ok is None else ("yes" if ok(value) else "NO")
        out.append((label, goal, fmt.format(value), met))

    def err(section: str) -> bool:
        if isinstance(res.get(section), dict) and "error" in res[section]:
            out.append((f"{section}: ERROR", "", oneline(res[section]["error"], 100), "-"))
            return True
        return section not in res

    if not err("throughput"):
        t = res["throughput"]
        w = t.get("frontendProcesses", 1)
        add(f"GET cluster req/s, aro rp ({w} frontend)", "", get(t, "get.aro.rps"), "{:,.0f}")
        add(f"GET req/s, bare FastAPI ({w} process{'es' if w > 1 else ''})", "", get(t, "get.bare.rps"), "{:,.0f}")
        add("GET ratio aro/bare", ">= 0.50", get(t, "get.ratio"), "{:.2f}", lambda v: v >= 0.5)
        add("GET p50 / p99 ms, aro rp", "", f"{get(t, 'get.aro.p50Ms')} / {get(t, 'get.aro.p99Ms')}", "{}")
        add("PUT create req/s, aro rp", "", get(t, "put.aro.rps"), "{:,.0f}")
        add("PUT req/s, bare FastAPI", "", get(t, "put.bare.rps"), "{:,.0f}")
        add("PUT ratio aro/bare", ">= 0.25", get(t, "put.ratio"), "{:.2f}", lambda v: v >= 0.25)
        add("PUT p50 / p99 ms, aro rp", "", f"{get(t, 'put.aro.p50Ms')} / {get(t, 'put.aro.p99Ms')}", "{}")
        add("  PUT req/s, `aro frontend` alone", "", get(t, "put.frontendOnly.rps"), "{:,.0f}")
        add("  PUT ratio, frontend alone/bare", "", get(t, "put.frontendOnlyRatio"), "{:.2f}")
        add(
            "CPU ms/GET: aro rp frontend / bare",
            "",
            f"{get(t, 'get.aro.serverCpuMsPerRequest'):.2f} / {get(t, 'get.bare.serverCpuMsPerRequest'):.2f}",
            "{}",
        )
        add(
            "CPU ms/PUT: aro rp frontend / backend / simulator",
            "",
            ms(get(t, "put.aro.cpuMsPerRequestByProcess"), "frontend", "backend", "simulator"),
            "{}",
        )
        add(
            "  CPU ms/PUT: frontend alone / bare",
            "",
            f"{get(t, 'put.frontendOnly.serverCpuMsPerRequest'):.2f} / {get(t, 'put.bare.serverCpuMsPerRequest'):.2f}",
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
        add(
            "  install steps p50/p99 ms",
            "",
            f"{get(lat, 'installStepsMs.p50')} / {get(lat, 'installStepsMs.p99')}",
            "{}",
        )
        add("  CPU ms per create, all processes", "", get(lat, "serverCpuMsPerCreate"), "{}")
        add(
            "    frontend / backend / simulator",
            "",
            ms(get(lat, "cpuMsPerCreateByProcess"), "frontend", "backend", "simulator"),
            "{}",
        )
    for key, label in (("creates0", "delay 0"), ("creates1", "delay 1s")):
        if err(key):
            continue
        c = res[key]
        n = c["clusters"]
        if key == "creates0":
            add(f"{n} creates {label}: wall s", "<= 60", c["wallSeconds"], "{:.1f}", lambda v: v <= 60)
        else:
            add(f"{n} creates {label}: wall s", "", c["wallSeconds"], "{:.1f}")
            add(
                f"{n} creates {label}: max in flight, one backend",
                f">= {in_flight_target(n)}",
                c["maxInFlightFromHistory"],
                "{}",
                lambda v, n=n: v >= in_flight_target(n),
            )
            add("  (sampled leases max)", "", c["maxLeasedSampled"], "{}")
            add("  processes that ran steps", "1", len(c.get("stepOwnerPids") or []), "{}", lambda v: v == 1)
        add(
            "  CPU ms/create frontend / backend / simulator",
            "",
            ms(c.get("cpuMsPerCreateByProcess"), "frontend", "backend", "simulator"),
            "{}",
        )
        add("  cores busy (all processes)", "", c.get("serverCpuUtilisation"), "{}")
        add(
            f"{n} creates {label}: backend peak RSS MB",
            "<= 400" if key == "creates1" else "",
            c.get("backendPeakRssMB"),
            "{:.0f}",
            (lambda v: v <= 400) if key == "creates1" else None,
        )
        mem = c.get("memoryMB") or {}
        add(
            "  peak RSS MB frontend / simulator / supervisor",
            "",
            " / ".join(f"{get(mem, r + '.peakMB')}" for r in ("frontend", "simulator", "supervisor")),
            "{}",
        )
        add("  sum of peaks / sum of PSS MB", "", f"{get(mem, 'sum.peakMB')} / {get(mem, 'sum.pssMB')}", "{}")
        add(f"  {label}: Succeeded", f"{n}", c.get("succeeded"), "{}", lambda v, n=n: v == n)
    if not err("takeover"):
        t = res["takeover"]
        add(
            f"takeover of {t['clusters']} leases (TTL {t['leaseSeconds']:g}s)",
            f"<= {t['goalSeconds']:g} s",
            t["allResumedSeconds"],
            "{:.2f}",
            lambda v: v <= t["goalSeconds"],
        )
    if not err("restart"):
        r = res["restart"]
        add("kill -9 backend: ready again s", "", r["readyAgainSeconds"], "{:.2f}")
        add(
            f"  all {r['clusters']} resumed / finished s (lease {r['leaseSeconds']:g}s)",
            "",
            f"{r['allResumedSeconds']} / {r['allFinishedSeconds']}",
            "{}",
        )
        add("  Succeeded", f"{r['clusters']}", r["succeeded"], "{}", lambda v: v == r["clusters"])
        add(
            f"  SIGTERM -> exit, {r['installsInFlightAtStop']} installs in flight s",
            "",
            r.get("stopWithInstallsInFlightSeconds"),
            "{:.2f}",
        )
    if not err("list"):
        lst = res["list"]
        add(f"list {lst['clusters']:,}: page p50 ms $top=100", "", get(lst, "walks.top100.pageP50Ms"), "{}")
        add("  page p50 ms $top=1000", "", get(lst, "walks.top1000.pageP50Ms"), "{}")
        add("  page p50 ms default size (10)", "", get(lst, "walks.topDefault.pageP50Ms"), "{}")
        add("  frontend RSS growth MB", "", lst["frontendRssGrowthMB"], "{}")
    if not err("ledger"):
        led = res["ledger"]
        add(
            f"ledger {led['subscriptions']:,} subscriptions / {led['organizations']} orgs: seed s",
            "",
            led["seedSeconds"],
            "{:.1f}",
        )
        for key, label in LEDGER_QUERIES:
            q = get(led, f"queries.{key}")
            if q is None:
                add(f"  {label} p50 / p99 ms", "", None, "{}")
                continue
            total = ""
            if "total" in q:
                wrong = q["total"] != q["expectedTotal"]
                total = f" (total {q['total']:,}" + (f", expected {q['expectedTotal']:,}: MISMATCH)" if wrong else ")")
            add(f"  {label} p50 / p99 ms", "", f"{q['p50Ms']} / {q['p99Ms']}{total}", "{}")
        add("  frontend RSS growth MB", "", led["frontendRssGrowthMB"], "{}")
    if not err("coldstart"):
        cs = res["coldstart"]
        k = cs["runs"]
        add(
            f"cold start to ready line s (median of {k})",
            "<= 1.0",
            get(cs, "fresh.readyMedianSeconds"),
            "{:.2f}",
            lambda v: v <= 1.0,
        )
        add("  to /healthz/ready 200 s", "", get(cs, "fresh.healthzReadyMedianSeconds"), "{:.2f}")
        add("  existing data dir: to ready line s", "", get(cs, "existingDataDirectory.readyMedianSeconds"), "{:.2f}")
        add(
            f"SIGTERM -> exit s (median of {k})",
            "<= 2",
            get(cs, "fresh.sigtermToExitMedianSeconds"),
            "{:.2f}",
            lambda v: v <= 2,
        )
    return out


# the ledger scenario's requests, in its order: (key in results.ledger.queries, row label)
LEDGER_QUERIES = (
    ("memberActive", "member: status = 'Active', own org"),
    ("sreDisplayNameLike", "SRE: display_name like 'cluster-0004%'"),
    ("sreStatusInPlanOrderPage3", "SRE: status in (..) and plan, order, page 3"),
    ("sreFetchLabels", "SRE: size=100&fetchLabels=true"),
    ("sreGetById", "SRE: GET subscriptions/{id}"),
    ("sreAccountsByUsername", "SRE: accounts username = 'user-7'"),
    ("sreOrganizations", "SRE: organizations size=100"),
)


def clean(load: dict[str, Any]) -> bool:
    """A ratio counts when (nearly) every request of both loads succeeded: at most 0.1 % errors."""
    return all(load[k]["errors"] <= load[k]["requests"] / 1000 for k in ("aro", "bare"))


def errors(load: dict[str, Any]) -> str:
    bad = {k: load[k]["errors"] for k in ("aro", "bare") if load[k]["errors"]}
    return "" if not bad else "; ERRORS (non-2xx / socket) " + ", ".join(f"{k} {v:,}" for k, v in bad.items())


def in_flight_target(n: int) -> int:
    """Issue 16: >= 950 of 1,000 in flight at once; the same share of a --quick run's count."""
    return -(-n * 95 // 100)


def goals(res: dict[str, Any], quick: bool) -> list[dict[str, str]]:
    """Issue 16's goals, one row each: goal, target, measured, met (yes / NO / ERROR / not run), details (the
    figures measured side by side with it, CPU per request). Every figure comes from ``res``: this run."""
    out: list[dict[str, str]] = []

    def row(goal: str, target: str, measured: str, met: bool | None, details: str = "") -> None:
        out.append(
            {
                "goal": goal,
                "target": target,
                "measured": measured,
                "met": "-" if met is None else ("yes" if met else "NO"),
                "details": details,
            }
        )

    def section(name: str, *goal_targets: tuple[str, str]) -> dict[str, Any] | None:
        r = res.get(name)
        if isinstance(r, dict) and "error" not in r:
            return r
        for goal, target in goal_targets:
            if r is None:
                row(goal, target, f"not run ({name})", None)
            else:
                row(goal, target, f"{name}: ERROR", False, oneline(r["error"], 160))
        return None

    t = section(
        "throughput",
        ("GET ratio aro rp / bare app", ">= 0.50"),
        ("PUT ratio aro rp / bare app", ">= 0.25"),
    )
    if t:
        w = t.get("frontendProcesses", 1)
        g, p = t["get"], t["put"]
        row(
            f"GET ratio `aro rp` / bare app ({w} frontend process{'es' if w > 1 else ''}, same TLS)",
            ">= 0.50",
            f"{g['ratio']:.2f}",
            g["ratio"] >= 0.5 and clean(g),
            f"{g['aro']['rps']:,.0f} vs {g['bare']['rps']:,.0f} req/s; CPU/GET frontend "
            f"{g['aro']['serverCpuMsPerRequest']:.2f} ms vs bare {g['bare']['serverCpuMsPerRequest']:.2f} ms"
            + (f"; {g['rounds']} rounds ABBA" if g.get("rounds", 1) > 1 else "")
            + errors(g),
        )
        row(
            f"PUT ratio `aro rp` / bare app ({w} frontend process{'es' if w > 1 else ''}, same TLS)",
            ">= 0.25",
            f"{p['ratio']:.2f}",
            p["ratio"] >= 0.25 and clean(p),
            f"{p['aro']['rps']:,.0f} vs {p['bare']['rps']:,.0f} req/s; CPU/PUT frontend / backend / simulator "
            f"{ms(p['aro'].get('cpuMsPerRequestByProcess'), 'frontend', 'backend', 'simulator')} ms vs bare "
            f"{p['bare']['serverCpuMsPerRequest']:.2f} ms; `aro frontend` alone {p['frontendOnlyRatio']:.2f}"
            + errors(p),
        )
    c1 = section(
        "creates1",
        ("creates at step delay 1 s: in flight at once, one backend", ">= 950"),
        ("creates at step delay 1 s: all Succeeded", "all"),
        ("creates at step delay 1 s: backend peak RSS", "<= 400 MB"),
    )
    if c1:
        n = c1["clusters"]
        one = len(c1.get("stepOwnerPids") or []) == 1 and not c1.get("backendRestarts")
        row(
            f"{n:,} creates at step delay 1 s: in flight at once in one backend process",
            f">= {in_flight_target(n)}",
            f"{c1['maxInFlightFromHistory']}",
            c1["maxInFlightFromHistory"] >= in_flight_target(n) and one,
            f"from the step histories; sampled leases max {c1['maxLeasedSampled']}; steps ran in "
            f"{len(c1.get('stepOwnerPids') or [])} process(es), backend restarts {c1.get('backendRestarts', 0)}; "
            f"wall {c1['wallSeconds']:.1f} s",
        )
        row(
            f"{n:,} creates at step delay 1 s: all Succeeded",
            f"{n:,}",
            f"{c1['succeeded']:,}",
            c1["succeeded"] == n,
            "states " + json.dumps(c1["states"]),
        )
        mem = c1.get("memoryMB") or {}
        row(
            f"{n:,} creates at step delay 1 s: backend RSS (VmHWM)",
            "<= 400 MB",
            f"{c1['backendPeakRssMB']:.0f} MB",
            c1["backendPeakRssMB"] <= 400,
            f"peak frontend {get(mem, 'frontend.peakMB')}, simulator {get(mem, 'simulator.peakMB')}, supervisor "
            f"{get(mem, 'supervisor.peakMB')} MB; sum of peaks {get(mem, 'sum.peakMB')} MB, sum of PSS at end "
            f"{get(mem, 'sum.pssMB')} MB; CPU/create backend / simulator / frontend "
            f"{ms(c1.get('cpuMsPerCreateByProcess'), 'backend', 'simulator', 'frontend')} ms",
        )
    c0 = section("creates0", ("creates at step delay 0: wall, all Succeeded", "<= 60 s"))
    if c0:
        n = c0["clusters"]
        row(
            f"{n:,} creates at step delay 0: wall to all Succeeded",
            "<= 60 s",
            f"{c0['wallSeconds']:.1f} s",
            c0["wallSeconds"] <= 60 and c0["succeeded"] == n,
            f"{c0['succeeded']:,}/{n:,} Succeeded; CPU/create backend / simulator / frontend "
            f"{ms(c0.get('cpuMsPerCreateByProcess'), 'backend', 'simulator', 'frontend')} ms, "
            f"{c0['serverCpuUtilisation']} cores busy; backend peak RSS {c0['backendPeakRssMB']:.0f} MB",
        )
    lat = section(
        "latency",
        ("PUT -> Succeeded p50, processes apart", "<= 150 ms"),
        ("PUT -> Succeeded p99, processes apart", "<= 500 ms"),
    )
    if lat:
        p50, p99 = lat["putToSucceededMs"]["p50"], lat["putToSucceededMs"]["p99"]
        detail = (
            f"{lat['clusters']} creates one at a time; pickup p50 {lat['backendPickupMs']['p50']} ms, steps p50 "
            f"{lat['installStepsMs']['p50']} ms; CPU/create frontend / backend / simulator "
            f"{ms(lat.get('cpuMsPerCreateByProcess'), 'frontend', 'backend', 'simulator')} ms"
        )
        row(
            "PUT -> Succeeded p50 (frontend and backend in their processes)",
            "<= 150 ms",
            f"{p50:.0f} ms",
            p50 <= 150,
            detail,
        )
        row("PUT -> Succeeded p99", "<= 500 ms", f"{p99:.0f} ms", p99 <= 500)
    cs = section(
        "coldstart",
        ("`aro rp` cold start to ready", "<= 1.0 s"),
        ("`aro rp` SIGTERM to exit", "<= 2 s"),
    )
    if cs:
        k, f, e = cs["runs"], cs["fresh"], cs["existingDataDirectory"]
        ready, stop = f["readyMedianSeconds"], f["sigtermToExitMedianSeconds"]
        row(
            f"`aro rp` cold start: spawn -> supervisor's ready line (median of {k})",
            "<= 1.0 s",
            "-" if ready is None else f"{ready:.2f} s",
            None if ready is None else ready <= 1.0 and not cs.get("startFailures"),
            f"/healthz/ready 200 at {f['healthzReadyMedianSeconds']} s; the supervisor's own startSeconds "
            f"{f['supervisorStartMedianSeconds']} s; on an existing data directory {e['readyMedianSeconds']} s; "
            f"runs {f['ready']}; starts that failed: {len(cs.get('startFailures') or [])}",
        )
        left = cs.get("processesLeftAfterExit") or []
        row(
            f"`aro rp` SIGTERM -> exit, idle (median of {k})",
            "<= 2 s",
            "-" if stop is None else f"{stop:.2f} s",
            None if stop is None else stop <= 2 and not left,
            f"runs {f['sigtermToExit']} (existing data directory {e['sigtermToExit']}); "
            f"children left after exit: {len(left)}"
            + (
                f"; with {res['restart']['installsInFlightAtStop']} installs in flight "
                f"{res['restart']['stopWithInstallsInFlightSeconds']} s (restart scenario)"
                if isinstance(res.get("restart"), dict) and "error" not in res["restart"]
                else ""
            ),
        )
    r = section("restart", ("kill -9 of the backend child: restarted, in-flight installs resume", "all Succeeded"))
    if r:
        n = r["clusters"]
        ok = bool(r["exitLogged"]) and r["succeeded"] == n and r["resumedByNewBackend"] == n
        row(
            "kill -9 of the backend child: restarted, in-flight installs resume",
            f"restarted; {n}/{n} resumed, Succeeded",
            f"ready again {r['readyAgainSeconds']:.2f} s; {r['resumedByNewBackend']}/{n} resumed, "
            f"{r['succeeded']}/{n} Succeeded",
            ok,
            f"lease {r['leaseSeconds']:g} s, step delay {r['stepDelaySeconds']:g} s; all resumed "
            f"{r['allResumedSeconds']} s, all finished {r['allFinishedSeconds']} s after the kill "
            f"(states {json.dumps(r.get('states', {}))}); "
            f"logged exit {r['exitLogged']}; frontends untouched: {r['frontendsUntouched']}",
        )
    if quick:
        for o in out:
            if o["met"] in ("yes", "NO"):
                o["met"] += " (quick)"
    return out


def goals_table(goal_rows: list[dict[str, str]], markdown: bool = False) -> str:
    """Markdown: one table with the details as its last column. Text: a table, each row numbered, and the
    details below it under the row's number (they are long)."""
    keys = ("goal", "target", "measured", "met", "details")
    if markdown:
        data: list[tuple[str, ...]] = [("goal", "target", "measured", "met?", "side by side, CPU")]
        data += [tuple(r[k].replace("|", "\\|") for k in keys) for r in goal_rows]
        lines = ["| " + " | ".join(data[0]) + " |", "|" + "---|" * len(keys)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in data[1:]])
    box: list[tuple[str, ...]] = [("#", "goal", "target", "measured", "met?")]
    box += [(str(i + 1), *(r[k] for k in keys[:4])) for i, r in enumerate(goal_rows)]
    notes = [f"{i + 1:>2}. {r['details']}" for i, r in enumerate(goal_rows) if r["details"]]
    return _box(box) + ("\n" + "\n".join(notes) if notes else "")


def table(res: dict[str, Any], markdown: bool = False) -> str:
    data = [("figure", "goal", "measured", "met?"), *rows(res)]
    if markdown:
        esc = [tuple(c.replace("|", "\\|") for c in r) for r in data]
        lines = ["| " + " | ".join(esc[0]) + " |", "|---|---|---|---|"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in esc[1:]])
    return _box(data)


def _box(data: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in data) for i in range(len(data[0]))]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    out = [line]
    for i, r in enumerate(data):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
        if i == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


QUICK_NOTE = (
    "QUICK RUN (--quick): smaller counts (200 creates, 50 latency creates, 20 restarted installs, 3 cold starts, "
    "5 s loads): a smoke test of the harness, not evidence for the goals"
)


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
        "goals": goals(results, quick),
    }


def write(path: Path, out: dict[str, Any]) -> None:
    path.write_text(json.dumps(out, indent=2) + "\n")


def conditions(out: dict[str, Any]) -> str:
    info = out["machine"]
    return (
        f"{'quick' if out['quick'] else 'full'} run{' (profiled)' if out['profiled'] else ''}, {out['generatedAt']}: "
        f"{info['cores']} cores ({info['cpu']}), Python {info['python']}, load generator {out['loadGenerator']}, "
        f"{CONNECTIONS} connections; load average {info['loadAverageAtStart']} at start, "
        f"{info['loadAverageAtEnd']} at end"
    )


def write_markdown(path: Path, out: dict[str, Any]) -> None:
    """The goals and the figures as markdown tables (for docs/operations.md's results table)."""
    parts = [f"`make bench`, {conditions(out)}.", ""]
    if out["quick"]:
        parts += [f"**{QUICK_NOTE}.**", ""]
    parts += [goals_table(out["goals"], markdown=True), "", table(out["results"], markdown=True), ""]
    path.write_text("\n".join(parts))


def summary(out: dict[str, Any], path: Path) -> None:
    """Print the conditions, the table of figures, the notes and the goals table of a run (``out`` as from
    ``document``)."""
    results = out["results"]
    print()
    print(f"aro bench: {conditions(out)}")
    print(table(results))
    print("notes:")
    print("- every server is a real `aro` subprocess over HTTPS on its own data directory (embedded SQLite store)")
    print(
        "- `aro rp` is a supervisor: CPU and memory are read per process from the pids of its ready line "
        "(frontend / backend / simulator / supervisor); CPU per GET/PUT is the frontend's"
    )
    print(
        "- the bare app is hack/bench/bare_app.py served by aro.util.serve.HTTPSServer with the RP's certificate, "
        "in as many processes as `aro rp` has frontends"
    )
    if "creates1" in results and "backendWorkers" in results["creates1"]:
        print(
            f"- creates run with backend.workers={results['creates1']['backendWorkers']} in one backend process "
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
    if "ledger" in results and "seededWith" in results["ledger"]:
        print(f"- ledger: written through the ledger's API into the embedded store ({results['ledger']['seededWith']})")
    for failure in out.get("startFailures") or []:
        print(f"- `aro rp` exited while starting, started again: {oneline(failure['why'], 200)} ({failure['log']})")
    if out["profiled"]:
        print("- profiled run: py-spy was attached, figures of the profiled scenarios are pessimistic")
    print("- a shared machine: req/s moves by +-20 % between identical runs; CPU per request is steadier")
    print()
    print("goals (issue 16), every figure from this run:")
    if out["quick"]:
        print(QUICK_NOTE)
    print(goals_table(out["goals"]))
    print(f"results: {path} and {path.with_suffix('.md')}  ({out['totalSeconds']:.0f}s)")
