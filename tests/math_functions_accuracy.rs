//! The math functions beyond `ln`/`exp` (`log2 log10 log1p expm1 sinh cosh tanh atan asin
//! acos cbrt`): ≤ 1 ULP against astro-float at 256 bits (an arbitrary-precision library that
//! shares nothing with fusejit), identical bits on every tier this CPU has — the traced tier,
//! which is what aarch64 runs, included — and the special values of C99 Annex F exactly.
//! `examples/ulp_sweep.rs` runs the same comparison on more samples.

mod math_oracle;

use fusejit::internals::math::BlockFn;
use fusejit::{BinaryMathFunction, Isa, MathFunction};
use math_oracle::{FUNCTIONS, Rng, exact, exact_binary, ranges, ulp_error};

/// Samples per range: the oracle costs microseconds each, so this test takes a few seconds
/// (`examples/ulp_sweep.rs` takes more).
const SAMPLES: usize = 8_000;

/// Every tier this machine runs, the traced tier (the code aarch64 runs) included.
fn tiers() -> Vec<Isa> {
    fusejit::internals::install_traced_math().expect("the traced tier compiles for this host");
    Isa::ALL.into_iter().filter(|isa| isa.is_supported()).collect()
}

fn run(block: BlockFn, inputs: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; inputs.len()];
    // SAFETY: both buffers hold inputs.len() values; only supported tiers are asked for.
    unsafe { block(inputs.as_ptr(), out.as_mut_ptr(), inputs.len()) };
    out
}

/// Runs `function` on every tier, asserts they agree bit for bit, and returns the best
/// tier's outputs.
fn on_every_tier(function: MathFunction, inputs: &[f64]) -> Vec<f64> {
    let outputs: Vec<(Isa, Vec<f64>)> = tiers()
        .into_iter()
        .map(|tier| (tier, run(tier.block(function).expect("a supported tier"), inputs)))
        .collect();
    for (tier, output) in &outputs {
        for (i, (a, b)) in output.iter().zip(&outputs[0].1).enumerate() {
            assert!(
                a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan(),
                "{}({:e}): tier {} gives {a:e}, tier {} {b:e}",
                function.name(),
                inputs[i],
                tier.name(),
                outputs[0].0.name()
            );
        }
    }
    outputs.into_iter().next().expect("at least the scalar tier").1
}

/// The largest ULP error of `function` over `inputs` (after checking every tier agrees).
fn worst_error(function: MathFunction, inputs: &[f64]) -> (f64, f64) {
    let outputs = on_every_tier(function, inputs);
    let mut consts = astro_float::Consts::new().expect("astro-float's constants");
    let mut worst = (0.0f64, 0.0f64);
    for (&x, &y) in inputs.iter().zip(&outputs) {
        let error = ulp_error(y, &exact(function, x, &mut consts));
        if error > worst.0 {
            worst = (error, x);
        }
    }
    worst
}

