"""The cluster APIs' rules in-process over ASGI (no TLS: the management cluster with bearer tokens):
Status objects and bounds, VM scale sets and the autoscaler knob, watches, protobuf request bodies."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import httpx

from aro.cloud.simulator import SimulatorConfig, create_app
from aro.cloud.simulator import _kubeproto as kubeproto

from .conftest import SUB

VMSS_API = "2024-07-01"

MGMT = "/management/api/v1"
AUTH = {"Authorization": "Bearer t"}


def asgi_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://sim", headers=AUTH)


def cm(name: str, ns: str = "default", **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns, "labels": labels}, "data": {"k": name}}


async def test_api_rules_status_objects_and_bounds(tmp_path: Path) -> None:
    config = SimulatorConfig(tmp_path, token="t", kube_list_limit=3, kube_max_objects=9, kube_max_body_bytes=4096)
    app = create_app(config)
    try:
        async with asgi_client(app) as http:
            resources = {r["name"]: r for r in (await http.get(f"{MGMT}")).json()["resources"]}
            assert (resources["nodes"]["namespaced"], resources["pods"]["namespaced"]) == (False, True)
            assert [
                resources[n]["shortNames"] for n in ("nodes", "namespaces", "pods", "configmaps", "serviceaccounts")
            ] == [
                ["no"],
                ["ns"],
                ["po"],
                ["cm"],
                ["sa"],
            ]
            assert resources["secrets"]["kind"] == "Secret" and "create" in resources["nodes"]["verbs"]  # stored here
            assert (await http.get("/management/api")).json()["versions"] == ["v1"]
            groups = (await http.get("/management/apis")).json()["groups"]
            assert [g["name"] for g in groups] == [
                "authentication.k8s.io",
                "authorization.k8s.io",
                "rbac.authorization.k8s.io",
            ]

            async def status(resp: httpx.Response) -> tuple[int, str]:
                body = resp.json()
                assert body["kind"] == "Status" and body["status"] == "Failure" and body["code"] == resp.status_code
                return resp.status_code, str(body["reason"])

            anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://sim")
            assert await status(await anonymous.get(f"{MGMT}/namespaces")) == (401, "Unauthorized")
            assert await status(await http.get(f"{MGMT}/pods", headers={"Authorization": "Bearer nope"})) == (
                401,
                "Unauthorized",
            )
            await anonymous.aclose()

            assert await status(await http.post(f"{MGMT}/namespaces/nope/configmaps", json=cm("a", "nope"))) == (
                404,
                "NotFound",
            )
            created = await http.post(f"{MGMT}/namespaces/default/configmaps", json=cm("a", env="prod"))
            assert created.status_code == 201
            obj = created.json()
            assert await status(await http.post(f"{MGMT}/namespaces/default/configmaps", json=cm("a"))) == (
                409,
                "AlreadyExists",
            )
            assert await status(await http.post(f"{MGMT}/namespaces/default/configmaps", json=cm("Bad_Name"))) == (
                422,
                "Invalid",
            )
            assert await status(await http.put(f"{MGMT}/namespaces/default/configmaps/b", json=cm("a"))) == (
                400,
                "BadRequest",
            )
            same = await http.put(f"{MGMT}/namespaces/default/configmaps/a", json=obj)
            assert same.json()["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]  # a no-op
            changed = await http.put(f"{MGMT}/namespaces/default/configmaps/a", json={**obj, "data": {"k": "2"}})
            assert int(changed.json()["metadata"]["resourceVersion"]) > int(obj["metadata"]["resourceVersion"])
            assert changed.json()["metadata"]["uid"] == obj["metadata"]["uid"]
            stale = await http.put(f"{MGMT}/namespaces/default/configmaps/a", json={**obj, "data": {"k": "3"}})
            assert await status(stale) == (409, "Conflict")

            merge = {"Content-Type": "application/merge-patch+json"}
            patched = await http.patch(
                f"{MGMT}/namespaces/default/configmaps/a", json={"metadata": {"labels": {"x": "y"}}}, headers=merge
            )
            assert patched.json()["metadata"]["labels"] == {"env": "prod", "x": "y"}
            ops = [{"op": "replace", "path": "/data/k", "value": "j"}, {"op": "remove", "path": "/metadata/labels/x"}]
            jp = await http.patch(
                f"{MGMT}/namespaces/default/configmaps/a",
                json=ops,
                headers={"Content-Type": "application/json-patch+json"},
            )
            assert jp.json()["data"] == {"k": "j"} and jp.json()["metadata"]["labels"] == {"env": "prod"}
            apply = await http.patch(
                f"{MGMT}/namespaces/default/configmaps/a",
                content=b"data: {}",
                headers={"Content-Type": "application/apply-patch+yaml"},
            )
            assert await status(apply) == (415, "UnsupportedMediaType")

            dry = await http.post(f"{MGMT}/namespaces/default/configmaps?dryRun=All", json=cm("dry"))
            assert dry.status_code == 201
            assert await status(await http.get(f"{MGMT}/namespaces/default/configmaps/dry")) == (404, "NotFound")

            for name in ("b", "c", "d", "e"):
                assert (await http.post(f"{MGMT}/namespaces/default/configmaps", json=cm(name))).status_code == 201
            page = (await http.get(f"{MGMT}/namespaces/default/configmaps")).json()  # no limit: capped at 3
            seen = [i["metadata"]["name"] for i in page["items"]]
            while page["metadata"].get("continue"):
                page = (
                    await http.get(
                        f"{MGMT}/namespaces/default/configmaps",
                        params={"limit": "2", "continue": page["metadata"]["continue"]},
                    )
                ).json()
                seen += [i["metadata"]["name"] for i in page["items"]]
            assert seen == ["a", "b", "c", "d", "e"]
            assert await status(await http.get(f"{MGMT}/configmaps?continue=garbage")) == (400, "BadRequest")
            assert await status(await http.get(f"{MGMT}/configmaps?fieldSelector=data.k%3Da")) == (400, "BadRequest")
            assert await status(await http.post(f"{MGMT}/namespaces/default/configmaps", json=cm("f"))) == (
                403,
                "Forbidden",
            )  # the quota: 9 objects (2 namespaces, their default service accounts, 5 config maps)
            big = cm("big")
            big["data"] = {"k": "x" * 5000}
            assert await status(await http.post(f"{MGMT}/namespaces/default/configmaps", json=big)) == (
                413,
                "RequestEntityTooLarge",
            )

            table = await http.get(
                f"{MGMT}/namespaces/default/configmaps?limit=2",
                headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
            )
            assert table.json()["kind"] == "Table" and [c["name"] for c in table.json()["columnDefinitions"]] == [
                "Name",
                "Data",
                "Age",
            ]
            assert table.json()["rows"][0]["object"]["kind"] == "PartialObjectMetadata"

            assert await status(await http.delete(f"{MGMT}/namespaces/default")) == (403, "Forbidden")
            for name in ("b", "c", "d", "e"):
                assert (await http.delete(f"{MGMT}/namespaces/default/configmaps/{name}")).status_code == 200
            assert (await http.post(f"{MGMT}/namespaces", json={"metadata": {"name": "team"}})).status_code == 201
            sa = (await http.get(f"{MGMT}/namespaces/team/serviceaccounts/default")).json()
            assert sa["kind"] == "ServiceAccount"
            secret = {"metadata": {"name": "s"}, "stringData": {"password": "p"}}
            made = (await http.post(f"{MGMT}/namespaces/team/secrets", json=secret)).json()
            assert made["data"] == {"password": "cA=="} and made["type"] == "Opaque" and "stringData" not in made
            retype = await http.put(f"{MGMT}/namespaces/team/secrets/s", json={**made, "type": "kubernetes.io/tls"})
            assert await status(retype) == (422, "Invalid")
            gone = (await http.delete(f"{MGMT}/namespaces/team")).json()
            assert gone["status"]["phase"] == "Terminating"
            assert await status(await http.get(f"{MGMT}/namespaces/team/secrets/s")) == (404, "NotFound")
        await app.shutdown()

        again = create_app(config)  # state persists across restarts
        async with asgi_client(again) as http:
            kept = (await http.get(f"{MGMT}/namespaces/default/configmaps/a")).json()
            assert kept["data"] == {"k": "j"}
    finally:
        await app.shutdown()


async def test_scale_sets_instances_and_autoscaler(tmp_path: Path) -> None:
    app = create_app(SimulatorConfig(tmp_path, token="t"))
    rg = f"/subscriptions/{SUB}/resourceGroups/pool-rg"
    vmss = f"{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/pool1"
    api = {"api-version": VMSS_API}

    def body(capacity: int | None, custom: str = "v1", **tags: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "location": "eastus",
            "tags": tags,
            "sku": {"name": "Standard_D4s_v5"},
            "properties": {
                "virtualMachineProfile": {"osProfile": {"customData": base64.b64encode(custom.encode()).decode()}}
            },
        }
        if capacity is not None:
            out["sku"]["capacity"] = capacity
        return out

    try:
        async with asgi_client(app) as http:

            async def instances() -> list[dict[str, Any]]:
                resp = await http.get(f"{vmss}/virtualMachines", params=api)
                resp.raise_for_status()
                return list(resp.json()["value"])

            async def put(b: dict[str, Any]) -> httpx.Response:
                return await http.put(vmss, params=api, json=b)

            assert (
                await http.put(rg, params={"api-version": "2025-04-01"}, json={"location": "eastus"})
            ).status_code == 201
            template = {
                "resources": [
                    {
                        "type": "Microsoft.Compute/virtualMachineScaleSets",
                        "apiVersion": VMSS_API,
                        "name": "pool1",
                        "location": "[resourceGroup().location]",
                        **{k: v for k, v in body(2).items() if k != "location"},
                    }
                ]
            }
            deployment = f"{rg}/providers/Microsoft.Resources/deployments/pools"
            deployed = await http.put(
                deployment, params=api, json={"properties": {"mode": "Incremental", "template": template}}
            )
            assert deployed.status_code == 201
            first = await instances()
            assert [(i["instanceId"], i["name"]) for i in first] == [("0", "pool1_0"), ("1", "pool1_1")]
            assert first[0]["properties"]["osProfile"]["computerName"] == "pool1000000"
            assert first[0]["id"] == f"{vmss}/virtualMachines/0" and first[0]["properties"]["latestModelApplied"]

            assert (await put(body(3, "v2"))).json()["sku"]["capacity"] == 3  # a new model reaches new instances only
            assert [i["properties"]["latestModelApplied"] for i in await instances()] == [False, False, True]
            assert (await put(body(None, "v2"))).json()["sku"]["capacity"] == 3  # no capacity: unchanged
            assert [i["instanceId"] for i in await instances()] == ["0", "1", "2"]
            await put(body(1, "v2"))
            assert [i["instanceId"] for i in await instances()] == ["0"]  # the newest go first
            assert (await http.delete(f"{vmss}/virtualMachines/0", params=api)).status_code == 200
            assert (await http.get(vmss, params=api)).json()["sku"]["capacity"] == 0
            assert (await http.get(f"{vmss}/virtualMachines/0", params=api)).status_code == 404

            for bad in (body(-1), body(2, **{"aro-autoscaling": "enabled", "min": "3", "max": "2"})):
                resp = await put(bad)
                assert resp.status_code == 400 and resp.json()["error"]["code"] == "InvalidParameter"
            template["resources"][0]["tags"] = {"aro-autoscaling": "enabled", "min": "x", "max": "2"}
            rejected = await http.put(
                deployment, params=api, json={"properties": {"mode": "Incremental", "template": template}}
            )
            assert rejected.status_code == 400

            auto = {"aro-autoscaling": "enabled", "min": "1", "max": "4"}
            assert (await put(body(7, "v3", **auto))).json()["sku"]["capacity"] == 1  # default demand = min

            async def demand(n: int | None) -> dict[str, Any]:
                resp = await http.put("/simulator/autoscaler", json={"scaleSet": vmss, "demand": n})
                assert resp.status_code == 200, resp.text
                return dict(resp.json())

            assert (await demand(3))["capacity"] == 3 and len(await instances()) == 3
            assert (await demand(10))["capacity"] == 4
            assert (await put(body(1, "v3", **auto))).json()["sku"]["capacity"] == 4  # the autoscaler owns it
            assert (await demand(0))["capacity"] == 1
            assert (await demand(None)) == {"scaleSet": vmss, "demand": None, "autoscaled": True, "capacity": 1}
            listed = (await http.get("/simulator/autoscaler")).json()["value"]
            assert [(v["scaleSet"], v["capacity"]) for v in listed] == [(vmss, 1)]
            missing = await http.put("/simulator/autoscaler", json={"scaleSet": vmss + "x", "demand": 1})
            assert missing.status_code == 404
            ids = [i["instanceId"] for i in await instances()]
            assert ids == ["3"]  # every id is new after the scale-down to 0 and back

            assert (await http.delete(vmss, params=api)).status_code in (200, 204)
            assert (await http.get(f"{vmss}/virtualMachines", params=api)).status_code == 404
    finally:
        await app.shutdown()


async def test_watch_streams_committed_changes(tmp_path: Path) -> None:
    app = create_app(SimulatorConfig(tmp_path, token="t"))
    try:
        async with asgi_client(app) as http:
            base = f"{MGMT}/namespaces/default/configmaps"
            assert (await http.post(base, json=cm("before", app="x"))).status_code == 201
            listed = (await http.get(base)).json()["metadata"]["resourceVersion"]

            async def watch(**params: str) -> list[tuple[str, str]]:
                resp = await http.get(base, params={"watch": "true", "timeoutSeconds": "0.6", **params})
                assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
                events = [json.loads(line) for line in resp.text.splitlines()]
                return [(e["type"], e["object"]["metadata"]["name"]) for e in events]

            everything = asyncio.ensure_future(watch())
            selected = asyncio.ensure_future(watch(labelSelector="app=x", resourceVersion=listed))
            await asyncio.sleep(0.1)
            assert (await http.post(f"{base}?dryRun=All", json=cm("dry", app="x"))).status_code == 201
            assert (await http.post(base, json=cm("other"))).status_code == 201
            assert (await http.post(base, json=cm("mine", app="x"))).status_code == 201
            assert (await http.post(base, json=cm("mine", app="x"))).status_code == 409  # rolled back: no event
            assert (await http.delete(f"{base}/mine")).status_code == 200
            assert await everything == [("ADDED", "before"), ("ADDED", "other"), ("ADDED", "mine"), ("DELETED", "mine")]
            assert await selected == [("ADDED", "mine"), ("DELETED", "mine")]
            forbidden = await http.get(f"{base}/mine", params={"watch": "true"})
            assert forbidden.status_code == 405
    finally:
        await app.shutdown()


def test_protobuf_bodies_as_kubectl_sends_them() -> None:
    # captured from kubectl 1.32: `create cm web --from-literal=k=v --from-file=bin=<\x00\x01>` and
    # `create secret generic s --from-literal=p=q --type=example.com/t`
    configmap = "azhzAAoPCgJ2MRIJQ29uZmlnTWFwEigKEwoDd2ViEgAaACIAKgAyADgAQgASCQoDYmluEgIAARIGCgFrEgF2GgAiAA=="
    secret = "azhzAAoMCgJ2MRIGU2VjcmV0EioKEQoBcxIAGgAiACoAMgA4AEIAEgYKAXASAXEaDWV4YW1wbGUuY29tL3QaACIA"
    assert kubeproto.decode(base64.b64decode(configmap)) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "web"},
        "data": {"bin": "\x00\x01", "k": "v"},
    }
    assert kubeproto.decode(base64.b64decode(secret)) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"p": "cQ=="},
        "type": "example.com/t",
    }
