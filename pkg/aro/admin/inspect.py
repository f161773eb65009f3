"""What the admin API reads beyond the store (``aro.frontend.services.Inspector``): a resource's
diagnostics archive and its control plane's metrics.

Diagnostics (``tar.gz``), for one top-level resource:

- ``resource.json``: its document as stored, secret fields removed; ``children/<type>/<name>.json`` the
  same for each child; ``operations.json`` the async operations of it and its children (step history is
  in each document's ``progress``);
- a hosted cluster: ``management/`` its control plane's namespace, pods and config maps on the
  management cluster (secrets by name and type only); ``cluster/`` the hosted cluster API's namespaces,
  nodes, pods, config maps, service accounts and secrets (names and types only);
- a classic cluster: ``cluster/nodes.json`` through its admin credential;
- ``simulator/requests.json``: the simulator's request log entries about its resource groups (simulator
  mode only).

Nothing that is a secret is written: documents go through the codec's ``redacted``, Kubernetes secrets
lose ``data``/``stringData``, and no credential or kubeconfig is read into the archive.
"""

from __future__ import annotations

import io
import json
import logging
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from aro.api.errors import CloudError
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcpopenshiftclusters import HCP_OPENSHIFT_CLUSTERS
from aro.api.kind import Kinds, ResourceKind
from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS
from aro.cloud.base import Cloud
from aro.cloud.kube import KubeAPI
from aro.database import Doc, Store
from aro.database.codec import SealedCodec
from aro.database.containers import ASYNC_OPERATIONS
from aro.hcp.context import backend_api
from aro.hcp.metrics import MetricsSet, select
from aro.util import kubeconfig

log = logging.getLogger("aro.admin.inspect")

MAX_ITEMS = 1000  # per list in the archive
_KUBE_KINDS = ("namespaces", "nodes", "pods", "configmaps", "serviceaccounts", "secrets")


def _strip_secret(obj: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in obj.items() if k not in ("data", "stringData")}
    if "data" in obj or "stringData" in obj:
        out["dataKeys"] = sorted({*(obj.get("data") or {}), *(obj.get("stringData") or {})})
    return out


@dataclass
class Inspector:
    store: Store
    kinds: Kinds
    codecs: Mapping[str, SealedCodec[Any]]
    cloud: Cloud
    metrics_set: MetricsSet
    simulator: httpx.AsyncClient | None = None  # the simulator's admin API (request log), bearer token set

    # --- diagnostics ------------------------------------------------------------------------------------

    async def diagnostics(self, kind: ResourceKind[Any], doc: Doc) -> bytes:
        files: dict[str, Any] = {"resource.json": self.codecs[kind.container_name].redacted(doc)}
        key, partition = doc["key"], doc["partitionKey"]
        for child in self.kinds.children(kind):
            page = await self.store.container(child.container_name).list_page(
                prefix=key + "/", partition_key=partition, max_items=MAX_ITEMS
            )
            for c in page.items:
                files[f"children/{child.name}/{c['key'].rsplit('/', 1)[-1]}.json"] = self.codecs[
                    child.container_name
                ].redacted(c)
        ops = await self.store.container(ASYNC_OPERATIONS.name).list_page(partition_key=partition, max_items=MAX_ITEMS)
        files["operations.json"] = [o for o in ops.items if str(o.get("resourceKey", "")).startswith(key)]
        groups: list[str] = []
        try:
            if kind is HCP_OPENSHIFT_CLUSTERS:
                groups = await self._hosted(doc, files)
            elif kind is OPENSHIFT_CLUSTERS:
                groups = await self._classic(doc, files)
        except CloudError as e:  # what could be read is still worth having
            files["errors.json"] = [{"code": e.code, "message": e.message}]
        if self.simulator is not None and groups:
            files["simulator/requests.json"] = await self._requests(groups)
        return _archive(files)

    async def _kube(self, api: KubeAPI, prefix: str, files: dict[str, Any], namespace: str = "") -> None:
        for plural in _KUBE_KINDS:
            if namespace and plural in ("namespaces", "nodes"):
                continue
            items = (await api.list(plural, namespace))[:MAX_ITEMS]
            if plural == "secrets":
                items = [_strip_secret(i) for i in items]
            files[f"{prefix}/{plural}.json"] = items

    async def _hosted(self, doc: Doc, files: dict[str, Any]) -> list[str]:
        oc: HcpOpenShiftCluster = self.codecs[HCP_OPENSHIFT_CLUSTERS.container_name].decode(doc)
        p = oc.properties
        if p.management_namespace:
            mc = self.cloud.management_cluster()
            files["management/namespace.json"] = await mc.get("namespaces", p.management_namespace)
            await self._kube(mc, "management", files, p.management_namespace)
            if p.signer is not None:
                await self._kube(backend_api(self.cloud, oc), "cluster", files)
        return [p.platform.managed_resource_group]

    async def _classic(self, doc: Doc, files: dict[str, Any]) -> list[str]:
        oc = self.codecs[OPENSHIFT_CLUSTERS.container_name].decode(doc)
        rg_id = oc.properties.cluster_profile.resource_group_id
        cert, key = kubeconfig.client_credentials(oc.properties.admin_kubeconfig)
        if cert:
            sub, rg = rg_id.split("/")[2], rg_id.split("/")[4]
            endpoint = self.cloud.cluster_endpoint(sub, rg, oc.properties.cluster_profile.domain)
            files["cluster/nodes.json"] = await self.cloud.cluster_nodes(endpoint, cert, key)
        return [rg_id.rsplit("/", 1)[-1]] if rg_id else []

    async def _requests(self, groups: list[str]) -> list[dict[str, Any]]:
        assert self.simulator is not None
        try:
            resp = await self.simulator.get("/simulator/requests")
            entries = resp.json().get("value") or [] if resp.status_code == 200 else []
        except (httpx.HTTPError, ValueError) as e:
            return [{"error": f"the simulator's request log could not be read: {e}"}]
        wanted = [f"/resourcegroups/{g.lower()}" for g in groups if g]
        return [e for e in entries if any(w in str(e.get("path", "")).lower() for w in wanted)][-MAX_ITEMS:]

    async def close(self) -> None:
        if self.simulator is not None:
            await self.simulator.aclose()

    # --- metrics ----------------------------------------------------------------------------------------

    async def control_plane_metrics(self, kind: ResourceKind[Any], doc: Doc) -> str:
        if kind is not HCP_OPENSHIFT_CLUSTERS:
            raise CloudError(404, "NotFound", f"{kind.type} has no hosted control plane.")
        oc: HcpOpenShiftCluster = self.codecs[kind.container_name].decode(doc, secrets=False)
        ns = oc.properties.management_namespace
        if not ns:
            raise CloudError(409, "Conflict", "The cluster's control plane does not exist yet.")
        mc = self.cloud.management_cluster()
        parts: list[str] = []
        for pod in await mc.list("pods", ns):
            name = pod["metadata"]["name"]
            if (pod.get("status") or {}).get("phase") != "Running":
                continue
            text = await mc.get_text(f"/api/v1/namespaces/{ns}/pods/{name}/proxy/metrics")
            if text:
                parts.append(select(text, self.metrics_set))
        return "".join(parts)


def _archive(files: Mapping[str, Any]) -> bytes:
    buf = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in sorted(files.items()):
            data = json.dumps(content, indent=2, sort_keys=True, default=str).encode()
            info = tarfile.TarInfo(f"diagnostics/{name}")
            info.size, info.mtime, info.mode = len(data), int(now), 0o600
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
