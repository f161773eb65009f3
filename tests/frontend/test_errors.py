"""Every ARM error the frontend produces, each from a real bad request to a real `aro rp` over HTTPS --
and the store byte-for-byte unchanged afterwards (the rows of the subscription's partition in
``<data_dir>/aro.db``, which hold its clusters, operations and the subscription itself).

Also: internal errors never leak internals, and the subscription state gates requests.
"""

# ruff: noqa: E501 -- the table of cases keeps one case per line

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.fixtures.store import StoreView
from tests.frontend.helpers import (
    PREVIEW,
    PROVIDER,
    STABLE,
    Arm,
    cli_body,
    cluster_path,
    error_of,
    location_path,
    new_sub,
    rg_list_path,
)

Body = Callable[[str, dict[str, Any]], Any]  # (subscription, current GET body) -> request body


def create_with(mutate: Callable[[dict[str, Any]], None]) -> Body:
    def body(sub: str, current: dict[str, Any]) -> Any:
        b = cli_body(sub, "newcomer")
        mutate(b)
        return b

    return body


def replace_with(mutate: Callable[[dict[str, Any]], None]) -> Body:
    def body(sub: str, current: dict[str, Any]) -> Any:
        b = copy.deepcopy(current)
        mutate(b)
        return b

    return body


def worker(b: dict[str, Any]) -> dict[str, Any]:
    w: dict[str, Any] = b["properties"]["workerProfiles"][0]
    return w


def nested(depth: int) -> bytes:
    return b'{"location":"eastus","properties":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


def const(value: Any) -> Body:
    return lambda sub, current: value


def props(**properties: Any) -> Body:
    return const({"properties": properties})


JSON = {"Content-Type": "application/json"}
COUNT = "properties.workerProfiles['worker'].count"
POD_CIDR = "properties.networkProfile.podCidr"
STATE = "properties.provisioningState"
BIG = b'{"tags":{"x":"' + b"a" * (1 << 20) + b'"}}'  # just over the 1 MiB limit
OP = "00000000-0000-0000-0000-000000000000"
RP = "/subscriptions/{sub}/resourceGroups/rg/providers"
OC = RP + "/Microsoft.RedHatOpenShift/openShiftClusters"
C, N = "{cluster}", "{new}"  # the existing cluster; a missing one


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str  # placeholders: {sub}, {cluster}, {new}, {rg_list}, {loc} (the location path)
    status: int
    code: str
    target: str | None = None
    version: str | None = STABLE
    body: Body | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    chunked: bool = False


