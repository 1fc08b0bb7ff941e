#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer's coverage instrumentation on the stable toolchain and
# runs them: `fuzz/run.sh [SECONDS] [TARGET...]` (default: 60 s each, every target).
#
# cargo-fuzz's own `cargo fuzz run` needs nightly for its default AddressSanitizer; these are the
# flags it passes with `--sanitizer none`, which stable rustc accepts. Safe Rust needs no ASan to
# catch out-of-bounds access; the `unsafe` code is covered by tests/native_memory.rs's guard
# pages. `cargo +nightly fuzz run TARGET` works too, where a nightly toolchain exists.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(parse_check eval_differential bindings)
fi
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps RUSTFLAGS off build scripts and proc macros (as cargo-fuzz does):
# they run on the host without libFuzzer's runtime to resolve the coverage hooks.
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --bins --target "$host"
for target in "${targets[@]}"; do
  # New inputs go to a scratch corpus; the committed seeds in corpus/ are only read.
  work="${FUZZ_WORK:-target/fuzz-work}/$target"
  mkdir -p "$work" "corpus/$target" artifacts/"$target"
  echo "fuzzing $target for ${seconds}s"
  # FUZZ_SEED makes a run repeatable (CI sets it, so a red CI is reproducible); unset, libFuzzer
  # picks a new seed each run.
  "${CARGO_TARGET_DIR:-target}/$host/release/$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    ${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
    -artifact_prefix="artifacts/$target/" -print_final_stats=1 "$work" "corpus/$target"
done
