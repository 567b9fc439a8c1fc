#!/usr/bin/env bash
# Runs tests/boto3_conformance.py against a fresh `sc-assoc local-catalog`, once over each of
# Service Catalog's wire protocols (AWS JSON 1.1, then Smithy RPC v2 CBOR), then once for STS
# AssumeRole and per-account, per-region catalogs (accounts.yaml), then for AWS Organizations'
# listings (organization.yaml): boto3 is a client this
# project did not write, generated from the same AWS model, so it checks the catalog's wire
# faithfulness independently of the Rust SDK. Fails on any mismatch. If boto3 cannot be
# installed at all (no package index reachable), says so loudly and skips.
set -euo pipefail
cd "$(dirname "$0")/.."

# A botocore that cannot serialize RPC v2 CBOR cannot check the second protocol: upgrade it.
has_cbor='import boto3, botocore.serialize as s; assert "smithy-rpc-v2-cbor" in s.SERIALIZERS'
if ! python3 -c "$has_cbor" 2>/dev/null; then
  for attempt in 1 2 3; do
    if python3 -m pip install --quiet --disable-pip-version-check --upgrade 'boto3>=1.40'; then
      break
    fi
    sleep $((attempt * 5))
  done
fi
if ! python3 -c "$has_cbor" 2>/dev/null; then
  echo "SKIPPED: boto3 (with RPC v2 CBOR) could not be installed; the boto3 conformance check did not run" >&2
  exit 0
fi

cargo build --locked --quiet --bin sc-assoc
# Each protocol gets a fresh catalog: the script changes associations.
run_over() {
  local protocol=$1 seed=${2:-basic} log server endpoint
  log=$(mktemp)
  target/debug/sc-assoc local-catalog --seed "tests/fixtures/catalog/$seed.yaml" --listen 127.0.0.1:0 >"$log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do
    grep -q '^listening on ' "$log" && break
    sleep 0.1
  done
  endpoint=$(sed -n 's/^listening on //p' "$log" | head -n 1)
  if [ -z "$endpoint" ]; then
    echo "the local catalog did not start:" >&2
    cat "$log" >&2
    kill "$server" 2>/dev/null || true
    rm -f "$log"
    return 1
  fi
  local status=0
  python3 tests/boto3_conformance.py "$endpoint" "$protocol" || status=$?
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -f "$log"
  return "$status"
}

run_over json
run_over cbor
run_over accounts accounts
run_over organizations organization
