#!/usr/bin/env bash
# Every test of the project: the Rust workspace (with PostgreSQL when
# LEKHIKA_TEST_PG_ADMIN_URL is set), then the Python and Node packages.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test --workspace"
cargo test --workspace --all-features --no-fail-fast

for b in bindings/python bindings/node; do
  if [ -x "$b/test.sh" ]; then
    echo "== $b"
    bash "$b/test.sh"
  fi
done
