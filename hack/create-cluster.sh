#!/usr/bin/env bash
# Create a cluster through the RP's public ARM API (curl + jq) and wait for a terminal state.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $0 [-h] [--no-wait] NAME [RESOURCE_GROUP]

PUTs a 2025-07-25 cluster body like \`az aro create\` sends, then polls its Azure-AsyncOperation until
Succeeded (prints the cluster, exit 0) or Failed (prints the ARM error, exit 1). RESOURCE_GROUP defaults
to NAME. With --no-wait, prints the accepted (Creating) cluster and returns at once.

environment:
  RP_URL                 RP endpoint (default: https://localhost:8443)
  CA_FILE                CA bundle of the RP's certificate (default: ./.aro/certs/ca.crt if it exists)
  AZURE_SUBSCRIPTION_ID  subscription (default: 00000000-0000-0000-0000-000000000001)
  LOCATION               location (default: eastus)
  PULL_SECRET            pull secret text (default: none)
  AZURE_CLIENT_ID, AZURE_CLIENT_SECRET
                         cluster service principal (default: generated placeholders)
  WORKER_COUNT           worker VMs (default: 3)
  POLL_SECONDS           seconds between polls (default: 2)

example: RP_URL=https://localhost:8443 $0 mycluster
USAGE
}

prog="$(basename "$0")"
die() { echo "$prog: $*" >&2; exit 1; }

wait=1
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --no-wait) wait=0 ;;
    -*) echo "$prog: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ ${#args[@]} -lt 1 ] || [ ${#args[@]} -gt 2 ]; then
  usage >&2
  exit 2
fi
name="${args[0]}"
rg="${args[1]:-$name}"

for tool in curl jq; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required but not installed (e.g. apt-get install $tool)"
done

RP_URL="${RP_URL:-https://localhost:8443}"
RP_URL="${RP_URL%/}"
AZURE_SUBSCRIPTION_ID="${AZURE_SUBSCRIPTION_ID:-00000000-0000-0000-0000-000000000001}"
LOCATION="${LOCATION:-eastus}"
POLL_SECONDS="${POLL_SECONDS:-2}"
WORKER_COUNT="${WORKER_COUNT:-3}"
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

wait_operation() {  # $1: Azure-AsyncOperation URL, $2: title
  local start=$SECONDS last="" line op step
  while :; do
    api GET "$1"
    [ "$status" = 200 ] || arm_error "polling $1"
    op="$(jq -r '.status' "$tmp/body")"
    step="$(jq -r '[.currentStep, (.percentComplete | if . == null then null else "\(.)%" end)]
      | map(select(. != null and . != "")) | join(" ")' "$tmp/body")"
    line="$2: $op${step:+ ($step)}"
    if [ "$line" != "$last" ]; then
      echo "$line [$((SECONDS - start))s]" >&2
      last="$line"
    fi
    case "$op" in
      Succeeded) return 0 ;;
      Failed|Canceled) print_error "$tmp/body" '.error // {code: "'"$op"'", message: "the operation ended '"$op"'"}'; exit 1 ;;
    esac
    sleep "$POLL_SECONDS"
  done
}

rand_id() {  # az aro's generate_random_id: a letter, then seven letters or digits
  local letters=abcdefghijklmnopqrstuvwxyz chars=abcdefghijklmnopqrstuvwxyz0123456789 id
  id="${letters:RANDOM%26:1}"
  while [ ${#id} -lt 8 ]; do id+="${chars:RANDOM%36:1}"; done
  echo "$id"
}

placeholder_uuid() {
  printf '%04x%04x-%04x-4%03x-8%03x-%04x%04x%04x\n' $RANDOM $RANDOM $RANDOM $((RANDOM % 4096)) \
    $((RANDOM % 4096)) $RANDOM $RANDOM $RANDOM
}

sub="$AZURE_SUBSCRIPTION_ID"
rid="$(rand_id)"
vnet="/subscriptions/$sub/resourceGroups/$rg/providers/Microsoft.Network/virtualNetworks/$name-vnet"
body="$(jq -n \
  --arg location "$LOCATION" --arg pullSecret "${PULL_SECRET:-}" --arg domain "$rid" \
  --arg clusterRG "/subscriptions/$sub/resourceGroups/aro-$rid" --arg vnet "$vnet" \
  --arg clientId "${AZURE_CLIENT_ID:-$(placeholder_uuid)}" \
  --arg clientSecret "${AZURE_CLIENT_SECRET:-placeholder-$(rand_id)$(rand_id)}" \
  --argjson workers "$WORKER_COUNT" '{
  location: $location,
  properties: {
    clusterProfile: {pullSecret: $pullSecret, domain: $domain, resourceGroupId: $clusterRG,
                     fipsValidatedModules: "Disabled", version: ""},
    networkProfile: {podCidr: "10.128.0.0/14", serviceCidr: "172.30.0.0/16", outboundType: "", preconfiguredNSG: "Disabled"},
    masterProfile: {vmSize: "Standard_D8s_v5", subnetId: ($vnet + "/subnets/master"), encryptionAtHost: "Disabled"},
    workerProfiles: [{name: "worker", vmSize: "Standard_D4s_v5", diskSizeGB: 128, subnetId: ($vnet + "/subnets/worker"),
                      count: $workers, encryptionAtHost: "Disabled"}],
    apiserverProfile: {visibility: "Public"},
    ingressProfiles: [{name: "default", visibility: "Public"}],
    servicePrincipalProfile: {clientId: $clientId, clientSecret: $clientSecret}
  }}')"

path="/subscriptions/$sub/resourceGroups/$rg/providers/Microsoft.RedHatOpenShift/openShiftClusters/$name"
api PUT "$path?api-version=$API_VERSION" "$body"
case "$status" in 200|201) ;; *) arm_error "PUT $path" ;; esac
echo "$prog: cluster $name accepted in resource group $rg (HTTP $status)" >&2
if [ "$wait" = 0 ]; then
  jq . "$tmp/body"
  exit 0
fi
operation="$(header azure-asyncoperation)"
[ -n "$operation" ] || die "the RP sent no Azure-AsyncOperation header"
wait_operation "$operation" "creating $name"
api GET "$path?api-version=$API_VERSION"
[ "$status" = 200 ] || arm_error "GET $path"
jq . "$tmp/body"
