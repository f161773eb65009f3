"""etcd restores of a hosted cluster (the ``EtcdRestore`` admin action): the cluster's API objects are made
exactly the snapshot's (``aro.hcp.backup`` says what a snapshot covers).

1. ``check_snapshot``: the snapshot is this RP's (under its snapshot store, sealed with its key: 400
   otherwise, the operation fails and nothing changed) and of the snapshot format.
2. ``apply_snapshot``: every namespace of the snapshot exists and every object of it exists as it was
   (created when missing, replaced when changed; deleted and created again where a replace cannot change
   it: an immutable ConfigMap or Secret, a Secret's type).
3. ``prune``: in the namespaces kept, objects of the covered kinds the snapshot does not have are deleted;
   namespaces the snapshot does not have are deleted with everything in them -- except the platform's
   (``default``, ``kube-*``, ``openshift-*``), whose objects are pruned one by one. Server-made objects
   are never touched.
4. ``record``: the restore's outcome (``restoredAt``; objects created, replaced, deleted) on the cluster.

Each step compares the cluster as it is now with the snapshot, so a step that runs again after a crash
does only what is left (its counts are of what it changed then).
"""

from __future__ import annotations

from typing import Any

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.hcp.cluster import EtcdRestore, HcpOpenShiftCluster
from aro.api.hcp.etcdbackup import restore_of
from aro.cloud.kube import KubeAPI
from aro.hcp.backup import FORMAT, KINDS, NAMESPACES, Object, clean, live, object_key, platform_namespace, server_made
from aro.hcp.backup import snapshot_store as store_of
from aro.hcp.context import HostedContext
from aro.steps import Action, Step
from aro.util.clock import utc_now

Ctx = HostedContext[HcpOpenShiftCluster]


def _request(ctx: Ctx) -> EtcdRestore:
    return restore_of(ctx.hub, ctx.operation_id)


async def _snapshot(ctx: Ctx) -> Object:
    snapshot = await store_of(ctx).load(_request(ctx).snapshot_url)
    if snapshot.get("format") != FORMAT or not isinstance(snapshot.get("objects"), dict):
        raise CloudError(400, errors.INVALID_REQUEST_CONTENT, f"The snapshot is not of format {FORMAT}.", "snapshotURL")
    return snapshot


def _by_key(plural: str, objects: Any) -> dict[tuple[str, str], Object]:
    items = objects if isinstance(objects, list) else []
    return {object_key(o): clean(plural, o) for o in items if isinstance(o, dict) and not server_made(plural, o)}


async def _count(ctx: Ctx, field: str, n: int) -> None:
    if not n:
        return

    def mutate(oc: HcpOpenShiftCluster) -> None:
        r = restore_of(oc, ctx.operation_id)
        setattr(r, field, getattr(r, field) + n)

    await ctx.update(mutate)


async def check_snapshot(ctx: Ctx) -> None:
    await _snapshot(ctx)


def _recreate(plural: str, want: Object, have: Object) -> bool:
    """A replace cannot make ``have`` into ``want``: delete it and create ``want``."""
    if plural not in ("configmaps", "secrets"):
        return False
    return bool(have.get("immutable")) or (plural == "secrets" and have.get("type") != want.get("type"))


async def _converge(
    api: KubeAPI, plural: str, want: dict[tuple[str, str], Object], have: list[Object]
) -> tuple[int, int]:
    """(created, replaced) to make every object of ``want`` exist as it is there."""
    current = {object_key(o): o for o in have}
    created = replaced = 0
    for key, obj in sorted(want.items()):
        found = current.get(key)
        if found == obj:
            continue
        if found is not None and _recreate(plural, obj, found):
            await api.delete(plural, key[1], key[0])
            found = None
        await api.apply(plural, obj)
        created, replaced = (created + 1, replaced) if found is None else (created, replaced + 1)
    return created, replaced


async def apply_snapshot(ctx: Ctx) -> None:
    snapshot = await _snapshot(ctx)
    api = ctx.hosted_api(ctx.hub)
    namespaces, objects = await live(api)
    created, replaced = await _converge(api, NAMESPACES, _by_key(NAMESPACES, snapshot.get(NAMESPACES)), namespaces)
    for plural in KINDS:
        c, r = await _converge(api, plural, _by_key(plural, snapshot["objects"].get(plural)), objects[plural])
        created, replaced = created + c, replaced + r
    await _count(ctx, "created", created)
    await _count(ctx, "replaced", replaced)


async def prune(ctx: Ctx) -> None:
    snapshot = await _snapshot(ctx)
    api = ctx.hosted_api(ctx.hub)
    namespaces, objects = await live(api)
    wanted_namespaces = {name for _, name in _by_key(NAMESPACES, snapshot.get(NAMESPACES))}
    names = [object_key(n)[1] for n in namespaces]
    dropped = {name for name in names if name not in wanted_namespaces and not platform_namespace(name)}
    deleted = 0
    for plural in KINDS:
        want = _by_key(plural, snapshot["objects"].get(plural))
        for obj in objects[plural]:
            key = object_key(obj)
            if key not in want and key[0] not in dropped:
                await api.delete(plural, key[1], key[0])
                deleted += 1
    for name in sorted(dropped):
        await api.delete(NAMESPACES, name)
        deleted += 1
    await _count(ctx, "deleted", deleted)


async def record(ctx: Ctx) -> None:
    done = utc_now()

    def mutate(oc: HcpOpenShiftCluster) -> None:
        r = restore_of(oc, ctx.operation_id)
        r.restored_at = r.restored_at or done

    await ctx.update(mutate)


RESTORE: list[Step[Ctx]] = [
    Action("hcp.etcdrestore.check_snapshot", check_snapshot),
    Action("hcp.etcdrestore.apply_snapshot", apply_snapshot),
    Action("hcp.etcdrestore.prune", prune),
    Action("hcp.etcdrestore.record", record),
]
