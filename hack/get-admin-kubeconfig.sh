#!/usr/bin/env bash
# Write the admin kubeconfig of a Succeeded cluster, read straight from the RP's store.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $0 [-h] [-d DATA_DIR] [-f FILE] RESOURCE_ID

Reads the cluster document from the store of the RP whose data directory is DATA_DIR (default:
\$ARO_DATA_DIRECTORY or ./.aro), decrypts it and writes its admin kubeconfig to FILE (default:
admin.kubeconfig; refuses to overwrite). Fails clearly unless the cluster is Succeeded.

  RESOURCE_ID  /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.RedHatOpenShift/openShiftClusters/NAME

example: $0 /subscriptions/\$AZURE_SUBSCRIPTION_ID/resourceGroups/\$CLUSTER/providers/Microsoft.RedHatOpenShift/OpenShiftClusters/\$CLUSTER
         export KUBECONFIG=admin.kubeconfig
USAGE
}

data_dir="${ARO_DATA_DIRECTORY:-./.aro}"
file="admin.kubeconfig"
while getopts "hd:f:" opt; do
  case "$opt" in
    h) usage; exit 0 ;;
    d) data_dir="$OPTARG" ;;
    f) file="$OPTARG" ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -ne 1 ]; then
  usage >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
aro="${ARO:-$here/.venv/bin/aro}"
if [ ! -x "$aro" ]; then
  aro="$(command -v aro || true)"
fi
if [ -z "$aro" ]; then
  echo "$0: the aro command is not installed (run make run or make test first)" >&2
  exit 1
fi
exec "$aro" admin kubeconfig --data-dir "$data_dir" --file "$file" "$1"
