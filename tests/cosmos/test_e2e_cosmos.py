"""End to end on Cosmos DB: `aro simulator`, `aro frontend` and two `aro backend` processes sharing one
database on the local Cosmos DB server; 20 clusters created, updated (PATCH tags) and deleted over HTTPS."""

from __future__ import annotations

import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.backend.helpers import V, cluster_url, create, simulator_requests, wait_state
from tests.database.cosmos_server import CosmosServer

CLUSTERS = 20


def owner_process(owner: str) -> str:
    """Lease owners are '<host>-<pid>-<pool id>-<claim id>': the process part."""
    return owner.rsplit("-", 1)[0]


def install_owners(data: Path, names: list[str]) -> dict[str, set[str]]:
    """For each cluster, the lease owners of the simulator requests made for its install."""
    groups = {f"aro-{n}": n for n in names}
    owners: dict[str, set[str]] = defaultdict(set)
    for e in simulator_requests(data):
        if e.get("leaseOwner") and "/resourcegroups/" in e["path"].lower():
            rg = e["path"].lower().split("/resourcegroups/")[1].split("/")[0]
            if rg in groups:
                owners[groups[rg]].add(e["leaseOwner"])
    return owners


def test_two_backends_create_update_delete_20_clusters(
    rp_factory: Any, tmp_path: Path, cosmos_server: CosmosServer
) -> None:
    started = time.monotonic()
    data = tmp_path / "data"
    env = cosmos_server.env(cosmos_server.new_database("e2e"))
    sim = rp_factory("simulator", data_dir=data)
    fe = rp_factory("frontend", data_dir=data, env=env)
    backend_env = {**env, "ARO_CLOUD_SIMULATOR_ENDPOINT": sim.base_url, "ARO_BACKEND_LEASE_SECONDS": "10"}
    backends = [rp_factory("backend", data_dir=data, env=backend_env) for _ in range(2)]
    names = [f"cos{i:03d}" for i in range(CLUSTERS)]

    def update(c: httpx.Client, name: str) -> dict[str, Any]:
        r = c.patch(cluster_url(name), params={"api-version": V}, json={"tags": {"team": "aro", "pass": name}})
        assert r.status_code == 200, r.text
        assert r.json()["properties"]["provisioningState"] == "Updating"
        return wait_state(c, name, {"Succeeded", "Failed"}, timeout=120)

    def delete(c: httpx.Client, name: str) -> None:
        r = c.delete(cluster_url(name), params={"api-version": V})
        assert r.status_code == 202, r.text
        wait_state(c, name, {"404"}, timeout=120)

    with fe.client() as c, ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: create(c, n), names))
        created = list(pool.map(lambda n: wait_state(c, n, {"Succeeded", "Failed"}, timeout=120), names))
        assert [s["properties"]["provisioningState"] for s in created] == ["Succeeded"] * CLUSTERS
        owners = install_owners(data, names)

        updated = list(pool.map(lambda n: update(c, n), names))
        assert [s["properties"]["provisioningState"] for s in updated] == ["Succeeded"] * CLUSTERS
        assert all(s["tags"] == {"team": "aro", "pass": n} for s, n in zip(updated, names, strict=True))

        list(pool.map(lambda n: delete(c, n), names))
        listed = c.get(
            f"/subscriptions/{cluster_url('x').split('/')[2]}/providers/Microsoft.RedHatOpenShift/openShiftClusters",
            params={"api-version": V},
        )
        assert listed.status_code == 200 and listed.json()["value"] == []

    assert sorted(owners) == sorted(names), "every install reached the simulator with a lease owner"
    assert all(len(o) == 1 for o in owners.values()), f"an install ran in two lease owners: {owners}"
    processes = {owner_process(next(iter(o))) for o in owners.values()}
    for b in backends:
        assert b.proc is not None and b.proc.poll() is None, b.log()
    print(
        f"\n{CLUSTERS} clusters created, updated and deleted on Cosmos DB in {time.monotonic() - started:.1f}s; "
        f"installs split across {len(processes)} backend processes"
    )
