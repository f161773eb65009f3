# Shared by the hack/ scripts (bash + curl + jq over the RP's public ARM API). Source it after defining
# usage(); call lib_init after parsing the arguments.
# shellcheck shell=bash

prog="$(basename "$0")"
die() { echo "$prog: $*" >&2; exit 1; }

lib_init() {
  local tool
  for tool in curl jq; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required but not installed (e.g. apt-get install $tool)"
  done
  RP_URL="${RP_URL:-https://localhost:8443}"
  RP_URL="${RP_URL%/}"
  AZURE_SUBSCRIPTION_ID="${AZURE_SUBSCRIPTION_ID:-00000000-0000-0000-0000-000000000001}"
  LOCATION="${LOCATION:-eastus}"
  POLL_SECONDS="${POLL_SECONDS:-2}"
  export API_VERSION=2025-07-25  # used by the sourcing scripts
  curl_args=(-sS --max-time 30)
  if [ -n "${CA_FILE:-}" ]; then
    [ -f "$CA_FILE" ] || die "CA_FILE=$CA_FILE does not exist"
    curl_args+=(--cacert "$CA_FILE")
  elif [ -f .aro/certs/ca.crt ]; then
    curl_args+=(--cacert .aro/certs/ca.crt)
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
}

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
