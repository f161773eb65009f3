#!/bin/bash
# Lists the nodes whose Ready condition is not True (False, Unknown or missing).
set -euo pipefail

template='{range .items[*]}{.metadata.name}{"\t"}{range .status.conditions[?(@.type=="Ready")]}{.status}{"\t"}{.reason}{"\t"}{.message}{end}{"\n"}{end}'
nodes=$(kubectl get nodes -o jsonpath="$template")

total=0
not_ready=0
while IFS=$'\t' read -r name status reason message; do
  [ -n "$name" ] || continue
  total=$((total + 1))
  if [ "$status" != "True" ]; then
    not_ready=$((not_ready + 1))
    printf 'NOT READY  %s  status=%s reason=%s %s\n' "$name" "${status:-missing}" "${reason:-none}" "$message"
  fi
done <<< "$nodes"

echo "${not_ready} of ${total} nodes are not Ready"
