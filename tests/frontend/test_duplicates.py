"""Issue 15, item 4: what ARO keeps unique in a subscription is refused at the PUT, race-free (store claims,
``aro.database.claims``), through a real `aro rp`: a classic cluster's managed resource group
(``DuplicateResourceGroup``), service principal (``DuplicateClientID``, ARO-RP's words and empty target) and
subnets (``InvalidLinkedVNet``, naming the field), shared with the hosted clusters' subnet claims. An update
claims what it gains and frees what it gives up; a delete frees everything. A refusal changes nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.fixtures.clusters import cli_body
from tests.frontend.helpers import PROVIDER, Arm, cluster_path, error_of, new_sub
from tests.hcp.helpers import cluster_model

RG = "dup-rg"


def props(body: dict[str, Any]) -> dict[str, Any]:
    p: dict[str, Any] = body["properties"]
    return p


def refused(arm: Arm, sub: str, name: str, body: dict[str, Any], code: str) -> dict[str, Any]:
    before = arm.rows(sub)
    r = arm.put(cluster_path(sub, RG, name), body)
    assert r.status_code == 400, r.text
    err = error_of(r)
    assert err["code"] == code, err
    assert arm.rows(sub) == before, "a refused request changed the store"
    return err


def test_a_second_cluster_may_not_take_what_the_first_holds(arm: Arm) -> None:
    sub = new_sub()
    arm.register(sub)
    first = cli_body(sub, "first")
    arm.create(sub, RG, "first", first)
    taken = props(first)

    dup = cli_body(sub, "second")
    props(dup)["clusterProfile"]["resourceGroupId"] = taken["clusterProfile"]["resourceGroupId"].upper()
    err = refused(arm, sub, "second", dup, "DuplicateResourceGroup")
    rg = props(dup)["clusterProfile"]["resourceGroupId"]
    assert (err.get("target") or "", err["message"]) == (
        "",
        f"The provided resource group '{rg}' already contains a cluster.",
    )

    dup = cli_body(sub, "second")
    client_id = taken["servicePrincipalProfile"]["clientId"]
    props(dup)["servicePrincipalProfile"]["clientId"] = client_id
    err = refused(arm, sub, "second", dup, "DuplicateClientID")
    want = f"The provided service principal with client ID '{client_id}' is already in use by a cluster."
    assert (err.get("target") or "", err["message"]) == ("", want)

    dup = cli_body(sub, "second")
    props(dup)["masterProfile"]["subnetId"] = taken["workerProfiles"][0]["subnetId"].upper()
    err = refused(arm, sub, "second", dup, "InvalidLinkedVNet")
    assert err["target"] == "properties.masterProfile.subnetId", err
    assert (
        err["message"]
        == f"The provided subnet '{props(dup)['masterProfile']['subnetId']}' is already in use by another cluster."
    )

    dup = cli_body(sub, "second")
    props(dup)["workerProfiles"][0]["subnetId"] = taken["masterProfile"]["subnetId"]
    err = refused(arm, sub, "second", dup, "InvalidLinkedVNet")
    assert err["target"] == "properties.workerProfiles['worker'].subnetId", err

    assert arm.put(cluster_path(sub, RG, "second"), cli_body(sub, "second")).status_code == 201


def test_racing_creates_sharing_a_subnet_have_one_winner(arm: Arm) -> None:
    sub = new_sub()
    arm.register(sub)
    shared = props(cli_body(sub, "shared"))["workerProfiles"][0]["subnetId"]

    def put(name: str) -> int:
        body = cli_body(sub, name)
        props(body)["workerProfiles"][0]["subnetId"] = shared
        return arm.put(cluster_path(sub, RG, name), body).status_code

    names = [f"race{i}" for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(put, names))
    assert sorted(codes) == [201] + [400] * 5, codes


def test_an_update_claims_what_it_gains_and_frees_what_it_gives_up(arm: Arm) -> None:
    sub = new_sub()
    arm.register(sub)
    a, b = cli_body(sub, "alpha"), cli_body(sub, "beta")
    arm.create(sub, RG, "alpha", a)
    arm.create(sub, RG, "beta", b)
    old_id = props(a)["servicePrincipalProfile"]["clientId"]

    def new_client(client_id: str) -> dict[str, Any]:
        return {"properties": {"servicePrincipalProfile": {"clientId": client_id, "clientSecret": "rotated-s3cret"}}}

    before = arm.rows(sub)
    r = arm.patch(cluster_path(sub, RG, "alpha"), new_client(props(b)["servicePrincipalProfile"]["clientId"]))
    assert r.status_code == 400 and error_of(r)["code"] == "DuplicateClientID", r.text
    assert arm.rows(sub) == before, "a refused update changed the store"

    fresh = "0f0f0f0f-1111-4222-8333-444444444444"
    r = arm.patch(cluster_path(sub, RG, "alpha"), new_client(fresh))
    assert r.status_code == 200, r.text
    arm.wait(cluster_path(sub, RG, "alpha"), {"Succeeded"})
    # alpha gave up its old client id: another cluster may have it; the new one is alpha's
    gamma = cli_body(sub, "gamma")
    props(gamma)["servicePrincipalProfile"]["clientId"] = old_id
    arm.create(sub, RG, "gamma", gamma)
    delta = cli_body(sub, "delta")
    props(delta)["servicePrincipalProfile"]["clientId"] = fresh
    refused(arm, sub, "delta", delta, "DuplicateClientID")


def test_a_deleted_clusters_values_are_free_again(arm: Arm) -> None:
    sub = new_sub()
    arm.register(sub)
    body = cli_body(sub, "gone")
    arm.create(sub, RG, "gone", body)
    assert arm.delete(cluster_path(sub, RG, "gone")).status_code == 202
    arm.wait(cluster_path(sub, RG, "gone"), {"gone"})
    assert arm.put(cluster_path(sub, RG, "again"), body).status_code == 201


def test_a_classic_and_a_hosted_cluster_cannot_share_a_subnet(arm: Arm) -> None:
    sub = new_sub()
    arm.register(sub)
    classic = cli_body(sub, "classic")
    arm.create(sub, RG, "classic", classic)
    subnet = props(classic)["masterProfile"]["subnetId"]
    hosted = cluster_model(sub, RG, "hosted", managed_resource_group="mrg-hosted", subnet_id=subnet).as_dict()
    path = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/{PROVIDER}/hcpOpenShiftClusters/hosted"
    before = arm.rows(sub)
    r: httpx.Response = arm.put(path, hosted, version="2026-10-01")
    assert r.status_code == 400 and error_of(r)["target"] == "properties.platform.subnetId", r.text
    assert arm.rows(sub) == before
