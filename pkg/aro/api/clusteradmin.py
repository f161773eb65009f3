"""The admin update of a classic cluster (ARO's ``PATCH /admin{resourceId}`` with a maintenance task):
``{"properties": {"maintenanceTask": "Everything" | "OperatorUpdate" | "CertificatesRenewal"}}``, run as
an ``AdminUpdate`` operation in ``AdminUpdating``.

- ``OperatorUpdate``: the cluster's resources are deployed again (its operators reconcile);
- ``CertificatesRenewal``: the API server's serving certificate and the admin client certificate (and
  so the admin kubeconfig) are issued again from the cluster CA, then deployed;
- ``Everything``: both.
"""

from __future__ import annotations

from typing import Any

from aro.api import errors
from aro.api.cluster import OpenShiftCluster
from aro.api.errors import CloudError
from aro.api.resource import Request
from aro.api.version import ValidationContext

EVERYTHING = "Everything"
OPERATOR_UPDATE = "OperatorUpdate"
CERTIFICATES_RENEWAL = "CertificatesRenewal"
TASKS = (EVERYTHING, OPERATOR_UPDATE, CERTIFICATES_RENEWAL)


def _bad(message: str, target: str) -> CloudError:
    return CloudError(400, errors.INVALID_REQUEST_CONTENT, message, target)


def admin_patch(oc: OpenShiftCluster, body: Any, ctx: ValidationContext) -> str:
    if not isinstance(body, dict) or set(body) - {"properties"} or not isinstance(body.get("properties"), dict):
        raise _bad('The admin update must be {"properties": {"maintenanceTask": ...}}.', "properties")
    props: dict[str, Any] = body["properties"]
    unknown = sorted(set(props) - {"maintenanceTask"})
    if unknown:
        raise _bad(f"Unknown admin update field(s): {', '.join(unknown)[:200]}.", f"properties.{unknown[0][:64]}")
    task = props.get("maintenanceTask")
    if task not in TASKS:
        raise _bad(
            f"The maintenance task {str(task)[:64]!r} is invalid: one of {', '.join(TASKS)}.",
            "properties.maintenanceTask",
        )
    oc.properties.maintenance_task = str(task)
    return Request.ADMIN_UPDATE
