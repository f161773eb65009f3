#!/usr/bin/env python3
"""`make bench`: the RP's performance figures, all measured in one run, printed as one table and written
to ``bench-results/bench.json``. Benchmarks never fail the build: a scenario that breaks is reported as
an error in the table and the run goes on.

Scenarios (every server is a real subprocess on its own data directory under bench-results/work/):

- throughput   GET cluster and PUT create (a new name per request) req/s at 32 connections against
               ``aro rp`` (backend running, step delay 0), and the same load against a bare FastAPI app
               (hack/bench/bare_app.py) served by the same ``HTTPSServer`` over the same TLS certificate;
               load from ``wrk`` when installed, else an asyncio httpx generator (the output says which).
- latency      PUT create -> first operationsstatus poll showing Succeeded (polled every ~5 ms), one
               cluster at a time, with backend pickup / install / finish split out of the stored step
               history (``openShiftCluster.properties.install.history``).
- creates      1,000 concurrent creates at step delay 0 and 1 s: wall time to all Succeeded, peak RSS
               (VmHWM) of ``aro rp``, and how many installs were in flight at once (sampled lease count
               from the store, and the overlap of the stored step histories).
- takeover     ``aro simulator`` + ``aro frontend`` + backend A with 50 installs mid-flight; SIGKILL A,
               start B; time from the kill until B has started a step of every one of the 50 clusters.
- list         10,000 clusters in one subscription, seeded straight into the embedded store with the
               store API, then listed page by page: page latency and the server's RSS growth.
- coldstart    ``aro rp`` spawn -> /healthz/ready 200, median of 5 (fresh data directory, and restart).

Usage: python hack/bench/run.py [--only throughput,latency,...] [--quick] [--profile] [--httpx]

This file parses the command line and runs the scenarios; the rest lives next to it: scenarios.py (the
scenarios), procs.py (the server subprocesses, /proc readings), loadgen.py (wrk / httpx load), state.py
(the RP's state through the store API: the only module that knows the document layout), profiler.py
(py-spy), report.py (table, bench.json, machine facts), common.py (paths, log, percentiles).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# the bench modules (already first on sys.path when run as a script) and the repository (tests.backend.helpers)
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

from common import RESULTS, WORK, log  # noqa: E402
from loadgen import LoadGen  # noqa: E402
from profiler import Profiler  # noqa: E402
from report import document, machine, summary, write  # noqa: E402
from scenarios import SCENARIOS, Bench  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description="aro benchmarks (see the module docstring)")
    parser.add_argument("--only", default="", help="comma-separated subset of: " + ",".join(SCENARIOS))
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke test of the harness)")
    parser.add_argument("--httpx", action="store_true", help="use the httpx load generator even if wrk is present")
    parser.add_argument("--profile", action="store_true", help="py-spy the RP under PUT load and 1,000 creates")
    parser.add_argument("--keep", action="store_true", help="keep bench-results/work (data dirs, logs)")
    args = parser.parse_args()
    only = [s for s in args.only.split(",") if s] or SCENARIOS
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")

    RESULTS.mkdir(exist_ok=True)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    loadgen = LoadGen(args.httpx, WORK)
    why = "" if loadgen.wrk else (" (forced by --httpx)" if args.httpx else " (wrk not installed)")
    log(f"load generator: {loadgen.name}{why}")
    bench = Bench(args.quick, loadgen, Profiler(args.profile))
    started = time.time()
    results: dict[str, Any] = {}
    info = machine()
    for name in SCENARIOS:
        if name not in only:
            continue
        t = time.monotonic()
        try:
            results[name] = bench.run(name)
        except Exception as e:  # a benchmark never fails the build
            traceback.print_exc()
            results[name] = {"error": f"{type(e).__name__}: {e}"}
        results.setdefault(name, {})["scenarioSeconds"] = round(time.monotonic() - t, 1)
        log(f"{name}: done in {time.monotonic() - t:.1f}s")
    info["loadAverageAtEnd"] = [round(x, 2) for x in os.getloadavg()]
    profiles = bench.profiler.outputs if bench.profiler.enabled else None
    out = document(started, info, loadgen.name + why, args.quick, profiles, results)
    write(RESULTS / "bench.json", out)
    if not args.keep:
        shutil.rmtree(WORK, ignore_errors=True)
    summary(out, RESULTS / "bench.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
