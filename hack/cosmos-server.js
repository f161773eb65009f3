#!/usr/bin/env node
// A local Cosmos DB (SQL API) protocol server for tests and development: npm @vercel/cosmosdb-server
// (pinned in package.json, installed into ./node_modules by `make test`), started with HTTP keep-alive
// ON: the package's own CLI answers every request with "connection: close", so each SDK call pays a new
// TLS handshake (about 20x slower).
//
// Usage: node hack/cosmos-server.js [--host 127.0.0.1] [--port 0] [--cert FILE --key FILE]
//                                   [--throttle-every N] [--exit-with-stdin]
//   --port 0 (default) picks a free port. When listening, one JSON line goes to stdout:
//     {"listening":true,"host":"127.0.0.1","port":54321,"gaps":["..."]}
//   --cert/--key        PEM serving certificate (chain first) and key. Default: the package's bundled
//                       certificate (expired, CN=cosmosdb: clients must then turn TLS verification off).
//   --throttle-every N  answer every Nth document request with 429 + x-ms-retry-after-ms (tests the
//                       clients' throttling retries); 0 (default) = never.
//   --exit-with-stdin   exit when stdin closes (the parent, e.g. a pytest fixture, went away).
// Any base64 string is accepted as the account key. Data lives in memory only.
//
// Gaps of the package that this script closes (listed in "gaps" above, so test runs can print them);
// they are test-server fixes, the RP's code assumes real Cosmos DB behaviour:
//   - reading a missing item (or one in another partition) answers 500: answered 404 here;
//   - TTL (container defaultTtl, item ttl) is not enforced: expired items are deleted here, before each
//     request and every 100 ms (real Cosmos DB never returns an expired item).
//   - the package's query parser takes time exponential in the nesting of parentheses (a filter nested
//     five deep: seconds; six deep: minutes): it is loaded here with memoization (linear).
//   - `OFFSET <n> LIMIT <m>` (numbers or @parameters) at the end of a document query is a syntax error
//     in the package's parser: such a query runs here without that clause, answering only the requested
//     slice (one response, no continuation).
//   - an ORDER BY on several properties is refused unless the container has a matching composite index
//     (as on real Cosmos DB), also when the container declares none: such a container's queries are
//     served here whatever they order by; a container that declares composite indexes is held to them,
//     and (as on real Cosmos DB, unlike the package) an index also serves the order with every direction
//     reversed.
//   - a patch's condition (the SDK's filter_predicate, "from c where ...") is lowercased whole by the
//     package, property names and string literals alike, so `from c where c.leaseOwner = "A"` never
//     matches: it is evaluated here as written, on the one document patched.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

function usage(message) {
  if (message) console.error(`cosmos-server: ${message}`);
  console.error(
    "usage: node hack/cosmos-server.js [--host H] [--port P] [--cert FILE --key FILE] " +
      "[--throttle-every N] [--exit-with-stdin]",
  );
  process.exit(2);
}

const args = { host: "127.0.0.1", port: 0, cert: null, key: null, throttleEvery: 0, exitWithStdin: false };
const argv = process.argv.slice(2);
while (argv.length) {
  const flag = argv.shift();
  switch (flag) {
    case "--host":
      args.host = argv.shift();
      break;
    case "--port":
      args.port = Number.parseInt(argv.shift(), 10);
      break;
    case "--cert":
      args.cert = argv.shift();
      break;
    case "--key":
      args.key = argv.shift();
      break;
    case "--throttle-every":
      args.throttleEvery = Number.parseInt(argv.shift(), 10);
      break;
    case "--exit-with-stdin":
      args.exitWithStdin = true;
      break;
    case "-h":
    case "--help":
      usage();
      break;
    default:
      usage(`unknown argument ${flag}`);
  }
}
if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) usage("bad --port");
if (!Number.isInteger(args.throttleEvery) || args.throttleEvery < 0) usage("bad --throttle-every");
if (Boolean(args.cert) !== Boolean(args.key)) usage("--cert and --key go together");

