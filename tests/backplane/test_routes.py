"""The cloud console route's refusals a real RP cannot be brought to (in process, the backplane's app with a
stand-in of the targets): 400 for a cluster without a managed resource group, 503 without a console link
provider, 404 / 502 when the cloud says the group is gone or fails; and the whole backplane answering 503
in a process without it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest

from aro.api.errors import CloudError
from aro.backplane.errors import BackplaneError
from aro.backplane.service import Backplane, BackplaneSettings
from aro.backplane.target import ClusterFacts, ClusterView
from aro.frontend.backplane import create_backplane_app
from aro.frontend.services import Services
from aro.ledger.identity import DevelopmentIssuer, Identity

CLUSTER = "c0ffee00c0ffee00c0ffee00c0ffee00"


class _Organizations:
    async def resolve(self, id_or_tenant: str) -> dict[str, Any]:
        return {"id": id_or_tenant}


class _Targets:
    def __init__(self) -> None:
        self.facts = ClusterFacts(
            "bp", "Succeeded", False, False, "westeurope", "/subscriptions/sub-1/resourceGroups/aro-bp", ""
        )

    async def find(self, cluster_id: str) -> ClusterView:
        if cluster_id != CLUSTER:
            raise BackplaneError(404, f"Cluster {cluster_id} was not found")
        rid = "/subscriptions/sub-1/resourcegroups/rg/providers/microsoft.redhatopenshift/openshiftclusters/bp"
        return ClusterView(CLUSTER, "ext", "org", rid, "openshiftclusters", self.facts)


@pytest.fixture
async def setup() -> AsyncIterator[tuple[httpx.AsyncClient, _Targets, Backplane, list[tuple[str, str, int]]]]:
    issuer = DevelopmentIssuer(b"k" * 32, 3600)
    asked: list[tuple[str, str, int]] = []

    async def link(sub: str, group: str, ttl: int) -> str:
        asked.append((sub, group, ttl))
        if group == "gone":
            raise CloudError(404, "ResourceGroupNotFound", "gone")
        if group == "broken":
            raise CloudError(500, "InternalServerError", "the portal is down")
        return f"https://console.example/{sub}/{group}?ttl={ttl}"

    targets = _Targets()
    backplane = Backplane(cast(Any, targets), BackplaneSettings(console_link_seconds=600), console_link=link)
    services = SimpleNamespace(identity=Identity(issuer, cast(Any, _Organizations()), ["aro-sre"]), backplane=backplane)
    app = create_backplane_app(cast(Services, services))
    token = issuer.issue("sre-sam", "org-1", ["aro-sre"])[0]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://rp", headers={"Authorization": f"Bearer {token}"}
    ) as c:
        yield c, targets, backplane, asked


async def test_console_link_answers_and_refusals(
    setup: tuple[httpx.AsyncClient, _Targets, Backplane, list[tuple[str, str, int]]],
) -> None:
    c, targets, backplane, asked = setup
    r = await c.get(f"/cloud/console/{CLUSTER}")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "clusterID": CLUSTER,
        "consoleLink": "https://console.example/sub-1/aro-bp?ttl=600",
        "region": "westeurope",
    }
    assert asked == [("sub-1", "aro-bp", 600)]

    targets.facts = replace(targets.facts, managed_resource_group_id="")
    r = await c.get(f"/cloud/console/{CLUSTER}")
    assert (r.status_code, r.json()["message"]) == (
        400,
        "cluster bp has no managed resource group yet, cloud console failed",
    )

    for group, status, words in (("gone", 404, "was not found"), ("broken", 502, "the portal is down")):
        targets.facts = replace(targets.facts, managed_resource_group_id=f"/subscriptions/sub-1/resourceGroups/{group}")
        r = await c.get(f"/cloud/console/{CLUSTER}")
        assert r.status_code == status and words in r.json()["message"], r.text
        assert set(r.json()) == {"statusCode", "message"}

    backplane.console_link = None
    r = await c.get(f"/cloud/console/{CLUSTER}")
    assert r.status_code == 503 and r.json()["statusCode"] == 503, r.text
    # a console link is not refused for a cluster that cannot be logged in to
    targets.facts = replace(
        targets.facts, hibernating=True, managed_resource_group_id="/subscriptions/s/resourceGroups/g"
    )
    backplane.console_link = lambda s, g, t: _const(f"https://console.example/{g}")
    r = await c.get(f"/cloud/console/{CLUSTER}")
    assert r.status_code == 200 and r.json()["consoleLink"] == "https://console.example/g", r.text
    r = await c.get(f"/login/{CLUSTER}")
    assert r.status_code == 400 and "hibernating" in r.json()["message"], r.text


async def _const(value: str) -> str:
    return value


async def test_a_process_without_the_backplane_answers_503() -> None:
    services = SimpleNamespace(identity=None, backplane=None)
    app = create_backplane_app(cast(Services, services))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rp") as c:
        for path in (f"/login/{CLUSTER}", f"/cloud/console/{CLUSTER}", f"/cluster/{CLUSTER}/api"):
            r = await c.get(path, headers={"Authorization": "Bearer x"})
            assert r.status_code == 503 and r.json()["statusCode"] == 503, (path, r.text)
