"""ARM RPC conformance of the frontend (reference checklist, section A), driven over HTTPS with httpx
against one real `aro rp` subprocess (frontend + backend + hosted cloud simulator) for the module.

Every response of the module passes the ``Arm`` client's header check (a fresh ``x-ms-request-id`` UUID;
``application/json`` whenever there is a body). Each test works in its own subscription.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import RPProcess
from tests.frontend.helpers import (
    PREVIEW,
    PROVIDER,
    STABLE,
    UUID,
    Arm,
    assert_no_secrets,
    cli_body,
    cluster_path,
    error_of,
    location_path,
    new_sub,
    rg_list_path,
    sub_list_path,
)

# --- create, async operation, casing, Referer --------------------------------------------------------


def test_create_is_201_with_async_operation_whose_status_is_readable(arm: Arm, rp: RPProcess) -> None:
    sub = new_sub()
    path = cluster_path(sub, "rg", "create")
    r = arm.put(path, cli_body(sub, "create"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["id"], body["name"], body["type"]) == (path, "create", f"{PROVIDER}/openShiftClusters")
    assert body["location"] == "eastus" and body["tags"] == {"env": "test"}
    assert body["properties"]["provisioningState"] == "Creating"
    assert body["properties"]["clusterProfile"]["version"] == "4.18.34"  # "" -> the default version
    assert body["properties"]["networkProfile"]["outboundType"] == "Loadbalancer"
    assert r.headers["ETag"].startswith('"') and "Location" not in r.headers

    op_url = r.headers["Azure-AsyncOperation"]
    parts = urlsplit(op_url)
    op_id = parts.path.rsplit("/", 1)[1]
    assert (parts.scheme, parts.netloc) == ("https", f"localhost:{rp.port}")
    assert parts.path.lower() == f"{location_path(sub)}/operationsstatus/{op_id}".lower() and UUID.match(op_id)
    assert parse_qs(parts.query)["api-version"] == [STABLE]

    status = arm.absolute(op_url)
    assert status.status_code == 200, status.text
    view = status.json()
    assert view["name"] == op_id and view["id"].endswith(f"/operationsstatus/{op_id}")
    assert view["status"] in ("Creating", "Succeeded") and view["startTime"]

    done = arm.wait_operation(op_url)
    assert done["status"] == "Succeeded" and done["endTime"] >= done["startTime"] and "error" not in done
    got = arm.get(path)
    assert got.json()["properties"]["provisioningState"] == "Succeeded"
    assert got.headers["ETag"] != r.headers["ETag"]

    result = arm.absolute(op_url.replace("/operationsstatus/", "/operationresults/"))
    assert result.status_code == 200 and result.json() == got.json()


@pytest.mark.parametrize(
    "variant",
    [
        lambda p: p.lower(),
        lambda p: p.upper(),
        lambda p: p.replace("rG-Case", "RG-CASE").replace("Foo-Cluster", "foo-cluster"),
    ],
    ids=["lower", "upper", "mixed"],
)
def test_paths_are_case_insensitive_and_the_creating_casing_is_returned(arm: Arm, variant: Any) -> None:
    sub = new_sub()
    path = cluster_path(sub, "rG-Case", "Foo-Cluster")
    arm.create(sub, "rG-Case", "Foo-Cluster")
    other = variant(path)
    assert other != path
    r = arm.get(other)
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["name"]) == (path, "Foo-Cluster")

    r = arm.patch(other, {"tags": {"casing": "kept"}})
    assert r.status_code == 200 and r.json()["id"] == path, r.text
    arm.wait(path, {"Succeeded"})
    listed = arm.get(variant(rg_list_path(sub, "rG-Case")))
    assert [c["id"] for c in listed.json()["value"]] == [path]


def test_async_urls_and_next_links_are_built_on_the_referer_host(arm: Arm) -> None:
    sub = new_sub()
    front = "https://management.example.com"
    path = cluster_path(sub, "rg", "referer")
    r = arm.put(path, cli_body(sub, "referer"), headers={"Referer": f"{front}{path}?api-version={STABLE}"})
    assert r.status_code == 201
    assert r.headers["Azure-AsyncOperation"].startswith(f"{front}/subscriptions/{sub}/providers/")
    arm.wait(path, {"Succeeded"})
    arm.create(sub, "rg", "referer2")

    listed = arm.get(rg_list_path(sub, "rg"), params={"$top": "1"}, headers={"Referer": f"{front}/X?api-version=a"})
    next_link = urlsplit(listed.json()["nextLink"])
    assert f"{next_link.scheme}://{next_link.netloc}{next_link.path}" == f"{front}/X"
    assert {k: v for k, v in parse_qs(next_link.query).items() if k != "$skipToken"} == {"api-version": ["a"]}

    r = arm.delete(path, headers={"Referer": f"{front}{path}?api-version={STABLE}"})
    assert r.status_code == 202
    assert r.headers["Location"].startswith(f"{front}/subscriptions/{sub}/providers/{PROVIDER}/locations/eastus/")
    assert r.headers["Azure-AsyncOperation"].startswith(f"{front}/subscriptions/{sub}/")


# --- lists and paging --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paged(arm: Arm) -> str:
    """A subscription with 25 Succeeded clusters, all in resource group "pager"."""
    sub = new_sub()
    names = [f"cluster-{i:02d}" for i in range(25)]
    for name in names:
        arm.start_create(sub, "pager", name)
    for name in names:
        arm.wait(cluster_path(sub, "pager", name), {"Succeeded"})
    arm.create(new_sub(), "pager", "elsewhere")  # another subscription: never listed
    return sub


def follow(arm: Arm, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    pages = [arm.get(path, params=params)]
    while "nextLink" in pages[-1].json():
        link = pages[-1].json()["nextLink"]
        assert isinstance(link, str) and link.startswith("https://"), link
        pages.append(arm.absolute(link))
        assert len(pages) < 20
    for p in pages:
        assert p.status_code == 200, p.text
    return [p.json() for p in pages]


@pytest.mark.parametrize(
    ("scope", "top", "sizes"),
    [
        ("resourceGroup", "10", [10, 10, 5]),
        ("subscription", "10", [10, 10, 5]),
        ("subscription", None, [10, 10, 5]),  # the configured page size (10)
        ("resourceGroup", "7", [7, 7, 7, 4]),
        ("subscription", "25", [25]),
    ],
)
def test_lists_page_through_every_cluster_once(
    arm: Arm, paged: str, scope: str, top: str | None, sizes: list[int]
) -> None:
    path = rg_list_path(paged, "pager") if scope == "resourceGroup" else sub_list_path(paged)
    pages = follow(arm, path, {"$top": top} if top else {})
    assert [len(p["value"]) for p in pages] == sizes
    assert all(set(p) == {"value", "nextLink"} for p in pages[:-1]) and set(pages[-1]) == {"value"}
    ids = [c["id"] for p in pages for c in p["value"]]
    assert len(set(ids)) == len(ids) == sum(sizes)
    assert all(i.startswith(f"/subscriptions/{paged}/resourceGroups/pager/") for i in ids)
    for p in pages:
        for c in p["value"]:
            assert c["properties"]["provisioningState"] == "Succeeded"
            assert_no_secrets(json.dumps(c))


def test_resource_group_list_is_exactly_that_group(arm: Arm) -> None:
    sub = new_sub()
    for rg in ("grp", "grp2", "GRP-x"):
        arm.start_create(sub, rg, "c-" + rg.lower())
    for rg in ("grp", "grp2", "GRP-x"):
        arm.wait(cluster_path(sub, rg, "c-" + rg.lower()), {"Succeeded"})
    assert [c["name"] for c in arm.get(rg_list_path(sub, "GRP")).json()["value"]] == ["c-grp"]
    assert len(arm.get(sub_list_path(sub)).json()["value"]) == 3


def test_empty_and_unknown_subscription_lists_are_empty(arm: Arm) -> None:
    for path in (sub_list_path(new_sub()), rg_list_path(new_sub(), "nothing")):
        r = arm.get(path)
        assert r.status_code == 200 and r.json() == {"value": []}


@pytest.mark.parametrize("how", ["tampered", "other-subscription", "other-list", "garbage"])
def test_bad_skiptoken_is_400(arm: Arm, paged: str, how: str) -> None:
    first = arm.get(sub_list_path(paged), params={"$top": "3"}).json()
    token = parse_qs(urlsplit(first["nextLink"]).query)["$skipToken"][0]
    path = sub_list_path(paged)
    if how == "tampered":
        i = len(token) // 2
        token = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    elif how == "other-subscription":
        path = sub_list_path(new_sub())
    elif how == "other-list":
        path = rg_list_path(paged, "pager")
    else:
        token = "not-a-token"
    r = arm.get(path, params={"$top": "3", "$skipToken": token})
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] == "InvalidParameter" and error_of(r)["target"] == "$skipToken"


# --- ETag preconditions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "exists", "headers", "status"),
    [
        ("PUT", True, {"If-Match": '"stale"'}, 412),
        ("PUT", True, {"If-None-Match": "*"}, 412),
        ("PUT", False, {"If-Match": "*"}, 412),
        ("PUT", False, {"If-Match": '"stale"'}, 412),
        ("PATCH", True, {"If-Match": '"stale"'}, 412),
        ("PATCH", False, {"If-Match": '"stale"'}, 404),
        ("DELETE", True, {"If-Match": '"stale"'}, 412),
        ("DELETE", False, {"If-Match": '"stale"'}, 412),  # RFC 7232: no current representation
        ("DELETE", False, {"If-Match": "*"}, 412),
        ("PUT", True, {"If-Match": "<current>"}, 200),
        ("PATCH", True, {"If-Match": "*"}, 200),
        ("PUT", False, {"If-None-Match": "*"}, 201),
        ("DELETE", True, {"If-Match": "<current>"}, 202),
    ],
)
def test_etag_preconditions(arm: Arm, method: str, exists: bool, headers: dict[str, str], status: int) -> None:
    sub = new_sub()
    arm.register(sub)
    path = cluster_path(sub, "rg", "etag")
    current = arm.create(sub, "rg", "etag") if exists else {}
    etag = arm.get(path).headers.get("ETag", "") if exists else ""
    headers = {k: etag if v == "<current>" else v for k, v in headers.items()}
    body = {"PUT": current or cli_body(sub, "etag"), "PATCH": {"tags": {"t": "v"}}, "DELETE": None}[method]
    before = arm.rows(sub)
    r = arm.request(method, path, json=body, headers=headers)
    assert r.status_code == status, r.text
    if status == 412:
        assert error_of(r)["code"] == "PreconditionFailed"
    if status >= 400 or status == 204:
        assert arm.rows(sub) == before, "a refused request changed the store"
    if exists and status < 300:
        arm.wait(path, {"Succeeded", "gone"})


# --- systemData, provisioningState, PATCH ------------------------------------------------------------


def test_system_data_is_persisted_and_merged(arm: Arm) -> None:
    sub = new_sub()
    path = cluster_path(sub, "rg", "sysdata")
    created = {
        "createdBy": "alice@example.com",
        "createdByType": "User",
        "createdAt": "2025-01-01T00:00:00Z",
        "lastModifiedBy": "alice@example.com",
        "lastModifiedByType": "User",
        "lastModifiedAt": "2025-01-01T00:00:00Z",
    }
    r = arm.put(path, cli_body(sub, "sysdata"), headers={"x-ms-arm-resource-system-data": json.dumps(created)})
    assert r.status_code == 201 and r.json()["systemData"] == created
    assert arm.wait(path, {"Succeeded"})["systemData"] == created

    later = {
        "createdBy": "mallory@example.com",  # ARM sends created* on creation only: ignored on an update
        "createdAt": "2025-06-01T00:00:00Z",
        "lastModifiedBy": "app-id",
        "lastModifiedByType": "Application",
        "lastModifiedAt": "2025-02-02T00:00:00Z",
    }
    r = arm.patch(path, {"tags": {"a": "b"}}, headers={"x-ms-arm-resource-system-data": json.dumps(later)})
    expected = created | {k: later[k] for k in ("lastModifiedBy", "lastModifiedByType", "lastModifiedAt")}
    assert r.status_code == 200 and r.json()["systemData"] == expected
    assert arm.wait(path, {"Succeeded"})["systemData"] == expected
    assert arm.get(rg_list_path(sub, "rg")).json()["value"][0]["systemData"] == expected

    before = arm.rows(sub)
    r = arm.patch(path, {}, headers={"x-ms-arm-resource-system-data": "not json"})  # refused (issue 15)
    assert r.status_code == 400 and error_of(r)["target"] == "x-ms-arm-resource-system-data", r.text
    assert arm.rows(sub) == before


@pytest.mark.parametrize(("value", "status"), [("Succeeded", 200), ("succeeded", 200), ("Updating", 400)])
def test_provisioning_state_in_a_request_equal_is_ignored_different_is_400(arm: Arm, value: str, status: int) -> None:
    sub = new_sub()
    path = cluster_path(sub, "rg", "state")
    current = arm.create(sub, "rg", "state")
    current["properties"]["provisioningState"] = value
    for method, body in (("PATCH", {"properties": {"provisioningState": value}}), ("PUT", current)):
        before = arm.rows(sub)
        r = arm.request(method, path, json=body)
        assert r.status_code == status, r.text
        if status == 400:
            err = error_of(r)
            assert (err["code"], err["target"]) == ("PropertyChangeNotAllowed", "properties.provisioningState")
            assert arm.rows(sub) == before
        else:
            assert r.json()["properties"]["provisioningState"] == "Updating"
            arm.wait(path, {"Succeeded"})


def test_patch_replaces_tags_whole_and_merges_properties(arm: Arm) -> None:
    sub = new_sub()
    path = cluster_path(sub, "rg", "tags")
    arm.create(sub, "rg", "tags", cli_body(sub, "tags", tags={"t1": "1", "t2": "2"}))
    r = arm.patch(path, {"tags": {"t3": "3"}})
    assert r.status_code == 200 and r.json()["tags"] == {"t3": "3"}
    assert r.json()["properties"]["provisioningState"] == "Updating"
    assert "Azure-AsyncOperation" in r.headers and "Location" not in r.headers
    arm.wait_operation(r.headers["Azure-AsyncOperation"])
    got = arm.wait(path, {"Succeeded"})
    assert got["tags"] == {"t3": "3"}
    assert got["properties"]["workerProfiles"][0]["count"] == 3  # untouched by the patch

    lb = {"loadBalancerProfile": {"managedOutboundIps": {"count": 2}}}
    r = arm.patch(path, {"properties": {"networkProfile": lb}})
    assert r.status_code == 200, r.text
    got = arm.wait(path, {"Succeeded"})
    assert got["properties"]["networkProfile"]["loadBalancerProfile"]["managedOutboundIps"] == {"count": 2}
    assert got["properties"]["networkProfile"]["podCidr"] == "10.128.0.0/14" and got["tags"] == {"t3": "3"}


# --- DELETE and operations -----------------------------------------------------------------------------


def test_delete_is_202_with_both_headers_then_404_and_delete_of_missing_is_204(arm: Arm, rp: RPProcess) -> None:
    sub = new_sub()
    path = cluster_path(sub, "rg", "doomed")
    arm.create(sub, "rg", "doomed")
    r = arm.delete(path)
    assert r.status_code == 202 and r.content == b"", r.text
    location, status_url = r.headers["Location"], r.headers["Azure-AsyncOperation"]
    op_id = urlsplit(status_url).path.rsplit("/", 1)[1]
    assert location.startswith(f"https://localhost:{rp.port}/subscriptions/")
    assert urlsplit(location).path.lower() == f"{location_path(sub)}/operationresults/{op_id}".lower()
    assert arm.wait_operation(status_url)["status"] == "Succeeded"
    arm.wait(path, {"gone"})
    gone = arm.get(path)
    assert gone.status_code == 404 and error_of(gone)["code"] == "ResourceNotFound"
    assert arm.absolute(location).status_code == 204
    assert arm.get(rg_list_path(sub, "rg")).json() == {"value": []}
    for _ in range(2):
        again = arm.delete(path)
        assert again.status_code == 204 and "Location" not in again.headers


def test_operations_are_invisible_to_other_subscriptions(arm: Arm) -> None:
    sub, other = new_sub(), new_sub()
    r = arm.start_create(sub, "rg", "mine")
    op_id = urlsplit(r.headers["Azure-AsyncOperation"]).path.rsplit("/", 1)[1]
    arm.wait(cluster_path(sub, "rg", "mine"), {"Succeeded"})
    for kind in ("operationsstatus", "operationresults"):
        assert arm.get(f"{location_path(sub)}/{kind}/{op_id}").status_code in (200,)
        foreign = arm.get(f"{location_path(other)}/{kind}/{op_id}")
        assert foreign.status_code == 404 and error_of(foreign)["code"] == "NotFound"
        unknown = arm.get(f"{location_path(sub)}/{kind}/{new_sub()}")
        assert unknown.status_code == 404 and error_of(unknown)["code"] == "NotFound"


# --- secrets and credentials ----------------------------------------------------------------------------


def test_secrets_never_appear_in_a_response_body(arm: Arm) -> None:
    sub = new_sub()
    path = cluster_path(sub, "rg", "secretive")
    bodies = []
    r = arm.start_create(sub, "rg", "secretive")
    bodies += [r.text, arm.absolute(r.headers["Azure-AsyncOperation"]).text]
    arm.wait(path, {"Succeeded"})
    op_result = r.headers["Azure-AsyncOperation"].replace("/operationsstatus/", "/operationresults/")
    bodies += [arm.get(path).text, arm.absolute(op_result).text, arm.get(rg_list_path(sub, "rg")).text]
    bodies += [arm.get(sub_list_path(sub)).text, arm.get(path, version=PREVIEW).text]
    patched = arm.patch(path, {"properties": {"servicePrincipalProfile": {"clientSecret": "n3w-" + "s3cret"}}})
    bodies.append(patched.text)
    assert patched.status_code == 200 and "n3w-s3cret" not in patched.text
    arm.wait(path, {"Succeeded"})
    current = arm.get(path).json()
    bodies.append(arm.put(path, current).text)
    arm.wait(path, {"Succeeded"})
    for text in bodies:
        assert_no_secrets(text)
        assert "pullSecret" not in text and "clientSecret" not in text and "kubeadminPassword" not in text


def test_credentials_of_a_succeeded_cluster_are_real(arm: Arm) -> None:
    sub = new_sub()
    path = cluster_path(sub, "rg", "creds")
    got = arm.create(sub, "rg", "creds")
    # `az aro list-credentials` sends an empty body without a Content-Type
    r = arm.post(path + "/listCredentials")
    assert r.status_code == 200, r.text
    creds = r.json()
    assert creds["kubeadminUsername"] == "kubeadmin" and len(creds["kubeadminPassword"]) >= 20
    assert arm.post(path + "/listcredentials", json={}).json() == creds  # stable, case-insensitive action

    r = arm.post(path + "/listAdminCredentials")
    assert r.status_code == 200, r.text
    kubeconfig = base64.b64decode(r.json()["kubeconfig"]).decode()
    assert "kind: Config" in kubeconfig and got["properties"]["apiserverProfile"]["url"] in kubeconfig
    assert creds["kubeadminPassword"] not in arm.get(path).text

    preview = arm.post(path + "/credentials", version=PREVIEW, json={})
    assert preview.status_code == 200 and preview.json() == creds
