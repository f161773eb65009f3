#!/usr/bin/env bash
# List clusters through the RP's public ARM API (curl + jq), following nextLink.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $0 [-h] [-j] [RESOURCE_GROUP]

Lists the clusters of RESOURCE_GROUP, or of the whole subscription, every page (nextLink) included:
a table of name, resource group, provisioningState, version and worker count; with -j, a JSON array of
the clusters.

environment:
  RP_URL                 RP endpoint (default: https://localhost:8443)
  CA_FILE                CA bundle of the RP's certificate (default: ./.aro/certs/ca.crt if it exists)
  AZURE_SUBSCRIPTION_ID  subscription (default: 00000000-0000-0000-0000-000000000001)
USAGE
}

prog="$(basename "$0")"
die() { echo "$prog: $*" >&2; exit 1; }

json=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    -j|--json) json=1 ;;
    -*) echo "$prog: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ ${#args[@]} -gt 1 ]; then
  usage >&2
  exit 2
fi
rg="${args[0]:-}"

for tool in curl jq; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required but not installed (e.g. apt-get install $tool)"
done

RP_URL="${RP_URL:-https://localhost:8443}"
RP_URL="${RP_URL%/}"
AZURE_SUBSCRIPTION_ID="${AZURE_SUBSCRIPTION_ID:-00000000-0000-0000-0000-000000000001}"
API_VERSION=2025-07-25

curl_args=(-sS --max-time 30)
if [ -n "${CA_FILE:-}" ]; then
  [ -f "$CA_FILE" ] || die "CA_FILE=$CA_FILE does not exist"
  curl_args+=(--cacert "$CA_FILE")
elif [ -f .aro/certs/ca.crt ]; then
  curl_args+=(--cacert .aro/certs/ca.crt)
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# api METHOD URL [BODY]: sets $status; the response is in $tmp/body, its headers in $tmp/headers.
api() {
  local method="$1" url="$2" data="${3-}"
  local opts=("${curl_args[@]}" -X "$method" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}')
  if [ -n "$data" ]; then
    opts+=(-H 'Content-Type: application/json' --data-binary "$data")
  fi
  case "$url" in http*) ;; *) url="$RP_URL$url" ;; esac
  local rc=0
  : >"$tmp/body"
  status="$(curl "${opts[@]}" "$url" 2>"$tmp/curl.err")" || rc=$?
  case "$rc" in
    0) ;;
    6|7|28) die "cannot reach the RP at $RP_URL: $(head -n1 "$tmp/curl.err") (is it running? check RP_URL)" ;;
    35|51|58|60|77|83) die "TLS error talking to $RP_URL: $(head -n1 "$tmp/curl.err") (set CA_FILE to the RP's CA, e.g. .aro/certs/ca.crt)" ;;
    *) die "$method $url failed: $(head -n1 "$tmp/curl.err")" ;;
  esac
}

header() { grep -i "^$1:" "$tmp/headers" | tail -n1 | cut -d' ' -f2- | tr -d '\r' || true; }

print_error() {  # the ARM error object in JSON file $1, at path $2
  jq -r "$2"' | "ERROR: (\(.code)) \(.message)"
    + (if .target then "\n  target: \(.target)" else "" end)
    + ([.details[]? | "\n  (\(.code)) \(.message)"] | join(""))' "$1" >&2 2>/dev/null || cat "$1" >&2
}

arm_error() {  # $1: what failed; prints the ARM error of the last response and exits 1
  echo "$prog: $1: HTTP $status" >&2
  if jq -e '.error' "$tmp/body" >/dev/null 2>&1; then print_error "$tmp/body" .error; else cat "$tmp/body" >&2; echo >&2; fi
  exit 1
}

path="/subscriptions/$AZURE_SUBSCRIPTION_ID"
if [ -n "$rg" ]; then
  path+="/resourceGroups/$rg"
fi
url="$path/providers/Microsoft.RedHatOpenShift/openShiftClusters?api-version=$API_VERSION"
echo '[]' >"$tmp/all"
pages=0
while [ -n "$url" ]; do
  api GET "$url"
  [ "$status" = 200 ] || arm_error "GET $url"
  jq -s '.[0] + .[1].value' "$tmp/all" "$tmp/body" >"$tmp/merged"
  mv "$tmp/merged" "$tmp/all"
  url="$(jq -r '.nextLink // empty' "$tmp/body")"
  pages=$((pages + 1))
  [ "$pages" -le 1000 ] || die "more than 1000 pages: is nextLink looping?"
done

if [ "$json" = 1 ]; then
  jq . "$tmp/all"
  exit 0
fi
table() {
  if command -v column >/dev/null 2>&1; then column -t -s "$(printf '\t')"; else cat; fi
}
jq -r '(["NAME", "RESOURCE_GROUP", "STATE", "VERSION", "WORKERS"] | @tsv),
  (.[] | [.name, (.id | capture("/resourceGroups/(?<rg>[^/]+)/"; "i").rg),
          .properties.provisioningState, (.properties.clusterProfile.version // ""),
          ([.properties.workerProfiles[]?.count] | add // 0)] | @tsv)' "$tmp/all" | table
