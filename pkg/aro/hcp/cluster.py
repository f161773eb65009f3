"""A hosted cluster's steps: create (its account subscription, identity and DNS, the release, managed
resource group, client CA, the control plane on the management cluster, wait for its API, status, its
telemetry, the subscription Active), update and delete (the control plane, then the managed resource group,
then a subscription still Reserved; the framework has deleted the node pools and external auths before
these run). The ledger's steps are ``aro.steps.ledger``'s.

An update moves the control plane to the release its version asks for (the newest enabled z-stream of
``version.id``, or the admin's ``desired_version`` of that line): the target is persisted first
(``desired_release``), ``status.activeVersions`` shows the old and the new line and ``Progressing`` is True
while the pods roll one replica at a time (``rollout.next_pod_move``), then only the new line.

Every step is idempotent: what it generates is persisted before it is used, so a step that runs again
after a crash finds it and re-applies the same objects.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
import uuid
from collections.abc import Sequence
from typing import Any

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.hcp.catalog import newest_enabled
from aro.api.hcp.cluster import ControlPlanePod, HcpOpenShiftCluster, HcpOpenShiftClusterProperties, SignerPKI
from aro.api.hcp.versioning import parse_any, parse_full
from aro.hcp import controlplane, rollout, status
from aro.hcp.context import HostedContext, wait
from aro.hcp.ledger import LEDGER
from aro.steps import Action, Step
from aro.util import pki

Ctx = HostedContext[HcpOpenShiftCluster]
_ALNUM = string.ascii_lowercase + string.digits


def managed_resource_group(oc: HcpOpenShiftCluster) -> tuple[str, str]:
    """(subscription, name) of the managed resource group."""
    return oc.id.split("/")[2], oc.properties.platform.managed_resource_group


def managed_resource_group_id(oc: HcpOpenShiftCluster) -> str:
    sub, rg = managed_resource_group(oc)
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


async def ensure_identity(ctx: Ctx) -> None:
    """The OpenShift cluster id, the management namespace and the DNS names (generated once)."""
    p = ctx.hub.properties
    if p.cluster_id and p.management_namespace and p.dns.base_domain:
        return
    cluster_id = p.cluster_id or str(uuid.uuid4())
    domain = f"{''.join(secrets.choice(_ALNUM) for _ in range(4))}.{ctx.hub.location}.aroapp-hcp.io"

    def mutate(oc: HcpOpenShiftCluster) -> None:
        q = oc.properties
        q.cluster_id = q.cluster_id or cluster_id
        q.management_namespace = q.management_namespace or controlplane.namespace_name(q.cluster_id, oc.name)
        q.dns.base_domain = q.dns.base_domain or domain

    await ctx.update(mutate)


def release_for(oc: HcpOpenShiftCluster, versions: Sequence[Any], now: dt.datetime) -> str | None:
    """The release a control plane at ``version.id`` runs: the admin's ``desired_version`` (a z-stream)
    when it belongs to that release line, else the newest enabled z-stream of the line in its channel
    group; None when there is none."""
    v = oc.properties.version
    pinned = parse_full(oc.properties.desired_version) if oc.properties.desired_version else None
    line = parse_any(v.id)
    if pinned is not None and line is not None and pinned.line == line.line:
        return oc.properties.desired_version
    entry = newest_enabled(versions, v.id, v.channel_group, now)
    return None if entry is None else str(entry.name)


def target_release(ctx: Ctx) -> str:
    release = release_for(ctx.hub, ctx.versions, dt.datetime.now(dt.UTC))
    if release is None:
        v = ctx.hub.properties.version
        raise CloudError(
            400,
            errors.INVALID_PARAMETER,
            f"No enabled OpenShift {v.id} release is available in channel group '{v.channel_group}'.",
            "properties.version.id",
        )
    return release


async def select_release(ctx: Ctx) -> None:
    """Persist the release to move to before any pod is touched (a resumed roll finds it)."""
    release = target_release(ctx)
    if ctx.hub.properties.desired_release == release:
        return
    await ctx.update(lambda oc: setattr(oc.properties, "desired_release", release))


async def ensure_resource_group(ctx: Ctx) -> None:
    sub, rg = managed_resource_group(ctx.hub)
    await ctx.cloud.create_resource_group(sub, rg, ctx.hub.location, ctx.hub.id, {"aro-hcp-cluster": ctx.hub.name})


async def ensure_client_ca(ctx: Ctx) -> None:
    if ctx.hub.properties.signer is not None:
        return
    ca = pki.new_ca(f"customer-break-glass-signer-{ctx.hub.properties.cluster_id[:8]}", days=3650)
    signer = SignerPKI(ca_cert=ca.cert_pem, ca_key=ca.key_pem)
    await ctx.update(lambda oc: setattr(oc.properties, "signer", oc.properties.signer or signer))


async def apply_namespace(ctx: Ctx) -> None:
    """The control plane's namespace and the client CA its API server trusts (create or replace)."""
    p = ctx.hub.properties
    assert p.signer is not None
    mc = ctx.management()
    ns = p.management_namespace
    await mc.apply("namespaces", controlplane.namespace(ns, p.cluster_id, managed_resource_group_id(ctx.hub)))
    await mc.apply("secrets", controlplane.client_ca(ns, p.signer.ca_cert))


