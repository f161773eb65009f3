"""The embedded document store: one SQLite file in WAL mode.

Writes run on one dedicated thread per process, so any number of asyncio callers can use the store at once;
several processes can share the file, with writes serialised by SQLite's lock (``BEGIN IMMEDIATE`` + a
busy timeout). Point reads and key-ordered pages run inline on the event loop on a read-only connection (a
WAL reader never waits); filter queries (``query``, ``count_where``), which may scan a container, run on
scan threads of their own with read-only connections, so a long search never holds up the event loop or
the writes. The JSON body is the source of truth; a few columns copy fields of it for indexing (key, etag,
lease, claimability, expiry), and each of a container's ``lookup_paths`` has an expression index.

Leases are written in SQL, without a Python JSON round trip of the (often ~11 KB) body: a claim sets the
lease columns and, with ``json_set``, the body's ``leaseOwner``/``leaseExpires``/``dequeues``/``etag``/``ts``
in one ``UPDATE``; a renewal sets ``lease_expires`` and the body's ``leaseExpires`` only, keeping the etag and
ts (so a step's next etag-conditional save does not conflict with its heartbeat). A renewal is checked on
``lease_owner`` alone; every other lease-checked write on the owner and the etag. Since a renewal keeps the
etag, an etag-conditional write that keeps the stored ``leaseOwner`` keeps the later of the two
``leaseExpires`` (its own may predate a renewal), and ``replace_with_lease`` keeps the stored lease.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from aro.database.query import (
    And,
    Compare,
    Dialect,
    Expr,
    In,
    Kind,
    Query,
    check_path,
    check_query,
    kind_of,
    render_where,
)
from aro.database.query import Path as DocPath
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
)

T = TypeVar("T")
SCAN_THREADS = 2  # filter queries at once per process (SQLite releases the GIL while it reads)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    container     TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    id            TEXT NOT NULL,
    key           TEXT NOT NULL,
    etag          TEXT NOT NULL,
    ts            REAL NOT NULL,
    expires_at    REAL,
    claimable     INTEGER NOT NULL DEFAULT 0,
    lease_owner   TEXT,
    lease_expires REAL NOT NULL DEFAULT 0,
    body          TEXT NOT NULL,
    PRIMARY KEY (container, partition_key, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS documents_key ON documents (container, partition_key, key);
CREATE INDEX IF NOT EXISTS documents_list ON documents (container, key, partition_key, id);
DROP INDEX IF EXISTS documents_claim;
CREATE INDEX IF NOT EXISTS documents_claim_order ON documents (container, lease_expires, ts) WHERE claimable = 1;
CREATE INDEX IF NOT EXISTS documents_expiry ON documents (expires_at) WHERE expires_at IS NOT NULL;
"""

_LIVE = "(expires_at IS NULL OR expires_at > ?)"


_KINDS: dict[Kind, str] = {"string": "('text')", "number": "('integer', 'real')", "boolean": "('true', 'false')"}
# Cosmos DB's order of types (missing, null, booleans, numbers, strings, arrays, objects), from json_type
_TYPE_RANK = (
    "CASE json_type(body, {0}) WHEN 'null' THEN 1 WHEN 'true' THEN 2 WHEN 'false' THEN 2 WHEN 'integer' THEN 3 "
    "WHEN 'real' THEN 3 WHEN 'text' THEN 4 WHEN 'array' THEN 5 WHEN 'object' THEN 6 ELSE 0 END"
)


@functools.lru_cache(maxsize=256)
def _compiled(regex: str, flags: str) -> re.Pattern[str]:
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if "i" in flags else 0))


def aro_like(value: object, regex: object, flags: object) -> int | None:
    """SQL ``aro_like(value, regex, flags)``: 1 if the string ``value`` matches ``regex`` as a whole (flags
    "s" or "si", as Cosmos DB's RegexMatch takes them), 0 if not, NULL when ``value`` is not a string."""
    if not isinstance(value, str) or not isinstance(regex, str) or not isinstance(flags, str):
        return None
    return 1 if _compiled(regex, flags).fullmatch(value) else 0


def _register_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("aro_like", 3, aro_like, deterministic=True)


