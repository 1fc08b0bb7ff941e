//! Whole `msum`/`mavg`/`mstd` blocks of every-valid rows four at a time, one AVX2 lane per
//! block: the operations of [`super::sum_whole_block`] and [`super::std_whole_block`], in
//! their order, without their latency.
//!
//! A whole block's rows need two dependency chains, its prefix and its suffix, one addition
//! a row each; one block at a time, a row waits for an addition's latency. The blocks of a
//! run are independent but for the suffix the next block reads, so four blocks side by side
//! give four chains for the price of one: the suffix pass runs first over the four, then the
//! prefix pass reads each block's `before` (the block before it: the run's previous block
//! for the first) from the suffixes just stored. Rows move between a block's consecutive
//! rows and the lanes by 4 × 4 transposes.

use super::PowerSums;
#[cfg(target_arch = "x86_64")]
use super::SUM_IDENTITY;

/// The slots of a scratch row: the four blocks' suffix sums at one offset, stored and loaded
/// as one register. (A row led by the block before the group's, loaded one slot lower to get
/// every block's `before` at once, ran slower: that load spans two stores made just
/// before it, which the CPU cannot forward.)
#[cfg(target_arch = "x86_64")]
const ROW_SLOTS: usize = 4;

/// The blocks of a group, one an AVX2 lane of f64: the crate's one count of them, which
/// `LoopPlan::block_alignment` aligns block calls to; the 4 × 4 transposes below hold only
/// while it is four.
const BLOCKS: usize = super::WINDOW_SUM_GROUP_BLOCKS;
const _: () = assert!(BLOCKS == 4, "a group is one block per lane of an AVX2 f64 register");

// Macros rather than closures, which could stay out of line and leave the AVX2 code; used
// only inside `#[target_feature(enable = "avx2")]` functions.
//
// Four f64s at `at` in a slice, without a bounds check per access. Every use passes an `at`
// with `at + 4 ≤ slice.len()`, by the lengths its function asserts: `values` and `out` at
// `block · w + k` with `k + 4 ≤ quads ≤ w` and `block < 4` (so ≤ 4w); the scratch rows at
// `j · slots (+ 4)` with `j ≤ w`; `transposed` (4w long) at `k · 4` with `k < quads ≤ w`;
// `lanes` at 0.
#[cfg(target_arch = "x86_64")]
macro_rules! load {
    ($slice:expr, $at:expr) => {{
        let (slice, at): (&[f64], usize) = (&$slice[..], $at);
        debug_assert!(at + 4 <= slice.len());
        // SAFETY: `at + 4 ≤ slice.len()` (above), so the four f64s lie in `slice`; the
        // load is unaligned.
        unsafe { _mm256_loadu_pd(slice.as_ptr().add(at)) }
    }};
}
#[cfg(target_arch = "x86_64")]
macro_rules! store {
    ($slice:expr, $at:expr, $value:expr) => {{
        let value = $value;
        let (slice, at): (&mut [f64], usize) = (&mut $slice[..], $at);
        debug_assert!(at + 4 <= slice.len());
        // SAFETY: as for `load`: the four f64s lie in `slice`, borrowed mutably here.
        unsafe { _mm256_storeu_pd(slice.as_mut_ptr().add(at), value) }
    }};
}
// The f64 at `at` in a slice, without a bounds check. Every use passes an `at` below the
// slice's length, by the lengths its function asserts: `previous` (`(w + 1) · slots` long)
// at `(k + 1) · slots + lane` with `k < w` and `lane < slots`; `values` (4w long) at
// `block · w + k` with `block < 4` and `k < w`.
#[cfg(target_arch = "x86_64")]
macro_rules! at {
    ($slice:expr, $at:expr) => {{
        let (slice, at): (&[f64], usize) = (&$slice[..], $at);
        debug_assert!(at < slice.len());
        // SAFETY: every use passes `at < slice.len()` (the comment above the macro), which
        // debug builds check.
        unsafe { *slice.get_unchecked(at) }
    }};
}
// Row `k` of the four w-row blocks of `values`, one block a lane.
#[cfg(target_arch = "x86_64")]
macro_rules! gather {
    ($values:expr, $w:expr, $k:expr) => {{
        let (values, w, k): (&[f64], usize, usize) = (&$values[..], $w, $k);
        _mm256_setr_pd(at!(values, k), at!(values, w + k), at!(values, 2 * w + k), at!(values, 3 * w + k))
    }};
}
// Four registers of four lanes transposed: rows `k .. k + 4` of the four blocks (a block a
// register) become a row a register, a block a lane, and four rows of results become each
// block's four consecutive results.
#[cfg(target_arch = "x86_64")]
macro_rules! transpose {
    ($a:expr) => {{
        let a: [__m256d; 4] = $a;
        let (t0, t1) = (_mm256_unpacklo_pd(a[0], a[1]), _mm256_unpackhi_pd(a[0], a[1]));
        let (t2, t3) = (_mm256_unpacklo_pd(a[2], a[3]), _mm256_unpackhi_pd(a[2], a[3]));
        [
            _mm256_permute2f128_pd::<0x20>(t0, t2),
            _mm256_permute2f128_pd::<0x20>(t1, t3),
            _mm256_permute2f128_pd::<0x31>(t0, t2),
            _mm256_permute2f128_pd::<0x31>(t1, t3),
        ]
    }};
}
// Rows `k .. k + 4` of the four w-row blocks of `values`, a row a register, a block a lane.
#[cfg(target_arch = "x86_64")]
macro_rules! rows_of {
    ($values:expr, $w:expr, $k:expr) => {{
        let (values, w, k): (&[f64], usize, usize) = (&$values[..], $w, $k);
        transpose!([
            load!(values, k),
            load!(values, w + k),
            load!(values, 2 * w + k),
            load!(values, 3 * w + k)
        ])
    }};
}
// `rows_of!`, each row also kept in `transposed` at `(k + i) · 4`, for a group's later
// passes to load rather than transpose again.
#[cfg(target_arch = "x86_64")]
macro_rules! rows_of_kept {
    ($values:expr, $w:expr, $k:expr, $transposed:expr) => {{
        let k: usize = $k;
        let rows = rows_of!($values, $w, k);
        for (i, row) in rows.into_iter().enumerate() {
            store!($transposed, (k + i) * BLOCKS, row);
        }
        rows
    }};
}

