"""The Cosmos DB (SQL API) document store, on ``azure.cosmos.aio``: one client per process, reused.

Every container is partitioned by ``/partitionKey`` with a unique key policy on ``/key`` (so ``key`` is
unique within a partition, as in the Store contract) and TTL enabled (``defaultTtl`` from the spec, else
-1: no default expiry, but a document's own ``ttl`` is honoured). Cosmos expires documents itself and
never returns an expired one, so ``purge_expired`` has nothing to do.

Our ``etag``/``ts`` are Cosmos's ``_etag``/``_ts``: they are never stored in the body; Cosmos system
properties are stripped from returned documents. Writes are conditional (``If-Match``) on the etag read.
Throttling (429) is retried by the SDK, waiting what the server asks (``x-ms-retry-after-ms``).

Paging is keyset paging on ``key`` (token: the last key and the documents with that key already
returned), not the SDK's continuation token: the Python SDK cannot resume a cross-partition ORDER BY
query from a token, and its pages may come back short; this way every page is full and exact.

Leases are patched, not replaced: the lease fields live in the document and are written with partial
updates (``patch_item``), so neither a claim nor a renewal uploads the (often ~11 KB) body. A claim
(``dequeue_many``) is a query for candidates (id, partition, ``dequeues``, ``_etag`` only) and then one
patch per candidate, concurrently, each conditional on the candidate's etag (``If-Match``): a lost race is a
412 and is simply skipped. A renewal is a patch of ``leaseExpires`` conditional on ``leaseOwner`` (a filter
predicate, ``from c where c.leaseOwner = "<owner>"``; 412 -> LostLease), not on the etag, so it never
conflicts with a write of the body; like every write it gives the document a new ``_etag``, which the
patch returns with the whole document (the next etag-conditional write uses it). The alternative, a small
lease document per item (ARO-HCP's former lock container), would make every lease-checked write of the
item a two-document transaction and the claim query a join Cosmos DB does not have. Patch with a filter
predicate is served by Cosmos DB and by the local test server (``hack/cosmos-server.js`` evaluates the
predicate as written: the npm package lowercases it).
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import ssl
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from azure.core import MatchConditions
from azure.core.exceptions import ServiceRequestError
from azure.core.pipeline.transport import AioHttpTransport
from azure.cosmos import PartitionKey
from azure.cosmos.aio import ContainerProxy, CosmosClient, DatabaseProxy
from azure.cosmos.exceptions import CosmosHttpResponseError

from aro.database.query import Dialect, Expr, Kind, Path, Query, check_path, check_query, render_where
from aro.database.store import (
    Conflict,
    ContainerSpec,
    Doc,
    LostLease,
    NotFound,
    Page,
    PreconditionFailed,
    StoreBase,
    StoreError,
    UnsupportedQuery,
)

PARTITION_KEY_PATH = "/partitionKey"
UNIQUE_KEY_PATH = "/key"
COSMOS_SYSTEM_PROPERTIES = ("_rid", "_self", "_attachments", "_etag", "_ts")
_OURS = ("etag", "ts")  # our names for _etag/_ts: never written into the stored body
_UNIQUE_KEY_POLICY: Any = {"uniqueKeys": [{"paths": [UNIQUE_KEY_PATH]}]}  # (the SDK types it dict[str, str])
_CLAIM_CANDIDATES = 20  # at least this many candidates per claim query (twice the claims wanted)
_CLAIM_ROUNDS = 5  # claim queries per dequeue_many, while claims are lost to concurrent claimers


class CosmosSetupError(StoreError, RuntimeError):
    """The account, database or a container is unreachable, missing or set up differently."""


def _from_cosmos(item: dict[str, Any]) -> Doc:
    doc = {k: v for k, v in item.items() if k not in COSMOS_SYSTEM_PROPERTIES}
    doc["etag"] = item.get("_etag")
    doc["ts"] = item.get("_ts")
    return doc


def _to_cosmos(doc: Doc) -> dict[str, Any]:
    body = {k: v for k, v in doc.items() if k not in _OURS and k not in COSMOS_SYSTEM_PROPERTIES}
    body.setdefault("key", body["id"])
    if body.get("ttl") is None:
        body.pop("ttl", None)
    return body


def _first_line(e: Exception) -> str:
    lines = str(getattr(e, "message", None) or e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


def _error(e: CosmosHttpResponseError, what: str) -> StoreError:
    status = e.status_code
    if status == 404:
        return NotFound(what)
    if status == 409:
        return Conflict(f"{what}: a document with this id or key exists")
    if status == 412:
        return PreconditionFailed(f"{what}: etag mismatch")
    return StoreError(f"{what}: Cosmos DB answered {status}: {_first_line(e)}")


_IS_KIND: dict[Kind, str] = {"string": "IS_STRING", "number": "IS_NUMBER", "boolean": "IS_BOOL"}


def _property(path: Path) -> str:
    """``c["a"]["b"]``: the segments are identifiers (check_path), and JSON string literals besides."""
    return "c" + "".join(f"[{json.dumps(segment)}]" for segment in path)


class _Dialect(Dialect):
    def placeholder(self, name: str) -> str:
        return "@" + name

    def path(self, path: Path) -> str:
        return _property(path)

    def is_kind(self, path: Path, kind: Kind) -> str:
        return f"{_IS_KIND[kind]}({_property(path)})"

    def is_null(self, path: Path) -> str:
        return f"(NOT IS_DEFINED({_property(path)}) OR IS_NULL({_property(path)}))"

    def regex_match(self, path: Path, regex: str, case_insensitive: bool) -> str:
        flags = '"si"' if case_insensitive else '"s"'
        return f"RegexMatch({_property(path)}, {self.value('^' + regex + '$')}, {flags})"


def indexing_policy(spec: ContainerSpec) -> dict[str, Any] | None:
    """The default policy (every path range-indexed) plus a composite index (path, id) per order path, which
    ``query``'s ORDER BY path, id needs (an index serves both directions: ORDER BY path DESC, id DESC too)."""
    if not spec.order_paths:
        return None
    composite = [
        [{"path": "/" + "/".join(check_path(path)), "order": "ascending"}, {"path": "/id", "order": "ascending"}]
        for path in spec.order_paths
    ]
    return {
        "indexingMode": "consistent",
        "automatic": True,
        "includedPaths": [{"path": "/*"}],
        "excludedPaths": [{"path": '/"_etag"/?'}],
        "compositeIndexes": composite,
    }


