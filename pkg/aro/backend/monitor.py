"""The monitor: what notices a resource going wrong between operations (HyperShift's control-plane
operator watching its etcd members) and starts the operation that puts it right.

Every ``backend.monitorSeconds`` the monitor looks at up to ``BATCH`` ``Succeeded`` resources of each kind
whose workflow has a ``monitor`` (continuing where the last sweep stopped, so a large fleet is covered a
batch at a time); a ``monitor(env, hub)`` that names a request starts it as an implicit operation
(``Cascades.begin``: etag-conditional, only on a terminal resource -- two backends sweeping at once start
it once). A monitor that fails is logged and retried next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aro.api.resource import ProvisioningState
from aro.backend.cascade import Cascades
from aro.backend.periodic import Periodic
from aro.database import Store
from aro.database.codec import SealedCodec
from aro.steps import StepEnv, Workflow

log = logging.getLogger("aro.backend.monitor")

BATCH = 100


class Monitor:
    def __init__(
        self,
        store: Store,
        workflows: Sequence[Workflow[Any, Any]],
        codecs: dict[str, SealedCodec[Any]],
        cascades: Cascades,
        env: StepEnv,
        interval: float,
    ) -> None:
        self.store = store
        self.workflows = [w for w in workflows if w.monitor is not None]
        self.codecs = codecs
        self.cascades = cascades
        self.env = env
        self.interval = interval
        self._tokens: dict[str, str | None] = {}
        self._periodic = Periodic("backend-monitor", lambda: self.interval, self.sweep)
        self.started = 0  # operations started (for tests and metrics)

    async def start(self) -> None:
        if self.workflows:
            await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def sweep(self) -> None:
        for workflow in self.workflows:
            kind = workflow.kind
            assert workflow.monitor is not None
            codec = self.codecs[kind.container_name]
            page = await self.store.container(kind.container_name).list_page(
                continuation=self._tokens.get(kind.container_name), max_items=BATCH
            )
            self._tokens[kind.container_name] = page.continuation
            for doc in page.items:
                if codec.state(doc) != ProvisioningState.SUCCEEDED.value:
                    continue
                try:
                    request = await workflow.monitor(self.env, codec.decode(doc))
                except Exception as e:
                    log.warning("monitor check failed", extra={"docKey": doc["key"], "error": str(e)})
                    continue
                if request is None:
                    continue
                if await self.cascades.begin(kind, doc, request) == "moved":
                    self.started += 1
                    log.info("monitor started an operation", extra={"docKey": doc["key"], "request": request})
