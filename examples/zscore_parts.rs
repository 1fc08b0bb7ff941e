//! Where `(x-mean(x))/std(x)` spends its time against a hand-written z-score: the JIT's
//! reductions (`sum`, `std`, `mean`+`std`) and its elementwise pass (`(x-1.5)/2.5`) beside
//! a one-pass shifted-moments loop, the hand-written division pass and memcpy, every
//! contender interleaved in one process on one thread, median (and minimum) of the repeats.
//!
//! `cargo run --release --example zscore_parts -- [--rows N] [--repeats R] [--only NAME]`
use std::time::Instant;

/// Mean and population standard deviation in one pass, from sums of `x − x[0]` and its
/// square in four lanes: what a hand-written z-score does (less exact than fusejit's
/// chunked two-pass moments, and not split the same way between threads).
fn one_pass_moments(x: &[f64]) -> (f64, f64) {
    let Some(&shift) = x.first() else { return (f64::NAN, f64::NAN) };
    let (mut sums, mut squares) = ([0.0f64; 4], [0.0f64; 4]);
    for chunk in x.chunks_exact(4) {
        for lane in 0..4 {
            let d = chunk[lane] - shift;
            sums[lane] += d;
            squares[lane] += d * d;
        }
    }
    let n = x.len() as f64;
    let mean_shifted = sums.iter().sum::<f64>() / n;
    let variance = (squares.iter().sum::<f64>() / n - mean_shifted * mean_shifted).max(0.0);
    (shift + mean_shifted, variance.sqrt())
}

fn standardise(x: &[f64], out: &mut [f64], mean: f64, std: f64) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v - mean) / std;
    }
}

/// The two loops compiled for AVX2 where the CPU has it, as LLVM would for the host.
fn moments(x: &[f64]) -> (f64, f64) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn avx2(x: &[f64]) -> (f64, f64) {
            one_pass_moments(x)
        }
        // SAFETY: AVX2 was just detected.
        return unsafe { avx2(x) };
    }
    one_pass_moments(x)
}

fn divide(x: &[f64], out: &mut [f64], mean: f64, std: f64) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn avx2(x: &[f64], out: &mut [f64], mean: f64, std: f64) {
            standardise(x, out, mean, std)
        }
        // SAFETY: AVX2 was just detected.
        return unsafe { avx2(x, out, mean, std) };
    }
    standardise(x, out, mean, std)
}

/// The JIT's contenders: the first three give a scalar, the others a column.
const JIT_PROGRAMS: [&str; 5] = ["sum(x)", "std(x)", "mean(x)+std(x)", "(x-mean(x))/std(x)", "(x-1.5)/2.5"];
const SCALAR_PROGRAMS: usize = 3;
const HAND_WRITTEN: [&str; 4] =
    ["one-pass moments", "hand-written zscore", "hand-written (x-1.5)/2.5", "memcpy"];

fn main() {
    if let Err(message) = run() {
        eprintln!("zscore_parts: {message}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let (mut rows, mut repeats, mut only) = (1_000_000usize, 101usize, None::<String>);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--rows" => rows = value()?.parse().map_err(|_| "--rows takes a row count".to_string())?,
            "--repeats" => {
                repeats = value()?.parse().map_err(|_| "--repeats takes a count".to_string())?;
            }
            "--only" => only = Some(value()?),
            other => return Err(format!("unknown argument {other}; use --rows N, --repeats R, --only NAME")),
        }
    }
    if rows == 0 || repeats == 0 {
        return Err("--rows and --repeats must be at least 1".to_string());
    }
    // A positive random walk near 100, as the workloads' `x`.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut level = 100.0;
    let x: Vec<f64> = (0..rows)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            level += ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.1;
            level
        })
        .collect();
    let engine = fusejit::Engine::with_config(fusejit::EngineConfig::default().with_threads(Some(1)))
        .map_err(|error| error.to_string())?;
    let kernels = JIT_PROGRAMS
        .iter()
        .map(|program| engine.compile(program).map_err(|error| error.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut bindings = fusejit::Bindings::new();
    bindings.column("x", &x[..]);
    let (mut out, mut copy, mut validity) = (vec![0.0; rows], vec![0.0; rows], vec![0u8; rows.div_ceil(8)]);
    let names: Vec<String> = JIT_PROGRAMS
        .iter()
        .map(|program| format!("fusejit `{program}`"))
        .chain(HAND_WRITTEN.iter().map(|name| name.to_string()))
        .collect();
    if let Some(only) = &only
        && !names.iter().any(|name| name.contains(only.as_str()))
    {
        return Err(format!("no contender matches --only {only}"));
    }
    let mut times = vec![Vec::new(); names.len()];
    for _ in 0..repeats {
        for (index, name) in names.iter().enumerate() {
            if only.as_ref().is_some_and(|only| !name.contains(only.as_str())) {
                continue;
            }
            let start = Instant::now();
            if let Some(kernel) = kernels.get(index) {
                if index < SCALAR_PROGRAMS {
                    std::hint::black_box(kernel.eval(&bindings).map_err(|error| error.to_string())?);
                } else {
                    let mut column = fusejit::ColumnMut {
                        values: fusejit::ValuesMut::F64(&mut out),
                        validity: &mut validity,
                    };
                    kernel.eval_into(&bindings, &mut column).map_err(|error| error.to_string())?;
                }
            } else {
                match index - kernels.len() {
                    0 => drop(std::hint::black_box(moments(&x))),
                    1 => {
                        let (mean, std) = moments(&x);
                        divide(&x, &mut out, mean, std);
                    }
                    2 => divide(&x, &mut out, 1.5, 2.5),
                    _ => copy.copy_from_slice(&x),
                }
            }
            std::hint::black_box((&mut out, &mut copy));
            times[index].push(start.elapsed().as_secs_f64());
        }
    }
    println!("{rows} rows, one thread, median (min) of {repeats} interleaved repeats, ns per row\n");
    println!("| contender | median | min |\n| --- | --- | --- |");
    for (name, samples) in names.iter().zip(&mut times) {
        if samples.is_empty() {
            continue;
        }
        samples.sort_by(f64::total_cmp);
        let per_row = |seconds: f64| seconds / rows as f64 * 1e9;
        println!("| {name} | {:.3} | {:.3} |", per_row(samples[samples.len() / 2]), per_row(samples[0]));
    }
    Ok(())
}
