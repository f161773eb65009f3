"""A small Kubernetes REST client: what the backend needs of a management cluster (namespaces, pods,
secrets, config maps of a hosted control plane) and of a hosted cluster's API (its nodes, RBAC objects,
pods and their logs).

``KubeAPI(base_url, http, token=...)`` authenticates with a bearer token (the management cluster) or,
through ``http``'s TLS context, with a client certificate (``client_cert_context``: a hosted cluster's
API). Objects are plain Kubernetes JSON. ``apply`` is create-or-replace (idempotent: a step that runs again
after a crash writes the same object); ``delete`` of a missing object is a no-op.

Kinds (``object_path``): the core/v1 ones in ``_CORE`` and the RBAC ones in ``_RBAC``
(``rbac.authorization.k8s.io/v1``: roles and rolebindings namespaced, clusterroles and clusterrolebindings
cluster-scoped). ``pod_log`` reads a pod's log whole (bounded), ``stream_pod_log`` follows it.

Errors are ``CloudError``: 5xx, 429 and an unreachable API are ``temporary`` (the backend re-queues the
step); 4xx are permanent, with the API's ``Status`` message.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote

import httpx

from aro.api.errors import CloudError

TokenProvider = Callable[[], Awaitable[str]]

_TEMPORARY = frozenset({408, 429, 500, 502, 503, 504})
_MAX_PAGES = 1000  # of one list

# core/v1 kinds by their plural: (namespaced)
_CORE = {
    "namespaces": False,
    "nodes": False,
    "pods": True,
    "secrets": True,
    "configmaps": True,
    "serviceaccounts": True,
}
RBAC_GROUP = "rbac.authorization.k8s.io"
# rbac.authorization.k8s.io/v1 kinds by their plural: (namespaced)
_RBAC = {"roles": True, "rolebindings": True, "clusterroles": False, "clusterrolebindings": False}


def client_cert_context(ca_pem: str, cert_pem: str, key_pem: str) -> ssl.SSLContext:
    """A TLS client context that verifies the server with ``ca_pem`` and presents a client certificate
    (``ssl`` loads certificates from files only: they are written to a private temporary directory and
    removed at once)."""
    ctx = ssl.create_default_context(cadata=ca_pem or None)
    with tempfile.TemporaryDirectory(prefix="aro-kube-") as tmp:
        cert_file, key_file = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
        for path, content in ((cert_file, cert_pem), (key_file, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(content)
        ctx.load_cert_chain(cert_file, key_file)
    return ctx


def object_path(plural: str, name: str = "", namespace: str = "") -> str:
    """``/api/v1[/namespaces/{ns}]/{plural}[/{name}]`` of a core/v1 kind;
    ``/apis/rbac.authorization.k8s.io/v1[/namespaces/{ns}]/{plural}[/{name}]`` of an RBAC kind."""
    if plural in _CORE:
        path, namespaced = "/api/v1", _CORE[plural]
    elif plural in _RBAC:
        path, namespaced = f"/apis/{RBAC_GROUP}/v1", _RBAC[plural]
    else:
        raise ValueError(f"unsupported kind {plural!r}")
    if namespaced and namespace:
        path += f"/namespaces/{quote(namespace, safe='')}"
    path += f"/{plural}"
    return path + (f"/{quote(name, safe='')}" if name else "")


class KubeAPI:
    def __init__(self, base_url: str, http: httpx.AsyncClient, token: TokenProvider | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = http
        self._token = token

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {await self._token()}"
        url = self.base_url + path
        try:
            return await self._http.request(method, url, json=body, params=params, headers=headers)
        except httpx.HTTPError as e:
            raise CloudError(
                503, "ServiceUnavailable", f"The Kubernetes API at {url} could not be reached: {e}", temporary=True
            ) from e

    @staticmethod
    def _fail(resp: httpx.Response, what: str) -> CloudError:
        try:
            message = str(resp.json().get("message") or resp.text[:300])
        except ValueError:
            message = resp.text[:300]
        status = resp.status_code
        code = "InternalServerError" if status >= 500 else "KubernetesAPIError"
        return CloudError(
            status if status >= 400 else 500, code, f"{what}: HTTP {status}: {message}", temporary=status in _TEMPORARY
        )

    async def get(self, plural: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        resp = await self._request("GET", object_path(plural, name, namespace))
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise self._fail(resp, f"Reading {plural}/{name}")
        out: dict[str, Any] = resp.json()
        return out

    async def get_text(self, path: str) -> str | None:
        """A non-object endpoint as text (a pod's ``/proxy/metrics``); None when it is not there."""
        resp = await self._request("GET", path)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise self._fail(resp, f"Reading {path}")
        return resp.text

    async def list(self, plural: str, namespace: str = "", label_selector: str = "") -> list[dict[str, Any]]:
        """Every object (``namespace`` "": of every namespace), following the API's ``continue`` pages."""
        params = {"labelSelector": label_selector} if label_selector else {}
        items: list[dict[str, Any]] = []
        for _ in range(_MAX_PAGES):
            resp = await self._request("GET", object_path(plural, namespace=namespace), params=params)
            if resp.status_code == 404 and namespace:
                return []
            if resp.status_code != 200:
                raise self._fail(resp, f"Listing {plural}")
            body = resp.json()
            items += body.get("items") or []
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                return items
            params = {**params, "continue": str(token)}
        raise CloudError(500, "InternalServerError", f"Listing {plural}: more than {_MAX_PAGES} pages.")

    async def apply(self, plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Create the object, or replace it when it exists (keeping its resourceVersion)."""
        meta = obj.get("metadata") or {}
        name, namespace = str(meta.get("name") or ""), str(meta.get("namespace") or "")
        for _ in range(5):
            resp = await self._request("POST", object_path(plural, namespace=namespace), obj)
            if resp.status_code in (200, 201):
                created: dict[str, Any] = resp.json()
                return created
            if resp.status_code != 409:
                raise self._fail(resp, f"Creating {plural}/{name}")
            current = await self.get(plural, name, namespace)
            if current is None:
                continue  # deleted meanwhile
            body = {**obj, "metadata": {**meta, "resourceVersion": current["metadata"].get("resourceVersion")}}
            resp = await self._request("PUT", object_path(plural, name, namespace), body)
            if resp.status_code == 200:
                replaced: dict[str, Any] = resp.json()
                return replaced
            if resp.status_code not in (404, 409):
                raise self._fail(resp, f"Replacing {plural}/{name}")
        raise CloudError(409, "Conflict", f"{plural}/{name} kept changing while it was written.", temporary=True)

    async def delete(self, plural: str, name: str, namespace: str = "") -> None:
        resp = await self._request("DELETE", object_path(plural, name, namespace))
        if resp.status_code not in (200, 202, 404):
            raise self._fail(resp, f"Deleting {plural}/{name}")

    async def pod_log(self, namespace: str, name: str, *, limit_bytes: int = 10 * 2**20) -> str:
        """The pod's log so far, at most ``limit_bytes`` (decoded as UTF-8, bad bytes replaced); "" for a pod
        that has written nothing (or is not executed). A missing pod (or namespace) is a ``CloudError`` 404."""
        path = object_path("pods", name, namespace) + "/log"
        resp = await self._request("GET", path, params={"limitBytes": str(max(1, limit_bytes))})
        if resp.status_code != 200:
            raise self._fail(resp, f"Reading the log of pods/{name}")
        return resp.content[:limit_bytes].decode(errors="replace")

    def stream_pod_log(self, namespace: str, name: str) -> AsyncIterator[bytes]:
        """The pod's log as it is written (``follow=true``): the bytes so far, then more as they come, until the
        pod's container ends, the pod goes, or the caller stops iterating. No read timeout applies. Errors
        (a missing pod: 404) are ``CloudError``, raised at the first iteration."""
        return self._stream_log(object_path("pods", name, namespace) + "/log")

    async def _stream_log(self, path: str) -> AsyncIterator[bytes]:
        headers = {"Accept": "*/*"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {await self._token()}"
        url = self.base_url + path
        timeout = httpx.Timeout(self._http.timeout.connect or 30.0, read=None)
        try:
            async with self._http.stream(
                "GET", url, params={"follow": "true"}, headers=headers, timeout=timeout
            ) as resp:
                if resp.status_code != 200:
                    await resp.aread()
                    raise self._fail(resp, f"Following the log at {path}")
                async for chunk in resp.aiter_raw():
                    yield chunk
        except httpx.HTTPError as e:
            raise CloudError(
                503, "ServiceUnavailable", f"The Kubernetes API at {url} could not be reached: {e}", temporary=True
            ) from e

    async def ready(self) -> bool:
        """``/readyz`` answers 200 (an unreachable API is not ready)."""
        try:
            resp = await self._request("GET", "/readyz")
        except CloudError:
            return False
        return resp.status_code == 200
