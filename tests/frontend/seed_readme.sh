#!/usr/bin/env bash
# The seed README's "Useful commands", as written. The only changes: `localhost:8080` is
# `https://localhost:$PORT`, curl is given `--cacert "$CACERT"`, and COUNT is 5 (the README's 3 is the
# default worker count, so scaling to it would show no change).
#
# Usage: seed_readme.sh create|get|credentials|list-rg|list-sub|scale|delete
# Environment: PORT, CACERT, AZURE_SUBSCRIPTION_ID, LOCATION, PULL_SECRET.
set -euo pipefail

CLUSTER=cluster

case "$1" in
create)
curl --cacert "$CACERT" -X PUT "https://localhost:$PORT/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/$CLUSTER/providers/Microsoft.RedHatOpenShift/OpenShiftClusters/$CLUSTER?api-version=2019-12-31-preview" -H 'Content-Type: application/json' -d '{"location":"'"$LOCATION"'", "properties": {"pullSecret": "'"$(base64 -w0 <<<$PULL_SECRET)"'"}}'
;;
get)
curl --cacert "$CACERT" "https://localhost:$PORT/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/$CLUSTER/providers/Microsoft.RedHatOpenShift/OpenShiftClusters/$CLUSTER?api-version=2019-12-31-preview"
;;
credentials)
curl --cacert "$CACERT" -X POST "https://localhost:$PORT/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/$CLUSTER/providers/Microsoft.RedHatOpenShift/OpenShiftClusters/$CLUSTER/credentials?api-version=2019-12-31-preview" -H 'Content-Type: application/json' -d '{}'
;;
list-rg)
curl --cacert "$CACERT" "https://localhost:$PORT/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/$CLUSTER/providers/Microsoft.RedHatOpenShift/OpenShiftClusters?api-version=2019-12-31-preview"
;;
list-sub)
curl --cacert "$CACERT" "https://localhost:$PORT/subscriptions/$AZURE_SUBSCRIPTION_ID/providers/Microsoft.RedHatOpenShift/OpenShiftClusters?api-version=2019-12-31-preview"
;;
scale)
COUNT=5
curl --cacert "$CACERT" -X PATCH "https://localhost:$PORT/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/$CLUSTER/providers/Microsoft.RedHatOpenShift/OpenShiftClusters/$CLUSTER?api-version=2019-12-31-preview" -H 'Content-Type: application/json' -d '{"properties": {"workerProfiles": [{"name": "worker", "count": '"$COUNT"'}]}}'
;;
delete)
curl --cacert "$CACERT" -X DELETE "https://localhost:$PORT/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/$CLUSTER/providers/Microsoft.RedHatOpenShift/OpenShiftClusters/$CLUSTER?api-version=2019-12-31-preview"
;;
*)
echo "usage: $0 create|get|credentials|list-rg|list-sub|scale|delete" >&2
exit 2
;;
esac
