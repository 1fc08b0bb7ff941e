//! The hand-written contenders the JIT is measured against (not part of the library's API),
//! shared by `benches/kernels.rs` and `examples/compare.rs`:
//!
//! - `seed`: the seeds' hand-fused kernels as they describe them — scalar `f64::ln`, two ln
//!   per row for dlog, a no-nulls fast path and a validity-masked path;
//! - `best`: the best Rust we write for each workload, with the project's vectorised ln
//!   block, ln once per row, validity a 64-row word at a time;
//! - `pipeline`: unfused, one pass per operator over reused scratch buffers;
//! - `memcpy`: a copy of the same bytes, the memory floor.
//!
//! The JIT and the interpreter are measured through the library.

#![allow(dead_code)]

use fusejit::internals::math;

/// The workloads of SPEC §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    W1,
    W2,
    W3,
    W4,
    W5,
    W6,
    W7,
    /// `(x-mean(x))/std(x)`: a reduction pass, then an elementwise pass.
    Zscore,
    /// `mavg(x,20)`: a rolling window.
    Mavg20,
}

impl Workload {
    pub const ALL: [Workload; 9] = [
        Workload::W1,
        Workload::W2,
        Workload::W3,
        Workload::W4,
        Workload::W5,
        Workload::W6,
        Workload::W7,
        Workload::Zscore,
        Workload::Mavg20,
    ];

    /// Whether the seeds have a kernel for this workload (they have none for reductions or
    /// windows: `seed` runs nothing for those).
    pub fn has_seed(self) -> bool {
        !matches!(self, Workload::Zscore | Workload::Mavg20)
    }

    pub fn name(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W4 => "W4",
            Workload::W5 => "W5",
            Workload::W6 => "W6",
            Workload::W7 => "W7",
            Workload::Zscore => "zscore",
            Workload::Mavg20 => "mavg20",
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            Workload::W1 => "ln(x)*a+b",
            Workload::W2 => "dlog(x,1)*a+b",
            Workload::W3 | Workload::W6 => "dlog(x,5)*a+b",
            Workload::W4 => "(x-y)*a+b",
            Workload::W5 => "x*a",
            Workload::W7 => "where(x>y, x-y, 0)*a",
            Workload::Zscore => "(x-mean(x))/std(x)",
            Workload::Mavg20 => "mavg(x,20)",
        }
    }
}

/// The data of one size: a positive random walk `x`, `y` near it, `x` as f32, a validity
/// bitmap with 10% nulls (for W6), and volumes, share counts and a session flag (for the
/// corpus).
pub struct Data {
    pub rows: usize,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub x32: Vec<f32>,
    pub validity: Vec<u8>,
    /// Traded volumes, 1000 to 2000 (for the corpus).
    pub vol: Vec<f64>,
    /// The volumes as share counts, i64 (for the corpus).
    pub qty: Vec<i64>,
    /// Whether a row is in the trading session, 80% of rows (a bool column, for the corpus).
    pub live: Vec<bool>,
    pub a: f64,
    pub b: f64,
}

impl Data {
    pub fn new(rows: usize) -> Data {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut price = 100.0f64;
        let x: Vec<f64> = (0..rows)
            .map(|_| {
                price *= 1.0 + (next() - 0.5) * 0.02;
                price
            })
            .collect();
        let y = x.iter().map(|v| v * (0.99 + next() * 0.02)).collect();
        let x32 = x.iter().map(|&v| v as f32).collect();
        let mut validity = vec![0u8; rows.div_ceil(8)];
        for row in 0..rows {
            if next() >= 0.1 {
                validity[row / 8] |= 1 << (row % 8);
            }
        }
        let vol: Vec<f64> = (0..rows).map(|_| 1000.0 + (next() * 1000.0).floor()).collect();
        let qty = vol.iter().map(|&v| v as i64).collect();
        let live = (0..rows).map(|_| next() >= 0.2).collect();
        Data { rows, x, y, x32, validity, vol, qty, live, a: 252.0, b: 0.5 }
    }
}

/// Output buffers, reused across runs.
pub struct Out {
    pub f64s: Vec<f64>,
    pub f32s: Vec<f32>,
    pub validity: Vec<u8>,
    /// Scratch for the pipeline and the ln blocks.
    pub scratch: Vec<Vec<f64>>,
}

impl Out {
    pub fn new(rows: usize) -> Out {
        Out {
            f64s: vec![0.0; rows],
            f32s: vec![0.0; rows],
            validity: vec![0; rows.div_ceil(8)],
            scratch: vec![vec![0.0; rows]; 3],
        }
    }
}

