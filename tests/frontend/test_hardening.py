"""Issue 15, items 3 and 4 (so far): $top takes ASCII digits only, bounded; and two classic clusters cannot
share a managed resource group (400 DuplicateResourceGroup at PUT, race-free: a store claim)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fixtures.clusters import cli_body
from tests.frontend.helpers import Arm, cluster_path, error_of, new_sub, rg_list_path


@pytest.mark.parametrize("top", ["²", "٥", "1" * 4400, "0", "1001", "-1", "+5", " 5"])
def test_top_takes_ascii_digits_only(arm: Arm, top: str) -> None:
    sub = new_sub()
    r = arm.get(rg_list_path(sub, "rg"), params={"$top": top})
    assert r.status_code == 400 and error_of(r)["code"] == "InvalidParameter" and error_of(r)["target"] == "$top"
    r = arm.get("/admin/providers/Microsoft.RedHatOpenShift/openShiftClusters", version=None, params={"$top": top})
    assert r.status_code == 400, r.text


def test_two_clusters_cannot_share_a_managed_resource_group(arm: Arm) -> None:
    sub = new_sub()
    arm.register(sub)
    shared = f"/subscriptions/{sub}/resourceGroups/aro-shared"

    def body(name: str) -> dict[str, object]:
        b = cli_body(sub, name)
        b["properties"]["clusterProfile"]["resourceGroupId"] = shared  # type: ignore[index]
        return b

    def put(name: str) -> int:
        return arm.put(cluster_path(sub, "rg", name), body(name)).status_code

    names = [f"dup{i}" for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(put, names))
    assert sorted(codes) == [201] + [400] * 5, codes
    arm.wait(cluster_path(sub, "rg", names[codes.index(201)]), {"Succeeded"})  # the winner's install is done
    before = arm.rows(sub)
    r = arm.put(cluster_path(sub, "rg", "later"), body("later"))
    assert r.status_code == 400 and error_of(r)["code"] == "DuplicateResourceGroup", r.text
    assert error_of(r)["target"] == "properties.clusterProfile.resourceGroupId"
    assert arm.rows(sub) == before, "a refused request changed the store"