/// Whether this CPU runs the groups (AVX2).
pub(super) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        return true;
    }
    false
}

/// How many rows [`sum_block_groups`] feeds from `rows` rows of a window of `w` rows: the
/// whole groups of four blocks.
pub(super) fn group_rows(rows: usize, w: usize) -> usize {
    let group = BLOCKS * w;
    rows.checked_div(group).map_or(0, |groups| groups * group)
}

/// Feeds `values` (whole groups of four w-row blocks, every row valid; [`group_rows`]) of an
/// `msum` (`is_sum`) or `mavg` whose previous block's suffix sums and counts are `suffix`
/// (`w + 1` of them), into `out`, with the bits of [`super::sum_whole_block`] block after
/// block; `suffix` then holds the last block's (its counts `w − j`: every row valid).
/// Returns the last block's sum (its prefix at its end), or None — feeding nothing — where
/// the CPU lacks AVX2 (the caller feeds the blocks one at a time). `mavg` divides every
/// row's sum by `w`: the caller promises that the block before had no null (every window
/// then holds `w` valid rows). `ahead` takes a step before each group.
pub(super) fn sum_block_groups(
    values: &[f64],
    out: &mut [f64],
    w: usize,
    suffix: &mut [(f64, u32)],
    (scratch, ahead): (&mut Vec<f64>, &mut super::PrefetchAhead),
    is_sum: bool,
) -> Option<f64> {
    assert!(
        w > 0
            && values.len() == out.len()
            && values.len().is_multiple_of(BLOCKS * w)
            && suffix.len() == w + 1
    );
    if !available() {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        // Two sets of scratch rows, the group's and the group before's, whose lane 3 (its last
        // block) is the first block's `before`: the run's previous block's to begin with.
        // Then room for a group's values as the suffix pass transposes them, which the prefix
        // pass reads back rather than transposing them again.
        let slots = (w + 1) * ROW_SLOTS;
        scratch.resize(2 * slots + BLOCKS * w, SUM_IDENTITY);
        let (scratch_rows, transposed) = scratch.split_at_mut(2 * slots);
        let (mut rows, mut before) = scratch_rows.split_at_mut(slots);
        for (&(sum, _), row) in suffix.iter().zip(before.chunks_exact_mut(ROW_SLOTS)) {
            row[3] = sum;
        }
        let mut last = SUM_IDENTITY;
        for (group, results) in values.chunks_exact(BLOCKS * w).zip(out.chunks_exact_mut(BLOCKS * w)) {
            ahead.step();
            // SAFETY: the CPU has AVX2 (`available`).
            last = unsafe {
                if is_sum {
                    sum_block_group_avx2::<true>(group, results, w, before, (rows, transposed))
                } else {
                    sum_block_group_avx2::<false>(group, results, w, before, (rows, transposed))
                }
            };
            std::mem::swap(&mut rows, &mut before);
        }
        // The last block's suffixes (every row valid) serve the next feed.
        for (j, (entry, row)) in suffix.iter_mut().zip(before.chunks_exact(ROW_SLOTS)).enumerate() {
            *entry = (row[3], (w - j) as u32);
        }
        Some(last)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (scratch, ahead, is_sum);
        None
    }
}

