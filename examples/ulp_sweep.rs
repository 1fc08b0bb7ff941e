//! The big accuracy sweep of the vectorised math: for each function, each input range and each
//! tier this CPU supports (the traced tier, which is aarch64's code, included), the largest
//! error in ULPs — against the double-double reference for `ln`/`exp`, against astro-float at
//! 256 bits for the others — and whether every tier returned the same bits.
//! Run: `cargo run --release --example ulp_sweep -- --samples N [--function NAME]`.
//! `--function ln_f32` sweeps `ln` of f32s instead: every positive finite f32 (2³¹ of them),
//! through every tier's f32 block, against the f64 `ln` (itself within 2⁻²⁹ f32 ULP);
//! `--function exp_f32` every finite f32 against the f64 `exp`.
//! `--oracle mpfr` (built with `--features mpfr-oracle`, linking the system's `libmpfr.so.6`)
//! takes the exact values from GNU MPFR instead of astro-float: about 30 times faster, which
//! makes 10⁷ samples per range a matter of minutes.

#[path = "../tests/math_oracle/mod.rs"]
mod math_oracle;
#[cfg(feature = "mpfr-oracle")]
#[path = "../tests/math_oracle/mpfr.rs"]
mod mpfr;

/// Which arbitrary-precision library gives the exact values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Oracle {
    AstroFloat,
    #[cfg(feature = "mpfr-oracle")]
    Mpfr,
}

use fusejit::Isa;
use fusejit::internals::math::reference;

/// The input ranges swept for ln and exp: (name, lowest, highest, how to sample).
#[derive(Clone, Copy)]
enum Sampling {
    /// Uniform in the bit patterns between the bounds: every exponent equally often.
    Bits,
    /// Uniform in value between the bounds.
    Uniform,
}

const LN_RANGES: &[(&str, f64, f64, Sampling)] = &[
    ("all positive normals", f64::MIN_POSITIVE, f64::MAX, Sampling::Bits),
    ("[0.5, 2]", 0.5, 2.0, Sampling::Uniform),
    ("within 1e-3 of 1", 1.0 - 1e-3, 1.0 + 1e-3, Sampling::Uniform),
    ("subnormals", 4.9e-324, f64::MIN_POSITIVE, Sampling::Bits),
];

const EXP_RANGES: &[(&str, f64, f64, Sampling)] = &[
    ("whole finite domain", -745.2, 709.79, Sampling::Uniform),
    ("[-1, 1]", -1.0, 1.0, Sampling::Uniform),
    ("near overflow", 700.0, 709.782712893384, Sampling::Uniform),
    ("subnormal results", -745.13, -708.4, Sampling::Uniform),
    ("tiny arguments", 1e-300, 1e-5, Sampling::Bits),
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn sample(&mut self, low: f64, high: f64, sampling: Sampling) -> f64 {
        match sampling {
            Sampling::Bits => {
                let (a, b) = (low.to_bits(), high.to_bits());
                f64::from_bits(a + self.next() % (b - a))
            }
            Sampling::Uniform => low + (high - low) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64),
        }
    }
}

/// One row of the table: `run(tier, out)` fills `out` with the function's values on each
/// tier; the tiers must agree bit for bit; the largest error over the samples is taken on two
/// threads, each with its own evaluator from `evaluator()` (`error(i, value)` for sample `i`).
/// Prints the row and returns that error.
fn measure<E: FnMut(usize, f64) -> f64>(
    name: &str,
    range: &str,
    samples: usize,
    tiers: &[Isa],
    run: impl Fn(Isa, &mut [f64]),
    evaluator: impl Fn() -> E + Sync,
) -> f64 {
    let outputs: Vec<Vec<f64>> = tiers
        .iter()
        .map(|&tier| {
            let mut out = vec![0.0; samples];
            run(tier, &mut out);
            out
        })
        .collect();
    let identical = outputs.windows(2).all(|pair| {
        pair[0].iter().zip(&pair[1]).all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()))
    });
    let best = &outputs[0];
    let errors = |from: usize, to: usize| {
        let mut error = evaluator();
        (from..to).map(|i| error(i, best[i])).fold(0.0f64, f64::max)
    };
    let half = samples / 2;
    let max = std::thread::scope(|scope| {
        let first = scope.spawn(|| errors(0, half));
        let second = errors(half, samples);
        first.join().expect("the error thread").max(second)
    });
    let tier_names: Vec<&str> = tiers.iter().map(|tier| tier.name()).collect();
    println!(
        "| {name} | {range} | {samples} | {max:.3} | {} ({}) |",
        if identical { "identical" } else { "DIFFER" },
        tier_names.join(", ")
    );
    max
}

