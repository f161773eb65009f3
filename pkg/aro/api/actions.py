"""The cluster's credential actions, shared by api-versions.

The frontend checks the cluster state before calling an action; these functions only render (and refuse
with 400 RequestNotAllowed while the secret does not exist yet).
"""

from __future__ import annotations

import base64
from typing import Any

from aro.api.cluster import OpenShiftCluster
from aro.api.errors import REQUEST_NOT_ALLOWED, CloudError

KUBEADMIN = "kubeadmin"


def _not_yet(what: str) -> CloudError:
    return CloudError(400, REQUEST_NOT_ALLOWED, f"Request is not allowed: the cluster {what} are not available yet.")


def kubeadmin_credentials(oc: OpenShiftCluster) -> dict[str, Any]:
    """``listCredentials`` (and 2019-12-31-preview ``credentials``)."""
    if not oc.properties.kubeadmin_password:
        raise _not_yet("credentials")
    return {"kubeadminUsername": KUBEADMIN, "kubeadminPassword": oc.properties.kubeadmin_password}


def admin_credentials(oc: OpenShiftCluster) -> dict[str, Any]:
    """``listAdminCredentials``: the admin kubeconfig, base64-encoded."""
    if not oc.properties.admin_kubeconfig:
        raise _not_yet("admin credentials")
    return {"kubeconfig": base64.b64encode(oc.properties.admin_kubeconfig.encode()).decode()}
