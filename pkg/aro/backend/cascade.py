"""Cascade deletes, expressed once from the kinds' parent links: a subscription's delete reaches every
top-level resource, a parent's delete every child (of kinds with ``Cascade.DELETE``).

A resource is moved to its deleting state with an *implicit* operation (written first, as the frontend
does, then the resource referencing it), which clients never see; its own backend then deletes it, and
its own children in turn. A resource still busy with another operation is left alone and counted: the
caller tries again later.
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from aro.api.kind import Cascade, Kinds, ResourceKind
from aro.api.resource import ProvisioningState, Request
from aro.database import Doc, Store, retry_on_precondition_failed
from aro.database.asyncoperations import AsyncOperations, new_operation
from aro.database.codec import SealedCodec
from aro.database.documents import OperationDocument

log = logging.getLogger("aro.backend.cascade")

PAGE = 100


@dataclass
class Tally:
    moved: int = 0  # moved to deleting now
    deleting: int = 0  # on their way out already
    busy: int = 0  # another operation runs: try again later
    blocking: int = 0  # of a kind that blocks its parent's delete (Cascade.BLOCK)

    @property
    def remaining(self) -> int:
        return self.moved + self.deleting + self.busy + self.blocking

    def add(self, other: Tally) -> None:
        self.moved += other.moved
        self.deleting += other.deleting
        self.busy += other.busy
        self.blocking += other.blocking


class Cascades:
    def __init__(self, store: Store, kinds: Kinds, codecs: dict[str, SealedCodec[Any]], location: str):
        self.store = store
        self.kinds = kinds
        self.codecs = codecs
        self.location = location
        self.operations = AsyncOperations(store)

    async def children(self, kind: ResourceKind[Any], parent_key: str, partition: str) -> Tally:
        """Delete (or count) every child of the resource ``parent_key``."""
        tally = Tally()
        for child in self.kinds.children(kind):
            tally.add(await self._each(child, f"{parent_key}/{child.name.lower()}/", partition))
        return tally

    async def subscription(self, partition: str) -> Tally:
        """Delete every top-level resource of a subscription."""
        tally = Tally()
        for kind in self.kinds.top_level():
            tally.add(await self._each(kind, f"/subscriptions/{partition}/", partition))
        return tally

    async def _each(self, kind: ResourceKind[Any], prefix: str, partition: str) -> Tally:
        container = self.store.container(kind.container_name)
        tally = Tally()
        token: str | None = None
        while True:
            page = await container.list_page(prefix=prefix, partition_key=partition, continuation=token, max_items=PAGE)
            for doc in page.items:
                if kind.cascade is Cascade.BLOCK:
                    tally.blocking += 1
                    continue
                result = await self.begin_delete(kind, doc)
                if result != "gone":
                    setattr(tally, result, getattr(tally, result) + 1)
            token = page.continuation
            if token is None:
                return tally

    async def begin_delete(self, kind: ResourceKind[Any], doc: Doc) -> str:
        """Move one resource to its deleting state: "moved", "deleting" (already), "busy" or "gone"."""
        return await self.begin(kind, doc, Request.DELETE)

    async def begin(self, kind: ResourceKind[Any], doc: Doc, request: str) -> str:
        """Start an implicit operation (``request``) on a resource in a terminal state: "moved"; or
        "deleting" (a delete, already), "busy" (another operation runs) or "gone"."""
        pending: list[OperationDocument] = []
        try:
            return await retry_on_precondition_failed(functools.partial(self._attempt, kind, doc, pending, request))
        except BaseException:
            for op in pending:
                await self.operations.discard(op)
            raise

    async def _attempt(self, kind: ResourceKind[Any], doc: Doc, pending: list[OperationDocument], request: str) -> str:
        container = self.store.container(kind.container_name)
        fresh = await container.get(doc["partitionKey"], doc["id"])
        codec = self.codecs[kind.container_name]
        state = codec.state(fresh) if fresh is not None else None
        result = (
            "gone"
            if fresh is None or state is None
            else "deleting"
            if state == kind.lifecycle.deleting.value and request == Request.DELETE
            else "busy"
            if not ProvisioningState(state).terminal
            else ""
        )
        if result:
            for op in pending:
                await self.operations.discard(op)
            pending.clear()
            return result
        assert fresh is not None
        hub = codec.decode(fresh)
        kind.lifecycle.begin(hub, request)
        if not pending:
            op_id = str(uuid.uuid4())
            pending.append(
                await self.operations.create(
                    new_operation(
                        op_id,
                        subscription_id=fresh["partitionKey"],
                        location=self.location,
                        status_segment=kind.operations.status,
                        resource_key=fresh["key"],
                        container=kind.container_name,
                        request=request,
                        initial_status=hub.properties.provisioning_state.value,
                        implicit=True,
                    )
                )
            )
        updated = codec.encode(fresh, hub)
        updated["asyncOperationId"] = pending[0]["id"]
        updated["dequeues"] = 0
        await container.replace(updated)  # a concurrent write: PreconditionFailed, the attempt starts over
        log.info(
            "implicit operation", extra={"docKey": fresh["key"], "request": request, "operationId": pending[0]["id"]}
        )
        pending.clear()
        return "moved"
