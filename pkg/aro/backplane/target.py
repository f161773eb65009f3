"""Which cluster a backplane cluster id names, what the backplane may do with it, and how to reach its API.

A backplane ``clusterId`` is the account ledger's ``cluster_id`` (what ``ocm backplane`` takes after
resolving a name or an external id through the ledger). Its subscription names the cluster's ARM resource;
the resource's kind answers the rest through its ``ClusterAccess`` (``aro.cluster.access``,
``aro.hcp.access``; wired by ``aro.run``):

- ``facts``: the cluster's state as stored -- provisioning state, paused, hibernating, region, managed
  resource group, console URL;
- ``upstream``: its API server and a client certificate the cluster API lets impersonate
  (``system:masters``), for the proxy and for managed jobs: ``Upstream.ssl_context()`` verifies the server
  with the cluster's CA (for the name ``tls_server_name`` when set: a kubeconfig's ``tls-server-name``, the
  host the serving certificate names when the URL names another -- the simulator's classic clusters) and
  presents the certificate.

``Targets.find`` answers a ``ClusterView`` or a 404; ``refuse_unless_usable`` is the check backplane-cli
makes before login and managed-job creation (not Succeeded, paused or hibernating: a 400 saying which).
"""

from __future__ import annotations

import hashlib
import os
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from aro.backplane.errors import BackplaneError
from aro.database import Store
from aro.database.containers import LEDGER_SUBSCRIPTIONS
from aro.database.query import Compare, Query

_PROVIDER = "/providers/microsoft.redhatopenshift/"
MAX_CLUSTER_ID = 64


@dataclass(frozen=True)
class Upstream:
    """A cluster API and the credential the backplane presents to it (PEM)."""

    url: str
    ca_pem: str
    cert_pem: str
    key_pem: str
    tls_server_name: str = ""  # verify the server's certificate for this name (and send it as SNI)

    @property
    def fingerprint(self) -> str:
        """Identifies the endpoint and the credential (not the key: it goes with the certificate)."""
        digest = hashlib.sha256()
        for part in (self.url, self.tls_server_name, self.ca_pem, self.cert_pem):
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()

    def ssl_context(self) -> ssl.SSLContext:
        """Verifies the server with ``ca_pem`` and presents the client certificate (``ssl`` loads a key
        from a file only: written to a private temporary directory and removed at once)."""
        ctx = ssl.create_default_context(cadata=self.ca_pem or None)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        with tempfile.TemporaryDirectory(prefix="aro-backplane-") as tmp:
            cert_file, key_file = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
            for path, content in ((cert_file, self.cert_pem), (key_file, self.key_pem)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(content)
            ctx.load_cert_chain(cert_file, key_file)
        return ctx


@dataclass(frozen=True)
class ClusterFacts:
    """What the cluster's kind knows of it, as stored."""

    name: str
    provisioning_state: str
    paused: bool
    hibernating: bool
    region: str
    managed_resource_group_id: str  # /subscriptions/{sub}/resourceGroups/{rg} ("" before the install made it)
    console_url: str


class ClusterAccess(Protocol):
    async def facts(self, resource_id: str) -> ClusterFacts | None:
        """The cluster's facts; None when the resource does not exist (any more)."""
        ...

    async def upstream(self, resource_id: str) -> Upstream:
        """Its API and a credential that may impersonate (``BackplaneError`` when there is none yet)."""
        ...


@dataclass(frozen=True)
class ClusterView:
    cluster_id: str
    external_id: str
    organization_id: str
    resource_id: str  # lower-cased ARM id
    resource_type: str  # lower-cased: openshiftclusters | hcpopenshiftclusters
    facts: ClusterFacts


def resource_type_of(resource_id: str) -> str:
    """The lower-cased type segment after Microsoft.RedHatOpenShift (top-level resources only)."""
    lowered = resource_id.lower()
    at = lowered.rfind(_PROVIDER)
    if at < 0:
        return ""
    parts = lowered[at + len(_PROVIDER) :].split("/")
    return parts[0] if len(parts) == 2 else ""


def refuse_unless_usable(view: ClusterView, doing: str) -> None:
    """backplane-cli's checks, made by the service: ``doing`` completes "cluster X is ..., {doing} failed"."""
    name = view.facts.name or view.cluster_id
    if view.facts.hibernating:
        raise BackplaneError(400, f"cluster {name} is hibernating, {doing} failed")
    if view.facts.paused:
        raise BackplaneError(400, f"cluster {name} is paused (reconciliation is paused by an admin), {doing} failed")
    if view.facts.provisioning_state != "Succeeded":
        raise BackplaneError(400, f"cluster {name} is {view.facts.provisioning_state}, not Succeeded, {doing} failed")


class Targets:
    def __init__(self, store: Store, access: Mapping[str, ClusterAccess]) -> None:
        """``access``: by lower-cased resource type (``openshiftclusters``, ``hcpopenshiftclusters``)."""
        self._subscriptions = store.container(LEDGER_SUBSCRIPTIONS.name)
        self._access = {k.lower(): v for k, v in access.items()}

    def access(self, view: ClusterView) -> ClusterAccess:
        return self._access[view.resource_type]

    async def find(self, cluster_id: str) -> ClusterView:
        if not cluster_id or len(cluster_id) > MAX_CLUSTER_ID:
            raise BackplaneError(400, "The cluster id is not valid")
        found = await self._subscriptions.query(
            Query(Compare(("subscription", "cluster_id"), "=", cluster_id), limit=2)
        )
        live = [d for d in found if d.get("resource")]
        if not live:
            raise BackplaneError(404, f"Cluster {cluster_id} was not found")
        doc = live[0]
        resource_id = str(doc["resource"])
        kind = resource_type_of(resource_id)
        access = self._access.get(kind)
        if access is None:
            raise BackplaneError(404, f"Cluster {cluster_id} is not a cluster the backplane serves")
        facts = await access.facts(resource_id)
        if facts is None:
            raise BackplaneError(404, f"Cluster {cluster_id} was not found (it was deleted)")
        sub = doc.get("subscription") or {}
        return ClusterView(
            cluster_id=cluster_id,
            external_id=str(sub.get("external_cluster_id") or ""),
            organization_id=str(sub.get("organization_id") or doc.get("partitionKey") or ""),
            resource_id=resource_id,
            resource_type=kind,
            facts=facts,
        )

    async def upstream(self, view: ClusterView) -> Upstream:
        return await self.access(view).upstream(view.resource_id)