/// Sweeps `ln` or `exp` over its ranges against the double-double reference; returns the
/// largest error seen anywhere.
fn sweep(
    function: fusejit::MathFunction,
    ranges: &[(&str, f64, f64, Sampling)],
    samples: usize,
    tiers: &[Isa],
    error: fn(f64, f64) -> f64,
) -> f64 {
    let mut worst = 0.0f64;
    for &(range, low, high, sampling) in ranges {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let inputs: Vec<f64> = (0..samples).map(|_| rng.sample(low, high, sampling)).collect();
        let run = |tier: Isa, out: &mut [f64]| {
            let block = tier.block(function).expect("a supported tier");
            // SAFETY: both buffers hold `samples` values; the tier is supported (filtered).
            unsafe { block(inputs.as_ptr(), out.as_mut_ptr(), samples) };
        };
        let evaluator = || |i: usize, value: f64| error(inputs[i], value);
        worst = worst.max(measure(function.name(), range, samples, tiers, run, evaluator));
    }
    worst
}

/// Sweeps one of the oracle-checked functions over its ranges against the oracle.
fn sweep_with_oracle(function: fusejit::MathFunction, samples: usize, tiers: &[Isa], oracle: Oracle) -> f64 {
    let mut worst = 0.0f64;
    for (range, sample) in math_oracle::ranges(function) {
        let mut rng = math_oracle::Rng(0x9e37_79b9_7f4a_7c15 ^ (function as u64) << 40);
        let inputs: Vec<f64> = (0..samples).map(|_| sample(&mut rng)).collect();
        let run = |tier: Isa, out: &mut [f64]| {
            let block = tier.block(function).expect("a supported tier");
            // SAFETY: both buffers hold `samples` values; the tier is supported (filtered).
            unsafe { block(inputs.as_ptr(), out.as_mut_ptr(), samples) };
        };
        let inputs = &inputs;
        let evaluator = || -> Box<dyn FnMut(usize, f64) -> f64> {
            match oracle {
                Oracle::AstroFloat => {
                    let mut consts = astro_float::Consts::new().expect("astro-float's constants");
                    Box::new(move |i: usize, value: f64| {
                        math_oracle::ulp_error(value, &math_oracle::exact(function, inputs[i], &mut consts))
                    })
                }
                #[cfg(feature = "mpfr-oracle")]
                Oracle::Mpfr => {
                    let mut mpfr = mpfr::Mpfr::default();
                    Box::new(move |i: usize, value: f64| mpfr.ulp_error(function, inputs[i], value))
                }
            }
        };
        worst = worst.max(measure(function.name(), range, samples, tiers, run, evaluator));
    }
    worst
}