# fmt: off
CASES = [
    # InvalidParameter, with the JSON path of the field as target
    Case("bad-location", "PUT", N, 400, "InvalidParameter", "location", body=create_with(lambda b: b.update(location="westus"))),
    Case("worker-count-1", "PUT", N, 400, "InvalidParameter", COUNT, body=create_with(lambda b: worker(b).update(count=1))),
    Case("too-many-tags", "PUT", N, 400, "InvalidParameter", "tags", body=create_with(lambda b: b.update(tags={f"t{i}": "" for i in range(51)}))),
    Case("bad-state-value", "PATCH", C, 400, "InvalidParameter", STATE, body=props(provisioningState="Bogus")),
    Case("bad-top", "GET", "{rg_list}", 400, "InvalidParameter", "$top", params={"$top": "0"}),
    Case("bad-subscription-state", "PUT", "/subscriptions/{sub}", 400, "InvalidParameter", "state", version="2.0", body=const({"state": "Sleepy"})),
    # InvalidRequestContent: not JSON, not an object, wrong types
    Case("malformed-json", "PUT", N, 400, "InvalidRequestContent", content=b'{"location": "eastus",', headers=JSON),
    Case("nan", "PUT", N, 400, "InvalidRequestContent", content=b'{"location": NaN}', headers=JSON),
    Case("deeply-nested", "PUT", N, 400, "InvalidRequestContent", content=nested(100_000), headers=JSON),
    Case("nested-too-deep", "PATCH", C, 400, "InvalidRequestContent", content=nested(900), headers=JSON),
    Case("not-utf8", "PUT", N, 400, "InvalidRequestContent", content=b'{"location": "\xff"}', headers=JSON),
    Case("empty-put-body", "PUT", N, 400, "InvalidRequestContent", content=b"", headers=JSON),
    Case("array-body", "PUT", N, 400, "InvalidRequestContent", body=const([])),
    Case("location-not-string", "PUT", N, 400, "InvalidRequestContent", "location", body=create_with(lambda b: b.update(location=5))),
    Case("count-not-int", "PATCH", C, 400, "InvalidRequestContent", body=props(workerProfiles=[{"name": "worker", "count": "3"}])),
    Case("tags-not-object", "PATCH", C, 400, "InvalidRequestContent", "tags", body=const({"tags": ["a"]})),
    Case("credentials-bad-json", "POST", C + "/listCredentials", 400, "InvalidRequestContent", content=b"{", headers=JSON),
    Case("preflight-no-resources", "POST", RP + "/Microsoft.RedHatOpenShift/deployments/d/preflight", 400, "InvalidRequestContent", body=const({})),
    # InvalidResourceType: api-version unknown or missing, unknown type, action of another version
    Case("unknown-api-version", "PUT", N, 400, "InvalidResourceType", version="2000-01-01", body=create_with(lambda b: None)),
    Case("missing-api-version-put", "PUT", N, 400, "InvalidResourceType", version=None, body=create_with(lambda b: None)),
    Case("missing-api-version-get", "GET", C, 400, "InvalidResourceType", version=None),
    Case("missing-api-version-delete", "DELETE", C, 400, "InvalidResourceType", version=None),
    Case("unknown-api-version-list", "GET", "{rg_list}", 400, "InvalidResourceType", version="2099-01-01"),
    Case("unknown-api-version-status", "GET", "{loc}/operationsstatus/" + OP, 400, "InvalidResourceType", version="x"),
    Case("unknown-type", "GET", RP + "/Microsoft.RedHatOpenShift/fooClusters/x", 400, "InvalidResourceType"),
    Case("action-of-another-version", "POST", C + "/credentials", 400, "InvalidResourceType", body=const({})),
    Case("preview-has-no-admin-credentials", "POST", C + "/listAdminCredentials", 400, "InvalidResourceType", version=PREVIEW),
    # the other path checks
    Case("wrong-namespace", "GET", RP + "/Microsoft.Compute/virtualMachines/x", 400, "InvalidResourceNamespace"),
    Case("bad-subscription-id", "GET", OC.replace("{sub}", "not-a-uuid") + "/victim", 400, "InvalidSubscriptionID"),
    Case("bad-subscription-id-put", "PUT", "/subscriptions/1234", 400, "InvalidSubscriptionID", version="2.0", body=const({"state": "Registered"})),
    Case("bad-rg-name", "GET", OC.replace("/rg/", "/rg./") + "/victim", 404, "ResourceGroupNotFound"),
    Case("bad-rg-name-put", "PUT", OC.replace("/rg/", "/" + "r" * 91 + "/") + "/x", 404, "ResourceGroupNotFound", body=create_with(lambda b: None)),
    Case("bad-resource-name-put", "PUT", OC + "/bad%20name", 400, "InvalidResourceName", body=create_with(lambda b: None)),
    Case("bad-resource-name-get", "GET", OC + "/bad%20name", 404, "ResourceNotFound"),
    Case("status-wrong-location", "GET", "/subscriptions/{sub}/providers/Microsoft.RedHatOpenShift/locations/westus/operationsstatus/" + OP, 400, "InvalidLocation"),
    Case("status-bad-operation-id", "GET", "{loc}/operationresults/not-an-id", 400, "InvalidOperationID"),
    # not found
    Case("get-missing", "GET", N, 404, "ResourceNotFound"),
    Case("patch-missing", "PATCH", N, 404, "ResourceNotFound", body=const({"tags": {}})),
    Case("credentials-of-missing", "POST", N + "/listCredentials", 404, "ResourceNotFound"),
    Case("unknown-operation", "GET", "{loc}/operationsstatus/" + OP, 404, "NotFound"),
    Case("unknown-version", "GET", "{loc}/openShiftVersions/1.2.3", 404, "ResourceNotFound"),
    Case("unknown-action", "POST", C + "/reboot", 404, "NotFound"),
    Case("unknown-path", "GET", "/no/such/path", 404, "NotFound", version=None),
    Case("method-not-allowed", "POST", C, 405, "MethodNotAllowed"),
    # PropertyChangeNotAllowed (2025-07-25 is strict)
    Case("replace-pod-cidr", "PUT", C, 400, "PropertyChangeNotAllowed", POD_CIDR, body=replace_with(lambda b: b["properties"]["networkProfile"].update(podCidr="10.0.0.0/14"))),
    Case("patch-pod-cidr", "PATCH", C, 400, "PropertyChangeNotAllowed", POD_CIDR, body=props(networkProfile={"podCidr": "10.0.0.0/14"})),
    Case("patch-provisioning-state", "PATCH", C, 400, "PropertyChangeNotAllowed", STATE, body=props(provisioningState="Creating")),
    # Mismatching*: the URL names the resource, never the body
    Case("mismatching-name", "PUT", N, 400, "MismatchingResourceName", body=create_with(lambda b: b.update(name="other"))),
    Case("mismatching-name-replace", "PUT", C, 400, "MismatchingResourceName", body=replace_with(lambda b: b.update(name="other"))),
    Case("mismatching-id", "PUT", C, 400, "MismatchingResourceID", body=replace_with(lambda b: b.update(id=b["id"].replace("/rg/", "/rg2/")))),
    Case("mismatching-type", "PATCH", C, 400, "MismatchingResourceType", body=const({"type": "Microsoft.Compute/virtualMachines"})),
    # media type and size
    Case("text-plain", "PUT", N, 415, "UnsupportedMediaType", content=b"location=eastus", headers={"Content-Type": "text/plain"}),
    Case("no-content-type", "PATCH", C, 415, "UnsupportedMediaType", content=b'{"tags": {}}'),
    Case("text-plain-subscription", "PUT", "/subscriptions/{sub}", 415, "UnsupportedMediaType", version="2.0", content=b"x", headers={"Content-Type": "text/plain"}),
    Case("too-large", "PUT", N, 400, "RequestBodyTooLarge", content=BIG, headers=JSON),
    Case("too-large-chunked", "PATCH", C, 400, "RequestBodyTooLarge", content=BIG, headers=JSON, chunked=True),
]
# fmt: on


