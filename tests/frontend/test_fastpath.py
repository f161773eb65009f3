"""The GET fast path (``aro.frontend.fastpath``) answers exactly as FastAPI does.

One store, two apps over it: ``create_app(fast_path=True)`` and ``create_app(fast_path=False)`` (each with
its own metrics and render cache). The same GETs go to both -- every kind found and missing, in another
casing, with a wrong, missing or repeated api-version, a bad resource group, resource name or subscription
id, a missing parent, a trailing slash, with and without ``x-ms-client-request-id`` /
``x-ms-return-client-request-id`` / ``x-ms-correlation-request-id``; the operation status polls (running,
ended, unknown, malformed, of the other family, another location); and neighbours the fast path leaves to
FastAPI (admin GETs, lists, results, HEAD) -- and must get the same status, headers (but the fresh
``x-ms-request-id``), body, request log line and ``aro_http_requests_total`` counts. In production mode
the same, with and without the right client certificate: the fast path sits behind ``ClientCertAuth``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from aro.api.hcpopenshiftclusters import HCP_OPENSHIFT_CLUSTERS
from aro.api.resource import ProvisioningState
from aro.database.asyncoperations import AsyncOperations
from aro.env.config import AuthConfig, Config, Mode, load
from aro.frontend.app import create_app, hot_paths
from aro.frontend.fastpath import FastPath
from aro.frontend.services import Readiness, RenderCache, Services
from aro.kinds import registry
from aro.run import catalogs_for, ledger_for, open_store, sealer_for
from aro.util import log as logutil
from aro.util.metrics import Metrics
from tests.fixtures.clusters import cli_body
from tests.fixtures.kinds import HCP_CLUSTERS, HCP_EXTERNAL_AUTHS, HCP_NODE_POOLS
from tests.frontend.helpers import seed_body

SUB = "abcdef01-2222-4333-8444-555555555555"
OTHER_SUB = str(uuid.UUID(int=7))
RG = "rg-Fast"
P = "/providers/Microsoft.RedHatOpenShift"
GROUP = f"/subscriptions/{SUB}/resourceGroups/{RG}{P}"
CLUSTER = f"{GROUP}/openShiftClusters/Clus1"
HCP = f"{GROUP}/hcpOpenShiftClusters/hcp1"
POOL = f"{HCP}/nodePools/np1"
AUTH = f"{HCP}/externalAuths/ea1"
LOCATIONS = f"/subscriptions/{SUB}{P}/locations"
CLASSIC, PREVIEW, HOSTED = "2025-07-25", "2019-12-31-preview", "2026-10-01"
REGISTERED = {"state": "Registered", "properties": {"tenantId": str(uuid.UUID(int=5))}}
CERT_HEADER = "x-test-client-cn"  # the test's stand-in for the TLS client certificate (see with_client_cert)

on_module_loop = pytest.mark.asyncio(loop_scope="module")


# --- two apps over one store ------------------------------------------------------------------------------


def with_client_cert(app: FastAPI) -> Any:
    """``app`` with the common name of ``x-test-client-cn`` (the header removed) as the TLS client
    certificate uvicorn reports in ``scope["extensions"]["tls"]``."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k != CERT_HEADER.encode()]
            cn = next((v.decode() for k, v in scope["headers"] if k == CERT_HEADER.encode()), None)
            tls = {"client_cert_name": f"CN={cn}"} if cn else {}
            scope = dict(scope, headers=headers, extensions={**scope.get("extensions", {}), "tls": tls})
        await app(scope, receive, send)

    return asgi


