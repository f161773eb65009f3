"""etcd backup and restore of a hosted cluster: the admin actions' bodies and results, and the admin view.

- ``POST /admin{clusterId}/etcdbackups`` (no body, or ``{}``) runs an ``EtcdBackup`` operation: the backend
  snapshots the hosted cluster's API objects into one sealed document in the RP's snapshot store and
  records it in ``properties.backups``; the result is ``{id, snapshotURL, createdAt}``.
- ``GET /admin{clusterId}/etcdbackups`` lists the backups: ``{"value": [{id, snapshotURL, createdAt,
  objects}]}`` (newest last; at most ``MAX_BACKUPS`` are kept on the cluster, their snapshots stay).
- ``POST /admin{clusterId}/etcdrestore`` ``{"snapshotURL": ...}`` runs an ``EtcdRestore`` operation: the
  backend makes the hosted cluster's objects exactly the snapshot's. The URL is one of this cluster's
  backups or -- a restore into another cluster -- the URL of any snapshot of this RP: ``https`` (``http``
  for a storage emulator) or ``file``, at most 1024 characters (HyperShift's ``restoreSnapshotURL``), in
  the store's layout ``.../hcp-etcd-snapshots/{clusterId}/{backupId}.json``. That the RP wrote it is
  proven by the backend, which opens only URLs under its own store and snapshots sealed with its key (the
  operation fails with 400 otherwise, nothing changed); the result is ``{id, snapshotURL, restoredAt,
  created, replaced, deleted}``.
"""

from __future__ import annotations

import re
from typing import Any

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.hcp.cluster import EtcdBackup, EtcdRestore, HcpOpenShiftCluster
from aro.api.hcp.conditions import now_rfc3339
from aro.api.hcp.fielderrors import FieldErrors

ETCD_BACKUP = "EtcdBackup"  # the actions' requests (the workflow names a step list for each)
ETCD_RESTORE = "EtcdRestore"
SNAPSHOT_PREFIX = "hcp-etcd-snapshots"
SNAPSHOT_URL = "snapshotURL"
MAX_URL_LENGTH = 1024
MAX_BACKUPS = 50
MAX_RESTORES = 20

_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_URL = re.compile(rf"^(https?|file)://[^?#\s]*/{SNAPSHOT_PREFIX}/{_ID}/{_ID}\.json\Z")


def snapshot_name(cluster_id: str, backup_id: str) -> str:
    """Where a backup's snapshot lives in the RP's snapshot store (and the tail of its URL)."""
    return f"{SNAPSHOT_PREFIX}/{cluster_id.lower()}/{backup_id.lower()}.json"


def snapshot_url_error(url: str) -> str | None:
    """Why ``url`` cannot be a snapshot of this RP's layout (None: it can)."""
    if len(url) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    if not _URL.match(url):
        return (
            f"must be the snapshotURL of a backup of this cluster, or of another snapshot this resource "
            f"provider wrote (https or file, ending in /{SNAPSHOT_PREFIX}/<cluster id>/<backup id>.json)"
        )
    return None


def _fields(body: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise CloudError(400, errors.INVALID_REQUEST_CONTENT, "The request body must be a JSON object.")
    unknown = sorted(str(k)[:64] for k in body if k not in allowed)
    if unknown:
        raise CloudError(
            400,
            errors.INVALID_REQUEST_CONTENT,
            f"Unknown field(s): {', '.join(unknown[:10])}."
            + (f" Allowed: {', '.join(allowed)}." if allowed else " The request takes no body."),
            unknown[0],
        )
    return dict(body)


def accept_backup(oc: HcpOpenShiftCluster, body: Any, operation_id: str) -> None:
    _fields(body, ())


def record_backup(oc: HcpOpenShiftCluster, backup: EtcdBackup) -> None:
    """The backend's record of a snapshot taken (again, after a crash: replaced, not duplicated)."""
    kept = [b for b in oc.properties.backups if b.id != backup.id]
    oc.properties.backups = [*kept, backup][-MAX_BACKUPS:]


def _backup(oc: HcpOpenShiftCluster, operation_id: str) -> EtcdBackup:
    for b in oc.properties.backups:
        if b.id == operation_id:
            return b
    raise CloudError(404, errors.NOT_FOUND, f"The backup of operation '{operation_id}' is no longer recorded.")


def backup_result(oc: HcpOpenShiftCluster, operation_id: str) -> dict[str, Any]:
    b = _backup(oc, operation_id)
    return {"id": b.id, SNAPSHOT_URL: b.snapshot_url, "createdAt": b.created_at}


def backups_view(oc: HcpOpenShiftCluster) -> dict[str, Any]:
    return {
        "value": [
            {"id": b.id, SNAPSHOT_URL: b.snapshot_url, "createdAt": b.created_at, "objects": b.objects}
            for b in oc.properties.backups
        ]
    }


def accept_restore(oc: HcpOpenShiftCluster, body: Any, operation_id: str) -> None:
    """``{"snapshotURL": ...}``: a backup of this cluster or a URL of this RP's snapshot layout (400
    otherwise); recorded on ``oc`` for the backend."""
    fields = _fields(body, (SNAPSHOT_URL,))
    errs = FieldErrors()
    url = fields.get(SNAPSHOT_URL)
    if url is None or url == "":
        errs.required(SNAPSHOT_URL)
    elif not isinstance(url, str):
        errs.invalid(SNAPSHOT_URL, url, "must be a string")
    elif not any(b.snapshot_url == url for b in oc.properties.backups):
        reason = snapshot_url_error(url)
        if reason is not None:
            errs.invalid(SNAPSHOT_URL, url, reason)
    errs.raise_if_any()
    assert isinstance(url, str)
    restore = EtcdRestore(id=operation_id, snapshot_url=url, requested_at=now_rfc3339())
    oc.properties.restores = [*(r for r in oc.properties.restores if r.id != operation_id), restore][-MAX_RESTORES:]


def restore_of(oc: HcpOpenShiftCluster, operation_id: str) -> EtcdRestore:
    for r in oc.properties.restores:
        if r.id == operation_id:
            return r
    raise CloudError(404, errors.NOT_FOUND, f"The restore of operation '{operation_id}' is no longer recorded.")


def restore_result(oc: HcpOpenShiftCluster, operation_id: str) -> dict[str, Any]:
    r = restore_of(oc, operation_id)
    return {
        "id": r.id,
        SNAPSHOT_URL: r.snapshot_url,
        "restoredAt": r.restored_at,
        "created": r.created,
        "replaced": r.replaced,
        "deleted": r.deleted,
    }
