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

# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

lib_init

sub="${args[0]:-$AZURE_SUBSCRIPTION_ID}"
body="$(jq -n --arg state "$state" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --arg tenant "${AZURE_TENANT_ID:-00000000-0000-0000-0000-000000000000}" '{
  state: $state,
  registrationDate: $date,
  properties: {tenantId: $tenant, locationPlacementId: "Public_2014-09-01", quotaId: "Default_2014-09-01",
               registeredFeatures: []}
}')"
api PUT "/subscriptions/$sub?api-version=2.0" "$body"  # ARM's subscription lifecycle api-version
case "$status" in
  200|201) ;;
  *) arm_error "PUT /subscriptions/$sub" ;;
esac
echo "$prog: subscription $sub is $(jq -r .state "$tmp/body") (HTTP $status)" >&2
jq . "$tmp/body"
