//! Parallel evaluation: a loop's rows split into ranges with edges on 64-row multiples, each
//! run on the evaluation pool with a warm-up over the rows before it, so that the result is
//! the same bits whatever the thread count.
//!
//! Why it is exact:
//! - a row-local or lagged value at row `r` depends only on input rows `r − lookback ..= r`,
//!   and the kernel reads inputs by absolute row, so lags of inputs read the real rows before
//!   a range; lags of computed values read halos that the warm-up `[first − warm_up, first)`
//!   fills;
//! - a window's state resumed at the warm-up's first row gives the whole column's bits after
//!   `ScanOp::warm_up` rows (proved in `ScanOp::warm_up`, tested in `column_semantics`);
//!   cumulative ops and `ema` carry state from row 0, so a loop with one runs on one thread;
//! - reductions merge 64-row chunks in a tree fixed by chunk index; each range returns its
//!   subtrees and they are absorbed in row order (`ReduceState::absorb`);
//! - ranges write disjoint rows, and their edges are multiples of 64 rows, so no two threads
//!   write one validity byte.
//!
//! The pool is rayon's: work stealing keeps both cores busy when ranges take unequal time,
//! scoped tasks borrow the caller's columns without copying or `'static` bounds, and a
//! caller that is itself a pool worker (nested evaluation) runs its tasks instead of
//! blocking on them, so nesting cannot deadlock. One pool per thread count asked for, each
//! created once per process and never per call.

use crate::codegen::RowRange;
use crate::ir::column_semantics::CHUNK_ROWS;
use crate::ir::{NodeKind, Program, Shape};
use rayon::prelude::*;
use std::sync::{Arc, Mutex, PoisonError};

/// How an engine splits work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Parallelism {
    /// Threads to use (1: the caller's thread only).
    pub(super) threads: usize,
    /// A column is split only into ranges of at least this many rows.
    pub(super) min_rows_per_thread: usize,
}

impl Parallelism {
    /// The ranges to run `rows` rows of a loop whose rows reach back `warm_up` rows (`None`:
    /// it carries state from row 0): one range, the whole column, when it should not be
    /// split.
    pub(super) fn ranges(self, rows: usize, warm_up: Option<usize>) -> Vec<RowRange> {
        let tasks = self.threads.min(rows / self.min_rows_per_thread.max(1));
        let Some(warm_up) = warm_up.filter(|_| tasks > 1) else {
            return vec![RowRange::whole(rows)];
        };
        let step = rows.div_ceil(tasks).next_multiple_of(CHUNK_ROWS);
        // A warm-up longer than the range would compute most rows twice.
        if warm_up > step {
            return vec![RowRange::whole(rows)];
        }
        (0..rows)
            .step_by(step)
            .map(|first| RowRange {
                warm_from: first.saturating_sub(warm_up),
                first,
                last: (first + step).min(rows),
            })
            .collect()
    }

    /// `task` run for every range, on the pool when there are several; results in range
    /// order.
    pub(super) fn run<T: Send>(self, ranges: &[RowRange], task: impl Fn(RowRange) -> T + Sync) -> Vec<T> {
        if ranges.len() <= 1 {
            return ranges.iter().map(|&range| task(range)).collect();
        }
        match pool(self.threads) {
            Some(pool) => pool.install(|| ranges.par_iter().map(|&range| task(range)).collect()),
            // No pool could be made (threads refused by the OS): the caller does the work.
            None => ranges.iter().map(|&range| task(range)).collect(),
        }
    }
}

/// The rows before a row that a loop over `program` must compute to get that row right: the
/// largest, over its nodes, of the lags and window warm-ups along any path. `None` when a
/// cumulative op or `ema` carries state from row 0, or the result is a scalar.
pub(super) fn warm_up(program: &Program) -> Option<usize> {
    if program.result_type().shape == Shape::Scalar {
        return None;
    }
    let mut reach: Vec<u64> = Vec::with_capacity(program.nodes.len());
    for node in &program.nodes {
        let of = |id: crate::ir::NodeId| reach[id.index()];
        let rows = match node.kind {
            NodeKind::Input { .. } | NodeKind::Const(_) => 0,
            NodeKind::Lag { value, k } => of(value).saturating_add(u64::from(k)),
            NodeKind::Scan { op, arg } => of(arg).saturating_add(op.warm_up()?),
            kind => kind.operands().into_iter().map(of).max().unwrap_or(0),
        };
        reach.push(rows);
    }
    usize::try_from(reach.into_iter().max().unwrap_or(0)).ok()
}

/// The pool of `threads` workers, created on first use.
fn pool(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    static POOLS: Mutex<Vec<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(Vec::new());
    let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, pool)) = pools.iter().find(|(size, _)| *size == threads) {
        return Some(pool.clone());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|index| format!("fusejit-{index}"))
        .build()
        .ok()?;
    let pool = Arc::new(pool);
    pools.push((threads, pool.clone()));
    Some(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_have_64_row_edges_cover_every_row_and_respect_the_thresholds() {
        let parallel = Parallelism { threads: 3, min_rows_per_thread: 100 };
        let ranges = parallel.ranges(1000, Some(5));
        assert_eq!(
            ranges,
            [
                RowRange { warm_from: 0, first: 0, last: 384 },
                RowRange { warm_from: 379, first: 384, last: 768 },
                RowRange { warm_from: 763, first: 768, last: 1000 },
            ]
        );
        // Too few rows per thread, a carried state, a warm-up longer than a range: one range.
        assert_eq!(parallel.ranges(199, Some(0)), [RowRange::whole(199)]);
        assert_eq!(parallel.ranges(1000, None), [RowRange::whole(1000)]);
        assert_eq!(parallel.ranges(1000, Some(385)), [RowRange::whole(1000)]);
        let one = Parallelism { threads: 1, min_rows_per_thread: 1 };
        assert_eq!(one.ranges(1 << 20, Some(0)), [RowRange::whole(1 << 20)]);
        assert_eq!(parallel.ranges(0, Some(0)), [RowRange::whole(0)]);
        // Seven threads over 130 rows of at least 1: ranges of 64.
        let seven = Parallelism { threads: 7, min_rows_per_thread: 1 };
        let firsts: Vec<usize> = seven.ranges(130, Some(0)).iter().map(|range| range.first).collect();
        assert_eq!(firsts, [0, 64, 128]);
    }
}
