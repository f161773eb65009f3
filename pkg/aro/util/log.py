"""JSON logging with request and correlation context carried in contextvars."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any

# Set per request by the frontend middleware and per work item by the backend.
log_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("aro_log_context", default=None)

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_PROCESS: dict[str, str] = {}  # {"proc": role} in a process `aro rp` supervises (its lines are merged)


def set_process(role: str) -> None:
    """Tag every line of this process with ``"proc": role`` (the supervisor's children share its stderr)."""
    _PROCESS.clear()
    _PROCESS["proc"] = role


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **_PROCESS,
        }
        ctx = log_context.get()
        if ctx:
            out.update(ctx)
        for k, v in record.__dict__.items():
            if k not in _RESERVED and not k.startswith("_"):
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def bind(**fields: str) -> contextvars.Token[dict[str, str] | None]:
    """Add fields to the log context of the current task; returns a token for ``log_context.reset``."""
    return log_context.set({**(log_context.get() or {}), **fields})


def setup(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "azure.core.pipeline.policies.http_logging_policy", "azure.identity"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
