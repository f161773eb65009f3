"""etcd backups of a hosted cluster (the ``EtcdBackup`` admin action): the cluster's API objects, read
through its Kubernetes API as ``system:masters``, in one JSON document sealed into the RP's snapshot store
(``aro.cloud.snapshots``).

What a snapshot holds (``capture``): every namespace, and in every namespace its ConfigMaps, Secrets and
ServiceAccounts (``KINDS``). Pods are left out: they are the controllers' to recreate (a restore leaves the
pods of the namespaces it keeps alone). Objects the API server makes itself are left out too, and a
restore neither writes nor deletes them (``server_made``): each namespace's ``default`` ServiceAccount, the
``kube-root-ca.crt`` / ``openshift-service-ca.crt`` ConfigMaps, and service-account token Secrets (their
token is minted by the server: it could not be restored). Each object is kept as the server answered it,
minus what the server sets (``uid``, ``resourceVersion``, timestamps, ``managedFields``, ``status``), so a
snapshot compares equal to a live object that has not changed since (``clean``).

The document::

    {"format": "aro.openshift.io/hcp-etcd-snapshot/v1", "clusterId": ..., "resourceId": ...,
     "createdAt": ..., "namespaces": [...], "objects": {"configmaps": [...], "secrets": [...], ...}}

The step (``BACKUP``) writes the snapshot under ``hcp-etcd-snapshots/{clusterId}/{operationId}.json`` and
records it in ``properties.backups``: run again after a crash, it writes the same name again and replaces
its record (never two records of one backup).
"""

from __future__ import annotations

import copy
from typing import Any

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.hcp.cluster import EtcdBackup, HcpOpenShiftCluster
from aro.api.hcp.etcdbackup import record_backup, snapshot_name
from aro.cloud.kube import KubeAPI
from aro.cloud.snapshots import SnapshotStore
from aro.hcp.context import HostedContext
from aro.steps import Action, Step
from aro.util.clock import utc_now

Ctx = HostedContext[HcpOpenShiftCluster]
Object = dict[str, Any]

FORMAT = "aro.openshift.io/hcp-etcd-snapshot/v1"
NAMESPACES = "namespaces"
KINDS = {"configmaps": "ConfigMap", "secrets": "Secret", "serviceaccounts": "ServiceAccount"}
SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
SERVER_CONFIGMAPS = frozenset({"kube-root-ca.crt", "openshift-service-ca.crt"})
SA_TOKEN = "kubernetes.io/service-account-token"
# Namespaces of the platform: a restore never deletes them (their objects are restored like any other).
PLATFORM_NAMESPACES = frozenset({"default"})
PLATFORM_PREFIXES = ("kube-", "openshift-")


def snapshot_store(ctx: HostedContext[Any]) -> SnapshotStore:
    store: SnapshotStore | None = getattr(ctx.cloud, "snapshot_store", None)  # (a test's cloud may lack it)
    if store is None:
        raise CloudError(500, errors.INTERNAL_SERVER_ERROR, "This backend has no snapshot store configured.")
    return store


def platform_namespace(name: str) -> bool:
    return name in PLATFORM_NAMESPACES or name.startswith(PLATFORM_PREFIXES)


def server_made(plural: str, obj: Object) -> bool:
    name = str((obj.get("metadata") or {}).get("name") or "")
    if plural == "serviceaccounts":
        return name == "default"
    if plural == "configmaps":
        return name in SERVER_CONFIGMAPS
    if plural == "secrets":
        return obj.get("type") == SA_TOKEN
    return False


def clean(plural: str, obj: Object) -> Object:
    """The object as a snapshot keeps it (and as a restore writes it)."""
    out = copy.deepcopy({k: v for k, v in obj.items() if k != "status"})
    out["apiVersion"] = "v1"
    out["kind"] = "Namespace" if plural == NAMESPACES else KINDS[plural]
    meta = out.setdefault("metadata", {})
    for key in SERVER_METADATA:
        meta.pop(key, None)
    for key in ("labels", "annotations"):
        if not meta.get(key):
            meta.pop(key, None)
    return out


def object_key(obj: Object) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


async def live(api: KubeAPI) -> tuple[list[Object], dict[str, list[Object]]]:
    """The cluster's namespaces and objects of ``KINDS`` now (cleaned; server-made objects left out)."""
    namespaces = [clean(NAMESPACES, n) for n in await api.list(NAMESPACES)]
    objects = {
        plural: sorted((clean(plural, o) for o in await api.list(plural) if not server_made(plural, o)), key=object_key)
        for plural in KINDS
    }
    return sorted(namespaces, key=object_key), objects


def count(snapshot: Object) -> int:
    objects = snapshot.get("objects") or {}
    return len(snapshot.get(NAMESPACES) or []) + sum(len(objects.get(p) or []) for p in KINDS)


async def capture(ctx: Ctx) -> Object:
    oc = ctx.hub
    namespaces, objects = await live(ctx.hosted_api(oc))
    return {
        "format": FORMAT,
        "clusterId": oc.properties.cluster_id,
        "resourceId": oc.id,
        "createdAt": utc_now(),
        NAMESPACES: namespaces,
        "objects": objects,
    }


async def take_snapshot(ctx: Ctx) -> None:
    store = snapshot_store(ctx)
    operation_id = ctx.operation_id
    if not operation_id or not ctx.hub.properties.cluster_id:
        raise CloudError(500, errors.INTERNAL_SERVER_ERROR, "The backup has no operation or cluster id.")
    snapshot = await capture(ctx)
    url = await store.save(snapshot_name(ctx.hub.properties.cluster_id, operation_id), snapshot)
    backup = EtcdBackup(id=operation_id, snapshot_url=url, created_at=snapshot["createdAt"], objects=count(snapshot))
    await ctx.update(lambda oc: record_backup(oc, backup))


BACKUP: list[Step[Ctx]] = [Action("hcp.etcdbackup.take_snapshot", take_snapshot)]
