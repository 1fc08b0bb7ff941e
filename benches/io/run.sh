#!/usr/bin/env bash
# Files end to end, fusejit's CLI against Polars, interleaved in one run: 5M rows of CSV and
# Parquet through `dlog(px,1)*252` and back out, and a 50M-row Parquet file streamed. Prints a
# markdown table of median wall time and peak RSS (from /usr/bin/time) with same-run ratios.
#
#   bash benches/io/run.sh [ROUNDS]        (needs python3 -m venv and GNU time)
#
# Not part of `cargo test`: it is a measurement. Data and the venv live in $IO_DIR
# (default /tmp/fusejit-io), made on first use.
set -euo pipefail
rounds="${1:-3}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir="${IO_DIR:-/tmp/fusejit-io}"
mkdir -p "$dir"
if [ ! -x "$dir/venv/bin/python" ]; then
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet numpy polars
fi
py="$dir/venv/bin/python"
(cd "$repo" && cargo build --release --quiet --bin fusejit)
fj="$repo/target/release/fusejit"
[ -f "$dir/big.csv" ] || "$py" "$here/peers.py" generate "$dir"

measure() { # label command...
  local label="$1"; shift
  /usr/bin/time -f "$label %e %M" "$@" >/dev/null 2>>"$dir/times.txt"
}
: > "$dir/times.txt"
for round in $(seq "$rounds"); do
  measure fusejit_csv "$fj" -e 'dlog(px,1)*252' --input "$dir/big.csv" --output "$dir/out_fj.csv"
  measure polars_csv "$py" "$here/peers.py" run "$dir/big.csv" "$dir/out_pl.csv"
  measure fusejit_parquet "$fj" -e 'dlog(px,1)*252' --input "$dir/big.parquet" --output "$dir/out_fj.parquet"
  measure polars_parquet "$py" "$here/peers.py" run "$dir/big.parquet" "$dir/out_pl.parquet"
  measure fusejit_parquet_50M "$fj" -e 'dlog(px,1)*252' --input "$dir/big50.parquet" --output "$dir/out50.parquet"
  measure polars_parquet_50M "$py" "$here/peers.py" run "$dir/big50.parquet" "$dir/out50_pl.parquet"
done
"$py" "$here/peers.py" table "$dir/times.txt"
