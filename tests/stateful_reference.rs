//! The stateful functions against an independent reference: each is computed here the
//! obvious way — every window summed or scanned directly, variances by two passes in
//! double-double, cumulative ops and `ema` as plain loops — sharing nothing with the crate's
//! `column_semantics`, `check` or passes. The differential tests cannot see a bug both the
//! interpreter and native code share; this can. Tolerances are derived per function below.

use fusejit::{Bindings, Engine, Scalar, Validity};

const U: f64 = f64::EPSILON / 2.0;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Rows of `x` as options: nulls from the bitmap; with `specials`, some NaN and ±inf.
fn data(rng: &mut Rng, rows: usize, specials: bool) -> (Vec<f64>, Vec<u8>, Vec<Option<f64>>) {
    let mut values = Vec::with_capacity(rows);
    let mut bitmap = vec![0u8; rows.div_ceil(8)];
    let mut options = Vec::with_capacity(rows);
    for row in 0..rows {
        let value = match rng.next() % 100 {
            0 if specials => f64::NAN,
            1 if specials => f64::INFINITY,
            2 if specials => f64::NEG_INFINITY,
            3..=5 => 0.0,
            // A large offset: the cancellation a naive one-pass variance would suffer.
            _ => 1000.0 + (rng.unit() - 0.5) * 20.0,
        };
        let valid = !rng.next().is_multiple_of(10);
        if valid {
            bitmap[row / 8] |= 1 << (row % 8);
        }
        values.push(value);
        options.push(valid.then_some(value));
    }
    (values, bitmap, options)
}

fn run(engine: &Engine, program: &str, x: &[f64], bitmap: &[u8]) -> Vec<Option<f64>> {
    let mut bindings = Bindings::new();
    bindings.column_with_validity("x", x, Validity::new(bitmap, 0));
    let column = engine.compile(program).expect("compiles").eval(&bindings).expect("evaluates");
    column
        .to_options()
        .into_iter()
        .map(|value| match value {
            Some(Scalar::F64(v)) => Some(v),
            None => None,
            Some(other) => panic!("{program}: f64 expected, got {other:?}"),
        })
        .collect()
}

/// `a + b` exactly, as a double-double (Knuth's TwoSum).
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// The sum of `values` to about 2⁻¹⁰⁶ relative to Σ|x| (double-double accumulation), or the
/// IEEE outcome of a plain sum when any value is not finite.
fn reference_sum(values: &[f64]) -> f64 {
    if values.iter().any(|v| !v.is_finite()) {
        return values.iter().sum();
    }
    let (mut hi, mut lo) = (0.0f64, 0.0f64);
    for &v in values {
        let (s, e) = two_sum(hi, v);
        hi = s;
        lo += e;
    }
    hi + lo
}

/// Population variance by two passes over double-double sums.
fn reference_variance(values: &[f64]) -> f64 {
    let mean = reference_sum(values) / values.len() as f64;
    let squares: Vec<f64> = values.iter().map(|v| (v - mean) * (v - mean)).collect();
    reference_sum(&squares) / values.len() as f64
}

fn window(options: &[Option<f64>], row: usize, w: usize) -> Vec<f64> {
    options[row.saturating_sub(w - 1)..=row].iter().flatten().copied().collect()
}

fn same_special(got: f64, want: f64) -> bool {
    (got.is_nan() && want.is_nan()) || got == want
}

#[test]
fn rolling_windows_equal_direct_window_computations() {
    let engine = Engine::new();
    let mut rng = Rng(0x0dd_ba11);
    for (rows, specials) in [(700usize, false), (1300, true), (64, false), (2, true)] {
        let (x, bitmap, options) = data(&mut rng, rows, specials);
        for w in [1usize, 2, 3, 20, 64, 513] {
            let msum = run(&engine, &format!("msum(x, {w})"), &x, &bitmap);
            let mavg = run(&engine, &format!("mavg(x, {w})"), &x, &bitmap);
            let mstd = run(&engine, &format!("mstd(x, {w})"), &x, &bitmap);
            let mmin = run(&engine, &format!("mmin(x, {w})"), &x, &bitmap);
            let mmax = run(&engine, &format!("mmax(x, {w})"), &x, &bitmap);
            for row in 0..rows {
                let values = window(&options, row, w);
                let context = format!("rows {rows}, w {w}, row {row}");
                if values.is_empty() {
                    for (name, got) in [("msum", msum[row]), ("mavg", mavg[row]), ("mstd", mstd[row])] {
                        assert_eq!(got, None, "{name}: an empty window is null ({context})");
                    }
                    assert_eq!((mmin[row], mmax[row]), (None, None), "{context}");
                    continue;
                }
                let finite = values.iter().all(|v| v.is_finite());
                let abs_sum: f64 = values.iter().map(|v| v.abs()).sum();
                // msum: the documented bound (w−1)·u·Σ|x| of summing the window directly.
                let sum = reference_sum(&values);
                let got = msum[row].expect("a window with a valid row has a sum");
                if finite {
                    let bound = (w as f64) * U * abs_sum;
                    assert!((got - sum).abs() <= bound, "msum {got} vs {sum} ({context})");
                } else {
                    assert!(same_special(got, sum), "msum {got} vs {sum} ({context})");
                }
                // mavg: the sum's bound, divided by n, plus the division's rounding.
                let avg = sum / values.len() as f64;
                let got = mavg[row].expect("valid");
                if finite {
                    let bound = (w as f64) * U * abs_sum / values.len() as f64 + U * avg.abs();
                    assert!((got - avg).abs() <= bound, "mavg {got} vs {avg} ({context})");
                } else {
                    assert!(same_special(got, avg), "mavg {got} vs {avg} ({context})");
                }
                // mstd: power sums of x − K over at most 2w rows, K the mean of rows at most 2w
                // back: each term errs by u·(x − K)², so with |x − K| below the data's range
                // (20 here, or 1010 with the zeros) the variance (n·S2 − S1²)/n² errs by less
                // than 64·w·u·(|mean|·range + var) — the bound a shift-free method (Welford)
                // needs, kept so that a method with no shift would still pass.
                let got = mstd[row].expect("valid");
                if finite {
                    let variance = reference_variance(&values);
                    let bound = 64.0 * w as f64 * U * (1010.0 * 20.0 + variance);
                    assert!(
                        (got * got - variance).abs() <= bound,
                        "mstd² {} vs {variance} ({context})",
                        got * got
                    );
                } else {
                    assert!(got.is_nan(), "mstd of a window with NaN or ±inf is NaN ({context})");
                }
                // mmin/mmax: exact, IEEE 754-2019 minimum/maximum (NaN wins, -0 < +0).
                let min = values.iter().copied().fold(f64::INFINITY, |a, b| {
                    if a.is_nan() || b.is_nan() {
                        f64::NAN
                    } else if a < b || (a == b && a.is_sign_negative()) {
                        a
                    } else {
                        b
                    }
                });
                let max = values.iter().copied().fold(f64::NEG_INFINITY, |a, b| {
                    if a.is_nan() || b.is_nan() {
                        f64::NAN
                    } else if a > b || (a == b && b.is_sign_negative()) {
                        a
                    } else {
                        b
                    }
                });
                let (got_min, got_max) = (mmin[row].expect("valid"), mmax[row].expect("valid"));
                assert!(
                    got_min.to_bits() == min.to_bits() || (got_min.is_nan() && min.is_nan()),
                    "mmin {got_min} vs {min} ({context})"
                );
                assert!(
                    got_max.to_bits() == max.to_bits() || (got_max.is_nan() && max.is_nan()),
                    "mmax {got_max} vs {max} ({context})"
                );
            }
        }
    }
}

