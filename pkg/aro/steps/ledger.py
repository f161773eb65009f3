"""The ledger's steps, for any cluster kind: a cluster's account subscription follows its life.

A kind describes its clusters once (``ClusterLedger``: plan, OpenShift id, console URL, version, and how to
reach the cluster's own API) and puts the steps it makes into its step lists, with ids of its own:

- ``reserve``       (create, first)       -> ``Reserved``; the ids are persisted on the hub before the
                                             subscription is written, so a resumed step finds it
- ``record_external_id`` (after the install generated the OpenShift cluster id; overwrites a stale one)
- ``record_console``     (once the console URL is known)
- ``configure_telemetry``: the ``aro-telemeter`` Secret in the cluster (where, how often, with what token)
- ``activate``      (create, last)        -> ``Active`` (a subscription past ``Reserved`` is left alone)
- ``release``       (delete)              -> a ``Reserved`` subscription is deleted, any other kept

Every step is idempotent. A process without a ledger (``StepEnv.ledger`` None) skips them.
"""

from __future__ import annotations

import base64
import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from aro.api.resource import LedgerRef, Resource
from aro.cloud.kube import KubeAPI
from aro.ledger.ids import new_id
from aro.ledger.model import OwnerType, Plan
from aro.ledger.service import Ledger
from aro.ledger.subscriptions import ClusterRecord
from aro.ledger.telemetry import SECRET_NAME, SECRET_NAMESPACE
from aro.steps.engine import Action
from aro.steps.workflow import Mutation, StepEnv

H = TypeVar("H", bound=Resource)
_ALNUM = string.ascii_lowercase + string.digits


class LedgerContext(Protocol):
    """What a kind's step context offers the ledger's steps (``ClusterContext``, ``HostedContext``)."""

    @property
    def hub(self) -> Any: ...

    @property
    def env(self) -> StepEnv: ...

    async def update(self, mutate: Mutation[Any]) -> None: ...


@dataclass(frozen=True)
class ClusterLedger(Generic[H]):
    plan: Plan
    external_id: Callable[[H], str]  # the OpenShift cluster id, once the install generated it
    console_url: Callable[[H], str]
    version: Callable[[H], str]  # the OpenShift version the cluster runs
    cluster_api: Callable[[Any], Awaitable[KubeAPI]]  # (step context) -> the cluster's own API, as admin

    def reserve(self, step_id: str) -> Action[Any]:
        async def reserve(ctx: LedgerContext) -> None:
            ledger = ctx.env.ledger
            if ledger is None:
                return
            ref = ctx.hub.properties.ledger
            if ref is None:
                org = await ledger.organization_of(_azure_subscription(ctx.hub))
                fresh = LedgerRef(
                    subscription_id=new_id(),
                    organization_id=org["id"],
                    cluster_id="".join(secrets.choice(_ALNUM) for _ in range(32)),
                )

                def remember(hub: Resource) -> None:
                    hub.properties.ledger = hub.properties.ledger or fresh

                await ctx.update(remember)
                ref = ctx.hub.properties.ledger
                assert ref is not None
            hub = ctx.hub
            creator = hub.system_data.created_by if hub.system_data is not None else None
            if creator:
                await ledger.accounts.record(ref.organization_id, creator[:256])
            await ledger.subscriptions.reserve(
                ClusterRecord(
                    subscription_id=ref.subscription_id,
                    organization_id=ref.organization_id,
                    cluster_id=ref.cluster_id,
                    display_name=hub.name,
                    plan=self.plan,
                    resource_id=hub.id,
                    azure_subscription_id=_azure_subscription(hub),
                    region=hub.location,
                    creator=(creator or "")[:256],
                )
            )

        return Action(step_id, reserve)

    def record_external_id(self, step_id: str) -> Action[Any]:
        async def record(ctx: LedgerContext, ledger: Ledger, ref: LedgerRef) -> None:
            external = self.external_id(ctx.hub)
            if external:
                await ledger.subscriptions.set_external_id(ref.organization_id, ref.subscription_id, external)

        return Action(step_id, _with_ref(record))

    def record_console(self, step_id: str) -> Action[Any]:
        async def record(ctx: LedgerContext, ledger: Ledger, ref: LedgerRef) -> None:
            url = self.console_url(ctx.hub)
            if url:
                await ledger.subscriptions.set_console_url(ref.organization_id, ref.subscription_id, url)

        return Action(step_id, _with_ref(record))

    def configure_telemetry(self, step_id: str) -> Action[Any]:
        async def configure(ctx: LedgerContext, ledger: Ledger, ref: LedgerRef) -> None:
            target = ledger.telemetry(ref.organization_id)
            external = self.external_id(ctx.hub)
            if target is None or not external:
                return
            data = {
                "url": target.url,
                "token": target.token,
                "clusterID": external,
                "interval": f"{target.interval_seconds:g}",
                "consoleURL": self.console_url(ctx.hub),
                "version": self.version(ctx.hub),
            }
            if target.ca:
                data["ca.crt"] = target.ca
            api = await self.cluster_api(ctx)
            await api.apply(
                "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SECRET_NAMESPACE}}
            )
            await api.apply(
                "secrets",
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": "Opaque",
                    "metadata": {"name": SECRET_NAME, "namespace": SECRET_NAMESPACE},
                    "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
                },
            )

        return Action(step_id, _with_ref(configure))

    def activate(self, step_id: str) -> Action[Any]:
        async def activate(ctx: LedgerContext, ledger: Ledger, ref: LedgerRef) -> None:
            await ledger.subscriptions.activate(ref.organization_id, ref.subscription_id)

        return Action(step_id, _with_ref(activate))

    def release(self, step_id: str) -> Action[Any]:
        async def release(ctx: LedgerContext, ledger: Ledger, ref: LedgerRef) -> None:
            await ledger.subscriptions.release(ref.organization_id, ref.subscription_id)
            if await ledger.subscriptions.get(ref.subscription_id, ref.organization_id) is None:
                # its labels go too (also when a crash came between the two: the step runs again)
                await ledger.labels.delete_all(OwnerType.SUBSCRIPTION, ref.subscription_id, ref.organization_id)

        return Action(step_id, _with_ref(release))


def _azure_subscription(hub: Resource) -> str:
    return hub.id.split("/")[2]


def _with_ref(
    fn: Callable[[LedgerContext, Ledger, LedgerRef], Awaitable[None]],
) -> Callable[[LedgerContext], Awaitable[None]]:
    """A step that needs the cluster's subscription: skipped without a ledger or before ``reserve``."""

    async def step(ctx: LedgerContext) -> None:
        ledger, ref = ctx.env.ledger, ctx.hub.properties.ledger
        if ledger is not None and ref is not None:
            await fn(ctx, ledger, ref)

    step.__qualname__ = fn.__qualname__
    return step