/// One group of [`sum_block_groups`]: `values` and `out` hold four w-row blocks, `rows` the
/// scratch rows (`(w + 1) · ROW_SLOTS`), `transposed` room for the group's values (`4w`) a
/// row a register, as the suffix pass transposes them for the prefix pass to read back (a
/// store and a load a register instead of a second transpose: PERFORMANCE.md, "Window sums'
/// values transposed once, their scratch read without bounds checks"). Lane `l` of every
/// register is block `l`: its suffix chain adds rows `w − 1` down to 0 from −0, its prefix
/// chain rows 0 up to `w − 1`, and row k's result is `prefix + before` (÷ w for `mavg`),
/// `before` the suffix sum at `k + 1` of the block before it (for block 0, lane 3 of
/// `previous`: the scratch rows of the group before, whose last block is this group's block
/// before) — `WholeBlockSums::row`'s operations, per lane, in its order.
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sum_block_group_avx2<const SUM: bool>(
    values: &[f64],
    out: &mut [f64],
    w: usize,
    previous: &[f64],
    (rows, transposed): (&mut [f64], &mut [f64]),
) -> f64 {
    use std::arch::x86_64::*;
    assert!(values.len() == BLOCKS * w && out.len() == BLOCKS * w && transposed.len() == BLOCKS * w);
    assert!(rows.len() == (w + 1) * ROW_SLOTS && previous.len() == rows.len());
    // Whole quads of rows from offset 0; the last `w % 4` rows one at a time.
    let quads = w / 4 * 4;

    // The suffixes: rows w − 1 down to 0, into `rows[j]`.
    let mut suffix = _mm256_set1_pd(SUM_IDENTITY);
    store!(rows, w * ROW_SLOTS, suffix);
    for j in (quads..w).rev() {
        suffix = _mm256_add_pd(suffix, gather!(values, w, j));
        store!(rows, j * ROW_SLOTS, suffix);
    }
    for k in (0..quads).step_by(4).rev() {
        let four = rows_of_kept!(values, w, k, transposed);
        for i in (0..4).rev() {
            suffix = _mm256_add_pd(suffix, four[i]);
            store!(rows, (k + i) * ROW_SLOTS, suffix);
        }
    }

    // The prefixes and the results: row k adds every block's before, the suffixes at `k + 1`
    // of the block before it — `rows[k + 1]` moved up a lane, lane 3 of `previous[k + 1]`
    // (the group's previous block) in lane 0.
    let window = _mm256_set1_pd(w as f64);
    let mut prefix = _mm256_set1_pd(SUM_IDENTITY);
    macro_rules! result {
        ($prefix:expr, $k:expr) => {{
            let k = $k;
            let suffixes = _mm256_permute4x64_pd::<0b10_01_00_00>(load!(rows, (k + 1) * ROW_SLOTS));
            let befores =
                _mm256_blend_pd::<1>(suffixes, _mm256_set1_pd(at!(previous, (k + 1) * ROW_SLOTS + 3)));
            let total = _mm256_add_pd($prefix, befores);
            if SUM { total } else { _mm256_div_pd(total, window) }
        }};
    }
    for k in (0..quads).step_by(4) {
        let mut results = [_mm256_setzero_pd(); 4];
        for (i, slot) in results.iter_mut().enumerate() {
            prefix = _mm256_add_pd(prefix, load!(transposed, (k + i) * BLOCKS));
            *slot = result!(prefix, k + i);
        }
        for (block, quad) in transpose!(results).into_iter().enumerate() {
            store!(out, block * w + k, quad);
        }
    }
    for k in quads..w {
        prefix = _mm256_add_pd(prefix, gather!(values, w, k));
        let mut lanes = [0.0; 4];
        store!(lanes, 0, result!(prefix, k));
        for (block, value) in lanes.into_iter().enumerate() {
            out[block * w + k] = value;
        }
    }

    let mut lanes = [0.0; 4];
    store!(lanes, 0, prefix);
    lanes[3]
}

/// The slots of an `mstd` scratch row: the four blocks' suffix power sums at one offset,
/// `Σ(x − K)` in the first register, `Σ(x − K)²` in the second.
#[cfg(target_arch = "x86_64")]
const STD_ROW_SLOTS: usize = 8;

