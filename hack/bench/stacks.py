"""Slice py-spy collapsed stacks (``--format raw``) for PROFILE.md: inclusive share of marker frames,
and the callers of a frame.

    python hack/bench/stacks.py bench-results/profile-put.txt [frame substring ...]
"""

from __future__ import annotations

import collections
import re
import sys

BUCKETS = {
    "frontend: PUT handler (put_or_patch)": "put_or_patch (",
    "frontend: GET handler (resources.get)": "endpoint (",  # the generic endpoint, around every kind's handler
    "frontend: operation status": "_operation (",
    "frontend: ARM middleware (whole request)": "ARMMiddleware.__call__",
    "frontend: FastAPI threadpool hop (run_sync)": "run_sync_in_worker_thread",
    "backend: OperationBackend.handle": "OperationBackend.handle",
    "backend: dequeue": "SQLiteContainer.dequeue",
    "backend: heartbeat": "heartbeat.<locals>.beat",
    "cloud client (ArmCloud)": "(aro/cloud/arm.py)",
    "cloud simulator app": "aro/cloud/simulator/",
    "store thread (sqlite)": "SQLiteStore.run.<locals>",
    "store: executor submit": "ThreadPoolExecutor.submit",
    "codec decode": "SealedCodec.decode",
    "codec encode": "SealedCodec.encode",
    "logging": "Logger._log",
    "TLS handshake": "do_handshake",
    "uvicorn HTTP protocol": "httptools_impl.py",
    "GC": "gc_collect",
}


def load(path: str) -> list[tuple[list[str], int]]:
    out = []
    for line in open(path, errors="replace"):
        stack, _, n = line.rstrip("\n").rpartition(" ")
        if stack and n.isdigit():
            out.append((stack.split(";"), int(n)))
    return out


def main() -> None:
    stacks = load(sys.argv[1])
    total = sum(n for _, n in stacks)
    print(f"samples {total}")
    for label, marker in BUCKETS.items():
        n = sum(c for fr, c in stacks if any(marker in f for f in fr))
        print(f"  {n / total:6.1%}  {label}")
    for target in sys.argv[2:]:
        callers: collections.Counter[str] = collections.Counter()
        for fr, c in stacks:
            for i, f in enumerate(fr):
                if target in f:
                    chain = [re.sub(r" \(.*", "", x) for x in reversed(fr[max(1, i - 5) : i + 1])]
                    callers[" <- ".join(chain)] += c
                    break
        print(f"== {target}")
        for k, v in callers.most_common(8):
            print(f"  {v / total:6.1%}  {k}")


if __name__ == "__main__":
    main()