@pytest.fixture(scope="module")
def victim(arm: Arm) -> tuple[str, dict[str, Any]]:
    """A registered subscription with one Succeeded cluster ``rg/victim``."""
    sub = new_sub()
    arm.register(sub)
    return sub, arm.create(sub, "rg", "victim")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_request_is_refused_and_changes_nothing(arm: Arm, victim: tuple[str, dict[str, Any]], case: Case) -> None:
    sub, current = victim
    cluster = cluster_path(sub, "rg", "victim")
    path = case.path.format(
        sub=sub,
        cluster=cluster,
        new=cluster_path(sub, "rg", "newcomer"),
        rg_list=rg_list_path(sub, "rg"),
        loc=location_path(sub),
    )
    content: Any = case.content
    if case.chunked:
        content = iter([case.content or b""])
    before = arm.rows(sub)
    r = arm.request(
        case.method,
        path,
        version=case.version,
        json=case.body(sub, current) if case.body else None,
        content=content,
        headers=case.headers,
        params=case.params,
    )
    assert r.status_code == case.status, r.text
    err = error_of(r)
    assert err["code"] == case.code, err
    if case.target is not None:
        assert err.get("target") == case.target, err
    assert "Traceback" not in r.text and "aro." not in err["message"]
    assert arm.rows(sub) == before, "a refused request changed the store"
    assert arm.get(cluster).json() == current