def encode_token(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, list[list[str]]]:
    try:
        value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        key, seen = value
        if isinstance(key, str) and all(isinstance(s, list) and len(s) == 2 for s in seen):
            return key, [[str(pk), str(id)] for pk, id in seen]
    except (ValueError, TypeError):
        pass
    raise StoreError("malformed continuation token")


class _Transport(AioHttpTransport):  # type: ignore[misc]  # (exported lazily: typed Any)
    """Applies the store's TLS settings to every request. The SDK itself turns verification off for
    localhost endpoints and, given a CA file, builds a new SSL context (so a new connection) per request;
    here the verification context lives in the connection pool, built once."""

    def __init__(self, session: aiohttp.ClientSession, verify: bool):
        super().__init__(session=session, session_owner=False)
        self._verify = verify

    async def send(self, request: Any, **config: Any) -> Any:
        config["connection_verify"] = self._verify
        config.pop("connection_cert", None)
        return await super().send(request, **config)


class CosmosStore(StoreBase["CosmosContainer"]):
    """``open()`` connects, then creates (``create=True``, development) or only verifies the database
    and containers; ``key=None`` authenticates with azure-identity's DefaultAzureCredential."""

    def __init__(
        self,
        endpoint: str,
        containers: Sequence[ContainerSpec],
        *,
        database: str = "aro",
        key: str | None = None,
        verify: bool = True,
        ca_file: str | None = None,
        create: bool = True,
        max_connections: int = 100,
        throttle_retries: int = 9,
        throttle_max_wait_seconds: int = 30,
    ):
        self.endpoint = endpoint
        self.database_name = database
        self._key = key
        self._verify = verify
        self._ca_file = ca_file
        self._create = create
        self._max_connections = max_connections
        self._throttle = (throttle_retries, throttle_max_wait_seconds)
        self._specs = list(containers)
        super().__init__()
        self._session: aiohttp.ClientSession | None = None
        self._credential: Any = None
        self._client: CosmosClient | None = None

    async def open(self) -> CosmosStore:
        tls: ssl.SSLContext | bool = self._verify
        if self._verify and self._ca_file:
            tls = await asyncio.to_thread(ssl.create_default_context, cafile=self._ca_file)
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls, limit=self._max_connections))
        credential: Any = self._key
        if credential is None:
            from azure.identity.aio import DefaultAzureCredential

            credential = self._credential = DefaultAzureCredential()
        try:
            self._client = CosmosClient(
                self.endpoint,
                credential,
                transport=_Transport(self._session, self._verify),
                retry_throttle_total=self._throttle[0],
                retry_throttle_backoff_max=self._throttle[1],
            )
            await self._client.__aenter__()
            database = await self._database(self._client)
            for spec in self._specs:
                proxy = await self._container(database, spec)
                self._containers[spec.name] = CosmosContainer(self, spec, proxy)
        except ServiceRequestError as e:
            await self.close()
            raise CosmosSetupError(f"cannot reach Cosmos DB at {self.endpoint}: {_first_line(e)}") from None
        except BaseException:
            await self.close()
            raise
        return self

    async def _database(self, client: CosmosClient) -> DatabaseProxy:
        where = f"Cosmos DB {self.endpoint}"
        if self._create:
            try:
                return await client.create_database_if_not_exists(self.database_name)
            except CosmosHttpResponseError as e:
                if e.status_code != 409:  # created by another process meanwhile
                    raise CosmosSetupError(
                        f"{where}: cannot create database {self.database_name!r}: {_first_line(e)}"
                    ) from None
        database = client.get_database_client(self.database_name)
        try:
            await database.read()
        except CosmosHttpResponseError as e:
            if e.status_code == 404:
                raise CosmosSetupError(
                    f"{where} has no database {self.database_name!r} (production mode does not create it; see deploy/)"
                ) from None
            raise CosmosSetupError(f"{where}: cannot read database {self.database_name!r}: {_first_line(e)}") from None
        return database

    async def _container(self, database: DatabaseProxy, spec: ContainerSpec) -> ContainerProxy:
        where = f"Cosmos DB database {self.database_name!r}"
        if self._create:
            try:
                await database.create_container_if_not_exists(
                    spec.name,
                    partition_key=PartitionKey(path=PARTITION_KEY_PATH),
                    unique_key_policy=_UNIQUE_KEY_POLICY,
                    default_ttl=spec.default_ttl or -1,
                    indexing_policy=indexing_policy(spec),
                )
            except CosmosHttpResponseError as e:
                if e.status_code != 409:
                    raise CosmosSetupError(
                        f"{where}: cannot create container {spec.name!r}: {_first_line(e)}"
                    ) from None
        proxy = database.get_container_client(spec.name)
        try:
            props = await proxy.read()
        except CosmosHttpResponseError as e:
            if e.status_code == 404:
                raise CosmosSetupError(
                    f"{where} has no container {spec.name!r} (production mode does not create it; see deploy/)"
                ) from None
            raise CosmosSetupError(f"{where}: cannot read container {spec.name!r}: {_first_line(e)}") from None
        paths = (props.get("partitionKey") or {}).get("paths")
        if paths != [PARTITION_KEY_PATH]:
            raise CosmosSetupError(
                f"{where}: container {spec.name!r} is partitioned by {paths}, not {PARTITION_KEY_PATH}"
            )
        unique = [u.get("paths") for u in (props.get("uniqueKeyPolicy") or {}).get("uniqueKeys", [])]
        if [UNIQUE_KEY_PATH] not in unique:
            raise CosmosSetupError(f"{where}: container {spec.name!r} lacks the unique key policy {UNIQUE_KEY_PATH}")
        return proxy

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        credential, self._credential = self._credential, None
        if credential is not None:
            await credential.close()
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class CosmosContainer:
    def __init__(self, store: CosmosStore, spec: ContainerSpec, proxy: ContainerProxy):
        self.store = store
        self.spec = spec
        self.name = spec.name
        self._proxy = proxy

    def _what(self, doc: Doc) -> str:
        return f"{self.name}/{doc.get('id')}"

    def _after_write(self, doc: Doc) -> Doc:
        if self.spec.claimable(doc):
            self.store.notify(self.name)
        return doc

    async def _query(self, sql: str, params: dict[str, Any], partition_key: str | None = None) -> list[Any]:
        """Run ``sql``; with a partition key it is routed to that partition (and should filter on it)."""
        kwargs: dict[str, Any] = {} if partition_key is None else {"partition_key": partition_key}
        try:
            items = self._proxy.query_items(
                sql, parameters=[{"name": k, "value": v} for k, v in params.items()], **kwargs
            )
            return [item async for item in items]
        except CosmosHttpResponseError as e:
            raise _error(e, f"{self.name}: query") from None

    # --- CRUD ---------------------------------------------------------------------------------------

    async def get(self, partition_key: str, id: str) -> Doc | None:
        try:
            return _from_cosmos(await self._proxy.read_item(id, partition_key=partition_key))
        except CosmosHttpResponseError as e:
            if e.status_code == 404:
                return None
            raise _error(e, f"{self.name}/{id}") from None

    async def get_by_key(self, key: str, partition_key: str | None = None) -> Doc | None:
        sql = "SELECT * FROM c WHERE c.key = @key"
        params: dict[str, Any] = {"@key": key}
        if partition_key is not None:
            sql += " AND c.partitionKey = @pk"
            params["@pk"] = partition_key
        items = await self._query(sql, params, partition_key)
        return _from_cosmos(items[0]) if items else None

    async def create(self, doc: Doc) -> Doc:
        try:
            created = await self._proxy.create_item(_to_cosmos(doc))
        except CosmosHttpResponseError as e:
            raise _error(e, self._what(doc)) from None
        return self._after_write(_from_cosmos(created))

    async def _replace(self, doc: Doc) -> Doc:
        if not doc.get("etag"):
            raise PreconditionFailed(f"{self._what(doc)}: no etag to write against")
        try:
            item = await self._proxy.replace_item(
                doc["id"], _to_cosmos(doc), etag=doc.get("etag"), match_condition=MatchConditions.IfNotModified
            )
        except CosmosHttpResponseError as e:
            raise _error(e, self._what(doc)) from None
        return _from_cosmos(item)

    async def replace(self, doc: Doc) -> Doc:
        return self._after_write(await self._replace(doc))

    async def _delete(self, doc: Doc) -> None:
        if not doc.get("etag"):
            raise PreconditionFailed(f"{self._what(doc)}: no etag to write against")
        try:
            await self._proxy.delete_item(
                doc["id"],
                partition_key=doc["partitionKey"],
                etag=doc.get("etag"),
                match_condition=MatchConditions.IfNotModified,
            )
        except CosmosHttpResponseError as e:
            raise _error(e, self._what(doc)) from None

    async def delete(self, doc: Doc) -> None:
        await self._delete(doc)

    def _filter(self, prefix: str, partition_key: str | None) -> tuple[str, dict[str, Any]]:
        where, params = ["true"], {}
        if prefix:
            where.append("STARTSWITH(c.key, @prefix)")
            params["@prefix"] = prefix
        if partition_key is not None:  # also in the SQL: routing alone is not a filter everywhere
            where.append("c.partitionKey = @pk")
            params["@pk"] = partition_key
        return " AND ".join(where), params

    async def list_page(
        self,
        *,
        prefix: str = "",
        partition_key: str | None = None,
        continuation: str | None = None,
        max_items: int = 100,
    ) -> Page:
        after, seen = decode_token(continuation) if continuation else (None, [])
        where, params = self._filter(prefix, partition_key)
        if after is not None:
            where += " AND c.key >= @after"
            params["@after"] = after
        params["@n"] = max_items + 1 + len(seen)
        items = await self._query(f"SELECT TOP @n * FROM c WHERE {where} ORDER BY c.key", params, partition_key)
        done = {(pk, id) for pk, id in seen}
        rows = [_from_cosmos(i) for i in items if (str(i.get("partitionKey")), str(i.get("id"))) not in done]
        page = rows[:max_items]
        if len(rows) <= max_items or not page:
            return Page(page, None)
        last = page[-1]["key"]
        ties = [[str(d["partitionKey"]), str(d["id"])] for d in page if d["key"] == last]
        if last == after:  # a run of equal keys spanning pages
            ties += seen
        return Page(page, encode_token([last, ties]))

    async def count(self, *, prefix: str = "", partition_key: str | None = None) -> int:
        where, params = self._filter(prefix, partition_key)
        values = await self._query(f"SELECT VALUE COUNT(1) FROM c WHERE {where}", params, partition_key)
        return int(sum(values))

    def _where(self, where: Expr | None, partition_key: str | None) -> tuple[_Dialect, str]:
        """The WHERE condition for ``where`` in ``partition_key`` (ValueError for an invalid filter)."""
        d = _Dialect()
        parts = ["true"]
        if partition_key is not None:  # also in the SQL: routing alone is not a filter everywhere
            parts.append(f"c.partitionKey = {d.value(partition_key)}")
        if where is not None:
            parts.append(render_where(where, d))
        return d, " AND ".join(parts)

    async def query(self, query: Query, *, partition_key: str | None = None) -> list[Doc]:
        check_query(query)
        if (
            self.spec.order_paths
            and query.order
            and (len(query.order) > 1 or query.order[0].path not in self.spec.order_paths)
        ):  # what Cosmos DB would refuse: an ORDER BY no composite index of the container serves
            paths = ", ".join(".".join(o.path) for o in query.order)
            raise UnsupportedQuery(
                f"{self.name}: ordering by {paths} needs a composite index: this container orders by one of "
                "its indexed fields at a time"
            )
        d, where = self._where(query.where, partition_key)
        direction = "DESC" if query.order and query.order[-1].descending else "ASC"
        order = [f"{_property(o.path)} {'DESC' if o.descending else 'ASC'}" for o in query.order]
        order.append(f'c["id"] {direction}')
        sql = (
            f"SELECT * FROM c WHERE {where} ORDER BY {', '.join(order)} "
            f"OFFSET {d.value(query.offset)} LIMIT {d.value(query.limit)}"
        )
        items = await self._query(sql, {"@" + k: v for k, v in d.params.items()}, partition_key)
        return [_from_cosmos(i) for i in items]

    async def count_where(self, where: Expr | None, *, partition_key: str | None = None) -> int:
        d, condition = self._where(where, partition_key)
        sql = f"SELECT VALUE COUNT(1) FROM c WHERE {condition}"
        values = await self._query(sql, {"@" + k: v for k, v in d.params.items()}, partition_key)
        return int(sum(values))

    # --- leasing ------------------------------------------------------------------------------------

    async def list_claimable(self, limit: int = 100) -> list[Doc]:
        if self.spec.claim_path is None or not self.spec.claim_values:
            return []
        path = "c" + "".join(f"[{json.dumps(p)}]" for p in self.spec.claim_path)
        params: dict[str, Any] = {f"@v{i}": v for i, v in enumerate(sorted(self.spec.claim_values, key=repr))}
        sql = (
            f"SELECT TOP @n * FROM c WHERE {path} IN ({', '.join(params)}) "
            "AND (NOT IS_NUMBER(c.leaseExpires) OR c.leaseExpires < @now)"
        )
        params.update({"@now": time.time(), "@n": limit})
        return [_from_cosmos(i) for i in await self._query(sql, params)]

    async def dequeue(self, owner: str, lease_seconds: float) -> Doc | None:
        claimed = await self.dequeue_many([owner], lease_seconds)
        return claimed[0] if claimed else None

    async def _candidates(self, limit: int) -> list[dict[str, Any]]:
        """Claimable documents with a free or expired lease: what a claim needs of them (no bodies)."""
        if self.spec.claim_path is None or not self.spec.claim_values:
            return []
        path = "c" + "".join(f"[{json.dumps(p)}]" for p in self.spec.claim_path)
        params: dict[str, Any] = {f"@v{i}": v for i, v in enumerate(sorted(self.spec.claim_values, key=repr))}
        sql = (
            "SELECT TOP @n c.id, c.partitionKey, c.dequeues, c._etag FROM c "
            f"WHERE {path} IN ({', '.join(params)}) AND (NOT IS_NUMBER(c.leaseExpires) OR c.leaseExpires < @now)"
        )
        params.update({"@now": time.time(), "@n": limit})
        return await self._query(sql, params)

    async def _claim(self, candidate: dict[str, Any], owner: str, lease_seconds: float) -> Doc | None:
        """Lease ``candidate`` to ``owner`` if it is unchanged since the query (else None: a concurrent
        claimer won it, or it changed or went away)."""
        try:
            dequeues = int(candidate.get("dequeues") or 0)
        except (TypeError, ValueError):
            dequeues = 0
        operations: list[dict[str, Any]] = [  # (the etag condition makes ``dequeues + 1`` exact)
            {"op": "set", "path": "/leaseOwner", "value": owner},
            {"op": "set", "path": "/leaseExpires", "value": time.time() + lease_seconds},
            {"op": "set", "path": "/dequeues", "value": dequeues + 1},
        ]
        try:
            item = await self._proxy.patch_item(
                candidate["id"],
                partition_key=candidate["partitionKey"],
                patch_operations=operations,
                etag=candidate["_etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except CosmosHttpResponseError as e:
            if e.status_code in (404, 412):
                return None
            raise _error(e, f"{self.name}/{candidate['id']}") from None
        return _from_cosmos(item)

    async def dequeue_many(self, owners: Sequence[str], lease_seconds: float) -> list[Doc]:
        if len(set(owners)) != len(owners):
            raise ValueError("dequeue_many: the owners must be distinct")
        free = list(owners)  # owners not given a document yet
        claimed: list[Doc] = []
        error: Exception | None = None
        for _ in range(_CLAIM_ROUNDS):
            if not free:
                break
            wanted = max(_CLAIM_CANDIDATES, 2 * len(free))
            try:
                candidates = await self._candidates(wanted)
            except Exception:
                if claimed:  # what was claimed is ours: run it (the next round will find out more)
                    break
                raise
            found = len(candidates)
            random.shuffle(candidates)  # concurrent claimers spread over the candidates
            lost = False
            while free and candidates:  # waves of concurrent claims, one per free owner
                wave, candidates = candidates[: len(free)], candidates[len(free) :]
                results = await asyncio.gather(
                    *(self._claim(c, o, lease_seconds) for c, o in zip(wave, free, strict=False)),
                    return_exceptions=True,
                )
                taken = set()
                for result in results:
                    if isinstance(result, Exception):  # (raised below unless something was claimed)
                        error, lost = result, True
                    elif isinstance(result, BaseException):
                        raise result
                    elif result is None:
                        lost = True
                    else:
                        claimed.append(result)
                        taken.add(result["leaseOwner"])
                free = [o for o in free if o not in taken]
            if not lost and found < wanted:  # no claim lost, and the query found all there was
                break
        if error is not None and not claimed:
            raise error
        return claimed

    async def _lease_error(self, doc: Doc, owner: str, error: StoreError) -> StoreError:
        """After a refused lease-checked write: LostLease if someone else holds the lease now."""
        if isinstance(error, PreconditionFailed):
            current = await self.get(doc["partitionKey"], doc["id"])
            if current is None:
                return NotFound(self._what(doc))
            if current.get("leaseOwner") != owner:
                return LostLease(f"{self._what(doc)}: lease held by {current.get('leaseOwner')!r}, not {owner!r}")
        return error

    async def _leased_replace(self, doc: Doc, owner: str, held_by: Any) -> Doc:
        if held_by != owner:
            raise LostLease(f"{self._what(doc)}: lease held by {held_by!r}, not {owner!r}")
        try:
            return await self._replace(doc)
        except StoreError as e:
            raise await self._lease_error(doc, owner, e) from None

    async def renew_lease(self, doc: Doc, owner: str, lease_seconds: float) -> Doc:
        operations: list[dict[str, Any]] = [
            {"op": "set", "path": "/leaseExpires", "value": time.time() + lease_seconds}
        ]
        try:
            item = await self._proxy.patch_item(
                doc["id"],
                partition_key=doc["partitionKey"],
                patch_operations=operations,
                filter_predicate=f"FROM c WHERE c.leaseOwner = {json.dumps(owner)}",  # a JSON string: a SQL one
            )
        except CosmosHttpResponseError as e:
            if e.status_code == 412:
                raise LostLease(f"{self._what(doc)}: lease no longer held by {owner!r}") from None
            raise _error(e, self._what(doc)) from None
        return _from_cosmos(item)

    async def replace_with_lease(self, doc: Doc, owner: str) -> Doc:
        return self._after_write(await self._leased_replace(doc, owner, doc.get("leaseOwner")))

    async def end_lease(self, doc: Doc, owner: str, not_before: float = 0.0) -> Doc:
        new = {**doc, "leaseOwner": None, "leaseExpires": not_before}  # claimable once it has passed
        return self._after_write(await self._leased_replace(new, owner, doc.get("leaseOwner")))

    async def delete_with_lease(self, doc: Doc, owner: str) -> None:
        if doc.get("leaseOwner") != owner:
            raise LostLease(f"{self._what(doc)}: lease held by {doc.get('leaseOwner')!r}, not {owner!r}")
        try:
            await self._delete(doc)
        except StoreError as e:
            raise await self._lease_error(doc, owner, e) from None

    async def purge_expired(self) -> int:
        return 0  # Cosmos DB deletes expired documents itself and never returns them