#[test]
fn cumulative_ops_and_ema_equal_plain_loops() {
    let engine = Engine::new();
    let mut rng = Rng(0xfeed_f00d);
    for (rows, specials) in [(1500usize, false), (1100, true), (1, false)] {
        let (x, bitmap, options) = data(&mut rng, rows, specials);
        // cumprod on values near 1, so the product neither overflows nor vanishes.
        let near_one: Vec<f64> =
            x.iter().map(|v| if v.is_finite() { 1.0 + (v - 1000.0) / 1e4 } else { *v }).collect();
        let cumsum = run(&engine, "cumsum(x)", &x, &bitmap);
        let cumprod = run(&engine, "cumprod(x)", &near_one, &bitmap);
        let cummax = run(&engine, "cummax(x)", &x, &bitmap);
        let cummin = run(&engine, "cummin(x)", &x, &bitmap);
        let ema = run(&engine, "ema(x, 0.3)", &x, &bitmap);
        let mut seen = Vec::new();
        let (mut product, mut max, mut min, mut state): (f64, Option<f64>, Option<f64>, Option<f64>) =
            (1.0, None, None, None);
        for row in 0..rows {
            let context = format!("rows {rows}, row {row}");
            let Some(value) = options[row] else {
                for (name, got) in [
                    ("cumsum", cumsum[row]),
                    ("cumprod", cumprod[row]),
                    ("cummax", cummax[row]),
                    ("cummin", cummin[row]),
                    ("ema", ema[row]),
                ] {
                    assert_eq!(got, None, "{name}: a null row stays null ({context})");
                }
                continue;
            };
            seen.push(value);
            // cumsum: Neumaier's compensated sum errs by at most 2u·|S| + 2n·u²·Σ|x|.
            let sum = reference_sum(&seen);
            let got = cumsum[row].expect("valid");
            if seen.iter().all(|v| v.is_finite()) {
                let abs_sum: f64 = seen.iter().map(|v| v.abs()).sum();
                let bound = 2.0 * U * sum.abs() + 2.0 * seen.len() as f64 * U * U * abs_sum;
                assert!((got - sum).abs() <= bound, "cumsum {got} vs {sum} ({context})");
            } else {
                assert!(same_special(got, sum), "cumsum {got} vs {sum} ({context})");
            }
            // cumprod, cummax, cummin, ema: the same operations in the same order, so the same bits.
            product *= near_one[row];
            let got = cumprod[row].expect("valid");
            assert!(
                got.to_bits() == product.to_bits() || (got.is_nan() && product.is_nan()),
                "cumprod {got} vs {product} ({context})"
            );
            max = Some(match max {
                None => value,
                Some(m) if m.is_nan() || value.is_nan() => f64::NAN,
                Some(m) => {
                    if value > m || (value == m && m.is_sign_negative()) {
                        value
                    } else {
                        m
                    }
                }
            });
            min = Some(match min {
                None => value,
                Some(m) if m.is_nan() || value.is_nan() => f64::NAN,
                Some(m) => {
                    if value < m || (value == m && value.is_sign_negative()) {
                        value
                    } else {
                        m
                    }
                }
            });
            for (name, got, want) in [("cummax", cummax[row], max), ("cummin", cummin[row], min)] {
                let (got, want) = (got.expect("valid"), want.expect("set"));
                assert!(
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                    "{name} {got} vs {want} ({context})"
                );
            }
            state = Some(match state {
                None => value,
                Some(s) => 0.3 * value + (1.0 - 0.3) * s,
            });
            let (got, want) = (ema[row].expect("valid"), state.expect("set"));
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "ema {got} vs {want} ({context})"
            );
        }
    }
}
