"""What the backplane's routes and its job runner share, built once per process by ``aro.run``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aro.backplane.scripts import Catalog
from aro.backplane.target import Targets

# (Azure subscription id, resource group name, lifetime in seconds) -> the cloud console link of the group
ConsoleLinks = Callable[[str, str, int], Awaitable[str]]


@dataclass(frozen=True)
class BackplaneSettings:
    job_deadline_seconds: int = 600
    job_cpu: str = "500m"
    job_memory: str = "512Mi"
    max_active_jobs_per_cluster: int = 10
    keep_jobs_seconds: int = 7 * 86400
    max_log_bytes: int = 10 * 2**20
    console_link_seconds: int = 900
    proxy_max_seconds: float = 3600.0


@dataclass
class Backplane:
    targets: Targets
    settings: BackplaneSettings
    console_link: ConsoleLinks | None = None  # None: the cloud console route answers 503
    catalog: Catalog = field(default_factory=Catalog)  # the managed scripts (loaded and validated at start)
