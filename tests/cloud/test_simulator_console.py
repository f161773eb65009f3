"""The simulator's web console (``_console``): the page of one resource group behind a signed, expiring
link, opened in headless Chromium; the admin API that mints links; and ``ArmCloud.console_link`` (the
RP side: the simulator's link in simulator mode, the Azure portal's page in Azure mode).

Chromium: the Debian ``chromium`` binary. Missing, the browser tests fail under ``CI=true`` and are
skipped (saying why) elsewhere."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from aro.api.errors import CloudError
from aro.cloud.arm import ArmCloud
from aro.cloud.simulator import SimulatorConfig, create_app
from aro.cloud.simulator import _console as console
from aro.env.config import load
from aro.run import make_cloud

from .conftest import SUB, TOKEN, Simulator

RG_A, RG_B = "console-a", "console-b"
MANAGED_BY = f"/subscriptions/{SUB}/resourceGroups/rp/providers/Microsoft.RedHatOpenShift/openShiftClusters/c1"
EVIL = "<script>document.title='owned'</script>"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def rg_id(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{name}"


@pytest.fixture
def sim_config() -> dict[str, Any]:
    # no step delay: scale set instances are Succeeded as soon as the deployment is (a deterministic page)
    return {"step_delay_seconds": 0.0, "token": TOKEN}


# -- headless Chromium --------------------------------------------------------------------------------------


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        reason = "the Debian `chromium` binary is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs headless Chromium for the console tests: {reason}")
        print(f"skipping: {reason}")
        pytest.skip(reason)
    return found


async def dump_dom(url: str, profile: Path) -> str:
    """The DOM Chromium built from ``url`` (after load), serialized."""
    proc = await asyncio.create_subprocess_exec(
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--ignore-certificate-errors",  # the simulator's throwaway CA
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 90)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    dom = out.decode()
    assert "<html" in dom, (dom[:500], err.decode(errors="replace")[-2000:])
    return dom


class Dom(HTMLParser):
    """Start tags, the title, the ``<dl>`` facts and each ``<div id=...>``'s table rows (cell texts)."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.title = ""
        self.h1 = ""
        self.facts: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self._in: str | None = None  # title | h1 | dt | dd
        self._term = ""
        self._section: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        ident = dict(attrs).get("id")
        if tag == "div" and ident:
            self._section = ident
            self.tables[ident] = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("title", "h1", "dt", "dd"):
            self._in = tag
            if tag == "dt":
                self._term = ""
            elif tag == "dd":
                self.facts[self._term] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._section is not None:
            self.tables[self._section].append(self._row)
            self._row = None
        elif tag == "div":
            self._section = None
        elif tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.h1 += data
        elif self._in == "dt":
            self._term += data
        elif self._in == "dd":
            self.facts[self._term] += data

    def rows(self, section: str) -> dict[str, list[str]]:
        """The table's data rows by their first cell (the header row dropped)."""
        table = self.tables.get(section, [])
        return {row[0]: row for row in table[1:]}


# -- the simulator's side ---------------------------------------------------------------------------------------


def console_template() -> dict[str, Any]:
    def vm(name: str, **extra: Any) -> dict[str, Any]:
        return {
            "type": "Microsoft.Compute/virtualMachines",
            "apiVersion": "2024-03-01",
            "name": name,
            "location": "[resourceGroup().location]",
            "properties": {"hardwareProfile": {"vmSize": "Standard_D8s_v5"}, **extra},
        }

    return {
        "resources": [
            {
                "type": "Microsoft.Storage/storageAccounts",
                "apiVersion": "2023-01-01",
                "name": "clusterstore1",
                "location": "[resourceGroup().location]",
                "sku": {"name": "Standard_LRS"},
                "kind": "StorageV2",
                "properties": {},
            },
            vm("infra-master-0"),
            # Azure's instance view shape: the power state the page shows when a VM has one
            vm("infra-master-1", instanceView={"statuses": [{"code": "PowerState/deallocated"}]}),
            {
                "type": "Microsoft.Compute/virtualMachineScaleSets",
                "apiVersion": "2024-07-01",
                "name": "infra-worker",
                "location": "[resourceGroup().location]",
                "sku": {"name": "Standard_D4s_v5", "capacity": 2},
                "properties": {"virtualMachineProfile": {"osProfile": {"computerNamePrefix": "infra-worker"}}},
            },
        ]
    }


