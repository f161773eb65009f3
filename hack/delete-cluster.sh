#!/usr/bin/env bash
# Delete a cluster through the RP's public ARM API (curl + jq) and wait until it is gone.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $0 [-h] [--no-wait] NAME [RESOURCE_GROUP]

DELETEs the cluster and polls its Azure-AsyncOperation until Succeeded (exit 0) or Failed (prints the ARM
error, exit 1). RESOURCE_GROUP defaults to NAME. A cluster that does not exist is reported (exit 0).
With --no-wait, returns once the RP accepted the delete.

environment:
  RP_URL                 RP endpoint (default: https://localhost:8443)
  CA_FILE                CA bundle of the RP's certificate (default: ./.aro/certs/ca.crt if it exists)
  AZURE_SUBSCRIPTION_ID  subscription (default: 00000000-0000-0000-0000-000000000001)
  POLL_SECONDS           seconds between polls (default: 2)
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

path="/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/$rg/providers/Microsoft.RedHatOpenShift/openShiftClusters/$name"
api DELETE "$path?api-version=$API_VERSION"
case "$status" in
  204) echo "$prog: cluster $name does not exist in resource group $rg (nothing to delete)" >&2; exit 0 ;;
  200|202) ;;
  *) arm_error "DELETE $path" ;;
esac
echo "$prog: deleting cluster $name in resource group $rg (HTTP $status)" >&2
operation="$(header azure-asyncoperation)"
if [ "$wait" = 0 ] || [ -z "$operation" ]; then
  exit 0
fi
wait_operation "$operation" "deleting $name"
echo "$prog: cluster $name deleted" >&2
