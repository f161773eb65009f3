"""What the steps of a hosted cluster, its node pools and external auths get: the resource (as last
persisted), the cloud, a lease-checked save, the versions catalog -- and, for a child, its cluster as
stored (read on demand: the cluster changes while a node pool works, e.g. a credential revocation)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aro.api.errors import CloudError
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.resource import Resource
from aro.cloud.base import Cloud, ClusterEndpoint
from aro.cloud.kube import KubeAPI
from aro.database.codec import SealedCodec
from aro.steps import Condition, Mutation, Saver, StepEnv, Target, Timeouts
from aro.util import pki

H = TypeVar("H", bound=Resource)

CLUSTERS_CONTAINER = "hcpOpenShiftClusters"
VERSIONS_CATALOG = "hcpOpenShiftVersions"
BACKEND_USER = "system:aro-hcp-backend"
PARENT_NOT_FOUND = "ParentResourceNotFound"


@dataclass
class HostedContext(Generic[H]):
    hub: H
    cloud: Cloud
    save: Saver[H]
    timeouts: Timeouts
    env: StepEnv
    partition: str

    @classmethod
    def of(cls, env: StepEnv, target: Target[H]) -> HostedContext[H]:
        return cls(target.hub, env.cloud, target.save, env.timeouts, env, target.partition)

    async def update(self, mutate: Mutation[H]) -> None:
        """Persist a change (lease-checked) and refresh ``hub``."""
        self.hub = await self.save(mutate)

    @property
    def operation_id(self) -> str:
        record = self.hub.properties.progress
        return (record.operation_id if record is not None else None) or ""

    @property
    def versions(self) -> Sequence[Any]:
        return self.env.catalogs.get(VERSIONS_CATALOG, ())

    def condition_timeout(self) -> float:
        return self.timeouts.condition_seconds

    def poll_interval(self) -> float:
        return self.timeouts.poll_seconds

    # --- the cluster ------------------------------------------------------------------------------------

    async def cluster(self) -> HcpOpenShiftCluster:
        """The hosted cluster: the hub itself, or (for a child) its parent as stored now."""
        if isinstance(self.hub, HcpOpenShiftCluster):
            return self.hub
        codec: SealedCodec[HcpOpenShiftCluster] = self.env.codecs[CLUSTERS_CONTAINER]
        parent_key = self.hub.id.lower().rsplit("/", 2)[0]
        doc = await self.env.store.container(CLUSTERS_CONTAINER).get_by_key(parent_key, self.partition)
        if doc is None:
            raise CloudError(404, PARENT_NOT_FOUND, f"The cluster of {self.hub.id} no longer exists.")
        return codec.decode(doc)

    async def cluster_or_none(self) -> HcpOpenShiftCluster | None:
        try:
            return await self.cluster()
        except CloudError as e:
            if e.code == PARENT_NOT_FOUND:
                return None
            raise

    def endpoint(self, cluster: HcpOpenShiftCluster) -> ClusterEndpoint:
        return self.cloud.hosted_endpoint(cluster.properties.management_namespace)

    def hosted_api(self, cluster: HcpOpenShiftCluster) -> KubeAPI:
        return backend_api(self.cloud, cluster)

    def management(self) -> KubeAPI:
        return self.cloud.management_cluster()


def backend_api(cloud: Cloud, cluster: HcpOpenShiftCluster) -> KubeAPI:
    """The hosted cluster's API as the backend (a short-lived client certificate from the cluster's
    current client CA, so a revocation never locks the backend out)."""
    signer = cluster.properties.signer
    if signer is None:
        raise CloudError(500, "InternalServerError", "The cluster has no client CA yet.")
    cert = client_certificate(signer.ca_cert, signer.ca_key)
    return cloud.cluster_api(
        cloud.hosted_endpoint(cluster.properties.management_namespace), cert.cert_pem, cert.key_pem
    )


def wait(step_id: str, fn: Callable[[Any], Awaitable[bool]], message: str) -> Condition[Any]:
    """A condition step polled at the backend's interval until its timeout (``backend.condition*``)."""
    return Condition(
        step_id,
        fn,
        timeout=lambda c: float(c.condition_timeout()),
        interval=lambda c: float(c.poll_interval()),
        message=message,
    )


_certs: dict[tuple[str, str], pki.KeyPair] = {}


def client_certificate(ca_cert: str, ca_key: str, user: str = BACKEND_USER) -> pki.KeyPair:
    """A ``system:masters`` client certificate of ``user`` from a hosted cluster's client CA: the backend's
    (``BACKEND_USER``) and the SRE backplane's (``aro.hcp.access``). One per (CA, user), cached (at most 256;
    a day's validity, renewed at half); a revocation replaces the CA, hence the certificate."""
    cached = _certs.get((ca_cert, user))
    if cached is not None and _valid_for(cached, hours=12):
        return cached
    issued = pki.issue(
        pki.KeyPair(ca_cert, ca_key), user, organization="system:masters", server=False, client=True, days=1
    )
    if len(_certs) >= 256:
        _certs.pop(next(iter(_certs)))
    _certs[(ca_cert, user)] = issued
    return issued


def _valid_for(pair: pki.KeyPair, *, hours: int) -> bool:
    import datetime as dt

    return pair.cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > dt.timedelta(hours=hours)