fn valid(bits: &[u8], row: usize) -> bool {
    bits[row / 8] >> (row % 8) & 1 == 1
}

// ---------------------------------------------------------------- seed

/// The seeds' kernels, as `001_…` describes them.
pub fn seed(workload: Workload, data: &Data, out: &mut Out) {
    let (x, a, b) = (&data.x, data.a, data.b);
    match workload {
        Workload::W1 => ln_scale_add(&mut out.f64s, x, a, b),
        Workload::W2 => dlog_scale_add(&mut out.f64s, &mut out.validity, x, None, 1, a, b),
        Workload::W3 => dlog_scale_add(&mut out.f64s, &mut out.validity, x, None, 5, a, b),
        Workload::W6 => dlog_scale_add(&mut out.f64s, &mut out.validity, x, Some(&data.validity), 5, a, b),
        Workload::W4 => sub_mul_add(&mut out.f64s, x, &data.y, a, b),
        Workload::W5 => scale_f32(&mut out.f32s, &data.x32, a as f32),
        Workload::W7 => {
            for ((o, &xv), &yv) in out.f64s.iter_mut().zip(x).zip(&data.y) {
                *o = if xv > yv { (xv - yv) * a } else { 0.0 };
            }
        }
        Workload::Zscore | Workload::Mavg20 => {}
    }
}

fn ln_scale_add(out: &mut [f64], x: &[f64], a: f64, b: f64) {
    for (o, v) in out.iter_mut().zip(x) {
        *o = v.ln() * a + b;
    }
}

/// `dlog(x, lag) * a + b` with two ln per row; a fast path without nulls, a masked one with.
fn dlog_scale_add(
    out: &mut [f64],
    out_valid: &mut [u8],
    x: &[f64],
    bits: Option<&[u8]>,
    lag: usize,
    a: f64,
    b: f64,
) {
    out_valid.fill(0);
    match bits {
        None => {
            for i in lag..x.len() {
                out[i] = (x[i].ln() - x[i - lag].ln()) * a + b;
                out_valid[i / 8] |= 1 << (i % 8);
            }
        }
        Some(bits) => {
            for i in lag..x.len() {
                if valid(bits, i) && valid(bits, i - lag) {
                    out[i] = (x[i].ln() - x[i - lag].ln()) * a + b;
                    out_valid[i / 8] |= 1 << (i % 8);
                }
            }
        }
    }
}

/// `x * a` in f32: one pass, the same loop for every contender (it is already fused).
#[inline(always)]
fn scale_f32(out: &mut [f32], x: &[f32], a: f32) {
    for (o, v) in out.iter_mut().zip(x) {
        *o = v * a;
    }
}

#[inline(always)]
fn sub_mul_add(out: &mut [f64], x: &[f64], y: &[f64], a: f64, b: f64) {
    for ((o, xv), yv) in out.iter_mut().zip(x).zip(y) {
        *o = (xv - yv) * a + b;
    }
}

// ---------------------------------------------------------------- best

const BLOCK: usize = 512;

/// The best hand-written kernels: the vectorised ln block once per row, fused, L1 blocks,
/// compiled for the host's widest vectors (AVX-512, else AVX2 and FMA, chosen at run time,
/// as numba compiles for the host). LLVM contracts nothing into FMAs without fast-math, so
/// every tier computes the same bits.
pub fn best(workload: Workload, data: &Data, out: &mut Out) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the features `best_avx512` is compiled for were just detected.
            return unsafe { best_avx512(workload, data, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the features `best_avx2` is compiled for were just detected.
            return unsafe { best_avx2(workload, data, out) };
        }
    }
    best_loops(workload, data, out)
}

/// [`best`] compiled for AVX-512.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma,bmi1,bmi2,popcnt")]
unsafe fn best_avx512(workload: Workload, data: &Data, out: &mut Out) {
    best_loops(workload, data, out)
}

/// [`best`] compiled for AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,bmi1,bmi2,popcnt")]
unsafe fn best_avx2(workload: Workload, data: &Data, out: &mut Out) {
    best_loops(workload, data, out)
}