@dataclass
class Side:
    """One app (fast path on or off), its client, its metrics and the request log lines it wrote."""

    app: FastAPI
    client: httpx.AsyncClient
    metrics: Metrics
    lines: list[dict[str, Any]] = field(default_factory=list)

    def fast_path(self) -> FastPath | None:
        layer: Any = self.app.middleware_stack
        while layer is not None and not isinstance(layer, FastPath):
            layer = getattr(layer, "app", None)
        return layer

    baseline: dict[str, float] = field(default_factory=dict)

    def _counts(self) -> dict[str, float]:
        text = self.metrics.render().decode()
        lines = (line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("aro_http_requests_total{"))
        return {labels: float(value) for labels, value in lines}

    def counts(self) -> dict[str, float]:
        """``aro_http_requests_total`` since ``mark``: {labels: count}."""
        now = self._counts()
        return {k: v - self.baseline.get(k, 0.0) for k, v in now.items() if v != self.baseline.get(k, 0.0)}

    def mark(self) -> None:
        self.baseline = self._counts()


class Capture(logging.Handler):
    """The request log lines (record fields and the log context) of whichever side is being called."""

    def __init__(self) -> None:
        super().__init__()
        self.into: list[dict[str, Any]] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.into is not None and record.name.startswith("aro.frontend"):
            context = {k: v for k, v in (logutil.log_context.get() or {}).items() if k != "requestId"}
            extra = {k: v for k, v in record.__dict__.items() if k in ("status", "route", "reason", "presented")}
            self.into.append({"msg": record.getMessage(), "level": record.levelname, **context, **extra})


@dataclass
class Pair:
    fast: Side
    slow: Side
    services: Services
    capture: Capture
    operations: dict[str, str]  # name -> operation id

    async def both(self, method: str, path: str, **kw: Any) -> tuple[httpx.Response, httpx.Response]:
        out = []
        for side in (self.fast, self.slow):
            self.capture.into = side.lines
            try:
                out.append(await side.client.request(method, path, **kw))
            finally:
                self.capture.into = None
        return out[0], out[1]


async def _pair(services: Services, capture: Capture) -> AsyncIterator[tuple[Side, Side]]:
    sides = []
    for fast in (True, False):
        metrics = Metrics()
        own = dataclasses.replace(services, metrics=metrics, render_cache=RenderCache())
        app = create_app(own, fast_path=fast)
        transport = httpx.ASGITransport(app=with_client_cert(app))
        sides.append(Side(app, httpx.AsyncClient(transport=transport, base_url="https://rp"), metrics))
    try:
        yield sides[0], sides[1]
    finally:
        for side in sides:
            await side.client.aclose()


def production(config: Config) -> Config:
    auth = AuthConfig(arm_client_subject="arm", admin_client_subject="admin")
    return config.model_copy(
        update={"mode": Mode.PRODUCTION, "frontend": config.frontend.model_copy(update={"auth": auth})}
    )


@pytest.fixture(scope="module")
def capture() -> Iterator[Capture]:
    handler = Capture()
    logger = logging.getLogger("aro.frontend")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stored(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Services]:
    config = load(environ={"ARO_DATA_DIRECTORY": str(tmp_path_factory.mktemp("rp"))})
    served = registry()
    store = await open_store(config, served)
    sealer = sealer_for(config)
    try:
        yield Services(
            config=config,
            store=store,
            sealer=sealer,
            ledger=ledger_for(config, store, sealer),  # hosted clusters need its capabilities
            kinds=served.kinds,
            catalogs=catalogs_for(config),
            metrics=Metrics(),
            readiness=Readiness(store_open=True),
        )
    finally:
        await store.close()


