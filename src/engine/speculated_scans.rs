//! `ema` across threads, exactly: each range after the first starts its `ema`s afresh over a
//! warm-up long enough for a contracting recurrence to forget where it started, then a check
//! in row order proves each range began from the state a single thread would have had there,
//! and runs again from that state any range that did not.
//!
//! Why it is exact: an `ema`'s state after a row is a function of its state before the row
//! and the row's operand (the same operations whatever thread runs them; a null row keeps
//! it), so once a range's state at its first written row has the bits a single thread reaches
//! there, every later row has the single thread's bits too. The kernel records each range's
//! `ema` states — those in its row loop (`LoopPlan::inline_scans`) and those it advances by
//! runtime calls (over nulls: `LoopPlan::records_runtime_scans`) — at its first written row
//! and after its last (`layout::SCAN_RECORDS`); range `r` is right
//! when its recorded entry equals range `r − 1`'s exit (itself proved right first). A range
//! that is not is run again with the previous exit as its carry-in, which makes it right by
//! construction. Nothing else in the loop may carry state across its first row: every scan
//! is an `ema`, and no lag reads a value computed from an `ema` (the warm-up would fill its
//! halo from the guessed states).
//!
//! Why it is fast: `s ← α·x + (1 − α)·s` shrinks the difference between two states by
//! `1 − α` a row, up to rounding, so two runs that started apart agree to the bit after
//! about `53·ln 2 / −ln(1 − α)` rows on real data (on a random walk, from its value and from
//! another state: 1 570–1 860 rows for α = 0.02, 46–54 for α = 0.5). The warm-up is half as
//! long again ([`ema_warm_up`]), so a re-run is the
//! exception (a NaN or an infinity before a range, which no later row washes out, or a jump
//! the warm-up could not forget) and costs one range's time when it happens.

use super::Fused;
use super::parallel::{self, Parallelism};
use crate::codegen::layout::{SCAN_RECORD_MODE, ScanRecord};
use crate::codegen::{OutputTarget, RowRange};
use crate::column::Binding;
use crate::ir::{NodeKind, ScanOp, Shape};
use crate::passes::fuse_loops::LoopPlan;

/// The warm-up rows a range of `plan` needs before its first row for its `ema`s to start
/// there from the state a single thread would have (almost always; `run` checks it), or
/// `None` when `plan` cannot run this way: it has no `ema`, a scan that is not an `ema`, a
/// lag of a value computed from an `ema`, or a result that is not a column.
pub(super) fn warm_up(plan: &LoopPlan) -> Option<usize> {
    let program = &plan.program;
    if program.result_type().shape != Shape::Column
        || (!plan.scans.is_empty() && !plan.records_runtime_scans())
        || !plan.reduce_result.is_empty()
        || plan.recorded_scans() == 0
    {
        return None;
    }
    // No lag may read a value an `ema` feeds: its halo would come from the guessed states.
    let mut from_ema = vec![false; program.nodes.len()];
    for (index, node) in program.nodes.iter().enumerate() {
        match node.kind {
            NodeKind::Lag { value, .. } if from_ema[value.index()] => return None,
            NodeKind::Scan { .. } => from_ema[index] = true,
            kind => from_ema[index] = kind.operands().iter().any(|id| from_ema[id.index()]),
        }
    }
    // Lags plus each `ema`'s warm-up along any path; any other scan is refused above.
    parallel::warm_up_with(program, |op| match op {
        ScanOp::Ema { alpha_bits } => Some(ema_warm_up(f64::from_bits(alpha_bits))),
        _ => None,
    })
}

/// The warm-up of one `ema(x, α)`: `53·ln 2 / −ln(1 − α)` rows shrink a difference as large
/// as the state below its last bit; half as many again for margin (rounded up; one row for
/// α = 1, which forgets its state at once).
fn ema_warm_up(alpha: f64) -> u64 {
    let per_row = -(-alpha).ln_1p();
    if !per_row.is_finite() {
        return 1;
    }
    let rows = (1.5 * 53.0 * std::f64::consts::LN_2 / per_row).ceil();
    // `as` saturates; a tiny α's warm-up exceeds any range, which keeps the loop whole.
    (rows as u64).max(1)
}

