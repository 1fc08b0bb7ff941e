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
//!   `cummax`/`cummin` and integer `cumsum` are carried into each range in two phases
//!   (`carried_scans`); an `ema` in the row loop starts afresh over a long warm-up and is
//!   checked against the range before (`speculated_scans`); a float `cumsum`, `cumprod` and
//!   an `ema` over nulls (a runtime call) carry state from row 0, so a loop with one runs on
//!   one thread;
//! - reductions merge 64-row chunks in a tree fixed by chunk index; each range returns its
//!   subtrees and they are absorbed in row order (`ReduceState::absorb`);
//! - ranges write disjoint rows, and their edges are multiples of 64 rows, so no two threads
//!   write one validity byte.
//!
//! The pool: one per thread count asked for (`threads − 1` workers), created once per
//! process, never per call. Its workers are rayon's: threads that sleep when idle and wake
//! on `spawn`, the pool most Rust data tools already carry (Polars runs on one); a small
//! owned pool would serve as well, since `Parallelism::run` only spawns one helper job per
//! worker and hands out ranges itself. The caller's thread always works too, so an
//! evaluation never waits for a worker to wake, and one nested inside any thread pool
//! (another rayon pool's task, a caller among many) cannot deadlock: it makes progress on
//! its own thread and waits only for ranges a worker has already taken.

use crate::codegen::RowRange;
use crate::ir::column_semantics::CHUNK_ROWS;
use crate::ir::{NodeKind, Program, ScanOp, Shape};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};

/// How an engine splits work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Parallelism {
    /// Threads to use (1: the caller's thread only).
    pub(super) threads: usize,
    /// `EngineConfig::min_rows_per_thread`: see `Parallelism::ranges`.
    pub(super) min_rows_per_thread: usize,
}