#[test]
fn every_function_is_within_one_ulp_and_identical_on_every_tier() {
    let mut report = Vec::new();
    for (index, function) in FUNCTIONS.into_iter().enumerate() {
        for (name, sample) in ranges(function) {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (index as u64 + 1) << 32);
            let inputs: Vec<f64> = (0..SAMPLES).map(|_| sample(&mut rng)).collect();
            let (worst, at) = worst_error(function, &inputs);
            report.push(format!("{} {name}: {worst:.3} ULP at {at:e}", function.name()));
            assert!(worst <= 1.0, "{} on {name}: {worst} ULP at {at:e}", function.name());
        }
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn special_values_are_exact_on_every_tier() {
    let (inf, nan, pi) = (f64::INFINITY, f64::NAN, std::f64::consts::PI);
    // (function, input, expected); NaN expects any NaN, zeros are compared with their sign.
    let cases: &[(MathFunction, f64, f64)] = &[
        (MathFunction::Log2, 1.0, 0.0),
        (MathFunction::Log2, 0.0, -inf),
        (MathFunction::Log2, -0.0, -inf),
        (MathFunction::Log2, -1.0, nan),
        (MathFunction::Log2, inf, inf),
        (MathFunction::Log2, 1024.0, 10.0),
        (MathFunction::Log2, 5e-324, -1074.0),
        (MathFunction::Log10, 1.0, 0.0),
        (MathFunction::Log10, 1000.0, 3.0),
        (MathFunction::Log10, 1e-300, -300.0),
        (MathFunction::Log10, 0.0, -inf),
        (MathFunction::Log10, -2.0, nan),
        (MathFunction::Log1p, 0.0, 0.0),
        (MathFunction::Log1p, -0.0, -0.0),
        (MathFunction::Log1p, -1.0, -inf),
        (MathFunction::Log1p, -2.0, nan),
        (MathFunction::Log1p, inf, inf),
        (MathFunction::Log1p, 5e-324, 5e-324),
        (MathFunction::Expm1, 0.0, 0.0),
        (MathFunction::Expm1, -0.0, -0.0),
        (MathFunction::Expm1, inf, inf),
        (MathFunction::Expm1, -inf, -1.0),
        (MathFunction::Expm1, 710.0, inf),
        (MathFunction::Expm1, 5e-324, 5e-324),
        (MathFunction::Sinh, 0.0, 0.0),
        (MathFunction::Sinh, -0.0, -0.0),
        (MathFunction::Sinh, inf, inf),
        (MathFunction::Sinh, -inf, -inf),
        (MathFunction::Sinh, 711.0, inf),
        (MathFunction::Cosh, 0.0, 1.0),
        (MathFunction::Cosh, -0.0, 1.0),
        (MathFunction::Cosh, -inf, inf),
        (MathFunction::Cosh, 711.0, inf),
        (MathFunction::Tanh, 0.0, 0.0),
        (MathFunction::Tanh, -0.0, -0.0),
        (MathFunction::Tanh, inf, 1.0),
        (MathFunction::Tanh, -inf, -1.0),
        (MathFunction::Tanh, 1e-300, 1e-300),
        (MathFunction::Atan, 0.0, 0.0),
        (MathFunction::Atan, -0.0, -0.0),
        (MathFunction::Atan, inf, pi / 2.0),
        (MathFunction::Atan, -inf, -pi / 2.0),
        (MathFunction::Atan, 1.0, pi / 4.0),
        (MathFunction::Asin, 1.0, pi / 2.0),
        (MathFunction::Asin, -1.0, -pi / 2.0),
        (MathFunction::Asin, -0.0, -0.0),
        (MathFunction::Asin, 1.5, nan),
        (MathFunction::Asin, -inf, nan),
        (MathFunction::Acos, 1.0, 0.0),
        (MathFunction::Acos, -1.0, pi),
        (MathFunction::Acos, 0.0, pi / 2.0),
        (MathFunction::Acos, 1.0000000000000002, nan),
        (MathFunction::Cbrt, 0.0, 0.0),
        (MathFunction::Cbrt, -0.0, -0.0),
        (MathFunction::Cbrt, 27.0, 3.0),
        (MathFunction::Cbrt, -8.0, -2.0),
        (MathFunction::Cbrt, inf, inf),
        (MathFunction::Cbrt, -inf, -inf),
        (MathFunction::Cbrt, 1e-309, 1e-103),
        (MathFunction::Sin, 0.0, 0.0),
        (MathFunction::Sin, -0.0, -0.0),
        (MathFunction::Sin, inf, nan),
        (MathFunction::Sin, -inf, nan),
        (MathFunction::Sin, 5e-324, 5e-324),
        (MathFunction::Sin, -1e-300, -1e-300),
        (MathFunction::Sin, pi / 2.0, 1.0),
        (MathFunction::Cos, 0.0, 1.0),
        (MathFunction::Cos, -0.0, 1.0),
        (MathFunction::Cos, inf, nan),
        (MathFunction::Cos, 5e-324, 1.0),
        (MathFunction::Cos, pi, -1.0),
        (MathFunction::Tan, 0.0, 0.0),
        (MathFunction::Tan, -0.0, -0.0),
        (MathFunction::Tan, -inf, nan),
        (MathFunction::Tan, 1e-300, 1e-300),
        (MathFunction::Tan, -5e-324, -5e-324),
    ];
    for &(function, x, want) in cases {
        let got = on_every_tier(function, &[x, nan])[0];
        let same = got.to_bits() == want.to_bits() || got.is_nan() && want.is_nan();
        let close_enough = function == MathFunction::Cbrt && x == 1e-309 && (got / want - 1.0).abs() < 1e-15;
        assert!(same || close_enough, "{}({x:e}) = {got:e}, want {want:e}", function.name());
        let nan_out = on_every_tier(function, &[nan])[0];
        assert!(nan_out.is_nan(), "{}(NaN) = {nan_out}", function.name());
    }
}

/// The arguments that make a trigonometric reduction hardest: the double nearest a multiple of
/// π/2 (6381956970095103·2⁷⁹⁷, within 2⁻⁶¹ of one), others close to multiples near the fast
/// reduction's limit (2⁴⁰) and beyond, `1e22`, the largest doubles. Each within 1 ULP, on every
/// tier, and each lane the same whatever shares its vector.
#[test]
fn trigonometric_functions_are_exact_at_the_hardest_arguments() {
    let limit = 1_099_511_627_776.0f64;
    let mut hard = vec![
        6_381_956_970_095_103.0 * 2f64.powi(797),
        1e22,
        f64::MAX,
        2f64.powi(1023),
        limit,
        f64::from_bits(limit.to_bits() + 1),
        f64::from_bits(limit.to_bits() - 1),
        7.0e9,
        355.0,
        103_993.0,
    ];
    // The doubles nearest k·π/2 for k around 2⁴⁰ and 2⁶⁰, on both sides of the limit.
    for k in [(1u64 << 40) / 3, (1 << 40) - 1, 1 << 41, 1 << 60] {
        let x = k as f64 * std::f64::consts::FRAC_PI_2;
        hard.extend([x, f64::from_bits(x.to_bits() + 1), f64::from_bits(x.to_bits() - 1)]);
    }
    let negated: Vec<f64> = hard.iter().map(|x| -x).collect();
    hard.extend(negated);
    let mut consts = astro_float::Consts::new().expect("astro-float's constants");
    for function in [MathFunction::Sin, MathFunction::Cos, MathFunction::Tan] {
        let outputs = on_every_tier(function, &hard);
        for (&x, &y) in hard.iter().zip(&outputs) {
            let error = ulp_error(y, &exact(function, x, &mut consts));
            assert!(error <= 1.0, "{}({x:e}) = {y:e} is {error} ULP off", function.name());
            // Alone in its vector, or beside an ordinary argument, the same bits.
            assert_eq!(on_every_tier(function, &[x])[0].to_bits(), y.to_bits());
            assert_eq!(on_every_tier(function, &[0.5, x, 3.0])[1].to_bits(), y.to_bits());
        }
        // sin and tan are odd, cos is even, bit for bit.
        let half = hard.len() / 2;
        for i in 0..half {
            let (positive, negative) = (outputs[i], outputs[i + half]);
            let want = if function == MathFunction::Cos { positive } else { -positive };
            assert_eq!(negative.to_bits(), want.to_bits(), "{}(-{:e})", function.name(), hard[i]);
        }
    }
    // Known values: sin(1e22) (Ng's example) and cos at the hardest argument, to 16 digits.
    let sin_1e22 = MathFunction::Sin.of_f64(1e22);
    assert!((sin_1e22 - -0.852_200_849_767_188_8).abs() < 2e-16, "{sin_1e22}");
}

#[test]
fn the_interpreter_and_native_code_use_the_same_functions() {
    // Each function through the language: interpreter, constant folding and native code.
    let engine = fusejit::Engine::new();
    let x: Vec<f64> = (0..1000).map(|i| -0.999 + i as f64 * 0.002).collect();
    let mut bindings = fusejit::Bindings::new();
    bindings.column("x", &x[..]);
    for function in FUNCTIONS {
        let source = format!("{}(x)", function.name());
        let kernel = engine.compile(&source).unwrap();
        let native = kernel.eval(&bindings).unwrap();
        let interpreted = kernel.interpret(&bindings).unwrap();
        let direct = on_every_tier(function, &x);
        for (row, want) in direct.iter().enumerate() {
            let (Some(fusejit::Scalar::F64(a)), Some(fusejit::Scalar::F64(b))) =
                (native.get(row), interpreted.get(row))
            else {
                panic!("{source}: f64 rows");
            };
            assert!(a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan(), "{source} row {row}: {a} vs {b}");
            assert!(a.to_bits() == want.to_bits() || a.is_nan(), "{source} row {row}");
        }
        // A constant argument folds to the same bits.
        let folded = engine
            .compile(&format!("{}(0.3)", function.name()))
            .unwrap()
            .eval(&fusejit::Bindings::new())
            .unwrap();
        assert_eq!(folded.get(0), Some(fusejit::Scalar::F64(function.of_f64(0.3))), "{source} folded");
    }
}

fn run_binary(block: fusejit::internals::math::BinaryBlockFn, a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len()];
    // SAFETY: all three buffers hold a.len() values; only supported tiers are asked for.
    unsafe { block(a.as_ptr(), b.as_ptr(), out.as_mut_ptr(), a.len()) };
    out
}

