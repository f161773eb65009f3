"""Converters of every version: secrets never rendered, input never mutated, round trips keep data."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from aro.api import v20191231preview, v20250725
from aro.api.cluster import OpenShiftCluster
from aro.api.external import ExternalModel
from aro.api.resource import ProvisioningState
from tests.api.fixtures import (
    PULL_SECRET,
    SECRETS,
    V2019,
    V2025,
    ClusterAPI,
    b64,
    created,
    wi_body,
)

Render = Callable[[OpenShiftCluster, bool], dict[str, Any]]
ToInternal = Callable[[Any, OpenShiftCluster], None]

CONVERTERS: list[tuple[str, ClusterAPI, Render, ToInternal, type[ExternalModel]]] = [
    ("2025-07-25", V2025, v20250725.convert.render, v20250725.convert.to_internal, v20250725.models.OpenShiftCluster),
    (
        "2019-12-31-preview",
        V2019,
        v20191231preview.convert.render,
        v20191231preview.convert.to_internal,
        v20191231preview.models.OpenShiftCluster,
    ),
]
FORBIDDEN_KEYS = {
    "pullSecret", "clientSecret", "kubeadminPassword", "adminKubeconfig", "infraId", "storageSuffix",
    "install", "lastProvisioningState", "failedProvisioningState", "lastError", "clusterPki",
}  # fmt: skip


def clusters() -> list[OpenShiftCluster]:
    sp = created()
    sp.properties.failed_provisioning_state = ProvisioningState.CREATING
    sp.properties.last_error = {"code": "X", "message": "boom"}
    lenient = created(V2019, {"location": "eastus", "properties": {"pullSecret": b64(PULL_SECRET)}})
    return [sp, created(body=wi_body()), lenient]


def walk(value: Any) -> list[tuple[str, Any]]:
    """Every (key, value) pair in a JSON document."""
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((k, v))
            out.extend(walk(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(walk(v))
    return out


@pytest.mark.parametrize("conv", CONVERTERS, ids=[c[0] for c in CONVERTERS])
@pytest.mark.parametrize("index", [0, 1, 2], ids=["sp", "workload-identity", "lenient"])
def test_to_external_never_renders_secrets_or_backend_fields(conv: Any, index: int) -> None:
    api: ClusterAPI = conv[1]
    oc = clusters()[index]
    ext = api.to_external(oc)
    text = json.dumps(ext)
    assert not [s for s in SECRETS if s in text]
    assert not FORBIDDEN_KEYS & {k for k, _ in walk(ext)}
    assert set(ext) <= {"id", "name", "type", "location", "tags", "systemData", "identity", "properties"}
    assert ext["properties"]["provisioningState"] == "Succeeded"


@pytest.mark.parametrize("conv", CONVERTERS, ids=[c[0] for c in CONVERTERS])
def test_to_external_drops_zero_values_and_does_not_mutate(conv: Any) -> None:
    api: ClusterAPI = conv[1]
    for oc in clusters():
        before = oc.dump()
        ext = api.to_external(oc)
        assert oc.dump() == before
        assert not [k for k, v in walk(ext) if v is None or v == ""]
        ext["properties"]["workerProfiles"][0]["count"] = 99  # the result shares nothing with the input
        assert oc.dump() == before


@pytest.mark.parametrize("conv", CONVERTERS, ids=[c[0] for c in CONVERTERS])
def test_to_internal_of_to_external_keeps_data(conv: Any) -> None:
    _, _, render, to_internal, model = conv
    for oc in clusters():
        full = render(oc, True)
        # onto a copy of the cluster: nothing changes, backend and read-only fields survive
        copy = oc.copy_deep()
        to_internal(model.model_validate(full), copy)
        assert copy.dump() == oc.dump()
        # onto an empty cluster: every field the version maps comes back
        fresh = OpenShiftCluster(id=oc.id, name=oc.name, type=oc.type, location=oc.location)
        fresh.tags = dict(oc.tags)
        to_internal(model.model_validate(full), fresh)
        read_only = {"consoleProfile", "workerProfilesStatus", "oidcIssuer", "url", "ip", "systemData",
                     "effectiveOutboundIps", "principalId", "tenantId", "clientId", "objectId"}  # fmt: skip
        again = render(fresh, True)
        assert _without(again, read_only) == _without(full, read_only)


def _without(value: Any, keys: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys and v not in (None, "")}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


def test_2025_renders_identity_and_read_only_fields() -> None:
    oc = created(body=wi_body())
    assert oc.identity is not None
    uai = next(iter(oc.identity.user_assigned_identities.values()))
    uai.principal_id, uai.client_id = "p-id", "c-id"
    oc.identity.principal_id, oc.identity.tenant_id = "p", "t"
    ext = V2025.to_external(oc)
    assert ext["identity"]["principalId"] == "p" and ext["identity"]["tenantId"] == "t"
    assert list(ext["identity"]["userAssignedIdentities"].values()) == [{"principalId": "p-id", "clientId": "c-id"}]
    props = ext["properties"]
    assert props["consoleProfile"]["url"].startswith("https://console")
    assert props["apiserverProfile"] == {"visibility": "Public", "url": oc.properties.apiserver_profile.url,
                                         "ip": "20.1.2.3"}  # fmt: skip
    assert props["ingressProfiles"] == [{"name": "default", "visibility": "Public", "ip": "20.1.2.4"}]
    assert len(props["workerProfilesStatus"]) == 3
    assert props["clusterProfile"]["oidcIssuer"] == "https://oidc.example.com/issuer"
    assert props["networkProfile"]["loadBalancerProfile"]["effectiveOutboundIps"] == [
        {"id": "/subscriptions/x/publicIPAddresses/ip1"}
    ]
    assert ext["systemData"]["createdBy"] == "me@example.com"
    assert "clientId" not in json.dumps(props["platformWorkloadIdentityProfile"])


def test_2025_json_names_follow_the_rest_spec() -> None:
    ext = V2025.to_external(created())
    p = ext["properties"]
    assert {"clusterProfile", "consoleProfile", "servicePrincipalProfile", "networkProfile", "masterProfile",
            "workerProfiles", "workerProfilesStatus", "apiserverProfile", "ingressProfiles"} <= set(p)  # fmt: skip
    assert "diskSizeGB" in p["workerProfiles"][0]
    assert {"podCidr", "serviceCidr", "outboundType", "preconfiguredNSG", "loadBalancerProfile"} == set(
        p["networkProfile"]
    )
    assert "managedOutboundIps" in p["networkProfile"]["loadBalancerProfile"]
    schema = json.dumps(v20250725.models.OpenShiftCluster.model_json_schema(by_alias=True))
    for name in ("diskSizeGB", "preconfiguredNSG", "podCidr", "apiserverProfile", "managedOutboundIps",
                 "effectiveOutboundIps", "platformWorkloadIdentities", "userAssignedIdentities", "systemData",
                 "fipsValidatedModules", "upgradeableTo", "encryptionAtHost", "diskEncryptionSetId"):  # fmt: skip
        assert f'"{name}"' in schema, name
