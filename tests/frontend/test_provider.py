"""Provider-level routes of the frontend against a real `aro rp` over HTTPS: the operations list, the
versions catalog, deployment preflight, the subscription lifecycle PUT, the OpenAPI document and the
client-request-id echo."""

from __future__ import annotations

from typing import Any

import pytest

from tests.frontend.helpers import (
    PROVIDER,
    STABLE,
    Arm,
    cli_body,
    cluster_path,
    error_of,
    location_path,
    new_sub,
    sub_list_path,
)

COUNT = "properties.workerProfiles['worker'].count"


def test_provider_operations_list(arm: Arm) -> None:
    for version in (None, STABLE, "2.0"):
        r = arm.get(f"/providers/{PROVIDER}/operations", version=version)
        assert r.status_code == 200, r.text
        names = {op["name"] for op in r.json()["value"]}
        for op in r.json()["value"]:
            assert op["isDataAction"] is False and set(op["display"]) == {
                "provider",
                "resource",
                "operation",
                "description",
            }
        for action in ("read", "write", "delete", "listCredentials/action", "listAdminCredentials/action"):
            assert f"{PROVIDER}/openShiftClusters/{action}" in names
        assert f"{PROVIDER}/locations/operationsstatus/read" in names


def test_openshift_versions_list_and_get(arm: Arm) -> None:
    sub = new_sub()
    r = arm.get(f"{location_path(sub)}/openShiftVersions")
    assert r.status_code == 200, r.text
    versions = [v["properties"]["version"] for v in r.json()["value"]]
    assert "4.18.34" in versions
    one = arm.get(f"{location_path(sub)}/openshiftversions/4.18.34")
    assert one.status_code == 200 and one.json()["properties"]["version"] == "4.18.34"
    assert one.json() in r.json()["value"]
    assert arm.get(f"{location_path(sub)}/openShiftVersions/9.9.9").status_code == 404
    wrong = arm.get(f"{location_path(sub, 'westus')}/openShiftVersions")
    assert wrong.status_code == 400 and error_of(wrong)["code"] == "InvalidLocation"


@pytest.fixture(scope="module")
def preflight_sub(arm: Arm) -> str:
    """A subscription with one Succeeded cluster ``rg/existing``."""
    sub = new_sub()
    arm.create(sub, "rg", "existing")
    return sub


def template_resource(arm: Arm, sub: str, name: str) -> dict[str, Any]:
    """A template resource: the existing cluster's GET body, or the create body for a new one."""
    got = arm.get(cluster_path(sub, "rg", name))
    body = got.json() if got.status_code == 200 else cli_body(sub, name)
    return body | {"type": f"{PROVIDER}/openShiftClusters", "name": name, "apiVersion": STABLE}


@pytest.mark.parametrize(
    ("name", "mutate", "status", "code", "target"),
    [
        ("new", lambda r: None, "Succeeded", None, None),
        ("new", lambda r: r["properties"]["workerProfiles"][0].update(count=1), "Failed", "InvalidParameter", COUNT),
        ("new", lambda r: r.update(apiVersion="2001-01-01"), "Failed", "InvalidResourceType", None),
        ("new", lambda r: r.update(name="bad."), "Failed", "InvalidParameter", "name"),  # the kind's name rule
        ("existing", lambda r: None, "Succeeded", None, None),  # validated as an update of the cluster
        (
            "existing",
            lambda r: r["properties"]["networkProfile"].update(podCidr="10.0.0.0/14"),
            "Failed",
            "PropertyChangeNotAllowed",
            "properties.networkProfile.podCidr",
        ),
    ],
    ids=["create", "create-invalid", "unknown-api-version", "bad-name", "update", "update-immutable"],
)
def test_preflight_validates_without_writing(
    arm: Arm, preflight_sub: str, name: str, mutate: Any, status: str, code: str | None, target: str | None
) -> None:
    sub = preflight_sub
    resource = template_resource(arm, sub, name)
    mutate(resource)
    other = {"type": "Microsoft.Storage/storageAccounts", "name": "x", "apiVersion": "2023-01-01"}
    before = arm.rows(sub)
    path = f"/subscriptions/{sub}/resourceGroups/rg/providers/{PROVIDER}/deployments/dep/preflight"
    r = arm.post(path, json={"resources": [other, resource]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == status, r.text
    if code is not None:
        assert r.json()["error"]["code"] == code and r.json()["error"].get("target") == target, r.text
    assert arm.rows(sub) == before, "preflight wrote to the store"


def test_subscription_put_is_201_then_200(arm: Arm) -> None:
    sub = new_sub()
    body = {"state": "Registered", "registrationDate": "Mon, 01 Jan 2024 00:00:00 GMT", "properties": {"x": 1}}
    first = arm.put(f"/subscriptions/{sub}", body, version="2.0")
    assert first.status_code == 201 and first.json()["state"] == "Registered", first.text
    again = arm.put(f"/subscriptions/{sub}", body | {"state": "Warned"}, version="2.0")
    assert again.status_code == 200 and again.json()["state"] == "Warned"


def test_openapi_document_has_the_cluster_put_request_schema(arm: Arm) -> None:
    r = arm.client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    item = next(p for p in doc["paths"] if p.lower().endswith("/openshiftclusters/{resourcename}"))
    schema = doc["paths"][item]["put"]["requestBody"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[1]
    model = doc["components"]["schemas"][name]
    assert {"location", "properties", "tags"} <= set(model["properties"])
    assert set(doc["paths"][item]["put"]["responses"]) >= {"200", "201", "default"}


def test_client_request_id_is_echoed_only_when_asked(arm: Arm) -> None:
    path = sub_list_path(new_sub())
    plain = arm.get(path, headers={"x-ms-client-request-id": "abc-123"})
    assert "x-ms-client-request-id" not in plain.headers
    echoed = arm.get(path, headers={"x-ms-client-request-id": "abc-123", "x-ms-return-client-request-id": "true"})
    assert echoed.headers["x-ms-client-request-id"] == "abc-123"
