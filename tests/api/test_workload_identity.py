"""Workload identity (managed identity) clusters in api-version 2025-07-25: the role sets catalog and the
rules a request meets, in ARO-RP's codes, targets and words (its ``validatestatic``, the frontend's
``validatePlatformWorkloadIdentities``, the update policy), and what 2019-12-31-preview shows of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aro.api import rolesets
from aro.api.cluster import OpenShiftCluster
from aro.api.errors import CloudError
from aro.api.openshiftclusters import PLATFORM_WORKLOAD_IDENTITY_ROLE_SETS
from aro.api.registry import KINDS, default_catalogs
from aro.api.v20250725 import render_role_set
from tests.api.fixtures import CTX, OPERATORS, SUB, V2019, V2025, cli_body, expect_error, msi, provisioned, wi_body

IP, PCNA, MISMATCH = "InvalidParameter", "PropertyChangeNotAllowed", "PlatformWorkloadIdentityMismatch"
PWIP = "properties.platformWorkloadIdentityProfile"
PWI = f"{PWIP}.platformWorkloadIdentities"
SP = "properties.servicePrincipalProfile"
ALL = "[aro-operator cloud-controller-manager cloud-network-config disk-csi-driver file-csi-driver image-registry ingress machine-api]"  # noqa: E501


def identities(body: dict[str, Any]) -> dict[str, Any]:
    pwis: dict[str, Any] = body["properties"]["platformWorkloadIdentityProfile"]["platformWorkloadIdentities"]
    return pwis


def wi_cluster() -> OpenShiftCluster:
    return provisioned(V2025.put(wi_body(), None, CTX))


# --- the role sets catalog ---------------------------------------------------------------------------------


def test_shipped_role_sets_are_aro_rps() -> None:
    sets = rolesets.shipped()
    assert [s.name for s in sets] == ["4.16", "4.17", "4.18", "4.19", "4.20", "4.21"]
    for s in sets:
        roles = {r.operator_name: r for r in s.platform_workload_identity_roles}
        assert set(roles) == set(OPERATORS)
        assert roles["cloud-controller-manager"].role_definition_id == (
            "/providers/Microsoft.Authorization/roleDefinitions/a1f96423-95ce-4224-ab27-4e3dc72facd4"
        )
        assert roles["file-csi-driver"].service_accounts == [
            "system:serviceaccount:openshift-cluster-csi-drivers:azure-file-csi-driver-operator",
            "system:serviceaccount:openshift-cluster-csi-drivers:azure-file-csi-driver-controller-sa",
            "system:serviceaccount:openshift-cluster-csi-drivers:azure-file-csi-driver-node-sa",
        ]
        assert roles["aro-operator"].secret_location.model_dump() == {
            "namespace": "openshift-azure-operator",
            "name": "azure-cloud-credentials",
        }


def test_the_catalog_is_registered_and_rendered_as_aro_rp_does() -> None:
    assert PLATFORM_WORKLOAD_IDENTITY_ROLE_SETS in KINDS.catalogs
    entries = default_catalogs()[PLATFORM_WORKLOAD_IDENTITY_ROLE_SETS.name]
    assert [e.name for e in entries] == ["4.16", "4.17", "4.18", "4.19", "4.20", "4.21"]
    body = render_role_set(entries[2], "/ignored")
    # ARO-RP's documents carry no id; the type is its own; service accounts stay internal
    assert set(body) == {"name", "type", "properties"}
    assert body["name"] == "4.18" and body["type"] == "Microsoft.RedHatOpenShift/PlatformWorkloadIdentityRoleSet"
    assert body["properties"]["openShiftVersion"] == "4.18"
    roles = body["properties"]["platformWorkloadIdentityRoles"]
    assert roles[0] == {
        "operatorName": "cloud-controller-manager",
        "roleDefinitionName": "Azure Red Hat OpenShift Cloud Controller Manager",
        "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/a1f96423-95ce-4224-ab27-4e3dc72facd4",
    }
    assert "serviceAccounts" not in json.dumps(body)
    assert PLATFORM_WORKLOAD_IDENTITY_ROLE_SETS.missing_message("4.99", "2025-07-25") == (
        "The Resource platformWorkloadIdentityRoleSet with version '4.99' was not found in the namespace "
        "'Microsoft.RedHatOpenShift' for api version '2025-07-25'."
    )
    with pytest.raises(CloudError) as info:  # only 2025-07-25 serves the catalog
        PLATFORM_WORKLOAD_IDENTITY_ROLE_SETS.renderer("2019-12-31-preview")
    assert info.value.code == "InvalidResourceType"


def _write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "sets.json"
    path.write_text(json.dumps(doc))
    return path


def _role(operator: str = "ingress", sa: str = "system:serviceaccount:ns:sa") -> dict[str, Any]:
    return {
        "operatorName": operator,
        "roleDefinitionName": "Some Role",
        "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/0336e1d3-7a87-462b-b6db-342b63f7802c",
        "serviceAccounts": [sa],
    }


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({"versions": [{"openShiftVersion": "4.18", "roles": "nope"}]}, "unknown role group"),
        ({"versions": [{"openShiftVersion": "4.18.1", "roles": [_role()]}]}, "must be X.Y"),
        ({"versions": [{"openShiftVersion": "4.18", "roles": [_role()]}] * 2}, "listed twice"),
        ({"versions": [{"openShiftVersion": "4.18", "roles": [_role(), _role()]}]}, "operator is listed twice"),
        ({"versions": [{"openShiftVersion": "4.18", "roles": [_role(sa="sa")]}]}, "invalid service account"),
        ({"versions": [{"openShiftVersion": "4.18", "roles": []}]}, "roles"),
        ({"versions": [{"openShiftVersion": f"4.{i}", "roles": [_role()]} for i in range(101)]}, "at most"),
        ({"versions": {}}, "'versions' list"),
    ],
    ids=["group", "version", "version-twice", "operator-twice", "service-account", "no-roles", "bound", "shape"],
)
def test_a_bad_role_sets_file_is_refused(tmp_path: Path, doc: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        rolesets.load(_write(tmp_path, doc))


def test_roles_for_takes_the_upgradeable_minor_version_too() -> None:
    assert rolesets.roles_for("4.18.34", None).versions == "4.18"
    assert rolesets.roles_for("4.18.34", "4.19.2").versions == "4.18 or 4.19"
    assert rolesets.roles_for("4.18.34", "4.18.40").versions == "4.18"  # same minor
    assert rolesets.roles_for("4.18.34", "4.17.1").versions == "4.18"  # not later
    with pytest.raises(rolesets.MissingRoleSet) as info:
        rolesets.roles_for("4.18.34", "4.30.0")
    assert info.value.minor == "4.30"


def test_roles_of_two_minor_versions_are_merged_by_operator(tmp_path: Path) -> None:
    other = "/providers/Microsoft.Authorization/roleDefinitions/11111111-1111-1111-1111-111111111111"
    sets = rolesets.load(
        _write(
            tmp_path,
            {
                "versions": [
                    {"openShiftVersion": "4.18", "roles": [_role("ingress")]},
                    {"openShiftVersion": "4.19", "roles": [_role("ingress") | {"roleDefinitionId": other}]},
                ]
            },
        )
    )
    roles = rolesets.roles_for("4.18.1", "4.19.0", sets)
    assert [r.role_definition_id.rsplit("/", 1)[1][:8] for r in roles.by_operator["ingress"]] == [
        "0336e1d3",
        "11111111",
    ]
    assert roles.matches(["ingress"]) and not roles.matches(["ingress", "x"]) and not roles.matches([])


# --- create -------------------------------------------------------------------------------------------------


def test_a_workload_identity_cluster_is_created_and_rendered() -> None:
    oc = V2025.put(wi_body() | {"tags": {"a": "b"}}, None, CTX)
    assert oc.properties.service_principal_profile is None
    done = provisioned(oc)
    pwi = done.properties.platform_workload_identity_profile
    assert pwi is not None and done.identity is not None
    pwi.platform_workload_identities["ingress"].client_id = "client-1"
    pwi.platform_workload_identities["ingress"].object_id = "object-1"
    pwi.upgradeable_to = "4.19.2"
    done.identity.tenant_id = "tenant-1"
    done.identity.user_assigned_identities[msi("cluster")].principal_id = "principal-c"
    done.identity.user_assigned_identities[msi("cluster")].client_id = "client-c"
    ext = V2025.to_external(done)
    assert ext["identity"] == {
        "type": "UserAssigned",
        "tenantId": "tenant-1",
        "userAssignedIdentities": {msi("cluster"): {"principalId": "principal-c", "clientId": "client-c"}},
    }
    profile = ext["properties"]["platformWorkloadIdentityProfile"]
    assert profile["upgradeableTo"] == "4.19.2"
    assert profile["platformWorkloadIdentities"]["ingress"] == {
        "resourceId": msi("ingress"),
        "clientId": "client-1",
        "objectId": "object-1",
    }
    assert "servicePrincipalProfile" not in ext["properties"]
    assert ext["properties"]["clusterProfile"]["oidcIssuer"] == "https://oidc.example.com/issuer"


def test_2019_12_31_preview_does_not_show_identities() -> None:
    ext = V2019.to_external(wi_cluster())
    text = json.dumps(ext)
    assert "identity" not in ext and "platformWorkloadIdentity" not in text and "servicePrincipal" not in text
    assert "oidcIssuer" not in text


def _missing(op: str) -> Any:
    def change(body: dict[str, Any]) -> None:
        del identities(body)[op]

    return change


def _extra(body: dict[str, Any]) -> None:
    identities(body)["kms"] = {"resourceId": msi("kms")}


def test_identities_must_match_the_role_set() -> None:
    for change in (_missing("machine-api"), _extra):
        body = wi_body()
        change(body)
        err = expect_error(
            lambda b=body: V2025.put(b, None, CTX),
            MISMATCH,
            "properties.PlatformWorkloadIdentityProfile.PlatformWorkloadIdentities",
        )  # type: ignore[misc]
        assert err.message == (
            "There's a mismatch between the required and expected set of platform workload identities for the "
            f"requested OpenShift minor version '4.18'. The required platform workload identities are '{ALL}'"
        )
    body = wi_body()
    body["properties"]["platformWorkloadIdentityProfile"]["upgradeableTo"] = "4.19.1"
    del identities(body)["ingress"]
    err = expect_error(
        lambda: V2025.put(body, None, CTX),
        MISMATCH,
        "properties.PlatformWorkloadIdentityProfile.PlatformWorkloadIdentities",
    )
    assert "minor version '4.18 or 4.19'" in err.message


def test_a_minor_version_without_a_role_set_is_refused() -> None:
    body = wi_body()
    body["properties"]["platformWorkloadIdentityProfile"]["upgradeableTo"] = "4.30.1"
    err = expect_error(lambda: V2025.put(body, None, CTX), IP, None)
    assert err.message == (
        "No PlatformWorkloadIdentityRoleSet found for the requested or upgradeable OpenShift minor version '4.30'. "
        "Please retry with different OpenShift version, and if the issue persists, raise an Azure support ticket"
    )


def _sp(body: dict[str, Any]) -> None:
    body["properties"]["servicePrincipalProfile"] = {"clientId": "c", "clientSecret": "s"}


def _no_pwi(body: dict[str, Any]) -> None:
    del body["properties"]["platformWorkloadIdentityProfile"]


def _sp_with_identity(body: dict[str, Any]) -> None:
    _no_pwi(body)
    _sp(body)


def _duplicate(body: dict[str, Any]) -> None:
    identities(body)["ingress"]["resourceId"] = msi("ARO-OPERATOR")


def _not_an_identity(body: dict[str, Any]) -> None:
    identities(body)["ingress"]["resourceId"] = (
        f"/subscriptions/{SUB}/resourceGroups/r/providers/Microsoft.Compute/disks/d"
    )


@pytest.mark.parametrize(
    ("change", "target", "message"),
    [
        (_sp, SP, "Cannot use identities and service principal credentials at the same time."),
        (_no_pwi, SP, "Must provide either an identity or service principal credentials."),
        (_sp_with_identity, "identity", "Cluster identity and platform workload identities require each other."),
        (
            lambda b: b["identity"]["userAssignedIdentities"].update({msi("other"): {}}),
            "identity",
            "The provided cluster identity is invalid; there should be exactly one.",
        ),
        (
            lambda b: b["properties"]["platformWorkloadIdentityProfile"].update(platformWorkloadIdentities={}),
            PWI,
            "The set of platform workload identities cannot be empty.",
        ),
        (
            _duplicate,
            f"{PWIP}.PlatformWorkloadIdentities",
            f"ResourceID {msi('aro-operator').lower()} used by multiple identities.",
        ),
        (
            _not_an_identity,
            f"{PWIP}.PlatformWorkloadIdentities[ingress].resourceID",
            "Resource must be a user assigned identity.",
        ),
        (
            lambda b: b["properties"]["platformWorkloadIdentityProfile"].update(upgradeableTo="4.19"),
            f"{PWIP}.UpgradeableTo[4.19]",
            "UpgradeableTo must be a valid OpenShift version in the format 'x.y.z'.",
        ),
    ],
    ids=[
        "sp-and-wi",
        "neither",
        "sp-with-identity",
        "two-cluster-identities",
        "empty",
        "duplicate",
        "not-identity",
        "upgradeable",
    ],
)
def test_static_rules_in_aro_rps_words(change: Any, target: str, message: str) -> None:
    body = wi_body()
    change(body)
    err = expect_error(lambda: V2025.put(body, None, CTX), IP, target)
    assert err.message == message


# --- update ---------------------------------------------------------------------------------------------


def test_a_patch_naming_a_cluster_identity_replaces_it() -> None:
    """``az aro update --assign-cluster-identity``: ARO-RP swaps the identity (a merge would keep both)."""
    current = wi_cluster()
    new = V2025.patch({"identity": {"type": "UserAssigned", "userAssignedIdentities": {msi("c2"): {}}}}, current, CTX)
    assert new.identity is not None and list(new.identity.user_assigned_identities) == [msi("c2")]
    unchanged = V2025.patch({"tags": {"x": "y"}}, current, CTX)
    assert unchanged.identity is not None and list(unchanged.identity.user_assigned_identities) == [msi("cluster")]


def test_an_operator_identity_may_be_replaced_but_not_removed() -> None:
    current = wi_cluster()
    current_pwi = current.properties.platform_workload_identity_profile
    assert current_pwi is not None
    current_pwi.platform_workload_identities["ingress"].client_id = "old-client"
    body = {
        "properties": {
            "platformWorkloadIdentityProfile": {
                "platformWorkloadIdentities": {"ingress": {"resourceId": msi("ingress2")}}
            }
        }
    }
    new = V2025.patch(body, current, CTX)
    pwi = new.properties.platform_workload_identity_profile
    assert pwi is not None
    assert pwi.platform_workload_identities["ingress"].resource_id == msi("ingress2")
    assert pwi.platform_workload_identities["ingress"].client_id is None  # resolved again by the backend
    gone = {"properties": {"platformWorkloadIdentityProfile": {"platformWorkloadIdentities": {"ingress": None}}}}
    err = expect_error(lambda: V2025.patch(gone, current, CTX), PCNA, PWI)
    assert err.message == "Operator identity cannot be removed or have its name changed."


def test_identity_type_is_immutable() -> None:
    err = expect_error(
        lambda: V2025.patch({"identity": {"type": "SystemAssigned"}}, wi_cluster(), CTX), PCNA, "identity.type"
    )
    assert err.message == "Changing property 'identity.type' is not allowed."


def test_a_put_replace_must_restate_the_identities() -> None:
    current = wi_cluster()
    V2025.put(wi_body(), current, CTX)  # the same request again: fine
    body = wi_body()
    _no_pwi(body)
    expect_error(lambda: V2025.put(body, current, CTX), PCNA, PWIP)
    del body["identity"]
    expect_error(lambda: V2025.put(body, current, CTX), PCNA, "identity")


def test_a_patch_adding_identities_to_a_service_principal_cluster_is_refused() -> None:
    sp_cluster = provisioned(V2025.put(cli_body(), None, CTX))
    body = {
        "identity": wi_body()["identity"],
        "properties": {"platformWorkloadIdentityProfile": wi_body()["properties"]["platformWorkloadIdentityProfile"]},
    }
    with pytest.raises(CloudError) as info:
        V2025.patch(body, sp_cluster, CTX)
    assert info.value.status == 400