#[test]
fn two_argument_functions_are_within_one_ulp_and_identical_on_every_tier() {
    let mut consts = astro_float::Consts::new().expect("astro-float's constants");
    let mut report = Vec::new();
    for function in [BinaryMathFunction::Atan2, BinaryMathFunction::Hypot, BinaryMathFunction::Pow] {
        let ranges = math_oracle::binary_ranges(function);
        for (name, sample_a, sample_b) in ranges {
            let mut rng = Rng(0x5bd1_e995_0000_0001 ^ (function as u64) << 36);
            let a: Vec<f64> = (0..SAMPLES).map(|_| sample_a(&mut rng)).collect();
            let b: Vec<f64> = (0..SAMPLES).map(|_| sample_b(&mut rng)).collect();
            let outputs: Vec<(Isa, Vec<f64>)> = tiers()
                .into_iter()
                .map(|tier| (tier, run_binary(tier.binary_block(function).expect("supported"), &a, &b)))
                .collect();
            for (tier, output) in &outputs {
                for (i, (x, y)) in output.iter().zip(&outputs[0].1).enumerate() {
                    assert!(
                        x.to_bits() == y.to_bits(),
                        "{}({:e}, {:e}): tier {} differs",
                        function.name(),
                        a[i],
                        b[i],
                        tier.name()
                    );
                }
            }
            let mut worst = (0.0f64, 0.0, 0.0);
            for i in 0..SAMPLES {
                let error = ulp_error(outputs[0].1[i], &exact_binary(function, a[i], b[i], &mut consts));
                if error > worst.0 {
                    worst = (error, a[i], b[i]);
                }
            }
            report.push(format!(
                "{} {name}: {:.3} ULP at ({:e}, {:e})",
                function.name(),
                worst.0,
                worst.1,
                worst.2
            ));
            assert!(worst.0 <= 1.0, "{}", report.last().expect("just pushed"));
        }
    }
    eprintln!("{}", report.join("\n"));
    // Special values (C99 Annex F).
    let (inf, nan, pi) = (f64::INFINITY, f64::NAN, std::f64::consts::PI);
    let cases: &[(BinaryMathFunction, f64, f64, f64)] = &[
        (BinaryMathFunction::Atan2, 0.0, -0.0, pi),
        (BinaryMathFunction::Atan2, -0.0, -0.0, -pi),
        (BinaryMathFunction::Atan2, 0.0, 0.0, 0.0),
        (BinaryMathFunction::Atan2, -0.0, 0.0, -0.0),
        (BinaryMathFunction::Atan2, 0.0, -1.0, pi),
        (BinaryMathFunction::Atan2, -0.0, -1.0, -pi),
        (BinaryMathFunction::Atan2, 1.0, 0.0, pi / 2.0),
        (BinaryMathFunction::Atan2, -1.0, -0.0, -pi / 2.0),
        (BinaryMathFunction::Atan2, 1.0, -inf, pi),
        (BinaryMathFunction::Atan2, -1.0, inf, -0.0),
        (BinaryMathFunction::Atan2, inf, inf, pi / 4.0),
        (BinaryMathFunction::Atan2, inf, -inf, 3.0 * pi / 4.0),
        (BinaryMathFunction::Atan2, -inf, 1.0, -pi / 2.0),
        (BinaryMathFunction::Atan2, 1.0, 1.0, pi / 4.0),
        (BinaryMathFunction::Atan2, nan, 1.0, nan),
        (BinaryMathFunction::Atan2, 1.0, nan, nan),
        // A tiny quotient (here a subnormal result) is y/x rounded once: the 10⁷ sweep found
        // 0.998 ULP there when it went through double-double steps.
        (
            BinaryMathFunction::Atan2,
            -1.834_354_286_762_237_8e-116,
            2.744_855_033_152_311_6e191,
            -1.834_354_286_762_237_8e-116 / 2.744_855_033_152_311_6e191,
        ),
        (BinaryMathFunction::Atan2, 3e-300, 7e10, 3e-300 / 7e10),
        (BinaryMathFunction::Hypot, 3.0, 4.0, 5.0),
        (BinaryMathFunction::Hypot, 3e-300, 4e-300, 5e-300),
        (BinaryMathFunction::Hypot, -3.0, 0.0, 3.0),
        (BinaryMathFunction::Hypot, inf, nan, inf),
        (BinaryMathFunction::Hypot, nan, -inf, inf),
        (BinaryMathFunction::Hypot, nan, 1.0, nan),
        (BinaryMathFunction::Hypot, 1e308, 1e308, 1.414_213_562_373_095_1e308),
        (BinaryMathFunction::Hypot, 3e-320, 4e-320, 5e-320),
        (BinaryMathFunction::Hypot, 0.0, -0.0, 0.0),
        (BinaryMathFunction::Pow, 2.0, 0.5, std::f64::consts::SQRT_2),
        (BinaryMathFunction::Pow, 2.0, 10.0, 1024.0),
        (BinaryMathFunction::Pow, -2.0, 3.0, -8.0),
        (BinaryMathFunction::Pow, -2.0, 2.0, 4.0),
        (BinaryMathFunction::Pow, -8.0, 1.0 / 3.0, nan),
        (BinaryMathFunction::Pow, nan, 0.0, 1.0),
        (BinaryMathFunction::Pow, nan, -0.0, 1.0),
        (BinaryMathFunction::Pow, 1.0, nan, 1.0),
        (BinaryMathFunction::Pow, nan, 1.0, nan),
        (BinaryMathFunction::Pow, 2.0, nan, nan),
        (BinaryMathFunction::Pow, -1.0, inf, 1.0),
        (BinaryMathFunction::Pow, -1.0, -inf, 1.0),
        (BinaryMathFunction::Pow, 0.5, inf, 0.0),
        (BinaryMathFunction::Pow, 0.5, -inf, inf),
        (BinaryMathFunction::Pow, 2.0, -inf, 0.0),
        (BinaryMathFunction::Pow, 0.0, -1.0, inf),
        (BinaryMathFunction::Pow, -0.0, -3.0, -inf),
        (BinaryMathFunction::Pow, -0.0, -2.0, inf),
        (BinaryMathFunction::Pow, -0.0, 3.0, -0.0),
        (BinaryMathFunction::Pow, -0.0, 0.5, 0.0),
        (BinaryMathFunction::Pow, -inf, 3.0, -inf),
        (BinaryMathFunction::Pow, -inf, -3.0, -0.0),
        (BinaryMathFunction::Pow, -inf, 2.0, inf),
        (BinaryMathFunction::Pow, inf, -0.5, 0.0),
        (BinaryMathFunction::Pow, 10.0, 309.0, inf),
        (BinaryMathFunction::Pow, 2.0, -1074.0, 5e-324),
        (BinaryMathFunction::Pow, 2.0, -1080.0, 0.0),
    ];
    for tier in tiers() {
        for &(function, a, b, want) in cases {
            let got = run_binary(tier.binary_block(function).expect("supported"), &[a], &[b])[0];
            let same = got.to_bits() == want.to_bits() || got.is_nan() && want.is_nan();
            assert!(same, "{}({a:e}, {b:e}) = {got:e} on {}, want {want:e}", function.name(), tier.name());
        }
    }
}
