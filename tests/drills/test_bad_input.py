"""Bad-input drill: hostile or careless requests -- malformed JSON, wrong types, nulls, unicode and very long
names (in the path and in the body), 2 MiB bodies, wrong content types, unknown api-versions, tampered or
foreign ``$skipToken`` -- each must be a clear ARM error and leave the store byte-for-byte unchanged. A
path in odd casing is not bad input: it must succeed, with the same answer as the canonical path.

The table extends tests/frontend/test_errors.py's (same ``Case``, same runner, same ``victim``: a
Succeeded cluster ``rg/victim``); it holds what that table does not already cover.
"""

# ruff: noqa: E501 -- the table of cases keeps one case per line

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.frontend.helpers import (
    Arm,
    cli_body,
    cluster_path,
    error_of,
    location_path,
    new_sub,
    rg_list_path,
    sub_list_path,
)
from tests.frontend.test_errors import JSON, OC, Case, const, create_with, props, replace_with, victim, worker
from tests.frontend.test_errors import test_bad_request_is_refused_and_changes_nothing as refused_and_unchanged

__all__ = ["victim"]

C, N = "{cluster}", "{new}"  # the existing cluster; a missing one
MIB2 = b'{"tags":{"x":"' + b"a" * (2 << 20) + b'"}}'
XML = {"Content-Type": "application/xml"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NAME = "InvalidResourceName"
RG_404 = "ResourceGroupNotFound"
CONTENT = "InvalidRequestContent"


def cluster_profile(b: dict[str, Any]) -> dict[str, Any]:
    p: dict[str, Any] = b["properties"]["clusterProfile"]
    return p


# fmt: off
CASES = [
    # malformed JSON, on every writing method
    Case("patch-truncated-json", "PATCH", C, 400, CONTENT, content=b'{"tags": {', headers=JSON),
    Case("replace-mismatched-bracket", "PUT", C, 400, CONTENT, content=b'{"location": "eastus"]', headers=JSON),
    Case("trailing-garbage", "PUT", N, 400, CONTENT, content=b'{"location": "eastus"} x', headers=JSON),
    Case("single-quotes", "PATCH", C, 400, CONTENT, content=b"{'tags': {}}", headers=JSON),
    Case("patch-string-body", "PATCH", C, 400, CONTENT, content=b'"tags"', headers=JSON),
    Case("patch-array-body", "PATCH", C, 400, CONTENT, body=const([{"tags": {}}])),
    Case("subscription-truncated-json", "PUT", "/subscriptions/{sub}", 400, CONTENT, version="2.0", content=b'{"state": "Registered"', headers=JSON),
    # wrong types
    Case("properties-string", "PUT", N, 400, CONTENT, "properties", body=create_with(lambda b: b.update(properties="big"))),
    Case("worker-profiles-object", "PATCH", C, 400, CONTENT, "properties.workerProfiles", body=props(workerProfiles={"name": "worker", "count": 4})),
    Case("count-boolean", "PATCH", C, 400, CONTENT, "properties.workerProfiles[0].count", body=props(workerProfiles=[{"name": "worker", "count": True}])),
    Case("count-float", "PUT", N, 400, CONTENT, "properties.workerProfiles[0].count", body=create_with(lambda b: worker(b).update(count=3.5))),
    Case("tag-value-number", "PATCH", C, 400, CONTENT, "tags.a", body=const({"tags": {"a": 1}})),
    Case("tag-value-object", "PUT", N, 400, CONTENT, "tags.a", body=create_with(lambda b: b.update(tags={"a": {"b": "c"}}))),
    Case("location-array", "PATCH", C, 400, CONTENT, "location", body=const({"location": ["eastus"]})),
    Case("visibility-unknown", "PUT", N, 400, "InvalidParameter", "properties.apiserverProfile.visibility", body=create_with(lambda b: b["properties"]["apiserverProfile"].update(visibility="Sideways"))),
    # nulls: required members, and tag values (tags are replaced whole: a null value is not a deletion)
    Case("create-properties-null", "PUT", N, 400, "InvalidParameter", "properties", body=create_with(lambda b: b.update(properties=None))),
    Case("create-location-null", "PUT", N, 400, "InvalidParameter", "location", body=create_with(lambda b: b.update(location=None))),
    Case("create-tag-value-null", "PUT", N, 400, CONTENT, "tags.a", body=create_with(lambda b: b.update(tags={"a": None}))),
    Case("create-cluster-profile-null", "PUT", N, 400, "InvalidParameter", body=create_with(lambda b: b["properties"].update(clusterProfile=None))),
    Case("replace-properties-null", "PUT", C, 400, "PropertyChangeNotAllowed", body=replace_with(lambda b: b.update(properties=None))),
    Case("replace-location-null", "PUT", C, 400, "InvalidParameter", "location", body=replace_with(lambda b: b.update(location=None))),
    Case("replace-tag-value-null", "PUT", C, 400, CONTENT, "tags.a", body=replace_with(lambda b: b.update(tags={"a": None}))),
    Case("patch-properties-null", "PATCH", C, 400, "PropertyChangeNotAllowed", body=const({"properties": None})),
    Case("patch-location-null", "PATCH", C, 400, "InvalidParameter", "location", body=const({"location": None})),
    Case("patch-tag-value-null", "PATCH", C, 400, CONTENT, "tags.a", body=const({"tags": {"a": None}})),
    Case("patch-one-of-two-tag-values-null", "PATCH", C, 400, CONTENT, "tags.b", body=const({"tags": {"a": "kept?", "b": None}})),
    Case("patch-worker-profiles-null", "PATCH", C, 400, "PropertyChangeNotAllowed", "properties.workerProfiles", body=props(workerProfiles=None)),
    Case("subscription-state-null", "PUT", "/subscriptions/{sub}", 400, "InvalidParameter", "state", version="2.0", body=const({"state": None})),
    # unicode and very long names in the path
    Case("name-91-chars", "PUT", OC + "/" + "a" * 91, 400, NAME, body=create_with(lambda b: None)),
    Case("name-300-chars", "PUT", OC + "/" + "a" * 300, 400, NAME, body=create_with(lambda b: None)),
    Case("name-300-chars-get", "GET", OC + "/" + "a" * 300, 404, "ResourceNotFound"),
    Case("name-non-ascii", "PUT", OC + "/caf\u00e9", 400, NAME, body=create_with(lambda b: None)),
    Case("name-emoji", "PUT", OC + "/\U0001f680", 400, NAME, body=create_with(lambda b: None)),
    Case("name-emoji-patch", "PATCH", OC + "/victim\U0001f680", 400, NAME, body=const({"tags": {}})),
    Case("name-kelvin-sign", "PUT", OC + "/\u212a8s", 400, NAME, body=create_with(lambda b: None)),  # lower() -> "k8s"
    Case("name-kelvin-sign-delete", "DELETE", OC + "/\u212a8s", 404, "ResourceNotFound"),
    Case("name-nul-byte", "PUT", OC + "/x%00y", 400, NAME, body=create_with(lambda b: None)),
    Case("name-invalid-utf8", "PUT", OC + "/x%FFy", 400, NAME, body=create_with(lambda b: None)),
    Case("name-trailing-dot", "PUT", OC + "/victim.", 400, NAME, body=create_with(lambda b: None)),
    Case("name-trailing-newline", "PUT", OC + "/victim%0A", 400, NAME, body=create_with(lambda b: None)),  # "$" matches before "\n"
    Case("name-trailing-newline-get", "GET", OC + "/victim%0A", 404, "ResourceNotFound"),
    Case("rg-trailing-newline", "GET", OC.replace("/rg/", "/rg%0A/") + "/victim", 404, RG_404),
    Case("subscription-trailing-newline", "GET", "/subscriptions/{sub}%0A/providers/Microsoft.RedHatOpenShift/openShiftClusters", 400, "InvalidSubscriptionID"),
    Case("rg-emoji", "PUT", OC.replace("/rg/", "/\U0001f600/") + "/x", 404, RG_404, body=create_with(lambda b: None)),
    Case("rg-300-chars", "GET", OC.replace("/rg/", "/" + "g" * 300 + "/") + "/x", 404, RG_404),
    Case("rg-kelvin-sign", "GET", OC.replace("/rg/", "/\u212arg/") + "/victim", 404, RG_404),
    Case("subscription-non-ascii", "GET", "/subscriptions/\u00e9" + "0" * 35 + "/providers/Microsoft.RedHatOpenShift/openShiftClusters", 400, "InvalidSubscriptionID"),
    # unicode and very long names in the body
    Case("body-name-91-chars", "PUT", N, 400, "MismatchingResourceName", "name", body=create_with(lambda b: b.update(name="a" * 91))),
    Case("body-name-emoji", "PUT", N, 400, "MismatchingResourceName", "name", body=create_with(lambda b: b.update(name="\U0001f680"))),
    Case("body-name-emoji-patch", "PATCH", C, 400, "MismatchingResourceName", "name", body=const({"name": "victim\U0001f680"})),
    Case("body-id-300-chars", "PUT", C, 400, "MismatchingResourceID", "id", body=replace_with(lambda b: b.update(id=b["id"] + "x" * 300))),
    Case("body-location-emoji", "PUT", N, 400, "InvalidParameter", "location", body=create_with(lambda b: b.update(location="\U0001f30d"))),
    Case("body-domain-emoji", "PUT", N, 400, "InvalidParameter", "properties.clusterProfile.domain", body=create_with(lambda b: cluster_profile(b).update(domain="\U0001f680"))),
    Case("body-domain-300-chars", "PUT", N, 400, "InvalidParameter", "properties.clusterProfile.domain", body=create_with(lambda b: cluster_profile(b).update(domain="d" * 300))),
    Case("body-domain-trailing-newline", "PUT", N, 400, "InvalidParameter", "properties.clusterProfile.domain", body=create_with(lambda b: cluster_profile(b).update(domain="newcomer\n"))),
    Case("body-resource-group-id-trailing-newline", "PUT", N, 400, "InvalidParameter", "properties.clusterProfile.resourceGroupId", body=create_with(lambda b: cluster_profile(b).update(resourceGroupId=cluster_profile(b)["resourceGroupId"] + "\n"))),
    Case("body-subnet-id-trailing-newline", "PUT", N, 400, "InvalidParameter", "properties.masterProfile.subnetId", body=create_with(lambda b: b["properties"]["masterProfile"].update(subnetId=b["properties"]["masterProfile"]["subnetId"] + "\n"))),
    Case("body-tag-key-600-chars", "PUT", N, 400, "InvalidParameter", "tags", body=create_with(lambda b: b.update(tags={"k" * 600: "v"}))),
    Case("body-tag-value-300-chars", "PATCH", C, 400, "InvalidParameter", "tags", body=const({"tags": {"k": "\u00e9" * 300}})),
    # 2 MiB bodies (declared, and chunked without a length)
    Case("put-2mib", "PUT", N, 400, "RequestBodyTooLarge", content=MIB2, headers=JSON),
    Case("patch-2mib-chunked", "PATCH", C, 400, "RequestBodyTooLarge", content=MIB2, headers=JSON, chunked=True),
    Case("credentials-2mib", "POST", C + "/listCredentials", 400, "RequestBodyTooLarge", content=MIB2, headers=JSON),
    Case("subscription-2mib", "PUT", "/subscriptions/{sub}", 400, "RequestBodyTooLarge", version="2.0", content=MIB2, headers=JSON),
    # wrong content types
    Case("put-xml", "PUT", N, 415, "UnsupportedMediaType", content=b"<cluster/>", headers=XML),
    Case("patch-form", "PATCH", C, 415, "UnsupportedMediaType", content=b"tags=a", headers=FORM),
    Case("patch-json-labelled-text", "PATCH", C, 415, "UnsupportedMediaType", content=b'{"tags": {}}', headers={"Content-Type": "text/plain"}),
    Case("credentials-xml", "POST", C + "/listCredentials", 415, "UnsupportedMediaType", content=b"<x/>", headers=XML),
    Case("json-not-utf8", "PATCH", C, 400, CONTENT, content=b'{"tags": {"a": "\xe9"}}', headers={"Content-Type": "application/json; charset=latin-1"}),
    # unknown api-versions, on every method
    Case("patch-unknown-api-version", "PATCH", C, 400, "InvalidResourceType", version="2024-01-01", body=const({"tags": {}})),
    Case("replace-unknown-api-version", "PUT", C, 400, "InvalidResourceType", version="2025-07-25-preview", body=replace_with(lambda b: None)),
    Case("delete-unknown-api-version", "DELETE", C, 400, "InvalidResourceType", version="2099-01-01"),
    Case("credentials-unknown-api-version", "POST", C + "/listCredentials", 400, "InvalidResourceType", version="1.0"),
    Case("empty-api-version", "PUT", N, 400, "InvalidResourceType", version="", body=create_with(lambda b: None)),
    Case("api-version-in-odd-case", "PUT", N, 400, "InvalidResourceType", version="2019-12-31-PREVIEW", body=create_with(lambda b: None)),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_a_clear_arm_error_and_changes_nothing(
    arm: Arm, victim: tuple[str, dict[str, Any]], case: Case
) -> None:
    refused_and_unchanged(arm, victim, case)


def test_no_case_repeats_the_frontend_table() -> None:
    from tests.frontend.test_errors import CASES as FRONTEND

    assert not {c.id for c in CASES} & {c.id for c in FRONTEND}


# --- $skipToken ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paged(arm: Arm) -> tuple[str, str]:
    """A subscription with two clusters in "pager", and the $skipToken of its first page of one."""
    sub = new_sub()
    for name in ("p1", "p2"):
        arm.start_create(sub, "pager", name)
    for name in ("p1", "p2"):
        arm.wait(cluster_path(sub, "pager", name), {"Succeeded"})
    first = arm.get(sub_list_path(sub), params={"$top": "1"}).json()
    return sub, parse_qs(urlsplit(first["nextLink"]).query)["$skipToken"][0]


def flip(token: str, at: int) -> str:
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]


@pytest.mark.parametrize(
    "how",
    [
        "tampered-start",
        "tampered-middle",
        "tampered-end",
        "truncated",
        "doubled",
        "another-subscription",
        "another-list",
        "garbage",
        "non-ascii",
    ],
)
def test_bad_skiptoken_is_a_clear_arm_error_and_changes_nothing(
    arm: Arm, paged: tuple[str, str], victim: tuple[str, dict[str, Any]], how: str
) -> None:
    sub, token = paged
    path = sub_list_path(sub)
    tokens = {
        "tampered-start": flip(token, 0),
        "tampered-middle": flip(token, len(token) // 2),
        "tampered-end": flip(token, len(token) - 1),
        "truncated": token[:-4],
        "doubled": token + token,
        "garbage": "not-a-token",
        "non-ascii": token[:8] + "\u00e9\U0001f680" + token[8:],
    }
    if how == "another-subscription":
        path = sub_list_path(victim[0])
    elif how == "another-list":
        path = rg_list_path(sub, "pager")
    before = arm.rows(sub), arm.rows(victim[0])
    r = arm.get(path, params={"$top": "1", "$skipToken": tokens.get(how, token)})
    assert r.status_code == 400, r.text
    err = error_of(r)
    assert (err["code"], err.get("target")) == ("InvalidParameter", "$skipToken"), err
    assert (arm.rows(sub), arm.rows(victim[0])) == before
    # the genuine token still pages on
    assert arm.get(sub_list_path(sub), params={"$top": "1", "$skipToken": token}).status_code == 200


# --- odd casing: not an error --------------------------------------------------------------------------


def odd(path: str) -> str:
    """Every other letter of the path in the other case: /sUbScRiPtIoNs/..."""
    return "".join(ch.swapcase() if i % 2 else ch for i, ch in enumerate(path))


def test_a_path_in_odd_casing_succeeds_identically(arm: Arm) -> None:
    sub = new_sub()
    path = cluster_path(sub, "Case-RG", "Case-Cluster")
    created = arm.put(odd(path), cli_body(sub, "Case-Cluster"))
    assert created.status_code == 201, created.text
    assert created.json()["id"] == odd(path), "the casing of the creating PUT is the resource's"
    path = odd(path)
    arm.wait(path, {"Succeeded"})
    op = urlsplit(created.headers["Azure-AsyncOperation"])
    reads = [
        ("GET", path, None),
        ("GET", rg_list_path(sub, "Case-RG"), None),
        ("GET", sub_list_path(sub), None),
        ("POST", path + "/listCredentials", None),
        ("POST", path + "/listAdminCredentials", None),
        ("GET", location_path(sub) + "/openShiftVersions", None),
        ("GET", op.path, None),
    ]
    for method, canonical, body in reads:
        before = arm.rows(sub)
        want = arm.request(method, canonical, json=body)
        for variant in (odd(canonical), canonical.upper(), canonical.lower()):
            got = arm.request(method, variant, json=body)
            assert (got.status_code, got.json()) == (want.status_code, want.json()), (method, variant)
            assert got.headers.get("ETag") == want.headers.get("ETag")
        assert want.status_code == 200, want.text
        assert arm.rows(sub) == before, "a read changed the store"
    # writes too: the same PATCH by the canonical and by an odd-cased path gives the same answer
    answers = []
    for variant in (path, odd(path.lower()), path.upper()):
        r = arm.patch(variant, {"tags": {"casing": "any"}})
        assert r.status_code == 200, r.text
        answers.append(r.json())
        arm.wait(path, {"Succeeded"})
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["id"] == path
    final = arm.get(path.lower()).json()
    assert (final["id"], final["tags"]) == (path, {"casing": "any"})
    r = arm.delete(odd(path.lower()))
    assert r.status_code == 202, r.text
    arm.wait(path, {"gone"})
    assert arm.get(path.upper()).status_code == 404