/// The loops of [`best`], inlined into each tier's entry point.
#[inline(always)]
fn best_loops(workload: Workload, data: &Data, out: &mut Out) {
    let (x, a, b) = (&data.x, data.a, data.b);
    match workload {
        Workload::W1 => {
            math::ln_f64_block(x, &mut out.f64s);
            for o in out.f64s.iter_mut() {
                *o = *o * a + b;
            }
        }
        Workload::W2 | Workload::W3 | Workload::W6 => {
            let lag = if workload == Workload::W2 { 1 } else { 5 };
            let logs = &mut out.scratch[0];
            for start in (0..x.len()).step_by(BLOCK) {
                let end = (start + BLOCK).min(x.len());
                math::ln_f64_block(&x[start..end], &mut logs[start..end]);
                for i in start.max(lag)..end {
                    out.f64s[i] = (logs[i] - logs[i - lag]) * a + b;
                }
            }
            // Validity a word at a time: valid(i) & valid(i - lag) & (i >= lag), the lagged
            // word shifted in from this word and the one before.
            let word = |w: usize| -> u64 {
                if workload != Workload::W6 {
                    return u64::MAX;
                }
                let bytes =
                    &data.validity[(w * 8).min(data.validity.len())..(w * 8 + 8).min(data.validity.len())];
                let mut full = [0u8; 8];
                full[..bytes.len()].copy_from_slice(bytes);
                u64::from_le_bytes(full)
            };
            let mut previous = 0u64;
            for w in 0..x.len().div_ceil(64) {
                let here = word(w);
                let lagged = (here << lag) | (previous >> (64 - lag));
                let mut combined = here & lagged;
                if w == 0 {
                    combined &= u64::MAX << lag;
                }
                previous = here;
                let bytes = combined.to_le_bytes();
                let end = (w * 8 + 8).min(out.validity.len());
                out.validity[w * 8..end].copy_from_slice(&bytes[..end - w * 8]);
            }
        }
        Workload::W4 => sub_mul_add(&mut out.f64s, x, &data.y, a, b),
        Workload::W5 => scale_f32(&mut out.f32s, &data.x32, a as f32),
        Workload::W7 => {
            for ((o, &xv), &yv) in out.f64s.iter_mut().zip(x).zip(&data.y) {
                let d = xv - yv;
                *o = if xv > yv { d } else { 0.0 } * a;
            }
        }
        Workload::Zscore => {
            // One pass for the moments (shifted by x[0] for stability, four accumulators so
            // the adds pipeline), one for the result: x is read twice.
            let (mean, std) = shifted_moments(x);
            for (o, &v) in out.f64s.iter_mut().zip(x) {
                *o = (v - mean) / std;
            }
        }
        Workload::Mavg20 => {
            // A running sum: add the new row, subtract the one leaving.
            let mut sum = 0.0;
            for (i, o) in out.f64s.iter_mut().enumerate() {
                sum += x[i];
                if i >= 20 {
                    sum -= x[i - 20];
                }
                *o = sum / (i + 1).min(20) as f64;
            }
        }
    }
}

/// Mean and population standard deviation from sums of `x − x[0]` and its square.
#[inline(always)]
fn shifted_moments(x: &[f64]) -> (f64, f64) {
    let Some(&shift) = x.first() else { return (f64::NAN, f64::NAN) };
    let (mut sums, mut squares) = ([0.0f64; 4], [0.0f64; 4]);
    let chunks = x.chunks_exact(4);
    let tail = chunks.remainder();
    for chunk in chunks {
        for lane in 0..4 {
            let d = chunk[lane] - shift;
            sums[lane] += d;
            squares[lane] += d * d;
        }
    }
    for &v in tail {
        sums[0] += v - shift;
        squares[0] += (v - shift) * (v - shift);
    }
    let n = x.len() as f64;
    let sum: f64 = sums.iter().sum();
    let square: f64 = squares.iter().sum();
    let mean_shifted = sum / n;
    let variance = (square / n - mean_shifted * mean_shifted).max(0.0);
    (shift + mean_shifted, variance.sqrt())
}

// ---------------------------------------------------------------- pipeline

