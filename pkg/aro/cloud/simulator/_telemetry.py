"""Every simulated cluster's telemeter-client: a cluster that holds an ``aro-telemeter`` Secret pushes its
health and usage to the URL the secret names, as an OpenShift cluster pushes to Telemeter.

Which clusters: classic (``/clusters/{sub}/{rg}``) and hosted (``/hostedclusters/{namespace}``) ones, with
Secret ``aro-telemeter`` in their own namespace ``openshift-monitoring`` (never the management cluster).
The secret's keys and the upload body: ``_telemetrydata``. A cluster sends while it exists and holds the
secret; its objects go with its resource group (classic) or management namespace (hosted), and so does
its telemetry.

Upload: ``POST {url}``, ``Authorization: Bearer {token}``, ``Content-Type: application/json``; the first
one at once when the secret appears (or becomes valid, or the cluster is enabled again), then every
``interval`` seconds (fixed rate: a slow upload delays the next, never doubles it). A failure (connection
or TLS error, timeout, non-2xx) is recorded and retried at the next interval. At most one upload in flight
per cluster, ``MAX_IN_FLIGHT`` overall (the most overdue go first); each bounded by
``UPLOAD_TIMEOUT_SECONDS`` end to end; at most ``MAX_RESPONSE_BYTES`` of a response are read (the first
200 characters of a failure's go into ``lastError``). The facts (nodes, readiness) and the secret itself
are read afresh, in one store transaction, for each upload: a changed token or a deleted cluster counts
from the next upload on. Connections go direct (proxy environment variables are ignored) and are kept
alive, one client per distinct ``ca.crt``.

Finding the secrets: one query at start-up, then the object store's watcher (``KubeObjects.watch``) and
the resource-group hook (``Store.hooks``) name the clusters whose secret may have changed; those are
re-read (``REFRESH_BATCH`` per transaction) -- a new or changed secret is picked up at once, nothing polls.

Control (admin; bearer token required; wired in ``_app``)::

    GET /simulator/telemetry              -> 200 {"value": [entry, ...]}   (by cluster key)
    GET /simulator/telemetry/{clusterID}  -> 200 entry, or 404 (ARM error body)
    PUT /simulator/telemetry/{clusterID}  {"enabled": false | true}  -> 200 entry; 404; 400 (bad body)

    entry = {"clusterID", "cluster" (the simulator's cluster key), "flavour" ("classic" | "hosted"),
             "enabled", "intervalSeconds", "sent" (successful uploads), "failed" (failed ones),
             "lastSent", "lastAttempt" (RFC 3339 or null), "lastStatus" (HTTP status or null),
             "lastError" (or null)}

Disabling answers once the cluster's in-flight upload (if any) has finished: after the answer it sends
nothing until enabled again. The flag is kept by cluster id (case-insensitive), in memory: it survives
the secret being rewritten or the cluster being rebuilt with the same id, not a simulator restart (nor
do the counters).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import ssl
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from ._errors import ArmError
from ._http import Request, Response
from ._kubeclusters import CLASSIC, HOSTED, MANAGEMENT, Cluster
from ._store import iso
from ._telemetrydata import (
    SECRET_NAME,
    SECRET_NAMESPACE,
    ClusterFacts,
    SecretConfig,
    node_facts,
    parse_secret,
    payload,
)

if TYPE_CHECKING:
    from ._config import FaultSet
    from ._kubeclusters import Clusters
    from ._kubeobjects import KubeObjects
    from ._store import Store

Object = dict[str, Any]
UPLOAD_TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
MAX_IN_FLIGHT = 32
MAX_CLUSTERS = 10_000  # entries kept; more secrets than this are ignored
REFRESH_BATCH = 256
IDLE_CLIENTS = 8  # idle HTTP clients (one per distinct ca.crt) kept open
RETRY_SCAN_SECONDS = 0.25  # after a failed scan (the store was busy or closing)


@dataclass(eq=False)
class _Entry:
    key: str
    flavour: str
    config: SecretConfig
    due: float  # loop time of the next upload
    sent: int = 0
    failed: int = 0
    last_sent: float | None = None
    last_attempt: float | None = None
    last_status: int | None = None
    last_error: str | None = None
    last_start: float | None = None  # loop time the last upload started

    def json(self, enabled: bool) -> Object:
        return {
            "clusterID": self.config.cluster_id,
            "cluster": self.key,
            "flavour": self.flavour,
            "enabled": enabled,
            "intervalSeconds": self.config.interval,
            "sent": self.sent,
            "failed": self.failed,
            "lastSent": None if self.last_sent is None else iso(self.last_sent),
            "lastAttempt": None if self.last_attempt is None else iso(self.last_attempt),
            "lastStatus": self.last_status,
            "lastError": self.config.problem or self.last_error,
        }


def _ssl_context(ca: str | None) -> ssl.SSLContext:
    """Blocking (the system store is read from disk): run off the event loop."""
    return ssl.create_default_context(cadata=ca) if ca is not None else ssl.create_default_context()


@dataclass(eq=False)
class _Client:
    client: httpx.AsyncClient
    users: int = 0


class _Clients:
    """One HTTP client per trust (a ``ca.crt``, or the system store); idle ones beyond ``IDLE_CLIENTS``
    are closed, least recently used first. Event loop only."""

    def __init__(self) -> None:
        self._pool: OrderedDict[str, _Client] = OrderedDict()

    async def acquire(self, ca: str | None) -> tuple[str, httpx.AsyncClient]:
        key = "system" if ca is None else hashlib.sha256(ca.encode()).hexdigest()
        slot = self._pool.get(key)
        if slot is None:
            context = await asyncio.to_thread(_ssl_context, ca)
            await self._trim()
            slot = self._pool.get(key)  # another upload may have made it meanwhile
            if slot is None:
                timeout = httpx.Timeout(UPLOAD_TIMEOUT_SECONDS)
                client = httpx.AsyncClient(verify=context, trust_env=False, timeout=timeout, follow_redirects=False)
                slot = self._pool[key] = _Client(client)
        slot.users += 1
        self._pool.move_to_end(key)
        return key, slot.client

    def release(self, key: str) -> None:
        slot = self._pool.get(key)
        if slot is not None:
            slot.users -= 1

    async def _trim(self) -> None:
        while len(self._pool) >= IDLE_CLIENTS:
            idle = next((k for k, s in self._pool.items() if s.users <= 0), None)
            if idle is None:
                return
            await self._pool.pop(idle).client.aclose()

    async def close(self) -> None:
        pool, self._pool = list(self._pool.values()), OrderedDict()
        for slot in pool:
            with contextlib.suppress(Exception):
                await slot.client.aclose()


def _describe(e: BaseException) -> str:
    if isinstance(e, TimeoutError | httpx.TimeoutException):
        return f"timed out after {UPLOAD_TIMEOUT_SECONDS:g}s"
    text = str(e) or repr(e)
    return f"{type(e).__name__}: {text}"[:500]


class Telemetry:
    """The sender. ``start`` on the running loop (``SimulatorApp.startup``), ``cancel`` when the server is
    stopping, ``await stop()`` before the store closes."""

    def __init__(self, store: Store, objects: KubeObjects, clusters: Clusters, faults: FaultSet) -> None:
        self.store = store
        self.objects = objects
        self.clusters = clusters
        self.faults = faults
        self._entries: dict[str, _Entry] = {}
        self._disabled: set[str] = set()  # cluster ids, lower-case
        self._dirty: set[str] = set()
        self._rescan = True
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._uploads: dict[str, asyncio.Task[None]] = {}  # by cluster key: one in flight per cluster
        self._clients = _Clients()
        objects.watch(self._object_changed)
        store.hooks.append(self)

    # -- which clusters may have changed (database thread) -------------------------------------------------

    def _object_changed(self, cluster: str, resource: str, event: str, obj: Object) -> None:
        m = obj.get("metadata") or {}
        if resource == "secrets" and cluster != MANAGEMENT:
            if m.get("name") == SECRET_NAME and m.get("namespace") == SECRET_NAMESPACE:
                self._mark(cluster)
        elif resource == "namespaces" and cluster == MANAGEMENT and event == "DELETED":
            self._mark(f"{HOSTED}:{m.get('name')}")

    def upserted(self, rg_key: str, key: str, rtype: str) -> None:
        return None

    def deleted(self, key: str) -> None:
        return None

    def rg_deleted(self, rg_key: str) -> None:
        self._mark(f"{CLASSIC}:{rg_key}")

    def _mark(self, key: str) -> None:
        loop = self._loop
        if loop is not None:  # not running: start() scans everything
            with contextlib.suppress(RuntimeError):  # the loop is closed
                loop.call_soon_threadsafe(self._dirty_now, key)

    def _dirty_now(self, key: str) -> None:
        self._dirty.add(key)
        self._poke()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # -- lifecycle (event loop) ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._rescan = True
        self._task = self._loop.create_task(self._run(), name="aro-simulator-telemetry")

    def cancel(self) -> None:
        """Stop sending now (synchronous: the server is stopping); ``stop`` finishes the job."""
        for task in [self._task, *self._uploads.values()]:
            if task is not None:
                task.cancel()

    async def stop(self) -> None:
        self.cancel()
        tasks = [t for t in [self._task, *self._uploads.values()] if t is not None]
        if tasks:
            await asyncio.wait(tasks)
        self._task, self._loop, self._wake = None, None, None
        self._uploads.clear()
        self._entries.clear()
        self._dirty.clear()
        await self._clients.close()

    # -- the loop ------------------------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        wake = self._wake
        assert wake is not None
        while True:
            wake.clear()
            delay: float | None
            try:
                await self._refresh(loop.time())
            except Exception:  # the store failed this time: look at everything again shortly
                self._rescan = True
                delay = RETRY_SCAN_SECONDS
            else:
                self._start_due(loop.time())
                delay = 0.0 if self._dirty or self._rescan else self._delay(loop.time())
            if delay is None or delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await wake.wait()

    async def _refresh(self, now: float) -> None:
        if self._rescan:
            self._rescan = False
            self._dirty.clear()
            found = await self.store.run(self._scan_all_tx)
            self._apply(set(self._entries) | set(found), found, now)
        elif self._dirty:
            batch = [self._dirty.pop() for _ in range(min(REFRESH_BATCH, len(self._dirty)))]
            self._apply(set(batch), await self.store.run(self._scan_tx, batch), now)

    def _apply(self, keys: set[str], found: dict[str, tuple[str, SecretConfig]], now: float) -> None:
        for key in sorted(keys):
            entry, got = self._entries.get(key), found.get(key)
            if got is None:
                self._entries.pop(key, None)  # an upload in flight finishes (and counts); nothing follows
                continue
            flavour, config = got
            if entry is None or entry.config.cluster_id != config.cluster_id:
                if entry is None and len(self._entries) >= MAX_CLUSTERS:
                    continue
                self._entries[key] = _Entry(key, flavour, config, due=now)
                continue
            was = entry.config
            entry.config = config
            if was.problem is not None and config.problem is None:
                entry.due, entry.last_error = now, None
            elif config.interval != was.interval and config.interval is not None and entry.last_start is not None:
                entry.due = entry.last_start + config.interval

    def enabled(self, cluster_id: str) -> bool:
        return cluster_id.lower() not in self._disabled

    def _start_due(self, now: float) -> None:
        due = [
            e
            for e in self._entries.values()
            if e.key not in self._uploads
            and e.config.problem is None
            and e.due <= now
            and self.enabled(e.config.cluster_id)
        ]
        due.sort(key=lambda e: e.due)
        loop = asyncio.get_running_loop()
        for entry in due[: max(0, MAX_IN_FLIGHT - len(self._uploads))]:
            task = loop.create_task(self._upload(entry), name=f"aro-simulator-telemetry {entry.config.cluster_id}")
            self._uploads[entry.key] = task
            task.add_done_callback(functools.partial(self._upload_done, entry.key))

    def _upload_done(self, key: str, task: asyncio.Task[None]) -> None:
        if self._uploads.get(key) is task:
            del self._uploads[key]
        self._poke()

    def _delay(self, now: float) -> float | None:
        """Seconds until the next upload is due (None: none is; a finished upload wakes the loop)."""
        waiting = [
            e.due
            for e in self._entries.values()
            if e.key not in self._uploads and e.config.problem is None and self.enabled(e.config.cluster_id)
        ]
        if not waiting or len(self._uploads) >= MAX_IN_FLIGHT:
            return None
        return max(0.0, min(waiting) - now)

    # -- one upload ----------------------------------------------------------------------------------------

    async def _upload(self, entry: _Entry) -> None:
        loop = asyncio.get_running_loop()
        entry.last_start = started = loop.time()
        interval = entry.config.interval or 1.0
        try:
            facts = await self.store.run(self._facts_tx, entry.key)
            if facts is None or facts[0].cluster_id != entry.config.cluster_id:
                self._dirty_now(entry.key)  # gone or rebuilt: the refresh decides
                return
            config, cluster = facts
            entry.config = config
            interval = config.interval or interval
            if config.problem is not None or not self.enabled(config.cluster_id):
                return
            ready = cluster.ready and self.faults.peek("clusterReady", cluster.fault_target) is None
            now = time.time()
            body = payload(config, cluster, ready, now, iso(now))
            entry.last_attempt = now
            try:
                status, error = await self._post(config, json.dumps(body).encode())
            except (httpx.HTTPError, OSError, ssl.SSLError, TimeoutError, ValueError) as e:
                status, error = None, _describe(e)
            entry.last_status, entry.last_error = status, error
            if error is None:
                entry.sent += 1
                entry.last_sent = now
            else:
                entry.failed += 1
        except Exception as e:  # the store failed (closing, busy): try again at the next interval
            entry.last_error = f"simulator: {_describe(e)}"
        finally:
            # fixed rate; after a long pause (disabled, no free slot) the next is one interval after this one
            following = entry.due + interval
            entry.due = following if following >= started else started + interval

    async def _post(self, config: SecretConfig, body: bytes) -> tuple[int, str | None]:
        headers = {
            "Authorization": f"Bearer {config.token}",
            "Content-Type": "application/json",
            "Accept-Encoding": "identity",
            "User-Agent": "aro-simulator-telemeter-client/1",
        }
        async with asyncio.timeout(UPLOAD_TIMEOUT_SECONDS):
            key, client = await self._clients.acquire(config.ca)
            try:
                async with client.stream("POST", config.url, content=body, headers=headers) as resp:
                    received = bytearray()
                    async for chunk in resp.aiter_raw():
                        received += chunk[: MAX_RESPONSE_BYTES - len(received)]
                        if len(received) >= MAX_RESPONSE_BYTES:
                            break
                    status = resp.status_code
            finally:
                self._clients.release(key)
        if 200 <= status < 300:
            return status, None
        text = received.decode("utf-8", "replace").strip()
        return status, f"HTTP {status}" + (f": {text[:200]}" if text else "")

    # -- reads (database thread) ---------------------------------------------------------------------------

    def _cluster(self, key: str) -> Cluster | None:
        """The cluster of a key, if it exists (without seeding anything)."""
        flavour, _, arg = key.partition(":")
        if flavour == CLASSIC and self.store.get_rg(arg) is not None:
            return Cluster(CLASSIC, key, rg_key=arg)
        if flavour == HOSTED and self.objects.exists(MANAGEMENT, "namespaces", "", arg):
            return Cluster(HOSTED, key, namespace=arg)
        return None

    def _scan_tx(self, keys: list[str]) -> dict[str, tuple[str, SecretConfig]]:
        out: dict[str, tuple[str, SecretConfig]] = {}
        for key in keys:
            cluster = self._cluster(key)
            secret = None if cluster is None else self.objects.get(key, "secrets", SECRET_NAMESPACE, SECRET_NAME)
            config = parse_secret(secret)
            if cluster is not None and config is not None:
                out[key] = (cluster.flavour, config)
        return out

    def _scan_all_tx(self) -> dict[str, tuple[str, SecretConfig]]:
        rows = self.objects.db.execute(
            "SELECT cluster FROM kube_objects WHERE resource = 'secrets' AND namespace = ? AND name = ?"
            " AND cluster != ? ORDER BY cluster LIMIT ?",
            (SECRET_NAMESPACE, SECRET_NAME, MANAGEMENT, MAX_CLUSTERS),
        ).fetchall()
        return self._scan_tx([str(r["cluster"]) for r in rows])

    def _facts_tx(self, key: str) -> tuple[SecretConfig, ClusterFacts] | None:
        self.objects.settle(time.time())  # pods whose start time has come are Running
        cluster = self._cluster(key)
        if cluster is None:
            return None
        config = parse_secret(self.objects.get(key, "secrets", SECRET_NAMESPACE, SECRET_NAME))
        if config is None:
            return None
        nodes = self.clusters.nodes(cluster)
        if cluster.flavour == CLASSIC:
            rg = self.store.get_rg(cluster.rg_key) or {}
            masters = sum(1 for n in nodes if "-master-" in str(n["metadata"]["name"]).lower())
            ready, region, target = self.clusters.masters(cluster) >= 3, str(rg.get("location", "")), str(rg["name"])
        else:
            managed = self.clusters.managed_rg(cluster)
            rg = (self.store.get_rg(managed) if managed else None) or {}
            labels = [(n["metadata"].get("labels") or {}) for n in nodes]
            regions = [str(lab.get("topology.kubernetes.io/region") or "") for lab in labels]
            masters, ready = 0, self.clusters.pods_ready(cluster)[0]
            region = str(rg.get("location") or next((r for r in regions if r), ""))
            target = (managed or "").rstrip("/").split("/")[-1]
        total, masters, sizes = node_facts(nodes, masters)
        return config, ClusterFacts(total, masters, sizes, ready, region, target)

    # -- control (admin routes, event loop) ----------------------------------------------------------------

    def _matching(self, cluster_id: str) -> list[_Entry]:
        wanted = cluster_id.lower()
        return [self._entries[k] for k in sorted(self._entries) if self._entries[k].config.cluster_id.lower() == wanted]

    async def admin(self, req: Request) -> Response:
        """``/simulator/telemetry[/{clusterID}]`` (the caller has authenticated)."""
        rest = req.segs[2:]
        if not rest:
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{req.method} is not allowed.")
            entries = [self._entries[k] for k in sorted(self._entries)]
            return Response(200, {"value": [e.json(self.enabled(e.config.cluster_id)) for e in entries]})
        if len(rest) != 1:
            raise ArmError(404, "NotFound", f"No route for {req.method} /{'/'.join(req.segs)}.")
        if req.method not in ("GET", "PUT"):
            raise ArmError(405, "MethodNotAllowed", f"{req.method} is not allowed.")
        matches = self._matching(rest[0])
        if not matches:
            raise ArmError(404, "NotFound", f"No simulated cluster sends telemetry as cluster id '{rest[0]}'.")
        if req.method == "PUT":
            body = req.json()
            if set(body) != {"enabled"} or not isinstance(body["enabled"], bool):
                raise ArmError(400, "InvalidRequestContent", 'The body must be {"enabled": true | false}.')
            await self.set_enabled(rest[0], body["enabled"])
            matches = self._matching(rest[0]) or matches
        return Response(200, matches[0].json(self.enabled(matches[0].config.cluster_id)))

    async def set_enabled(self, cluster_id: str, enabled: bool) -> None:
        """Enable or disable a cluster id's telemetry; disabling returns once its in-flight upload ended."""
        if enabled:
            self._disabled.discard(cluster_id.lower())
            now = asyncio.get_running_loop().time()
            for entry in self._matching(cluster_id):
                entry.due = min(entry.due, now)
            self._poke()
            return
        self._disabled.add(cluster_id.lower())
        running = [self._uploads[e.key] for e in self._matching(cluster_id) if e.key in self._uploads]
        if running:
            await asyncio.wait(running)
