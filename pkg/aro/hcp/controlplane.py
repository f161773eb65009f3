"""A hosted control plane as the management cluster holds it (HyperShift's layout): one namespace per
hosted cluster with etcd, the API server and the other control-plane components as pods, and the client CA
the hosted API server trusts (secret ``kas-client-ca``, key ``ca.crt``: replacing it revokes every
certificate the previous CA signed, as HyperShift's CertificateRevocationRequest rotates the signer).

The namespace names the hosted cluster's managed resource group (annotation
``aro.openshift.io/managed-resource-group``): its VM scale sets' instances are the hosted cluster's nodes.
"""

from __future__ import annotations

import re
from typing import Any

MANAGED_RG_ANNOTATION = "aro.openshift.io/managed-resource-group"
CLIENT_CA_SECRET = "kas-client-ca"
CLUSTER_LABEL = "api.openshift.com/id"
RELEASE_ANNOTATION = "hypershift.openshift.io/release"

# component -> replicas (HyperShift's HighlyAvailable control plane)
COMPONENTS: tuple[tuple[str, int], ...] = (
    ("etcd", 3),
    ("kube-apiserver", 3),
    ("kube-controller-manager", 2),
    ("kube-scheduler", 2),
    ("openshift-apiserver", 3),
    ("openshift-oauth-apiserver", 3),
    ("cluster-version-operator", 1),
    ("control-plane-operator", 1),
)


def namespace_name(cluster_id: str, name: str) -> str:
    """``ocm-aro-{id8}-{name}``: a DNS-1123 label (≤ 63 characters) unique per cluster."""
    base = re.sub(r"[^a-z0-9-]", "-", name.lower())
    return f"ocm-aro-{cluster_id[:8]}-{base}"[:63].rstrip("-")


def release_image(release: str) -> str:
    return f"quay.io/openshift-release-dev/ocp-release:{release}-multi"


def namespace(name: str, cluster_id: str, managed_resource_group_id: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {CLUSTER_LABEL: cluster_id, "hypershift.openshift.io/hosted-control-plane": "true"},
            "annotations": {MANAGED_RG_ANNOTATION: managed_resource_group_id},
        },
    }


def client_ca(namespace_: str, ca_pem: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": CLIENT_CA_SECRET, "namespace": namespace_},
        "stringData": {"ca.crt": ca_pem},
    }


def pod_names() -> list[str]:
    return [f"{component}-{i}" for component, replicas in COMPONENTS for i in range(replicas)]


def pods(namespace_: str, release: str) -> list[dict[str, Any]]:
    """The control-plane pods, at ``release`` (X.Y.Z)."""
    out = []
    for component, replicas in COMPONENTS:
        for i in range(replicas):
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": f"{component}-{i}",
                        "namespace": namespace_,
                        "labels": {"app": component, "hypershift.openshift.io/control-plane-component": component},
                        "annotations": {RELEASE_ANNOTATION: release},
                    },
                    "spec": {"containers": [{"name": component, "image": release_image(release)}]},
                }
            )
    return out


def pods_ready(items: list[dict[str, Any]], release: str) -> tuple[int, int]:
    """(running at ``release``, expected) among the namespace's pods."""
    wanted = set(pod_names())
    running = sum(
        1
        for p in items
        if p.get("metadata", {}).get("name") in wanted
        and (p.get("status") or {}).get("phase") == "Running"
        and (p["metadata"].get("annotations") or {}).get(RELEASE_ANNOTATION) == release
    )
    return running, len(wanted)