async def make_groups(sim: Simulator, cloud: ArmCloud) -> None:
    """Group A: tags (one hostile), managedBy, four resources (two VMs, a scale set of two), a deployment
    that succeeded and one that failed. Group B: empty."""
    await cloud.create_resource_group(SUB, RG_A, "eastus", MANAGED_BY, {"owner": "sre", "note": EVIL})
    await cloud.deploy(SUB, RG_A, "base", console_template(), {})
    await sim.set_faults(
        {"operation": "deploy", "match": "broken", "code": "QuotaExceeded", "message": "Not enough <cores> left."}
    )
    with pytest.raises(CloudError):
        await cloud.deploy(SUB, RG_A, "broken", {"resources": []}, {})
    await cloud.create_resource_group(SUB, RG_B, "westeurope", MANAGED_BY + "b", {})


async def mint(sim: Simulator, name: str, ttl: int | None = 600) -> dict[str, Any]:
    assert sim.admin is not None
    body: dict[str, Any] = {"resourceGroupId": rg_id(name)}
    if ttl is not None:
        body["ttlSeconds"] = ttl
    resp = await sim.admin.post("/simulator/console/links", json=body)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def anonymous(sim: Simulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=sim.ssl)  # no Authorization header: the link is the credential


async def test_the_page_in_headless_chromium_shows_the_group(sim: Simulator, tmp_path: Path) -> None:
    chromium()
    cloud = sim.cloud()
    await make_groups(sim, cloud)
    before = int(time.time())
    minted = await mint(sim, RG_A, ttl=600)
    link = minted["link"]
    assert link.startswith(f"{sim.base_url}/console/subscriptions/{SUB}/resourceGroups/{RG_A}?expires=")
    expires = int(re.search(r"expires=(\d+)", link).group(1))  # type: ignore[union-attr]
    assert before + 600 <= expires <= int(time.time()) + 600
    assert minted["expiresOn"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))

    async with anonymous(sim) as http:
        resp = await http.get(link)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert resp.headers["content-security-policy"] == CSP
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert resp.headers["cache-control"] == "no-store"
    assert "<script" not in resp.text.lower() and "&lt;script&gt;" in resp.text  # escaped on the wire

    dom = Dom(await dump_dom(link, tmp_path / "chromium"))
    assert dom.h1 == f"Resource group {RG_A}"
    assert dom.title == f"{RG_A} - simulated Azure console", "no script ran (it would have set the title)"
    assert "script" not in dom.tags, "a tag value became an element"
    assert dom.facts["Subscription"] == SUB
    assert dom.facts["Resource group id"] == rg_id(RG_A)
    assert (dom.facts["Location"], dom.facts["Provisioning state"]) == ("eastus", "Succeeded")
    assert dom.facts["Managed by"] == MANAGED_BY
    assert dom.rows("tags") == {"note": ["note", EVIL], "owner": ["owner", "sre"]}

    resources = dom.rows("resources")
    assert set(resources) == {"clusterstore1", "infra-master-0", "infra-master-1", "infra-worker"}
    assert resources["clusterstore1"] == ["clusterstore1", "Microsoft.Storage/storageAccounts", "eastus", "Succeeded"]
    assert resources["infra-worker"][1:] == ["Microsoft.Compute/virtualMachineScaleSets", "eastus", "Succeeded"]

    deployments = dom.rows("deployments")
    assert set(deployments) == {"base", "broken"}
    assert deployments["base"][1] == "Succeeded" and deployments["base"][3] == ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", deployments["base"][2])
    assert deployments["broken"][1] == "Failed"
    assert "QuotaExceeded: Not enough <cores> left." in deployments["broken"][3]

    machines = dom.rows("machines")
    assert machines == {
        "infra-master-0": ["infra-master-0", "virtual machine", "Standard_D8s_v5", "Succeeded", "running"],
        "infra-master-1": ["infra-master-1", "virtual machine", "Standard_D8s_v5", "Succeeded", "deallocated"],
        "infra-worker_0": [
            "infra-worker_0",
            "instance 0 of scale set infra-worker",
            "Standard_D4s_v5",
            "Succeeded",
            "running",
        ],
        "infra-worker_1": [
            "infra-worker_1",
            "instance 1 of scale set infra-worker",
            "Standard_D4s_v5",
            "Succeeded",
            "running",
        ],
    }


async def test_the_page_shows_the_power_the_simulator_keeps(sim: Simulator) -> None:
    """A VM and a scale set instance deallocated through the simulator's power actions (``_power``)."""
    cloud = sim.cloud()
    await make_groups(sim, cloud)
    assert sim.admin is not None
    compute = f"{rg_id(RG_A)}/providers/Microsoft.Compute"
    for target in (
        f"{compute}/virtualMachines/infra-master-0",
        f"{compute}/virtualMachineScaleSets/infra-worker/virtualMachines/1",
    ):
        resp = await sim.admin.post(f"{target}/deallocate", params={"api-version": "2024-07-01"})
        assert resp.status_code in (200, 202), resp.text
    link = (await mint(sim, RG_A))["link"]
    async with anonymous(sim) as http:
        machines = Dom((await http.get(link)).text).rows("machines")
    # no step delay: the actions have ended by the page's read (the store settles first)
    assert {name: row[4] for name, row in machines.items()} == {
        "infra-master-0": "deallocated",
        "infra-master-1": "deallocated",  # its instance view (the template's) says so
        "infra-worker_0": "running",
        "infra-worker_1": "deallocated",
    }


