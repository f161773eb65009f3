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

# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

lib_init

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
