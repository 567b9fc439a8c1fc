#!/usr/bin/env bash
# Runs tests/boto3_conformance.py against a fresh `sc-assoc local-catalog`: boto3 is a client this
# project did not write, generated from the same AWS model, so it checks the catalog's wire
# faithfulness independently of the Rust SDK. Fails on any mismatch. If boto3 cannot be
# installed at all (no package index reachable), says so loudly and skips.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import boto3' 2>/dev/null; then
  for attempt in 1 2 3; do
    if python3 -m pip install --quiet --disable-pip-version-check 'boto3>=1.34'; then
      break
    fi
    sleep $((attempt * 5))
  done
fi
if ! python3 -c 'import boto3' 2>/dev/null; then
  echo "SKIPPED: boto3 could not be installed; the boto3 conformance check did not run" >&2
  exit 0
fi

cargo build --locked --quiet --bin sc-assoc
log=$(mktemp)
target/debug/sc-assoc local-catalog --seed tests/fixtures/catalog/basic.yaml --listen 127.0.0.1:0 >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$log" && break
  sleep 0.1
done
endpoint=$(sed -n 's/^listening on //p' "$log" | head -n 1)
if [ -z "$endpoint" ]; then
  echo "the local catalog did not start:" >&2
  cat "$log" >&2
  exit 1
fi
python3 tests/boto3_conformance.py "$endpoint"
