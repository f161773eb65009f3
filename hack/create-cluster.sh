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

# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

lib_init

WORKER_COUNT="${WORKER_COUNT:-3}"

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
