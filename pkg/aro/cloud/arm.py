"""``ArmCloud``: the ``Cloud`` protocol over azure-mgmt-resource (aio) and httpx.

The same class talks to Azure or to the simulator; only the endpoint, the credential and the CA differ::

    cloud = ArmCloud("https://127.0.0.1:8444", StaticTokenCredential("t"), ca_file="ca.pem",
                     polling_interval=0.05)

- Resource groups: ``ResourceManagementClient.resource_groups``. Deployments are PUT by id
  (``.../providers/Microsoft.Resources/deployments/{name}``) through
  ``resources.begin_create_or_update_by_id`` -- the same REST call ``DeploymentsOperations`` makes
  (azure-mgmt-resource >= 24 moved deployments to another package) -- and followed with the SDK's ARM
  LRO poller (``Azure-AsyncOperation``, then ``Location``; ``Retry-After`` honoured, else
  ``polling_interval``).
- Retries: azure-core's retry policy retries 408/429/500/502/503/504 and connection errors, honouring
  ``Retry-After``, at most ``retry_total`` times. The cluster API calls retry the same way (bounded).
- Authorization retries (like ARO's ``AuthorizationRetryingAction``): with ``authorization_retry_seconds``
  > 0, an ARM 401, a 403 ``AuthorizationFailed``/``LinkedAuthorizationFailed`` (role assignments still
  propagating) or a credential that cannot get a token yet (a new service principal not yet replicated) is
  retried every ``authorization_retry_interval`` seconds -- with a fresh token after a 401 -- until that
  much time has passed; then it surfaces as ``CloudError`` saying how long it was retried.
- Errors: every ARM failure surfaces as ``CloudError`` with the ARM code and message; a deployment that ends
  ``Failed`` is ``CloudError(400, "DeploymentFailed", "... <inner code>: <inner message>")`` with the inner
  errors in ``details``; an unreachable endpoint is ``CloudError(503, "ServiceUnavailable", ...)``. A
  408/429/5xx answer that outlasted the retries and an unreachable endpoint are marked ``temporary``.
- Every request carries the per-call headers from ``aro.cloud.context`` (``x-aro-lease-owner``,
  ``x-aro-step``) plus those of ``extra_headers_provider``.
- Actions (``post_action``: a VM's or a scale set's ``deallocate`` / ``start``, hibernation's
  ``deallocate_machines`` / ``start_machines``): ``POST {id}/{action}`` through the same client and
  pipeline, followed by the SDK's ARM LRO poller (``AsyncARMPolling``: ``Azure-AsyncOperation``, then
  ``Location``), the way azure-mgmt-compute's ``begin_deallocate`` / ``begin_start`` do it.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx
from azure.core.credentials import TokenCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import AsyncRetryPolicy, SansIOHTTPPolicy
from azure.core.rest import HttpRequest

from aro.api.errors import CLUSTER_RESOURCE_GROUP_ALREADY_EXISTS, DEPLOYMENT_FAILED, CloudError
from aro.cloud.authretry import AuthorizationRetryExhausted, AuthorizationRetryPolicy, CredentialRetryExhausted
from aro.cloud.base import Cloud, ClusterEndpoint, ResourceGroup
from aro.cloud.context import (
    request_context,
    request_context_headers,
    reset_request_context,
    set_request_context,
)
from aro.cloud.kube import KubeAPI, client_cert_context
from aro.cloud.snapshots import SnapshotStore

if TYPE_CHECKING:  # aiohttp and azure-mgmt-resource are imported with the first ARM client (~100 ms)
    import aiohttp
    from azure.core.polling import AsyncLROPoller
    from azure.mgmt.resource.resources.aio import ResourceManagementClient

    from aro.cloud.blob import GraphStore

__all__ = [
    "ArmCloud",
    "AzureClusterEndpoints",
    "ClusterEndpointStrategy",
    "SimulatorClusterEndpoints",
    "TemplateClusterEndpoints",
    "request_context",
    "reset_request_context",
    "set_request_context",
]

ClusterEndpointStrategy = Callable[[str, str, str], ClusterEndpoint]
"""``(subscription_id, resource_group, domain) -> ClusterEndpoint``."""

DEPLOYMENTS_API_VERSION = "2025-04-01"
_UNAVAILABLE = "ServiceUnavailable"
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_MAX_PAGES = 100  # of one collection GET
COMPUTE_API_VERSION = "2024-07-01"
_MACHINE_TYPES = frozenset({"microsoft.compute/virtualmachines", "microsoft.compute/virtualmachinescalesets"})
_POWER_CONCURRENCY = 16  # machines deallocated or started at once (each an LRO of its own)


CERT_CLIENTS = 256  # HTTP clients kept per client certificate (a cluster's admin credential), least recent out


@dataclass
class _SharedClient:
    """An HTTP client with a client certificate, and how many ``KubeAPI`` objects still use it."""

    http: httpx.AsyncClient
    users: int = 0
    evicted: bool = False
    closing: bool = False


@dataclass(frozen=True)
class SimulatorClusterEndpoints:
    """The simulator serves every managed resource group's cluster API under ``/clusters/{sub}/{rg}``."""

    base_url: str
    ca_pem: str

    def __call__(self, subscription_id: str, resource_group: str, domain: str) -> ClusterEndpoint:
        return ClusterEndpoint(f"{self.base_url.rstrip('/')}/clusters/{subscription_id}/{resource_group}", self.ca_pem)