def _operation_id(r: httpx.Response) -> str:
    assert r.status_code in (200, 201, 202), r.text
    return r.headers["azure-asyncoperation"].split("?")[0].rsplit("/", 1)[1]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(stored: Services, capture: Capture) -> AsyncIterator[Pair]:
    """Both apps, over a store holding a classic cluster (Creating), a hosted cluster (Succeeded, its
    operation ended), and a node pool and an external auth under it (Creating)."""
    async for fast, slow in _pair(stored, capture):
        c = slow.client
        r = await c.put(f"/subscriptions/{SUB}", params={"api-version": "2.0"}, json=REGISTERED)
        assert r.status_code in (200, 201), r.text
        ops = {
            "cluster": _operation_id(await c.put(CLUSTER, params={"api-version": CLASSIC}, json=cli_body(SUB, "clus1")))
        }
        ops["hcp"] = _operation_id(
            await c.put(HCP, params={"api-version": HOSTED}, json=HCP_CLUSTERS.body(SUB, "hcp1"))
        )
        await _succeed(stored, HCP.lower(), ops["hcp"])
        ops["pool"] = _operation_id(
            await c.put(POOL, params={"api-version": HOSTED}, json=HCP_NODE_POOLS.body(SUB, "np1"))
        )
        ops["auth"] = _operation_id(
            await c.put(AUTH, params={"api-version": HOSTED}, json=HCP_EXTERNAL_AUTHS.body(SUB, "ea1"))
        )
        for side in (fast, slow):
            side.lines.clear()
            side.mark()
        yield Pair(fast, slow, stored, capture, ops)


async def _succeed(services: Services, key: str, operation_id: str) -> None:
    """What the backend does at the end of a create: the operation ends, the resource is Succeeded."""
    await AsyncOperations(services.store).end(SUB, operation_id, ProvisioningState.SUCCEEDED.value, None)
    codec = services.codec(HCP_OPENSHIFT_CLUSTERS)
    container = services.store.container(HCP_OPENSHIFT_CLUSTERS.container_name)
    doc = await container.get_by_key(key, SUB)
    assert doc is not None
    hub = codec.decode(doc)
    hub.properties.provisioning_state = ProvisioningState.SUCCEEDED
    updated = codec.encode(doc, hub)
    updated["asyncOperationId"] = None
    await container.replace(updated)


# --- the requests -----------------------------------------------------------------------------------------


def _header_variants() -> list[dict[str, str]]:
    return [
        {},
        {"x-ms-client-request-id": "client-1"},
        {"x-ms-client-request-id": "client-2", "x-ms-return-client-request-id": "true"},
        {"x-ms-client-request-id": "client-3", "x-ms-return-client-request-id": "True"},
        {"x-ms-return-client-request-id": "true"},
        {"x-ms-client-request-id": "client-4", "x-ms-return-client-request-id": "false"},
        {"x-ms-correlation-request-id": str(uuid.UUID(int=1)), "x-ms-client-request-id": "c" * 200},
    ]


def _items() -> list[tuple[str, str, str]]:
    """(case, path, api-version) of every kind's item URL."""
    return [
        ("cluster", CLUSTER, CLASSIC),
        ("cluster-preview", CLUSTER, PREVIEW),
        ("hcp", HCP, HOSTED),
        ("pool", POOL, HOSTED),
        ("auth", AUTH, HOSTED),
    ]


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    query: str  # the raw query string
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    fast: bool = False  # the fast path is to answer it (else FastAPI)