/// Unfused: one pass per operator over reused scratch buffers, as a NumPy-style library runs.
pub fn pipeline(workload: Workload, data: &Data, out: &mut Out) {
    let (a, b) = (data.a, data.b);
    let [s0, s1, _] = &mut out.scratch[..] else { unreachable!() };
    match workload {
        Workload::W1 => {
            math::ln_f64_block(&data.x, s0);
            for (o, v) in s1.iter_mut().zip(s0.iter()) {
                *o = v * a;
            }
            for (o, v) in out.f64s.iter_mut().zip(s1.iter()) {
                *o = v + b;
            }
        }
        Workload::W2 | Workload::W3 | Workload::W6 => {
            let lag = if workload == Workload::W2 { 1 } else { 5 };
            math::ln_f64_block(&data.x, s0);
            for i in lag..data.rows {
                s1[i] = s0[i] - s0[i - lag];
            }
            for (o, v) in s0.iter_mut().zip(s1.iter()) {
                *o = v * a;
            }
            for (o, v) in out.f64s.iter_mut().zip(s0.iter()) {
                *o = v + b;
            }
            // Validity in its own pass: valid(i) & valid(i - lag) & (i >= lag).
            out.validity.fill(0);
            for i in lag..data.rows {
                let here =
                    workload != Workload::W6 || (valid(&data.validity, i) && valid(&data.validity, i - lag));
                if here {
                    out.validity[i / 8] |= 1 << (i % 8);
                }
            }
        }
        Workload::W4 => {
            for ((o, xv), yv) in s0.iter_mut().zip(&data.x).zip(&data.y) {
                *o = xv - yv;
            }
            for (o, v) in s1.iter_mut().zip(s0.iter()) {
                *o = v * a;
            }
            for (o, v) in out.f64s.iter_mut().zip(s1.iter()) {
                *o = v + b;
            }
        }
        Workload::W5 => scale_f32(&mut out.f32s, &data.x32, a as f32),
        Workload::Zscore => {
            // NumPy's way: mean, then std (itself two passes), then x - mean, then / std.
            let n = data.x.len() as f64;
            let mean = data.x.iter().sum::<f64>() / n;
            let std = (data.x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            for (o, v) in s0.iter_mut().zip(&data.x) {
                *o = v - mean;
            }
            for (o, v) in out.f64s.iter_mut().zip(s0.iter()) {
                *o = v / std;
            }
        }
        Workload::Mavg20 => {
            // pandas' way through a cumulative sum: c[i] − c[i−20], then the division.
            let mut running = 0.0;
            for (o, v) in s0.iter_mut().zip(&data.x) {
                running += v;
                *o = running;
            }
            for (i, o) in out.f64s.iter_mut().enumerate() {
                let window = if i >= 20 { s0[i] - s0[i - 20] } else { s0[i] };
                *o = window / (i + 1).min(20) as f64;
            }
        }
        Workload::W7 => {
            for ((o, xv), yv) in s0.iter_mut().zip(&data.x).zip(&data.y) {
                *o = xv - yv;
            }
            for ((o, xv), yv) in s1.iter_mut().zip(&data.x).zip(&data.y) {
                *o = if xv > yv { 1.0 } else { 0.0 };
            }
            for ((o, d), m) in out.f64s.iter_mut().zip(s0.iter()).zip(s1.iter()) {
                *o = if *m != 0.0 { *d } else { 0.0 };
            }
            for o in out.f64s.iter_mut() {
                *o *= a;
            }
        }
    }
}

// ---------------------------------------------------------------- memcpy

/// Copies an input column into the output column: one read and one write of the result's
/// bytes per row, the floor under any kernel that reads a column and writes one.
pub fn memcpy(workload: Workload, data: &Data, out: &mut Out) {
    if workload == Workload::W5 {
        out.f32s.copy_from_slice(&data.x32);
    } else {
        out.f64s.copy_from_slice(&data.x);
    }
}

// ---------------------------------------------------------------- the library

/// Bindings for a workload: columns `x` (`y`), scalars `a`, `b`; W5 binds `x` as f32, W6
/// gives `x` its 10%-null bitmap.
pub fn bindings<'a>(workload: Workload, data: &'a Data) -> fusejit::Bindings<'a> {
    let mut bindings = fusejit::Bindings::new();
    match workload {
        Workload::W5 => {
            bindings.column("x", &data.x32[..]).scalar("a", data.a as f32);
        }
        Workload::W6 => {
            bindings
                .column_with_validity("x", &data.x[..], fusejit::Validity::new(&data.validity, 0))
                .scalar("a", data.a)
                .scalar("b", data.b);
        }
        _ => {
            bindings
                .column("x", &data.x[..])
                .column("y", &data.y[..])
                .scalar("a", data.a)
                .scalar("b", data.b);
        }
    }
    bindings
}

/// The JIT through `eval_into` (no allocation).
pub fn jit(kernel: &fusejit::Kernel, bindings: &fusejit::Bindings<'_>, workload: Workload, out: &mut Out) {
    let values = if workload == Workload::W5 {
        fusejit::ValuesMut::F32(&mut out.f32s)
    } else {
        fusejit::ValuesMut::F64(&mut out.f64s)
    };
    let mut target = fusejit::ColumnMut { values, validity: &mut out.validity };
    kernel.eval_into(bindings, &mut target).expect("the workload evaluates");
}

// ---------------------------------------------------------------- timing

