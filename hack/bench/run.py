#!/usr/bin/env python3
"""`make bench`: the RP's performance figures, all measured in one run, printed as one table of figures
and a table of issue 16's goals (goal, target, measured, met, and what was measured side by side with
it), written to ``bench-results/bench.json`` and, as markdown, ``bench-results/bench.md``. Benchmarks
never fail the build: a scenario that breaks is reported as an error in the tables and the run goes on.

`aro rp` is a supervisor that forks the simulator, the backend and ``frontend.workers`` frontends
(pkg/aro/supervisor.py): every per-process figure (CPU from /proc/<pid>/stat, RSS / VmHWM / PSS) is read
from the pids its ready line names, per role; CPU per GET/PUT is the frontend's.

Scenarios (every server is a real subprocess on its own data directory under bench-results/work/):

- throughput   GET cluster and PUT create (a new name per request) req/s at 32 connections against
               ``aro rp`` (backend running, step delay 0), and the same load against a bare FastAPI app
               (hack/bench/bare_app.py) served by the same ``HTTPSServer`` over the same TLS certificate in
               as many processes as `aro rp` has frontends; GET in two rounds (aro, bare, bare, aro) unless
               --quick; CPU per request of each process. Load from ``wrk`` when installed, else an asyncio
               httpx generator (the output says which).
- latency      PUT create -> first operationsstatus poll showing Succeeded (polled every ~5 ms), one
               cluster at a time, with backend pickup / install / finish split out of the stored step
               history (``openShiftCluster.properties.install.history``); CPU per create per process.
- creates      1,000 concurrent creates at step delay 0 and 1 s, one backend process with 1,000 workers:
               wall time to all Succeeded, peak RSS (VmHWM) of the backend and of every other process (and
               their sums), CPU per create per process, and how many installs were in flight at once
               (sampled lease count from the store, and the overlap of the stored step histories, whose
               owners show the one process that ran them).
- takeover     ``aro simulator`` + ``aro frontend`` + backend A with 50 installs mid-flight; SIGKILL A,
               start B; time from the kill until B has started a step of every one of the 50 clusters.
- restart      ``aro rp`` (lease 3 s, step delay 0.5 s) with 50 installs mid-step; SIGKILL the backend
               child: time until the supervisor logs "process ready again", until the new backend has
               resumed every install, and until all are Succeeded; then SIGTERM -> exit with 50 more in
               flight.
- list         10,000 clusters in one subscription, seeded straight into the embedded store with the
               store API, then listed page by page: page latency and the frontend's RSS growth.
- ledger       the account ledger (/api/accounts_mgmt/v1): 10,000 subscriptions in 100 organizations (70 %
               Active, 20 % Reserved, 10 % Stale; 10 % hosted; labels on 10 %) and 10 accounts per
               organization, seeded through the ledger's own API (``aro.ledger``) into the embedded store,
               then, over HTTPS with development tokens of a member of one organization and of an SRE,
               ~200 sequential requests each of: a member's search (one partition), SRE searches across
               every organization (like; in + plan + order + page 3; fetchLabels), GET by id, accounts by
               user name, organizations: p50 / p99 latency, each list's total (checked against the seed),
               frontend CPU per request and the frontend's RSS growth.
- coldstart    ``aro rp`` spawn -> the supervisor's "ready" line (its own timestamp), and -> /healthz/ready
               200 (answered by the frontend, possibly before the backend is ready); then SIGTERM -> exit;
               median of 5, on a fresh data directory and again on it.

--quick: smaller counts (a smoke test of the harness; the output says it is quick).

Usage: python hack/bench/run.py [--only throughput,latency,...] [--quick] [--profile] [--httpx]
       [--frontend-workers N] [--keep]

This file parses the command line and runs the scenarios; the rest lives next to it: scenarios.py (the
scenarios), procs.py (the server subprocesses, their pids and /proc readings), loadgen.py (wrk / httpx
load), state.py (the RP's state through the store API: the only module that knows the document layout),
profiler.py (py-spy), report.py (tables, goals, bench.json / bench.md, machine facts), common.py (paths,
log, percentiles).
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
from procs import START_FAILURES  # noqa: E402
from profiler import Profiler  # noqa: E402
from report import document, machine, summary, write, write_markdown  # noqa: E402
from scenarios import SCENARIOS, Bench  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description="aro benchmarks (see the module docstring)")
    parser.add_argument("--only", default="", help="comma-separated subset of: " + ",".join(SCENARIOS))
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke test of the harness)")
    parser.add_argument("--httpx", action="store_true", help="use the httpx load generator even if wrk is present")
    parser.add_argument("--profile", action="store_true", help="py-spy the RP under PUT load and 1,000 creates")
    parser.add_argument(
        "--frontend-workers",
        type=int,
        default=1,
        help="`aro rp`'s frontend.workers (default 1, the config default) and the bare app's processes",
    )
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
    bench = Bench(args.quick, loadgen, Profiler(args.profile), args.frontend_workers)
    started = time.time()
    results: dict[str, Any] = {}
    info = machine()
    info["frontendWorkers"] = args.frontend_workers
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
    out["startFailures"] = START_FAILURES
    write(RESULTS / "bench.json", out)
    write_markdown(RESULTS / "bench.md", out)
    if not args.keep:
        shutil.rmtree(WORK, ignore_errors=True)
    summary(out, RESULTS / "bench.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