impl Parallelism {
    /// The ranges to run `rows` rows of a loop whose rows reach back `warm_up` rows (`None`:
    /// it carries state from row 0): one range, the whole column, when it should not be
    /// split. `cost` is the loop's estimated time per row ([`Cost`]): a column is split when
    /// each of two threads gets `min_rows_per_thread` rows of a loop of `Cost::REFERENCE` (a
    /// `dlog`), proportionally more of a cheaper loop, since a worker's share must repay
    /// waking it. It is then cut into up to `RANGES_PER_THREAD` ranges per thread, each at
    /// least a quarter of that, so that the threads, taking ranges as they come free, end
    /// together.
    pub(super) fn ranges(self, rows: usize, warm_up: Option<usize>, cost: Cost) -> Vec<RowRange> {
        let min_rows = self.min_rows(cost);
        let split = self.splits(rows, cost);
        let tasks = if split {
            (self.threads * RANGES_PER_THREAD)
                .min(rows / min_rows.div_ceil(RANGES_PER_THREAD).max(CHUNK_ROWS))
        } else {
            1
        };
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

    /// Whether `rows` rows could be split at all, whatever the loop: on one thread, or with
    /// fewer rows than two chunks (`ranges` cuts at chunk edges), they run as one range. A
    /// short evaluation learns this without walking its program for a `Cost`.
    pub(super) fn may_split(self, rows: usize) -> bool {
        self.threads > 1 && rows >= 2 * CHUNK_ROWS
    }

    /// Whether `rows` rows of a loop of `cost` are worth splitting (before warm-ups).
    pub(super) fn splits(self, rows: usize, cost: Cost) -> bool {
        self.may_split(rows) && rows / self.min_rows(cost) >= 2
    }

    /// The rows each of two threads must get, for a loop of `cost`.
    fn min_rows(self, cost: Cost) -> usize {
        let scale = Cost::REFERENCE.0 / cost.0.max(Cost::REFERENCE.0 / 64.0);
        (self.min_rows_per_thread.max(1) as f64 * scale).ceil() as usize
    }

    /// `task` run for every range, by the caller and up to `threads − 1` pool workers, each
    /// taking the next range in order as it becomes free; results in range order.
    ///
    /// The caller works too, at once, and waits only for ranges a worker has taken: a worker
    /// that wakes late (a sleeping thread takes tens of microseconds to run again, sometimes
    /// milliseconds on a busy host) finds no range left and touches nothing, where a scoped
    /// join would make the caller wait for it to wake.
    pub(super) fn run<T: Send + Sync>(
        self,
        ranges: &[RowRange],
        task: impl Fn(RowRange) -> T + Sync,
    ) -> Vec<T> {
        let pool = if ranges.len() > 1 { pool(self.threads - 1) } else { None };
        // One range, or no pool could be made (threads refused by the OS): the caller does it.
        let Some(pool) = pool else {
            return ranges.iter().map(|&range| task(range)).collect();
        };
        let results: Vec<OnceLock<T>> = ranges.iter().map(|_| OnceLock::new()).collect();
        let next = AtomicUsize::new(0);
        let work = || {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(&range) = ranges.get(index) else { break };
                // Each index is taken once, so each cell is set once.
                let _ = results[index].set(task(range));
            }
        };
        let work: &(dyn Fn() + Sync) = &work;
        // SAFETY: the erased reference is dereferenced only by a helper that registered in
        // `in_flight` while `job` was set; `Helpers::close` clears `job` and waits until
        // `in_flight` is zero before this function returns, so every dereference happens
        // while `work` and what it borrows are alive.
        let job: &'static (dyn Fn() + Sync) = unsafe { std::mem::transmute(work) };
        let helpers = Arc::new(Helpers {
            state: Mutex::new(HelperState { job: Some(job), in_flight: 0, panic: None }),
            done: Condvar::new(),
        });
        for _ in 1..self.threads.min(ranges.len()) {
            let helpers = helpers.clone();
            pool.spawn(move || helpers.help());
        }
        // Closes the door on late helpers even if a task panics on this thread.
        let closer = CloseOnDrop(&helpers);
        work();
        drop(closer);
        // A task that panicked on a worker panics here, on the caller's thread, as if it
        // had run here (a worker's panic would otherwise abort the process).
        let panic = helpers.state.lock().unwrap_or_else(PoisonError::into_inner).panic.take();
        if let Some(payload) = panic {
            std::panic::resume_unwind(payload);
        }
        results.into_iter().map(|cell| cell.into_inner().expect("every range ran")).collect()
    }
}

/// The helpers of one `Parallelism::run`: the job while it is open, and how many helpers are
/// running it.
struct Helpers {
    state: Mutex<HelperState>,
    done: Condvar,
}

struct HelperState {
    job: Option<&'static (dyn Fn() + Sync)>,
    in_flight: usize,
    /// The first panic of a helper's job, for the caller to resume.
    panic: Option<Box<dyn std::any::Any + Send>>,
}

impl Helpers {
    /// A pool worker's part: run the job if it is still open.
    fn help(&self) {
        let job = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(job) = state.job else { return };
            state.in_flight += 1;
            job
        };
        // Leaves `in_flight` even if the job panics, so the caller is not kept waiting.
        struct Leave<'a>(&'a Helpers);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
                state.in_flight -= 1;
                if state.in_flight == 0 {
                    self.0.done.notify_all();
                }
            }
        }
        let _leave = Leave(self);
        if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)) {
            self.state.lock().unwrap_or_else(PoisonError::into_inner).panic.get_or_insert(payload);
        }
    }

    /// Closes the job to helpers that have not started and waits for those that have.
    fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.job = None;
        while state.in_flight > 0 {
            state = self.done.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

struct CloseOnDrop<'a>(&'a Helpers);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The rows before a row that a loop over `program` must compute to get that row right: the
/// largest, over its nodes, of the lags of computed values and the window warm-ups along
/// any path. `None` when a cumulative op or `ema` carries state from row 0, or the result is
/// a scalar.
pub(super) fn warm_up(program: &Program) -> Option<usize> {
    warm_up_with(program, ScanOp::warm_up)
}