async def test_a_link_opens_its_own_group_only(sim: Simulator) -> None:
    cloud = sim.cloud()
    await make_groups(sim, cloud)
    link = (await mint(sim, RG_A))["link"]
    tampered = {
        "another group, same signature": link.replace(f"/resourceGroups/{RG_A}?", f"/resourceGroups/{RG_B}?"),
        "a changed signature": re.sub(r"signature=(.)", lambda m: "signature=" + ("B" if m[1] != "B" else "C"), link),
        "a later expiry": re.sub(r"expires=(\d+)", lambda m: f"expires={int(m[1]) + 1}", link),
        "no signature": link.split("&signature=")[0],
        "nothing signed": link.split("?")[0],
    }
    async with anonymous(sim) as http:
        assert (await http.get(link)).status_code == 200
        # the group's name in another case is the same group (ARM names are case-insensitive)
        assert (await http.get(link.replace(RG_A, RG_A.upper()))).status_code == 200
        for what, url in tampered.items():
            assert url != link, what
            resp = await http.get(url)
            assert resp.status_code == 403, what
            assert "This console link is not valid." in resp.text, what
            assert RG_B not in resp.text and RG_A not in resp.text, f"{what}: nothing about a group is revealed"
            assert resp.headers["content-security-policy"] == CSP, what


async def test_an_expired_link_is_refused(sim: Simulator) -> None:
    cloud = sim.cloud()
    await make_groups(sim, cloud)
    secret = console.load_secret(sim.data_dir)  # the simulator's own: the file it reads (made here if absent)
    now = int(time.time())
    async with anonymous(sim) as http:
        # signed by the module's own function: valid ahead of expiry, refused once expired
        assert (await http.get(sim.base_url + console.link_path(secret, rg_id(RG_A), now + 60))).status_code == 200
        resp = await http.get(sim.base_url + console.link_path(secret, rg_id(RG_A), now - 1))
        assert resp.status_code == 403
        assert "This console link has expired." in resp.text and RG_A not in resp.text
        # an expiry further ahead than any link is ever minted for: never signed here
        far = await http.get(sim.base_url + console.link_path(secret, rg_id(RG_A), now + 2 * 3600))
        assert far.status_code == 403 and "not valid" in far.text
        # another secret's signature
        other = await http.get(sim.base_url + console.link_path(b"x" * 32, rg_id(RG_A), now + 60))
        assert other.status_code == 403 and "not valid" in other.text


async def test_expiry_follows_the_simulator_clock(tmp_path: Path) -> None:
    app = create_app(SimulatorConfig(tmp_path / "sim", token=TOKEN, console_link_seconds=120))
    start = 1_800_000_000.0
    app.console.clock = lambda: start
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="https://sim.example:8444") as http:
            put = await http.put(
                rg_id(RG_A), params={"api-version": "2022-09-01"}, json={"location": "eastus"}, headers=headers
            )
            assert put.status_code == 201
            minted = (
                await http.post("/simulator/console/links", json={"resourceGroupId": rg_id(RG_A)}, headers=headers)
            ).json()
            default_expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 120))
            assert minted["expiresOn"] == default_expiry, "the default lifetime: 120 s from the clock"
            short = await http.post(
                "/simulator/console/links", json={"resourceGroupId": rg_id(RG_A), "ttlSeconds": 5}, headers=headers
            )
            link = short.json()["link"]
            assert link.startswith("https://sim.example:8444/console/"), "the link is on the URL asked on"
            path = link.removeprefix("https://sim.example:8444")
            app.console.clock = lambda: start + 4.999
            assert (await http.get(path)).status_code == 200
            app.console.clock = lambda: start + 5
            expired = await http.get(path)
            assert expired.status_code == 403 and "expired" in expired.text
            app.console.clock = lambda: start + 119
            assert (await http.get(minted["link"].removeprefix("https://sim.example:8444"))).status_code == 200
    finally:
        await app.shutdown()


