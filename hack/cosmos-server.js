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