async def apply_control_plane(ctx: Ctx) -> None:
    """The namespace, the client CA and every pod at the desired release at once (a new control plane)."""
    p = ctx.hub.properties
    mc = ctx.management()
    ns = p.management_namespace
    await apply_namespace(ctx)
    for pod in controlplane.pods(ns, p.desired_release):
        current = await mc.get("pods", pod["metadata"]["name"], ns)
        if (
            current is not None
            and (current["metadata"].get("annotations") or {}).get(controlplane.RELEASE_ANNOTATION) == p.desired_release
        ):
            continue  # running this release already: not restarted
        if current is not None:
            await mc.delete("pods", pod["metadata"]["name"], ns)  # a pod's spec is immutable: roll it
        await mc.apply("pods", pod)


async def control_plane_ready(ctx: Ctx) -> bool:
    p = ctx.hub.properties
    items = await ctx.management().list("pods", p.management_namespace)
    running, expected = controlplane.pods_ready(items, p.desired_release)
    if running < expected:
        return False
    return await ctx.hosted_api(ctx.hub).ready()


async def begin_upgrade(ctx: Ctx) -> None:
    """When the release changes: both release lines active and ``Progressing`` (before any pod rolls)."""
    p = ctx.hub.properties
    old, new = p.release, p.desired_release
    if not old or old == new:
        return
    message = f"Upgrading from {old} to {new}."
    lines = list(dict.fromkeys([release_line(old), release_line(new)]))  # a z-stream: one line
    if [a.version for a in p.status.active_versions] == lines and _condition(p, "Progressing") == message:
        return

    def mutate(oc: HcpOpenShiftCluster) -> None:
        q = oc.properties
        status.set_active_versions(q.status, lines)
        status.set_condition(q.status.conditions, "Progressing", "True", "Upgrading", message)

    await ctx.update(mutate)


async def roll_control_plane(ctx: Ctx) -> bool:
    """One move of the control plane's roll to the desired release (True: every pod runs it): the first
    pod (in component order) not Running at the release is replaced -- deleted and created again at it --
    and waited for before the next one. Every decision comes from the pods as they are, so a resumed roll
    skips what already runs the release."""
    p = ctx.hub.properties
    mc = ctx.management()
    ns = p.management_namespace
    pods = {str(pod["metadata"]["name"]): pod for pod in await mc.list("pods", ns)}
    move = rollout.next_pod_move(controlplane.pod_names(), pods, p.desired_release, controlplane.RELEASE_ANNOTATION)
    if move.kind in (rollout.DONE, rollout.WAIT):
        return move.kind == rollout.DONE
    wanted = next(pod for pod in controlplane.pods(ns, p.desired_release) if pod["metadata"]["name"] == move.name)
    if move.kind == rollout.REPLACE:
        await mc.delete("pods", move.name, ns)  # a pod's spec is immutable: roll it
        if await mc.get("pods", move.name, ns) is not None:
            return False  # still terminating: created again on a later poll
    await mc.apply("pods", wanted)
    return False


