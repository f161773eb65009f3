"""Issue 15, the application's items: the systemData header validated (2), a client gone mid-body counted
as a disconnect (3), every integer bounded (5), ARM's subscription notification validated (6), and the
small contract breaks (7). Every refusal is an ARM error body and leaves the store as it was."""

from __future__ import annotations

import json
import re
import socket
import time
from typing import Any

import httpx
import pytest

from tests.conftest import RPProcess
from tests.fixtures.kinds import HCP_CLUSTERS
from tests.frontend.helpers import Arm, cli_body, cluster_path, error_of, new_sub

SYSTEM_DATA = "x-ms-arm-resource-system-data"
GOOD = {
    "createdBy": "someone@example.com",
    "createdByType": "User",
    "createdAt": "2024-01-02T03:04:05.1234567Z",
    "lastModifiedBy": "someone@example.com",
    "lastModifiedByType": "User",
    "lastModifiedAt": "2024-01-02T03:04:05+01:00",
}


# --- item 2: x-ms-arm-resource-system-data ---------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        json.dumps(GOOD | {"createdBy": "x" * 257}),
        json.dumps(GOOD | {"createdBy": "a\u0000b"}),
        json.dumps(GOOD | {"lastModifiedBy": "evil\u202etxt.exe"}),
        json.dumps(GOOD | {"createdByType": "NotAType"}),
        json.dumps(GOOD | {"createdAt": "yesterday"}),
        json.dumps(GOOD | {"lastModifiedAt": "2024-02-30T00:00:00Z"}),
        json.dumps(GOOD | {"createdBy": 5}),
        json.dumps(["not", "an", "object"]),
        "{not json",
        json.dumps(GOOD | {"padding": "x" * 5000}),
    ],
    ids=["long", "nul", "bidi", "type", "date", "no-such-day", "number", "array", "json", "huge"],
)
def test_a_bad_system_data_header_is_refused_and_nothing_stored(arm: Arm, header: str) -> None:
    sub = new_sub()
    arm.register(sub)
    before = arm.rows(sub)
    path = cluster_path(sub, "rg", "sysdata")
    r = arm.put(path, cli_body(sub, "sysdata"), headers={SYSTEM_DATA: header})
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] == "InvalidParameter" and error_of(r)["target"] == SYSTEM_DATA, r.text
    assert arm.rows(sub) == before, "a refused request changed the store"


def test_a_good_system_data_header_is_stored(arm: Arm) -> None:
    sub = new_sub()
    arm.register(sub)
    path = cluster_path(sub, "rg", "sysgood")
    r = arm.put(path, cli_body(sub, "sysgood"), headers={SYSTEM_DATA: json.dumps(GOOD | {"unknown": 1})})
    assert r.status_code == 201, r.text
    assert arm.get(path).json()["systemData"] == GOOD


# --- item 3: a client that disconnects mid-body -------------------------------------------------------


def _metric(rp: RPProcess, route: str, status: str) -> float:
    text = httpx.get(rp.base_url + "/metrics", verify=rp.ssl_context()).text
    pattern = rf'aro_http_requests_total\{{method="PUT",route="{re.escape(route)}",status="{status}"\}} (\S+)'
    m = re.search(pattern, text)
    return float(m[1]) if m else 0.0


def test_a_client_gone_mid_body_is_a_disconnect_not_a_500(rp: RPProcess) -> None:
    route = "/subscriptions/{subscriptionId}"
    sub = new_sub()
    head = (
        f"PUT /subscriptions/{sub}?api-version=2.0 HTTP/1.1\r\nHost: localhost\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    before = _metric(rp, route, "499")
    host, port = rp.base_url.removeprefix("https://").split(":")
    with socket.create_connection((host, int(port))) as raw:
        with rp.ssl_context().wrap_socket(raw, server_hostname=host) as tls:
            tls.sendall(head.encode() + b'{"state": "Regis')  # 16 of the 1000 bytes announced, then gone
    deadline = time.monotonic() + 10
    while _metric(rp, route, "499") == before:  # the count lands when the request's handler ends
        assert time.monotonic() < deadline, "the disconnect was never counted"
        time.sleep(0.05)
    assert _metric(rp, route, "500") == 0
    assert "unhandled error" not in rp.log()


# --- item 5: integers bounded ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [(10**4000, "InvalidRequestContent"), (2**31, "InvalidRequestContent"), (32768, "InvalidParameter")],
    ids=["huge", "int32", "over-azure-max"],
)
def test_disk_size_is_bounded(arm: Arm, value: int, code: str) -> None:
    sub = new_sub()
    arm.register(sub)
    body = cli_body(sub, "disk")
    body["properties"]["workerProfiles"][0]["diskSizeGB"] = value
    before = arm.rows(sub)
    r = arm.put(cluster_path(sub, "rg", "disk"), body)
    assert r.status_code == 400 and error_of(r)["code"] == code, r.text[:500]
    assert str(error_of(r)["target"]).endswith(".diskSizeGB"), r.text[:500]
    assert len(r.content) < 2000, "the refusal echoed the whole number"
    assert arm.rows(sub) == before