/// [`warm_up`] with each scan's own warm-up as `scan_warm_up` says (`None`: the scan carries
/// state from row 0, and the loop has no warm-up): the lags and scan warm-ups along any path.
///
/// A lag of an input column (or a lag of such a lag) needs no warm-up however long it is:
/// the kernel reads it from the input `k` rows back, by absolute row (`fuse_loops`), before
/// the range as inside it. Counting it made `x - lag(x, 200000)` run on one thread at 1M
/// rows, its warm-up longer than a range.
pub(super) fn warm_up_with(program: &Program, scan_warm_up: impl Fn(ScanOp) -> Option<u64>) -> Option<usize> {
    if program.result_type().shape == Shape::Scalar {
        return None;
    }
    let mut reach: Vec<u64> = Vec::with_capacity(program.nodes.len());
    // A lag (or a chain of lags) of an input column reads the input where it lies.
    let lags_an_input = |value: crate::ir::NodeId| {
        let base = program.node(program.resolve_lags(value).0);
        matches!(base.kind, NodeKind::Input { .. }) && base.ty.shape == Shape::Column
    };
    for node in &program.nodes {
        let of = |id: crate::ir::NodeId| reach[id.index()];
        let rows = match node.kind {
            NodeKind::Input { .. } | NodeKind::Const(_) => 0,
            NodeKind::Lag { value, .. } if lags_an_input(value) => 0,
            NodeKind::Lag { value, k } => of(value).saturating_add(u64::from(k)),
            NodeKind::Scan { op, arg } => of(arg).saturating_add(scan_warm_up(op)?),
            kind => kind.operands().into_iter().map(of).max().unwrap_or(0),
        };
        reach.push(rows);
    }
    usize::try_from(reach.into_iter().max().unwrap_or(0)).ok()
}

/// A loop's estimated time per row in nanoseconds, from its stages: enough to tell a
/// memory-bound `x*a` (its traffic, `STREAMING_LOOP`, which a second thread speeds up only
/// from about a million rows) from a `dlog` (two) or a window (several). On the development
/// machine a second thread made `x*a` faster only from about 1M rows (slower at 512K),
/// `(x-y)*a+b` from about 800K, `dlog(x,1)*a+b` and the reductions from about 128K, and
/// `mavg(x,20)` from about 64K (`examples/thread_threshold`, docs/PERFORMANCE.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Cost(pub(super) f64);

impl Cost {
    /// What `min_rows_per_thread` is the range length for: `dlog(x,1)*a+b`.
    pub(super) const REFERENCE: Cost = Cost(2.0);
    /// Reducing an input column where it lies (two passes over each 64-row chunk for `var`).
    pub(super) const REDUCE_COLUMN: Cost = Cost(1.0);
    /// The least a row loop costs, however few its nodes: its columns' memory traffic. A
    /// second thread made `x*a` faster from about the rows it made `(x-y)*a+b` faster
    /// (three nodes, 0.3), on both machines measured (docs/PERFORMANCE.md, "Threads").
    pub(super) const STREAMING_LOOP: Cost = Cost(0.3);