async def record_status(ctx: Ctx) -> None:
    endpoint = ctx.endpoint(ctx.hub)
    release = ctx.hub.properties.desired_release
    pods = await ctx.management().list("pods", ctx.hub.properties.management_namespace)
    observed = [
        ControlPlanePod(
            name=str(pod["metadata"]["name"]),
            phase=str((pod.get("status") or {}).get("phase") or ""),
            release=str((pod["metadata"].get("annotations") or {}).get(controlplane.RELEASE_ANNOTATION) or ""),
        )
        for pod in pods
    ]

    def mutate(oc: HcpOpenShiftCluster) -> None:
        q = oc.properties
        q.api.url = endpoint.url
        prefix = q.dns.base_domain_prefix or oc.name.lower()
        q.console.url = f"https://console-openshift-console.apps.{prefix}.{q.dns.base_domain}"
        q.platform.issuer_url = f"https://oidc.{oc.location}.aroapp-hcp.io/{q.cluster_id}"
        q.release = release
        q.control_plane = observed
        status.set_active_versions(q.status, [release_line(release)])
        status.set_condition(
            q.status.conditions, "Available", "True", "AsExpected", f"The control plane runs OpenShift {release}."
        )
        status.set_condition(q.status.conditions, "Progressing", "False", "AsExpected", "")
        status.set_condition(q.status.conditions, "Degraded", "False", "AsExpected", "")

    await ctx.update(mutate)


def release_line(release: str) -> str:
    return ".".join(release.split(".")[:2])


def _condition(p: HcpOpenShiftClusterProperties, type_: str) -> str | None:
    """A condition's message when it is True."""
    return next((c.message for c in p.status.conditions if c.type == type_ and c.status == "True"), None)


async def delete_control_plane(ctx: Ctx) -> None:
    ns = ctx.hub.properties.management_namespace
    if ns:
        await ctx.management().delete("namespaces", ns)


async def control_plane_gone(ctx: Ctx) -> bool:
    ns = ctx.hub.properties.management_namespace
    return not ns or await ctx.management().get("namespaces", ns) is None


async def delete_resource_group(ctx: Ctx) -> None:
    sub, rg = managed_resource_group(ctx.hub)
    if rg:
        await ctx.cloud.delete_resource_group(sub, rg)


CREATE: list[Step[Ctx]] = [
    LEDGER.reserve("hcp.create.ledger_reserve"),
    Action("hcp.create.ensure_identity", ensure_identity),
    LEDGER.record_external_id("hcp.create.ledger_external_id"),
    Action("hcp.create.select_release", select_release),
    Action("hcp.create.ensure_resource_group", ensure_resource_group),
    Action("hcp.create.ensure_client_ca", ensure_client_ca),
    Action("hcp.create.apply_control_plane", apply_control_plane),
    wait("hcp.create.control_plane_ready", control_plane_ready, "The control plane did not become ready."),
    Action("hcp.create.record_status", record_status),
    LEDGER.record_console("hcp.create.ledger_console_url"),
    LEDGER.configure_telemetry("hcp.create.configure_telemetry"),
    LEDGER.activate("hcp.create.ledger_activate"),
]

UPDATE: list[Step[Ctx]] = [
    Action("hcp.update.select_release", select_release),
    Action("hcp.update.begin_upgrade", begin_upgrade),
    Action("hcp.update.apply_namespace", apply_namespace),
    wait("hcp.update.roll_control_plane", roll_control_plane, "The control plane's pods did not roll."),
    wait("hcp.update.control_plane_ready", control_plane_ready, "The control plane did not become ready."),
    Action("hcp.update.record_status", record_status),
    LEDGER.configure_telemetry("hcp.update.configure_telemetry"),  # the version it reports changed
    LEDGER.activate("hcp.update.ledger_activate"),  # a cluster whose create failed, mended by an update
]

DELETE: list[Step[Ctx]] = [
    Action("hcp.delete.delete_control_plane", delete_control_plane),
    wait("hcp.delete.control_plane_gone", control_plane_gone, "The control plane was not removed."),
    Action("hcp.delete.delete_resource_group", delete_resource_group),
    LEDGER.release("hcp.delete.ledger_release"),
]