const pkg = path.join(__dirname, "..", "node_modules", "@vercel", "cosmosdb-server");
const lib = (name) => require(path.join(pkg, "lib", name));
try {
  require.resolve(pkg);
} catch (err) {
  console.error(`cosmos-server: @vercel/cosmosdb-server is not installed (run: npm install): ${err.message}`);
  process.exit(3);
}

// --- gap: the query parser takes time exponential in the nesting of parentheses --------------------------
// (its PEG parser was generated without memoization: a filter nested five deep takes seconds to parse, six
// deep minutes.) Loaded here with pegjs's own "cache" memoization added to every rule, before the package
// (which requires it) is loaded; it accepts the same queries, with the same trees (a refused query's
// message may list fewer of the tokens that were expected, as with pegjs's own cache).
function loadMemoizedParser() {
  const file = require.resolve("@zeit/cosmosdb-query/lib/parser", { paths: [pkg] });
  let source = fs.readFileSync(file, "utf8");
  let rules = 0;
  let returns = 0;
  source = source
    .replace(/^function peg\$parse\(input, options\) \{$/m, (m) => `${m}\n  var peg$memo = new Map();`)
    .replace(/^ {2}function peg\$parse\w+\(\) \{$/gm, (m) => {
      const key = `peg$currPos * __RULES__ + ${rules++}`;
      return `${m}\n    var memoKey = ${key}, memo = peg$memo.get(memoKey);\n    if (memo) { peg$currPos = memo.next; return memo.result; }`;
    })
    .replace(/^ {4}return s0;$/gm, () => {
      returns += 1;
      return "    peg$memo.set(memoKey, { next: peg$currPos, result: s0 });\n    return s0;";
    })
    .replace(/__RULES__/g, String(rules));
  if (!rules || rules !== returns || !source.includes("var peg$memo = new Map();")) {
    console.error(`cosmos-server: cannot memoize ${file} (${rules} rules, ${returns} returns): not patched`);
    return;
  }
  const Module = require("module");
  const parser = new Module(file, module);
  parser.filename = file;
  parser.paths = Module._nodeModulePaths(path.dirname(file));
  parser._compile(source, file);
  parser.loaded = true;
  require.cache[file] = parser;
}
loadMemoizedParser();

// --- gap: a missing item answers 500 -------------------------------------------------------------
// (patched before the package's router is loaded: the router keeps the handler it finds at load time)
const readDocument = lib("handler/read-document");
const { parsePartitionKey } = lib("utils/get-partition-from-header");
const originalReadDocument = readDocument.default;
readDocument.default = (account, req, res, params) => {
  const collection = account.database(params.dbId).collection(params.collId);
  if (collection.read()) {
    let partition;
    try {
      const header = req.headers["x-ms-documentdb-partitionkey"];
      partition = parsePartitionKey(Array.isArray(header) ? header[0] : header, params.docId);
    } catch (err) {
      partition = undefined;
    }
    if (partition !== undefined && !collection.document(params.docId, partition).read()) {
      res.statusCode = 404;
      return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
    }
  }
  return originalReadDocument(account, req, res, params);
};

// --- gap: TTL is not enforced ----------------------------------------------------------------------
const accountModule = lib("account");
const accounts = [];
const OriginalAccount = accountModule.default;
accountModule.default = class extends OriginalAccount {
  constructor(...a) {
    super(...a);
    accounts.push(this);
  }
};

let lastSweep = 0;
function sweepExpired() {
  const now = Date.now();
  lastSweep = now;
  for (const account of accounts) {
    for (const database of account.databases._data.values()) {
      if (!database.collections) continue;
      for (const collection of database.collections._data.values()) {
        const props = collection.read();
        // Cosmos DB: TTL applies only when the container has a defaultTtl (-1: only items' own ttl)
        if (!props || typeof props.defaultTtl !== "number") continue;
        const docs = collection.documents;
        for (const item of [...docs._data.values()]) {
          const doc = item.read();
          const ttl = typeof doc.ttl === "number" ? doc.ttl : props.defaultTtl;
          if (ttl > 0 && (doc._ts + ttl) * 1000 <= now) docs.delete(doc.id, docs._getPartition(doc));
        }
      }
    }
  }
}

// --- gaps: OFFSET/LIMIT; multi-property ORDER BY on a container without composite indexes -------------
// (Items.prototype.query as the package has it, plus the two gaps; the package's Documents inherit it)
const Items = lib("account/items").default;
const OFFSET_LIMIT = /\s+OFFSET\s+(@[A-Za-z_][A-Za-z0-9_]*|\d+)\s+LIMIT\s+(@[A-Za-z_][A-Za-z0-9_]*|\d+)\s*$/i;

function badRequest(message) {
  const err = new Error(message);
  err.badRequest = true;
  return err;
}

function offsetLimit(query, parameters) {
  const match = OFFSET_LIMIT.exec(query);
  if (!match) return null;
  const value = (token) => {
    if (!token.startsWith("@")) return Number(token);
    const param = (parameters || []).find((p) => p.name === token);
    if (!param) throw badRequest(`parameter ${token} is not defined`);
    return param.value;
  };
  const [offset, limit] = [value(match[1]), value(match[2])];
  if (![offset, limit].every((n) => Number.isInteger(n) && n >= 0)) {
    throw badRequest("OFFSET and LIMIT take non-negative integers");
  }
  return { query: query.slice(0, match.index), offset, limit };
}

Items.prototype.query = function query(params, { maxItemCount, continuation }) {
  const parent = this._parent.read();
  if (!parent) return null;
  const declared = ((parent.indexingPolicy || {}).compositeIndexes || []).map((index) =>
    index.map((p) => ({ ...p, order: p.order || "ascending" })),
  );
  // real Cosmos DB serves an ORDER BY from a composite index in its order or with every direction reversed
  const flip = { ascending: "descending", descending: "ascending" };
  const reversed = declared.map((index) => index.map((p) => ({ ...p, order: flip[p.order] })));
  const slice = offsetLimit(params.query, params.parameters);
  const q = this._getQuery(slice ? slice.query : params.query);
  const options = {
    parameters: params.parameters,
    udf: this._userDefinedFunctions(),
    maxItemCount: slice ? null : maxItemCount,
    continuation: slice ? null : continuation,
    compositeIndexes: declared.length ? declared.concat(reversed) : undefined,
  };
  let out;
  try {
    out = q.exec([...this._data.values()].map((item) => item.read()), options);
  } catch (err) {
    err.badRequest = true;
    throw err;
  }
  return slice ? { result: out.result.slice(slice.offset, slice.offset + slice.limit), continuation: null } : out;
};

// The package's query handler parses the whole query (to check that a query without the cross-partition
// header names the partition key) before running it: that check parses it without OFFSET/LIMIT here.
const queryDocuments = lib("handler/query-documents");
const readItems = lib("handler/_read-items").default;
const readJson = lib("json").default;
const trueHeader = lib("true-header").default;
const cosmosQuery = require(require.resolve("@zeit/cosmosdb-query", { paths: [pkg] })).default;
queryDocuments.default = async (account, req, res, { dbId, collId }) =>
  readItems(req, res, "Documents", async ({ continuation, maxItemCount }) => {
    const body = await readJson(req);
    if (!body.query) {
      res.statusCode = 400;
      return { message: "missing query" };
    }
    const collection = account.database(dbId).collection(collId);
    if (!trueHeader(req, "x-ms-documentdb-query-enablecrosspartition")) {
      const { partitionKey } = collection.read() || {};
      const paths = (partitionKey || {}).paths || [];
      let slice;
      try {
        slice = offsetLimit(body.query, body.parameters);
      } catch (err) {
        res.statusCode = 400;
        return { message: err.message };
      }
      if (paths.length && !cosmosQuery(slice ? slice.query : body.query).containsPartitionKeys(paths)) {
        res.statusCode = 400;
        return { message: "missing partition keys" };
      }
    }
    try {
      return collection.documents.query(body, { continuation, maxItemCount });
    } catch (err) {
      if (err.badRequest) {
        res.statusCode = 400;
        return { message: err.message };
      }
      throw err;
    }
  });

// --- gap: a patch's condition is lowercased -----------------------------------------------------------
// (patched in the module's exports, which the package's patch and batch handlers call through)
const patchOperations = lib("handler/_patch-operations");
const originalPatchOperation = patchOperations.patchOperation;
patchOperations.patchOperation = (collection, input) => {
  if (!input.condition) return originalPatchOperation(collection, input);
  const unconditional = { ...input, condition: undefined };
  let data;
  try {
    data = collection.document(input.id, parsePartitionKey(input.partitionKey, input.id)).read();
  } catch (err) {
    data = undefined;
  }
  // a missing item (404) or an etag mismatch (412): answered by the package, as without a condition
  if (!data || (input.ifMatch && input.ifMatch !== data._etag)) {
    return originalPatchOperation(collection, unconditional);
  }
  let matched;
  try {
    matched = cosmosQuery(`SELECT * ${input.condition}`).exec([data], {}).result.length > 0;
  } catch (err) {
    const message = `Invalid condition in patch request: ${err.message}`;
    return { statusCode: 400, body: { code: "BadRequest", message } };
  }
  if (!matched) {
    return {
      statusCode: 412,
      body: { code: "PreconditionFailed", message: "Condition specified in the patch request is not satisfied." },
    };
  }
  return originalPatchOperation(collection, unconditional);
};

const cosmos = require(pkg);
const options = { keepAlive: true };
if (args.cert) {
  options.cert = fs.readFileSync(args.cert);
  options.key = fs.readFileSync(args.key);
}
const server = cosmos.createHttpsServer(options);
// Idle keep-alive connections outlive the clients' pool idle time (aiohttp: 15 s), so a client never
// reuses a connection the server has just closed.
server.keepAliveTimeout = 120 * 1000;
server.headersTimeout = 125 * 1000;

const [packageHandler] = server.listeners("request");
server.removeAllListeners("request");
let documentRequests = 0;
server.on("request", (req, res) => {
  if (Date.now() - lastSweep >= 20) sweepExpired();
  if (args.throttleEvery && req.url.includes("/docs")) {
    documentRequests += 1;
    if (documentRequests % args.throttleEvery === 0) {
      req.resume();
      req.on("end", () => {
        res.writeHead(429, {
          "content-type": "application/json",
          "x-ms-retry-after-ms": "20",
          "x-ms-substatus": "3200",
          "x-ms-activity-id": crypto.randomUUID(),
          "x-ms-request-charge": "0",
        });
        res.end(JSON.stringify({ code: "TooManyRequests", message: "Request rate is large (test throttling)" }));
      });
      return;
    }
  }
  packageHandler(req, res);
});
setInterval(sweepExpired, 100).unref();

server.on("error", (err) => {
  console.error(`cosmos-server: ${err.message}`);
  process.exit(1);
});

const GAPS = [
  "missing item read: the package answers 500; this server answers 404",
  "TTL: the package does not expire items; this server deletes expired items (before each request, every 100 ms)",
  "query parser: exponential in nested parentheses in the package; this server memoizes it (same trees, linear)",
  "OFFSET/LIMIT: the package's parser refuses it; this server runs the query without it and answers the slice",
  "multi-property ORDER BY needs a composite index (real Cosmos DB too); this server serves it on a container " +
    "that declares no composite indexes (one that declares some is held to them, also in reverse as on Cosmos DB)",
  "patch condition (filter predicate): the package lowercases it whole (names and literals); this server " +
    "evaluates it as written",
];
server.listen(args.port, args.host, () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ listening: true, host: args.host, port, gaps: GAPS })}\n`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
if (args.exitWithStdin) {
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
}
