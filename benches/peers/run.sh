#!/usr/bin/env bash
# fusejit against NumPy, numexpr, Polars and numba on the workloads of examples/compare, in
# one run: rounds alternate `examples/compare` (the JIT on 1 and 2 threads, the hand-written
# `best`) and `peers.py` (the Python peers, each workload's contenders interleaved), and the
# table takes each contender's median over the rounds, with the best peer's time over
# fusejit's on every core.
#
# fusejit is timed here in its own process beside the Rust baselines, the Python peers in
# theirs, interleaved with each other (Polars' and numexpr's pools, NumPy's temporaries).
# What runs just before a call moves a memory-bound program's time more than the
# contenders differ, so the ratios of memory-bound workloads (W4, W5, W7) are flattering:
# python/bench/compare.py times fusejit in the peers' process, interleaved with them, and
# is the comparison to quote (docs/PERFORMANCE.md).
#
#   bash benches/peers/run.sh [ROUNDS] [ROWS,...]      (needs python3 -m venv)
#
# Not part of `cargo test`: a measurement. The venv lives in $PEERS_DIR (default
# /tmp/fusejit-peers), made on first use.
set -euo pipefail
rounds="${1:-3}"
sizes="${2:-1000000,4000000}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir="${PEERS_DIR:-/tmp/fusejit-peers}"
mkdir -p "$dir"
if [ ! -x "$dir/venv/bin/python" ]; then
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet numpy numexpr polars
  "$dir/venv/bin/pip" install --quiet numba || echo "numba did not install; measuring without it" >&2
fi
py="$dir/venv/bin/python"
(cd "$repo" && cargo build --release --quiet --example compare)
threads="1,$(nproc)"
rm -f "$dir"/compare-*.json "$dir/peers.jsonl"
for round in $(seq "$rounds"); do
  "$repo/target/release/examples/compare" --rows "$sizes" --threads "$threads" \
    --json "$dir/compare-$round.json" >/dev/null
  "$py" "$here/peers.py" measure "$sizes" 7 "$dir/peers.jsonl"
done
echo "# $(nproc) cores; ns per row, median over $rounds rounds"
"$py" "$here/peers.py" table "$dir"/compare-*.json -- "$dir/peers.jsonl"