/// Sweeps a two-argument function over its ranges of argument pairs against the oracle.
fn sweep_binary(function: fusejit::BinaryMathFunction, samples: usize, tiers: &[Isa], oracle: Oracle) -> f64 {
    let mut worst = 0.0f64;
    for (range, sample_a, sample_b) in math_oracle::binary_ranges(function) {
        let mut rng = math_oracle::Rng(0x5bd1_e995_0000_0001 ^ (function as u64) << 36);
        let a: Vec<f64> = (0..samples).map(|_| sample_a(&mut rng)).collect();
        let b: Vec<f64> = (0..samples).map(|_| sample_b(&mut rng)).collect();
        let run = |tier: Isa, out: &mut [f64]| {
            let block = tier.binary_block(function).expect("a supported tier");
            // SAFETY: all three buffers hold `samples` values; the tier is supported.
            unsafe { block(a.as_ptr(), b.as_ptr(), out.as_mut_ptr(), samples) };
        };
        let (a, b) = (&a, &b);
        let evaluator = || -> Box<dyn FnMut(usize, f64) -> f64> {
            match oracle {
                Oracle::AstroFloat => {
                    let mut consts = astro_float::Consts::new().expect("astro-float's constants");
                    Box::new(move |i: usize, value: f64| {
                        math_oracle::ulp_error(
                            value,
                            &math_oracle::exact_binary(function, a[i], b[i], &mut consts),
                        )
                    })
                }
                #[cfg(feature = "mpfr-oracle")]
                Oracle::Mpfr => {
                    let mut mpfr = mpfr::Mpfr::default();
                    Box::new(move |i: usize, value: f64| mpfr.ulp_error_binary(function, a[i], b[i], value))
                }
            }
        };
        worst = worst.max(measure(function.name(), range, samples, tiers, run, evaluator));
    }
    worst
}

/// `--samples N`, `--function NAME`, `--oracle astro-float|mpfr`.
fn parse_arguments() -> Result<(usize, Option<String>, Oracle), String> {
    let mut samples = 1_000_000usize;
    let mut only: Option<String> = None;
    let mut oracle = Oracle::AstroFloat;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--samples" => {
                samples = args
                    .next()
                    .and_then(|value| value.parse().ok())
                    .filter(|&count: &usize| count > 0)
                    .ok_or("--samples needs a count of at least 1")?
            }
            "--function" => only = Some(args.next().ok_or("--function needs a NAME")?),
            "--oracle" => {
                oracle = match args.next().as_deref() {
                    Some("astro-float") => Oracle::AstroFloat,
                    #[cfg(feature = "mpfr-oracle")]
                    Some("mpfr") => Oracle::Mpfr,
                    #[cfg(not(feature = "mpfr-oracle"))]
                    Some("mpfr") => return Err("--oracle mpfr needs `--features mpfr-oracle`".to_string()),
                    _ => return Err("--oracle takes astro-float or mpfr".to_string()),
                }
            }
            other => {
                return Err(format!(
                    "unknown argument {other}; use --samples N, --function NAME, --oracle astro-float|mpfr"
                ));
            }
        }
    }
    Ok((samples, only, oracle))
}

fn main() {
    let (samples, only, oracle) = parse_arguments().unwrap_or_else(|message| {
        eprintln!("ulp_sweep: {message}");
        std::process::exit(2)
    });
    fusejit::internals::install_traced_math().expect("the traced tier compiles for this host");
    let tiers: Vec<Isa> = Isa::ALL.into_iter().filter(|isa| isa.is_supported()).collect();
    if let Some(name @ ("ln_f32" | "exp_f32")) = only.as_deref() {
        let worst = sweep_f32(name, &tiers);
        println!("\nmax ULP: {name} {worst:.5}");
        if worst > 1.0 {
            std::process::exit(1);
        }
        return;
    }
    let wanted = |name: &str| only.as_deref().is_none_or(|only| only == name);
    let names: Vec<&str> = ["ln", "exp"]
        .into_iter()
        .chain(math_oracle::FUNCTIONS.iter().map(|function| function.name()))
        .chain(fusejit::BinaryMathFunction::ALL.iter().map(|function| function.name()))
        .collect();
    if let Some(only) = &only
        && !names.contains(&only.as_str())
    {
        eprintln!("ulp_sweep: no function `{only}`; one of {}, ln_f32, exp_f32", names.join(", "));
        std::process::exit(2);
    }
    println!("| function | range | samples | max ULP (all tiers) | tiers |");
    println!("| --- | --- | --- | --- | --- |");
    let mut worst = Vec::new();
    if wanted("ln") {
        let ln = sweep(fusejit::MathFunction::Ln, LN_RANGES, samples, &tiers, reference::ln_ulp_error);
        worst.push(("ln", ln));
    }
    if wanted("exp") {
        let exp = sweep(fusejit::MathFunction::Exp, EXP_RANGES, samples, &tiers, reference::exp_ulp_error);
        worst.push(("exp", exp));
    }
    for function in math_oracle::FUNCTIONS {
        if wanted(function.name()) {
            worst.push((function.name(), sweep_with_oracle(function, samples, &tiers, oracle)));
        }
    }
    for &function in fusejit::BinaryMathFunction::ALL {
        if wanted(function.name()) {
            worst.push((function.name(), sweep_binary(function, samples, &tiers, oracle)));
        }
    }
    let summary: Vec<String> = worst.iter().map(|(name, max)| format!("{name} {max:.3}")).collect();
    println!("\nmax ULP: {}", summary.join(", "));
    if worst.iter().any(|(_, max)| *max > 1.0) {
        std::process::exit(1);
    }
}

