"""The three kinds of simulated cluster, and where each one's facts come from.

- **classic**, ``/clusters/{sub}/{rg}``: exists while the resource group does; client CA = the bundle in
  its master VMs' ``customData`` (``_kubenodes``); nodes = its VMs (read-only); ready with >= 3 master VMs.
- **management**, ``/management``: always exists; no client CA (simulator bearer tokens); nodes are
  stored objects; always ready.
- **hosted**, ``/hostedclusters/{ns}``: exists while namespace ``ns`` exists on the management cluster;
  client CA = ``ca.crt`` of Secret ``kas-client-ca`` in ``ns`` (its current content only: replacing it
  revokes every certificate of the previous CA); nodes = the scale set instances in the resource group
  whose id is ``ns``'s annotation ``aro.openshift.io/managed-resource-group`` (read-only); ready when every
  pod in ``ns`` is Running, and there is at least one.

Namespaces ``default``, ``kube-system`` and ``openshift-config`` (management: ``default`` and
``kube-system``) exist on every cluster from its first request and cannot be deleted. A classic cluster's
objects go with its resource group; a hosted cluster's with its management namespace.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._clienttls import ClientTrust, ServingCerts
from ._kubenodes import client_ca_bundle, instance_node, serving_pair, vm_node
from ._kubeobjects import KubeObjects

if TYPE_CHECKING:
    from ._store import Store
    from ._vmss import ScaleSets

Object = dict[str, Any]
CLASSIC, MANAGEMENT, HOSTED = "classic", "management", "hosted"
KAS_CLIENT_CA_SECRET = "kas-client-ca"
KAS_CLIENT_CA_KEY = "ca.crt"
MANAGED_RG_ANNOTATION = "aro.openshift.io/managed-resource-group"
IMPLICIT_NAMESPACES = {
    CLASSIC: ("default", "kube-system", "openshift-config"),
    HOSTED: ("default", "kube-system", "openshift-config"),
    MANAGEMENT: ("default", "kube-system"),
}
_VM_TYPE = "microsoft.compute/virtualmachines"


@dataclass(frozen=True)
class Cluster:
    flavour: str
    key: str  # the object store's cluster key
    rg_key: str = ""  # classic: the resource group id, lower-case
    namespace: str = ""  # hosted: the management namespace

    @property
    def derived_nodes(self) -> bool:
        return self.flavour != MANAGEMENT

    @property
    def implicit_namespaces(self) -> tuple[str, ...]:
        return IMPLICIT_NAMESPACES[self.flavour]


def _is_master(vm: Object) -> bool:
    return "-master-" in str(vm.get("name", "")).lower()


def _vm_client_ca(body: Object) -> str | None:
    return client_ca_bundle(((body.get("properties") or {}).get("osProfile") or {}).get("customData"))


def _vm_serving_pair(body: Object) -> tuple[str, str] | None:
    return serving_pair(((body.get("properties") or {}).get("osProfile") or {}).get("customData"))


def _secret_value(secret: Object | None, key: str) -> str | None:
    value = ((secret or {}).get("data") or {}).get(key)
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, ValueError):
        return None


def base_path(key: str) -> str:
    """The path under which the cluster with store key ``key`` is served (``/clusters/{sub}/{rg}``,
    ``/management``, ``/hostedclusters/{ns}``)."""
    if key.startswith("hosted:"):
        return "/hostedclusters/" + key.split(":", 1)[1]
    if key.startswith("classic:"):
        parts = key.split(":", 1)[1].strip("/").split("/")  # subscriptions/{sub}/resourcegroups/{rg}
        return f"/clusters/{parts[1]}/{parts[3]}" if len(parts) >= 4 else "/clusters"
    return "/management"


def cluster_key(flavour: str, arg: str) -> str:
    """The store key of a cluster, from its flavour and argument (``_kube._target``)."""
    if flavour == CLASSIC:
        return f"classic:{arg}"
    if flavour == HOSTED:
        return f"hosted:{arg}"
    return MANAGEMENT


class Clusters:
    """Cluster facts, read inside the store's transactions (database thread)."""

    def __init__(
        self,
        store: Store,
        objects: KubeObjects,
        scale_sets: ScaleSets,
        trust: ClientTrust,
        kubelet: Callable[[], str],
        serving: ServingCerts | None = None,
    ) -> None:
        self.store = store
        self.objects = objects
        self.scale_sets = scale_sets
        self.trust = trust
        self.serving = serving
        self._kubelet = kubelet
        store.hooks.append(self)
        objects.watch(self._object_changed)

    # -- which cluster -------------------------------------------------------------------------------------

    def resolve(self, flavour: str, arg: str) -> Cluster | None:
        if flavour == CLASSIC:
            if self.store.get_rg(arg) is None:
                return None
            cluster = Cluster(CLASSIC, f"classic:{arg}", rg_key=arg)
        elif flavour == HOSTED:
            self._seed(Cluster(MANAGEMENT, MANAGEMENT))
            if not self.objects.exists(MANAGEMENT, "namespaces", "", arg):
                return None
            cluster = Cluster(HOSTED, f"hosted:{arg}", namespace=arg)
        else:
            cluster = Cluster(MANAGEMENT, MANAGEMENT)
        self._seed(cluster)
        return cluster

    def _seed(self, cluster: Cluster) -> None:
        names = cluster.implicit_namespaces
        marks = ",".join("?" * len(names))
        (count,) = self.objects.db.execute(
            f"SELECT COUNT(*) FROM kube_objects WHERE cluster = ? AND resource = 'namespaces' AND namespace = ''"
            f" AND name IN ({marks})",
            (cluster.key, *names),
        ).fetchone()
        if count < len(names):
            for name in names:
                self.objects.ensure_namespace(cluster.key, name)

    # -- facts ---------------------------------------------------------------------------------------------

    def client_cas(self, cluster: Cluster) -> list[str]:
        if cluster.flavour == CLASSIC:
            # every master, whatever its provisioning state: a VM being re-PUT keeps serving
            rows = self.store.db.execute(
                "SELECT name, body FROM resources WHERE rg_key = ? AND lower(type) = ?", (cluster.rg_key, _VM_TYPE)
            )
            bundles = [_vm_client_ca(json.loads(r["body"])) for r in rows if "-master-" in str(r["name"]).lower()]
            return [b for b in dict.fromkeys(bundles) if b]
        if cluster.flavour == HOSTED:
            secret = self.objects.get(MANAGEMENT, "secrets", cluster.namespace, KAS_CLIENT_CA_SECRET)
            ca = _secret_value(secret, KAS_CLIENT_CA_KEY)
            return [ca] if ca else []
        return []

    def managed_rg(self, cluster: Cluster) -> str | None:
        ns = self.objects.get(MANAGEMENT, "namespaces", "", cluster.namespace)
        value = (((ns or {}).get("metadata") or {}).get("annotations") or {}).get(MANAGED_RG_ANNOTATION)
        return value.lower().rstrip("/") if isinstance(value, str) and value else None

    def nodes(self, cluster: Cluster) -> list[Object]:
        """The derived nodes of a classic or hosted cluster, by name."""
        kubelet = self._kubelet()
        if cluster.flavour == CLASSIC:
            out = [vm_node(vm, kubelet) for vm in self.store.vms(cluster.rg_key)]
        else:
            rg = self.managed_rg(cluster)
            out = [instance_node(i, kubelet) for i in self.scale_sets.rg_instances(rg)] if rg else []
        return sorted(out, key=lambda n: str(n["metadata"]["name"]))

    def masters(self, cluster: Cluster) -> int:
        return sum(1 for vm in self.store.vms(cluster.rg_key) if _is_master(vm))

    def pods_ready(self, cluster: Cluster) -> tuple[bool, str]:
        """A hosted cluster's control plane: (every pod of its namespace Running and at least one, detail)."""
        pods = list(self.objects.iterate(MANAGEMENT, "pods", cluster.namespace, None))
        waiting = [p["metadata"]["name"] for p in pods if (p.get("status") or {}).get("phase") != "Running"]
        if not pods:
            return False, "no control plane pods"
        return not waiting, ", ".join(sorted(waiting)[:5])

    def known_serving_pairs(self) -> list[tuple[str, str, str | None]]:
        """Every classic master's serving certificate and key, with its cluster's client CA (for the SNI
        registry at start-up)."""
        out: list[tuple[str, str, str | None]] = []
        for row in self.store.db.execute("SELECT body FROM resources WHERE lower(type) = ?", (_VM_TYPE,)):
            body = json.loads(row["body"])
            pair = _vm_serving_pair(body)
            if pair:
                out.append((*pair, _vm_client_ca(body)))
        return out

    def known_client_cas(self) -> list[str]:
        """Every client CA bundle the store knows (for the TLS trust store at start-up)."""
        out: list[str] = []
        for row in self.store.db.execute("SELECT body FROM resources WHERE lower(type) = ?", (_VM_TYPE,)):
            bundle = _vm_client_ca(json.loads(row["body"]))
            if bundle:
                out.append(bundle)
        for _, secret in self.objects.all_of(MANAGEMENT, "secrets", KAS_CLIENT_CA_SECRET):
            ca = _secret_value(secret, KAS_CLIENT_CA_KEY)
            if ca:
                out.append(ca)
        return out

    # -- keeping up with writes (ResourceHook and object watcher) ------------------------------------------

    def upserted(self, rg_key: str, key: str, rtype: str) -> None:
        if rtype.lower() != _VM_TYPE:
            return
        row = self.store.db.execute("SELECT body FROM resources WHERE key = ?", (key,)).fetchone()
        body = None if row is None else json.loads(row["body"])
        bundle = None if body is None else _vm_client_ca(body)
        if bundle:
            self.trust.add(bundle)
        pair = None if body is None else _vm_serving_pair(body)
        if pair and self.serving is not None:
            self.serving.put(*pair, bundle)

    def deleted(self, key: str) -> None:
        return None

    def rg_deleted(self, rg_key: str) -> None:
        self.objects.purge(f"classic:{rg_key}")

    def _object_changed(self, cluster: str, resource: str, event: str, obj: Object) -> None:
        if cluster != MANAGEMENT:
            return
        name = (obj.get("metadata") or {}).get("name")
        if resource == "secrets" and name == KAS_CLIENT_CA_SECRET and event != "DELETED":
            ca = _secret_value(obj, KAS_CLIENT_CA_KEY)
            if ca:
                self.trust.add(ca)
        elif resource == "namespaces" and event == "DELETED":
            self.objects.purge(f"hosted:{name}")