    /// The estimate for `plan`: per fused node a tenth of a nanosecond (half of one for a
    /// division, a remainder or a square root, and for their block calls; a centred
    /// division's call is its subtraction and its division; 1.5 for a row loop's first
    /// `ema`, whose rows wait on each other, 0.3 for each other one, whose chain runs beside
    /// it), per math
    /// function over a block 1.5, per
    /// window or scan 3, and 1 for feeding reductions.
    pub(super) fn of(plan: &crate::passes::fuse_loops::LoopPlan) -> Cost {
        use crate::ir::{BinaryOp, UnaryOp};
        use crate::passes::fuse_loops::{BlockFunction, Stage};
        let node_cost = |id: &crate::ir::NodeId| match plan.program.node(*id).kind {
            NodeKind::Binary { op: BinaryOp::Div | BinaryOp::FloorDiv | BinaryOp::Mod, .. }
            | NodeKind::Unary { op: UnaryOp::Sqrt, .. } => 0.5,
            // An inline `ema` past a loop's first: its chain runs beside the first's.
            NodeKind::Scan { .. } => 0.3,
            _ => 0.1,
        };
        // A loop's first inline `ema`: a dependent multiply and add a row.
        let chain = |nodes: &[crate::ir::NodeId]| {
            let scans = nodes.iter().any(|id| matches!(plan.program.node(*id).kind, NodeKind::Scan { .. }));
            if scans { 1.2 } else { 0.0 }
        };
        let stages: f64 = plan
            .stages
            .iter()
            .map(|stage| match stage {
                Stage::Loop { nodes, .. } => {
                    (chain(nodes) + nodes.iter().map(node_cost).sum::<f64>()).max(Cost::STREAMING_LOOP.0)
                }
                Stage::BlockCall { function: BlockFunction::Divide | BlockFunction::SquareRoot, .. } => 0.5,
                Stage::BlockCall { function: BlockFunction::CenteredDivide, .. } => 0.6,
                Stage::BlockCall { .. } => 1.5,
                Stage::ScanCall { .. } => 3.0,
            })
            .sum();
        let reduces = if plan.reduce_result.is_empty() { 0.0 } else { 1.0 };
        Cost(stages + reduces)
    }
}

/// Ranges per thread: more ranges than threads let a thread that runs faster (its data in
/// cache, its core less busy) take more of them.
const RANGES_PER_THREAD: usize = 4;

