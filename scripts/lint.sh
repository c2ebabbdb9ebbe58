#!/usr/bin/env bash
# Formatting and lints, as CI checks them: cargo fmt, and clippy with
# warnings as errors for the workspace and both bindings (which live
# outside the workspace and build with its Cargo.lock).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
for b in bindings/python bindings/node; do
  (cd "$b" && cargo fmt -- --check)
done

echo "== cargo clippy (workspace)"
cargo clippy --workspace --all-targets --all-features -- -D warnings

for b in bindings/python bindings/node; do
  echo "== cargo clippy ($b)"
  [ -f "$b/Cargo.lock" ] || cp Cargo.lock "$b/Cargo.lock"
  (cd "$b" && cargo clippy --all-targets -- -D warnings)
done
