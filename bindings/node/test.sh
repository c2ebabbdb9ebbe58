#!/usr/bin/env bash
# Install, build and test the Node package (bindings/node) and the worker
# example (examples/node-worker) from scratch. Exits non-zero on failure.
#
# The native addon is built in the dev profile into the workspace's own
# target dir (CARGO_TARGET_DIR, default <repo>/target), with the workspace's
# Cargo.lock, so crates `cargo test --workspace` already compiled are reused.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"

cd "$here"
# Same dependency versions as the workspace (this package is outside it).
[ -f Cargo.lock ] || cp "$repo/Cargo.lock" Cargo.lock

echo "== bindings/node: npm ci"
npm ci --no-audit --no-fund --fetch-timeout=60000 --fetch-retries=5

echo "== bindings/node: native build (debug, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
t0=$(date +%s)
node scripts/build.mjs
echo "native build took $(( $(date +%s) - t0 )) s"

echo "== bindings/node: tsc --noEmit"
npx tsc --noEmit -p test/types

echo "== bindings/node: node --test"
node --test test/*.test.mjs

echo "== examples/node-worker: npm ci"
cd "$repo/examples/node-worker"
npm ci --no-audit --no-fund --fetch-timeout=60000 --fetch-retries=5

echo "== examples/node-worker: node --test"
node --test test/*.test.mjs