@dataclass(frozen=True)
class AzureClusterEndpoints:
    """A real cluster: ``https://api.{domain}.{location}.{base_domain}:6443`` (a domain with a dot is used
    as is). ``ca_pem`` empty = the caller fills in the cluster's CA once it is known."""

    location: str
    base_domain: str
    ca_pem: str = ""

    def __call__(self, subscription_id: str, resource_group: str, domain: str) -> ClusterEndpoint:
        fqdn = domain if "." in domain else f"{domain}.{self.location}.{self.base_domain}"
        return ClusterEndpoint(f"https://api.{fqdn}:6443", self.ca_pem)


@dataclass(frozen=True)
class TemplateClusterEndpoints:
    """``template.format(base_url=, subscription_id=, resource_group=, domain=)``."""

    template: str
    base_url: str
    ca_pem: str

    def __call__(self, subscription_id: str, resource_group: str, domain: str) -> ClusterEndpoint:
        url = self.template.format(
            base_url=self.base_url.rstrip("/"),
            subscription_id=subscription_id,
            resource_group=resource_group,
            domain=domain,
        )
        return ClusterEndpoint(url, self.ca_pem)


def _proxy_configured() -> bool:
    import os

    return any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NETRC"))


class _HeadersPolicy(SansIOHTTPPolicy[Any, Any]):
    def __init__(self, headers: Callable[[], Mapping[str, str]]) -> None:
        self._headers = headers

    def on_request(self, request: PipelineRequest[Any]) -> None:
        for name, value in self._headers().items():
            request.http_request.headers[name] = value


