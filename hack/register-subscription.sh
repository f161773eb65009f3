#!/usr/bin/env bash
# Tell the RP about a subscription's state, as ARM does: PUT /subscriptions/{id}?api-version=2.0.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $0 [-h] [SUBSCRIPTION] [STATE]

Sends ARM's subscription lifecycle notification for SUBSCRIPTION (default: \$AZURE_SUBSCRIPTION_ID, else
00000000-0000-0000-0000-000000000001) with STATE (default: Registered). The RP answers 201 the first time
it hears of the subscription and 200 afterwards.

  STATE  Registered | Unregistered | Warned | Suspended | Deleted
         (Deleted deletes every cluster of the subscription and cannot be undone)

environment:
  RP_URL           RP endpoint (default: https://localhost:8443)
  CA_FILE          CA bundle of the RP's certificate (default: ./.aro/certs/ca.crt if it exists)
  AZURE_TENANT_ID  tenant sent in properties.tenantId (default: 00000000-0000-0000-0000-000000000000)
USAGE
}

prog="$(basename "$0")"
die() { echo "$prog: $*" >&2; exit 1; }

args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    -*) echo "$prog: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ ${#args[@]} -gt 2 ]; then
  usage >&2
  exit 2
fi
state="${args[1]:-Registered}"
case "$state" in
  Registered|Unregistered|Warned|Suspended|Deleted) ;;
  *) echo "$prog: invalid state '$state': use Registered, Unregistered, Warned, Suspended or Deleted" >&2; exit 2 ;;
esac

for tool in curl jq; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required but not installed (e.g. apt-get install $tool)"
done

RP_URL="${RP_URL:-https://localhost:8443}"
RP_URL="${RP_URL%/}"
AZURE_SUBSCRIPTION_ID="${AZURE_SUBSCRIPTION_ID:-00000000-0000-0000-0000-000000000001}"
API_VERSION=2.0  # ARM's subscription lifecycle notification

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

sub="${args[0]:-$AZURE_SUBSCRIPTION_ID}"
body="$(jq -n --arg state "$state" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --arg tenant "${AZURE_TENANT_ID:-00000000-0000-0000-0000-000000000000}" '{
  state: $state,
  registrationDate: $date,
  properties: {tenantId: $tenant, locationPlacementId: "Public_2014-09-01", quotaId: "Default_2014-09-01",
               registeredFeatures: []}
}')"
api PUT "/subscriptions/$sub?api-version=$API_VERSION" "$body"
case "$status" in
  200|201) ;;
  *) arm_error "PUT /subscriptions/$sub" ;;
esac
echo "$prog: subscription $sub is $(jq -r .state "$tmp/body") (HTTP $status)" >&2
jq . "$tmp/body"