async def test_minting_needs_the_bearer_token_and_a_good_request(sim: Simulator) -> None:
    cloud = sim.cloud()
    await make_groups(sim, cloud)
    url = sim.base_url + "/simulator/console/links"
    body = {"resourceGroupId": rg_id(RG_A), "ttlSeconds": 60}
    async with anonymous(sim) as http:
        assert (await http.post(url, json=body)).status_code == 401
        assert (await http.post(url, json=body, headers={"Authorization": "Bearer wrong"})).status_code == 401
    assert sim.admin is not None
    assert (await sim.admin.post("/simulator/console/links", json=body)).status_code == 200
    for bad in (
        {"resourceGroupId": rg_id(RG_A), "ttlSeconds": 0},
        {"resourceGroupId": rg_id(RG_A), "ttlSeconds": 3601},
        {"resourceGroupId": rg_id(RG_A), "ttlSeconds": "60"},
        {"resourceGroupId": rg_id(RG_A), "ttlSeconds": True},
        {"resourceGroupId": f"{rg_id(RG_A)}/providers/Microsoft.Storage/storageAccounts/clusterstore1"},
        {"resourceGroupId": RG_A},
        {},
    ):
        resp = await sim.admin.post("/simulator/console/links", json=bad)
        assert (resp.status_code, resp.json()["error"]["code"]) == (400, "InvalidRequestContent"), bad
    gone = await sim.admin.post("/simulator/console/links", json={"resourceGroupId": rg_id("nope")})
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "ResourceGroupNotFound")
    assert (await sim.admin.get("/simulator/console/links")).status_code == 405


async def test_a_deleted_group_is_404_and_links_survive_a_restart(sim: Simulator) -> None:
    cloud = sim.cloud()
    await make_groups(sim, cloud)
    link_a, link_b = (await mint(sim, RG_A))["link"], (await mint(sim, RG_B))["link"]
    old_base = sim.base_url
    await sim.restart()  # a new port; the secret is the one kept in the data directory
    link_a, link_b = link_a.replace(old_base, sim.base_url), link_b.replace(old_base, sim.base_url)
    async with anonymous(sim) as http:
        assert (await http.get(link_a)).status_code == 200
        assert (await http.get(link_b)).status_code == 200
        assert (await http.head(link_a)).status_code == 200
        assert (await http.post(link_a)).status_code == 405
        await sim.cloud().delete_resource_group(SUB, RG_B)
        resp = await http.get(link_b)
        assert resp.status_code == 404
        assert "does not exist" in resp.text and RG_B not in resp.text
        assert resp.headers["content-type"] == "text/html; charset=utf-8"
        assert (await http.get(sim.base_url + "/console/subscriptions/x")).status_code == 404


# -- the RP's side -----------------------------------------------------------------------------------------------


async def test_console_link_against_the_simulator_opens_the_page(sim: Simulator, tmp_path: Path) -> None:
    chromium()
    cloud = sim.cloud()  # what `make_cloud` builds in simulator mode: the simulator's cluster endpoints
    await make_groups(sim, cloud)
    link = await cloud.console_link(SUB, RG_A, 300)
    assert link.startswith(f"{sim.base_url}/console/subscriptions/{SUB}/resourceGroups/{RG_A}?expires=")
    dom = Dom(await dump_dom(link, tmp_path / "chromium"))
    assert dom.h1 == f"Resource group {RG_A}"
    assert set(dom.rows("resources")) == {"clusterstore1", "infra-master-0", "infra-master-1", "infra-worker"}

    with pytest.raises(CloudError) as e:
        await cloud.console_link(SUB, "nope", 300)
    assert (e.value.status, e.value.code) == (404, "ResourceGroupNotFound")
    with pytest.raises(CloudError) as e:
        await cloud.console_link(SUB, RG_A, 7200)
    assert (e.value.status, e.value.code) == (400, "InvalidRequestContent")
    with pytest.raises(CloudError) as e:
        await sim.cloud(token="not-the-token").console_link(SUB, RG_A, 300)
    assert e.value.status == 401


@pytest.mark.parametrize(
    ("environ", "portal"),
    [
        ({"ARO_CLOUD_AZURE_TENANT_ID": TENANT}, f"https://portal.azure.com/#@{TENANT}"),
        (
            {
                "ARO_CLOUD_AZURE_TENANT_ID": TENANT,
                "ARO_CLOUD_AZURE_ARM_ENDPOINT": "https://management.usgovcloudapi.net",
            },
            f"https://portal.azure.us/#@{TENANT}",
        ),
        ({}, "https://portal.azure.com/#"),  # no tenant configured: the portal's default directory
    ],
)
async def test_console_link_against_azure_is_the_portal_page(
    tmp_path: Path, environ: dict[str, str], portal: str
) -> None:
    config = load(environ={"ARO_DATA_DIRECTORY": str(tmp_path), "ARO_CLOUD_MODE": "azure", **environ})
    cloud = make_cloud(config, None)
    try:
        link = await cloud.console_link(SUB, "aro-infra-x7k2p", 900)
    finally:
        await cloud.close()
    assert link == f"{portal}/resource/subscriptions/{SUB}/resourceGroups/aro-infra-x7k2p/overview"