def test_internal_errors_are_500_without_internals(arm: Arm) -> None:
    """A document the model cannot load (corrupted in the store): 500 InternalServerError, the same
    envelope for every route, nothing of the exception in it."""
    sub = new_sub()
    path = cluster_path(sub, "rg", "corrupt")
    arm.create(sub, "rg", "corrupt")
    store = StoreView(arm.rp.data_dir)
    (doc,) = store.documents("openShiftClusters", sub)
    doc["openShiftCluster"]["properties"]["provisioningState"] = "Secret-Internal-Detail"
    store.replace("openShiftClusters", doc)  # a new etag, as every write (rendered bodies are cached by etag)
    for method, url, body in (
        ("GET", path, None),
        ("GET", rg_list_path(sub, "rg"), None),
        ("PATCH", path, {"tags": {}}),
        ("POST", path + "/listCredentials", None),
    ):
        r = arm.request(method, url, json=body)
        assert r.status_code == 500, r.text
        assert r.json() == {"error": {"code": "InternalServerError", "message": "Internal server error."}}


# --- subscription states ---------------------------------------------------------------------------------

ALL = {"GET", "LIST", "CREDENTIALS", "CREATE", "PATCH", "REPLACE", "DELETE"}


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        ("Registered", ALL),
        ("Warned", {"GET", "LIST", "DELETE"}),
        ("Suspended", {"GET", "LIST", "DELETE"}),
        ("Unregistered", {"GET", "LIST"}),
    ],
)
def test_subscription_state_gates_requests(arm: Arm, state: str, allowed: set[str]) -> None:
    sub = new_sub()
    arm.register(sub)
    path = cluster_path(sub, "rg", "gated")
    current = arm.create(sub, "rg", "gated")
    arm.register(sub, state)
    requests: list[tuple[str, str, str, Any, int]] = [
        ("GET", "GET", path, None, 200),
        ("LIST", "GET", rg_list_path(sub, "rg"), None, 200),
        ("CREDENTIALS", "POST", path + "/listCredentials", None, 200),
        ("CREATE", "PUT", cluster_path(sub, "rg", "another"), cli_body(sub, "another"), 201),
        ("PATCH", "PATCH", path, {"tags": {"k": "v"}}, 200),
        ("REPLACE", "PUT", path, current, 200),
        ("DELETE", "DELETE", path, None, 202),
    ]
    for name, method, url, body, ok in requests:
        before = arm.rows(sub)
        r = arm.request(method, url, json=body)
        if name in allowed:
            assert r.status_code == ok, (name, r.text)
            if method != "GET" and method != "POST":
                arm.wait(url, {"Succeeded", "gone"})
        else:
            assert r.status_code == 400, (name, r.text)
            assert error_of(r)["code"] == "InvalidSubscriptionState", (name, r.text)
            assert arm.rows(sub) == before, name


def test_deleted_subscription_cascades_and_cannot_be_left(arm: Arm) -> None:
    sub = new_sub()
    arm.register(sub)
    path = cluster_path(sub, "rg", "cascade")
    arm.create(sub, "rg", "cascade")
    arm.register(sub, "Deleted")
    arm.wait(path, {"gone"})
    before = arm.rows(sub)
    for state in ("Registered", "Warned"):
        r = arm.put(f"/subscriptions/{sub}", {"state": state}, version="2.0")
        assert r.status_code == 400 and error_of(r)["code"] == "InvalidSubscriptionState", r.text
    r = arm.put(path, cli_body(sub, "cascade"))
    assert r.status_code == 400 and error_of(r)["code"] == "InvalidSubscriptionState", r.text
    assert arm.rows(sub) == before
    assert arm.get(rg_list_path(sub, "rg")).json() == {"value": []}
    assert arm.put(f"/subscriptions/{sub}", {"state": "Deleted"}, version="2.0").status_code == 200


def test_unknown_subscription_is_auto_registered_in_development_mode(arm: Arm) -> None:
    sub = new_sub()
    assert arm.rows(sub) == []
    arm.create(sub, "rg", "auto")
    assert [r[0] for r in arm.rows(sub)].count("subscriptions") == 1


def test_namespace_and_type_segments_are_case_insensitive_too(arm: Arm) -> None:
    sub = new_sub()
    arm.create(sub, "rg", "ns")
    upper = (
        cluster_path(sub, "rg", "ns")
        .replace(PROVIDER, PROVIDER.upper())
        .replace("openShiftClusters", "OPENSHIFTCLUSTERS")
    )
    assert arm.get(upper).status_code == 200