/// `ln` of every positive finite f32, or `exp` of every finite f32, through every tier's f32
/// block: the tiers' bits compared, the error measured in f32 ULPs of the f64 function of the
/// same value (`ln` within 0.53 f64 ULP, `exp` within 0.78: 2⁻²⁹ f32 ULP). Prints the worst
/// error and how many results differ from the f64 function rounded to f32.
fn sweep_f32(name: &str, tiers: &[Isa]) -> f64 {
    // The function, the f64 function it is measured against, and the bit ranges swept.
    type Sweep = (fusejit::MathFunction, fn(f64) -> f64, &'static [(u32, u32)]);
    let (function, f64_function, ranges): Sweep = match name {
        "ln_f32" => (fusejit::MathFunction::Ln, fusejit::internals::math::ln_f64, &[(1, 0x7f80_0000)]),
        _ => (
            fusejit::MathFunction::Exp,
            fusejit::internals::math::exp_f64,
            &[(0, 0x7f80_0000), (0x8000_0000, 0xff80_0000)],
        ),
    };

    let (mut worst, mut worst_at, mut not_the_rounded_f64, mut count) = (0.0f64, 0.0f32, 0u64, 0u64);
    let mut outputs: Vec<Vec<f32>> = vec![Vec::new(); tiers.len()];
    for &(first, last) in ranges {
        let mut start = first;
        while start < last {
            let end = start.saturating_add(1 << 22).min(last);
            let inputs: Vec<f32> = (start..end).map(f32::from_bits).collect();
            for (tier, output) in tiers.iter().zip(outputs.iter_mut()) {
                let block = tier.f32_block(function).expect("a supported tier");
                output.clear();
                output.resize(inputs.len(), f32::NAN);
                // SAFETY: both buffers hold inputs.len() values; the tier is supported.
                unsafe { block(inputs.as_ptr(), output.as_mut_ptr(), inputs.len()) };
            }
            for (i, &x) in inputs.iter().enumerate() {
                let y = outputs[0][i];
                for (tier, output) in tiers.iter().zip(&outputs) {
                    assert_eq!(
                        output[i].to_bits(),
                        y.to_bits(),
                        "{name}({x:e}): tier {} differs",
                        tier.name()
                    );
                }
                let exact = f64_function(f64::from(x));
                not_the_rounded_f64 += u64::from(y.to_bits() != (exact as f32).to_bits());
                count += 1;
                if exact == 0.0 || !exact.is_finite() || f64::from(f32::MAX) < exact.abs() {
                    continue;
                }
                let error = reference::f32_ulp_error(y, reference::DoubleDouble::from(exact));
                if error > worst {
                    (worst, worst_at) = (error, x);
                }
            }
            start = end;
        }
    }
    let names: Vec<&str> = tiers.iter().map(|tier| tier.name()).collect();
    println!(
        "| {name} | every finite f32 of its domain | {count} | {worst:.5} (at {worst_at:e}) | {} |",
        names.join(", ")
    );
    println!("results that differ from the f64 function rounded to f32: {not_the_rounded_f64}");
    worst
}
