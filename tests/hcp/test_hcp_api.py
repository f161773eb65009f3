"""ARO-HCP's rules through a real `aro rp`, where they need the store or the process: name patterns,
the uniqueness claims (managed resource group, subnet, NSG; one external auth per cluster), the LRO codes
and headers of every request, and -- with the backend stopped, so an operation stays in flight -- the
409s of §A4 (a credential request or revocation during a revocation, with Retry-After; an operation
while non-terminal). A refused request changes nothing in the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RPProcess
from tests.frontend.helpers import Arm, error_of, new_sub
from tests.hcp.helpers import PROVIDER, cluster_model, network_ids, new_key_and_csr, node_pool_model

V = "2026-10-01"
RG = "rules-rg"


def cluster_path(sub: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/{PROVIDER}/hcpOpenShiftClusters/{name}"


def body(sub: str, name: str, **platform: Any) -> dict[str, Any]:
    return dict(cluster_model(sub, RG, name, managed_resource_group=f"mrg-{name}", **platform).as_dict())


def create(arm: Arm, sub: str, name: str, **platform: Any) -> dict[str, Any]:
    r = arm.put(cluster_path(sub, name), body(sub, name, **platform), version=V)
    assert r.status_code == 201, r.text
    return arm.wait(cluster_path(sub, name), {"Succeeded"}, version=V)


def refused(arm: Arm, sub: str, method: str, path: str, payload: Any, status: int, code: str) -> dict[str, Any]:
    before = arm.rows(sub)
    r = arm.request(method, path, version=V, json=payload)
    assert r.status_code == status, r.text
    err = error_of(r)
    assert err["code"] == code, err
    assert arm.rows(sub) == before, "a refused request changed the store"
    return err


def test_names_follow_aro_hcp_patterns(arm: Arm) -> None:
    sub = new_sub()
    arm.register(sub)
    err = refused(arm, sub, "PUT", cluster_path(sub, "a" * 55), body(sub, "a" * 55), 400, "InvalidResourceName")
    assert "1-54" in err["message"]
    refused(arm, sub, "PUT", cluster_path(sub, "1abc"), body(sub, "1abc"), 400, "InvalidResourceName")
    create(arm, sub, "c" + "x" * 53)  # 54 characters: fine
    long_pool = cluster_path(sub, "c" + "x" * 53) + "/nodePools/" + "p" * 16
    refused(arm, sub, "PUT", long_pool, node_pool_model().as_dict(), 400, "InvalidResourceName")


def test_managed_resource_group_subnet_and_nsg_are_unique_in_the_subscription(arm: Arm) -> None:
    sub = new_sub()
    create(arm, sub, "first")
    taken = body(sub, "first")["properties"]["platform"]
    # the same managed resource group
    dup = body(sub, "second")
    dup["properties"]["platform"]["managedResourceGroup"] = "mrg-first"
    err = refused(arm, sub, "PUT", cluster_path(sub, "second"), dup, 400, "InvalidRequestContent")
    assert err["target"] == "properties.platform.managedResourceGroup"
    # the same subnet (in another case), then the same NSG
    dup = body(sub, "second", subnet_id=taken["subnetId"].upper())
    err = refused(arm, sub, "PUT", cluster_path(sub, "second"), dup, 400, "InvalidRequestContent")
    assert err["target"] == "properties.platform.subnetId"
    dup = body(sub, "second", nsg_id=taken["networkSecurityGroupId"])
    err = refused(arm, sub, "PUT", cluster_path(sub, "second"), dup, 400, "InvalidRequestContent")
    assert err["target"] == "properties.platform.networkSecurityGroupId"
    # a node pool may not use another cluster's subnet; its own cluster's is fine
    create(arm, sub, "second")
    other = node_pool_model().as_dict()
    other["properties"]["platform"]["subnetId"] = taken["subnetId"]
    err = refused(arm, sub, "PUT", cluster_path(sub, "second") + "/nodePools/np", other, 400, "InvalidRequestContent")
    assert err["target"] == "properties.platform.subnetId"
    # once the first cluster is deleted, its values are free again
    r = arm.delete(cluster_path(sub, "first"), version=V)
    assert r.status_code == 202, r.text
    arm.wait(cluster_path(sub, "first"), {"gone"}, version=V)
    assert arm.put(cluster_path(sub, "third"), body(sub, "first"), version=V).status_code == 201


def test_two_racing_creates_of_one_managed_resource_group_have_one_winner(arm: Arm) -> None:
    from concurrent.futures import ThreadPoolExecutor

    sub = new_sub()
    arm.register(sub)

    def put(name: str) -> int:
        b = body(sub, name)
        b["properties"]["platform"]["managedResourceGroup"] = "mrg-shared"
        return arm.put(cluster_path(sub, name), b, version=V).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(put, [f"race{i}" for i in range(8)]))
    assert sorted(codes) == [201] + [400] * 7, codes


def test_one_external_auth_per_cluster(arm: Arm) -> None:
    sub = new_sub()
    create(arm, sub, "auth")
    ea = {
        "properties": {
            "issuer": {"url": "https://issuer.example.com", "audiences": ["console"]},
            "clients": [
                {
                    "component": {"name": "console", "authClientNamespace": "openshift-console"},
                    "clientId": "console",
                    "type": "Confidential",
                }
            ],
            "claim": {"mappings": {"username": {"claim": "email"}}},
        }
    }
    first = cluster_path(sub, "auth") + "/externalAuths/one"
    assert arm.put(first, ea, version=V).status_code == 201
    arm.wait(first, {"Succeeded"}, version=V)
    refused(arm, sub, "PUT", cluster_path(sub, "auth") + "/externalAuths/two", ea, 400, "InvalidRequestContent")
    assert arm.put(first, ea, version=V).status_code == 200  # replacing the one is fine


def test_lro_codes_and_headers_are_aro_hcps(arm: Arm) -> None:
    sub = new_sub()
    path = cluster_path(sub, "codes")
    r = arm.put(path, body(sub, "codes"), version=V)
    assert r.status_code == 201 and "azure-asyncoperation" in r.headers and "location" not in r.headers
    assert "/hcpOperationStatuses/" in r.headers["azure-asyncoperation"]
    arm.wait(path, {"Succeeded"}, version=V)
    r = arm.put(path, body(sub, "codes"), version=V)
    assert r.status_code == 200 and "azure-asyncoperation" in r.headers, r.text
    arm.wait(path, {"Succeeded"}, version=V)
    r = arm.patch(path, {"tags": {"a": "b"}}, version=V)
    assert r.status_code == 202 and "/hcpOperationResults/" in r.headers["location"], r.text
    assert "/hcpOperationStatuses/" in r.headers["azure-asyncoperation"]
    arm.wait_operation(r.headers["azure-asyncoperation"])
    assert arm.absolute(r.headers["location"]).status_code == 200  # the final body
    _key, csr = new_key_and_csr()
    r = arm.post(path + "/requestAdminCredential", json={"certificateSigningRequest": csr}, version=V)
    assert r.status_code == 202 and r.headers["location"] and r.headers["azure-asyncoperation"], r.text
    arm.wait_operation(r.headers["azure-asyncoperation"])
    result = arm.absolute(r.headers["location"])
    assert result.status_code == 200 and set(result.json()) == {"kubeconfig", "expirationTimestamp"}, result.text
    assert "client-key-data" not in result.json()["kubeconfig"]
    r = arm.post(path + "/revokeCredentials", version=V)
    assert r.status_code == 202, r.text
    arm.wait_operation(r.headers["azure-asyncoperation"])
    assert arm.absolute(r.headers["location"]).status_code == 204
    # the credential's result is gone with the revocation (its kubeconfig was deleted)
    r = arm.delete(path, version=V)
    assert r.status_code == 202 and r.headers["location"] and r.headers["azure-asyncoperation"]
    arm.wait_operation(r.headers["azure-asyncoperation"])
    assert arm.absolute(r.headers["location"]).status_code == 204
    assert arm.delete(path, version=V).status_code == 204


def test_bad_csrs_are_refused(arm: Arm) -> None:
    sub = new_sub()
    path = cluster_path(sub, "csr")
    create(arm, sub, "csr")
    for payload in (
        None,
        {},
        {"certificateSigningRequest": "not a csr"},
        {"certificateSigningRequest": new_key_and_csr(cn="someone")[1]},
        {"certificateSigningRequest": new_key_and_csr(orgs=("system:masters", "other"))[1]},
    ):
        refused(arm, sub, "POST", path + "/requestAdminCredential", payload, 400, "InvalidRequestContent")


# --- with the backend stopped: operations stay in flight ----------------------------------------------


@pytest.fixture
def frontend_only(rp_factory: Any, tmp_path: Path) -> Iterator[tuple[RPProcess, Any]]:
    """An `aro rp` that created a cluster, replaced by `aro frontend` on the same data directory: what the
    frontend accepts now stays in flight."""
    data = tmp_path / "data"
    rp = rp_factory("rp", data_dir=data)
    yield rp, lambda: rp_factory("frontend", data_dir=data)


def test_credential_requests_during_a_revocation_are_409_with_retry_after(
    frontend_only: tuple[RPProcess, Any],
) -> None:
    rp, frontend = frontend_only
    sub = new_sub()
    with Arm(rp) as arm:
        create(arm, sub, "rev")
    rp.stop()
    fe = frontend()
    path = cluster_path(sub, "rev")
    with Arm(fe) as arm:
        r = arm.post(path + "/revokeCredentials", version=V)
        assert r.status_code == 202, r.text
        assert arm.absolute(r.headers["location"]).status_code == 202  # running: 202 again, with Location
        _key, csr = new_key_and_csr()
        for action, payload, message in (
            ("requestAdminCredential", {"certificateSigningRequest": csr}, "while credentials are being revoked"),
            ("revokeCredentials", None, "already being revoked"),
        ):
            before = arm.rows(sub)
            r = arm.post(f"{path}/{action}", json=payload, version=V)
            assert r.status_code == 409 and r.headers.get("retry-after") == "10", r.text
            assert message in error_of(r)["message"] and error_of(r)["code"] == "Conflict"
            assert arm.rows(sub) == before
        # any other write while the revocation runs: 409; a delete is accepted
        err = refused(arm, sub, "PATCH", path, {"tags": {"x": "y"}}, 409, "Conflict")
        assert "while resource is 'Updating'" in err["message"]
        pool = path + "/nodePools/np"
        assert arm.put(pool, node_pool_model().as_dict(), version=V).status_code == 201  # parent not provisioning
        err = refused(arm, sub, "PATCH", pool, {"properties": {"replicas": 3}}, 409, "Conflict")
        assert "while resource is 'Provisioning'" in err["message"]
        assert arm.delete(path, version=V).status_code == 202
        refused(arm, sub, "DELETE", path, None, 409, "Conflict")


def test_nothing_is_written_for_a_refused_body(arm: Arm) -> None:
    """Several wrong fields at once: 400 MultipleErrorsOccurred with every field in details."""
    sub = new_sub()
    arm.register(sub)
    bad = body(sub, "multi")
    bad["properties"]["version"]["id"] = "4.19"
    bad["properties"]["version"]["channelGroup"] = "weekly"
    bad["properties"]["network"] = {"hostPrefix": 30}
    err = refused(arm, sub, "PUT", cluster_path(sub, "multi"), bad, 400, "MultipleErrorsOccurred")
    targets = {d.get("target") for d in err["details"]}
    assert {"properties.version.channelGroup", "properties.network.hostPrefix"} <= targets, err
    subnet, _ = network_ids(sub, RG)
    assert subnet  # (network_ids is what the bodies use)