def test_hosted_integers_are_bounded(arm: Arm) -> None:
    sub = new_sub()
    arm.register(sub)
    body: dict[str, Any] = HCP_CLUSTERS.body(sub, "huge")
    body["properties"].setdefault("autoscaling", {})["podPriorityThreshold"] = 10**4000
    before = arm.rows(sub)
    r = arm.put(HCP_CLUSTERS.path(sub, "rg", "huge"), body, version=HCP_CLUSTERS.api_version)
    assert r.status_code == 400, r.text[:500]
    assert error_of(r)["target"] == "properties.autoscaling.podPriorityThreshold"
    assert arm.rows(sub) == before


# --- item 6: the subscription notification -----------------------------------------------------------


def _notification(**properties: Any) -> dict[str, Any]:
    return {"state": "Registered", "properties": {"tenantId": "00000000-0000-0000-0000-0000000000aa", **properties}}


@pytest.mark.parametrize(
    ("version", "body", "code", "target"),
    [
        ("2099-01-01", _notification(), "InvalidResourceType", None),
        (None, _notification(), "InvalidResourceType", None),
        ("2.0", {"state": "Registered", "properties": "x"}, "InvalidParameter", "properties"),
        ("2.0", _notification(tenantId="t" * 5000), "InvalidParameter", "properties.tenantId"),
        ("2.0", _notification(tenantId="not-a-guid"), "InvalidParameter", "properties.tenantId"),
        ("2.0", _notification(quotaId=["x"]), "InvalidParameter", "properties.quotaId"),
        (
            "2.0",
            _notification(registeredFeatures=[{"name": "f", "state": "Registered"}] * 1001),
            "InvalidParameter",
            "properties.registeredFeatures",
        ),
        (
            "2.0",
            _notification(registeredFeatures=[{"name": 5, "state": "Registered"}]),
            "InvalidParameter",
            "properties.registeredFeatures[0].name",
        ),
        ("2.0", {"state": "Registered", "registrationDate": 5}, "InvalidParameter", "registrationDate"),
        ("2.0", {"state": ["Registered"]}, "InvalidParameter", "state"),
    ],
    ids=[
        "version",
        "no-version",
        "properties",
        "huge-tenant",
        "tenant",
        "quota",
        "features",
        "feature-name",
        "date",
        "state",
    ],
)
def test_a_bad_subscription_notification_is_refused(
    arm: Arm, version: str | None, body: dict[str, Any], code: str, target: str | None
) -> None:
    sub = new_sub()
    r = arm.put(f"/subscriptions/{sub}", body, version=version)
    assert r.status_code == 400, r.text[:500]
    assert error_of(r)["code"] == code and error_of(r).get("target") == target, r.text[:500]
    assert arm.rows(sub) == [], "a refused notification was stored"
    r = arm.put(f"/subscriptions/{sub}", _notification(), version="2.0")
    assert r.status_code == 201, r.text  # created now: nothing was kept


def test_a_subscription_notification_keeps_only_what_is_known(arm: Arm) -> None:
    sub = new_sub()
    body = _notification(
        registeredFeatures=[{"name": "Microsoft.RedHatOpenShift/Preview", "state": "Registered"}],
        accountOwner={"puid": "secret", "email": "owner@example.com"},
        somethingNew={"nested": "x" * 1000},
    )
    r = arm.put(f"/subscriptions/{sub}", body | {"registrationDate": "Mon, 01 Jan 2024 00:00:00 GMT"}, version="2.0")
    assert r.status_code == 201, r.text
    assert r.json() == {
        "state": "Registered",
        "registrationDate": "Mon, 01 Jan 2024 00:00:00 GMT",
        "properties": {
            "tenantId": "00000000-0000-0000-0000-0000000000aa",
            "registeredFeatures": [{"name": "Microsoft.RedHatOpenShift/Preview", "state": "Registered"}],
        },
    }


# --- item 7: small contract breaks -------------------------------------------------------------------


def test_delete_of_a_missing_resource_with_if_match_is_412(arm: Arm) -> None:
    sub = new_sub()
    arm.register(sub)
    r = arm.delete(cluster_path(sub, "rg", "missing"), headers={"If-Match": "*"})
    assert r.status_code == 412 and error_of(r)["code"] == "PreconditionFailed", r.text
    assert arm.delete(cluster_path(sub, "rg", "missing")).status_code == 204


def test_a_trailing_slash_is_an_arm_error_not_a_redirect(arm: Arm) -> None:
    sub = new_sub()
    for method in ("GET", "PUT", "DELETE"):
        r = arm.request(method, cluster_path(sub, "rg", "c") + "/", headers={"Host": "evil.example"})
        assert r.status_code == 404 and error_of(r)["code"] == "NotFound", (method, r.status_code, r.text)
        assert "location" not in r.headers


def test_an_encoded_slash_in_a_name_is_an_arm_error(arm: Arm) -> None:
    sub = new_sub()
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        r = arm.request(method, cluster_path(sub, "rg", "a%2Fb"))
        assert r.status_code == 404 and error_of(r)["code"] == "NotFound", (method, r.status_code, r.text)


def test_an_over_long_url_is_an_arm_error(arm: Arm) -> None:
    sub = new_sub()
    r = arm.get(cluster_path(sub, "rg", "c" * 9000))
    assert r.status_code == 414 and error_of(r)["code"] == "RequestUriTooLong", (r.status_code, r.text[:200])
