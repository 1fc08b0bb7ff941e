//! The semantics of the stateful nodes — reductions and scans (windows, cumulative ops,
//! `ema`) — written once, over a column given as `len` and a row accessor. The interpreter and
//! the engine's multi-pass execution both call these functions, in the same row order, so
//! their results are the same bits by construction. Values arrive as f64 (f32 widened
//! exactly, bool as 0/1) and leave as f64; f32 results are rounded once by the caller.
//!
//! Numerical methods (docs/LANGUAGE.md states them for users):
//! - reductions work on 64-row chunks fixed by row index, combined in a binary tree fixed by
//!   chunk index ([`ReduceTree`]), so that ranges of rows reduced apart (threads) join into
//!   the very same tree. A sum adds each chunk with four accumulators, and each addition in
//!   the tree keeps its rounding error apart (TwoSum): error ≤ 2u·|Σx| +
//!   (17u + O(u²·log n))·Σ|x| (u = 2⁻⁵³), independent of the row count; `cumsum` is
//!   Neumaier-compensated row by row;
//! - variance takes each chunk's moments of `x − K` (`K` the chunk's first finite value:
//!   shift invariance removes the cancellation of a large mean), two-pass, merged in the tree
//!   with Chan, Golub and LeVeque's update after moving the right mean to the left shift;
//! - rolling sums and averages add a suffix of the previous `w`-row block to a prefix of the
//!   current one (O(1) per row, nothing subtracted, so nothing drifts: the error is that of
//!   summing the window directly); the rolling standard deviation updates Welford's moments in
//!   O(1) per row and recomputes them from the window every `w` rows, so rounding cannot drift
//!   for more than `w` updates, and counts non-finite values apart;
//! - rolling min/max take the extreme of the same suffix and prefix (van Herk/Gil-Werman):
//!   O(1) per row with no branches on the data, exact because `maximum`/`minimum` are.

use super::node::{ReduceOp, ScanOp};
use super::semantics::{maximum, minimum};
use crate::types::{Elem, Scalar};
use std::collections::VecDeque;

mod prefetch_ahead;
mod window_sum_groups;

pub use prefetch_ahead::PrefetchAhead;

/// The window blocks that `msum`/`mavg`/`mstd` feed side by side, one an AVX2 lane
/// (`window_sum_groups`): a block call fed from a multiple of this many windows takes whole
/// groups (`LoopPlan::block_alignment`).
pub const WINDOW_SUM_GROUP_BLOCKS: usize = 4;

/// The start of every running sum: −0 is IEEE addition's identity (−0 + x is x for every x,
/// +0 and −0 included), so the sum of the one value −0 is −0, as when it is written out.
/// (A sum of no values is +0; `reduce` says so separately.)
const SUM_IDENTITY: f64 = -0.0;

/// A Neumaier-compensated sum of finite values, with the non-finite ones counted apart.
#[derive(Debug, Clone, Copy)]
struct CompensatedSum {
    sum: f64,
    compensation: f64,
    /// How many of `nan`, `positive_infinities`, `negative_infinities` there are in all:
    /// zero on the fast path.
    non_finite: usize,
    nan: usize,
    positive_infinities: usize,
    negative_infinities: usize,
}

impl Default for CompensatedSum {
    fn default() -> Self {
        CompensatedSum {
            sum: SUM_IDENTITY,
            compensation: SUM_IDENTITY,
            non_finite: 0,
            nan: 0,
            positive_infinities: 0,
            negative_infinities: 0,
        }
    }
}

/// [`CompensatedSum::add`] then [`CompensatedSum::total`] for every value, from the running
/// `(sum, compensation)`, into `out`, for finite values whose running sums stay finite: the
/// state after the last row, or None (below). With `NULLS`, a row whose `validity` byte has
/// bit 0 clear adds −0 (which leaves the sum's bits as they are and adds no error) and is
/// written 0. None when the block needs the general path, where `out` is rewritten: a
/// non-finite value or an overflow leaves every later running sum non-finite (∞ stays ∞ or
/// meets −∞ and becomes NaN, and NaN stays NaN), so the last sum tells, and nothing needs
/// checking per row.
///
/// Why the bits are `add`'s and `total`'s:
/// - The error of each addition is Knuth's TwoSum, the same exact error as `add`'s Neumaier
///   ordering (it is exactly representable and both compute it exactly). The loop computes
///   its negation, `((t − back) − sum) + (back − x)`, and subtracts it: IEEE rounding is
///   symmetric, so that is `−error` whenever the error is not zero, and +0 when it is.
/// - So the compensation here equals `add`'s whenever that one is not zero, and is a zero
///   whenever that one is (either sign there). `total` adds a compensation only when it is
///   not zero; here `sum + compensation` is written without a test, which is the same
///   whenever the compensation is not zero, or the sum is not −0, or the compensation is −0.
/// - The sum is −0 only while every value so far was −0 (RN gives −0 for a sum only of two
///   −0s), and then each error is +0 and `−0 − (+0)` keeps a compensation of −0; a zero
///   compensation on entry is made −0. So a sum of −0 is written −0, as `total` does.
#[inline(always)]
fn add_finite_rows<const NULLS: bool>(
    (mut sum, compensation): (f64, f64),
    values: &[f64],
    validity: &[u8],
    out: &mut [f64],
) -> Option<(f64, f64)> {
    assert!(out.len() == values.len() && (!NULLS || validity.len() == values.len()));
    let mut compensation = if compensation == 0.0 { -0.0 } else { compensation };
    let mut non_finite = false;
    for (row, (&x, result)) in values.iter().zip(out.iter_mut()).enumerate() {
        if !NULLS {
            // Redundant (the last sum tells), yet the all-valid loop measured faster with it
            // than without, though it is more instructions; the loop with nulls measured
            // faster without it (docs/PERFORMANCE.md, "`cumsum`'s loops").
            non_finite |= !x.is_finite();
        }
        // The selects are bit masks, because LLVM makes a float select a branch, which
        // nulls scattered at random mispredict.
        let valid = !NULLS || validity[row] & 1 == 1;
        let x = valid_or_identity(x, valid);
        let t = sum + x;
        let back = t - sum;
        let negated_error = ((t - back) - sum) + (back - x);
        compensation -= negated_error;
        sum = t;
        let total = sum + compensation;
        *result = f64::from_bits(total.to_bits() & 0u64.wrapping_sub(u64::from(valid)));
    }
    (!non_finite && sum.is_finite()).then_some((sum, compensation))
}

impl CompensatedSum {
    #[inline]
    fn add(&mut self, x: f64) {
        if x.is_finite() {
            let t = self.sum + x;
            let error = if self.sum.abs() >= x.abs() { (self.sum - t) + x } else { (x - t) + self.sum };
            // Once the finite values overflow, the error term means nothing (∞ − ∞).
            if t.is_finite() {
                self.compensation += error;
            }
            self.sum = t;
        } else {
            self.non_finite += 1;
            if x.is_nan() {
                self.nan += 1;
            } else if x > 0.0 {
                self.positive_infinities += 1;
            } else {
                self.negative_infinities += 1;
            }
        }
    }

    /// `add(x)` then `total()` for every value of a block, into `out`, when every value is
    /// finite and so is every running sum, without a branch on the data
    /// ([`add_finite_rows`]). With `NULLS`, a null row adds −0 and is written null (0,
    /// validity 0): `validity` holds each row's validity on entry, its result's after (without
    /// `NULLS` it is empty). Returns false, leaving the state as it was, when the block needs
    /// [`add`](Self::add)'s general path (`out` is then rewritten).
    #[inline(always)]
    fn add_finite_block<const NULLS: bool>(
        &mut self,
        values: &[f64],
        validity: &mut [u8],
        out: &mut [f64],
    ) -> bool {
        if self.non_finite != 0 {
            return false;
        }
        let Some((sum, compensation)) =
            add_finite_rows::<NULLS>((self.sum, self.compensation), values, validity, out)
        else {
            return false;
        };
        (self.sum, self.compensation) = (sum, compensation);
        for valid in validity.iter_mut() {
            *valid &= 1;
        }
        true
    }

    #[inline]
    fn total(&self) -> f64 {
        if self.non_finite == 0 {
            // The finite values may have overflowed: the rounded sum is then the answer. A zero
            // compensation is not added, so that a sum of −0s stays −0.
            if self.sum.is_finite() && self.compensation != 0.0 {
                self.sum + self.compensation
            } else {
                self.sum
            }
        } else if self.nan > 0 || (self.positive_infinities > 0 && self.negative_infinities > 0) {
            f64::NAN
        } else if self.positive_infinities > 0 {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        }
    }
}

/// Stores row `offset`'s value in a window's ring, which grows to w entries during the
/// first w rows (so a window far longer than the column costs only the column's length).
#[inline(always)]
fn ring_store<T: Copy>(ring: &mut Vec<Option<T>>, offset: usize, x: Option<T>) {
    match ring.get_mut(offset) {
        Some(slot) => *slot = x,
        None => ring.push(x),
    }
}

/// One row of `msum`/`mavg`. Rows fall in blocks of w (by row index). A
/// window ending at offset o of block b is the suffix of block b − 1 from offset o + 1 plus
/// the prefix of block b up to o, each a running sum that restarts every block: no
/// subtraction, so nothing drifts (the error is that of summing the window directly,
/// ≤ (w−1)·u·Σ|x|) and ∞/NaN behave exactly as in a plain sum.
#[inline(always)]
fn block_sum_row(
    prefix: &mut (f64, u32),
    offset: usize,
    w: usize,
    ring: &mut Vec<Option<f64>>,
    suffix: &mut Vec<(f64, u32)>,
    is_sum: bool,
    x: Option<f64>,
) -> Option<f64> {
    if offset == 0 {
        *prefix = (SUM_IDENTITY, 0);
    }
    if let Some(x) = x {
        prefix.0 += x;
        prefix.1 += 1;
    }
    ring_store(ring, offset, x);
    // Before the first block completes there is no previous block: an empty suffix.
    let (before_sum, before_count) = suffix.get(offset + 1).copied().unwrap_or((SUM_IDENTITY, 0));
    let count = prefix.1 + before_count;
    let total = prefix.0 + before_sum;
    if offset == w - 1 {
        // This block is complete: its suffix sums serve the next block.
        fill_sum_suffixes(&ring[..w], suffix);
    }
    (count > 0).then(|| if is_sum { total } else { total / f64::from(count) })
}

/// `suffix[j]` = the sum and count of the valid values of the completed block `ring[j..]`,
/// added from the end (`suffix[w]` empty): what the next block's windows add to their prefix.
fn fill_sum_suffixes(ring: &[Option<f64>], suffix: &mut Vec<(f64, u32)>) {
    let w = ring.len();
    suffix.resize(w + 1, (SUM_IDENTITY, 0));
    let (mut sum, mut count) = (SUM_IDENTITY, 0u32);
    for j in (0..w).rev() {
        if let Some(x) = ring[j] {
            sum += x;
            count += 1;
        }
        suffix[j] = (sum, count);
    }
}

/// The mean of the finite values, in order; None when there are none (or it overflows).
fn finite_mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut mean = FiniteMean::EMPTY;
    values.for_each(|x| mean.push(x));
    mean.finish()
}

/// [`finite_mean`]'s running sum and count, for loops that sum the mean beside other work
/// (the same additions in the same order, so the same bits).
#[derive(Debug, Clone, Copy)]
struct FiniteMean {
    sum: f64,
    count: u32,
}

impl FiniteMean {
    const EMPTY: FiniteMean = FiniteMean { sum: SUM_IDENTITY, count: 0 };

    #[inline(always)]
    fn push(&mut self, x: f64) {
        if x.is_finite() {
            self.push_finite(x);
        }
    }

    /// [`push`](Self::push) of a value known to be finite.
    #[inline(always)]
    fn push_finite(&mut self, x: f64) {
        self.sum += x;
        self.count += 1;
    }

    /// The mean; None when no value was finite or the mean overflows.
    fn finish(self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / f64::from(self.count)).filter(|mean| mean.is_finite())
    }
}

/// Power sums of the finite values of part of a window about a shift K: Σ(x − K),
/// Σ(x − K)² and their count, with the non-finite values counted apart.
#[derive(Debug, Clone, Copy)]
struct PowerSums {
    s1: f64,
    s2: f64,
    finite: u32,
    non_finite: u32,
}

impl PowerSums {
    const EMPTY: PowerSums = PowerSums { s1: SUM_IDENTITY, s2: SUM_IDENTITY, finite: 0, non_finite: 0 };

    #[inline(always)]
    fn push(&mut self, x: Option<f64>, shift: f64) {
        if let Some(x) = x {
            if x.is_finite() {
                self.push_finite(x, shift);
            } else {
                self.non_finite += 1;
            }
        }
    }

    /// [`push`](Self::push) of a value known to be valid and finite.
    #[inline(always)]
    fn push_finite(&mut self, x: f64, shift: f64) {
        let d = x - shift;
        self.s1 += d;
        self.s2 += d * d;
        self.finite += 1;
    }

    /// The population standard deviation of the window made of `self` and `other` (both
    /// about the same shift): `√((n·S2 − S1²) / n²)`, NaN with a non-finite value, null with
    /// no valid value.
    #[inline(always)]
    fn std_with(self, other: PowerSums) -> Option<f64> {
        let (finite, non_finite) = (self.finite + other.finite, self.non_finite + other.non_finite);
        if finite + non_finite == 0 {
            None
        } else if non_finite > 0 {
            Some(f64::NAN)
        } else {
            let n = f64::from(finite);
            let (s1, s2) = (self.s1 + other.s1, self.s2 + other.s2);
            Some(((n * s2 - s1 * s1).max(0.0) / (n * n)).sqrt())
        }
    }
}

/// One row of `mstd`, blocked as [`block_sum_row`]: the window is the suffix of block b − 1
/// from offset o + 1 and the prefix of block b up to o, each held as power sums about one
/// shift K — the mean of block b − 1's finite values (when it has none, block b's first
/// finite value) — so that the two add. With K the mean of rows among the last 2w, |x − K|
/// stays within the data's recent range, so the cancellation in n·S2 − S1² is that of the
/// spread, not of |mean|; and nothing is subtracted when a row leaves the window, so nothing
/// drifts.
#[inline(always)]
fn block_std_row(
    (prefix, shift): (&mut PowerSums, &mut Option<f64>),
    offset: usize,
    w: usize,
    ring: &mut Vec<Option<f64>>,
    (suffix, block_shift): (&mut Vec<PowerSums>, &mut Option<f64>),
    x: Option<f64>,
) -> Option<f64> {
    if offset == 0 {
        *prefix = PowerSums::EMPTY;
        *shift = *block_shift;
    }
    if let Some(x) = x
        && x.is_finite()
        && shift.is_none()
    {
        *shift = Some(x);
    }
    prefix.push(x, shift.unwrap_or(0.0));
    ring_store(ring, offset, x);
    let before = suffix.get(offset + 1).copied().unwrap_or(PowerSums::EMPTY);
    let result = prefix.std_with(before);
    if offset == w - 1 {
        // This block is complete: the mean of its finite values is the next block's shift
        // (near the next windows' means, whatever outliers the block holds), and its suffix
        // sums about it serve the next block.
        *block_shift = finite_mean(ring[..w].iter().flatten().copied());
        let k = block_shift.unwrap_or(0.0);
        suffix.resize(w + 1, PowerSums::EMPTY);
        let mut part = PowerSums::EMPTY;
        for j in (0..w).rev() {
            part.push(ring[j], k);
            suffix[j] = part;
        }
    }
    result
}