class _BoundedRetryPolicy(AsyncRetryPolicy[Any, Any]):
    """azure-core's retry policy, with ``Retry-After`` capped so one throttled answer can't stall a step."""

    def __init__(self, retry_after_max: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._retry_after_max = retry_after_max

    def get_retry_after(self, response: Any) -> float | None:
        after = super().get_retry_after(response)
        return None if after is None else min(after, self._retry_after_max)


def _error_from_odata(status: int, err: Any) -> CloudError:
    return CloudError(
        status,
        str(err.code or "InternalServerError"),
        str(err.message or ""),
        err.target,
        [_error_from_odata(status, d) for d in (err.details or [])],
        temporary=status in _RETRY_STATUSES,
    )


def cloud_error(e: AzureError) -> CloudError:
    """Map an azure-core exception to ``CloudError`` (ARM code and message preserved)."""
    if isinstance(e, CredentialRetryExhausted):
        return CloudError(
            500,
            "InternalServerError",
            f"The resource provider could not obtain an Azure token (retried for {e.seconds:.0f}s): {e.message}",
        )
    if isinstance(e, AuthorizationRetryExhausted):
        status = e.status_code or 403
        code = str(e.error.code) if e.error is not None and e.error.code else "AuthorizationFailed"
        text = str(e.error.message) if e.error is not None and e.error.message else (e.reason or f"HTTP {status}")
        return CloudError(status, code, f"{text} (still failing after retrying authorization for {e.seconds:.0f}s)")
    if isinstance(e, HttpResponseError) and e.response is not None:
        status = e.status_code or 500
        err = e.error
        if err is not None and err.code:
            return _error_from_odata(status, err)
        code = "InternalServerError" if status >= 500 else "BadRequest" if status == 400 else f"Http{status}"
        return CloudError(status, code, e.message or f"HTTP {status}", temporary=status in _RETRY_STATUSES)
    return CloudError(503, _UNAVAILABLE, f"The cloud endpoint could not be reached: {e.message or e}", temporary=True)


def _deployment_failed(name: str, error: CloudError) -> CloudError:
    inner = error.details or [error]
    text = "; ".join(f"{d.code}: {d.message}" for d in inner)
    return CloudError(400, DEPLOYMENT_FAILED, f"Deployment '{name}' failed: {text}", details=inner)


def _sub_of(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    if len(parts) < 2 or parts[0].lower() != "subscriptions":
        raise CloudError(400, "InvalidResourceId", f"'{resource_id}' is not a subscription-scoped resource id.")
    return parts[1]


class ArmCloud:
    def __init__(
        self,
        base_url: str,
        credential: TokenCredential | AsyncTokenCredential,
        ca_file: str | Path | None = None,
        cluster_endpoints: ClusterEndpointStrategy | str | None = None,
        extra_headers_provider: Callable[[], Mapping[str, str]] | None = None,
        *,
        polling_interval: float = 1.0,
        retry_total: int = 4,
        retry_backoff_factor: float = 0.8,
        retry_backoff_max: float = 60.0,
        timeout: float = 60.0,
        deployments_api_version: str = DEPLOYMENTS_API_VERSION,
        credential_scopes: Sequence[str] | None = None,
        authorization_retry_seconds: float = 0.0,
        authorization_retry_interval: float = 30.0,
        management_url: str | None = None,
        network_checks: str = "all",
    ) -> None:
        """``credential``: an azure-core ``TokenCredential`` or ``AsyncTokenCredential`` (use
        ``azure.identity.aio`` ones against Azure; ``StaticTokenCredential`` against the simulator).
        ``cluster_endpoints``: a strategy, a URL template (see ``TemplateClusterEndpoints``), or None for
        the simulator's ``{base_url}/clusters/{sub}/{rg}``. ``credential_scopes``: the ARM token audience
        (default ``{base_url}/.default``; US Government differs, see ``aro.cloud.azure``).
        ``authorization_retry_seconds`` (0 = off) / ``authorization_retry_interval``: see the module doc.
        ``management_url``: the Kubernetes API of the management cluster hosted control planes run on
        (bearer token of ``credential``); None: the simulator's ``{base_url}/management`` when
        ``cluster_endpoints`` is None (the simulator), else no management cluster. ``network_checks``: see
        ``aro.cloud.base.Cloud`` ("all" | "held" | "off"; a simulator may hold only some customer networks)."""
        self.base_url = base_url.rstrip("/")
        self._credential = credential
        self._ca_pem = Path(ca_file).read_text() if ca_file else ""
        self._ssl: ssl.SSLContext = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        if management_url is None and cluster_endpoints is None:
            management_url = f"{self.base_url}/management"
        self._management_url = management_url
        if cluster_endpoints is None:
            cluster_endpoints = SimulatorClusterEndpoints(self.base_url, self._ca_pem)
        elif isinstance(cluster_endpoints, str):
            cluster_endpoints = TemplateClusterEndpoints(cluster_endpoints, self.base_url, self._ca_pem)
        self._cluster_endpoints: ClusterEndpointStrategy = cluster_endpoints
        self._extra_headers = extra_headers_provider
        self._polling_interval = polling_interval
        self._retry = _BoundedRetryPolicy(
            retry_after_max=retry_backoff_max,
            retry_total=retry_total,
            retry_backoff_factor=retry_backoff_factor,
            retry_backoff_max=retry_backoff_max,
        )
        self._timeout = timeout
        self._deployments_api_version = deployments_api_version
        self._scopes = list(credential_scopes) if credential_scopes else [f"{self.base_url}/.default"]
        self._authorization_retry = (authorization_retry_seconds, authorization_retry_interval)
        self._session: aiohttp.ClientSession | None = None
        self._clients: dict[str, ResourceManagementClient] = {}
        self._http = httpx.AsyncClient(verify=self._ssl, timeout=timeout)
        self._http_by_ca: dict[str, httpx.AsyncClient] = {}
        self._cert_http: OrderedDict[tuple[str, str], _SharedClient] = OrderedDict()
        self._closing: list[asyncio.Future[None]] = []
        self._retry_total = retry_total
        self._retry_backoff_max = retry_backoff_max
        self.graph_store: GraphStore | None = None
        self.snapshot_store: SnapshotStore | None = None
        self.network_checks = network_checks

    def _headers(self) -> dict[str, str]:
        headers = request_context_headers()
        if self._extra_headers is not None:
            headers.update(self._extra_headers())
        return headers

    def _per_call_policies(self) -> list[Any]:
        """Fresh per client: an ``AsyncHTTPPolicy`` is linked into one pipeline (``next``)."""
        policies: list[Any] = [_HeadersPolicy(self._headers)]
        seconds, interval = self._authorization_retry
        if seconds > 0:
            policies.insert(0, AuthorizationRetryPolicy(seconds, interval))
        return policies

    def _client(self, subscription_id: str) -> ResourceManagementClient:
        key = subscription_id.lower()
        client = self._clients.get(key)
        if client is None:
            import aiohttp
            from azure.core.pipeline.transport import AioHttpTransport
            from azure.mgmt.resource.resources.aio import ResourceManagementClient

            if self._session is None:  # created on first use: aiohttp wants a running loop
                self._session = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(ssl=self._ssl),
                    cookie_jar=aiohttp.DummyCookieJar(),
                    auto_decompress=False,
                    trust_env=_proxy_configured(),  # trust_env reads ~/.netrc in a thread on every request
                )
            transport = AioHttpTransport(
                session=self._session,
                session_owner=False,
                connection_timeout=self._timeout,
                read_timeout=self._timeout,
            )
            client = ResourceManagementClient(
                credential=cast(AsyncTokenCredential, self._credential),
                subscription_id=subscription_id,
                base_url=self.base_url,
                transport=transport,
                per_call_policies=self._per_call_policies(),
                credential_scopes=self._scopes,
                polling_interval=self._polling_interval,
                retry_policy=self._retry,
            )
            self._clients[key] = client
        return client

    # -- resource groups ------------------------------------------------------------------------------------

    async def get_resource_group(self, subscription_id: str, name: str) -> ResourceGroup | None:
        try:
            rg = await self._client(subscription_id).resource_groups.get(name)
        except ResourceNotFoundError:
            return None
        except AzureError as e:
            raise cloud_error(e) from e
        return ResourceGroup(str(rg.id), str(rg.name), str(rg.location), rg.managed_by, dict(rg.tags or {}))

    async def create_resource_group(
        self, subscription_id: str, name: str, location: str, managed_by: str, tags: dict[str, str]
    ) -> ResourceGroup:
        existing = await self.get_resource_group(subscription_id, name)
        if existing is not None and (
            (existing.managed_by or "").lower() != managed_by.lower()
            or existing.location.replace(" ", "").lower() != location.replace(" ", "").lower()
        ):
            raise CloudError(
                400,
                CLUSTER_RESOURCE_GROUP_ALREADY_EXISTS,
                f"Resource group '{existing.id}' must not already exist.",
            )
        body = {"location": location, "managedBy": managed_by, "tags": dict(tags)}
        try:
            rg = await self._client(subscription_id).resource_groups.create_or_update(name, body)
        except AzureError as e:
            raise cloud_error(e) from e
        return ResourceGroup(str(rg.id), str(rg.name), str(rg.location), rg.managed_by, dict(rg.tags or {}))

    async def delete_resource_group(self, subscription_id: str, name: str) -> None:
        try:
            poller = await self._client(subscription_id).resource_groups.begin_delete(name)
            await poller.result()
        except ResourceNotFoundError:
            return
        except AzureError as e:
            raise cloud_error(e) from e

    # -- deployments and resources --------------------------------------------------------------------------

    async def deploy(
        self,
        subscription_id: str,
        resource_group: str,
        name: str,
        template: dict[str, Any],
        parameters: dict[str, Any],
    ) -> dict[str, Any]:
        """``parameters``: name -> value, or name -> ``{"value": ...}`` / ``{"reference": ...}`` (as is)."""
        rg = f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        rid = f"{rg}/providers/Microsoft.Resources/deployments/{name}"
        params = {
            k: v if isinstance(v, dict) and set(v) in ({"value"}, {"reference"}) else {"value": v}
            for k, v in parameters.items()
        }
        body = {"properties": {"mode": "Incremental", "template": template, "parameters": params}}
        client = self._client(subscription_id)
        try:
            poller = await client.resources.begin_create_or_update_by_id(
                rid, body, api_version=self._deployments_api_version
            )
            result = await poller.result()
        except AzureError as e:
            err = cloud_error(e)
            if err.code == DEPLOYMENT_FAILED or (
                isinstance(e, HttpResponseError) and e.status_code == 200  # the LRO status said Failed
            ):
                raise _deployment_failed(name, err) from e
            raise err from e
        props: dict[str, Any] = dict(result.properties or {})
        if props.get("provisioningState") != "Succeeded":
            error = CloudError.from_body(400, props.get("error") or {"code": DEPLOYMENT_FAILED, "message": str(props)})
            raise _deployment_failed(name, error)
        return {k: (v.get("value") if isinstance(v, dict) else v) for k, v in (props.get("outputs") or {}).items()}

    async def list_resources(self, subscription_id: str, resource_group: str) -> list[dict[str, Any]]:
        try:
            pages = self._client(subscription_id).resources.list_by_resource_group(resource_group)
            return [r.as_dict() async for r in pages]
        except AzureError as e:
            raise cloud_error(e) from e

    async def put_resource(self, resource_id: str, api_version: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or replace one resource by id and wait (not in ``Cloud``; handy for DNS and tests)."""
        try:
            client = self._client(_sub_of(resource_id))
            poller = await client.resources.begin_create_or_update_by_id(resource_id, body, api_version=api_version)
            res = await poller.result()
        except AzureError as e:
            raise cloud_error(e) from e
        return res.as_dict()

    async def get_resource(self, resource_id: str, api_version: str) -> dict[str, Any] | None:
        """One resource by id as ARM's JSON, None when absent. A collection's id (a scale set's
        ``.../virtualMachines``) answers ``{"value": [...]}`` with every page (``nextLink`` followed)."""
        client = self._client(_sub_of(resource_id))
        url: str | None = f"{self.base_url}{resource_id}?api-version={api_version}"
        out: dict[str, Any] | None = None
        for _ in range(_MAX_PAGES):
            if not url:
                break
            try:
                resp = await client.send_request(HttpRequest("GET", url))
                if resp.status_code == 404 and out is None:
                    return None
                resp.raise_for_status()
            except AzureError as e:
                raise cloud_error(e) from e
            body = resp.json()
            if not isinstance(body, dict):
                raise CloudError(500, "InternalServerError", f"GET {resource_id} answered no JSON object.")
            if out is None:
                out = body
            else:
                out["value"] = [*out.get("value", []), *body.get("value", [])]
            url = body.get("nextLink") if isinstance(body.get("value"), list) else None
        if out is not None:
            out.pop("nextLink", None)
        return out

    async def delete_resource(self, resource_id: str, api_version: str) -> None:
        try:
            client = self._client(_sub_of(resource_id))
            poller = await client.resources.begin_delete_by_id(resource_id, api_version=api_version)
            await poller.result()
        except ResourceNotFoundError:
            return
        except AzureError as e:
            raise cloud_error(e) from e

    # -- actions: hibernation -------------------------------------------------------------------------------

    async def post_action(
        self, resource_id: str, action: str, api_version: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """``POST {resource_id}/{action}`` (an ARM action: a VM's ``deallocate``, a scale set's ``start``)
        and wait for its LRO; its final body (None when it has none). Absent resource: ``ResourceNotFound``."""
        from azure.core.polling import AsyncLROPoller
        from azure.mgmt.core.exceptions import ARMErrorFormat
        from azure.mgmt.core.polling.async_arm_polling import AsyncARMPolling

        client = self._client(_sub_of(resource_id))
        url = f"{self.base_url}{resource_id}/{action}?api-version={api_version}"
        request = HttpRequest("POST", url, json=body) if body is not None else HttpRequest("POST", url)
        try:
            initial = cast(
                "PipelineResponse[Any, Any]",
                await client.send_request(request, _return_pipeline_response=True),
            )
            response = initial.http_response
            if response.status_code == 404:
                raise ResourceNotFoundError(response=response, error_format=ARMErrorFormat)
            if response.status_code not in (200, 202, 204):
                raise HttpResponseError(response=response, error_format=ARMErrorFormat)

            def final(pipeline_response: Any) -> dict[str, Any] | None:
                raw = pipeline_response.http_response
                if raw.status_code == 204 or not raw.text():
                    return None
                out = raw.json()
                return out if isinstance(out, dict) else None

            poller: AsyncLROPoller[dict[str, Any] | None] = AsyncLROPoller(
                client._client, initial, final, AsyncARMPolling(self._polling_interval)
            )
            return await poller.result()
        except AzureError as e:
            raise cloud_error(e) from e

    async def _power_all(self, subscription_id: str, resource_group: str, action: str) -> list[str]:
        try:
            resources = await self.list_resources(subscription_id, resource_group)
        except CloudError as e:
            if e.code == "ResourceGroupNotFound":
                return []
            raise
        ids = sorted(str(r["id"]) for r in resources if str(r.get("type", "")).lower() in _MACHINE_TYPES)
        gate = asyncio.Semaphore(_POWER_CONCURRENCY)

        async def one(rid: str) -> None:
            async with gate:
                try:
                    await self.post_action(rid, action, COMPUTE_API_VERSION)
                except CloudError as e:
                    if e.status != 404:  # deleted meanwhile: nothing left to stop or start
                        raise

        results = await asyncio.gather(*(one(rid) for rid in ids), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:  # every machine was tried; a permanent failure outranks a temporary one
            permanent = [e for e in failed if not (isinstance(e, CloudError) and e.temporary)]
            raise (permanent or failed)[0]
        return ids

    async def deallocate_machines(self, subscription_id: str, resource_group: str) -> list[str]:
        return await self._power_all(subscription_id, resource_group, "deallocate")

    async def start_machines(self, subscription_id: str, resource_group: str) -> list[str]:
        return await self._power_all(subscription_id, resource_group, "start")

    # -- the cluster API ------------------------------------------------------------------------------------

    def cluster_endpoint(self, subscription_id: str, resource_group: str, domain: str) -> ClusterEndpoint:
        return self._cluster_endpoints(subscription_id, resource_group, domain)

    def _http_for(self, endpoint: ClusterEndpoint) -> httpx.AsyncClient:
        if not endpoint.ca_pem or endpoint.ca_pem == self._ca_pem:
            return self._http
        client = self._http_by_ca.get(endpoint.ca_pem)
        if client is None:
            ctx = ssl.create_default_context(cadata=endpoint.ca_pem)
            client = self._http_by_ca[endpoint.ca_pem] = httpx.AsyncClient(verify=ctx, timeout=self._timeout)
        return client

    async def _cluster_get(self, endpoint: ClusterEndpoint, path: str, retry: bool) -> httpx.Response:
        client = self._http_for(endpoint)
        url = endpoint.url.rstrip("/") + path
        attempts = 1 + (self._retry_total if retry else 0)
        for attempt in range(attempts):
            delay = min(self._retry_backoff_max, 0.5 * 2**attempt)
            try:
                resp = await client.get(url, headers=self._headers())
            except httpx.HTTPError as e:
                if attempt + 1 >= attempts:
                    raise CloudError(
                        503, _UNAVAILABLE, f"The cluster API at {url} could not be reached: {e}", temporary=True
                    ) from e
            else:
                if resp.status_code not in _RETRY_STATUSES or attempt + 1 >= attempts:
                    return resp
                after = resp.headers.get("retry-after", "")
                if after.isdigit():
                    delay = min(self._retry_backoff_max, float(after))
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def cluster_ready(self, endpoint: ClusterEndpoint) -> bool:
        try:
            resp = await self._cluster_get(endpoint, "/readyz", retry=False)
        except CloudError:
            return False
        return resp.status_code == 200

    async def cluster_nodes(
        self, endpoint: ClusterEndpoint, cert_pem: str = "", key_pem: str = ""
    ) -> list[dict[str, Any]]:
        """The cluster's nodes, as the holder of a client certificate (``cert_pem``/``key_pem``: the
        cluster's admin credential; a real API server refuses anonymous reads) -- or anonymously."""
        if cert_pem:
            return await self.cluster_api(endpoint, cert_pem, key_pem).list("nodes")
        resp = await self._cluster_get(endpoint, "/api/v1/nodes", retry=True)
        if resp.status_code != 200:
            raise CloudError(
                resp.status_code if resp.status_code >= 400 else 500,
                "InternalServerError" if resp.status_code >= 500 else f"Http{resp.status_code}",
                f"Listing the cluster's nodes failed: HTTP {resp.status_code}: {resp.text[:500]}",
                temporary=resp.status_code in _RETRY_STATUSES,
            )
        return list(resp.json().get("items") or [])

    # -- Kubernetes APIs: the management cluster, hosted clusters ------------------------------------------

    async def _token(self) -> str:
        got = self._credential.get_token(*self._scopes)
        token = await got if inspect.isawaitable(got) else got
        return str(token.token)

    def management_cluster(self) -> KubeAPI:
        if not self._management_url:
            raise CloudError(
                500,
                "InternalServerError",
                "Hosted control planes need a management cluster: set cloud.managementCluster.url.",
            )
        return KubeAPI(self._management_url, self._http, self._token)

    def hosted_endpoint(self, namespace: str) -> ClusterEndpoint:
        """Where the API of the hosted cluster whose control plane runs in ``namespace`` answers."""
        base = (self._management_url or self.base_url).rsplit("/management", 1)[0]
        return ClusterEndpoint(f"{base}/hostedclusters/{namespace}", self._ca_pem)

    def cluster_api(self, endpoint: ClusterEndpoint, cert_pem: str, key_pem: str) -> KubeAPI:
        """A cluster's API as the holder of a client certificate (issued by the cluster's client CA). The
        HTTP clients are kept per certificate, at most ``CERT_CLIENTS``: the least recently used one leaves
        the cache, and is closed once no ``KubeAPI`` handed out on it is left (closing it under a running
        install failed that install: "the client has been closed")."""
        key = (endpoint.ca_pem, cert_pem)
        shared = self._cert_http.pop(key, None)
        if shared is None:
            shared = _SharedClient(
                httpx.AsyncClient(verify=client_cert_context(endpoint.ca_pem, cert_pem, key_pem), timeout=self._timeout)
            )
            if len(self._cert_http) >= CERT_CLIENTS:
                _, oldest = self._cert_http.popitem(last=False)
                oldest.evicted = True
                self._close_if_unused(oldest)
        self._cert_http[key] = shared
        api = KubeAPI(endpoint.url, shared.http)
        shared.users += 1
        weakref.finalize(api, self._released, shared)
        return api

    def _released(self, shared: _SharedClient) -> None:
        shared.users -= 1
        self._close_if_unused(shared)

    def _close_if_unused(self, shared: _SharedClient) -> None:
        if not shared.evicted or shared.users > 0 or shared.closing:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # collected outside the loop (at exit): its connections go with it
            return
        shared.closing = True
        self._closing = [f for f in self._closing if not f.done()]
        self._closing.append(loop.create_task(shared.http.aclose()))

    # -- the cloud console (the SRE backplane's consoleLink) -----------------------------------------------

    portal_url = "https://portal.azure.com"  # ``AzureCloud`` sets both from ``cloud.azure``
    portal_tenant_id: str | None = None

    async def console_link(self, subscription_id: str, resource_group: str, ttl_seconds: int) -> str:
        """Against Azure the group's portal page (``{portal_url}/#@{tenant}/resource/.../overview``); against
        the simulator (this cloud's cluster endpoints are the simulator's) a signed link to its web console,
        minted by ``POST /simulator/console/links`` with this cloud's bearer token."""
        rg = f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        if not isinstance(self._cluster_endpoints, SimulatorClusterEndpoints):
            tenant = f"@{self.portal_tenant_id}" if self.portal_tenant_id else ""
            return f"{self.portal_url.rstrip('/')}/#{tenant}/resource{rg}/overview"
        url = f"{self.base_url}/simulator/console/links"
        headers = {**self._headers(), "Authorization": f"Bearer {await self._token()}"}
        try:
            resp = await self._http.post(url, json={"resourceGroupId": rg, "ttlSeconds": ttl_seconds}, headers=headers)
        except httpx.HTTPError as e:
            raise CloudError(
                503, _UNAVAILABLE, f"The simulator at {url} could not be reached: {e}", temporary=True
            ) from e
        try:
            body = resp.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        if resp.status_code != 200 or not isinstance(body.get("link"), str):
            error = body["error"] if isinstance(body.get("error"), dict) else {}
            raise CloudError(
                resp.status_code if resp.status_code >= 400 else 500,
                str(error.get("code") or f"Http{resp.status_code}"),
                str(error.get("message") or resp.text[:500]),
                temporary=resp.status_code in _RETRY_STATUSES,
            )
        return str(body["link"])

    async def close(self) -> None:
        for owned in self._cert_http.values():
            await owned.http.aclose()
        self._cert_http.clear()
        await asyncio.gather(*self._closing, return_exceptions=True)
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
        for http in [self._http, *self._http_by_ca.values()]:
            await http.aclose()
        self._http_by_ca = {}

    async def __aenter__(self) -> ArmCloud:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


if TYPE_CHECKING:
    _conforms: type[Cloud] = ArmCloud
