#!/usr/bin/env bash
# Lekhika vs LangGraph (and vs pandoc for exports) on this machine, in one go.
#
#   bash benches/compare.sh [--reps N] [--only W1,W3,...] [--no-build]
#
# 1. sets up LangGraph in a virtualenv (pip install langgraph langgraph-checkpoint-sqlite),
# 2. builds `lekhika-bench` and the `lekhika` CLI in release mode,
# 3. runs benches/peer/langgraph_bench.py, then `lekhika-bench` (same workloads,
#    same JSON-lines shape, each workload in its own process), one after the other,
# 4. times CLI startup with hyperfine when it is installed,
# 5. prints a table of both figures and their ratios (benches/peer/table.py).
#
# Raw JSON lines are kept in $OUT (default target-bench/compare/).
# Needs: python3 (with venv), cargo, pandoc (+ pdflatex for the PDF row); optional hyperfine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-bench}
VENV=${LEKHIKA_BENCH_VENV:-$CARGO_TARGET_DIR/langgraph-venv}
OUT=${OUT:-$CARGO_TARGET_DIR/compare}
REPS=3
ONLY=""
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"

echo "== machine: $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

if ! "$VENV/bin/python" -c 'import langgraph, langgraph.checkpoint.sqlite' 2>/dev/null; then
  echo "== setting up LangGraph in $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet langgraph langgraph-checkpoint-sqlite
fi

if [ "$BUILD" = 1 ]; then
  echo "== building lekhika-bench and lekhika (release)" >&2
  (cd "$ROOT" && cargo build --release --quiet -p lekhika-benches --bin lekhika-bench \
     && cargo build --release --quiet -p lekhika-cli --bin lekhika)
fi
BENCH=$CARGO_TARGET_DIR/release/lekhika-bench
CLI=$CARGO_TARGET_DIR/release/lekhika

PEER_ONLY=()
OUR_ONLY=()
if [ -n "$ONLY" ]; then PEER_ONLY=(--only "$ONLY"); OUR_ONLY=(--only "$ONLY"); fi

echo "== LangGraph: benches/peer/langgraph_bench.py --reps $REPS" >&2
"$VENV/bin/python" "$ROOT/benches/peer/langgraph_bench.py" --reps "$REPS" "${PEER_ONLY[@]}" \
  > "$OUT/langgraph.jsonl" 2> "$OUT/langgraph.stderr" || true

echo "== Lekhika: lekhika-bench --reps $REPS" >&2
"$BENCH" --reps "$REPS" --cli "$CLI" "${OUR_ONLY[@]}" \
  > "$OUT/lekhika.jsonl" 2> "$OUT/lekhika.stderr"

if command -v hyperfine >/dev/null; then
  echo "== CLI startup (hyperfine)" >&2
  tmp=$(mktemp -d)
  echo '{"nodes":[{"id":"hello","type":"template","data":{"template":"Hello"}}],"edges":[]}' > "$tmp/one.json"
  hyperfine -N --warmup 3 --runs 30 --style none --export-json "$OUT/startup.hyperfine.json" \
    "$CLI --version" \
    "$CLI run $tmp/one.json --store $tmp/s.sqlite --out $tmp/out --json" >&2
  rm -rf "$tmp"
fi

echo "== load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 "$ROOT/benches/peer/table.py" "$OUT/langgraph.jsonl" "$OUT/lekhika.jsonl" \
  ${OUT:+--hyperfine "$OUT/startup.hyperfine.json"}
