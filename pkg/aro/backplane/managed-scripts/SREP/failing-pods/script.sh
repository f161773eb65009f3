#!/bin/bash
# Lists the pods of $NAMESPACE that are not Running/Succeeded or whose containers restarted.
set -euo pipefail

if ! [[ "${NAMESPACE:-}" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]]; then
  echo "NAMESPACE must be a namespace name, not '${NAMESPACE:-}'" >&2
  exit 2
fi

template='{range .items[*]}{.metadata.name}{"\t"}{.status.phase}{"\t"}{range .status.containerStatuses[*]}{.restartCount}{" "}{end}{"\t"}{range .status.containerStatuses[*]}{.state.waiting.reason}{.state.terminated.reason}{" "}{end}{"\n"}{end}'
pods=$(kubectl get pods -n "$NAMESPACE" -o jsonpath="$template")

total=0
failing=0
while IFS=$'\t' read -r name phase restarts reasons; do
  [ -n "$name" ] || continue
  total=$((total + 1))
  restarted=0
  for r in $restarts; do restarted=$((restarted + r)); done
  if { [ "$phase" != "Running" ] && [ "$phase" != "Succeeded" ]; } || [ "$restarted" -gt 0 ]; then
    failing=$((failing + 1))
    reasons=$(echo "$reasons" | xargs)
    printf '%s  phase=%s restarts=%s%s\n' "$name" "${phase:-unknown}" "$restarted" "${reasons:+ reasons=$reasons}"
  fi
done <<< "$pods"

echo "${failing} of ${total} pods in ${NAMESPACE} are failing or restarting"