/// `out[k] = √(max(out[k], 0) / denominators[k])` for every row: the divisions and square
/// roots of a block of `mstd`, with the CPU's widest vectors (IEEE division and square root
/// are correctly rounded, so every width gives the same bits).
fn finish_deviations(out: &mut [f64], denominators: &[f64]) {
    #[inline(always)]
    fn rows(out: &mut [f64], denominators: &[f64]) {
        for (value, &denominator) in out.iter_mut().zip(denominators) {
            *value = (value.max(0.0) / denominator).sqrt();
        }
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn rows_avx2(out: &mut [f64], denominators: &[f64]) {
        rows(out, denominators);
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn rows_avx512(out: &mut [f64], denominators: &[f64]) {
        rows(out, denominators);
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F was just detected.
            return unsafe { rows_avx512(out, denominators) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was just detected.
            return unsafe { rows_avx2(out, denominators) };
        }
    }
    rows(out, denominators);
}

/// A whole w-row block of `mstd` (w = `values.len()`), the bits of [`block_std_row`] for each
/// row: the prefix about the previous block's mean (`block_shift`; without one, this block's
/// first finite value), the previous block's suffix sums `before` (empty before the first
/// block), and this block's mean and suffix sums about it, written to `block_shift` and
/// `suffix`, from the block's rows. The rows' n·S2 − S1² go to `out` and n² to
/// `denominators`, then one loop takes every square root; the rare NaN and null rows are set
/// after. With `NULLS`, row k is valid where `validity[k] & 1 == 1` and its result's
/// validity goes to `out_validity[k]`. Returns the block's prefix and its shift.
#[inline(always)]
fn std_whole_block<const NULLS: bool>(
    values: &[f64],
    (validity, out_validity): (&[u8], &mut [u8]),
    out: &mut [f64],
    (before, suffix): (&mut Vec<PowerSums>, &mut Vec<PowerSums>),
    block_shift: &mut Option<f64>,
    denominators: &mut Vec<f64>,
) -> (PowerSums, Option<f64>) {
    let w = values.len();
    assert!(out.len() == w && (!NULLS || (validity.len() == w && out_validity.len() == w)));
    let row = |k: usize| (!NULLS || validity[k] & 1 == 1).then_some(values[k]);
    let shift = block_shift.or_else(|| (0..w).filter_map(row).find(|x| x.is_finite()));
    // Every entry below `w` is written by the loops: only a new length needs a fill.
    if suffix.len() != w + 1 {
        suffix.clear();
        suffix.resize(w + 1, PowerSums::EMPTY);
    }
    suffix[w] = PowerSums::EMPTY;
    if denominators.len() != w {
        denominators.clear();
        denominators.resize(w, 1.0);
    }
    let (suffix, denominators) = (&mut suffix[..], &mut denominators[..]);
    let before = (!before.is_empty()).then_some(&before[..]);
    let k_prefix = shift.unwrap_or(0.0);
    // The usual block: every row valid and finite, and nothing non-finite in the previous
    // block's suffix (its counts only fall from `before[1]` on). Its loops test no row.
    let clean = (0..w).all(|k| row(k).is_some_and(f64::is_finite))
        && before.is_none_or(|before| before[1].non_finite == 0);
    let (prefix, mean, unusual) = if clean {
        std_prefix_rows::<true>(row, values, before, (out, denominators), k_prefix)
    } else {
        std_prefix_rows::<false>(row, values, before, (out, denominators), k_prefix)
    };
    let next_shift = mean.finish();
    let k_suffix = next_shift.unwrap_or(0.0);
    let mut part = PowerSums::EMPTY;
    for j in (0..w).rev() {
        if clean {
            part.push_finite(values[j], k_suffix);
        } else {
            part.push(row(j), k_suffix);
        }
        suffix[j] = part;
    }
    finish_deviations(out, denominators);
    if NULLS {
        out_validity.fill(1);
    }
    if unusual {
        // Recompute the rows with a non-finite value or nothing valid in their window.
        let mut prefix = PowerSums::EMPTY;
        for k in 0..w {
            prefix.push(row(k), k_prefix);
            let other = before.map_or(PowerSums::EMPTY, |before| before[k + 1]);
            if prefix.non_finite + other.non_finite > 0 || prefix.finite + other.finite == 0 {
                let result = prefix.std_with(other);
                out[k] = result.unwrap_or(0.0);
                if NULLS {
                    out_validity[k] = u8::from(result.is_some());
                }
            }
        }
    }
    *block_shift = next_shift;
    (prefix, shift)
}

/// [`std_whole_block`]'s prefix loop: each row's `n·S2 − S1²` (into `out`) and `n²` (into
/// `denominators`) from the block's prefix and the previous block's suffix `before`, and the
/// block's mean (the shift of its suffix sums and of the next block's prefix) summed beside.
/// Returns the prefix, the mean, and whether a row had a non-finite value or nothing valid in
/// its window. With `CLEAN` every row is valid and finite and `before` holds nothing
/// non-finite, so no row is tested: the same additions, without the branches.
#[inline(always)]
fn std_prefix_rows<const CLEAN: bool>(
    row: impl Fn(usize) -> Option<f64>,
    values: &[f64],
    before: Option<&[PowerSums]>,
    (out, denominators): (&mut [f64], &mut [f64]),
    shift: f64,
) -> (PowerSums, FiniteMean, bool) {
    let w = values.len();
    assert!(out.len() == w && denominators.len() == w && before.is_none_or(|before| before.len() == w + 1));
    let (mut prefix, mut mean, mut unusual) = (PowerSums::EMPTY, FiniteMean::EMPTY, false);
    for k in 0..w {
        if CLEAN {
            mean.push_finite(values[k]);
            prefix.push_finite(values[k], shift);
        } else {
            let x = row(k);
            if let Some(x) = x {
                mean.push(x);
            }
            prefix.push(x, shift);
        }
        let other = before.map_or(PowerSums::EMPTY, |before| before[k + 1]);
        let (finite, non_finite) = (prefix.finite + other.finite, prefix.non_finite + other.non_finite);
        let n = f64::from(finite);
        let (s1, s2) = (prefix.s1 + other.s1, prefix.s2 + other.s2);
        out[k] = n * s2 - s1 * s1;
        denominators[k] = n * n;
        if !CLEAN {
            unusual |= non_finite > 0 || finite == 0;
        }
    }
    (prefix, mean, unusual)
}

/// An f64's key in IEEE 754 totalOrder as a signed integer: for non-NaN values the integer
/// order is `maximum`/`minimum`'s order (−0 < +0), so the extreme of keys is a branch-free
/// `max`/`min`. The map is its own inverse.
#[inline(always)]
fn total_order_key(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// The f64 whose [`total_order_key`] is `key` (the map is its own inverse on the bits).
#[inline(always)]
fn from_total_order_key(key: i64) -> f64 {
    f64::from_bits(total_order_key(f64::from_bits(key as u64)) as u64)
}

/// `minimum` and `maximum` folded over `values` (at least one), given the range `low..=high`
/// of their keys ([`total_order_key`]): the first NaN in row order if there is one (a NaN's
/// key lies beyond both infinities'; the fold keeps the left NaN), else the extremes in IEEE
/// order (−0 < +0), which are the keys' extremes.
#[inline(always)]
fn extremes_from_key_range(values: &[f64], low: i64, high: i64) -> (f64, f64) {
    if high > total_order_key(f64::INFINITY) || low < total_order_key(f64::NEG_INFINITY) {
        let nan = values.iter().copied().find(|x| x.is_nan()).unwrap_or(f64::NAN);
        (nan, nan)
    } else {
        (from_total_order_key(low), from_total_order_key(high))
    }
}

/// The `minimum` and `maximum` of `values`, all valid, `None` for none: what `Min` and `Max`
/// reductions of them give, whatever tree their chunks merge in (`minimum` and `maximum` are
/// associative). One pass of keys ([`extremes_from_key_range`], as a chunk's leaf takes
/// them), compiled for the widest vectors the CPU has, where a reduction state also builds
/// and merges a leaf of chunk moments every 64 rows: for `cummax`/`cummin`'s carries across
/// threads (`engine::carried_scans`), which need the extreme alone.
pub fn extremes_of_valid(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F was just detected.
            return Some(unsafe { extremes_of_valid_avx512(values) });
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was just detected.
            return Some(unsafe { extremes_of_valid_avx2(values) });
        }
    }
    Some(extremes_of_valid_rows(values))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn extremes_of_valid_avx512(values: &[f64]) -> (f64, f64) {
    extremes_of_valid_rows(values)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn extremes_of_valid_avx2(values: &[f64]) -> (f64, f64) {
    extremes_of_valid_rows(values)
}

/// [`extremes_of_valid`]'s loop for a non-empty `values`, inlined into each tier's entry
/// point.
#[inline(always)]
fn extremes_of_valid_rows(values: &[f64]) -> (f64, f64) {
    let (mut low, mut high) = (i64::MAX, i64::MIN);
    for &x in values {
        let key = total_order_key(x);
        low = low.min(key);
        high = high.max(key);
    }
    extremes_from_key_range(values, low, high)
}

/// `cummax` (`MAX`) or `cummin` of `values` after `state` (`None` before the first valid
/// row), into `out`: [`cumulative_step`]'s bits row by row, the state after returned. Without
/// `NULLS` every row is valid (and `validity` is empty); with it, row i is valid where
/// `validity[i] & 1 == 1`, a null row's result is null (0, validity 0) and the state carries
/// over it, and `validity` receives each result's validity. Until a valid NaN arrives (which
/// then sticks: `maximum`/`minimum` keep a NaN state), the running extreme of non-NaN values
/// is their extreme in total order, taken on integer keys ([`total_order_key`]; a null row's
/// key is the extreme's identity): with AVX-512, eight rows per step (a prefix within the
/// register, then one dependent `max` against the carry); elsewhere a compare-and-move chain.
/// From the first NaN on, the steps themselves.
fn cumulative_extremes<const MAX: bool, const NULLS: bool>(
    state: Option<f64>,
    values: &[f64],
    validity: &mut [u8],
    out: &mut [f64],
) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    let avx512 = std::arch::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    let avx512 = false;
    cumulative_extremes_on::<MAX, NULLS>(avx512, state, values, validity, out)
}

/// [`cumulative_extremes`] with the AVX-512 steps where `avx512` (which says the CPU has
/// AVX-512F), else the compare-and-move chain alone.
fn cumulative_extremes_on<const MAX: bool, const NULLS: bool>(
    avx512: bool,
    state: Option<f64>,
    values: &[f64],
    validity: &mut [u8],
    out: &mut [f64],
) -> Option<f64> {
    assert_eq!(values.len(), out.len());
    assert!(!NULLS || validity.len() == values.len());
    // Only x86-64 has AVX-512 steps to take.
    #[cfg(not(target_arch = "x86_64"))]
    let _ = avx512;
    let is_valid = |validity: &[u8], row: usize| !NULLS || validity[row] & 1 == 1;
    let mut done = 0;
    let mut state = match state {
        Some(state) => state,
        // The rows before the first valid one are null; that one is the state.
        None => loop {
            let &x = values.get(done)?;
            let valid = is_valid(validity, done);
            if NULLS {
                validity[done] = u8::from(valid);
            }
            out[done] = if valid { x } else { 0.0 };
            done += 1;
            if valid {
                break x;
            }
        },
    };
    if !state.is_nan() {
        #[cfg(target_arch = "x86_64")]
        {
            if avx512 {
                let validity = if NULLS { &mut validity[done..] } else { &mut [][..] };
                // SAFETY: the caller says the CPU has AVX-512F.
                let (after, rows) = unsafe {
                    cumulative_extremes_avx512::<MAX, NULLS>(
                        state,
                        &values[done..],
                        validity,
                        &mut out[done..],
                    )
                };
                (state, done) = (after, done + rows);
            }
        }
        let mut key = total_order_key(state);
        let extreme = |key: i64, x: f64| {
            if MAX { key.max(total_order_key(x)) } else { key.min(total_order_key(x)) }
        };
        if NULLS {
            let rows = values[done..].iter().zip(&mut validity[done..]).zip(&mut out[done..]);
            for ((&x, valid), result) in rows {
                let is_valid = *valid & 1 == 1;
                if is_valid && x.is_nan() {
                    break;
                }
                key = if is_valid { extreme(key, x) } else { key };
                *result = if is_valid { from_total_order_key(key) } else { 0.0 };
                *valid = u8::from(is_valid);
                done += 1;
            }
        } else {
            for (&x, result) in values[done..].iter().zip(&mut out[done..]) {
                if x.is_nan() {
                    break;
                }
                key = extreme(key, x);
                *result = from_total_order_key(key);
                done += 1;
            }
        }
        state = from_total_order_key(key);
    }
    for row in done..values.len() {
        let valid = is_valid(validity, row);
        if valid {
            state = if MAX { maximum(state, values[row]) } else { minimum(state, values[row]) };
        }
        out[row] = if valid { state } else { 0.0 };
        if NULLS {
            validity[row] = u8::from(valid);
        }
    }
    Some(state)
}

/// [`cumulative_extremes`]' AVX-512 rows from a non-NaN `state`: eight at a time up to the
/// first group of eight with a valid NaN (or fewer than eight left). Returns the state after
/// the rows done and their count.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn cumulative_extremes_avx512<const MAX: bool, const NULLS: bool>(
    state: f64,
    values: &[f64],
    validity: &mut [u8],
    out: &mut [f64],
) -> (f64, usize) {
    use std::arch::x86_64::*;
    assert_eq!(values.len(), out.len());
    assert!(!NULLS || validity.len() == values.len());
    // The key map on eight lanes (its own inverse), and the extreme of two key vectors.
    let key = |bits: __m512i| _mm512_xor_si512(bits, _mm512_srli_epi64::<1>(_mm512_srai_epi64::<63>(bits)));
    let extreme = |a: __m512i, b: __m512i| if MAX { _mm512_max_epi64(a, b) } else { _mm512_min_epi64(a, b) };
    // What a lane shifted in from below the first row, or a null row, holds: the extreme's
    // identity.
    let identity = _mm512_set1_epi64(if MAX { i64::MIN } else { i64::MAX });
    let last_lane = _mm512_set1_epi64(7);
    let mut carry = _mm512_set1_epi64(total_order_key(state));
    let mut done = 0;
    while done + 8 <= values.len() {
        // SAFETY: rows `done .. done + 8` are within `values`.
        let x = unsafe { _mm512_loadu_pd(values.as_ptr().add(done)) };
        let (valid, bytes) = if NULLS {
            let bytes = u64::from_le_bytes(validity[done..done + 8].try_into().expect("eight bytes"));
            (crate::types::pack_low_bits(bytes), bytes & 0x0101_0101_0101_0101)
        } else {
            (0xff, 0)
        };
        if _mm512_mask_cmp_pd_mask::<_CMP_UNORD_Q>(valid, x, x) != 0 {
            break;
        }
        // The prefix extremes within the eight rows (shifted by 1, 2 and 4 lanes), each
        // taken with the carry from the rows before; the next carry takes the eight rows'
        // extreme (lane 7, broadcast off the chain): one dependent `max` per eight rows.
        let mut keys = key(_mm512_castpd_si512(x));
        if NULLS {
            keys = _mm512_mask_mov_epi64(identity, valid, keys);
        }
        keys = extreme(keys, _mm512_alignr_epi64::<7>(keys, identity));
        keys = extreme(keys, _mm512_alignr_epi64::<6>(keys, identity));
        keys = extreme(keys, _mm512_alignr_epi64::<4>(keys, identity));
        let results = extreme(keys, carry);
        carry = extreme(carry, _mm512_permutexvar_epi64(last_lane, keys));
        // A null row's result is 0 (all bits clear), its validity 0.
        let results = if NULLS { _mm512_maskz_mov_epi64(valid, key(results)) } else { key(results) };
        // SAFETY: rows `done .. done + 8` are within `out`, as long as `values`.
        unsafe { _mm512_storeu_pd(out.as_mut_ptr().add(done), _mm512_castsi512_pd(results)) };
        if NULLS {
            validity[done..done + 8].copy_from_slice(&bytes.to_le_bytes());
        }
        done += 8;
    }
    let carried = _mm_cvtsi128_si64(_mm512_castsi512_si128(carry));
    (from_total_order_key(carried), done)
}

/// A window's running extreme over part of a block: the extreme key of its valid non-NaN
/// values ([`total_order_key`]), how many values are valid and how many of those are NaN.
#[derive(Debug, Clone, Copy)]
struct ExtremePart {
    key: i64,
    valid: u32,
    nan: u32,
}

impl ExtremePart {
    /// The part of no rows: its key is below (`mmax`) or above (`mmin`) every value's.
    #[inline(always)]
    fn empty(is_min: bool) -> ExtremePart {
        ExtremePart { key: if is_min { i64::MAX } else { i64::MIN }, valid: 0, nan: 0 }
    }

    #[inline(always)]
    fn push(&mut self, x: Option<f64>, is_min: bool) {
        if let Some(x) = x {
            self.valid += 1;
            if x.is_nan() {
                self.nan += 1;
            } else {
                let key = total_order_key(x);
                self.key = if is_min { self.key.min(key) } else { self.key.max(key) };
            }
        }
    }

    /// [`push`](Self::push) for a row known not to be a valid NaN (valid where `valid`),
    /// without a branch on the data: a null row's key is the identity, and it adds no valid
    /// row.
    #[inline(always)]
    fn push_non_nan(&mut self, x: f64, valid: bool, is_min: bool) {
        let key = if valid { total_order_key(x) } else { ExtremePart::empty(is_min).key };
        self.key = if is_min { self.key.min(key) } else { self.key.max(key) };
        self.valid += u32::from(valid);
    }
}

/// One row of `mmin`/`mmax`, blocked as [`block_sum_row`]: the window ending at offset o of
/// block b is the suffix of block b − 1 from o + 1 and the prefix of block b up to o, and its
/// extreme is the extreme of theirs — exactly `maximum`/`minimum` over the window, because
/// they are associative and commutative. A NaN in the window gives NaN; no valid value, null.
#[inline(always)]
fn block_extreme_row(
    prefix: &mut ExtremePart,
    offset: usize,
    w: usize,
    ring: &mut Vec<Option<f64>>,
    suffix: &mut Vec<ExtremePart>,
    is_min: bool,
    x: Option<f64>,
) -> Option<f64> {
    if offset == 0 {
        *prefix = ExtremePart::empty(is_min);
    }
    prefix.push(x, is_min);
    ring_store(ring, offset, x);
    let before = suffix.get(offset + 1).copied().unwrap_or(ExtremePart::empty(is_min));
    let result = if prefix.valid + before.valid == 0 {
        None
    } else if prefix.nan + before.nan > 0 {
        Some(f64::NAN)
    } else {
        let key = if is_min { prefix.key.min(before.key) } else { prefix.key.max(before.key) };
        Some(from_total_order_key(key))
    };
    if offset == w - 1 {
        suffix.resize(w + 1, ExtremePart::empty(is_min));
        let mut part = ExtremePart::empty(is_min);
        for j in (0..w).rev() {
            part.push(ring[j], is_min);
            suffix[j] = part;
        }
    }
    result
}

/// A whole w-row block of `mmin` (`MIN`) or `mmax` with no valid NaN (w = `values.len()`):
/// [`block_extreme_row`]'s results for its rows, from its prefix extremes and `before`, the
/// previous block's suffix parts (empty before a block completes), and its own suffix parts
/// written to `next_suffix` (w + 1) for the next block. With `NULLS`, row k is valid where
/// `validity[k] & 1 == 1`, which then receives its result's validity (null where the window
/// holds no valid row). Returns its prefix, all w rows.
#[inline(always)]
fn extreme_whole_block<const MIN: bool, const NULLS: bool>(
    values: &[f64],
    validity: &mut [u8],
    out: &mut [f64],
    before: &[ExtremePart],
    next_suffix: &mut [ExtremePart],
) -> ExtremePart {
    let w = values.len();
    assert!(out.len() == w && next_suffix.len() == w + 1 && (before.is_empty() || before.len() == w + 1));
    assert!(!NULLS || validity.len() == w);
    let extreme = |a: i64, b: i64| if MIN { a.min(b) } else { a.max(b) };
    let empty = ExtremePart::empty(MIN);
    let is_valid = |validity: &[u8], k: usize| !NULLS || validity[k] & 1 == 1;
    next_suffix[w] = empty;
    let mut part = empty;
    for j in (0..w).rev() {
        part.push_non_nan(values[j], is_valid(validity, j), MIN);
        next_suffix[j] = part;
    }
    let mut prefix = empty;
    for k in 0..w {
        prefix.push_non_nan(values[k], is_valid(validity, k), MIN);
        // The previous block's part after row k: a NaN there makes the window NaN; a part
        // with no valid row has the identity key.
        let before = if before.is_empty() { empty } else { before[k + 1] };
        let in_window = prefix.valid + before.valid;
        out[k] = if before.nan > 0 {
            f64::NAN
        } else if NULLS && in_window == 0 {
            0.0
        } else {
            from_total_order_key(extreme(prefix.key, before.key))
        };
        if NULLS {
            validity[k] = u8::from(in_window > 0);
        }
    }
    prefix
}

/// [`extreme_whole_block`] for a block of valid rows with no NaN whose `before` (empty, or
/// the previous block's suffix parts) holds no NaN either: the same results and parts from
/// the rows' keys alone, each computed once (into `keys`, in a loop the compiler
/// vectorises), with no count to keep but the parts' `valid`, which is `w − j` for suffix
/// `j`. Returns the block's prefix, all w rows.
#[inline(always)]
fn extreme_whole_block_of_keys<const MIN: bool>(
    values: &[f64],
    out: &mut [f64],
    before: &[ExtremePart],
    next_suffix: &mut [ExtremePart],
    keys: &mut Vec<i64>,
) -> ExtremePart {
    let w = values.len();
    assert!(out.len() == w && next_suffix.len() == w + 1 && (before.is_empty() || before.len() == w + 1));
    debug_assert!(values.iter().all(|x| !x.is_nan()) && before.iter().all(|part| part.nan == 0));
    let extreme = |a: i64, b: i64| if MIN { a.min(b) } else { a.max(b) };
    let empty = ExtremePart::empty(MIN);
    // A loop over slices of one length, which LLVM vectorises (an `extend` it did not).
    keys.resize(w, 0);
    for (key, &x) in keys.iter_mut().zip(values) {
        *key = total_order_key(x);
    }
    next_suffix[w] = empty;
    let mut suffix = empty.key;
    for (j, (&key, part)) in keys.iter().zip(&mut next_suffix[..w]).enumerate().rev() {
        suffix = extreme(suffix, key);
        *part = ExtremePart { key: suffix, valid: (w - j) as u32, nan: 0 };
    }
    let mut prefix = empty.key;
    if before.is_empty() {
        for (&key, result) in keys.iter().zip(out.iter_mut()) {
            prefix = extreme(prefix, key);
            *result = from_total_order_key(prefix);
        }
    } else {
        for ((&key, result), after) in keys.iter().zip(out.iter_mut()).zip(&before[1..]) {
            prefix = extreme(prefix, key);
            *result = from_total_order_key(extreme(prefix, after.key));
        }
    }
    ExtremePart { key: prefix, valid: w as u32, nan: 0 }
}

/// Runs `row` over a block given as slices: `values[i]` is row i's value, valid unless
/// `NULLS` and `validity[i] & 1 == 0`; the result goes to `out[i]` (0 where null) and, with
/// `NULLS`, its validity to `validity[i]`. Without `NULLS` every row is valid and so is every
/// result (a scan of valid rows is never null), and the optimiser drops the `Option`s.
#[inline(always)]
fn feed_rows<const NULLS: bool>(
    values: &[f64],
    validity: &mut [u8],
    out: &mut [f64],
    mut row: impl FnMut(Option<f64>) -> Option<f64>,
) {
    if NULLS {
        for ((x, valid), result) in values.iter().zip(validity.iter_mut()).zip(out.iter_mut()) {
            let value = row((*valid & 1 == 1).then_some(*x));
            *result = value.unwrap_or(0.0);
            *valid = u8::from(value.is_some());
        }
    } else {
        for (x, result) in values.iter().zip(out.iter_mut()) {
            *result = row(Some(*x)).unwrap_or(0.0);
        }
    }
}

/// Rows of `msum`/`mavg` within one w-row block, as [`block_sum_row`] computes them (the same
/// additions in the same order): `ring` is the block's slots for these rows, `before` the
/// previous block's suffix sums and counts from the offset after each row's (none before the
/// first block completes).
#[inline(always)]
fn sum_segment<const NULLS: bool>(
    values: &[f64],
    validity: &mut [u8],
    out: &mut [f64],
    ring: &mut [Option<f64>],
    before: Option<&[(f64, u32)]>,
    prefix: &mut (f64, u32),
    is_sum: bool,
) {
    let before = (0..ring.len()).map(|k| before.map_or((SUM_IDENTITY, 0), |before| before[k]));
    let (mut sum, mut count) = *prefix;
    let row = |x: Option<f64>,
               slot: &mut Option<f64>,
               (before_sum, before_count): (f64, u32),
               sum: &mut f64,
               count: &mut u32| {
        *sum += valid_or_identity(x.unwrap_or(SUM_IDENTITY), x.is_some());
        *count += u32::from(x.is_some());
        *slot = x;
        let total = *sum + before_sum;
        let in_window = *count + before_count;
        (in_window > 0).then(|| if is_sum { total } else { total / f64::from(in_window) })
    };
    if NULLS {
        let rows =
            values.iter().zip(validity.iter_mut()).zip(out.iter_mut()).zip(ring.iter_mut()).zip(before);
        for ((((x, valid), result), slot), before) in rows {
            let value = row((*valid & 1 == 1).then_some(*x), slot, before, &mut sum, &mut count);
            *result = value.unwrap_or(0.0);
            *valid = u8::from(value.is_some());
        }
    } else {
        for (((x, result), slot), before) in
            values.iter().zip(out.iter_mut()).zip(ring.iter_mut()).zip(before)
        {
            *result = row(Some(*x), slot, before, &mut sum, &mut count).unwrap_or(0.0);
        }
    }
    *prefix = (sum, count);
}

/// `x` where the row is valid, else −0 (the identity of IEEE addition: adding it leaves
/// every sum's bits as they are), without a branch.
#[inline(always)]
fn valid_or_identity(x: f64, valid: bool) -> f64 {
    let mask = 0u64.wrapping_sub(u64::from(valid));
    f64::from_bits((x.to_bits() & mask) | (SUM_IDENTITY.to_bits() & !mask))
}

/// `counts[j]`, for `j` in `0..=w`, the number of valid rows (`validity[i] & 1 == 1`) among
/// rows `j..w` of a w-row block: a block's suffix counts.
fn suffix_valid_counts(validity: &[u8], counts: &mut [u32]) {
    let w = validity.len();
    counts[w] = 0;
    for j in (0..w).rev() {
        counts[j] = counts[j + 1] + u32::from(validity[j] & 1);
    }
}

/// A whole w-row block of `msum`/`mavg` (w = `values.len()`), as [`block_sum_row`] computes
/// it: row k adds to the prefix and reads `before[k + 1]` (the previous block's suffix; none
/// before the first block), and the same iteration adds row w − 1 − k to this block's
/// suffix, written to `suffix[w − 1 − k]` (`suffix[w]` stays empty) — the additions of the
/// ring's loop, in its order, from the block's rows. With `NULLS`, row k is valid where
/// `validity[k] & 1 == 1` and its result's validity goes to `out_validity[k]`. Returns the block's prefix (its sum and
/// count).
#[inline(always)]
fn sum_whole_block<const NULLS: bool>(
    values: &[f64],
    validity: (&[u8], &mut [u8]),
    out: &mut [f64],
    before: Option<&[(f64, u32)]>,
    suffix: &mut [(f64, u32)],
    is_sum: bool,
) -> (f64, u32) {
    // One loop per case, so that none tests per row what holds for the whole block.
    match (before, is_sum) {
        (Some(before), true) => {
            sum_whole_block_rows::<NULLS, true, true>(values, validity, out, before, suffix)
        }
        (Some(before), false) => {
            sum_whole_block_rows::<NULLS, false, true>(values, validity, out, before, suffix)
        }
        (None, true) => sum_whole_block_rows::<NULLS, true, false>(values, validity, out, &[], suffix),
        (None, false) => sum_whole_block_rows::<NULLS, false, false>(values, validity, out, &[], suffix),
    }
}

/// [`sum_whole_block`] for `msum` (`SUM`) or `mavg`, with the previous block's suffixes
/// (`BEFORE`; `before` is empty without them). Without `NULLS` every window holds a valid
/// row (the block's own first), so no result is null.
#[inline(always)]
fn sum_whole_block_rows<const NULLS: bool, const SUM: bool, const BEFORE: bool>(
    values: &[f64],
    (validity, out_validity): (&[u8], &mut [u8]),
    out: &mut [f64],
    before: &[(f64, u32)],
    suffix: &mut [(f64, u32)],
) -> (f64, u32) {
    let w = values.len();
    assert!(out.len() == w && suffix.len() == w + 1 && (!BEFORE || before.len() == w + 1));
    assert!(!NULLS || (validity.len() == w && out_validity.len() == w));
    let mut sums = WholeBlockSums::new(suffix);
    for k in 0..w {
        sums.row::<NULLS, SUM, BEFORE>(k, values, (validity, out_validity), out, before, suffix);
    }
    (sums.sum, sums.count)
}

/// The running values of [`sum_whole_block_rows`]: the block's prefix sum and count and its
/// suffix sum and count, each a dependency chain of one addition a row.
struct WholeBlockSums {
    sum: f64,
    count: u32,
    suffix_sum: f64,
    suffix_count: u32,
}

impl WholeBlockSums {
    /// Empty sums, `suffix[w]` set empty.
    #[inline(always)]
    fn new(suffix: &mut [(f64, u32)]) -> WholeBlockSums {
        let w = suffix.len() - 1;
        suffix[w] = (SUM_IDENTITY, 0);
        WholeBlockSums { sum: SUM_IDENTITY, count: 0, suffix_sum: SUM_IDENTITY, suffix_count: 0 }
    }

    /// Row `k` of [`sum_whole_block_rows`]: its result, and row `w − 1 − k` into the suffix.
    /// The one definition of a whole block's per-row work, which the paired loop
    /// ([`sum_whole_block_pair`]) runs for two windows at once.
    #[inline(always)]
    fn row<const NULLS: bool, const SUM: bool, const BEFORE: bool>(
        &mut self,
        k: usize,
        values: &[f64],
        (validity, out_validity): (&[u8], &mut [u8]),
        out: &mut [f64],
        before: &[(f64, u32)],
        suffix: &mut [(f64, u32)],
    ) {
        let w = values.len();
        let is_valid = |row: usize| !NULLS || validity[row] & 1 == 1;
        // A null adds −0, the identity (the same bits as skipping it), so the loop does not
        // branch on the data.
        self.sum += valid_or_identity(values[k], is_valid(k));
        self.count += u32::from(is_valid(k));
        let (before_sum, before_count) = if BEFORE { before[k + 1] } else { (SUM_IDENTITY, 0) };
        let (total, in_window) = (self.sum + before_sum, self.count + before_count);
        out[k] = if NULLS && in_window == 0 {
            0.0
        } else if SUM {
            total
        } else {
            total / f64::from(in_window)
        };
        if NULLS {
            out_validity[k] = u8::from(in_window > 0);
        }
        let j = w - 1 - k;
        self.suffix_sum += valid_or_identity(values[j], is_valid(j));
        self.suffix_count += u32::from(is_valid(j));
        suffix[j] = (self.suffix_sum, self.suffix_count);
    }
}

/// One whole w-row block of two `msum`/`mavg`s of every-valid rows (`SUM_A`/`SUM_B`: `msum`
/// rather than `mavg`), each after a previous block: [`sum_whole_block_rows`]'s rows of both,
/// interleaved in one loop so that their four addition chains overlap. Each window's
/// arguments are `(values, out, before, suffix)` as `sum_whole_block_rows`'s; returns the
/// two blocks' prefixes.
#[inline(always)]
#[allow(clippy::type_complexity)]
fn sum_whole_block_pair<const SUM_A: bool, const SUM_B: bool>(
    (a, out_a, before_a, suffix_a): (&[f64], &mut [f64], &[(f64, u32)], &mut [(f64, u32)]),
    (b, out_b, before_b, suffix_b): (&[f64], &mut [f64], &[(f64, u32)], &mut [(f64, u32)]),
) -> ((f64, u32), (f64, u32)) {
    let w = a.len();
    assert!(b.len() == w && out_a.len() == w && out_b.len() == w);
    assert!(
        suffix_a.len() == w + 1
            && suffix_b.len() == w + 1
            && before_a.len() == w + 1
            && before_b.len() == w + 1
    );
    let (mut first, mut second) = (WholeBlockSums::new(suffix_a), WholeBlockSums::new(suffix_b));
    for k in 0..w {
        first.row::<false, SUM_A, true>(k, a, (&[], &mut []), out_a, before_a, suffix_a);
        second.row::<false, SUM_B, true>(k, b, (&[], &mut []), out_b, before_b, suffix_b);
    }
    ((first.sum, first.count), (second.sum, second.count))
}

/// Rows per chunk (by row index, so the chunks do not depend on who calls).
pub const CHUNK_ROWS: usize = 64;

/// A valid run reduces this many aligned whole chunks into one subtree before it touches the
/// tree's stack (`2^GROUP_LEVEL`: [`FloatReduceState::push_whole_group`] merges exactly this
/// many leaves).
const GROUP_LEVEL: u32 = 3;
const GROUP_CHUNKS: usize = 1 << GROUP_LEVEL;

/// The rows of a group of whole chunks ([`GROUP_CHUNKS`] of them): a reduction fed from a
/// multiple of this many rows takes whole groups, from anywhere else single chunks up to the
/// next multiple.
pub const REDUCE_GROUP_ROWS: usize = GROUP_CHUNKS * CHUNK_ROWS;

/// `Σ values` with four accumulators (values `i ≡ lane (mod 4)`), added pairwise at the end:
/// a fixed order that the compiler can keep in SIMD registers.
fn sum4(values: &[f64]) -> f64 {
    let mut lanes = [SUM_IDENTITY; 4];
    let mut quads = values.chunks_exact(4);
    for quad in &mut quads {
        for lane in 0..4 {
            lanes[lane] += quad[lane];
        }
    }
    for (lane, value) in quads.remainder().iter().enumerate() {
        lanes[lane] += value;
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
}

/// [`sum4`] of `f(k, x)` over each of `K` whole chunks `chunks[k]`, the chunks' four
/// accumulators side by side (each lane still adds its values in row order).
#[inline(always)]
fn sum4_interleaved<const K: usize>(chunks: [&[f64]; K], f: impl Fn(usize, f64) -> f64) -> [f64; K] {
    let mut lanes = [[SUM_IDENTITY; 4]; K];
    for quad in 0..CHUNK_ROWS / 4 {
        for (k, chunk) in chunks.iter().enumerate() {
            let values: [f64; 4] = chunk[quad * 4..quad * 4 + 4].try_into().expect("four rows");
            let values = values.map(|x| f(k, x));
            // Four independent adds, written out so that they become one vector add.
            let acc = &mut lanes[k];
            *acc = [acc[0] + values[0], acc[1] + values[1], acc[2] + values[2], acc[3] + values[3]];
        }
    }
    lanes.map(|lanes| (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
}

/// The first pass of the chunks' variance: the sums of `x − shifts[k]`, and with `plain`
/// also the plain sums of `x`, in one sweep over the rows where the CPU has AVX2 (the bits
/// of [`sum4_interleaved`] for each).
#[inline(always)]
fn shifted_sums<const K: usize>(
    chunks: [&[f64]; K],
    shifts: [f64; K],
    plain: bool,
) -> ([f64; K], Option<[f64; K]>) {
    assert!(chunks.iter().all(|chunk| chunk.len() == CHUNK_ROWS));
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        let zeros = [0.0; K];
        return if plain {
            // SAFETY: AVX2 was just detected; the chunks hold CHUNK_ROWS rows (asserted).
            let [shifted, sums] =
                unsafe { sweep_chunks_avx2(chunks, ChunkSweep::ShiftedAndPlain, shifts, zeros) };
            (shifted, Some(sums))
        } else {
            // SAFETY: as above.
            let [shifted, _] = unsafe { sweep_chunks_avx2(chunks, ChunkSweep::Shifted, shifts, zeros) };
            (shifted, None)
        };
    }
    shifted_sums_portable(chunks, shifts, plain)
}

/// [`shifted_sums`] without intrinsics.
#[inline(always)]
fn shifted_sums_portable<const K: usize>(
    chunks: [&[f64]; K],
    shifts: [f64; K],
    plain: bool,
) -> ([f64; K], Option<[f64; K]>) {
    (sum4_interleaved(chunks, |k, x| x - shifts[k]), plain.then(|| sum4_interleaved(chunks, |_, x| x)))
}

/// The second pass of the chunks' variance: the sums of `((x − shifts[k]) − means[k])²`, with
/// AVX2 where the CPU has it (the bits of [`sum4_interleaved`]).
#[inline(always)]
fn squared_deviation_sums<const K: usize>(
    chunks: [&[f64]; K],
    shifts: [f64; K],
    means: [f64; K],
) -> [f64; K] {
    assert!(chunks.iter().all(|chunk| chunk.len() == CHUNK_ROWS));
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected; the chunks hold CHUNK_ROWS rows (asserted).
        return unsafe { sweep_chunks_avx2(chunks, ChunkSweep::SquaredDeviations, shifts, means) }[0];
    }
    squared_deviation_sums_portable(chunks, shifts, means)
}

/// [`squared_deviation_sums`] without intrinsics.
#[inline(always)]
fn squared_deviation_sums_portable<const K: usize>(
    chunks: [&[f64]; K],
    shifts: [f64; K],
    means: [f64; K],
) -> [f64; K] {
    sum4_interleaved(chunks, |k, x| {
        let deviation = (x - shifts[k]) - means[k];
        deviation * deviation
    })
}

/// What one AVX2 sweep over whole chunks sums.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
enum ChunkSweep {
    /// `x − shift` (first result).
    Shifted,
    /// `x − shift` (first result) and `x` (second).
    ShiftedAndPlain,
    /// `((x − shift) − mean)²` (first result).
    SquaredDeviations,
}

/// The AVX2 sweeps of [`shifted_sums`] and [`squared_deviation_sums`]: lane `j` of a sum's
/// register for chunk `k` adds rows `j`, `j + 4`, … of the chunk in row order, as
/// [`sum4_interleaved`]'s `lanes[k][j]` does, with the same subtractions and product per row
/// (IEEE operations, lane by lane), and the same final `(l0 + l1) + (l2 + l3)`. LLVM's own
/// vectorisation of those closures shuffled rows between chunks and ran slower; plain sums
/// alone it vectorises well, and they do not come here.
///
/// # Safety
/// The CPU has AVX2, and every chunk holds `CHUNK_ROWS` rows.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sweep_chunks_avx2<const K: usize>(
    chunks: [&[f64]; K],
    sweep: ChunkSweep,
    shifts: [f64; K],
    means: [f64; K],
) -> [[f64; K]; 2] {
    use std::arch::x86_64::*;
    // Indexed loops rather than `array::map`, whose closures stay out of line here: a call
    // per chunk that leaves the AVX2 code.
    let mut starts = [std::ptr::null::<f64>(); K];
    let (mut shift_registers, mut mean_registers) = ([_mm256_setzero_pd(); K], [_mm256_setzero_pd(); K]);
    for k in 0..K {
        starts[k] = chunks[k].as_ptr();
        shift_registers[k] = _mm256_set1_pd(shifts[k]);
        mean_registers[k] = _mm256_set1_pd(means[k]);
    }
    let mut lanes = [[_mm256_set1_pd(SUM_IDENTITY); K]; 2];
    // One row loop per sweep, so that each loop's body is straight-line code.
    macro_rules! sweep_rows {
        (|$k:ident, $x:ident| [$($term:expr),+]) => {
            for row in (0..CHUNK_ROWS).step_by(4) {
                for $k in 0..K {
                    // SAFETY: chunk `k` holds CHUNK_ROWS f64s (the caller's promise), a
                    // multiple of 4, so rows `row .. row + 4` lie within it.
                    let $x = unsafe { _mm256_loadu_pd(starts[$k].add(row)) };
                    for (sum, value) in [$($term),+].into_iter().enumerate() {
                        lanes[sum][$k] = _mm256_add_pd(lanes[sum][$k], value);
                    }
                }
            }
        };
    }
    match sweep {
        ChunkSweep::Shifted => sweep_rows!(|k, x| [_mm256_sub_pd(x, shift_registers[k])]),
        ChunkSweep::ShiftedAndPlain => sweep_rows!(|k, x| [_mm256_sub_pd(x, shift_registers[k]), x]),
        ChunkSweep::SquaredDeviations => sweep_rows!(|k, x| [{
            let deviation = _mm256_sub_pd(_mm256_sub_pd(x, shift_registers[k]), mean_registers[k]);
            _mm256_mul_pd(deviation, deviation)
        }]),
    }
    let mut sums = [[0.0; K]; 2];
    for (sum, registers) in lanes.iter().enumerate() {
        for k in 0..K {
            let mut four = [0.0f64; 4];
            // SAFETY: `four` has room for the four f64s the unaligned store writes.
            unsafe { _mm256_storeu_pd(four.as_mut_ptr(), registers[k]) };
            sums[sum][k] = (four[0] + four[1]) + (four[2] + four[3]);
        }
    }
    sums
}

/// What a set of reductions needs accumulated.
#[derive(Debug, Clone, Copy, Default)]
struct Needs {
    sum: bool,
    m2: bool,
    min_max: bool,
}

/// Everything the reductions need of a run of whole chunks: a leaf of the reduction tree
/// (one chunk) or the merge of two sibling subtrees.
#[derive(Debug, Clone, Copy)]
pub struct ChunkMoments {
    /// Valid rows.
    count: usize,
    /// The finite chunk sums' total, and the rounding errors of adding them (summed apart).
    sum: f64,
    compensation: f64,
    /// Chunks whose sum was NaN, +∞, −∞.
    nan: usize,
    positive_infinities: usize,
    negative_infinities: usize,
    /// Mean and M2 of `x − shift`, `shift` the first finite value of the leftmost chunk
    /// with valid rows.
    shift: f64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    any: bool,
    all: bool,
}

impl ChunkMoments {
    /// The leaf of one chunk's valid values (which it may overwrite).
    fn of_chunk(chunk: &mut [f64], needs: Needs) -> ChunkMoments {
        let mut leaf = ChunkMoments {
            count: chunk.len(),
            sum: SUM_IDENTITY,
            compensation: SUM_IDENTITY,
            nan: 0,
            positive_infinities: 0,
            negative_infinities: 0,
            shift: 0.0,
            mean: 0.0,
            m2: 0.0,
            min: f64::NAN,
            max: f64::NAN,
            any: false,
            all: true,
        };
        if chunk.is_empty() {
            return leaf;
        }
        if needs.sum {
            leaf.set_chunk_sum(sum4(chunk));
        }
        if needs.min_max {
            leaf.set_extremes(chunk);
        }
        if needs.m2 {
            // Variance is shift-invariant: moments of x − K, K the chunk's first finite value,
            // avoid the cancellation of a large common offset (x − K is exact within a factor
            // of 2 of K).
            let shift = chunk.iter().copied().find(|x| x.is_finite()).unwrap_or(0.0);
            for x in chunk.iter_mut() {
                *x -= shift;
            }
            let n = chunk.len() as f64;
            let mean = sum4(chunk) / n;
            for x in chunk.iter_mut() {
                *x = (*x - mean) * (*x - mean);
            }
            (leaf.shift, leaf.mean, leaf.m2) = (shift, mean, sum4(chunk));
        }
        leaf
    }

    /// A leaf's min, max, any and all: `minimum`/`maximum` folded from chunk[0] — the first
    /// NaN if there is one, else the extremes in IEEE order (−0 < +0), which are those of the
    /// totalOrder keys, taken without a branch on the data (a NaN's key lies beyond both
    /// infinities').
    #[inline(always)]
    fn set_extremes(&mut self, chunk: &[f64]) {
        let (mut low, mut high) = (i64::MAX, i64::MIN);
        let (mut any, mut all) = (false, true);
        for &x in chunk {
            let key = total_order_key(x);
            low = low.min(key);
            high = high.max(key);
            any |= x != 0.0;
            all &= x != 0.0;
        }
        (self.any, self.all) = (any, all);
        (self.min, self.max) = extremes_from_key_range(chunk, low, high);
    }

    /// A leaf's sum: finite, or counted as a NaN or infinite chunk.
    #[inline(always)]
    fn set_chunk_sum(&mut self, sum: f64) {
        if sum.is_finite() {
            self.sum = sum;
        } else if sum.is_nan() {
            self.nan = 1;
        } else if sum > 0.0 {
            self.positive_infinities = 1;
        } else {
            self.negative_infinities = 1;
        }
    }

    /// The leaves of `K` whole chunks of valid rows (`CHUNK_ROWS` each), the bits
    /// [`of_chunk`](Self::of_chunk) gives each: the same sums in the same lanes and order,
    /// read where the rows lie, the chunks' accumulators interleaved so that their
    /// dependency chains overlap.
    #[inline(always)]
    fn of_whole_chunks<const K: usize>(chunks: [&[f64]; K], needs: Needs) -> [ChunkMoments; K] {
        assert!(chunks.iter().all(|chunk| chunk.len() == CHUNK_ROWS));
        let mut leaves = [ChunkMoments::of_chunk(&mut [], needs); K];
        for (leaf, chunk) in leaves.iter_mut().zip(chunks) {
            leaf.count = CHUNK_ROWS;
            if needs.min_max {
                leaf.set_extremes(chunk);
            }
        }
        if needs.m2 {
            // The plain sums and the shifted sums read the same rows: one sweep for both.
            let shifts = chunks.map(|chunk| chunk.iter().copied().find(|x| x.is_finite()).unwrap_or(0.0));
            let (shifted, sums) = shifted_sums(chunks, shifts, needs.sum);
            if let Some(sums) = sums {
                for (leaf, sum) in leaves.iter_mut().zip(sums) {
                    leaf.set_chunk_sum(sum);
                }
            }
            let n = CHUNK_ROWS as f64;
            let means = shifted.map(|sum| sum / n);
            let m2s = squared_deviation_sums(chunks, shifts, means);
            for (k, leaf) in leaves.iter_mut().enumerate() {
                (leaf.shift, leaf.mean, leaf.m2) = (shifts[k], means[k], m2s[k]);
            }
        } else if needs.sum {
            let sums = sum4_interleaved(chunks, |_, x| x);
            for (leaf, sum) in leaves.iter_mut().zip(sums) {
                leaf.set_chunk_sum(sum);
            }
        }
        leaves
    }

    /// The moments of `left`'s rows followed by `right`'s (a run with no valid rows is the
    /// identity, exactly).
    fn merge(left: &ChunkMoments, right: &ChunkMoments, needs: Needs) -> ChunkMoments {
        if right.count == 0 {
            return *left;
        }
        if left.count == 0 {
            return *right;
        }
        // Built whole from its parts rather than copied from `left` and updated in place: a
        // field read back after the copy's wider stores straddles two of them, which the CPU
        // cannot forward, and that stall was most of a merge's time.
        let (mut sum, mut compensation) = (left.sum, left.compensation);
        let (mut nan, mut positive_infinities, mut negative_infinities) =
            (left.nan, left.positive_infinities, left.negative_infinities);
        if needs.sum {
            nan += right.nan;
            positive_infinities += right.positive_infinities;
            negative_infinities += right.negative_infinities;
            // TwoSum (Neumaier's ordering): the rounding error of the add, carried apart.
            let (a, b) = (left.sum, right.sum);
            let t = a + b;
            compensation = left.compensation + right.compensation;
            // Once the finite values overflow, the error term means nothing (∞ − ∞).
            if t.is_finite() {
                let error = if a.abs() >= b.abs() { (a - t) + b } else { (b - t) + a };
                compensation += error;
            }
            sum = t;
        }
        let (mut min, mut max, mut any, mut all) = (left.min, left.max, left.any, left.all);
        if needs.min_max {
            min = minimum(left.min, right.min);
            max = maximum(left.max, right.max);
            any = left.any || right.any;
            all = left.all && right.all;
        }
        let (mut mean, mut m2) = (left.mean, left.m2);
        if needs.m2 {
            // Chan, Golub and LeVeque's update, `right`'s mean moved to `left`'s shift.
            let (n_left, n_right) = (left.count as f64, right.count as f64);
            // Siblings of a complete subtree hold equal counts: then `n_right / total` is ½
            // and `n_left·n_right / total` is `n_left / 2`, exactly (both products and
            // quotients are exact while n² < 2⁵³), so the two divisions can be skipped
            // without changing a bit.
            let (right_share, weight) = if left.count == right.count && left.count <= 1 << 26 {
                (0.5, n_left * 0.5)
            } else {
                let total = n_left + n_right;
                (n_right / total, n_left * n_right / total)
            };
            let right_mean = (right.shift - left.shift) + right.mean;
            let delta = right_mean - left.mean;
            mean = left.mean + delta * right_share;
            m2 = left.m2 + right.m2 + delta * delta * weight;
        }
        ChunkMoments {
            count: left.count + right.count,
            sum,
            compensation,
            nan,
            positive_infinities,
            negative_infinities,
            shift: left.shift,
            mean,
            m2,
            min,
            max,
            any,
            all,
        }
    }

    /// The sum: NaN if a chunk sum was NaN or both infinities occur, else an infinity if one
    /// occurs, else the finite total with its compensation (a zero compensation is not
    /// added, so that a sum of −0s stays −0; an overflowed total is the answer as it is).
    fn total(&self) -> f64 {
        if self.nan > 0 || (self.positive_infinities > 0 && self.negative_infinities > 0) {
            f64::NAN
        } else if self.positive_infinities > 0 {
            f64::INFINITY
        } else if self.negative_infinities > 0 {
            f64::NEG_INFINITY
        } else if self.sum.is_finite() && self.compensation != 0.0 {
            self.sum + self.compensation
        } else {
            self.sum
        }
    }
}

/// A complete subtree of the reduction tree: the chunks `index·2^level .. (index+1)·2^level`
/// (chunk `c` holds rows `64c .. 64c + 64`), merged.
#[derive(Debug, Clone, Copy)]
pub struct Subtree {
    level: u32,
    index: u64,
    moments: ChunkMoments,
}

/// The reduction tree's complete subtrees so far, left to right: a binary counter over chunk
/// indices. Pushing subtrees in row order, each merged with its left sibling as soon as both
/// exist, builds the same tree whoever built the pieces, so partial results of row ranges
/// (threads) combine into the whole column's bits.
#[derive(Debug, Clone, Default)]
pub struct ReduceTree {
    stack: Vec<Subtree>,
}

impl ReduceTree {
    fn push(&mut self, mut subtree: Subtree, needs: Needs) {
        // A subtree at an odd index has its left sibling just before it.
        while subtree.index % 2 == 1
            && let Some(top) = self.stack.last()
            && top.level == subtree.level
            && top.index + 1 == subtree.index
        {
            let left = self.stack.pop().expect("just looked at it");
            subtree = Subtree {
                level: subtree.level + 1,
                index: subtree.index / 2,
                moments: ChunkMoments::merge(&left.moments, &subtree.moments, needs),
            };
        }
        self.stack.push(subtree);
    }

    /// The whole: the incomplete right edge merged right to left (a fixed order, given the
    /// row count).
    fn root(&self, needs: Needs) -> Option<ChunkMoments> {
        let mut subtrees = self.stack.iter().rev();
        let last = subtrees.next()?.moments;
        Some(subtrees.fold(last, |right, left| ChunkMoments::merge(&left.moments, &right, needs)))
    }
}

/// Every reduction in `ops` over the valid rows, in one pass: `ops[i]`'s value, or `None`
/// where it is null (the mean, var, std, min and max of no rows). `count` gives the number of
/// valid rows; `any`/`all` give 1 or 0 (an empty `any` is false, an empty `all` true); an
/// empty `sum` is 0. (One [`FloatReduceState`] fed every row at once.)
#[cfg(test)]
pub fn reduce_f64(ops: &[ReduceOp], len: usize, get: impl Fn(usize) -> Option<f64>) -> Vec<Option<f64>> {
    let mut state = FloatReduceState::new(ops);
    state.feed(len, get);
    state.finish()
}

/// The running state of a set of reductions of one column, fed rows in order, any number at
/// a time. Rows are taken in chunks of 64 by absolute row index, and the chunks merge in a
/// binary tree fixed by chunk index ([`ReduceTree`]), so where a feed starts changes nothing:
/// a native loop feeding it a block at a time, the interpreter feeding it the whole column,
/// and threads each feeding a range of whole chunks ([`FloatReduceState::resume_at`],
/// [`FloatReduceState::into_tree`], [`FloatReduceState::absorb`]) get the same bits.
#[derive(Debug, Clone)]
pub struct FloatReduceState {
    ops: Vec<ReduceOp>,
    needs: Needs,
    tree: ReduceTree,
    /// The current chunk's valid values.
    chunk: [f64; CHUNK_ROWS],
    filled: usize,
    /// The absolute index of the next row fed.
    row: usize,
}

impl FloatReduceState {
    pub fn new(ops: &[ReduceOp]) -> FloatReduceState {
        let mut needs = Needs::default();
        for op in ops {
            match op {
                ReduceOp::Sum | ReduceOp::Mean => needs.sum = true,
                ReduceOp::Var { .. } | ReduceOp::Std { .. } => needs.m2 = true,
                ReduceOp::Min | ReduceOp::Max | ReduceOp::Any | ReduceOp::All => needs.min_max = true,
                ReduceOp::Count => {}
            }
        }
        FloatReduceState {
            ops: ops.to_vec(),
            needs,
            tree: ReduceTree::default(),
            chunk: [0.0; CHUNK_ROWS],
            filled: 0,
            row: 0,
        }
    }

    /// A state whose next row is `row`, a multiple of [`CHUNK_ROWS`]: for one range of rows
    /// of a column whose other ranges other states take.
    pub fn resume_at(&mut self, row: usize) {
        debug_assert!(row.is_multiple_of(CHUNK_ROWS) && self.row == 0);
        self.row = row;
    }

    /// Feeds the next `len` rows: `get(i)` is row `i` of this feed.
    pub fn feed(&mut self, len: usize, get: impl Fn(usize) -> Option<f64>) {
        let mut i = 0;
        while i < len {
            // Up to the end of the current chunk (by absolute row index) or of this feed.
            let chunk_left = CHUNK_ROWS - self.row % CHUNK_ROWS;
            let count = chunk_left.min(len - i);
            // The fill count in a local: kept in `self`, every store into the chunk would force
            // a reload of it.
            let mut filled = self.filled;
            for j in i..i + count {
                if let Some(x) = get(j) {
                    self.chunk[filled] = x;
                    filled += 1;
                }
            }
            self.filled = filled;
            i += count;
            self.row += count;
            if self.row.is_multiple_of(CHUNK_ROWS) {
                self.close_chunk();
            }
        }
    }

    /// Feeds the next `values.len()` rows, row `i + j` valid where bit `j` of `valid_word(i)`
    /// is set (`valid_word(i)`: the validity of rows `i .. i + 64` of this feed):
    /// [`feed`](Self::feed)'s bits without a branch per row (every value is stored into the
    /// chunk and the fill count advances by the row's bit), for value slices whose null rows
    /// hold arbitrary but readable values. With scattered nulls `feed`'s branch mispredicts.
    pub fn feed_compacting(&mut self, values: &[f64], valid_word: impl Fn(usize) -> u64) {
        let mut i = 0;
        while i < values.len() {
            let count = (CHUNK_ROWS - self.row % CHUNK_ROWS).min(values.len() - i);
            let word = valid_word(i);
            let mut filled = self.filled;
            for (j, &value) in values[i..i + count].iter().enumerate() {
                // `filled` ≤ the rows fed into this chunk before this one < CHUNK_ROWS.
                self.chunk[filled] = value;
                filled += ((word >> j) & 1) as usize;
            }
            self.filled = filled;
            i += count;
            self.row += count;
            if self.row.is_multiple_of(CHUNK_ROWS) {
                self.close_chunk();
            }
        }
    }

    /// Feeds the next `values.len()` rows, every one valid: [`feed`](Self::feed)'s bits,
    /// with whole chunks read where they lie, four at a time, compiled for AVX2 where the CPU
    /// has it (the same additions in the same order on every tier: LLVM contracts nothing into
    /// FMAs and reassociates nothing without fast-math). AVX-512 code was measured slower for
    /// the sums and no faster overall; reductions that take no sum (`min`, `max`, `any`,
    /// `all`) run it, whose 64-bit key min/max are one instruction there (a compare and a
    /// blend on AVX2).
    pub fn feed_valid(&mut self, values: &[f64]) {
        #[cfg(target_arch = "x86_64")]
        {
            let sums = self.needs.sum || self.needs.m2;
            if !sums && std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F was just detected.
                return unsafe { self.feed_valid_avx512(values) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 was just detected.
                return unsafe { self.feed_valid_avx2(values) };
            }
        }
        self.feed_valid_rows(values);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn feed_valid_avx512(&mut self, values: &[f64]) {
        self.feed_valid_rows(values);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn feed_valid_avx2(&mut self, values: &[f64]) {
        self.feed_valid_rows(values);
    }

    /// [`feed_valid`](Self::feed_valid)'s loops, inlined into each tier's entry point.
    #[inline(always)]
    fn feed_valid_rows(&mut self, values: &[f64]) {
        let head = ((CHUNK_ROWS - self.row % CHUNK_ROWS) % CHUNK_ROWS).min(values.len());
        self.feed(head, |i| Some(values[i]));
        let mut rest = &values[head..];
        // Single chunks up to a group boundary, then whole groups, then what is left.
        while rest.len() >= CHUNK_ROWS && !(self.row / CHUNK_ROWS).is_multiple_of(GROUP_CHUNKS) {
            let (chunk, after) = rest.split_at(CHUNK_ROWS);
            let [moments] = ChunkMoments::of_whole_chunks([chunk], self.needs);
            self.push_whole_chunk(moments);
            rest = after;
        }
        while rest.len() >= GROUP_CHUNKS * CHUNK_ROWS {
            let (group, after) = rest.split_at(GROUP_CHUNKS * CHUNK_ROWS);
            self.push_whole_group(group);
            rest = after;
        }
        while rest.len() >= 4 * CHUNK_ROWS {
            let (four, after) = rest.split_at(4 * CHUNK_ROWS);
            let chunks: [&[f64]; 4] = std::array::from_fn(|k| &four[k * CHUNK_ROWS..(k + 1) * CHUNK_ROWS]);
            for moments in ChunkMoments::of_whole_chunks(chunks, self.needs) {
                self.push_whole_chunk(moments);
            }
            rest = after;
        }
        while rest.len() >= CHUNK_ROWS {
            let (chunk, after) = rest.split_at(CHUNK_ROWS);
            let [moments] = ChunkMoments::of_whole_chunks([chunk], self.needs);
            self.push_whole_chunk(moments);
            rest = after;
        }
        self.feed(rest.len(), |i| Some(rest[i]));
    }

    /// [`feed_valid`](Self::feed_valid) for f32 rows, widened exactly to f64 up to a group of
    /// chunks at a time.
    pub fn feed_valid_f32(&mut self, values: &[f32]) {
        const GROUP_ROWS: usize = GROUP_CHUNKS * CHUNK_ROWS;
        let mut widened = [0.0f64; GROUP_ROWS];
        let mut rest = values;
        while !rest.is_empty() {
            // Pieces end on group boundaries (by row index), so that every whole group takes
            // `feed_valid`'s group path rather than its chunk-at-a-time one.
            let (piece, after) = rest.split_at((GROUP_ROWS - self.row % GROUP_ROWS).min(rest.len()));
            for (wide, &narrow) in widened.iter_mut().zip(piece) {
                *wide = f64::from(narrow);
            }
            self.feed_valid(&widened[..piece.len()]);
            rest = after;
        }
    }

    /// Makes the leaf of the whole chunk that starts at the next row part of the tree.
    fn push_whole_chunk(&mut self, moments: ChunkMoments) {
        debug_assert!(self.filled == 0 && self.row.is_multiple_of(CHUNK_ROWS));
        let index = (self.row / CHUNK_ROWS) as u64;
        self.tree.push(Subtree { level: 0, index, moments }, self.needs);
        self.row += CHUNK_ROWS;
    }

    /// Makes the [`GROUP_CHUNKS`] whole chunks of `group`, which starts at the next row (a
    /// multiple of `GROUP_CHUNKS · CHUNK_ROWS`), one subtree of the tree: their leaves merged
    /// pairwise, level by level, in a local array — the merges [`ReduceTree::push`] makes of
    /// the leaves pushed one by one, in the same order, without moving each through the
    /// stack.
    #[inline(always)]
    fn push_whole_group(&mut self, group: &[f64]) {
        debug_assert!(self.filled == 0 && (self.row / CHUNK_ROWS).is_multiple_of(GROUP_CHUNKS));
        debug_assert_eq!(group.len(), GROUP_CHUNKS * CHUNK_ROWS);
        let chunk = |k: usize| &group[k * CHUNK_ROWS..(k + 1) * CHUNK_ROWS];
        let needs = self.needs;
        let moments = if needs.sum || needs.m2 {
            let [l0, l1, l2, l3] = ChunkMoments::of_whole_chunks(std::array::from_fn(chunk), needs);
            let [l4, l5, l6, l7] =
                ChunkMoments::of_whole_chunks(std::array::from_fn(|k| chunk(k + 4)), needs);
            let merge = |left: &ChunkMoments, right: &ChunkMoments| ChunkMoments::merge(left, right, needs);
            let (m01, m23, m45, m67) = (merge(&l0, &l1), merge(&l2, &l3), merge(&l4, &l5), merge(&l6, &l7));
            merge(&merge(&m01, &m23), &merge(&m45, &m67))
        } else {
            // Only extremes, `any`, `all` and the count, which merge exactly in any grouping:
            // the group's in one pass, as its eight leaves merged would give them.
            let mut moments = ChunkMoments::of_chunk(&mut [], needs);
            moments.count = group.len();
            if needs.min_max {
                moments.set_extremes(group);
            }
            moments
        };
        let index = (self.row / (GROUP_CHUNKS * CHUNK_ROWS)) as u64;
        self.tree.push(Subtree { level: GROUP_LEVEL, index, moments }, needs);
        self.row += GROUP_CHUNKS * CHUNK_ROWS;
    }

    /// Makes the chunk being filled a leaf of the tree.
    fn close_chunk(&mut self) {
        let index = ((self.row - 1) / CHUNK_ROWS) as u64;
        let moments = ChunkMoments::of_chunk(&mut self.chunk[..self.filled], self.needs);
        self.tree.push(Subtree { level: 0, index, moments }, self.needs);
        self.filled = 0;
    }

    /// The subtrees of the rows fed since `resume_at`, the last chunk closed even if partial
    /// (for the range that ends the column).
    pub fn into_tree(mut self) -> ReduceTree {
        if !self.row.is_multiple_of(CHUNK_ROWS) {
            self.close_chunk();
        }
        self.tree
    }

    /// Takes in the subtrees of the next range of rows (their state was resumed where this
    /// one's rows end).
    pub fn absorb(&mut self, tree: ReduceTree) {
        debug_assert!(self.filled == 0 && self.row.is_multiple_of(CHUNK_ROWS));
        for subtree in tree.stack {
            self.row = ((subtree.index + 1) << subtree.level) as usize * CHUNK_ROWS;
            self.tree.push(subtree, self.needs);
        }
    }

    /// The reductions' values (see [`reduce`]).
    pub fn finish(mut self) -> Vec<Option<f64>> {
        let needs = self.needs;
        if !self.row.is_multiple_of(CHUNK_ROWS) {
            self.close_chunk();
        }
        let root = self.tree.root(needs).filter(|root| root.count > 0);
        let count = root.map_or(0, |root| root.count);
        let n = count as f64;
        let variance = |ddof: u8| {
            root.filter(|root| root.count > usize::from(ddof)).map(|root| root.m2 / (n - f64::from(ddof)))
        };
        self.ops
            .iter()
            .map(|op| match *op {
                ReduceOp::Sum => Some(root.map_or(0.0, |root| root.total())),
                ReduceOp::Mean => root.map(|root| root.total() / n),
                ReduceOp::Var { ddof } => variance(ddof),
                ReduceOp::Std { ddof } => variance(ddof).map(f64::sqrt),
                ReduceOp::Min => root.map(|root| root.min),
                ReduceOp::Max => root.map(|root| root.max),
                ReduceOp::Count => Some(n),
                ReduceOp::Any => Some(f64::from(u8::from(root.is_some_and(|root| root.any)))),
                ReduceOp::All => Some(f64::from(u8::from(root.is_none_or(|root| root.all)))),
            })
            .collect()
    }
}

/// Runs `op` down a float column: `put(row, value)` for every row in order (one
/// [`FloatScanState`] fed every row at once).
#[cfg(test)]
pub fn scan_f64(
    op: ScanOp,
    len: usize,
    get: impl Fn(usize) -> Option<f64>,
    put: impl FnMut(usize, Option<f64>),
) {
    FloatScanState::new(op).feed(len, get, put);
}

/// One valid row of `cumprod`, `cummax`, `cummin` or `ema`: the next state from the last
/// (`None` before the first valid row) and the row's value. `ema` starts at its first valid
/// value, then `s = α·x + (1−α)·s`.
#[inline(always)]
fn cumulative_step(op: ScanOp, state: Option<f64>, x: f64) -> f64 {
    match (state, op) {
        (None, _) => x,
        (Some(s), ScanOp::CumProd) => s * x,
        (Some(s), ScanOp::CumMax) => maximum(s, x),
        (Some(s), ScanOp::CumMin) => minimum(s, x),
        (Some(s), ScanOp::Ema { alpha_bits }) => {
            let alpha = f64::from_bits(alpha_bits);
            alpha * x + (1.0 - alpha) * s
        }
        (Some(_), ScanOp::MSum { .. } | ScanOp::MAvg { .. } | ScanOp::MStd { .. })
        | (Some(_), ScanOp::MMin { .. } | ScanOp::MMax { .. } | ScanOp::CumSum) => {
            unreachable!("only cumprod, cummax, cummin and ema step here")
        }
    }
}

/// The running state of a scan, fed the rows in order, any number at a time: native loops
/// feed it a block per call, the interpreter the whole column at once, and both get the same
/// bits because every decision depends on the absolute row index, never on where a feed
/// starts.
///
/// - Windows (`msum mavg mstd mmin mmax`) aggregate the valid values among the last `w` rows
///   (fewer at the start); the result is null when there are none. `mstd` is the population
///   standard deviation; a NaN or ±∞ in the window makes it NaN, and a NaN makes `mmin`/`mmax`
///   NaN.
/// - Cumulative ops and `ema` skip null rows: the result is null there and the state carries
///   over them. `ema` starts at the first valid value, then `s = α·x + (1−α)·s`.
///
/// `feed` reads each row once, before it writes that row, so a caller may scan in place.
#[derive(Debug, Clone)]
pub struct FloatScanState {
    op: ScanOp,
    /// Rows fed so far.
    row: usize,
    /// Windows: the window length (0 for the other scans).
    w: usize,
    /// Windows: `row % w`, kept as a counter rather than divided out every row.
    offset: usize,
    /// Windows: the last `w` rows' values by `row % w` (fewer while fewer rows were fed).
    ring: Vec<Option<f64>>,
    /// msum/mavg: the running sum and count of the current w-row block, and `suffix[j]`, the
    /// sum and count of the previous block's offsets `j..w`.
    prefix: (f64, u32),
    suffix: Vec<(f64, u32)>,
    /// msum/mavg: where a block's suffix sums are built while it is fed whole, and a copy of
    /// its rows' validity.
    next_suffix: Vec<(f64, u32)>,
    block_validity: Vec<u8>,
    /// msum/mavg: the scratch rows of a group of four whole blocks ([`window_sum_groups`]),
    /// and, for groups with nulls, their values with each null as `SUM_IDENTITY`.
    group_scratch: Vec<f64>,
    identity_for_nulls: Vec<f64>,
    /// msum/mavg, groups with nulls: two blocks' suffix counts of valid rows.
    window_counts: Vec<u32>,
    /// mstd: the power sums of the current block so far about `shift`, and `power_sums[j]`,
    /// those of the previous block's offsets `j..w` about the same shift; `block_shift` is
    /// the mean of the previous block's finite values, the next block's shift.
    power_prefix: PowerSums,
    shift: Option<f64>,
    power_sums: Vec<PowerSums>,
    block_shift: Option<f64>,
    /// mstd: where a whole block's suffix sums are built, and its rows' n².
    next_power_sums: Vec<PowerSums>,
    denominators: Vec<f64>,
    /// mmin/mmax: the extreme of the current w-row block so far, and `extremes[j]`, that of
    /// the previous block's offsets `j..w`.
    extreme: ExtremePart,
    extremes: Vec<ExtremePart>,
    /// mmin/mmax: where a whole block's suffix extremes are built, and its rows' keys
    /// ([`extreme_whole_block_of_keys`]).
    next_extremes: Vec<ExtremePart>,
    extreme_keys: Vec<i64>,
    /// cumsum.
    sum: CompensatedSum,
    /// cumprod, cummax, cummin, ema.
    state: Option<f64>,
}

impl FloatScanState {
    pub fn new(op: ScanOp) -> FloatScanState {
        let w = match op {
            ScanOp::MSum { w }
            | ScanOp::MAvg { w }
            | ScanOp::MStd { w }
            | ScanOp::MMin { w }
            | ScanOp::MMax { w } => w as usize,
            _ => 0,
        };
        FloatScanState {
            op,
            row: 0,
            w,
            offset: 0,
            ring: Vec::new(),
            prefix: (SUM_IDENTITY, 0),
            suffix: Vec::new(),
            next_suffix: Vec::new(),
            block_validity: Vec::new(),
            group_scratch: Vec::new(),
            identity_for_nulls: Vec::new(),
            window_counts: Vec::new(),
            power_prefix: PowerSums::EMPTY,
            shift: None,
            power_sums: Vec::new(),
            block_shift: None,
            next_power_sums: Vec::new(),
            denominators: Vec::new(),
            extreme: ExtremePart::empty(matches!(op, ScanOp::MMin { .. })),
            extremes: Vec::new(),
            next_extremes: Vec::new(),
            extreme_keys: Vec::new(),
            sum: CompensatedSum::default(),
            state: None,
        }
    }

    /// Makes this new state's next row `row`, as if every row before it had been null: from
    /// `row + op.warm_up()` on it gives the whole column's bits ([`ScanOp::warm_up`]; the
    /// ring is full-sized, holding `w ≤ row` entries).
    pub fn resume_at(&mut self, row: usize) {
        debug_assert!(self.row == 0 && self.ring.is_empty());
        self.row = row;
        if self.w > 0 && row > 0 {
            self.offset = row % self.w;
            self.ring = vec![None; self.w];
        }
    }

    /// Feeds the next `len` rows: `get(i)` is row `i` of this feed; `put(i, value)` its result.
    pub fn feed(
        &mut self,
        len: usize,
        get: impl Fn(usize) -> Option<f64>,
        mut put: impl FnMut(usize, Option<f64>),
    ) {
        if let ScanOp::MSum { .. } | ScanOp::MAvg { .. } = self.op {
            // The hot window: its running sum stays in a local (a register), not in `self`,
            // which the ring's stores could alias as far as the optimiser knows. Fed a whole
            // 1M-row column, `mavg(x, 20)` took 3.6–3.8 ns/row this way and 7.0–7.9 through
            // `step` (best of 30 runs each).
            let is_sum = matches!(self.op, ScanOp::MSum { .. });
            let (mut prefix, mut offset) = (self.prefix, self.offset);
            let (ring, suffix, w) = (&mut self.ring, &mut self.suffix, self.w);
            for i in 0..len {
                put(i, block_sum_row(&mut prefix, offset, w, ring, suffix, is_sum, get(i)));
                offset = if offset + 1 == w { 0 } else { offset + 1 };
            }
            (self.prefix, self.offset, self.row) = (prefix, offset, self.row + len);
            return;
        }
        for i in 0..len {
            let value = self.step(get(i));
            put(i, value);
        }
    }

    /// Feeds the next `values.len()` rows given as slices — the native loops' path, the same
    /// bits as [`feed`](Self::feed) — with every row valid (`validity` None) or valid where
    /// `validity[i] & 1 == 1`, which then receives each result's validity (0/1). Results go
    /// to `out` (0 where null). Each op runs its own loop with its state in locals, so the
    /// running values stay in registers.
    pub fn feed_slices(&mut self, values: &[f64], validity: Option<&mut [u8]>, out: &mut [f64]) {
        debug_assert!(out.len() == values.len() && validity.as_ref().is_none_or(|v| v.len() == values.len()));
        match validity {
            None => self.feed_block::<false>(values, &mut [], out),
            // A block with a validity buffer but no null (a lag's operand past its first rows)
            // takes the all-valid path: a scan of valid rows gives valid results.
            Some(validity) if crate::types::every_row_valid(validity) => {
                self.feed_block::<false>(values, &mut [], out);
                validity.fill(1);
            }
            Some(validity) => self.feed_block::<true>(values, validity, out),
        }
    }

    #[inline(always)]
    fn feed_block<const NULLS: bool>(&mut self, values: &[f64], validity: &mut [u8], out: &mut [f64]) {
        let len = values.len();
        let w = self.w;
        let advance = |offset: usize| if offset + 1 == w { 0 } else { offset + 1 };
        match self.op {
            ScanOp::MSum { .. } | ScanOp::MAvg { .. } => {
                // [`block_sum_row`] a segment (the rows up to the end of a w-row block) at a
                // time: no per-row test for the block's end, the ring and the previous block's
                // suffixes read as slices.
                let is_sum = matches!(self.op, ScanOp::MSum { .. });
                let (mut prefix, mut offset) = (self.prefix, self.offset);
                let mut done = 0;
                while done < len {
                    let rows = window_sum_groups::group_rows(len - done, w);
                    if !NULLS
                        && offset == 0
                        && rows > 0
                        && self.whole_block_groups_apply()
                        && let Some(last) = self.feed_whole_block_groups(
                            &values[done..done + rows],
                            &mut out[done..done + rows],
                            &mut PrefetchAhead::none(),
                        )
                    {
                        prefix = last;
                        done += rows;
                        continue;
                    }
                    if NULLS
                        && offset == 0
                        && rows > 0
                        && let Some(last) = self.feed_whole_block_groups_over_nulls(
                            &values[done..done + rows],
                            &mut validity[done..done + rows],
                            &mut out[done..done + rows],
                        )
                    {
                        prefix = last;
                        done += rows;
                        continue;
                    }
                    if offset == 0 && len - done >= w {
                        // A whole block in this feed: its suffix sums (for the next block)
                        // are taken from its rows here, a second dependency chain beside the
                        // prefix's, instead of from the ring after it (which it then skips).
                        let rows = done..done + w;
                        // The rows' validity is read after some results' validity replaced it.
                        self.block_validity.clear();
                        let validity = if NULLS { &mut validity[rows.clone()] } else { &mut [][..] };
                        self.block_validity.extend_from_slice(validity);
                        self.next_suffix.resize(w + 1, (SUM_IDENTITY, 0));
                        let before = (!self.suffix.is_empty()).then_some(&self.suffix[..]);
                        prefix = sum_whole_block::<NULLS>(
                            &values[rows.clone()],
                            (&self.block_validity, validity),
                            &mut out[rows],
                            before,
                            &mut self.next_suffix,
                            is_sum,
                        );
                        std::mem::swap(&mut self.suffix, &mut self.next_suffix);
                        done += w;
                        continue;
                    }
                    let segment = (len - done).min(w - offset);
                    if offset == 0 {
                        prefix = (SUM_IDENTITY, 0);
                    }
                    if self.ring.len() < offset + segment {
                        self.ring.resize(offset + segment, None);
                    }
                    let rows = done..done + segment;
                    let ring = &mut self.ring[offset..offset + segment];
                    let validity = if NULLS { &mut validity[rows.clone()] } else { &mut [][..] };
                    // Before the first block completes there is no previous block.
                    let before = self.suffix.get(offset + 1..offset + segment + 1);
                    sum_segment::<NULLS>(
                        &values[rows.clone()],
                        validity,
                        &mut out[rows],
                        ring,
                        before,
                        &mut prefix,
                        is_sum,
                    );
                    done += segment;
                    offset += segment;
                    if offset == w {
                        fill_sum_suffixes(&self.ring[..w], &mut self.suffix);
                        offset = 0;
                    }
                }
                (self.prefix, self.offset, self.row) = (prefix, offset, self.row + len);
            }
            ScanOp::MMin { .. } | ScanOp::MMax { .. } => {
                let is_min = matches!(self.op, ScanOp::MMin { .. });
                let (mut prefix, mut offset) = (self.extreme, self.offset);
                let mut done = 0;
                while done < len {
                    let rows = done..(done + w).min(len);
                    // A whole block with no valid NaN: its prefix and suffix extremes in two
                    // plain loops (the extreme of a window does not depend on the order it is
                    // taken in, so any order gives these bits).
                    let block = &values[rows.clone()];
                    let no_valid_nan = || {
                        if NULLS {
                            block
                                .iter()
                                .zip(&validity[rows.clone()])
                                .all(|(x, valid)| valid & 1 == 0 || !x.is_nan())
                        } else {
                            block.iter().all(|x| !x.is_nan())
                        }
                    };
                    if offset == 0 && rows.len() == w && no_valid_nan() {
                        self.next_extremes.resize(w + 1, ExtremePart::empty(is_min));
                        let validity = if NULLS { &mut validity[rows.clone()] } else { &mut [][..] };
                        let (out, before, next) = (&mut out[rows], &self.extremes, &mut self.next_extremes);
                        // No null, and no NaN before either (the parts' counts are suffix
                        // counts, so the whole block's part has them all): keys alone.
                        let before_has_nan = before.first().is_some_and(|part| part.nan > 0);
                        prefix = if !NULLS && !before_has_nan {
                            let keys = &mut self.extreme_keys;
                            if is_min {
                                extreme_whole_block_of_keys::<true>(block, out, before, next, keys)
                            } else {
                                extreme_whole_block_of_keys::<false>(block, out, before, next, keys)
                            }
                        } else if is_min {
                            extreme_whole_block::<true, NULLS>(block, validity, out, before, next)
                        } else {
                            extreme_whole_block::<false, NULLS>(block, validity, out, before, next)
                        };
                        std::mem::swap(&mut self.extremes, &mut self.next_extremes);
                        done += w;
                        continue;
                    }
                    // Up to the end of the block, row by row.
                    let rows = done..done + (len - done).min(w - offset);
                    let (ring, suffix) = (&mut self.ring, &mut self.extremes);
                    let validity = if NULLS { &mut validity[rows.clone()] } else { &mut [][..] };
                    feed_rows::<NULLS>(&values[rows.clone()], validity, &mut out[rows.clone()], |x| {
                        let result = block_extreme_row(&mut prefix, offset, w, ring, suffix, is_min, x);
                        offset = advance(offset);
                        result
                    });
                    done = rows.end;
                }
                (self.extreme, self.offset, self.row) = (prefix, offset, self.row + len);
            }
            ScanOp::MStd { .. } => {
                let (mut prefix, mut shift, mut offset) = (self.power_prefix, self.shift, self.offset);
                let mut done = 0;
                while done < len {
                    // Four whole blocks at a time after a block of valid finite rows
                    // (`window_sum_groups`), as far as their rows and means are finite.
                    if !NULLS
                        && offset == 0
                        && len - done >= WINDOW_SUM_GROUP_BLOCKS * w
                        && let Some(block_shift) = self.block_shift
                        && self.power_sums.len() == w + 1
                        && self
                            .power_sums
                            .iter()
                            .enumerate()
                            .all(|(j, sums)| sums.finite as usize == w - j && sums.non_finite == 0)
                    {
                        let mut block_shift = block_shift;
                        let fed = window_sum_groups::std_block_groups(
                            &values[done..],
                            &mut out[done..],
                            w,
                            (&mut self.power_sums, &mut block_shift),
                            &mut self.group_scratch,
                        );
                        if let Some((rows, last_prefix, last_shift)) = fed {
                            (prefix, shift, self.block_shift) =
                                (last_prefix, Some(last_shift), Some(block_shift));
                            done += rows;
                            continue;
                        }
                    }
                    let rows = if offset == 0 && len - done >= w {
                        // A whole block: its sums first, then the divisions and square roots
                        // of every row at once, in a loop the compiler vectorises.
                        let rows = done..done + w;
                        self.block_validity.clear();
                        let validity = if NULLS { &mut validity[rows.clone()] } else { &mut [][..] };
                        self.block_validity.extend_from_slice(validity);
                        (prefix, shift) = std_whole_block::<NULLS>(
                            &values[rows.clone()],
                            (&self.block_validity, validity),
                            &mut out[rows.clone()],
                            (&mut self.power_sums, &mut self.next_power_sums),
                            &mut self.block_shift,
                            &mut self.denominators,
                        );
                        std::mem::swap(&mut self.power_sums, &mut self.next_power_sums);
                        rows
                    } else {
                        let rows = done..done + (len - done).min(w - offset);
                        let (ring, sums, block_shift) =
                            (&mut self.ring, &mut self.power_sums, &mut self.block_shift);
                        let validity = if NULLS { &mut validity[rows.clone()] } else { &mut [][..] };
                        feed_rows::<NULLS>(&values[rows.clone()], validity, &mut out[rows.clone()], |x| {
                            let result = block_std_row(
                                (&mut prefix, &mut shift),
                                offset,
                                w,
                                ring,
                                (sums, block_shift),
                                x,
                            );
                            offset = advance(offset);
                            result
                        });
                        rows
                    };
                    done = rows.end;
                }
                (self.power_prefix, self.shift, self.offset, self.row) =
                    (prefix, shift, offset, self.row + len);
            }
            ScanOp::CumSum => {
                if self.sum.add_finite_block::<NULLS>(values, validity, out) {
                    self.row += len;
                    return;
                }
                let mut sum = self.sum;
                feed_rows::<NULLS>(values, validity, out, |x| {
                    x.map(|x| {
                        sum.add(x);
                        sum.total()
                    })
                });
                (self.sum, self.row) = (sum, self.row + len);
            }
            ScanOp::CumMax => {
                self.state = cumulative_extremes::<true, NULLS>(self.state, values, validity, out);
                self.row += len;
            }
            ScanOp::CumMin => {
                self.state = cumulative_extremes::<false, NULLS>(self.state, values, validity, out);
                self.row += len;
            }
            ScanOp::CumProd | ScanOp::Ema { .. } => {
                let mut state = self.state;
                let op = self.op;
                feed_rows::<NULLS>(values, validity, out, |x| {
                    x.map(|x| {
                        let next = cumulative_step(op, state, x);
                        state = Some(next);
                        next
                    })
                });
                (self.state, self.row) = (state, self.row + len);
            }
        }
    }

    /// Two `ema`s over the same block of every-valid rows at once — `first` over `a` into
    /// `out_a`, `second` over `b` into `out_b` — each with [`feed_slices`](Self::feed_slices)'s
    /// bits: the same `α·x + (1−α)·s` per row, the two dependency chains interleaved so
    /// that each waits for the other's latency. Returns false, feeding nothing, unless both
    /// are `ema`s already started (a first block starts them on the one-at-a-time path).
    pub fn feed_ema_pair(
        first: &mut FloatScanState,
        second: &mut FloatScanState,
        (a, out_a): (&[f64], &mut [f64]),
        (b, out_b): (&[f64], &mut [f64]),
    ) -> bool {
        let (ScanOp::Ema { alpha_bits: alpha }, ScanOp::Ema { alpha_bits: beta }) = (first.op, second.op)
        else {
            return false;
        };
        let (Some(mut s), Some(mut t)) = (first.state, second.state) else { return false };
        let len = a.len();
        if b.len() != len || out_a.len() != len || out_b.len() != len {
            return false;
        }
        let (alpha, beta) = (f64::from_bits(alpha), f64::from_bits(beta));
        for (((&x, &y), result_a), result_b) in a.iter().zip(b).zip(out_a.iter_mut()).zip(out_b.iter_mut()) {
            // `cumulative_step`'s `ema` arm, written out for both.
            s = alpha * x + (1.0 - alpha) * s;
            t = beta * y + (1.0 - beta) * t;
            *result_a = s;
            *result_b = t;
        }
        (first.state, second.state) = (Some(s), Some(t));
        first.row += len;
        second.row += len;
        true
    }

    /// Two `msum`/`mavg`s of the same window over the same block of every-valid rows at once
    /// — `first` over `a` into `out_a`, `second` over `b` into `out_b` — each with
    /// [`feed_slices`](Self::feed_slices)'s bits: the rows before the first window block
    /// boundary and after the last whole block go through `feed_slices` one window at a time,
    /// whole groups of four blocks, where both may take them, through
    /// [`feed_whole_block_groups`](Self::feed_whole_block_groups) one window after the other,
    /// and each other whole block after the column's first through [`sum_whole_block_pair`],
    /// which runs the rows of `feed_slices`' whole-block path for both, interleaved. `ahead`
    /// is asked for its lines a share per group, over both windows' groups. Returns false,
    /// feeding nothing, unless both are window sums of one length at one offset.
    pub fn feed_window_sum_pair(
        first: &mut FloatScanState,
        second: &mut FloatScanState,
        (a, out_a): (&[f64], &mut [f64]),
        (b, out_b): (&[f64], &mut [f64]),
        ahead: &mut PrefetchAhead,
    ) -> bool {
        let is_window_sum = |op: ScanOp| matches!(op, ScanOp::MSum { .. } | ScanOp::MAvg { .. });
        let len = a.len();
        if !is_window_sum(first.op)
            || !is_window_sum(second.op)
            || first.w != second.w
            || first.offset != second.offset
            || b.len() != len
            || out_a.len() != len
            || out_b.len() != len
        {
            return false;
        }
        let w = first.w;
        let head = ((w - first.offset) % w).min(len);
        first.feed_slices(&a[..head], None, &mut out_a[..head]);
        second.feed_slices(&b[..head], None, &mut out_b[..head]);
        let mut done = head;
        while len - done >= w {
            let groups = window_sum_groups::group_rows(len - done, w);
            // `done` is on a block boundary of both (the head brought them there).
            if groups > 0 && first.whole_block_groups_apply() && second.whole_block_groups_apply() {
                // Four blocks at a time side by side give each window chains enough to
                // overlap; the two windows need not share a loop.
                let rows = done..done + groups;
                ahead.spread_over(2 * groups / (WINDOW_SUM_GROUP_BLOCKS * w));
                for (state, values, out) in [(&mut *first, a, &mut *out_a), (&mut *second, b, &mut *out_b)] {
                    match state.feed_whole_block_groups(&values[rows.clone()], &mut out[rows.clone()], ahead)
                    {
                        Some(last) => {
                            state.prefix = last;
                            state.row += groups;
                        }
                        None => state.feed_slices(&values[rows.clone()], None, &mut out[rows.clone()]),
                    }
                }
                done += groups;
                continue;
            }
            let rows = done..done + w;
            if first.suffix.is_empty() || second.suffix.is_empty() {
                // The column's first block has no previous one: fed one window at a time.
                first.feed_slices(&a[rows.clone()], None, &mut out_a[rows.clone()]);
                second.feed_slices(&b[rows.clone()], None, &mut out_b[rows]);
                done += w;
                continue;
            }
            first.next_suffix.resize(w + 1, (SUM_IDENTITY, 0));
            second.next_suffix.resize(w + 1, (SUM_IDENTITY, 0));
            let first_window =
                (&a[rows.clone()], &mut out_a[rows.clone()], &first.suffix[..], &mut first.next_suffix[..]);
            let second_window =
                (&b[rows.clone()], &mut out_b[rows], &second.suffix[..], &mut second.next_suffix[..]);
            let (first_prefix, second_prefix) = match (first.op, second.op) {
                (ScanOp::MSum { .. }, ScanOp::MSum { .. }) => {
                    sum_whole_block_pair::<true, true>(first_window, second_window)
                }
                (ScanOp::MSum { .. }, _) => sum_whole_block_pair::<true, false>(first_window, second_window),
                (_, ScanOp::MSum { .. }) => sum_whole_block_pair::<false, true>(first_window, second_window),
                _ => sum_whole_block_pair::<false, false>(first_window, second_window),
            };
            for (state, prefix) in [(&mut *first, first_prefix), (&mut *second, second_prefix)] {
                std::mem::swap(&mut state.suffix, &mut state.next_suffix);
                state.prefix = prefix;
                state.row += w;
            }
            done += w;
        }
        first.feed_slices(&a[done..], None, &mut out_a[done..]);
        second.feed_slices(&b[done..], None, &mut out_b[done..]);
        true
    }

    /// Whether the next rows of this `msum`/`mavg`, fed from a block boundary (the caller's
    /// offset, which `feed_block` keeps in a local, is 0), may go to
    /// [`feed_whole_block_groups`](Self::feed_whole_block_groups): the CPU runs the groups, a
    /// previous block exists, and for `mavg` that block had no null (each of its suffixes
    /// counts every row), so that every window of a group holds `w` valid rows.
    fn whole_block_groups_apply(&self) -> bool {
        let w = self.w;
        let previous_block_full =
            || self.suffix.iter().enumerate().all(|(j, &(_, count))| count as usize == w - j);
        window_sum_groups::available()
            && self.suffix.len() == w + 1
            && (matches!(self.op, ScanOp::MSum { .. }) || previous_block_full())
    }

    /// Feeds `values` — whole groups of four w-row blocks of every-valid rows, from a block
    /// boundary, where [`whole_block_groups_apply`](Self::whole_block_groups_apply) — with the
    /// bits of the whole-block path, and leaves the last block's suffixes for the next.
    /// `ahead` is asked for a share of its lines before each group.
    /// Returns the last block's prefix (the caller keeps it and counts the rows), or None,
    /// feeding nothing, where the groups do not run.
    fn feed_whole_block_groups(
        &mut self,
        values: &[f64],
        out: &mut [f64],
        ahead: &mut PrefetchAhead,
    ) -> Option<(f64, u32)> {
        let is_sum = matches!(self.op, ScanOp::MSum { .. });
        let last = window_sum_groups::sum_block_groups(
            values,
            out,
            self.w,
            &mut self.suffix,
            (&mut self.group_scratch, ahead),
            is_sum,
        )?;
        Some((last, self.w as u32))
    }

    /// [`feed_whole_block_groups`](Self::feed_whole_block_groups) for rows with nulls
    /// (`validity`: 0/1 bytes, then each result's validity). The groups sum the values with
    /// each null as `SUM_IDENTITY` — what the whole-block path adds for a null, so the same
    /// sum bits — and each window's count of valid rows is counted apart, from the previous
    /// block's suffix counts and the rows' validity: a window with no valid row is null (0 in
    /// `out`), and `mavg` divides the sum by the count, as the whole-block path does. The last
    /// block's suffix counts are then set to its valid rows'. Returns its prefix sum and count,
    /// or None, feeding nothing, where the groups do not run (no previous block, or no AVX2).
    fn feed_whole_block_groups_over_nulls(
        &mut self,
        values: &[f64],
        validity: &mut [u8],
        out: &mut [f64],
    ) -> Option<(f64, u32)> {
        let w = self.w;
        if !window_sum_groups::available() || self.suffix.len() != w + 1 {
            return None;
        }
        let is_sum = matches!(self.op, ScanOp::MSum { .. });
        // `before` holds the previous block's suffix counts (read before the groups set them
        // to w − j), `next` the current block's, built from its rows' validity.
        self.window_counts.clear();
        self.window_counts.extend(self.suffix.iter().map(|&(_, count)| count));
        self.window_counts.resize(2 * (w + 1), 0);
        // A loop over slices of one length, which LLVM vectorises (an `extend` it did not).
        self.identity_for_nulls.resize(values.len(), SUM_IDENTITY);
        for ((substituted, &x), &valid) in self.identity_for_nulls.iter_mut().zip(values).zip(validity.iter())
        {
            *substituted = valid_or_identity(x, valid & 1 == 1);
        }
        let last = window_sum_groups::sum_block_groups(
            &self.identity_for_nulls,
            out,
            w,
            &mut self.suffix,
            (&mut self.group_scratch, &mut PrefetchAhead::none()),
            true,
        )?;
        let (mut before, mut next) = self.window_counts.split_at_mut(w + 1);
        let blocks = values.len() / w;
        let mut last_count = 0;
        let rows = validity.chunks_exact_mut(w).zip(out.chunks_exact_mut(w));
        if is_sum {
            // A window is empty exactly from the previous block's last valid row to the
            // current block's first (both runs of nulls), so `msum`'s validity needs no count
            // a row: `empty_from` is where the current block's empty windows can start.
            let mut empty_from = before.iter().take_while(|&&count| count > 0).count().saturating_sub(1);
            for (index, (validity, out)) in rows.enumerate() {
                let first_valid = validity.iter().position(|&valid| valid & 1 == 1).unwrap_or(w);
                let valid_to = validity.iter().rposition(|&valid| valid & 1 == 1).map_or(0, |last| last + 1);
                if index + 1 == blocks {
                    // The last block's suffix counts, for the blocks fed after these.
                    suffix_valid_counts(validity, before);
                    last_count = before[0];
                }
                validity.fill(1);
                for k in empty_from..first_valid {
                    (validity[k], out[k]) = (0, 0.0);
                }
                empty_from = valid_to.saturating_sub(1);
            }
        } else {
            for (validity, out) in rows {
                // This block's suffix counts, the next block's `before`, before its validity
                // is replaced by its results'.
                suffix_valid_counts(validity, next);
                let mut count = 0;
                for (k, (valid, result)) in validity.iter_mut().zip(out.iter_mut()).enumerate() {
                    count += u32::from(*valid & 1);
                    let in_window = count + before[k + 1];
                    *result = if in_window == 0 { 0.0 } else { *result / f64::from(in_window) };
                    *valid = u8::from(in_window > 0);
                }
                last_count = count;
                std::mem::swap(&mut before, &mut next);
            }
        }
        // `before` now holds the last block's suffix counts.
        for (suffix, &valid_rows) in self.suffix.iter_mut().zip(before.iter()) {
            suffix.1 = valid_rows;
        }
        Some((last, last_count))
    }

    /// One row: its value in, its result out.
    #[inline(always)]
    fn step(&mut self, x: Option<f64>) -> Option<f64> {
        let offset = self.offset;
        self.row += 1;
        if self.w > 0 {
            self.offset = if offset + 1 == self.w { 0 } else { offset + 1 };
        }
        match self.op {
            ScanOp::MSum { .. } | ScanOp::MAvg { .. } => {
                let is_sum = matches!(self.op, ScanOp::MSum { .. });
                block_sum_row(&mut self.prefix, offset, self.w, &mut self.ring, &mut self.suffix, is_sum, x)
            }
            ScanOp::MStd { .. } => block_std_row(
                (&mut self.power_prefix, &mut self.shift),
                offset,
                self.w,
                &mut self.ring,
                (&mut self.power_sums, &mut self.block_shift),
                x,
            ),
            ScanOp::MMin { .. } | ScanOp::MMax { .. } => {
                let is_min = matches!(self.op, ScanOp::MMin { .. });
                block_extreme_row(
                    &mut self.extreme,
                    offset,
                    self.w,
                    &mut self.ring,
                    &mut self.extremes,
                    is_min,
                    x,
                )
            }
            ScanOp::CumSum => x.map(|x| {
                self.sum.add(x);
                self.sum.total()
            }),
            ScanOp::CumProd | ScanOp::CumMax | ScanOp::CumMin | ScanOp::Ema { .. } => x.map(|x| {
                let next = cumulative_step(self.op, self.state, x);
                self.state = Some(next);
                next
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Integer columns. Values arrive widened to i64 (an i32 exactly) and results leave as i64;
// the caller narrows an i32 result by wrapping (`as i32`), which for sums and products is
// the i32 wrapping result (reduction modulo 2³² commutes with + and ×) and for min and max
// is exact. Reductions and scans whose result is a float (mean, var, std, mavg, mstd, ema)
// never see integers: `check` converts their operand to f64 first.

/// The running state of `sum`, `min`, `max` and `count` over an integer column. The sum is
/// exact: accumulated in i128 (2⁶⁴ rows of |x| ≤ 2⁶³ cannot overflow it), and null when the
/// total does not fit in i64 — never a wrapped, wrong number.
#[derive(Debug, Clone)]
pub struct IntegerReduceState {
    ops: Vec<ReduceOp>,
    count: usize,
    sum: i128,
    min: Option<i64>,
    max: Option<i64>,
}

impl IntegerReduceState {
    pub fn new(ops: &[ReduceOp]) -> IntegerReduceState {
        IntegerReduceState { ops: ops.to_vec(), count: 0, sum: 0, min: None, max: None }
    }

    pub fn feed(&mut self, len: usize, get: impl Fn(usize) -> Option<i64>) {
        for row in 0..len {
            if let Some(x) = get(row) {
                self.count += 1;
                self.sum += i128::from(x);
                self.min = Some(self.min.map_or(x, |m| m.min(x)));
                self.max = Some(self.max.map_or(x, |m| m.max(x)));
            }
        }
    }

    /// [`feed`](Self::feed) for rows that are all valid (an i32 column widened exactly), in
    /// loops the compiler vectorises: the exact sum from each value's bits as unsigned halves,
    /// `x = high·2³² + low − negative·2⁶⁴` (logical shifts and adds alone, which SSE2 has),
    /// summed apart over at most 2³⁰ rows, where neither half's sum can overflow a `u64`; and
    /// the minimum and the maximum. Each only where an op asks for it: `finish` reports
    /// nothing else, `wrapping_sum` is asked of a `Sum` state, and `absorb` of a state that
    /// skipped one keeps the other state's.
    pub fn feed_valid<T: Copy + Into<i64>>(&mut self, values: &[T]) {
        #[cfg(target_arch = "x86_64")]
        {
            // AVX-512 has 64-bit `min`/`max` (`vpminsq`/`vpmaxsq`); AVX2 compares and blends.
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F was just detected.
                return unsafe { self.feed_valid_avx512(values) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 was just detected.
                return unsafe { self.feed_valid_avx2(values) };
            }
        }
        self.feed_valid_rows(values);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn feed_valid_avx512<T: Copy + Into<i64>>(&mut self, values: &[T]) {
        self.feed_valid_rows(values);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn feed_valid_avx2<T: Copy + Into<i64>>(&mut self, values: &[T]) {
        self.feed_valid_rows(values);
    }

    /// [`feed_valid`](Self::feed_valid)'s loops, inlined into each tier's entry point.
    #[inline(always)]
    fn feed_valid_rows<T: Copy + Into<i64>>(&mut self, values: &[T]) {
        const ROWS: usize = 1 << 30;
        self.count += values.len();
        // A pass for each statistic asked for: one pass computing all three would run at the
        // speed of the slowest (64-bit `min`/`max` compare and blend below AVX-512).
        if self.ops.contains(&ReduceOp::Sum) {
            for chunk in values.chunks(ROWS) {
                let (mut high, mut low, mut negative) = (0u64, 0u64, 0u64);
                for &x in chunk {
                    let bits = x.into() as u64;
                    high += bits >> 32;
                    low += bits & 0xFFFF_FFFF;
                    negative += bits >> 63;
                }
                self.sum += (i128::from(high) << 32) + i128::from(low) - (i128::from(negative) << 64);
            }
        }
        if values.is_empty() {
            return;
        }
        if self.ops.contains(&ReduceOp::Min) {
            let min = values.iter().fold(i64::MAX, |min, &x| min.min(x.into()));
            self.min = Some(self.min.map_or(min, |m| m.min(min)));
        }
        if self.ops.contains(&ReduceOp::Max) {
            let max = values.iter().fold(i64::MIN, |max, &x| max.max(x.into()));
            self.max = Some(self.max.map_or(max, |m| m.max(max)));
        }
    }

    /// Takes in the state of the next range of rows (sums, counts, min and max are exact, so
    /// any split gives the same values).
    pub fn absorb(&mut self, other: IntegerReduceState) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = match (self.min, other.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, other.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// The sum modulo 2⁶⁴ (what a wrapping running sum reaches), `None` for no valid rows.
    pub fn wrapping_sum(&self) -> Option<i64> {
        (self.count > 0).then_some(self.sum as i64)
    }

    /// Each op's value: `sum` (0 for no rows, null when it overflows i64), `min`/`max` (null
    /// for no rows), `count`.
    pub fn finish(self) -> Vec<Option<i64>> {
        self.ops
            .iter()
            .map(|op| match op {
                ReduceOp::Sum => i64::try_from(self.sum).ok(),
                ReduceOp::Min => self.min,
                ReduceOp::Max => self.max,
                ReduceOp::Count => Some(i64::try_from(self.count).unwrap_or(i64::MAX)),
                ReduceOp::Mean
                | ReduceOp::Var { .. }
                | ReduceOp::Std { .. }
                | ReduceOp::Any
                | ReduceOp::All => {
                    unreachable!("check converts integers to f64 for {op:?}; the verifier enforces it")
                }
            })
            .collect()
    }
}

/// The running state of a scan of an integer column (`msum mmin mmax cumsum cumprod cummax
/// cummin`), with the null rules of [`FloatScanState`]. Sums and products wrap (two's
/// complement, as `+` and `*` on integers): a window sum adds the entering value and
/// subtracts the leaving one, exact modulo 2⁶⁴, so it equals the true window sum whenever
/// that fits.
#[derive(Debug, Clone)]
pub struct IntegerScanState {
    op: ScanOp,
    row: usize,
    w: usize,
    ring: Vec<Option<i64>>,
    offset: usize,
    valid: usize,
    sum: i64,
    deque: VecDeque<(usize, i64)>,
    state: Option<i64>,
}

impl IntegerScanState {
    pub fn new(op: ScanOp) -> IntegerScanState {
        let w = match op {
            ScanOp::MSum { w } | ScanOp::MMin { w } | ScanOp::MMax { w } => w as usize,
            ScanOp::MAvg { w } | ScanOp::MStd { w } => w as usize,
            ScanOp::CumSum | ScanOp::CumProd | ScanOp::CumMax | ScanOp::CumMin | ScanOp::Ema { .. } => 0,
        };
        IntegerScanState {
            op,
            row: 0,
            w,
            ring: Vec::new(),
            offset: 0,
            valid: 0,
            sum: 0,
            deque: VecDeque::new(),
            state: None,
        }
    }

    /// As [`FloatScanState::resume_at`].
    pub fn resume_at(&mut self, row: usize) {
        debug_assert!(self.row == 0 && self.ring.is_empty());
        self.row = row;
        if self.w > 0 && row > 0 {
            self.offset = row % self.w;
            self.ring = vec![None; self.w];
        }
    }

    pub fn feed(
        &mut self,
        len: usize,
        get: impl Fn(usize) -> Option<i64>,
        mut put: impl FnMut(usize, Option<i64>),
    ) {
        for i in 0..len {
            let value = self.step(get(i));
            put(i, value);
        }
    }

    fn step(&mut self, x: Option<i64>) -> Option<i64> {
        let row = self.row;
        self.row += 1;
        match self.op {
            ScanOp::MSum { .. } | ScanOp::MMin { .. } | ScanOp::MMax { .. } => {
                let offset = self.offset;
                self.offset = if offset + 1 == self.w { 0 } else { offset + 1 };
                let leaving = if row >= self.w { self.ring[offset] } else { None };
                ring_store(&mut self.ring, offset, x);
                if let Some(x) = x {
                    self.valid += 1;
                    self.sum = self.sum.wrapping_add(x);
                    let is_min = matches!(self.op, ScanOp::MMin { .. });
                    // Keep the deque strictly monotonic from the front: a later equal value
                    // replaces an earlier one (it leaves the window later).
                    while self
                        .deque
                        .back()
                        .is_some_and(|&(_, back)| if is_min { back >= x } else { back <= x })
                    {
                        self.deque.pop_back();
                    }
                    self.deque.push_back((row, x));
                }
                if let Some(x) = leaving {
                    self.valid -= 1;
                    self.sum = self.sum.wrapping_sub(x);
                }
                while self.deque.front().is_some_and(|&(index, _)| index + self.w <= row) {
                    self.deque.pop_front();
                }
                if self.valid == 0 {
                    return None;
                }
                match self.op {
                    ScanOp::MSum { .. } => Some(self.sum),
                    _ => self.deque.front().map(|&(_, value)| value),
                }
            }
            ScanOp::CumSum | ScanOp::CumProd | ScanOp::CumMax | ScanOp::CumMin => x.map(|x| {
                let next = match (self.state, self.op) {
                    (None, _) => x,
                    (Some(s), ScanOp::CumSum) => s.wrapping_add(x),
                    (Some(s), ScanOp::CumProd) => s.wrapping_mul(x),
                    (Some(s), ScanOp::CumMax) => s.max(x),
                    (Some(s), _) => s.min(x),
                };
                self.state = Some(next);
                next
            }),
            ScanOp::MAvg { .. } | ScanOp::MStd { .. } | ScanOp::Ema { .. } => {
                unreachable!("check converts integers to f64 for {:?}; the verifier enforces it", self.op)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Typed entry points: the state for a column of a given element type, and whole-column
// forms over optional scalars for the interpreter and the engine's multi-pass execution.

/// Whether the stateful semantics take values of `elem` as floats (f64, f32, and bool as
/// 0/1 for `count`/`any`/`all`) or as integers.
fn is_integer_operand(elem: Elem) -> bool {
    match elem {
        Elem::I64 | Elem::I32 => true,
        Elem::F64 | Elem::F32 | Elem::Bool => false,
    }
}

/// The running state of a set of reductions of one column of element type `elem`.
#[derive(Debug, Clone)]
pub enum ReduceState {
    /// Boxed: its 64-row chunk makes it far larger than the integer state.
    Float(Box<FloatReduceState>),
    Integer(IntegerReduceState),
}

impl ReduceState {
    pub fn new(ops: &[ReduceOp], elem: Elem) -> ReduceState {
        if is_integer_operand(elem) {
            ReduceState::Integer(IntegerReduceState::new(ops))
        } else {
            ReduceState::Float(Box::new(FloatReduceState::new(ops)))
        }
    }

    /// Makes this new state's next row `row`, a multiple of [`CHUNK_ROWS`]: it reduces one
    /// range of rows, combined with the others' by [`ReduceState::absorb`] in row order.
    pub fn resume_at(&mut self, row: usize) {
        match self {
            ReduceState::Float(state) => state.resume_at(row),
            ReduceState::Integer(_) => {}
        }
    }

    /// What this range contributes: the float tree's subtrees, or the exact integer state.
    pub fn into_partial(self) -> ReducePartial {
        match self {
            ReduceState::Float(state) => ReducePartial::Float(state.into_tree()),
            ReduceState::Integer(state) => ReducePartial::Integer(state),
        }
    }

    /// Takes in the partial of the next range of rows.
    pub fn absorb(&mut self, partial: ReducePartial) {
        match (self, partial) {
            (ReduceState::Float(state), ReducePartial::Float(tree)) => state.absorb(tree),
            (ReduceState::Integer(state), ReducePartial::Integer(other)) => state.absorb(other),
            (ReduceState::Float(_), ReducePartial::Integer(_))
            | (ReduceState::Integer(_), ReducePartial::Float(_)) => {
                unreachable!("the partials of one reduction come from states of one element type")
            }
        }
    }

    /// Each op's value, of the op's result type for an operand of type `elem`
    /// ([`ReduceOp::result_elem`]): an f32 result rounded once from f64.
    pub fn finish(self, ops: &[ReduceOp], elem: Elem) -> Vec<Option<Scalar>> {
        match self {
            ReduceState::Float(state) => state
                .finish()
                .into_iter()
                .zip(ops)
                .map(|(value, op)| value.map(|value| scalar_from_f64(op.result_elem(elem), value)))
                .collect(),
            ReduceState::Integer(state) => state
                .finish()
                .into_iter()
                .zip(ops)
                .map(|(value, op)| value.map(|value| scalar_from_i64(op.result_elem(elem), value)))
                .collect(),
        }
    }
}

/// What one range of rows contributes to a reduction ([`ReduceState::into_partial`]).
#[derive(Debug, Clone)]
pub enum ReducePartial {
    Float(ReduceTree),
    Integer(IntegerReduceState),
}

/// The running state of a scan of a column of element type `elem`.
#[derive(Debug, Clone)]
pub enum ScanState {
    /// Boxed: its windows' rings and sums make it several times the integer state's size.
    Float(Box<FloatScanState>),
    Integer(IntegerScanState),
}

impl ScanState {
    pub fn new(op: ScanOp, elem: Elem) -> ScanState {
        if is_integer_operand(elem) {
            ScanState::Integer(IntegerScanState::new(op))
        } else {
            ScanState::Float(Box::new(FloatScanState::new(op)))
        }
    }

    /// See [`FloatScanState::resume_at`].
    pub fn resume_at(&mut self, row: usize) {
        match self {
            ScanState::Float(state) => state.resume_at(row),
            ScanState::Integer(state) => state.resume_at(row),
        }
    }

    /// For `cummax`/`cummin` (and an integer `cumsum`): makes the running state `value`, the
    /// `max`/`min` (the wrapping sum) of every row before the next one fed (`None`: none of
    /// them valid). Because `maximum`, `minimum` and wrapping integer addition are
    /// associative (NaN payloads aside), the rows after give the bits a state fed every
    /// earlier row gives.
    pub fn carry_in(&mut self, value: Option<Scalar>) {
        match self {
            ScanState::Float(state) => {
                debug_assert!(matches!(state.op, ScanOp::CumMax | ScanOp::CumMin));
                state.state = value.map(scalar_as_f64);
            }
            ScanState::Integer(state) => {
                debug_assert!(matches!(state.op, ScanOp::CumMax | ScanOp::CumMin | ScanOp::CumSum));
                state.state = value.map(scalar_as_i64);
            }
        }
    }

    /// An `ema`'s running value, `None` before its first valid row; `None` too for any other
    /// scan (which has no such single value). With [`ScanState::set_ema`], what lets a range
    /// of a column start where another run of the same `ema` stood (`engine::speculated_scans`).
    pub fn ema(&self) -> Option<Option<f64>> {
        match self {
            ScanState::Float(state) if matches!(state.op, ScanOp::Ema { .. }) => Some(state.state),
            ScanState::Float(_) | ScanState::Integer(_) => None,
        }
    }

    /// Makes an `ema`'s running value `value` (`None`: not started), as if the rows fed so far
    /// had left it there: the next rows step from it as [`cumulative_step`] does. Does nothing
    /// to any other scan.
    pub fn set_ema(&mut self, value: Option<f64>) {
        if let ScanState::Float(state) = self
            && matches!(state.op, ScanOp::Ema { .. })
        {
            state.state = value;
        }
    }
}

/// Every reduction in `ops` over a column of element type `elem` given row by row.
pub fn reduce(
    ops: &[ReduceOp],
    elem: Elem,
    len: usize,
    get: impl Fn(usize) -> Option<Scalar>,
) -> Vec<Option<Scalar>> {
    let mut state = ReduceState::new(ops, elem);
    match &mut state {
        ReduceState::Float(state) => state.feed(len, |row| get(row).map(scalar_as_f64)),
        ReduceState::Integer(state) => state.feed(len, |row| get(row).map(scalar_as_i64)),
    }
    state.finish(ops, elem)
}

/// Runs `op` down a column of element type `elem`: `put(row, value)` for every row in order,
/// each value of the scan's result type.
pub fn scan(
    op: ScanOp,
    elem: Elem,
    len: usize,
    get: impl Fn(usize) -> Option<Scalar>,
    mut put: impl FnMut(usize, Option<Scalar>),
) {
    let out = op.result_elem(elem);
    match ScanState::new(op, elem) {
        ScanState::Float(mut state) => state.feed(
            len,
            |row| get(row).map(scalar_as_f64),
            |row, value| put(row, value.map(|value| scalar_from_f64(out, value))),
        ),
        ScanState::Integer(mut state) => state.feed(
            len,
            |row| get(row).map(scalar_as_i64),
            |row, value| put(row, value.map(|value| scalar_from_i64(out, value))),
        ),
    }
}

/// A value as the float semantics take it: f32 widened exactly, bool as 0 or 1.
pub fn scalar_as_f64(value: Scalar) -> f64 {
    match value {
        Scalar::F64(v) => v,
        Scalar::F32(v) => f64::from(v),
        Scalar::Bool(v) => f64::from(u8::from(v)),
        Scalar::I64(_) | Scalar::I32(_) => unreachable!("integers take the integer semantics"),
    }
}

/// A value as the integer semantics take it: i32 widened exactly.
pub fn scalar_as_i64(value: Scalar) -> i64 {
    match value {
        Scalar::I64(v) => v,
        Scalar::I32(v) => i64::from(v),
        Scalar::F64(_) | Scalar::F32(_) | Scalar::Bool(_) => unreachable!("floats take the float semantics"),
    }
}

/// A float result as element type `elem`: f32 rounded once, bool as non-zero.
pub fn scalar_from_f64(elem: Elem, value: f64) -> Scalar {
    match elem {
        Elem::F64 => Scalar::F64(value),
        Elem::F32 => Scalar::F32(value as f32),
        Elem::Bool => Scalar::Bool(value != 0.0),
        // `count` of a float column: the count was computed as an f64 of at most 2⁵³.
        Elem::I64 => Scalar::I64(value as i64),
        Elem::I32 => unreachable!("no float reduction or scan gives i32"),
    }
}

/// An integer result as element type `elem`: an i32 by wrapping (see the section's comment).
pub fn scalar_from_i64(elem: Elem, value: i64) -> Scalar {
    match elem {
        Elem::I64 => Scalar::I64(value),
        Elem::I32 => Scalar::I32(value as i32),
        Elem::F64 | Elem::F32 | Elem::Bool => unreachable!("integer reductions and scans give integers"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[Option<f64>]) -> impl Fn(usize) -> Option<f64> + '_ {
        move |row| values[row]
    }

    /// Rows as bits to compare, any NaN as one value: Rust leaves the payloads and signs of
    /// NaN results unspecified.
    fn bits(values: &[Option<f64>]) -> Vec<Option<u64>> {
        values.iter().map(|v| v.map(|v| if v.is_nan() { 1 } else { v.to_bits() })).collect()
    }

    fn scanned(op: ScanOp, values: &[Option<f64>]) -> Vec<Option<f64>> {
        let mut out = vec![None; values.len()];
        scan_f64(op, values.len(), column(values), |row, value| out[row] = value);
        out
    }

    #[test]
    fn reductions_skip_nulls_and_define_empty_results() {
        let x = [Some(1.0), None, Some(2.0), Some(4.0)];
        let ops = [
            ReduceOp::Sum,
            ReduceOp::Mean,
            ReduceOp::Var { ddof: 0 },
            ReduceOp::Var { ddof: 1 },
            ReduceOp::Min,
            ReduceOp::Max,
            ReduceOp::Count,
        ];
        let got = reduce_f64(&ops, x.len(), column(&x));
        let mean = 7.0 / 3.0;
        let m2 = (1.0f64 - mean).powi(2) + (2.0f64 - mean).powi(2) + (4.0f64 - mean).powi(2);
        assert_eq!(got[0], Some(7.0));
        assert_eq!(got[1], Some(mean));
        assert!((got[2].unwrap() - m2 / 3.0).abs() < 1e-15);
        assert!((got[3].unwrap() - m2 / 2.0).abs() < 1e-15);
        assert_eq!((got[4], got[5], got[6]), (Some(1.0), Some(4.0), Some(3.0)));
        let empty = reduce_f64(&ops, 2, |_| None);
        assert_eq!(empty, vec![Some(0.0), None, None, None, None, None, Some(0.0)]);
        assert_eq!(reduce_f64(&[ReduceOp::Var { ddof: 1 }], 1, |_| Some(3.0)), vec![None]);
        assert_eq!(reduce_f64(&[ReduceOp::Any, ReduceOp::All], 0, |_| None), vec![Some(0.0), Some(1.0)]);
    }

    #[test]
    fn merging_equal_counts_gives_the_bits_of_chan_golub_leveques_divisions() {
        // `merge` skips the update's two divisions when the counts are equal and small enough
        // for them to be exact; every count here must give what the divisions give. 94 906 267
        // and 123 456 789 are counts whose square rounds, where `n_left / 2` would differ.
        let needs = Needs { sum: true, m2: true, min_max: true };
        let mut left_rows: Vec<f64> = (0..CHUNK_ROWS).map(|row| 100.0 + (row as f64 * 0.37).sin()).collect();
        let mut right_rows: Vec<f64> = (0..CHUNK_ROWS).map(|row| 101.5 + (row as f64 * 0.11).cos()).collect();
        let mut left = ChunkMoments::of_chunk(&mut left_rows, needs);
        let mut right = ChunkMoments::of_chunk(&mut right_rows, needs);
        for count in [1, 2, 3, 64, 4096, 1 << 20, (1 << 26) - 1, 1 << 26, 94_906_267, 123_456_789, 1 << 40] {
            (left.count, right.count) = (count, count);
            let merged = ChunkMoments::merge(&left, &right, needs);
            let n = count as f64;
            let delta = ((right.shift - left.shift) + right.mean) - left.mean;
            let mean = left.mean + delta * (n / (n + n));
            let m2 = left.m2 + right.m2 + delta * delta * (n * n / (n + n));
            assert_eq!(
                (merged.mean.to_bits(), merged.m2.to_bits()),
                (mean.to_bits(), m2.to_bits()),
                "{count}"
            );
            assert_eq!(merged.count, 2 * count);
        }
        assert_ne!(left.mean, right.mean + (right.shift - left.shift), "the merge must move the mean");
    }

    #[test]
    fn compensated_sums_and_chunked_variance_are_accurate() {
        // The documented bound, 2u·|S| + 17u·Σ|x|, on sums where plain summation drifts:
        // 10⁶ × 0.1 (exact: 10⁵ + 10⁶·(0.1's representation error)), and 1 + 10⁴ × 10⁻¹⁶.
        let u = f64::EPSILON / 2.0;
        // 10⁶ times the f64 nearest 0.1 is 100000.0000000000055…, which rounds to 10⁵.
        let exact = 100_000.0;
        let got = reduce_f64(&[ReduceOp::Sum], 1_000_000, |_| Some(0.1))[0].unwrap();
        assert!((got - exact).abs() <= 2.0 * u * exact + 17.0 * u * exact, "{got} vs {exact}");
        let plain: f64 = (0..1_000_000).map(|_| 0.1).sum();
        assert!((got - exact).abs() < (plain - exact).abs() / 100.0, "{got} {plain}");
        let got =
            reduce_f64(&[ReduceOp::Sum], 10_001, |row| Some(if row == 0 { 1.0 } else { 1e-16 }))[0].unwrap();
        assert!((got - 1.000_000_000_001).abs() <= 19.0 * u * 1.000_000_000_001, "{got}");
        // A huge offset: the naive E[x²] − E[x]² formula gives garbage, this gives 2/3·… exactly.
        let get = |row: usize| Some(1e9 + (row % 3) as f64);
        let var = reduce_f64(&[ReduceOp::Var { ddof: 0 }], 3000, get)[0].unwrap();
        assert!((var - 2.0 / 3.0).abs() < 1e-15, "{var}");
    }

    #[test]
    fn windows_use_partial_windows_skip_nulls_and_recover_from_infinities() {
        let x = [Some(1.0), Some(2.0), None, Some(4.0), Some(f64::INFINITY), Some(6.0), Some(7.0), Some(8.0)];
        assert_eq!(
            scanned(ScanOp::MSum { w: 2 }, &x),
            vec![
                Some(1.0),
                Some(3.0),
                Some(2.0),
                Some(4.0),
                Some(f64::INFINITY),
                Some(f64::INFINITY),
                Some(13.0),
                Some(15.0)
            ]
        );
        assert_eq!(scanned(ScanOp::MAvg { w: 3 }, &x)[3], Some(3.0));
        assert_eq!(
            scanned(ScanOp::MMin { w: 3 }, &x),
            vec![Some(1.0), Some(1.0), Some(1.0), Some(2.0), Some(4.0), Some(4.0), Some(6.0), Some(6.0)]
        );
        assert_eq!(scanned(ScanOp::MMax { w: 2 }, &x)[6], Some(7.0));
        assert_eq!(scanned(ScanOp::MSum { w: 1 }, &[None, Some(2.0)]), vec![None, Some(2.0)]);
        let std = scanned(ScanOp::MStd { w: 2 }, &x);
        assert_eq!(std[0], Some(0.0));
        assert_eq!(std[1], Some(0.5));
        assert!(std[4].unwrap().is_nan() && std[5].unwrap().is_nan());
        assert_eq!(std[6], Some(0.5));
        // -0 is below +0 for mmin, and stays the minimum while it is in the window.
        let zeros = [Some(0.0), Some(-0.0), Some(0.0)];
        assert_eq!(scanned(ScanOp::MMin { w: 3 }, &zeros)[2].map(f64::to_bits), Some((-0.0f64).to_bits()));
    }

    #[test]
    fn feeding_in_pieces_gives_the_whole_columns_bits() {
        let x: Vec<Option<f64>> = (0..3000)
            .map(|i| match i % 17 {
                3 => None,
                5 => Some(f64::INFINITY),
                11 if i % 51 == 11 => Some(f64::NAN),
                _ => Some(100.0 + (i as f64 * 0.7).sin() * 9.0),
            })
            .collect();
        let ops = [
            ScanOp::MSum { w: 20 },
            ScanOp::MAvg { w: 7 },
            ScanOp::MStd { w: 64 },
            ScanOp::MMin { w: 513 },
            ScanOp::MMax { w: 1 },
            ScanOp::CumSum,
            ScanOp::CumProd,
            ScanOp::CumMax,
            ScanOp::CumMin,
            ScanOp::Ema { alpha_bits: 0.1f64.to_bits() },
        ];
        for op in ops {
            let whole = scanned(op, &x);
            let mut pieces = vec![None; x.len()];
            let mut state = FloatScanState::new(op);
            let mut start = 0;
            for len in [1usize, 511, 512, 7, 1000, 969] {
                state.feed(len, |i| x[start + i], |i, value| pieces[start + i] = value);
                start += len;
            }
            assert_eq!(start, x.len());
            let bits = |v: &Vec<Option<f64>>| v.iter().map(|v| v.map(f64::to_bits)).collect::<Vec<_>>();
            assert_eq!(bits(&pieces), bits(&whole), "{op:?}");
        }
    }

    /// A cumulative sum whose finite values overflow, fed as slices, leaves the branch-free
    /// block path for the general one and gives `feed`'s bits.
    #[test]
    fn an_overflowing_cumsum_fed_as_slices_gives_the_bits_of_feeding_rows() {
        let x: Vec<Option<f64>> = (0..1500).map(|i| Some(if i % 3 == 0 { 1e308 } else { -3e307 })).collect();
        let whole = scanned(ScanOp::CumSum, &x);
        let mut state = FloatScanState::new(ScanOp::CumSum);
        let mut got = Vec::new();
        for piece in x.chunks(512) {
            let values: Vec<f64> = piece.iter().map(|v| v.unwrap()).collect();
            let mut out = vec![0.0; piece.len()];
            state.feed_slices(&values, None, &mut out);
            got.extend(out.into_iter().map(Some));
        }
        assert!(whole.iter().any(|v| v.is_some_and(f64::is_infinite)), "the sum overflows");
        assert_eq!(bits(&got), bits(&whole));
    }

    /// A cumulative sum's branch-free blocks write `total`'s bits where the compensation is a
    /// zero of either sign: leading runs of −0 (the sum stays −0), nulls among them, errors
    /// that cancel the compensation to zero, and a state handed over from the row-by-row
    /// `feed`; in pieces that cut anywhere.
    #[test]
    fn cumsum_blocks_give_totals_bits_for_zero_sums_and_zero_compensations() {
        let columns: Vec<Vec<Option<f64>>> = vec![
            (0..700).map(|i| Some(if i < 300 { -0.0 } else { 0.25 * i as f64 })).collect(),
            (0..700).map(|i| if i % 3 == 1 { None } else { Some(-0.0) }).collect(),
            (0..700)
                .map(|i| match i % 6 {
                    _ if i < 70 => Some(-0.0),
                    0 => Some(1e16),
                    1 => Some(1.0),
                    2 => Some(-1e16),
                    3 => Some(-1.0),
                    4 => None,
                    _ => Some(if i % 12 == 5 { 0.0 } else { -0.0 }),
                })
                .collect(),
            (0..700)
                .map(|i| {
                    Some(if i == 0 {
                        -0.0
                    } else if i % 2 == 0 {
                        0.1
                    } else {
                        -0.1
                    })
                })
                .collect(),
        ];
        for x in &columns {
            let whole = scanned(ScanOp::CumSum, x);
            for (rows_first, pieces) in
                [(0usize, &[700usize][..]), (0, &[1, 299, 1, 399]), (5, &[64, 631]), (301, &[399])]
            {
                let mut state = FloatScanState::new(ScanOp::CumSum);
                let mut got = vec![None; rows_first];
                state.feed(rows_first, |i| x[i], |i, value| got[i] = value);
                let mut start = rows_first;
                for &len in pieces {
                    let values: Vec<f64> = x[start..start + len].iter().map(|v| v.unwrap_or(5.0)).collect();
                    let mut validity: Vec<u8> =
                        x[start..start + len].iter().map(|v| u8::from(v.is_some())).collect();
                    let mut out = vec![1.5; len];
                    state.feed_slices(&values, Some(&mut validity[..]), &mut out);
                    got.extend(out.iter().zip(&validity).map(|(&v, &valid)| (valid == 1).then_some(v)));
                    if x[start..start + len].iter().all(Option::is_some) {
                        // The all-valid loop too, from the state the rows before left.
                        let mut again = FloatScanState::new(ScanOp::CumSum);
                        let mut before = vec![None; start];
                        again.feed(start, |i| x[i], |i, value| before[i] = value);
                        let mut out = vec![1.5; len];
                        again.feed_slices(&values, None, &mut out);
                        let out: Vec<Option<f64>> = out.into_iter().map(Some).collect();
                        assert_eq!(
                            bits(&out),
                            bits(&whole[start..start + len]),
                            "all valid from row {start}"
                        );
                    }
                    start += len;
                }
                assert_eq!(start, x.len());
                assert_eq!(bits(&got), bits(&whole), "first {rows_first} rows by `feed`, pieces {pieces:?}");
            }
            assert!(whole.iter().any(|v| v.is_some_and(|v| v == 0.0 && v.is_sign_negative())), "a −0 total");
        }
    }

    /// `feed_valid_f32` gives the bits of feeding the rows widened one by one.
    #[test]
    fn feeding_valid_f32_rows_gives_the_bits_of_feeding_them_widened() {
        let x: Vec<f32> = (0..5000).map(|i| 1000.0 + (i as f32 * 0.3).sin() * 7.0).collect();
        let ops = [ReduceOp::Mean, ReduceOp::Std { ddof: 0 }, ReduceOp::Max];
        // Halves that start on and off group boundaries, so pieces of every kind are fed.
        for len in [0usize, 3, 64, 700, 1024, 2000, 3000, 5000] {
            let mut rows = FloatReduceState::new(&ops);
            rows.feed(len, |i| Some(f64::from(x[i])));
            let mut fast = FloatReduceState::new(&ops);
            fast.feed_valid_f32(&x[..len / 2]);
            fast.feed_valid_f32(&x[len / 2..len]);
            assert_eq!(bits(&fast.finish()), bits(&rows.finish()), "{len} rows");
        }
    }

    /// min/max/any/all equal the definition, `minimum`/`maximum` folded in row order (the
    /// first NaN, payload and sign kept; −0 < +0) and `x != 0` tests, for columns with NaNs of
    /// either sign, zeros of either sign and infinities anywhere in their chunks.
    #[test]
    fn extremes_equal_the_minimum_and_maximum_fold() {
        let specials = [-f64::NAN, f64::NAN, -0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, -1.5, 2.5];
        for rows in [1usize, 5, 64, 65, 300] {
            for (a, &first) in specials.iter().enumerate() {
                for (b, &second) in specials.iter().enumerate() {
                    let x: Vec<f64> = (0..rows)
                        .map(|i| {
                            if i == (a * 37) % rows {
                                first
                            } else if i == (b * 53 + 11) % rows {
                                second
                            } else {
                                1.0 + i as f64
                            }
                        })
                        .collect();
                    let ops = [ReduceOp::Min, ReduceOp::Max, ReduceOp::Any, ReduceOp::All];
                    let got = reduce_f64(&ops, rows, |i| Some(x[i]));
                    let mut fast = FloatReduceState::new(&ops);
                    fast.feed_valid(&x);
                    let min = x.iter().copied().reduce(minimum).unwrap();
                    let max = x.iter().copied().reduce(maximum).unwrap();
                    let any = f64::from(u8::from(x.iter().any(|&v| v != 0.0)));
                    let all = f64::from(u8::from(x.iter().all(|&v| v != 0.0)));
                    let want = [Some(min), Some(max), Some(any), Some(all)];
                    let exact = |v: &[Option<f64>]| v.iter().map(|v| v.map(f64::to_bits)).collect::<Vec<_>>();
                    assert_eq!(exact(&got), exact(&want), "{rows} rows, {first} and {second}");
                    assert_eq!(exact(&fast.finish()), exact(&want), "{rows} rows, {first} and {second}");
                }
            }
        }
    }

    /// `feed_valid` (whole chunks read where they lie, four at a time) gives `feed`'s bits for
    /// every reduction, fed in pieces that start and end anywhere in a chunk.
    #[test]
    fn feeding_valid_rows_where_they_lie_gives_the_bits_of_feeding_rows() {
        // Values near 1e6 (whose shifted moments differ with any change of the arithmetic),
        // then the same with −0s, an infinity and a NaN.
        let moderate: Vec<f64> = (0..5000).map(|i| 1e6 + (i as f64 * 0.37).sin() * 3.0).collect();
        let special: Vec<f64> = (0..5000)
            .map(|i| match i % 97 {
                5 => -0.0,
                50 if i > 4000 => f64::INFINITY,
                70 if i > 4500 => -f64::NAN,
                _ => moderate[i],
            })
            .collect();
        for x in [moderate, special] {
            // The last sets take no sum: `feed_valid`'s AVX-512 tier where the CPU has it, and
            // whole groups' extremes in one pass rather than merged from their chunks.
            let op_sets: [&[ReduceOp]; 7] = [
                &[ReduceOp::Sum, ReduceOp::Mean],
                &[ReduceOp::Mean, ReduceOp::Std { ddof: 0 }],
                &[ReduceOp::Var { ddof: 1 }, ReduceOp::Min, ReduceOp::Max, ReduceOp::Count],
                &[ReduceOp::Any, ReduceOp::All, ReduceOp::Sum],
                &[ReduceOp::Min, ReduceOp::Max, ReduceOp::Any, ReduceOp::Count],
                &[ReduceOp::Max],
                &[ReduceOp::All, ReduceOp::Min],
            ];
            for ops in op_sets {
                for len in [0usize, 1, 63, 64, 65, 255, 256, 257, 1000, 4000, 5000] {
                    let mut whole = FloatReduceState::new(ops);
                    whole.feed(len, |i| Some(x[i]));
                    let expected = whole.finish();
                    for pieces in [&[len][..], &[len / 3, len - len / 3], &[1.min(len), len - 1.min(len)]] {
                        let mut state = FloatReduceState::new(ops);
                        let mut start = 0;
                        for &piece in pieces {
                            state.feed_valid(&x[start..start + piece]);
                            start += piece;
                        }
                        assert_eq!(
                            bits(&state.finish()),
                            bits(&expected),
                            "{ops:?}, {len} rows in {pieces:?}"
                        );
                    }
                    // Ranges (threads) that start on chunk edges between the 512-row groups
                    // of whole chunks, absorbed in order.
                    for step in [192usize, 704, 1600] {
                        let mut state = FloatReduceState::new(ops);
                        let mut first = 0;
                        while first < len {
                            let last = (first + step).min(len);
                            let mut range = FloatReduceState::new(ops);
                            range.resume_at(first);
                            range.feed_valid(&x[first..last]);
                            state.absorb(range.into_tree());
                            first = last;
                        }
                        assert_eq!(
                            bits(&state.finish()),
                            bits(&expected),
                            "{ops:?}, {len} rows, ranges of {step}"
                        );
                    }
                }
            }
        }
    }

    /// The variance passes' AVX2 sweeps give the portable sums' bits (the bits of a CPU
    /// without AVX2, which this machine's tests would not otherwise check), for one and four
    /// chunks: moderate values in the first (whose squared deviations change with any change
    /// of the arithmetic), −0s and subnormals from the second, ±∞, NaN and values whose
    /// squares overflow in the last two.
    #[test]
    fn variance_sums_with_avx2_give_the_portable_bits() {
        let rows: Vec<f64> = (0..4 * CHUNK_ROWS)
            .map(|i| match i % 37 {
                3 if i > 64 => -0.0,
                11 if i > 128 => f64::INFINITY,
                19 if i > 192 => f64::NAN,
                23 if i > 64 => 4.9e-324,
                29 if i > 128 => 1e300,
                _ => 1e6 + (i as f64 * 0.37).sin() * 3.0,
            })
            .collect();
        let four: [&[f64]; 4] = std::array::from_fn(|k| &rows[k * CHUNK_ROWS..(k + 1) * CHUNK_ROWS]);
        let shifts = [1e6 + 0.3, -3.5, 0.0, 1e6 + 1.0];
        let means = [0.1, 1.0 / 3.0, -7.3, 2.7];
        let bits = |sums: [f64; 4]| sums.map(f64::to_bits);
        for plain in [false, true] {
            let (shifted, sums) = shifted_sums(four, shifts, plain);
            let (expected_shifted, expected_sums) = shifted_sums_portable(four, shifts, plain);
            assert_eq!(bits(shifted), bits(expected_shifted), "plain: {plain}");
            assert_eq!(sums.map(bits), expected_sums.map(bits), "plain: {plain}");
        }
        let squares = squared_deviation_sums(four, shifts, means);
        let expected_squares = squared_deviation_sums_portable(four, shifts, means);
        assert_eq!(bits(squares), bits(expected_squares));
        for (k, chunk) in four.iter().enumerate() {
            // One chunk alone sums as it does among four.
            let (shifted, sums) = shifted_sums([*chunk], [shifts[k]], true);
            assert_eq!(shifted[0].to_bits(), shifted_sums_portable(four, shifts, false).0[k].to_bits());
            assert_eq!(
                sums.map(|sums| sums[0].to_bits()),
                Some(sum4_interleaved(four, |_, x| x)[k].to_bits())
            );
            let squares = squared_deviation_sums([*chunk], [shifts[k]], [means[k]]);
            assert_eq!(squares[0].to_bits(), expected_squares[k].to_bits());
        }
        // The specials reach the sums, and the first chunks stay finite, so the test can fail.
        assert!(expected_squares[0].is_finite() && expected_squares[1].is_finite(), "{expected_squares:?}");
        assert!(expected_squares[2].is_infinite() && expected_squares[3].is_nan(), "{expected_squares:?}");
    }

    /// `feed_compacting` (every value stored, the fill count advanced by validity) gives
    /// `feed`'s bits, with nulls scattered, in runs and everywhere, in pieces that cut chunks
    /// anywhere; the values under nulls (NaN, ∞, huge) change nothing.
    #[test]
    fn feeding_rows_compacting_gives_the_bits_of_feeding_valid_rows() {
        let values: Vec<f64> = (0..3000)
            .map(|i| match i % 11 {
                3 => f64::NAN,
                7 => f64::INFINITY,
                9 => 1e300,
                _ => 1e6 + (i as f64 * 0.37).sin() * 3.0,
            })
            .collect();
        // Null exactly where the value is special, plus a pattern; a run of nulls; none valid.
        let patterns: [&dyn Fn(usize) -> bool; 3] = [
            &|i| !matches!(i % 11, 3 | 7 | 9) && i % 5 != 2,
            &|i| !matches!(i % 11, 3 | 7 | 9) && !(700..1500).contains(&i),
            &|_| false,
        ];
        let ops = [ReduceOp::Sum, ReduceOp::Std { ddof: 1 }, ReduceOp::Min, ReduceOp::Max, ReduceOp::Count];
        for valid in patterns {
            for len in [0usize, 1, 63, 64, 65, 1000, 3000] {
                let mut rows = FloatReduceState::new(&ops);
                rows.feed(len, |i| valid(i).then_some(values[i]));
                let expected = rows.finish();
                for pieces in [&[len][..], &[len / 3, len - len / 3], &[1.min(len), len - 1.min(len)]] {
                    let mut state = FloatReduceState::new(&ops);
                    let mut start = 0;
                    for &piece in pieces {
                        let word = |i: usize| {
                            (0..64).fold(0u64, |word, j| word | (u64::from(valid(start + i + j)) << j))
                        };
                        state.feed_compacting(&values[start..start + piece], word);
                        start += piece;
                    }
                    assert_eq!(bits(&state.finish()), bits(&expected), "{len} rows in {pieces:?}");
                }
            }
        }
    }

    /// `cummax`/`cummin` over every-valid slices (integer keys, eight rows per step with
    /// AVX-512) give the bits of `maximum`/`minimum` folded row by row: ±0 in every order,
    /// infinities, and NaNs of either sign with payloads at every position of a group of
    /// eight (the first sticks), fed whole and in pieces that start anywhere.
    #[test]
    fn cumulative_extremes_over_slices_are_the_folds_bits() {
        let nan_payload = f64::from_bits(0x7ff8_0000_0000_1234);
        let negative_nan = f64::from_bits(0xfff0_0000_0000_0042);
        let base: Vec<f64> = (0..300)
            .map(|i| match i % 23 {
                0 => -0.0,
                4 => 0.0,
                9 => f64::INFINITY,
                15 => f64::NEG_INFINITY,
                _ => ((i * 7919) % 211) as f64 - 105.0,
            })
            .collect();
        let mut columns =
            vec![base.clone(), vec![-0.0; 40], vec![0.0, -0.0, -0.0, 0.0, 0.0, -0.0, -0.0, 0.0, -0.0]];
        for at in [0usize, 1, 7, 8, 13, 64, 290] {
            for nan in [nan_payload, negative_nan] {
                let mut x = base.clone();
                x[at] = nan;
                x[(at + 100) % 300] = -nan;
                columns.push(x);
            }
        }
        // Validity patterns: every row valid, nulls scattered (some over the NaNs), a null
        // run across groups of eight, nulls leading the column, every row null. Null rows
        // hold NaNs and huge values, which must not show.
        let len = base.len();
        let patterns: Vec<Option<Vec<bool>>> = vec![
            None,
            Some((0..len).map(|i| i % 5 != 2 && i % 11 != 0).collect()),
            Some((0..len).map(|i| !(20..45).contains(&i) && i != 100 && i != 7).collect()),
            Some((0..len).map(|i| i >= 13).collect()),
            Some(vec![false; len]),
        ];
        for x in &columns {
            for pattern in &patterns {
                let len = x.len();
                let valid_at = |i: usize| pattern.as_ref().is_none_or(|p| p[i]);
                let x: Vec<f64> = (0..len)
                    .map(|i| if valid_at(i) { x[i] } else { [f64::NAN, 1e300, -1e300][i % 3] })
                    .collect();
                for op in [ScanOp::CumMax, ScanOp::CumMin] {
                    // The row-by-row fold: a null row is null and the state carries over it.
                    let expected: Vec<(u64, u8)> = (0..len)
                        .scan(None, |state: &mut Option<f64>, i| {
                            if !valid_at(i) {
                                return Some((0.0f64.to_bits(), 0));
                            }
                            let next = cumulative_step(op, *state, x[i]);
                            *state = Some(next);
                            Some((next.to_bits(), 1))
                        })
                        .collect();
                    for pieces in [
                        &[len][..],
                        &[1.min(len), len - 1.min(len)],
                        &[len / 3, 5.min(len - len / 3), len - len / 3 - 5.min(len - len / 3)],
                    ] {
                        // Validity bytes carry other bits above bit 0, which must be ignored.
                        let bytes = |range: std::ops::Range<usize>| -> Vec<u8> {
                            range.map(|i| if valid_at(i) { 0x81 } else { 0x7e }).collect()
                        };
                        let mut state = FloatScanState::new(op);
                        let (mut got, mut start) = (Vec::new(), 0);
                        for &piece in pieces {
                            let mut out = vec![1.5; piece];
                            let mut validity = bytes(start..start + piece);
                            let validity_arg = pattern.as_ref().map(|_| &mut validity[..]);
                            state.feed_slices(&x[start..start + piece], validity_arg, &mut out);
                            let validity = if pattern.is_some() { validity } else { vec![1; piece] };
                            got.extend(out.iter().map(|v| v.to_bits()).zip(validity));
                            start += piece;
                        }
                        assert_eq!(got, expected, "{op:?}, pieces {pieces:?}, {pattern:?}, column {x:?}");
                        // The compare-and-move chain alone (a CPU without AVX-512).
                        let (mut state, mut got, mut start) = (None, Vec::new(), 0);
                        for &piece in pieces {
                            let mut out = vec![1.5; piece];
                            let values = &x[start..start + piece];
                            let mut validity = bytes(start..start + piece);
                            state = match (op == ScanOp::CumMax, pattern.is_some()) {
                                (true, true) => cumulative_extremes_on::<true, true>(
                                    false,
                                    state,
                                    values,
                                    &mut validity,
                                    &mut out,
                                ),
                                (false, true) => cumulative_extremes_on::<false, true>(
                                    false,
                                    state,
                                    values,
                                    &mut validity,
                                    &mut out,
                                ),
                                (true, false) => cumulative_extremes_on::<true, false>(
                                    false,
                                    state,
                                    values,
                                    &mut [],
                                    &mut out,
                                ),
                                (false, false) => cumulative_extremes_on::<false, false>(
                                    false,
                                    state,
                                    values,
                                    &mut [],
                                    &mut out,
                                ),
                            };
                            let validity = if pattern.is_some() { validity } else { vec![1; piece] };
                            got.extend(out.iter().map(|v| v.to_bits()).zip(validity));
                            start += piece;
                        }
                        assert_eq!(
                            got, expected,
                            "{op:?} without AVX-512, pieces {pieces:?}, {pattern:?}, column {x:?}"
                        );
                    }
                }
            }
        }
    }

    /// `feed_slices` (the native loops' path: each op its own loop, whole msum/mavg blocks
    /// taking their suffixes from the rows) gives `feed`'s bits, with and without validity, in
    /// pieces that cut blocks anywhere.
    #[test]
    fn feeding_slices_gives_the_bits_of_feeding_rows() {
        // Specials only in rows 1000..1400, so that most windows are finite; a run of nulls
        // in 2000..2100 empties the windows shorter than it.
        let column = |nulls: bool| -> Vec<Option<f64>> {
            (0..3000)
                .map(|i| match i % 17 {
                    _ if nulls && (2000..2100).contains(&i) => None,
                    3 if nulls => None,
                    5 if (1000..1400).contains(&i) => Some(f64::INFINITY),
                    7 => Some(-0.0),
                    9 => Some(0.0),
                    11 if i % 51 == 11 && (1000..1400).contains(&i) => Some(f64::NAN),
                    13 if i % 34 == 13 && (1000..1400).contains(&i) => Some(f64::NEG_INFINITY),
                    _ => Some(100.0 + (i as f64 * 0.7).sin() * 9.0),
                })
                .collect()
        };
        let mut ops = vec![
            ScanOp::CumSum,
            ScanOp::CumProd,
            ScanOp::CumMax,
            ScanOp::CumMin,
            ScanOp::Ema { alpha_bits: 0.1f64.to_bits() },
        ];
        for w in [1, 2, 3, 7, 20, 64, 511, 513, 2999, 5000] {
            ops.extend([
                ScanOp::MSum { w },
                ScanOp::MAvg { w },
                ScanOp::MStd { w },
                ScanOp::MMin { w },
                ScanOp::MMax { w },
            ]);
        }
        for nulls in [false, true] {
            let x = column(nulls);
            for &op in &ops {
                let whole = scanned(op, &x);
                for pieces in [&[3000usize][..], &[1, 511, 512, 7, 1000, 969], &[20, 20, 19, 21, 2920]] {
                    let mut state = FloatScanState::new(op);
                    let (mut got, mut start) = (Vec::new(), 0);
                    for &len in pieces {
                        let values: Vec<f64> =
                            x[start..start + len].iter().map(|v| v.unwrap_or(7.0)).collect();
                        let mut validity: Vec<u8> =
                            x[start..start + len].iter().map(|v| u8::from(v.is_some())).collect();
                        let mut out = vec![1.5; len];
                        state.feed_slices(&values, nulls.then_some(&mut validity[..]), &mut out);
                        // A null result's value is +0 ("0 where null").
                        let null_values = out.iter().zip(&validity).filter(|&(_, &valid)| valid == 0);
                        assert!(
                            null_values.clone().all(|(v, _)| v.to_bits() == 0),
                            "{op:?}, pieces {pieces:?}"
                        );
                        got.extend(out.iter().zip(&validity).map(|(&v, &valid)| (valid == 1).then_some(v)));
                        start += len;
                    }
                    assert_eq!(bits(&got), bits(&whole), "{op:?}, nulls {nulls}, pieces {pieces:?}");
                }
            }
        }
    }

    /// Whole blocks fed four at a time (`window_sum_groups`, where the CPU has AVX2) give the
    /// bits of feeding rows: every window length about the transposes' quads (a remainder of
    /// 0–3 rows), specials in the groups, and a run of every-valid rows after a block with
    /// nulls, which `msum` takes in groups and `mavg` and `mstd` (whose windows then hold
    /// fewer rows) do not; for `mstd`, also finite values whose block means overflow (a
    /// group it refuses) and values far from zero (where its shifts matter).
    #[test]
    fn whole_blocks_fed_four_at_a_time_give_the_bits_of_feeding_rows() {
        let special = |i: usize| match i {
            // Nulls only in the first piece's last rows.
            290..300 if i.is_multiple_of(3) => Some(None),
            1000 => Some(Some(f64::INFINITY)),
            1300 => Some(Some(f64::NAN)),
            1700 => Some(Some(f64::NEG_INFINITY)),
            _ if i % 11 == 4 => Some(Some(-0.0)),
            _ => None,
        };
        let column = |value: &dyn Fn(usize) -> f64| -> Vec<Option<f64>> {
            (0..2400).map(|i| special(i).unwrap_or_else(|| Some(value(i)))).collect()
        };
        let near_zero = column(&|i| 1e3 + (i as f64 * 0.37).sin() * 250.0 + (i % 7) as f64 * 1e-9);
        let far = column(&|i| match i {
            600..700 => 1.25e308 - i as f64 * 1e300,
            _ => 3e9 + (i as f64 * 0.37).sin() * 0.5 + (i % 7) as f64 * 1e-7,
        });
        for w in [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 20, 33, 64] {
            for (op, column) in [
                (ScanOp::MSum { w }, &near_zero),
                (ScanOp::MAvg { w }, &near_zero),
                (ScanOp::MStd { w }, &near_zero),
                (ScanOp::MStd { w }, &far),
            ] {
                let whole = scanned(op, column);
                for pieces in [&[300usize, 2100][..], &[300, 4 * w as usize, 2100 - 4 * w as usize]] {
                    let mut state = FloatScanState::new(op);
                    let (mut got, mut start) = (Vec::new(), 0);
                    for &len in pieces {
                        let rows = &column[start..start + len];
                        let values: Vec<f64> = rows.iter().map(|v| v.unwrap_or(7.0)).collect();
                        let mut validity: Vec<u8> = rows.iter().map(|v| u8::from(v.is_some())).collect();
                        let mut out = vec![1.5; len];
                        state.feed_slices(&values, Some(&mut validity), &mut out);
                        got.extend(out.iter().zip(&validity).map(|(&v, &valid)| (valid == 1).then_some(v)));
                        start += len;
                    }
                    assert_eq!(bits(&got), bits(&whole), "{op:?}, pieces {pieces:?}");
                    // The groups ran (they size their scratch), so this test tests them.
                    if window_sum_groups::available() {
                        assert!(!state.group_scratch.is_empty(), "{op:?}, pieces {pieces:?}");
                    }
                }
            }
        }
    }

    /// Two window sums fed as a pair give each one's bits fed alone, whatever the pieces,
    /// windows and kinds; pairs the pair path refuses (other ops, other window lengths, other
    /// offsets) feed nothing.
    #[test]
    fn window_sums_fed_as_a_pair_give_the_bits_of_feeding_each_alone() {
        // Specials in some blocks, so that infinities and NaN pass through the paired loop too.
        let a: Vec<f64> = (0..3000)
            .map(|i| match i {
                1000 => f64::INFINITY,
                1500 => f64::NAN,
                _ if i % 7 == 3 => -0.0,
                _ => 100.0 + (i as f64 * 0.7).sin() * 9.0,
            })
            .collect();
        let b: Vec<f64> = (0..3000).map(|i| 1000.0 + (i as f64 * 0.13).cos() * 300.0).collect();
        let pieces: [&[usize]; 3] = [&[3000], &[1, 511, 512, 7, 1000, 969], &[20, 20, 19, 21, 2920]];
        for w in [1, 2, 3, 20, 64, 511, 513, 2999, 5000] {
            for (first_op, second_op) in [
                (ScanOp::MSum { w }, ScanOp::MSum { w }),
                (ScanOp::MSum { w }, ScanOp::MAvg { w }),
                (ScanOp::MAvg { w }, ScanOp::MSum { w }),
                (ScanOp::MAvg { w }, ScanOp::MAvg { w }),
            ] {
                for pieces in pieces {
                    let (mut alone_a, mut alone_b) =
                        (FloatScanState::new(first_op), FloatScanState::new(second_op));
                    let (mut first, mut second) =
                        (FloatScanState::new(first_op), FloatScanState::new(second_op));
                    let mut start = 0;
                    for &len in pieces {
                        let rows = start..start + len;
                        let (mut want_a, mut want_b) = (vec![1.5; len], vec![1.5; len]);
                        alone_a.feed_slices(&a[rows.clone()], None, &mut want_a);
                        alone_b.feed_slices(&b[rows.clone()], None, &mut want_b);
                        let (mut got_a, mut got_b) = (vec![2.5; len], vec![2.5; len]);
                        // Asking for lines (here the pieces' own rows) changes no bit.
                        let mut ahead = PrefetchAhead::new(&[
                            (a[rows.clone()].as_ptr() as usize, 8 * len),
                            (b[rows.clone()].as_ptr() as usize, 8 * len),
                        ]);
                        assert!(FloatScanState::feed_window_sum_pair(
                            &mut first,
                            &mut second,
                            (&a[rows.clone()], &mut got_a),
                            (&b[rows], &mut got_b),
                            &mut ahead,
                        ));
                        let as_bits = |v: &[f64]| v.iter().map(|x| Some(*x)).collect::<Vec<_>>();
                        assert_eq!(
                            bits(&as_bits(&got_a)),
                            bits(&as_bits(&want_a)),
                            "{first_op:?} w {w} {pieces:?}"
                        );
                        assert_eq!(
                            bits(&as_bits(&got_b)),
                            bits(&as_bits(&want_b)),
                            "{second_op:?} w {w} {pieces:?}"
                        );
                        start += len;
                    }
                }
            }
        }
        // Refused: another op, another length, another offset (a state one row ahead).
        let refused = |first_op: ScanOp, second_op: ScanOp, skew: usize| {
            let (mut first, mut second) = (FloatScanState::new(first_op), FloatScanState::new(second_op));
            first.feed_slices(&a[..skew], None, &mut vec![0.0; skew]);
            let (mut out_a, mut out_b) = (vec![2.5; 40], vec![2.5; 40]);
            let fed = FloatScanState::feed_window_sum_pair(
                &mut first,
                &mut second,
                (&a[skew..skew + 40], &mut out_a),
                (&b[..40], &mut out_b),
                &mut PrefetchAhead::none(),
            );
            !fed && out_a == vec![2.5; 40] && out_b == vec![2.5; 40] && second.row == 0
        };
        assert!(refused(ScanOp::MSum { w: 20 }, ScanOp::MStd { w: 20 }, 0));
        assert!(refused(ScanOp::Ema { alpha_bits: 0.5f64.to_bits() }, ScanOp::MSum { w: 20 }, 0));
        assert!(refused(ScanOp::MSum { w: 20 }, ScanOp::MSum { w: 21 }, 0));
        assert!(refused(ScanOp::MSum { w: 20 }, ScanOp::MAvg { w: 20 }, 1));
    }

    #[test]
    fn reductions_fed_in_pieces_give_the_whole_columns_bits() {
        let x: Vec<Option<f64>> =
            (0..3000).map(|i| (i % 13 != 4).then(|| 1e6 + (i as f64 * 0.3).cos() * 7.0)).collect();
        let ops = [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Std { ddof: 1 }, ReduceOp::Min, ReduceOp::Count];
        let whole = reduce_f64(&ops, x.len(), |row| x[row]);
        let mut state = FloatReduceState::new(&ops);
        let mut start = 0;
        for len in [1usize, 63, 512, 0, 700, 1724] {
            state.feed(len, |i| x[start + i]);
            start += len;
        }
        assert_eq!(start, x.len());
        let bits = |v: &[Option<f64>]| v.iter().map(|v| v.map(f64::to_bits)).collect::<Vec<_>>();
        assert_eq!(bits(&state.finish()), bits(&whole));
    }

    #[test]
    fn reductions_of_ranges_absorbed_in_order_give_the_whole_columns_bits() {
        // Values with a large offset, nulls, and (in the second column) infinities and a NaN.
        let smooth: Vec<Option<f64>> =
            (0..5000).map(|i| (i % 13 != 4).then(|| 1e6 + (i as f64 * 0.3).cos() * 7.0)).collect();
        let wild: Vec<Option<f64>> = (0..5000)
            .map(|i| match i % 997 {
                5 => Some(f64::INFINITY),
                700 if i > 3000 => Some(f64::NAN),
                _ => (i % 7 != 1).then(|| (i as f64).sqrt() * if i % 2 == 0 { 1.0 } else { -3.0 }),
            })
            .collect();
        let ops = [
            ReduceOp::Sum,
            ReduceOp::Mean,
            ReduceOp::Var { ddof: 0 },
            ReduceOp::Std { ddof: 1 },
            ReduceOp::Min,
            ReduceOp::Max,
            ReduceOp::Count,
            ReduceOp::Any,
            ReduceOp::All,
        ];
        for x in [&smooth, &wild] {
            for len in [0usize, 1, 63, 64, 65, 640, 4097, 5000] {
                let whole = reduce_f64(&ops, len, |row| x[row]);
                // Range edges on 64-row multiples, in a few different patterns.
                for step in [64usize, 128, 192, 1024, 4096] {
                    let mut state = FloatReduceState::new(&ops);
                    let mut first = 0;
                    while first < len {
                        let last = (first + step).min(len);
                        let mut range = FloatReduceState::new(&ops);
                        range.resume_at(first);
                        range.feed(last - first, |i| x[first + i]);
                        state.absorb(range.into_tree());
                        first = last;
                    }
                    assert_eq!(bits(&state.finish()), bits(&whole), "len {len}, ranges of {step}");
                }
            }
        }
        // The tree keeps the variance of a large offset exact.
        let var = reduce_f64(&[ReduceOp::Var { ddof: 0 }], 3000, |row| Some(1e9 + (row % 3) as f64))[0];
        assert!((var.unwrap() - 2.0 / 3.0).abs() < 1e-15, "{var:?}");
    }

    #[test]
    fn windows_resumed_after_their_warm_up_give_the_whole_columns_bits() {
        let x: Vec<Option<f64>> = (0..3000)
            .map(|i| match i % 17 {
                3 => None,
                5 if i % 85 == 5 => Some(f64::INFINITY),
                11 if i % 51 == 11 => Some(f64::NAN),
                _ => Some(100.0 + (i as f64 * 0.7).sin() * 9.0),
            })
            .collect();
        for w in [1u32, 2, 3, 7, 20, 64, 300] {
            for op in [
                ScanOp::MSum { w },
                ScanOp::MAvg { w },
                ScanOp::MStd { w },
                ScanOp::MMin { w },
                ScanOp::MMax { w },
            ] {
                let whole = scanned(op, &x);
                let warm = op.warm_up().unwrap() as usize;
                for first in [1usize, 64, 299, 300, 640, 1000, 2047] {
                    let from = first.saturating_sub(warm);
                    let mut state = FloatScanState::new(op);
                    state.resume_at(from);
                    let mut got = vec![None; x.len()];
                    state.feed(x.len() - from, |i| x[from + i], |i, value| got[from + i] = value);
                    assert_eq!(bits(&got[first..]), bits(&whole[first..]), "{op:?} from {first}");
                }
            }
        }
        let integers: Vec<Option<i64>> =
            (0..2000).map(|i| (i % 11 != 2).then(|| (i * 7919) % 1000 - 500)).collect();
        for op in [ScanOp::MSum { w: 9 }, ScanOp::MMin { w: 30 }, ScanOp::MMax { w: 1 }] {
            let run = |from: usize| {
                let mut state = IntegerScanState::new(op);
                state.resume_at(from);
                let mut got = vec![None; integers.len()];
                state.feed(integers.len() - from, |i| integers[from + i], |i, value| got[from + i] = value);
                got
            };
            let whole = run(0);
            for first in [64usize, 100, 1500] {
                let warm = op.warm_up().unwrap() as usize;
                assert_eq!(run(first - warm)[first..], whole[first..], "{op:?} from {first}");
            }
        }
    }

    #[test]
    fn cummax_and_cummin_carried_in_from_a_reduction_give_the_whole_columns_bits() {
        let x: Vec<Option<f64>> = (0..700)
            .map(|i| match i % 29 {
                4 => None,
                9 if i > 400 => Some(f64::NAN),
                _ => Some(((i as f64) * 0.37).sin() * (i as f64)),
            })
            .collect();
        for (op, reduce) in [(ScanOp::CumMax, ReduceOp::Max), (ScanOp::CumMin, ReduceOp::Min)] {
            let whole = scanned(op, &x);
            for first in [0usize, 1, 64, 300, 699] {
                let before = reduce_f64(&[reduce], first, |row| x[row])[0].map(Scalar::F64);
                let mut state = ScanState::new(op, Elem::F64);
                state.resume_at(first);
                state.carry_in(before);
                let ScanState::Float(mut state) = state else { unreachable!() };
                let mut got = vec![None; x.len()];
                state.feed(x.len() - first, |i| x[first + i], |i, value| got[first + i] = value);
                assert_eq!(bits(&got[first..]), bits(&whole[first..]), "{op:?} from {first}");
            }
        }
    }

    #[test]
    fn the_extremes_of_valid_rows_are_the_reductions_and_the_folds_of_minimum_and_maximum() {
        // Signed zeros in both orders, infinities, subnormals, NaNs of different payloads
        // (the first one in row order must win), placed at every position of a vector.
        let quiet = |payload: u64| f64::from_bits(0x7ff8_0000_0000_0000 | payload);
        let special = [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, 5e-324, -5e-324, f64::MAX, -f64::MAX];
        for len in (1..=70).chain([255, 1000, 4097]) {
            for seed in 0..6u64 {
                let mut x: Vec<f64> = (0..len)
                    .map(|i| {
                        let i = i as u64;
                        match (i * 7 + seed * 13) % 11 {
                            0 | 1 => special[((i + seed) % special.len() as u64) as usize],
                            _ => ((i as f64 + seed as f64) * 0.37).sin() * 1e3,
                        }
                    })
                    .collect();
                if seed >= 3 {
                    // Two NaNs, the first with payload 1, at seed-dependent positions.
                    let first = (seed as usize * 5) % len;
                    x[first] = quiet(1);
                    let later = (first + 3).min(len - 1);
                    if later != first {
                        x[later] = -quiet(2);
                    }
                }
                let extremes = extremes_of_valid(&x);
                for (max, reduce) in [(true, ReduceOp::Max), (false, ReduceOp::Min)] {
                    let fast = extremes.map(|(min, maximum)| if max { maximum } else { min });
                    let fold = x.iter().copied().reduce(if max { maximum } else { minimum });
                    assert_eq!(
                        fast.map(f64::to_bits),
                        fold.map(f64::to_bits),
                        "len {len}, seed {seed}, {reduce:?}"
                    );
                    let reduced = reduce_f64(&[reduce], len, |row| Some(x[row]))[0];
                    assert_eq!(bits(&[fast]), bits(&[reduced]), "len {len}, seed {seed}, {reduce:?}");
                }
            }
        }
        assert_eq!(extremes_of_valid(&[]), None);
        let (min, max) = extremes_of_valid(&[-0.0, 0.0]).unwrap();
        assert_eq!((min.to_bits(), max.to_bits()), ((-0.0f64).to_bits(), 0.0f64.to_bits()));
    }

    #[test]
    fn an_integer_cumsum_carried_in_as_a_wrapping_sum_gives_the_whole_columns_bits() {
        let x: Vec<Option<i64>> =
            (0..500).map(|i| (i % 7 != 3).then(|| i64::MAX / 3 - i * 1_000_003)).collect();
        let run = |first: usize, carry: Option<Option<Scalar>>| {
            let mut state = ScanState::new(ScanOp::CumSum, Elem::I64);
            state.resume_at(first);
            if let Some(carry) = carry {
                state.carry_in(carry);
            }
            let ScanState::Integer(mut state) = state else { unreachable!() };
            let mut got = vec![None; x.len()];
            state.feed(x.len() - first, |i| x[first + i], |i, value| got[first + i] = value);
            got
        };
        let whole = run(0, None);
        // The sums pass i64::MAX within a few rows: the carry must be the wrapped sum.
        assert!(whole.iter().flatten().any(|&sum| sum < 0));
        for first in [1usize, 3, 64, 499] {
            assert_eq!(run(first, Some(sum_before(&x, first)))[first..], whole[first..], "from {first}");
        }
    }

    /// How a test feeds valid integer rows: as `feed_valid` dispatches on this machine, or
    /// by one of its paths (the AVX2 one where the machine has AVX2).
    #[derive(Debug, Clone, Copy)]
    enum IntegerFeedPath {
        Dispatched,
        Avx2,
        Plain,
    }

    impl IntegerFeedPath {
        fn feed<T: Copy + Into<i64>>(self, state: &mut IntegerReduceState, values: &[T]) {
            match self {
                IntegerFeedPath::Dispatched => state.feed_valid(values),
                #[cfg(target_arch = "x86_64")]
                IntegerFeedPath::Avx2 if std::arch::is_x86_feature_detected!("avx2") => {
                    // SAFETY: AVX2 was just detected.
                    unsafe { state.feed_valid_avx2(values) }
                }
                IntegerFeedPath::Avx2 | IntegerFeedPath::Plain => state.feed_valid_rows(values),
            }
        }
    }

    /// `IntegerReduceState::feed_valid` (by unsigned halves, in vectors) reaches the state
    /// `feed` reaches row by row, for every op, over values whose sums overflow an i64 both
    /// ways (the sum is then null) and values whose sums do not, i64 and i32, in pieces of
    /// every length, and absorbed into a state fed the other way.
    #[test]
    fn integer_sums_of_valid_rows_by_halves_equal_the_row_by_row_sums() {
        let extremes = [i64::MIN, i64::MAX, -1, 0, 1, i64::MIN + 1, 1 << 32, -(1 << 32), (1 << 32) - 1];
        let mut x: Vec<i64> =
            (0..3000i64).map(|row| row.wrapping_mul(0x9E37_79B9_7F4A_7C15u64 as i64)).collect();
        x.extend(extremes.iter().cycle().take(500));
        x.extend([i64::MIN; 7]);
        let small: Vec<i64> = (0..3000i64).map(|row| (row * 7919) % 100_003 - 50_000).collect();
        let ops_lists = [
            vec![ReduceOp::Sum],
            vec![ReduceOp::Min, ReduceOp::Max],
            vec![ReduceOp::Max],
            vec![ReduceOp::Min, ReduceOp::Count],
            vec![ReduceOp::Sum, ReduceOp::Min, ReduceOp::Max, ReduceOp::Count],
        ];
        for values in [&x[..], &small[..], &x[..3], &x[3000..3500], &x[3000..]] {
            for ops in &ops_lists {
                let mut row_by_row = IntegerReduceState::new(ops);
                row_by_row.feed(values.len(), |i| Some(values[i]));
                for (piece, path) in [1, 7, 64, 1000, values.len().max(1)].into_iter().flat_map(|piece| {
                    [IntegerFeedPath::Dispatched, IntegerFeedPath::Avx2, IntegerFeedPath::Plain]
                        .map(|path| (piece, path))
                }) {
                    let mut by_halves = IntegerReduceState::new(ops);
                    for chunk in values.chunks(piece) {
                        path.feed(&mut by_halves, chunk);
                    }
                    if ops.contains(&ReduceOp::Sum) {
                        assert_eq!(by_halves.sum, row_by_row.sum, "{ops:?}, pieces of {piece}");
                        assert_eq!(by_halves.wrapping_sum(), row_by_row.wrapping_sum());
                    }
                    assert_eq!(by_halves.clone().finish(), row_by_row.clone().finish(), "{ops:?}");
                    // Half fed one way, half the other, then absorbed.
                    let half = values.len() / 2;
                    let mut front = IntegerReduceState::new(ops);
                    front.feed_valid(&values[..half]);
                    let mut back = IntegerReduceState::new(ops);
                    back.feed(values.len() - half, |i| Some(values[half + i]));
                    front.absorb(back);
                    assert_eq!(front.finish(), row_by_row.clone().finish(), "{ops:?}, absorbed");
                }
            }
            let narrow: Vec<i32> = values.iter().map(|&v| v as i32).collect();
            let mut row_by_row = IntegerReduceState::new(&ops_lists[4]);
            row_by_row.feed(narrow.len(), |i| Some(i64::from(narrow[i])));
            for path in [IntegerFeedPath::Dispatched, IntegerFeedPath::Avx2, IntegerFeedPath::Plain] {
                let mut by_halves = IntegerReduceState::new(&ops_lists[4]);
                path.feed(&mut by_halves, &narrow[..]);
                assert_eq!(by_halves.finish(), row_by_row.clone().finish(), "i32, {path:?}");
            }
        }
        // The overflowing sums really overflow (null), the others do not.
        let mut state = IntegerReduceState::new(&[ReduceOp::Sum]);
        state.feed_valid(&[i64::MAX, 1][..]);
        assert_eq!(state.finish(), vec![None]);
        let mut state = IntegerReduceState::new(&[ReduceOp::Sum]);
        state.feed_valid(&[i64::MIN, -1, 1][..]);
        assert_eq!(state.finish(), vec![Some(i64::MIN)]);
    }

    fn sum_before(x: &[Option<i64>], first: usize) -> Option<Scalar> {
        let mut state = IntegerReduceState::new(&[ReduceOp::Sum]);
        state.feed(first, |row| x[row]);
        state.wrapping_sum().map(Scalar::I64)
    }

    #[test]
    fn cumulative_ops_and_ema_carry_state_over_nulls() {
        let x = [Some(2.0), None, Some(3.0), Some(-1.0)];
        assert_eq!(scanned(ScanOp::CumSum, &x), vec![Some(2.0), None, Some(5.0), Some(4.0)]);
        assert_eq!(scanned(ScanOp::CumProd, &x), vec![Some(2.0), None, Some(6.0), Some(-6.0)]);
        assert_eq!(scanned(ScanOp::CumMax, &x), vec![Some(2.0), None, Some(3.0), Some(3.0)]);
        assert_eq!(scanned(ScanOp::CumMin, &x), vec![Some(2.0), None, Some(2.0), Some(-1.0)]);
        let ema = scanned(ScanOp::Ema { alpha_bits: 0.5f64.to_bits() }, &x);
        assert_eq!(ema, vec![Some(2.0), None, Some(2.5), Some(0.75)]);
    }
}
