"""The admin update of a classic cluster (ARO's ``PATCH /admin{resourceId}``), run as an ``AdminUpdate``
operation in ``AdminUpdating``. The body is one of:

- ``{"properties": {"maintenanceTask": "Everything" | "OperatorUpdate" | "CertificatesRenewal"}}``:

  - ``OperatorUpdate``: the cluster's resources are deployed again (its operators reconcile);
  - ``CertificatesRenewal``: the API server's serving certificate and the admin client certificate (and
    so the admin kubeconfig) are issued again from the cluster CA, then deployed;
  - ``Everything``: both.

  Refused (400 ``RequestNotAllowed``) while the cluster hibernates: its API server is stopped.
- ``{"properties": {"powerState": "Hibernating" | "Running"}}``: hibernation (``aro.api.power``): every VM
  of the cluster's managed resource group is deallocated, or started again (``aro.cluster.power``).

The two are never combined (400 ``InvalidRequestContent``): a maintenance task needs the cluster running.
"""

from __future__ import annotations

from typing import Any

from aro.api import errors, power
from aro.api.cluster import OpenShiftCluster, is_hibernating
from aro.api.errors import CloudError
from aro.api.resource import Request
from aro.api.version import ValidationContext

EVERYTHING = "Everything"
OPERATOR_UPDATE = "OperatorUpdate"
CERTIFICATES_RENEWAL = "CertificatesRenewal"
TASKS = (EVERYTHING, OPERATOR_UPDATE, CERTIFICATES_RENEWAL)
MAINTENANCE_TASK = "maintenanceTask"
FIELDS = (MAINTENANCE_TASK, power.FIELD)


def _bad(message: str, target: str) -> CloudError:
    return CloudError(400, errors.INVALID_REQUEST_CONTENT, message, target)


def admin_patch(oc: OpenShiftCluster, body: Any, ctx: ValidationContext) -> str:
    shape = '{"properties": {"maintenanceTask": ...}} or {"properties": {"powerState": ...}}'
    if not isinstance(body, dict) or set(body) - {"properties"} or not isinstance(body.get("properties"), dict):
        raise _bad(f"The admin update must be {shape}.", "properties")
    props: dict[str, Any] = body["properties"]
    unknown = sorted(str(k) for k in set(props) - set(FIELDS))
    if unknown:
        raise _bad(
            f"Unknown admin update field(s): {', '.join(unknown)[:200]}. Allowed: properties.maintenanceTask, "
            "properties.powerState.",
            f"properties.{unknown[0][:64]}",
        )
    if not props:
        raise _bad(f"The admin update changes nothing: it must be {shape}.", "properties")
    if len(props) > 1:
        raise _bad(
            "properties.powerState cannot be combined with properties.maintenanceTask: send them as separate "
            "admin updates (a maintenance task needs the cluster running).",
            "properties.powerState",
        )
    if power.FIELD in props:
        value = props[power.FIELD]
        if power.value_error(value) is not None:
            raise power.bad_value(value)
        power.apply(oc.properties, str(value), conflict=False)
        return Request.ADMIN_UPDATE
    task = props.get(MAINTENANCE_TASK)
    if task not in TASKS:
        raise _bad(
            f"The maintenance task {str(task)[:64]!r} is invalid: one of {', '.join(TASKS)}.",
            "properties.maintenanceTask",
        )
    if is_hibernating(oc):
        raise CloudError(
            400,
            errors.REQUEST_NOT_ALLOWED,
            'The cluster is hibernating: resume it ({"properties": {"powerState": "Running"}}) before a '
            "maintenance task.",
        )
    oc.properties.maintenance_task = str(task)
    return Request.ADMIN_UPDATE