/// Times `contenders` contenders interleaved, for the examples' tables: `repeats` rounds, each
/// starting one contender later than the last (so that no contender always runs right after
/// the same one, whose data it would find in, or out of, cache), each contender run once
/// untimed and then timed (so that every one meets warm caches). `run(index)` runs contender
/// `index` and returns how many rows it processed. Returns each contender's median ns per row.
pub fn interleaved_medians(
    contenders: usize,
    repeats: usize,
    mut run: impl FnMut(usize) -> usize,
) -> Vec<f64> {
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); contenders];
    for repeat in 0..repeats {
        for step in 0..contenders {
            let index = (step + repeat) % contenders;
            run(index);
            let start = std::time::Instant::now();
            let rows = run(index);
            samples[index].push(start.elapsed().as_nanos() as f64 / rows.max(1) as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut times| {
            times.sort_by(f64::total_cmp);
            times[times.len() / 2]
        })
        .collect()
}

// ---------------------------------------------------------------- corpus

/// Programs a quant or data user writes, beside W1–W7: (name, program). Inputs: `px` (the
/// random walk `x`), `y` (near it), `vol` (volumes), `pxn` (`px` with 10% nulls) and `px32`
/// (`px` as f32; the programs named `f32_…` give f32). `benches/peers/peers.py` has the
/// same programs for the Python peers, under the same names.
pub const CORPUS: [(&str, &str); 23] = [
    ("ann_ret", "dlog(px, 1) * 252"),
    ("log_ret", "ln(px / lag(px, 1))"),
    ("momentum20", "ret(px, 20)"),
    ("roll_vol", "mstd(dlog(px, 1), 20) * sqrt(252)"),
    ("sharpe20", "r = dlog(px, 1); mavg(r, 20) / mstd(r, 20) * sqrt(252)"),
    ("bollinger", "(px - mavg(px, 20)) / mstd(px, 20)"),
    ("macd", "ema(px, 2/13) - ema(px, 2/27)"),
    (
        "rsi14",
        "d = diff(px, 1); up = ema(max(d, 0), 1/14); down = ema(max(-d, 0), 1/14); 100 - 100 / (1 + up / down)",
    ),
    ("drawdown", "px / cummax(px) - 1"),
    ("cum_ret", "exp(cumsum(dlog(px, 1))) - 1"),
    ("vwap_dev", "px - sum(px * vol) / sum(vol)"),
    ("roll_vwap", "msum(px * vol, 20) / msum(vol, 20)"),
    ("notional", "px * qty"),
    ("zclip", "clip((px - mean(px)) / std(px), -3, 3)"),
    ("minmax", "(px - min(px)) / (max(px) - min(px))"),
    ("range_pos", "lo = mmin(px, 20); (px - lo) / (mmax(px, 20) - lo)"),
    ("signal", "where(px > y, 1.0, where(px < y, -1.0, 0.0))"),
    ("spread_chg", "diff(px - y, 1)"),
    ("ema_cross", "where(ema(px, 0.1) > ema(px, 0.02), 1.0, -1.0)"),
    ("clean_ret", "r = dlog(pxn, 1); where(abs(r) > 0.01, null, r) * 252"),
    ("gated_ret", "where(live, dlog(px, 1), 0.0)"),
    ("f32_ret", "dlog(px32, 1) * 252"),
    ("f32_z", "(px32 - mean(px32)) / std(px32)"),
];

/// The corpus's inputs over `data`.
pub fn corpus_bindings(data: &Data) -> fusejit::Bindings<'_> {
    let mut bindings = fusejit::Bindings::new();
    bindings
        .column("px", &data.x[..])
        .column("y", &data.y[..])
        .column("vol", &data.vol[..])
        .column("px32", &data.x32[..])
        .column("qty", &data.qty[..])
        .column("live", &data.live[..])
        .column_with_validity("pxn", &data.x[..], fusejit::Validity::new(&data.validity, 0));
    bindings
}

/// A corpus program through `eval_into` (no allocation): f32 for the `f32_…` programs.
pub fn corpus_jit(kernel: &fusejit::Kernel, bindings: &fusejit::Bindings<'_>, name: &str, out: &mut Out) {
    let values = if name.starts_with("f32_") {
        fusejit::ValuesMut::F32(&mut out.f32s)
    } else {
        fusejit::ValuesMut::F64(&mut out.f64s)
    };
    let mut target = fusejit::ColumnMut { values, validity: &mut out.validity };
    kernel.eval_into(bindings, &mut target).expect("the corpus program evaluates");
}
