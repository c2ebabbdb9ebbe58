#!/usr/bin/env bash
# Build the Python package from scratch and run its tests.
#
#   bash bindings/python/test.sh            # dev-profile build into <repo>/target (reuses `cargo test` artifacts)
#   LEKHIKA_PY_INSTALL=pip bash ...         # `pip install ./bindings/python` instead (release build, slow)
#
# Needs python3 with venv (Debian: python3-venv) and a Rust toolchain.
# Settings: LEKHIKA_PY_VENV (default bindings/python/.venv), CARGO_TARGET_DIR
# (default <repo>/target), extra pytest arguments after `--`.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${LEKHIKA_PY_VENV:-$HERE/.venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

echo "== venv $VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "maturin>=1.9,<2" "pytest>=7" "mypy>=1.8"

# Resolve the same dependency versions as the workspace (so compiled crates are shared).
if [ ! -f "$HERE/Cargo.lock" ]; then
    cp "$ROOT/Cargo.lock" "$HERE/Cargo.lock"
fi

start=$(date +%s)
if [ "${LEKHIKA_PY_INSTALL:-develop}" = pip ]; then
    echo "== pip install ./bindings/python (release)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$HERE"
else
    echo "== maturin develop --profile dev (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    (cd "$HERE" && VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" "$VENV/bin/maturin" develop --profile dev --quiet)
fi
echo "== build + install took $(( $(date +%s) - start )) s"

echo "== pytest"
cd "$HERE"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests "${@}"