def json_path_literal(path: DocPath) -> str:
    """``'$."a"."b"'``: a JSON path as SQL text. The segments are identifiers (``check_path``), so quoting
    them is exact; written into the text (not a parameter) so that a lookup matches its expression index."""
    return "'$" + "".join(f'."{segment}"' for segment in check_path(path)) + "'"


def _lookup_index(spec: ContainerSpec, path: DocPath) -> str:
    return f"documents_lookup_{spec.name}_{'_'.join(check_path(path))}"


def lookup_indexes(specs: Sequence[ContainerSpec]) -> list[str]:
    """An expression index per container and lookup path: ``(container, json_extract(body, path))``."""
    return [
        f"CREATE INDEX IF NOT EXISTS {_lookup_index(spec, path)} "
        f"ON documents (container, json_extract(body, {json_path_literal(path)}))"
        for spec in specs
        for path in spec.lookup_paths
    ]


def _source(spec: ContainerSpec, where: Expr | None) -> str:
    """``documents``, or ``documents INDEXED BY`` the lookup index a filter's top-level equality (or ``In``)
    on a lookup path can use: without statistics SQLite's planner prefers the primary key's container
    prefix (it holds the body) and would scan the whole container."""
    items = where.items if isinstance(where, And) else (where,)
    for item in items:
        if isinstance(item, Compare) and item.op == "=":
            path = item.path
        elif isinstance(item, In) and len({kind_of(v) for v in item.values}) == 1:  # (else rendered as an Or)
            path = item.path
        else:
            continue
        if path in spec.lookup_paths:
            return f"documents INDEXED BY {_lookup_index(spec, path)}"
    return "documents"


class _Dialect(Dialect):
    """Filters over the JSON ``body``: ``json_extract(body, '$."a"."b"')``, every value a parameter."""

    def placeholder(self, name: str) -> str:
        return ":" + name

    def json_path(self, path: DocPath) -> str:
        return json_path_literal(path)

    def path(self, path: DocPath) -> str:
        return f"json_extract(body, {self.json_path(path)})"

    def is_kind(self, path: DocPath, kind: Kind) -> str:
        return f"json_type(body, {self.json_path(path)}) IN {_KINDS[kind]}"

    def is_null(self, path: DocPath) -> str:
        return f"{self.path(path)} IS NULL"  # a missing path and JSON null both extract as NULL

    def regex_match(self, path: DocPath, regex: str, case_insensitive: bool) -> str:
        return f"aro_like({self.path(path)}, {self.value(regex)}, {self.value('si' if case_insensitive else 's')}) = 1"


def _new_etag() -> str:
    return uuid.uuid4().hex