/// Runs `fused` over `ranges` (from [`Parallelism::ranges`] with [`warm_up`]'s warm-up) on
/// the pool, then checks the ranges in row order and runs again each one whose `ema`s did not
/// start from the state the previous range left (see the module comment).
///
/// # Safety
/// As `NativeKernel::run` for every range; the ranges are disjoint with edges on 64-row
/// multiples.
pub(super) unsafe fn run(
    fused: &Fused,
    inputs: &[Binding<'_>],
    rows: usize,
    ranges: &[RowRange],
    out: OutputTarget,
    extra_outputs: &[OutputTarget],
    parallelism: Parallelism,
) {
    let scans = fused.plan().recorded_scans();
    let words = ScanRecord::total_words(scans);
    let mut records: Vec<Vec<u64>> = parallelism.run(ranges, |range| {
        let mut records = vec![0; words];
        // SAFETY: forwarded from the caller; the ranges are disjoint with 64-row edges.
        unsafe { fused.run_with_scan_records((inputs, rows), range, (out, extra_outputs), &mut records) };
        records
    });
    // A scan's state in its record: its value word and the `started` word after it.
    let state = |part: ScanRecord, scan: usize| part.word(scan)..part.word(scan) + 2;
    for index in 1..ranges.len() {
        let (before, after) = records.split_at_mut(index);
        let (previous, current) = (&before[index - 1], &mut after[0]);
        let agrees = (0..scans).all(|scan| {
            previous[state(ScanRecord::ExitValue, scan)] == current[state(ScanRecord::EntryValue, scan)]
        });
        if agrees {
            continue;
        }
        current[SCAN_RECORD_MODE] = 1;
        for scan in 0..scans {
            current[state(ScanRecord::EntryValue, scan)]
                .copy_from_slice(&previous[state(ScanRecord::ExitValue, scan)]);
        }
        // SAFETY: forwarded from the caller; every range has finished, so this thread alone
        // writes the range's rows.
        unsafe { fused.run_with_scan_records((inputs, rows), ranges[index], (out, extra_outputs), current) };
        #[cfg(test)]
        RERUNS.set(RERUNS.get() + 1);
    }
    #[cfg(test)]
    RUNS.set(RUNS.get() + 1);
}

#[cfg(test)]
thread_local! {
    /// The ranges `run` ran again on this thread (tests read it).
    static RERUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// How many times `run` ran on this thread (tests read it).
    static RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bindings, ColumnValues, Engine, EngineConfig};

    /// A random walk around 100 (xorshift, so the test needs no generator crate).
    fn walk(rows: usize) -> Vec<f64> {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut price = 100.0;
        (0..rows)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                price *= 1.0 + ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.02;
                price
            })
            .collect()
    }

    /// `source` over `x` on one thread and on two (eight ranges): the bits of every row, and
    /// how many ranges the two-thread run ran again.
    fn one_and_two_threads(source: &str, x: &[f64]) -> (Vec<u64>, Vec<u64>, usize) {
        let engine = |threads| {
            let config = EngineConfig::default().with_threads(Some(threads)).with_min_rows_per_thread(64);
            Engine::with_config(config).unwrap()
        };
        let mut bindings = Bindings::new();
        bindings.column("x", x);
        let bits = |engine: &Engine| {
            let column = engine.compile(source).unwrap().eval(&bindings).unwrap();
            let ColumnValues::F64(values) = column.values else { panic!("an f64 result") };
            values.iter().map(|value| value.to_bits()).collect::<Vec<u64>>()
        };
        let one = bits(&engine(1));
        RERUNS.set(0);
        RUNS.set(0);
        let two = bits(&engine(2));
        assert_eq!(RUNS.get(), 1, "{source}: the two-thread run speculated");
        (one, two, RERUNS.get())
    }

    #[test]
    fn warm_ups_follow_alpha() {
        assert_eq!(ema_warm_up(1.0), 1);
        assert_eq!(ema_warm_up(0.5), 80);
        assert_eq!(ema_warm_up(0.1), 524);
        assert_eq!(ema_warm_up(0.02), 2728);
        assert_eq!(ema_warm_up(1e-300), u64::MAX);
    }

    #[test]
    fn ranges_start_from_the_single_threads_state_without_running_again() {
        let x = walk(80_000);
        for source in [
            "ema(x, 2/13) - ema(x, 2/27)",
            "d = diff(x, 1); up = ema(max(d, 0), 1/14); down = ema(max(-d, 0), 1/14); 100 - 100 / (1 + up / down)",
            "where(ema(x, 0.1) > ema(x, 0.02), 1.0, -1.0)",
            "ema(ema(x, 0.5), 0.2) + ema(lag(x, 3) * 2, 0.3)",
        ] {
            let (one, two, reruns) = one_and_two_threads(source, &x);
            assert_eq!(one, two, "{source}");
            assert_eq!(reruns, 0, "{source}");
        }
    }

    #[test]
    fn emas_over_nulls_split_too_and_keep_the_bits() {
        // Every seventh row null: each `ema` is a runtime call (`is_inline_scan` refuses an
        // operand with nulls), its state kept over the null rows.
        let x = walk(80_000);
        let validity: Vec<u8> = (0..80_000usize)
            .collect::<Vec<_>>()
            .chunks(8)
            .map(|rows| {
                rows.iter().enumerate().fold(0u8, |byte, (bit, &row)| byte | u8::from(row % 7 != 3) << bit)
            })
            .collect();
        let engine = |threads| {
            let config = EngineConfig::default().with_threads(Some(threads)).with_min_rows_per_thread(64);
            Engine::with_config(config).unwrap()
        };
        let mut bindings = Bindings::new();
        bindings.column_with_validity("x", &x[..], crate::Validity::new(&validity, 0));
        for source in
            ["ema(x, 0.1)", "ema(x, 2/13) - ema(x, 2/27)", "ema(x * 2, 0.3) + ema(ema(x, 0.5), 0.2)"]
        {
            let bits = |engine: &Engine| {
                let column = engine.compile(source).unwrap().eval(&bindings).unwrap();
                let ColumnValues::F64(values) = &column.values else { panic!("an f64 result") };
                let valid: Vec<bool> = (0..values.len()).map(|row| column.is_valid(row)).collect();
                (values.iter().map(|value| value.to_bits()).collect::<Vec<u64>>(), valid)
            };
            let one = bits(&engine(1));
            RERUNS.set(0);
            RUNS.set(0);
            let two = bits(&engine(2));
            assert_eq!(RUNS.get(), 1, "{source}: the two-thread run speculated");
            assert_eq!(one.1, two.1, "{source}: validity");
            for row in 0..x.len() {
                if one.1[row] {
                    assert_eq!(one.0[row], two.0[row], "{source}: row {row}");
                }
            }
            assert_eq!(RERUNS.get(), 0, "{source}");
        }
    }

    #[test]
    fn a_range_whose_warm_up_did_not_forget_runs_again_from_the_previous_state() {
        // Eight ranges of 10 000 rows; `ema(x, 0.1)` warms up over 524 rows. A spike 1 000
        // rows before the second range is still 10²⁵⁴ there in the single thread's state,
        // but not in the second range's warm-up: that range runs again, the third does not.
        let mut x = walk(80_000);
        x[9_000] = 1e300;
        let (one, two, reruns) = one_and_two_threads("ema(x, 0.1) * 2", &x);
        assert!(f64::from_bits(one[10_000]) > 1e250);
        assert_eq!(one, two);
        assert_eq!(reruns, 1);
        // A NaN is never forgotten: every range after it runs again.
        x[9_000] = f64::NAN;
        let (one, two, reruns) = one_and_two_threads("ema(x, 0.1) * 2", &x);
        assert!(f64::from_bits(one[79_999]).is_nan());
        assert_eq!(one, two);
        assert_eq!(reruns, 7);
    }
}