def cases(ops: dict[str, str]) -> list[Case]:
    out: list[Case] = []
    for name, path, v in _items():
        q = f"api-version={v}"
        missing = path[: path.rindex("/") + 1] + "missing1"
        for i, h in enumerate(_header_variants()):
            out.append(Case(f"{name}-found-{i}", path, q, h, fast=True))
            out.append(Case(f"{name}-missing-{i}", missing, q, h, fast=True))
        out += [
            Case(f"{name}-lower", path.lower(), q, fast=True),
            Case(f"{name}-upper", path.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"), q, fast=True),
            Case(f"{name}-bad-name", path[: path.rindex("/") + 1] + "-bad-", q, fast=True),
            Case(f"{name}-bad-rg", path.replace(RG, "rg*bad"), q, fast=True),
            Case(f"{name}-long-rg", path.replace(RG, "r" * 91), q, fast=True),
            Case(f"{name}-other-sub", path.replace(SUB, OTHER_SUB), q, fast=True),
            Case(f"{name}-bad-sub", path.replace(SUB, "not-a-subscription"), q),
            Case(f"{name}-wrong-version", path, "api-version=2000-01-01"),
            Case(f"{name}-other-version", path, f"api-version={HOSTED if v != HOSTED else CLASSIC}"),
            Case(f"{name}-no-version", path, ""),
            Case(f"{name}-empty-version", path, "api-version="),
            Case(f"{name}-two-versions", path, f"api-version={v}&api-version={v}"),
            Case(f"{name}-encoded-version", path, f"api%2Dversion={v}"),
            Case(f"{name}-more-query", path, f"{q}&$expand=x&x=y", fast=True),
            Case(f"{name}-trailing-slash", path + "/", q),
            Case(f"{name}-head", path, q, method="HEAD"),
            Case(f"{name}-admin", "/admin" + path, q),
            Case(f"{name}-list", path[: path.rindex("/")], q),
        ]
        if path != CLUSTER:
            out.append(Case(f"{name}-missing-parent", path.replace("/hcp1/", "/nohcp/"), q, fast=True))
            out.append(Case(f"{name}-bad-parent", path.replace("/hcp1/", "/-bad-/"), q, fast=True))
    classic, hosted = f"{LOCATIONS}/eastus/operationsStatus", f"{LOCATIONS}/eastus/hcpOperationStatuses"
    RESULTS = {classic: f"{LOCATIONS}/eastus/operationResults", hosted: f"{LOCATIONS}/eastus/hcpOperationResults"}
    unknown = str(uuid.UUID(int=99))
    for name, base, op, v in (
        ("op-cluster", classic, ops["cluster"], CLASSIC),
        ("op-cluster-preview", classic, ops["cluster"], PREVIEW),
        ("op-hcp-ended", hosted, ops["hcp"], HOSTED),
        ("op-pool", hosted, ops["pool"], HOSTED),
        ("op-auth", hosted, ops["auth"], HOSTED),
    ):
        q = f"api-version={v}"
        for i, h in enumerate(_header_variants()[:3]):
            out.append(Case(f"{name}-{i}", f"{base}/{op}", q, h, fast=True))
        out += [
            Case(f"{name}-upper-id", f"{base}/{op.upper()}", q, fast=True),
            Case(f"{name}-other-family", f"{classic if base == hosted else hosted}/{op}", q),
            Case(f"{name}-wrong-version", f"{base}/{op}", "api-version=2000-01-01"),
            Case(f"{name}-other-location", f"{base}/{op}".replace("/eastus/", "/westus/"), q),
            Case(f"{name}-result", f"{RESULTS[base]}/{op}", q),
        ]
    for name, base, v in (("classic", classic, CLASSIC), ("hosted", hosted, HOSTED)):
        q = f"api-version={v}"
        out += [
            Case(f"op-{name}-unknown", f"{base}/{unknown}", q, fast=True),
            Case(f"op-{name}-malformed", f"{base}/not-an-operation", q),
            Case(f"op-{name}-other-sub", f"{base}/{unknown}".replace(SUB, OTHER_SUB), q, fast=True),
        ]
    return out


# --- the tests --------------------------------------------------------------------------------------------


def _without_request_id(r: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in r.headers.multi_items() if k != "x-ms-request-id"]


async def _compare(pair: Pair, case: Case, *, cert: str | None = None) -> httpx.Response:
    """Send ``case`` to both apps; the answers must be the same. Returns the fast app's."""
    url = case.path + ("?" + case.query if case.query else "")
    headers = case.headers | ({CERT_HEADER: cert} if cert else {})
    fast_path = pair.fast.fast_path()
    assert fast_path is not None
    answered = fast_path.answered
    fast_lines, slow_lines = len(pair.fast.lines), len(pair.slow.lines)
    fast, slow = await pair.both(case.method, url, headers=headers)
    where = f"{case.name}: {case.method} {url} -> {fast.status_code} / {slow.status_code}"
    assert fast.status_code == slow.status_code, where
    assert _without_request_id(fast) == _without_request_id(slow), where
    assert fast.content == slow.content, where
    assert pair.fast.lines[fast_lines:] == pair.slow.lines[slow_lines:], where
    assert re.fullmatch(r"[0-9a-f-]{36}", fast.headers["x-ms-request-id"]), where
    assert fast_path.answered == answered + case.fast, f"{where}: fast path {'not ' if case.fast else ''}taken"
    return fast


@on_module_loop
async def test_every_hot_route_is_on_the_fast_path(pair: Pair) -> None:
    await pair.both("GET", "/healthz/ready")  # builds the middleware stacks
    fast_path = pair.fast.fast_path()
    assert fast_path is not None and pair.slow.fast_path() is None
    assert {r.path for r in fast_path.planned} == hot_paths(pair.services.kinds)
    assert len(fast_path.planned) == len(pair.services.kinds.resources) + len(pair.services.kinds.families())
    # behind the ARM middleware and the client-certificate check: neither is ever skipped
    chain, layer = [], pair.fast.app.middleware_stack
    while layer is not None:
        chain.append(type(layer).__name__)
        layer = getattr(layer, "app", None)
    assert chain.index("ARMMiddleware") < chain.index("ClientCertAuth") < chain.index("FastPath"), chain
    assert chain.index("FastPath") < chain.index("ExceptionMiddleware"), chain


@on_module_loop
async def test_the_fast_path_answers_exactly_as_fastapi(pair: Pair) -> None:
    all_cases = cases(pair.operations)
    seen: set[tuple[str, int]] = set()
    for case in all_cases:
        fast = await _compare(pair, case)
        seen.add((case.name.split("-")[0], fast.status_code))
        if case.fast and case.name.endswith("found-0"):
            assert fast.status_code == 200 and fast.headers["etag"], case
    # what was compared covers what the fast path answers and what it leaves to FastAPI
    assert {("cluster", 200), ("cluster", 404), ("cluster", 400), ("hcp", 200), ("pool", 200), ("auth", 200)} <= seen
    assert {("op", 200), ("op", 404), ("op", 400), ("op", 202)} <= seen
    fast_path = pair.fast.fast_path()
    assert fast_path is not None and fast_path.answered >= sum(c.fast for c in all_cases)
    assert pair.fast.counts() == pair.slow.counts()  # aro_http_requests_total: same routes, same statuses
    assert any('route="/subscriptions/{subscriptionId}/resourcegroups/' in labels for labels in pair.fast.counts())


@on_module_loop
async def test_a_changed_resource_is_rendered_again(pair: Pair) -> None:
    """The fast path reads the store on every GET: a write shows at once (the render cache is by etag)."""
    before = await _compare(pair, Case("pool", POOL, f"api-version={HOSTED}", fast=True))
    r = await pair.slow.client.patch(
        AUTH,
        params={"api-version": HOSTED},
        json={"properties": {"claim": {"mappings": {"username": {"claim": "sub"}}}}},
    )
    assert r.status_code in (200, 202, 409), r.text
    await _succeed_any(pair, HCP.lower())
    for case in (
        Case("hcp", HCP, f"api-version={HOSTED}", fast=True),
        Case("pool", POOL, f"api-version={HOSTED}", fast=True),
    ):
        await _compare(pair, case)
    after = await _compare(pair, Case("hcp", HCP, f"api-version={HOSTED}", fast=True))
    assert after.headers["etag"] != before.headers["etag"]


async def _succeed_any(pair: Pair, key: str) -> None:
    """Rewrite a stored document (a new etag) without going through the app."""
    container = pair.services.store.container(HCP_OPENSHIFT_CLUSTERS.container_name)
    doc = await container.get_by_key(key, SUB)
    assert doc is not None
    codec = pair.services.codec(HCP_OPENSHIFT_CLUSTERS)
    hub = codec.decode(doc)
    hub.tags = {"changed": "yes"}
    await container.replace(codec.encode(doc, hub))


@on_module_loop
async def test_a_write_answers_with_the_body_a_get_then_shows(pair: Pair) -> None:
    """A PUT or PATCH renders the hub it wrote (not a decode of the stored document): the very body a GET of
    that document renders, for every kind and api-version."""
    c = pair.fast.client
    group = f"/subscriptions/{SUB}/resourceGroups/rg-Put{P}"
    hcp = f"{group}/hcpOpenShiftClusters/hcp2"
    writes: list[tuple[str, str, str, Any]] = [
        ("PUT", f"{group}/openShiftClusters/clus2", CLASSIC, cli_body(SUB, "clus2")),
        ("PUT", f"{group}/openShiftClusters/clus3", PREVIEW, seed_body()),
        ("PUT", hcp, HOSTED, HCP_CLUSTERS.body(SUB, "hcp2")),
    ]
    for method, path, version, body in writes:
        r = await c.request(method, path, params={"api-version": version}, json=body)
        assert r.status_code == 201, r.text
        got = await _compare(pair, Case("get", path, f"api-version={version}", fast=True))
        assert r.content and (r.content, r.headers["etag"]) == (got.content, got.headers["etag"]), path
    await _succeed(pair.services, hcp.lower(), _operation_id(r))
    later: list[tuple[str, str, str, Any]] = [
        ("PATCH", hcp, HOSTED, {"tags": {"patched": "yes"}}),
        ("PUT", f"{hcp}/nodePools/np2", HOSTED, HCP_NODE_POOLS.body(SUB, "np2")),
        ("PUT", f"{hcp}/externalAuths/ea2", HOSTED, HCP_EXTERNAL_AUTHS.body(SUB, "ea2")),
    ]
    for method, path, version, body in later:
        r = await c.request(method, path, params={"api-version": version}, json=body)
        assert r.status_code in (200, 201, 202), r.text
        got = await _compare(pair, Case("get", path, f"api-version={version}", fast=True))
        assert r.content and (r.content, r.headers["etag"]) == (got.content, got.headers["etag"]), path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def production_pair(pair: Pair, capture: Capture) -> AsyncIterator[Pair]:
    services = dataclasses.replace(pair.services, config=production(pair.services.config))
    async for fast, slow in _pair(services, capture):
        prod = Pair(fast, slow, services, capture, pair.operations)
        await prod.both("GET", "/healthz/ready")  # builds the middleware stacks (open in production)
        for side in (fast, slow):
            side.lines.clear()
            side.mark()
        yield prod


@on_module_loop
@pytest.mark.parametrize("cert", [None, "arm", "admin", "someone"])
async def test_production_client_certificates_are_checked_on_the_fast_path(
    production_pair: Pair, cert: str | None
) -> None:
    ops = production_pair.operations
    checked = [
        Case("cluster", CLUSTER, f"api-version={CLASSIC}", fast=cert == "arm"),
        Case("missing", CLUSTER[:-1] + "x", f"api-version={CLASSIC}", fast=cert == "arm"),
        Case("pool", POOL, f"api-version={HOSTED}", fast=cert == "arm"),
        Case(
            "op",
            f"{LOCATIONS}/eastus/operationsStatus/{ops['cluster']}",
            f"api-version={CLASSIC}",
            fast=cert in ("arm", "admin"),
        ),
        Case(
            "op-hcp",
            f"{LOCATIONS}/eastus/hcpOperationStatuses/{ops['pool']}",
            f"api-version={HOSTED}",
            fast=cert in ("arm", "admin"),
        ),
        Case("admin", "/admin" + CLUSTER, f"api-version={CLASSIC}"),
    ]
    for case in checked:
        fast = await _compare(production_pair, case, cert=cert)
        if cert in (None, "someone") or (cert == "admin" and not case.name.startswith(("op", "admin"))):
            assert fast.status_code == 403, case
        elif cert == "arm" and case.name == "admin":
            assert fast.status_code == 403, case
        else:
            assert fast.status_code in (200, 404), case
    assert production_pair.fast.counts() == production_pair.slow.counts()