def encode_token(parts: Sequence[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


def decode_token(token: str) -> list[str]:
    try:
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        raise StoreError("malformed continuation token") from None
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise StoreError("malformed continuation token")
    return parts


class SQLiteStore(StoreBase["SQLiteContainer"]):
    """Opens (creating if needed) ``path``; ``containers`` declares the containers in use."""

    def __init__(self, path: str | Path, containers: Sequence[ContainerSpec], busy_timeout: float = 30.0):
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aro-sqlite")
        self._scanner = ThreadPoolExecutor(max_workers=SCAN_THREADS, thread_name_prefix="aro-sqlite-scan")
        self._scan_local = threading.local()
        self._scan_connections: list[sqlite3.Connection] = []
        self._scan_lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        super().__init__()
        self._containers = {spec.name: SQLiteContainer(self, spec) for spec in containers}
        self._closed = False

    # --- plumbing ----------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000)}")
            _register_functions(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    conn.execute(statement)
                for statement in lookup_indexes([c.spec for c in self._containers.values()]):
                    conn.execute(statement)
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
            self._conn = conn
        return self._conn

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreError("store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._connect()))

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only ``fn`` inline on the event loop with a separate read-only connection: a WAL
        reader never waits for writers, so this takes microseconds, where a hop to the store thread costs
        ~100 us. If the file is ever busy (e.g. a checkpoint), the read goes to the store thread instead."""
        if self._closed:
            raise StoreError("store is closed")
        if self._reader is None:
            self._connect_reader()
        assert self._reader is not None
        try:
            return fn(self._reader)
        except sqlite3.OperationalError:
            return await self.run(fn)

    def _connect_reader(self) -> None:
        self._reader = self._read_only(timeout=0.05)

    def _read_only(self, timeout: float) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("store is not open")  # the writer creates the file and the schema first
        reader = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        reader.execute("PRAGMA query_only=1")
        _register_functions(reader)
        return reader

    async def scan(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only ``fn`` that may read a whole container on a scan thread (its own connection)."""
        if self._closed:
            raise StoreError("store is closed")

        def on_thread() -> T:
            conn: sqlite3.Connection | None = getattr(self._scan_local, "conn", None)
            if conn is None:
                conn = self._scan_local.conn = self._read_only(timeout=self._busy_timeout)
                with self._scan_lock:
                    self._scan_connections.append(conn)
            return fn(conn)

        try:
            future = asyncio.get_running_loop().run_in_executor(self._scanner, on_thread)
        except RuntimeError:  # the scan threads were shut down: the store is closing
            raise StoreError("store is closed") from None
        return await future

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` inside one immediate (write-locked) transaction."""

        def tx(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self.run(tx)

    async def open(self) -> SQLiteStore:
        await self.run(lambda conn: None)
        return self

    async def close(self) -> None:
        if self._closed:
            return

        def _close(conn: sqlite3.Connection) -> None:
            conn.close()

        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._scanner.shutdown(wait=True)
        with self._scan_lock:
            for conn in self._scan_connections:
                conn.close()
            self._scan_connections.clear()
        if self._conn is not None:
            await self.run(_close)
            self._conn = None
        self._closed = True
        self._executor.shutdown(wait=True)


class SQLiteContainer:
    def __init__(self, store: SQLiteStore, spec: ContainerSpec):
        self.store = store
        self.spec = spec
        self.name = spec.name

    # --- helpers (run on the store thread) -----------------------------------------------------------

    def _stamp(self, doc: Doc, now: float) -> tuple[Any, ...]:
        """Give ``doc`` a new etag and ts; return the column values for it."""
        doc.setdefault("key", doc["id"])
        doc["etag"] = _new_etag()
        doc["ts"] = now
        ttl = doc.get("ttl", self.spec.default_ttl)
        expires_at = now + float(ttl) if ttl is not None and float(ttl) > 0 else None
        return (
            self.name,
            str(doc["partitionKey"]),
            str(doc["id"]),
            str(doc["key"]),
            doc["etag"],
            now,
            expires_at,
            1 if self.spec.claimable(doc) else 0,
            doc.get("leaseOwner") or None,
            float(doc.get("leaseExpires") or 0),
            json.dumps(doc, separators=(",", ":")),
        )

    def _current(self, conn: sqlite3.Connection, doc: Doc, now: float) -> tuple[str, str | None, float]:
        """(etag, lease_owner, lease_expires) of the stored ``doc``; NotFound if there is none."""
        row = conn.execute(
            "SELECT etag, lease_owner, lease_expires FROM documents "
            f"WHERE container=? AND partition_key=? AND id=? AND {_LIVE}",
            (self.name, str(doc["partitionKey"]), str(doc["id"]), now),
        ).fetchone()
        if row is None:
            raise NotFound(f"{self.name}/{doc['id']}")
        return row[0], row[1], float(row[2])

    def _write_replace(self, conn: sqlite3.Connection, doc: Doc, now: float) -> Doc:
        out = dict(doc)
        cols = self._stamp(out, now)
        try:
            conn.execute(
                "UPDATE documents SET key=?, etag=?, ts=?, expires_at=?, claimable=?, lease_owner=?, "
                "lease_expires=?, body=? WHERE container=? AND partition_key=? AND id=?",
                (*cols[3:], self.name, cols[1], cols[2]),
            )
        except sqlite3.IntegrityError:
            raise Conflict(f"{self.name}: key {out['key']!r} already exists") from None
        return out

    def _after_write(self, doc: Doc) -> Doc:
        if self.spec.claimable(doc):
            self.store.notify(self.name)
        return doc

    def _where(self, lower: str, prefix: str, partition_key: str | None) -> tuple[str, list[Any]]:
        """Live documents of this container with ``key >= lower``, starting with ``prefix``, in
        ``partition_key`` (all partitions when None)."""
        sql = f"container=? AND {_LIVE}"
        args: list[Any] = [self.name, time.time()]
        if lower:
            sql += " AND key >= ?"
            args.append(lower)
        if prefix:
            sql += " AND key < ?"
            args.append(prefix + "\U0010ffff")
        if partition_key is not None:
            sql += " AND partition_key=?"
            args.append(partition_key)
        return sql, args

    # --- CRUD ---------------------------------------------------------------------------------------

    async def get(self, partition_key: str, id: str) -> Doc | None:
        def q(conn: sqlite3.Connection) -> Doc | None:
            row = conn.execute(
                f"SELECT body FROM documents WHERE container=? AND partition_key=? AND id=? AND {_LIVE}",
                (self.name, partition_key, id, time.time()),
            ).fetchone()
            return json.loads(row[0]) if row else None

        return await self.store.read(q)

    async def get_by_key(self, key: str, partition_key: str | None = None) -> Doc | None:
        def q(conn: sqlite3.Connection) -> Doc | None:
            sql = f"SELECT body FROM documents WHERE container=? AND key=? AND {_LIVE}"
            args: list[Any] = [self.name, key, time.time()]
            if partition_key is not None:
                sql += " AND partition_key=?"
                args.append(partition_key)
            row = conn.execute(sql + " LIMIT 1", args).fetchone()
            return json.loads(row[0]) if row else None

        return await self.store.read(q)

    async def create(self, doc: Doc) -> Doc:
        def tx(conn: sqlite3.Connection) -> Doc:
            now = time.time()
            out = dict(doc)
            cols = self._stamp(out, now)
            # an expired document no longer exists: let its id/key be reused
            # two point deletes: "(id=? OR key=?)" makes SQLite scan the whole partition
            for column, value in (("id", cols[2]), ("key", cols[3])):
                conn.execute(
                    f"DELETE FROM documents WHERE container=? AND partition_key=? AND {column}=? "
                    "AND expires_at IS NOT NULL AND expires_at <= ?",
                    (self.name, cols[1], value, now),
                )
            try:
                conn.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?)", cols)
            except sqlite3.IntegrityError:
                raise Conflict(f"{self.name}: document {out['id']!r} / key {out['key']!r} exists") from None
            return out

        return self._after_write(await self.store.write(tx))

    async def replace(self, doc: Doc) -> Doc:
        def tx(conn: sqlite3.Connection) -> Doc:
            now = time.time()
            etag, lease_owner, lease_expires = self._current(conn, doc, now)
            if etag != doc.get("etag"):
                raise PreconditionFailed(f"{self.name}/{doc['id']}: etag mismatch")
            new = doc
            if lease_owner is not None and doc.get("leaseOwner") == lease_owner:
                # a renewal keeps the etag: one since ``doc`` was read is not undone
                if float(doc.get("leaseExpires") or 0) < lease_expires:
                    new = {**doc, "leaseExpires": lease_expires}
            return self._write_replace(conn, new, now)

        return self._after_write(await self.store.write(tx))

    async def delete(self, doc: Doc) -> None:
        await self.store.write(lambda conn: self._delete(conn, doc, None))

    def _delete(self, conn: sqlite3.Connection, doc: Doc, owner: str | None) -> None:
        etag, lease_owner, _ = self._current(conn, doc, time.time())
        if owner is not None and lease_owner != owner:
            raise LostLease(f"{self.name}/{doc['id']}: lease held by {lease_owner!r}")
        if etag != doc.get("etag"):
            raise PreconditionFailed(f"{self.name}/{doc['id']}: etag mismatch")
        conn.execute(
            "DELETE FROM documents WHERE container=? AND partition_key=? AND id=?",
            (self.name, str(doc["partitionKey"]), str(doc["id"])),
        )

    async def list_page(
        self,
        *,
        prefix: str = "",
        partition_key: str | None = None,
        continuation: str | None = None,
        max_items: int = 100,
    ) -> Page:
        after = decode_token(continuation) if continuation else None
        if after is not None and len(after) != 3:
            raise StoreError("malformed continuation token")

        def q(conn: sqlite3.Connection) -> Page:
            # one lower bound on key: with two (prefix and token) SQLite seeks to the prefix and filters
            # every earlier row, so page k of a list would cost O(k * page size)
            where, args = self._where(max(prefix, after[0]) if after is not None else prefix, prefix, partition_key)
            sql = f"SELECT body, key, partition_key, id FROM documents WHERE {where}"
            if after is not None:
                sql += " AND (key, partition_key, id) > (?, ?, ?)"
                args += after
            sql += " ORDER BY key, partition_key, id LIMIT ?"
            args.append(max_items + 1)
            rows = conn.execute(sql, args).fetchall()
            more = len(rows) > max_items
            rows = rows[:max_items]
            token = encode_token(rows[-1][1:4]) if more and rows else None
            return Page([json.loads(r[0]) for r in rows], token)

        return await self.store.read(q)

    async def count(self, *, prefix: str = "", partition_key: str | None = None) -> int:
        def q(conn: sqlite3.Connection) -> int:
            where, args = self._where(prefix, prefix, partition_key)
            return int(conn.execute(f"SELECT COUNT(*) FROM documents WHERE {where}", args).fetchone()[0])

        return await self.store.read(q)

    def _filter(self, where: Expr | None, partition_key: str | None) -> tuple[_Dialect, str]:
        """The SQL condition for live documents of this container matching ``where`` (ValueError for an
        invalid filter), with its parameters in the returned dialect."""
        d = _Dialect()
        sql = f"container = {d.value(self.name)} AND (expires_at IS NULL OR expires_at > {d.value(time.time())})"
        if partition_key is not None:
            sql += f" AND partition_key = {d.value(partition_key)}"
        if where is not None:
            sql += " AND " + render_where(where, d)
        return d, sql

    async def query(self, query: Query, *, partition_key: str | None = None) -> list[Doc]:
        check_query(query)
        d, where = self._filter(query.where, partition_key)
        direction = "DESC" if query.order and query.order[-1].descending else "ASC"
        order = []
        for o in query.order:
            way = "DESC" if o.descending else "ASC"
            order += [f"{_TYPE_RANK.format(d.json_path(o.path))} {way}", f"{d.path(o.path)} {way}"]
        order += [f"id {direction}", f"partition_key {direction}"]
        sql = (
            f"SELECT body FROM {_source(self.spec, query.where)} WHERE {where} ORDER BY {', '.join(order)} "
            f"LIMIT {d.value(query.limit)} OFFSET {d.value(query.offset)}"
        )

        def q(conn: sqlite3.Connection) -> list[Doc]:
            return [json.loads(row[0]) for row in conn.execute(sql, d.params).fetchall()]

        return await self.store.scan(q)

    async def count_where(self, where: Expr | None, *, partition_key: str | None = None) -> int:
        d, condition = self._filter(where, partition_key)

        def q(conn: sqlite3.Connection) -> int:
            source = _source(self.spec, where)
            return int(conn.execute(f"SELECT COUNT(*) FROM {source} WHERE {condition}", d.params).fetchone()[0])

        return await self.store.scan(q)

    # --- leasing ------------------------------------------------------------------------------------

    async def list_claimable(self, limit: int = 100) -> list[Doc]:
        def q(conn: sqlite3.Connection) -> list[Doc]:
            now = time.time()
            rows = conn.execute(
                f"SELECT body FROM documents WHERE container=? AND claimable=1 AND lease_expires < ? "
                f"AND {_LIVE} ORDER BY lease_expires, ts LIMIT ?",
                (self.name, now, now, limit),
            ).fetchall()
            return [json.loads(r[0]) for r in rows]

        return await self.store.read(q)

    async def dequeue(self, owner: str, lease_seconds: float) -> Doc | None:
        claimed = await self.dequeue_many([owner], lease_seconds)
        return claimed[0] if claimed else None

    async def dequeue_many(self, owners: Sequence[str], lease_seconds: float) -> list[Doc]:
        if len(set(owners)) != len(owners):
            raise ValueError("dequeue_many: the owners must be distinct")
        if not owners:
            return []

        def tx(conn: sqlite3.Connection) -> list[Doc]:
            now = time.time()
            rows = conn.execute(
                f"SELECT partition_key, id FROM documents WHERE container=? AND claimable=1 AND lease_expires < ? "
                f"AND {_LIVE} ORDER BY lease_expires, ts LIMIT ?",
                (self.name, now, now, len(owners)),
            ).fetchall()
            expires = now + lease_seconds
            claimed: list[Doc] = []
            for (partition_key, id), owner in zip(rows, owners, strict=False):
                etag = _new_etag()
                # one UPDATE, the body changed by SQLite's json_set (json(?): numbers exactly as Python
                # writes them); a TTL counts from the last write, as on Cosmos DB
                (body,) = conn.execute(
                    "UPDATE documents SET etag=?, ts=?, expires_at=expires_at - ts + ?, lease_owner=?, "
                    "lease_expires=?, body=json_set(body, '$.etag', ?, '$.ts', json(?), '$.leaseOwner', ?, "
                    "'$.leaseExpires', json(?), '$.dequeues', "
                    "CAST(coalesce(json_extract(body, '$.dequeues'), 0) AS INTEGER) + 1) "
                    "WHERE container=? AND partition_key=? AND id=? RETURNING body",
                    (
                        etag,
                        now,
                        now,
                        owner,
                        expires,
                        etag,
                        json.dumps(now),
                        owner,
                        json.dumps(expires),
                        self.name,
                        partition_key,
                        id,
                    ),
                ).fetchone()
                claimed.append(json.loads(body))
            return claimed

        return await self.store.write(tx)

    def _leased_replace(
        self, conn: sqlite3.Connection, doc: Doc, owner: str, now: float, release: float | None = None
    ) -> Doc:
        """Write ``doc`` if ``owner`` holds the lease and the etag matches. The stored lease is kept, or
        with ``release`` cleared (claimable again from that time)."""
        etag, lease_owner, lease_expires = self._current(conn, doc, now)
        if lease_owner != owner:
            raise LostLease(f"{self.name}/{doc['id']}: lease held by {lease_owner!r}, not {owner!r}")
        if etag != doc.get("etag"):
            raise PreconditionFailed(f"{self.name}/{doc['id']}: etag mismatch")
        new = dict(doc)
        if release is None:
            new["leaseOwner"], new["leaseExpires"] = owner, lease_expires
        else:
            new["leaseOwner"], new["leaseExpires"] = None, release
        return self._write_replace(conn, new, now)

    async def renew_lease(self, doc: Doc, owner: str, lease_seconds: float) -> Doc:
        def tx(conn: sqlite3.Connection) -> Doc:
            now = time.time()
            expires = now + lease_seconds
            row = conn.execute(
                "UPDATE documents SET lease_expires=?, body=json_set(body, '$.leaseExpires', json(?)) "
                f"WHERE container=? AND partition_key=? AND id=? AND lease_owner=? AND {_LIVE} RETURNING etag, body",
                (expires, json.dumps(expires), self.name, str(doc["partitionKey"]), str(doc["id"]), owner, now),
            ).fetchone()
            if row is None:
                _, lease_owner, _ = self._current(conn, doc, now)  # NotFound if it is gone
                raise LostLease(f"{self.name}/{doc['id']}: lease held by {lease_owner!r}, not {owner!r}")
            if row[0] == doc.get("etag"):  # nothing else was written since: no need to parse the body
                return {**doc, "leaseOwner": owner, "leaseExpires": expires}
            renewed: Doc = json.loads(row[1])
            return renewed

        return await self.store.write(tx)

    async def replace_with_lease(self, doc: Doc, owner: str) -> Doc:
        def tx(conn: sqlite3.Connection) -> Doc:
            return self._leased_replace(conn, doc, owner, time.time())

        return self._after_write(await self.store.write(tx))

    async def end_lease(self, doc: Doc, owner: str, not_before: float = 0.0) -> Doc:
        def tx(conn: sqlite3.Connection) -> Doc:
            return self._leased_replace(conn, doc, owner, time.time(), release=not_before)

        return self._after_write(await self.store.write(tx))

    async def delete_with_lease(self, doc: Doc, owner: str) -> None:
        await self.store.write(lambda conn: self._delete(conn, doc, owner))

    async def purge_expired(self) -> int:
        def tx(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "DELETE FROM documents WHERE container=? AND expires_at IS NOT NULL AND expires_at <= ?",
                (self.name, time.time()),
            )
            return cur.rowcount

        return await self.store.write(tx)