/// The pool of `workers` threads (besides the caller), created on first use.
fn pool(workers: usize) -> Option<Arc<rayon::ThreadPool>> {
    let threads = workers;
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
        let parallel = Parallelism { threads: 3, min_rows_per_thread: 400 };
        let heavy = Cost::REFERENCE;
        let ranges = parallel.ranges(1000, Some(5), heavy);
        // Two threads' worth of 400 rows: split into ranges of at least 100 (rounded up to
        // 64-row edges), at most 4 per thread.
        let firsts: Vec<usize> = ranges.iter().map(|range| range.first).collect();
        assert_eq!(firsts, [0, 128, 256, 384, 512, 640, 768, 896]);
        for (index, range) in ranges.iter().enumerate() {
            assert_eq!(range.warm_from, range.first.saturating_sub(5));
            let last = ranges.get(index + 1).map_or(1000, |next| next.first);
            assert_eq!(range.last, last);
        }
        let few = Parallelism { threads: 2, min_rows_per_thread: 32_768 };
        assert_eq!(few.ranges(1 << 20, Some(0), heavy).len(), 8);
        assert_eq!(few.ranges(65_536, Some(0), heavy).len(), 8);
        assert_eq!(few.ranges(65_535, Some(0), heavy).len(), 1);
        // A loop a tenth as costly needs ten times the rows.
        assert_eq!(few.ranges(655_360 - 1, Some(0), Cost(0.2)).len(), 1);
        assert_eq!(few.ranges(655_360, Some(0), Cost(0.2)).len(), 8);
        // Too few rows, a carried state, a warm-up longer than a range: one range.
        assert_eq!(parallel.ranges(799, Some(0), heavy), [RowRange::whole(799)]);
        assert_eq!(parallel.ranges(1000, None, heavy), [RowRange::whole(1000)]);
        assert_eq!(parallel.ranges(1000, Some(129), heavy), [RowRange::whole(1000)]);
        let one = Parallelism { threads: 1, min_rows_per_thread: 1 };
        assert_eq!(one.ranges(1 << 20, Some(0), heavy), [RowRange::whole(1 << 20)]);
        assert_eq!(parallel.ranges(0, Some(0), heavy), [RowRange::whole(0)]);
        // Ranges are never shorter than 64 rows: 130 rows make two (of 128 and 2).
        let seven = Parallelism { threads: 7, min_rows_per_thread: 1 };
        let firsts: Vec<usize> = seven.ranges(130, Some(0), heavy).iter().map(|range| range.first).collect();
        assert_eq!(firsts, [0, 128]);
        let firsts: Vec<usize> = seven.ranges(640, Some(0), heavy).iter().map(|range| range.first).collect();
        assert_eq!(firsts, (0..640).step_by(64).collect::<Vec<_>>());
    }

    /// The loop plan of `source` over f64 columns `x` and `y`, each bound as a plain column.
    fn plan_of(source: &str) -> crate::passes::fuse_loops::LoopPlan {
        let mut schema = crate::check::Schema::new();
        schema.insert("x", crate::types::Type::column(crate::types::Elem::F64));
        schema.insert("y", crate::types::Type::column(crate::types::Elem::F64));
        let ast = crate::syntax::parse_program(source).unwrap();
        let program = crate::passes::optimize(crate::check::check(&ast, &schema).unwrap()).unwrap();
        let forms = vec![crate::passes::fuse_loops::InputForm::default(); program.inputs.len()];
        crate::passes::fuse_loops::plan(&program, &forms)
    }

    /// `LoopPlan::block_alignment`: the block loop's calls start on whole groups of windows.
    #[test]
    fn blocks_start_on_whole_groups_of_window_blocks() {
        let alignment = |source: &str| plan_of(source).block_alignment();
        assert_eq!(alignment("mavg(x, 20) + 1"), Some(80));
        assert_eq!(alignment("msum(x * y, 20) / msum(y, 20)"), Some(80));
        assert_eq!(alignment("(x - mavg(x, 20)) / mstd(x, 20)"), Some(80));
        // Two windows: their groups' least common multiple.
        assert_eq!(alignment("msum(x, 20) + mavg(y, 30)"), Some(240));
        assert_eq!(alignment("mstd(x, 128)"), Some(512));
        // Written blocks start on bitmap bytes: 12-row groups make 24-row multiples.
        assert_eq!(alignment("msum(x, 3) * 2"), Some(24));
        // Longer than a block, alone or together: blocks of 512 rows from the range's start.
        assert_eq!(alignment("mstd(x, 129)"), None);
        assert_eq!(alignment("msum(x, 100) + msum(y, 30)"), None);
        assert_eq!(alignment("mavg(x, 20) + msum(y, 600)"), None);
        // Extremes run whole blocks of one window: 20 rows, 8 for bitmap bytes.
        assert_eq!(alignment("mmax(x, 20) - cumsum(y) + ema(x, 0.1)"), Some(40));
        assert_eq!(alignment("mmin(x, 30) + msum(y, 20)"), Some(240));
        // No window: cumulative ops and emas have no blocks.
        assert_eq!(alignment("cumsum(x) + ema(y, 0.1)"), None);
        assert_eq!(alignment("x * 2"), None);
        // A first pass that reduces its result: blocks on whole groups of chunks where its
        // windows allow, else on the windows' groups.
        let reducing = |source: &str| {
            let plan = plan_of(source);
            let ops = [crate::ir::ReduceOp::Sum];
            crate::passes::fuse_loops::plan_reduction(&plan.program, &plan.input_forms, &ops)
                .expect("a computed result")
                .block_alignment()
        };
        assert_eq!(reducing("x * y"), Some(512));
        assert_eq!(reducing("mstd(x, 128) * y"), Some(512));
        assert_eq!(reducing("mavg(x, 20) * y"), Some(80));
    }

    #[test]
    fn lags_of_input_columns_need_no_warm_up_and_lags_of_computed_values_do() {
        let warm_up = |source: &str| warm_up(&plan_of(source).program);
        // Read from the input, before a range as inside it, however long.
        assert_eq!(warm_up("x - lag(x, 200000)"), Some(0));
        assert_eq!(warm_up("lag(lag(x, 3), 4) * y"), Some(0));
        assert_eq!(warm_up("lag(x - y, 7)"), Some(0)); // pushed to the inputs first
        // A lag of a computed value reads a halo the warm-up fills; a window warms up too.
        assert_eq!(warm_up("lag(ln(x), 5)"), Some(5));
        assert_eq!(warm_up("lag(ln(x), 5) + lag(x, 900)"), Some(5));
        let window = warm_up("mavg(x, 20)").expect("a window warms up");
        assert!(window >= 19, "{window}");
        assert_eq!(warm_up("mavg(lag(x, 1000), 20)"), Some(window));
        assert_eq!(warm_up("lag(mavg(x, 20), 3)"), Some(window + 3));
        assert_eq!(warm_up("cumsum(x) + lag(x, 2)"), None);
    }

    #[test]
    fn a_loops_emas_cost_one_chain_and_a_little_more_each() {
        let cost = |source: &str| Cost::of(&plan_of(source)).0;
        assert!((cost("ema(x, 0.1)") - 1.5).abs() < 1e-9, "{}", cost("ema(x, 0.1)"));
        // Two chains side by side and a subtraction: 1.5 + 0.3 + 0.1, not 1.5 + 1.5 + 0.1.
        let macd = cost("ema(x, 2/13) - ema(x, 2/27)");
        assert!((macd - 1.9).abs() < 1e-9, "{macd}");
    }

    #[test]
    fn a_streaming_loop_costs_its_memory_traffic_and_splits_from_a_million_rows() {
        let cost = |source: &str| Cost::of(&plan_of(source));
        // One multiply costs what three arithmetic nodes cost: the loop's traffic.
        assert_eq!(cost("x * 2"), Cost::STREAMING_LOOP);
        assert!((cost("(x - y) * 2 + 1").0 - 0.3).abs() < 1e-9, "{:?}", cost("(x - y) * 2 + 1"));
        let default = Parallelism { threads: 2, min_rows_per_thread: 65_536 };
        assert!(default.splits(1_000_000, cost("x * 2")));
        assert!(!default.splits(600_000, cost("x * 2")));
    }

    #[test]
    fn fewer_rows_than_two_chunks_never_split_whatever_the_cost() {
        // A loop so costly that 64 rows a thread would pay: still one range below two chunks,
        // and `may_split` says so without a cost.
        let eager = Parallelism { threads: 2, min_rows_per_thread: 1 };
        let heavy = Cost(Cost::REFERENCE.0 * 1000.0);
        assert!(!eager.may_split(2 * CHUNK_ROWS - 1));
        assert!(!eager.splits(2 * CHUNK_ROWS - 1, heavy));
        assert_eq!(eager.ranges(2 * CHUNK_ROWS - 1, Some(0), heavy).len(), 1);
        assert!(eager.may_split(2 * CHUNK_ROWS));
        assert!(eager.splits(2 * CHUNK_ROWS, heavy));
        assert_eq!(eager.ranges(2 * CHUNK_ROWS, Some(0), heavy).len(), 2);
        let one = Parallelism { threads: 1, ..eager };
        assert!(!one.may_split(1 << 20) && !one.splits(1 << 20, heavy));
    }

    #[test]
    fn a_task_that_panics_on_a_worker_panics_on_the_caller() {
        let parallel = Parallelism { threads: 2, min_rows_per_thread: 64 };
        let ranges = parallel.ranges(64 * 40, Some(0), Cost::REFERENCE);
        let caller = std::thread::current().id();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parallel.run(&ranges, |range| {
                // Slow enough that the worker takes some ranges.
                std::thread::sleep(std::time::Duration::from_millis(2));
                if std::thread::current().id() != caller {
                    panic!("range {} failed", range.first);
                }
                range.first
            })
        }));
        // The worker may wake only after the caller has taken every range: then nothing
        // panics and every range ran on the caller.
        match outcome {
            Ok(firsts) => assert_eq!(firsts.len(), ranges.len()),
            Err(payload) => assert!(payload.downcast_ref::<String>().is_some_and(|m| m.contains("failed"))),
        }
    }

    #[test]
    fn every_range_runs_once_and_results_come_in_range_order() {
        let parallel = Parallelism { threads: 3, min_rows_per_thread: 64 };
        let ranges = parallel.ranges(10_000, Some(0), Cost::REFERENCE);
        assert!(ranges.len() > 3);
        let firsts = parallel.run(&ranges, |range| range.first);
        assert_eq!(firsts, ranges.iter().map(|range| range.first).collect::<Vec<_>>());
    }
}
