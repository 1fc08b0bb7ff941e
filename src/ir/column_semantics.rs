//! The semantics of the stateful nodes — reductions and scans (windows, cumulative ops,
//! `ema`) — written once, over a column given as `len` and a row accessor. The interpreter and
//! the engine's multi-pass execution both call these functions, in the same row order, so
//! their results are the same bits by construction. Values arrive as f64 (f32 widened
//! exactly, bool as 0/1) and leave as f64; f32 results are rounded once by the caller.
//!
//! Numerical methods (docs/LANGUAGE.md states them for users):
//! - sums are Neumaier-compensated, in row order: error ≤ 2u·|Σx| + O(n·u²)·Σ|x|;
//! - variance takes the moments of `x − K` (`K` the first finite value: shift invariance
//!   removes the cancellation of a large mean), two-pass within 64-row chunks fixed by row
//!   index, merged with Chan, Golub and LeVeque's update;
//! - rolling sums, averages and standard deviations update in O(1) per row and are recomputed
//!   from the window every `w` rows, so rounding cannot drift for more than `w` updates;
//!   non-finite values are counted rather than added, so one `inf` leaving the window does not
//!   leave `NaN` behind;
//! - rolling min/max keep a monotonic deque: O(1) amortised per row.

use super::node::{ReduceOp, ScanOp};
use super::semantics::{maximum, minimum};
use std::collections::VecDeque;

/// A Neumaier-compensated sum of finite values, with the non-finite ones counted apart.
#[derive(Debug, Clone, Copy, Default)]
struct CompensatedSum {
    sum: f64,
    compensation: f64,
    nan: usize,
    positive_infinities: usize,
    negative_infinities: usize,
}

impl CompensatedSum {
    fn add(&mut self, x: f64) {
        if x.is_nan() {
            self.nan += 1;
        } else if x == f64::INFINITY {
            self.positive_infinities += 1;
        } else if x == f64::NEG_INFINITY {
            self.negative_infinities += 1;
        } else {
            let t = self.sum + x;
            if t.is_finite() {
                self.compensation +=
                    if self.sum.abs() >= x.abs() { (self.sum - t) + x } else { (x - t) + self.sum };
            }
            self.sum = t;
        }
    }

    fn remove(&mut self, x: f64) {
        if x.is_nan() {
            self.nan -= 1;
        } else if x == f64::INFINITY {
            self.positive_infinities -= 1;
        } else if x == f64::NEG_INFINITY {
            self.negative_infinities -= 1;
        } else {
            self.add(-x);
        }
    }

    fn total(&self) -> f64 {
        if self.nan > 0 || (self.positive_infinities > 0 && self.negative_infinities > 0) {
            f64::NAN
        } else if self.positive_infinities > 0 {
            f64::INFINITY
        } else if self.negative_infinities > 0 {
            f64::NEG_INFINITY
        } else if self.sum.is_finite() {
            self.sum + self.compensation
        } else {
            // The finite values overflowed: the rounded sum is the answer.
            self.sum
        }
    }
}

/// Rows per chunk of the variance's two-pass moments.
const MOMENT_CHUNK: usize = 64;

/// Everything the reductions need, accumulated in one pass over the rows.
#[derive(Debug, Clone, Default)]
struct Moments {
    count: usize,
    sum: CompensatedSum,
    /// Chan's running (count, mean, M2) over the chunks merged so far.
    merged_count: f64,
    merged_mean: f64,
    merged_m2: f64,
    min: Option<f64>,
    max: Option<f64>,
    any: bool,
    all: bool,
}

impl Moments {
    fn merge_chunk(&mut self, chunk: &[f64]) {
        if chunk.is_empty() {
            return;
        }
        let n = chunk.len() as f64;
        let mean = chunk.iter().sum::<f64>() / n;
        let m2: f64 = chunk.iter().map(|x| (x - mean) * (x - mean)).sum();
        if self.merged_count == 0.0 {
            (self.merged_count, self.merged_mean, self.merged_m2) = (n, mean, m2);
            return;
        }
        let total = self.merged_count + n;
        let delta = mean - self.merged_mean;
        self.merged_mean += delta * (n / total);
        self.merged_m2 += m2 + delta * delta * (self.merged_count * n / total);
        self.merged_count = total;
    }
}

fn moments(len: usize, get: impl Fn(usize) -> Option<f64>) -> Moments {
    let mut moments = Moments { all: true, ..Moments::default() };
    let mut chunk = [0.0f64; MOMENT_CHUNK];
    let mut filled = 0;
    // Variance is shift-invariant: the moments are taken of x − K, K the first finite value,
    // which removes the cancellation a large common offset would cause (the subtraction is
    // exact for values within a factor of two of K).
    let mut shift: Option<f64> = None;
    for row in 0..len {
        if let Some(x) = get(row) {
            moments.count += 1;
            moments.sum.add(x);
            let k = *shift.get_or_insert(if x.is_finite() { x } else { 0.0 });
            chunk[filled] = x - k;
            filled += 1;
            moments.min = Some(moments.min.map_or(x, |m| minimum(m, x)));
            moments.max = Some(moments.max.map_or(x, |m| maximum(m, x)));
            moments.any |= x != 0.0;
            moments.all &= x != 0.0;
        }
        if row % MOMENT_CHUNK == MOMENT_CHUNK - 1 {
            moments.merge_chunk(&chunk[..filled]);
            filled = 0;
        }
    }
    moments.merge_chunk(&chunk[..filled]);
    moments
}