/// Feeds whole groups of four w-row blocks of `values` (from a block's first row) of an
/// `mstd` whose previous block's suffix power sums are `previous` (`w + 1` of them, every row
/// of that block valid and finite) and whose mean is `block_shift`, into `out`, with the bits
/// of [`super::std_whole_block`]'s clean path block after block, until fewer than `4w` rows
/// are left or a group holds a non-finite value or mean (which the caller then feeds one
/// block at a time). `previous` and `block_shift` then hold the last fed block's. Returns the
/// rows fed, the last block's prefix and its shift; None — feeding nothing — where no group
/// was fed (or the CPU lacks AVX2).
pub(super) fn std_block_groups(
    values: &[f64],
    out: &mut [f64],
    w: usize,
    (previous, block_shift): (&mut [PowerSums], &mut f64),
    scratch: &mut Vec<f64>,
) -> Option<(usize, PowerSums, f64)> {
    assert!(w > 0 && values.len() == out.len() && previous.len() == w + 1);
    if !available() {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        // Two sets of scratch rows, as `sum_block_groups` keeps them: lane 3 of the group
        // before's (its last block) is the first block's `before`.
        // Then room for a group's values as the means' pass transposes them, which the suffix
        // and prefix passes read back.
        let slots = (w + 1) * STD_ROW_SLOTS;
        scratch.resize(2 * slots + BLOCKS * w, SUM_IDENTITY);
        let (scratch_rows, transposed) = scratch.split_at_mut(2 * slots);
        let (mut rows, mut before) = scratch_rows.split_at_mut(slots);
        for (sums, row) in previous.iter().zip(before.chunks_exact_mut(STD_ROW_SLOTS)) {
            (row[3], row[4 + 3]) = (sums.s1, sums.s2);
        }
        let mut fed = None;
        for (group, results) in values.chunks_exact(BLOCKS * w).zip(out.chunks_exact_mut(BLOCKS * w)) {
            // SAFETY: the CPU has AVX2 (`available`).
            let Some((prefix, shift, mean)) = (unsafe {
                std_block_group_avx2(group, results, w, before, *block_shift, (rows, transposed))
            }) else {
                break;
            };
            std::mem::swap(&mut rows, &mut before);
            *block_shift = mean;
            let rows = fed.map_or(0, |(rows, _, _)| rows) + BLOCKS * w;
            fed = Some((rows, prefix, shift));
        }
        if fed.is_some() {
            // The last block's suffixes (every row valid and finite) serve the next feed.
            for (j, (entry, row)) in previous.iter_mut().zip(before.chunks_exact(STD_ROW_SLOTS)).enumerate() {
                *entry = PowerSums { s1: row[3], s2: row[4 + 3], finite: (w - j) as u32, non_finite: 0 };
            }
        }
        fed
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (scratch, block_shift);
        None
    }
}

