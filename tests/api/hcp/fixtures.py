"""Hosted-cluster request bodies built with the SDK's own models (``azure-mgmt-redhatopenshifthcp``),
serialized as the SDK sends them (``SdkJSONEncoder(exclude_readonly=True)``), and the contexts the rules
see."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from azure.mgmt.redhatopenshifthcp import models as sdk
from azure.mgmt.redhatopenshifthcp._utils.model_base import SdkJSONEncoder

from aro.api.errors import CloudError
from aro.api.hcp.catalog import HcpVersion
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcp.common import ActiveVersion
from aro.api.hcp.externalauth import ExternalAuth
from aro.api.hcp.nodepool import NodePool
from aro.api.hcp.v20261001 import CLUSTER, EXTERNAL_AUTH, NODE_POOL
from aro.api.hcp.versioning import EXPERIMENTAL_RELEASE_FEATURES
from aro.api.resource import ProvisioningState
from aro.api.version import ResourceAPI, ValidationContext

SUB = "11111111-2222-3333-4444-555555555555"
OTHER_SUB = "99999999-2222-3333-4444-555555555555"
RG = "myRG"
NAME = "mycluster"
PROVIDER = "Microsoft.RedHatOpenShift"
CLUSTER_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/{PROVIDER}/hcpOpenShiftClusters/{NAME}"
CONTROL_PLANE = (
    "cluster-api-azure",
    "control-plane",
    "cloud-controller-manager",
    "ingress",
    "disk-csi-driver",
    "file-csi-driver",
    "image-registry",
    "cloud-network-config",
)
DATA_PLANE = ("disk-csi-driver", "file-csi-driver", "image-registry")

CLUSTERS: ResourceAPI[HcpOpenShiftCluster] = CLUSTER.resource
NODE_POOLS: ResourceAPI[NodePool] = NODE_POOL.resource
EXTERNAL_AUTHS: ResourceAPI[ExternalAuth] = EXTERNAL_AUTH.resource
Body = dict[str, Any]


def _versions() -> list[HcpVersion]:
    future, past = "2099-01-01T00:00:00Z", "2020-01-01T00:00:00Z"
    out = []
    for channel in ("stable", "fast"):
        for name in ("4.20.5", "4.20.8", "4.20.9", "4.20.12", "4.21.0", "4.21.3", "4.22.0", "4.22.2"):
            out.append(HcpVersion(name=name, channel_group=channel, end_of_life_timestamp=future))
        out.append(HcpVersion(name="4.23.1", channel_group=channel, end_of_life_timestamp=past))  # past end of life
    out.append(HcpVersion(name="4.21.5", channel_group="stable", enabled=False, end_of_life_timestamp=future))
    out.append(HcpVersion(name="4.23.0-rc.2", channel_group="candidate", end_of_life_timestamp=future))
    out.append(HcpVersion(name="5.0.0", channel_group="stable", end_of_life_timestamp=future))
    return out


CATALOG = _versions()


def cluster_ctx(**changes: Any) -> ValidationContext:
    ctx = ValidationContext(
        resource_id=CLUSTER_ID,
        subscription_id=SUB,
        resource_group=RG,
        name=NAME,
        location="eastus",
        resource_type=f"{PROVIDER}/hcpOpenShiftClusters",
        catalog=CATALOG,
    )
    return dataclasses.replace(ctx, **changes)


AFEC = frozenset({EXPERIMENTAL_RELEASE_FEATURES})


def uami(name: str, sub: str = SUB, rg: str = "ids") -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"


def subnet(name: str, vnet: str = "vnet", rg: str = "net", sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{name}"


def nsg(name: str = "nsg", rg: str = "net", sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups/{name}"


def wire(model: Any) -> Body:
    """What the SDK puts on the wire for ``model`` (read-only fields stripped)."""
    out: Body = json.loads(json.dumps(model, cls=SdkJSONEncoder, exclude_readonly=True))
    return out


def cluster_model() -> sdk.HcpOpenShiftCluster:
    """A complete public cluster as a customer writes it with the SDK."""
    return sdk.HcpOpenShiftCluster(
        location="eastus",
        tags={"env": "test"},
        identity=sdk.ManagedServiceIdentity(
            type="UserAssigned",
            user_assigned_identities={uami(n): sdk.UserAssignedIdentity() for n in (*CONTROL_PLANE, "service")},
        ),
        properties=sdk.HcpOpenShiftClusterProperties(
            version=sdk.VersionProfile(id="4.20", channel_group="stable"),
            dns=sdk.DnsProfile(base_domain_prefix="mycluster"),
            network=sdk.NetworkProfile(
                network_type="OVNKubernetes",
                pod_cidr="10.128.0.0/14",
                service_cidr="172.30.0.0/16",
                machine_cidr="10.0.0.0/16",
                host_prefix=23,
            ),
            api=sdk.ApiProfile(visibility="Public", authorized_cid_rs=["203.0.113.0/24", "198.51.100.7"]),
            ingress=sdk.IngressProfile(type="Public"),
            platform=sdk.PlatformProfile(
                subnet_id=subnet("workers"),
                vnet_integration_subnet_id=subnet("integration"),
                network_security_group_id=nsg(),
                outbound_type="LoadBalancer",
                operators_authentication=sdk.OperatorsAuthenticationProfile(
                    user_assigned_identities=sdk.UserAssignedIdentitiesProfile(
                        control_plane_operators={n: uami(n) for n in CONTROL_PLANE},
                        data_plane_operators={n: uami(f"dp-{n}") for n in DATA_PLANE},
                        service_managed_identity=uami("service"),
                    )
                ),
            ),
            autoscaling=sdk.ClusterAutoscalingProfile(max_nodes_total=100),
            node_drain_timeout_minutes=30,
            cluster_image_registry=sdk.ClusterImageRegistryProfile(state="Enabled"),
            crypto_restrictions="None",
        ),
    )


def cluster_body() -> Body:
    return wire(cluster_model())


def minimal_cluster_body() -> Body:
    """Only what a cluster must have: everything else defaults."""
    model = sdk.HcpOpenShiftCluster(
        location="eastus",
        identity=sdk.ManagedServiceIdentity(
            type="UserAssigned", user_assigned_identities={uami("cp"): sdk.UserAssignedIdentity()}
        ),
        properties=sdk.HcpOpenShiftClusterProperties(
            version=sdk.VersionProfile(id="4.21"),
            platform=sdk.PlatformProfile(
                subnet_id=subnet("workers"),
                network_security_group_id=nsg(),
                operators_authentication=sdk.OperatorsAuthenticationProfile(
                    user_assigned_identities=sdk.UserAssignedIdentitiesProfile(
                        control_plane_operators={"control-plane": uami("cp")}, data_plane_operators={}
                    )
                ),
            ),
        ),
    )
    return wire(model)


def created_cluster(body: Body | None = None, ctx: ValidationContext | None = None) -> HcpOpenShiftCluster:
    oc = CLUSTERS.put(cluster_body() if body is None else body, None, ctx or cluster_ctx())
    oc.properties.provisioning_state = ProvisioningState.SUCCEEDED
    oc.properties.status.active_versions = [ActiveVersion(version=oc.properties.version.id)]
    return oc


NODE_POOL_ID = f"{CLUSTER_ID}/nodePools/workers"
EXTERNAL_AUTH_ID = f"{CLUSTER_ID}/externalAuths/entra"


def node_pool_ctx(parent: HcpOpenShiftCluster | None = None, **changes: Any) -> ValidationContext:
    ctx = cluster_ctx(
        resource_id=NODE_POOL_ID,
        name="workers",
        resource_type=f"{PROVIDER}/hcpOpenShiftClusters/nodePools",
        parent=parent if parent is not None else created_cluster(),
    )
    return dataclasses.replace(ctx, **changes)


def node_pool_model() -> sdk.NodePool:
    return sdk.NodePool(
        location="eastus",
        tags={"pool": "workers"},
        properties=sdk.NodePoolProperties(
            version=sdk.NodePoolVersionProfile(id="4.20.8", channel_group="stable"),
            platform=sdk.NodePoolPlatformProfile(
                vm_size="Standard_D8s_v3",
                os_disk=sdk.OsDiskProfile(size_gi_b=128, disk_storage_account_type="Premium_LRS", disk_type="Managed"),
            ),
            replicas=3,
            labels=[sdk.Label(key="team", value="payments")],
            taints=[sdk.Taint(key="dedicated", value="payments", effect="NoSchedule")],
            node_drain_timeout_minutes=15,
        ),
    )


def node_pool_body() -> Body:
    return wire(node_pool_model())


def external_auth_ctx(**changes: Any) -> ValidationContext:
    ctx = cluster_ctx(
        resource_id=EXTERNAL_AUTH_ID,
        name="entra",
        resource_type=f"{PROVIDER}/hcpOpenShiftClusters/externalAuths",
        parent=created_cluster(),
    )
    return dataclasses.replace(ctx, **changes)


def external_auth_model() -> sdk.ExternalAuth:
    return sdk.ExternalAuth(
        properties=sdk.ExternalAuthProperties(
            issuer=sdk.TokenIssuerProfile(
                url="https://login.microsoftonline.com/tenant/v2.0", audiences=["console-app", "cli-app"]
            ),
            clients=[
                sdk.ExternalAuthClientProfile(
                    component=sdk.ExternalAuthClientComponentProfile(
                        name="console", auth_client_namespace="openshift-console"
                    ),
                    client_id="console-app",
                    type="Confidential",
                ),
                sdk.ExternalAuthClientProfile(
                    component=sdk.ExternalAuthClientComponentProfile(name="cli", auth_client_namespace="openshift-cli"),
                    client_id="cli-app",
                    extra_scopes=["email"],
                    type="Public",
                ),
            ],
            claim=sdk.ExternalAuthClaimProfile(
                mappings=sdk.TokenClaimMappingsProfile(
                    username=sdk.UsernameClaimProfile(claim="email"),
                    groups=sdk.GroupClaimProfile(claim="groups"),
                ),
                validation_rules=[
                    sdk.TokenClaimValidationRule(
                        required_claim=sdk.TokenRequiredClaim(claim="tid", required_value="tenant")
                    )
                ],
            ),
        )
    )


def external_auth_body() -> Body:
    return wire(external_auth_model())


# --- editing bodies and checking errors ------------------------------------------------------------------

DELETE = object()


def setp(body: Body, path: str, value: Any) -> Body:
    """``body`` with ``path`` (dotted; digits index lists) set, or removed with ``DELETE``."""
    *parents, last = path.split(".")
    node: Any = body
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    if value is DELETE:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = copy.deepcopy(value)
    return body


def edited(base: Callable[[], Body], *changes: tuple[str, Any]) -> Body:
    body = base()
    for path, value in changes:
        setp(body, path, value)
    return body


def expect_error(call: Callable[[], Any], code: str, target: str | None) -> CloudError:
    with pytest.raises(CloudError) as info:
        call()
    err = info.value
    assert (err.status, err.code, err.target) == (400, code, target), err.body()
    return err


def targets(err: CloudError) -> list[str | None]:
    return [d.target for d in err.details] if err.details else [err.target]


def contains(big: Any, small: Any, path: str = "") -> None:
    """Every member of ``small`` is in ``big`` with the same value (lists element by element)."""
    if isinstance(small, dict):
        assert isinstance(big, dict), path
        for k, v in small.items():
            assert k in big, f"{path}.{k} missing"
            contains(big[k], v, f"{path}.{k}")
    elif isinstance(small, list):
        assert isinstance(big, list) and len(big) == len(small), path
        for i, (b, s) in enumerate(zip(big, small, strict=True)):
            contains(b, s, f"{path}[{i}]")
    else:
        assert big == small, f"{path}: {big!r} != {small!r}"