/// Every reduction in `ops` over the valid rows, in one pass: `ops[i]`'s value, or `None`
/// where it is null (the mean, var, std, min and max of no rows). `count` gives the number of
/// valid rows; `any`/`all` give 1 or 0 (an empty `any` is false, an empty `all` true); an
/// empty `sum` is 0.
pub fn reduce(ops: &[ReduceOp], len: usize, get: impl Fn(usize) -> Option<f64>) -> Vec<Option<f64>> {
    let moments = moments(len, get);
    let count = moments.count as f64;
    let variance =
        |ddof: u8| (moments.count > usize::from(ddof)).then(|| moments.merged_m2 / (count - f64::from(ddof)));
    ops.iter()
        .map(|op| match *op {
            ReduceOp::Sum => Some(if moments.count == 0 { 0.0 } else { moments.sum.total() }),
            ReduceOp::Mean => (moments.count > 0).then(|| moments.sum.total() / count),
            ReduceOp::Var { ddof } => variance(ddof),
            ReduceOp::Std { ddof } => variance(ddof).map(f64::sqrt),
            ReduceOp::Min => moments.min,
            ReduceOp::Max => moments.max,
            ReduceOp::Count => Some(count),
            ReduceOp::Any => Some(f64::from(u8::from(moments.any))),
            ReduceOp::All => Some(f64::from(u8::from(moments.all))),
        })
        .collect()
}