/// One group of [`std_block_groups`]: `values` and `out` hold four w-row blocks, `rows` the
/// scratch rows (`(w + 1) · STD_ROW_SLOTS`), `transposed` room for the group's values (`4w`)
/// a row a register, as the means' pass transposes them for the other two passes to read
/// back. Lane `l` of every register is block `l`. First
/// each block's mean (its rows summed in order from −0, ÷ w: `FiniteMean`); if one is not
/// finite — a block holds an infinity or a NaN, whose sum is then one, or its finite sum
/// overflows — nothing is written and the result is None. Then, as
/// `std_whole_block` does for one block: the suffix power sums about the block's own mean
/// (rows `w − 1` down to 0), and the prefix about the block before's mean (`shift` for
/// block 0, the previous lane's mean for the others), each row's result
/// `√(max(n·S2 − S1², 0) / n²)` with `n = w` and the sums `prefix + before`, `before` the
/// suffix sums at `k + 1` of the block before it (for block 0, lane 3 of `previous`: the
/// scratch rows of the group before). Returns the last block's prefix, its shift and its
/// mean.
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn std_block_group_avx2(
    values: &[f64],
    out: &mut [f64],
    w: usize,
    previous: &[f64],
    shift: f64,
    (rows, transposed): (&mut [f64], &mut [f64]),
) -> Option<(PowerSums, f64, f64)> {
    use std::arch::x86_64::*;
    assert!(values.len() == BLOCKS * w && out.len() == BLOCKS * w && transposed.len() == BLOCKS * w);
    assert!(rows.len() == (w + 1) * STD_ROW_SLOTS && previous.len() == rows.len());
    let quads = w / 4 * 4;
    let count = w as f64;

    // The means.
    let mut sum = _mm256_set1_pd(SUM_IDENTITY);
    for k in (0..quads).step_by(4) {
        for row in rows_of_kept!(values, w, k, transposed) {
            sum = _mm256_add_pd(sum, row);
        }
    }
    for k in quads..w {
        sum = _mm256_add_pd(sum, gather!(values, w, k));
    }
    let means = _mm256_div_pd(sum, _mm256_set1_pd(count));
    let mut mean_lanes = [0.0; 4];
    store!(mean_lanes, 0, means);
    if !mean_lanes.iter().all(|mean| mean.is_finite()) {
        return None;
    }
    // Each block's prefix shift: the mean of the block before it.
    let shifts = _mm256_blend_pd::<1>(_mm256_permute4x64_pd::<0b10_01_00_00>(means), _mm256_set1_pd(shift));

    // `PowerSums::push_finite` of a row about `$shift`: d = x − K, S1 += d, S2 += d·d.
    macro_rules! push {
        ($s1:ident, $s2:ident, $x:expr, $shift:expr) => {{
            let d = _mm256_sub_pd($x, $shift);
            $s1 = _mm256_add_pd($s1, d);
            $s2 = _mm256_add_pd($s2, _mm256_mul_pd(d, d));
        }};
    }

    // The suffixes: rows w − 1 down to 0, into `rows[j]`.
    let empty = _mm256_set1_pd(SUM_IDENTITY);
    let (mut s1, mut s2) = (empty, empty);
    store!(rows, w * STD_ROW_SLOTS, s1);
    store!(rows, w * STD_ROW_SLOTS + 4, s2);
    for j in (quads..w).rev() {
        push!(s1, s2, gather!(values, w, j), means);
        store!(rows, j * STD_ROW_SLOTS, s1);
        store!(rows, j * STD_ROW_SLOTS + 4, s2);
    }
    for k in (0..quads).step_by(4).rev() {
        for i in (0..4).rev() {
            push!(s1, s2, load!(transposed, (k + i) * BLOCKS), means);
            store!(rows, (k + i) * STD_ROW_SLOTS, s1);
            store!(rows, (k + i) * STD_ROW_SLOTS + 4, s2);
        }
    }

    // The prefixes and the results: `PowerSums::std_with` with `n = w` (every window full).
    let n = _mm256_set1_pd(count);
    let n_squared = _mm256_set1_pd(count * count);
    let zero = _mm256_setzero_pd();
    let (mut p1, mut p2) = (empty, empty);
    macro_rules! result {
        ($k:expr) => {{
            let k = $k;
            // Every block's `before`: the suffixes at `k + 1` moved up a lane, the group's
            // previous block's in lane 0.
            macro_rules! before {
                ($slot:expr, $first:expr) => {{
                    let suffixes =
                        _mm256_permute4x64_pd::<0b10_01_00_00>(load!(rows, (k + 1) * STD_ROW_SLOTS + $slot));
                    _mm256_blend_pd::<1>(suffixes, _mm256_set1_pd($first))
                }};
            }
            let total1 = _mm256_add_pd(p1, before!(0, at!(previous, (k + 1) * STD_ROW_SLOTS + 3)));
            let total2 = _mm256_add_pd(p2, before!(4, at!(previous, (k + 1) * STD_ROW_SLOTS + 4 + 3)));
            let spread = _mm256_sub_pd(_mm256_mul_pd(n, total2), _mm256_mul_pd(total1, total1));
            _mm256_sqrt_pd(_mm256_div_pd(_mm256_max_pd(spread, zero), n_squared))
        }};
    }
    for k in (0..quads).step_by(4) {
        let mut results = [zero; 4];
        for (i, slot) in results.iter_mut().enumerate() {
            push!(p1, p2, load!(transposed, (k + i) * BLOCKS), shifts);
            *slot = result!(k + i);
        }
        for (block, quad) in transpose!(results).into_iter().enumerate() {
            store!(out, block * w + k, quad);
        }
    }
    for k in quads..w {
        push!(p1, p2, gather!(values, w, k), shifts);
        let mut lanes = [0.0; 4];
        store!(lanes, 0, result!(k));
        for (block, value) in lanes.into_iter().enumerate() {
            out[block * w + k] = value;
        }
    }

    let (mut last1, mut last2) = ([0.0; 4], [0.0; 4]);
    store!(last1, 0, p1);
    store!(last2, 0, p2);
    let prefix = PowerSums { s1: last1[3], s2: last2[3], finite: w as u32, non_finite: 0 };
    Some((prefix, mean_lanes[2], mean_lanes[3]))
}
