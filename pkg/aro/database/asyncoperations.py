"""Async-operation documents (container ``asyncOperations``, 7-day TTL), partitioned by subscription:
``{id: operationId, partitionKey, key, openShiftClusterKey, asyncOperation: {id, name, status,
initialStatus, startTime, endTime?, error?}}``.

The frontend writes the operation *before* the cluster document that references it (through the cluster
document's ``asyncOperationId``), so a cluster is never in a non-terminal state without its operation;
an operation the cluster never came to reference (a crash or a lost race in between) is never handed to
a client and expires with its TTL. The backend writes the operation's terminal status *before* it ends the
cluster's lease, and the status route reports the initial status while the cluster document still
references the operation -- so a client never sees Succeeded before the cluster shows it.
"""

from __future__ import annotations

import datetime as dt

from aro.api.cluster import RESOURCE_PROVIDER
from aro.database.store import Doc


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_operation_doc(
    operation_id: str, subscription_id: str, location: str, cluster_key: str, initial_status: str
) -> Doc:
    sub = subscription_id.lower()
    return {
        "id": operation_id,
        "partitionKey": sub,
        "key": operation_id,
        "openShiftClusterKey": cluster_key,
        "asyncOperation": {
            "id": f"/subscriptions/{sub}/providers/{RESOURCE_PROVIDER}/locations/{location}"
            f"/operationsstatus/{operation_id}",
            "name": operation_id,
            "status": initial_status,
            "initialStatus": initial_status,
            "startTime": utc_now(),
        },
    }