/// Runs `op` down the column: `put(row, value)` for every row in order.
///
/// - Windows (`msum mavg mstd mmin mmax`) aggregate the valid values among the last `w` rows
///   (fewer at the start); the result is null when there are none. `mstd` is the population
///   standard deviation. A NaN in the window makes `mmin`/`mmax`/`mstd` NaN, as it does `msum`.
/// - Cumulative ops and `ema` skip null rows: the result is null there and the state carries
///   over them. `ema` starts at the first valid value, then `s = α·x + (1−α)·s`.
pub fn scan(
    op: ScanOp,
    len: usize,
    get: impl Fn(usize) -> Option<f64>,
    mut put: impl FnMut(usize, Option<f64>),
) {
    match op {
        ScanOp::MSum { w } | ScanOp::MAvg { w } => {
            let w = w as usize;
            let mut sum = CompensatedSum::default();
            let mut count = 0usize;
            for row in 0..len {
                if let Some(x) = get(row) {
                    sum.add(x);
                    count += 1;
                }
                if row >= w
                    && let Some(x) = get(row - w)
                {
                    sum.remove(x);
                    count -= 1;
                }
                if row % w == w - 1 {
                    // Start afresh from the window itself: no drift survives w updates.
                    sum = CompensatedSum::default();
                    (row + 1 - w..=row).filter_map(&get).for_each(|x| sum.add(x));
                }
                let total = sum.total();
                put(
                    row,
                    (count > 0).then(|| {
                        if matches!(op, ScanOp::MSum { .. }) { total } else { total / count as f64 }
                    }),
                );
            }
        }
        ScanOp::MStd { w } => {
            let w = w as usize;
            let (mut count, mut mean, mut m2, mut non_finite) = (0usize, 0.0f64, 0.0f64, 0usize);
            for row in 0..len {
                if let Some(x) = get(row) {
                    if x.is_finite() {
                        count += 1;
                        let delta = x - mean;
                        mean += delta / count as f64;
                        m2 += delta * (x - mean);
                    } else {
                        non_finite += 1;
                    }
                }
                if row >= w
                    && let Some(x) = get(row - w)
                {
                    if x.is_finite() {
                        count -= 1;
                        if count == 0 {
                            (mean, m2) = (0.0, 0.0);
                        } else {
                            let delta = x - mean;
                            mean -= delta / count as f64;
                            m2 -= delta * (x - mean);
                        }
                    } else {
                        non_finite -= 1;
                    }
                }
                if row % w == w - 1 {
                    // Exact two-pass moments of the window, every w rows.
                    let finite: Vec<f64> =
                        (row + 1 - w..=row).filter_map(&get).filter(|x| x.is_finite()).collect();
                    count = finite.len();
                    mean = if count == 0 { 0.0 } else { finite.iter().sum::<f64>() / count as f64 };
                    m2 = finite.iter().map(|x| (x - mean) * (x - mean)).sum();
                }
                let value = if count + non_finite == 0 {
                    None
                } else if non_finite > 0 {
                    Some(f64::NAN)
                } else {
                    Some((m2.max(0.0) / count as f64).sqrt())
                };
                put(row, value);
            }
        }
        ScanOp::MMin { w } | ScanOp::MMax { w } => {
            let w = w as usize;
            let is_min = matches!(op, ScanOp::MMin { .. });
            // `a` is strictly preferred over `b` by the IEEE 754-2019 rule (-0 < +0).
            let preferred = |a: f64, b: f64| {
                let best = if is_min { minimum(a, b) } else { maximum(a, b) };
                best.to_bits() == a.to_bits() && a.to_bits() != b.to_bits()
            };
            let mut deque: VecDeque<(usize, f64)> = VecDeque::new();
            let (mut valid, mut nan) = (0usize, 0usize);
            for row in 0..len {
                if let Some(x) = get(row) {
                    valid += 1;
                    if x.is_nan() {
                        nan += 1;
                    } else {
                        while deque.back().is_some_and(|&(_, back)| !preferred(back, x)) {
                            deque.pop_back();
                        }
                        deque.push_back((row, x));
                    }
                }
                if row >= w
                    && let Some(x) = get(row - w)
                {
                    valid -= 1;
                    if x.is_nan() {
                        nan -= 1;
                    }
                }
                while deque.front().is_some_and(|&(index, _)| index + w <= row) {
                    deque.pop_front();
                }
                let value = if valid == 0 {
                    None
                } else if nan > 0 {
                    Some(f64::NAN)
                } else {
                    deque.front().map(|&(_, value)| value)
                };
                put(row, value);
            }
        }
        ScanOp::CumSum => {
            let mut sum = CompensatedSum::default();
            for row in 0..len {
                put(
                    row,
                    get(row).map(|x| {
                        sum.add(x);
                        sum.total()
                    }),
                );
            }
        }
        ScanOp::CumProd | ScanOp::CumMax | ScanOp::CumMin => {
            let mut state: Option<f64> = None;
            for row in 0..len {
                let value = get(row).map(|x| {
                    let next = match (state, op) {
                        (None, _) => x,
                        (Some(s), ScanOp::CumProd) => s * x,
                        (Some(s), ScanOp::CumMax) => maximum(s, x),
                        (Some(s), _) => minimum(s, x),
                    };
                    state = Some(next);
                    next
                });
                put(row, value);
            }
        }
        ScanOp::Ema { alpha_bits } => {
            let alpha = f64::from_bits(alpha_bits);
            let keep = 1.0 - alpha;
            let mut state: Option<f64> = None;
            for row in 0..len {
                let value = get(row).map(|x| {
                    let next = match state {
                        None => x,
                        Some(s) => alpha * x + keep * s,
                    };
                    state = Some(next);
                    next
                });
                put(row, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[Option<f64>]) -> impl Fn(usize) -> Option<f64> + '_ {
        move |row| values[row]
    }

    fn scanned(op: ScanOp, values: &[Option<f64>]) -> Vec<Option<f64>> {
        let mut out = vec![None; values.len()];
        scan(op, values.len(), column(values), |row, value| out[row] = value);
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
        let got = reduce(&ops, x.len(), column(&x));
        let mean = 7.0 / 3.0;
        let m2 = (1.0f64 - mean).powi(2) + (2.0f64 - mean).powi(2) + (4.0f64 - mean).powi(2);
        assert_eq!(got[0], Some(7.0));
        assert_eq!(got[1], Some(mean));
        assert!((got[2].unwrap() - m2 / 3.0).abs() < 1e-15);
        assert!((got[3].unwrap() - m2 / 2.0).abs() < 1e-15);
        assert_eq!((got[4], got[5], got[6]), (Some(1.0), Some(4.0), Some(3.0)));
        let empty = reduce(&ops, 2, |_| None);
        assert_eq!(empty, vec![Some(0.0), None, None, None, None, None, Some(0.0)]);
        assert_eq!(reduce(&[ReduceOp::Var { ddof: 1 }], 1, |_| Some(3.0)), vec![None]);
        assert_eq!(reduce(&[ReduceOp::Any, ReduceOp::All], 0, |_| None), vec![Some(0.0), Some(1.0)]);
    }

    #[test]
    fn compensated_sums_and_chunked_variance_are_accurate() {
        // 1 + 1e-16 * 10^4 times: a plain sum loses every small term.
        let n = 10_001;
        let get = |row: usize| Some(if row == 0 { 1.0 } else { 1e-16 });
        assert_eq!(reduce(&[ReduceOp::Sum], n, get)[0], Some(1.000_000_000_001));
        // A huge offset: the naive E[x²] − E[x]² formula gives garbage, this gives 2/3·… exactly.
        let get = |row: usize| Some(1e9 + (row % 3) as f64);
        let var = reduce(&[ReduceOp::Var { ddof: 0 }], 3000, get)[0].unwrap();
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
