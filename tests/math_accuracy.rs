//! The vectorised math runtime: ≤ 1 ULP against the double-double reference on ≥ 10⁶ samples
//! per range, identical bits on every tier this CPU has, exact special cases, tails of every
//! length and unaligned starts, f32 within 1 f32 ULP, and `ln` and `exp` of f32s (kernels
//! of their own) within 0.5 + 2⁻¹² and 0.5 + 2⁻¹⁰ f32 ULP over a sweep of every binade.

use fusejit::internals::math::{self, BlockFn, reference};
use fusejit::{BinaryMathFunction, Isa, MathFunction};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bits_between(&mut self, low: f64, high: f64) -> f64 {
        f64::from_bits(low.to_bits() + self.next() % (high.to_bits() - low.to_bits()))
    }
    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

const SAMPLES: usize = 1_000_000;

/// Every tier this machine runs, the traced tier (Cranelift's `f64x2` code of the same
/// kernels) included.
fn tiers() -> Vec<Isa> {
    fusejit::internals::install_traced_math().expect("the traced tier compiles for this host");
    let tiers: Vec<Isa> = Isa::ALL.into_iter().filter(|isa| isa.is_supported()).collect();
    assert!(tiers.contains(&Isa::Traced));
    tiers
}

fn run(function: BlockFn, inputs: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; inputs.len()];
    // SAFETY: both buffers hold inputs.len() values; only supported tiers are asked for.
    unsafe { function(inputs.as_ptr(), out.as_mut_ptr(), inputs.len()) };
    out
}

/// Max ULP error over `inputs`, after checking every tier gives the same bits.
fn check(name: &str, inputs: &[f64], pick: fn(Isa) -> BlockFn, error: fn(f64, f64) -> f64) -> f64 {
    let outputs: Vec<Vec<f64>> = tiers().into_iter().map(|tier| run(pick(tier), inputs)).collect();
    for (tier, output) in tiers().into_iter().zip(&outputs) {
        for (i, (a, b)) in output.iter().zip(&outputs[0]).enumerate() {
            assert!(
                a.to_bits() == b.to_bits(),
                "{name}: tier {} differs at {}: {a:e} vs {b:e}",
                tier.name(),
                inputs[i]
            );
        }
    }
    let worst = inputs.iter().zip(&outputs[0]).map(|(&x, &y)| error(x, y)).fold(0.0f64, f64::max);
    assert!(worst <= 1.0, "{name}: max error {worst} ULP");
    worst
}

fn ln_blocks(isa: Isa) -> BlockFn {
    isa.block(fusejit::MathFunction::Ln).expect("only supported tiers are tested")
}

fn exp_blocks(isa: Isa) -> BlockFn {
    isa.block(fusejit::MathFunction::Exp).expect("only supported tiers are tested")
}

#[test]
fn ln_is_within_one_ulp_on_every_range_and_identical_on_every_tier() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let all: Vec<f64> = (0..SAMPLES).map(|_| rng.bits_between(f64::MIN_POSITIVE, f64::MAX)).collect();
    let near_one_octave: Vec<f64> = (0..SAMPLES).map(|_| rng.uniform(0.5, 2.0)).collect();
    let near_one: Vec<f64> = (0..SAMPLES).map(|_| rng.uniform(1.0 - 1e-3, 1.0 + 1e-3)).collect();
    let subnormal: Vec<f64> = (0..SAMPLES).map(|_| rng.bits_between(5e-324, f64::MIN_POSITIVE)).collect();
    // Above (2 − 1/32)·2¹⁰²³ a lane leaves the table route for the guarded one, as subnormals
    // do; mixed with normal lanes in every vector, each must still get its own route's bits.
    let fold_of_the_top_binade = (2.0 - 1.0 / 32.0) * 2f64.powi(1023);
    let largest: Vec<f64> =
        (0..SAMPLES).map(|_| rng.bits_between(fold_of_the_top_binade, f64::MAX)).collect();
    let mixed: Vec<f64> = (0..SAMPLES)
        .map(|row| match row % 3 {
            0 => rng.bits_between(f64::MIN_POSITIVE, f64::MAX),
            1 => rng.bits_between(5e-324, f64::MIN_POSITIVE),
            _ => rng.bits_between(fold_of_the_top_binade.next_down(), f64::MAX),
        })
        .collect();
    for (name, inputs) in [
        ("all exponents", all),
        ("[0.5, 2]", near_one_octave),
        ("1 ± 1e-3", near_one),
        ("subnormals", subnormal),
        ("largest", largest),
        ("normal, subnormal and largest mixed", mixed),
    ] {
        let worst = check(&format!("ln {name}"), &inputs, ln_blocks, reference::ln_ulp_error);
        assert!(worst < 0.9, "ln {name}: {worst} ULP (the sweep found at most 0.81)");
    }
}

#[test]
fn exp_is_within_one_ulp_on_its_whole_domain_and_identical_on_every_tier() {
    let mut rng = Rng(0x0fed_cba9_8765_4321);
    let whole: Vec<f64> = (0..SAMPLES).map(|_| rng.uniform(-745.13, 709.78)).collect();
    let small: Vec<f64> = (0..SAMPLES).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let overflow: Vec<f64> = (0..SAMPLES).map(|_| rng.uniform(700.0, 709.782_712_893_384)).collect();
    let subnormal: Vec<f64> = (0..SAMPLES).map(|_| rng.uniform(-745.13, -708.4)).collect();
    let tiny: Vec<f64> = (0..SAMPLES).map(|_| rng.bits_between(1e-300, 1e-5)).collect();
    for (name, inputs) in [
        ("whole domain", whole),
        ("[-1, 1]", small),
        ("near overflow", overflow),
        ("subnormal results", subnormal),
        ("tiny", tiny),
    ] {
        check(&format!("exp {name}"), &inputs, exp_blocks, reference::exp_ulp_error);
    }
}

#[test]
fn special_cases_are_exact_on_every_tier() {
    let inputs = [
        1.0,
        0.0,
        -0.0,
        -1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::MIN_POSITIVE,
        1000.0,
        -1000.0,
        f64::MAX,
        f64::from_bits(u64::MAX),
    ];
    for tier in tiers() {
        let ln = run(ln_blocks(tier), &inputs);
        assert_eq!(ln[0].to_bits(), 0.0f64.to_bits(), "ln(1) = +0 on {}", tier.name());
        assert_eq!(ln[1], f64::NEG_INFINITY);
        assert_eq!(ln[2], f64::NEG_INFINITY);
        assert!(ln[3].is_nan() && ln[5].is_nan() && ln[6].is_nan() && ln[7].is_nan());
        assert_eq!(ln[4], f64::INFINITY);
        // ln(MAX) rounds to 709.782712893384; a NaN whose bits carry out of the exponent
        // field of the reduction's integer addition is still NaN.
        assert_eq!((ln[10], ln[11].is_nan()), (709.782712893384, true), "{}", tier.name());
        let exp = run(exp_blocks(tier), &inputs);
        assert_eq!(exp[0], std::f64::consts::E);
        assert_eq!((exp[1], exp[2]), (1.0, 1.0));
        assert_eq!(exp[4], f64::INFINITY);
        assert_eq!(exp[5].to_bits(), 0.0f64.to_bits());
        assert!(exp[6].is_nan());
        assert_eq!((exp[8], exp[9]), (f64::INFINITY, 0.0));
        // exp's largest finite and smallest subnormal results.
        let edges = run(
            exp_blocks(tier),
            &[709.782_712_893_383_9, 709.782_712_893_384_1, -745.133_219_101_941_1, -745.2],
        );
        assert!(edges[0].is_finite() && edges[1].is_infinite(), "{edges:?}");
        assert_eq!((edges[2], edges[3]), (5e-324, 0.0));
    }
}

#[test]
fn tails_of_every_length_and_unaligned_starts_get_the_same_bits() {
    let values: Vec<f64> = (0..80).map(|i| 0.37 + i as f64 * 1.91).collect();
    for tier in tiers() {
        for offset in 0..8 {
            for n in 0..=65 {
                let inputs = &values[offset..offset + n];
                let mut out = vec![f64::NAN; n + 1];
                // SAFETY: inputs and out hold at least n values.
                unsafe { ln_blocks(tier)(inputs.as_ptr(), out.as_mut_ptr(), n) };
                for (i, &x) in inputs.iter().enumerate() {
                    assert_eq!(
                        out[i].to_bits(),
                        math::ln_f64(x).to_bits(),
                        "{} offset {offset} n {n}",
                        tier.name()
                    );
                }
                assert!(out[n].is_nan(), "wrote past n on {}", tier.name());
            }
        }
        // In place.
        let mut data = values.clone();
        // SAFETY: the same buffer of 80 values in and out.
        unsafe { exp_blocks(tier)(data.as_ptr(), data.as_mut_ptr(), 13) };
        assert_eq!(data[12].to_bits(), math::exp_f64(values[12]).to_bits());
        assert_eq!(data[13], values[13]);
    }
}

#[test]
fn f32_results_are_within_one_f32_ulp() {
    let mut rng = Rng(0x5555_aaaa_3333_cccc);
    for _ in 0..200_000 {
        let x = f32::from_bits(rng.bits_between(1e-40, 3e38).to_bits() as u32 % 0x7f7f_ffff + 1);
        let computed = f64::from(math::ln_f32(x));
        let exact = reference::ln(f64::from(x));
        let ulp = f64::from(f32::from_bits((computed as f32).abs().to_bits() + 1) - (computed as f32).abs())
            .max(1e-45);
        assert!(((computed - exact.hi) - exact.lo).abs() <= ulp, "ln_f32({x:e}) = {computed:e}");
        let y = rng.uniform(-87.0, 88.0) as f32;
        let computed = f64::from(math::exp_f32(y));
        let (k, e) = reference::exp_scaled(f64::from(y));
        let exact = e.hi * 2f64.powi(k);
        let ulp = f64::from(f32::from_bits((computed as f32).to_bits() + 1) - computed as f32);
        assert!((computed - exact).abs() <= ulp, "exp_f32({y:e}) = {computed:e} vs {exact:e}");
    }
}

/// `function`'s scalar f32 results over `inputs`, after checking that every tier's f32 block
/// gives the same bits.
fn f32_blocks_agree(function: MathFunction, inputs: &[f32]) -> Vec<f32> {
    let scalar: Vec<f32> = inputs.iter().map(|&x| function.of_f32(x)).collect();
    for tier in tiers() {
        let block = tier.f32_block(function).expect("a supported tier has an f32 block");
        let mut out = vec![f32::NAN; inputs.len()];
        // SAFETY: both buffers hold inputs.len() values; the tier is supported.
        unsafe { block(inputs.as_ptr(), out.as_mut_ptr(), inputs.len()) };
        for ((x, a), b) in inputs.iter().zip(&out).zip(&scalar) {
            assert_eq!(a.to_bits(), b.to_bits(), "{} of f32 {x:e} on {}", function.name(), tier.name());
        }
    }
    scalar
}

/// `ln` of f32s has a kernel of its own (a shorter series than the f64 one): over every
/// 1021st positive finite f32 (2.1 million, every binade, subnormals included) it is within
/// 0.5 + 2⁻¹² f32 ULP of the double-double reference, and every tier's f32 block gives the
/// scalar tier's bits. (An exhaustive run over all 2³¹ positive f32s, not kept as a test for
/// its two minutes, found 0.50010 ULP at most.)
#[test]
fn ln_of_f32_is_within_half_an_ulp_and_a_bit_and_identical_on_every_tier() {
    let inputs: Vec<f32> = (1u32..0x7f80_0000).step_by(1021).map(f32::from_bits).collect();
    let scalar = f32_blocks_agree(MathFunction::Ln, &inputs);
    let mut worst = 0.0f64;
    for (&x, &y) in inputs.iter().zip(&scalar) {
        if x == 1.0 {
            assert_eq!(y.to_bits(), 0);
            continue;
        }
        worst = worst.max(reference::f32_ulp_error(y, reference::ln(f64::from(x))));
    }
    assert!(worst <= 0.5 + 2f64.powi(-12), "ln of f32: max error {worst} f32 ULP");
    assert!(worst > 0.4999, "the sweep reaches results rounded by nearly half an ULP: {worst}");
}

/// `exp` of f32s has a kernel of its own too: over every 1021st finite f32, within 0.5 +
/// 2⁻¹⁰ f32 ULP of the double-double reference (subnormal results included), +∞ and 0 only
/// where the true value rounds there, and the same bits from every tier's f32 block. (The
/// exhaustive run over all finite f32s, `ulp_sweep --function exp_f32`, found 0.50064.)
#[test]
fn exp_of_f32_is_within_half_an_ulp_and_a_bit_and_identical_on_every_tier() {
    let inputs: Vec<f32> =
        (0u32..0xff80_0000).step_by(1021).map(f32::from_bits).filter(|x| x.is_finite()).collect();
    let scalar = f32_blocks_agree(MathFunction::Exp, &inputs);
    let mut worst = 0.0f64;
    for (&x, &y) in inputs.iter().zip(&scalar) {
        // Far beyond the thresholds (where the reference's scaling would overflow itself).
        if x.abs() > 200.0 {
            assert_eq!(y, if x > 0.0 { f32::INFINITY } else { 0.0 }, "exp of f32 {x:e}");
            continue;
        }
        let (k, e) = reference::exp_scaled(f64::from(x));
        let exact = e.hi * 2f64.powi(k);
        if y.is_infinite() {
            assert!(exact > f64::from(f32::MAX), "exp of f32 {x:e} overflowed early");
            continue;
        }
        if y == 0.0 {
            assert!(exact <= 2f64.powi(-150), "exp of f32 {x:e} underflowed early");
            continue;
        }
        worst = worst.max(reference::f32_ulp_error(y, reference::DoubleDouble::from(exact)));
    }
    assert!(worst <= 0.5 + 2f64.powi(-10), "exp of f32: max error {worst} f32 ULP");
    assert!(worst > 0.4999, "the sweep reaches results rounded by nearly half an ULP: {worst}");
}

/// A block's `out` after a call over `n` rows into a buffer of `n + 1` filled with −7: row
/// `i` holds `expected(i)`'s bits (or both are NaN: a NaN's payload is the platform's, x86
/// and Arm differ), and the row past `n` is untouched. `row(i)` names row `i`'s call.
fn assert_block_wrote(out: &[f32], n: usize, expected: impl Fn(usize) -> f32, row: impl Fn(usize) -> String) {
    for (i, &got) in out[..n].iter().enumerate() {
        let expected = expected(i);
        let same = got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan());
        assert!(same, "{}: {got:e} vs {expected:e}", row(i));
    }
    assert_eq!(
        out[n],
        -7.0,
        "wrote past n = {n}: {}",
        if n > 0 { row(n - 1) } else { String::from("an empty call") }
    );
}

/// Every math function's f32 block on every tier gives the scalar `of_f32` bits, special
/// values included, at every tail length and unaligned start, and writes nothing past `n`.
#[test]
fn f32_blocks_of_every_function_give_the_scalar_bits_on_every_tier() {
    let values: [f32; 24] = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
        1e-45,
        f32::MAX,
        0.5,
        2.0,
        1.000_000_1,
        0.999_999_94,
        std::f32::consts::PI,
        -2.5,
        88.0,
        -104.0,
        1e10,
        0.3,
        -0.75,
        7.5,
        1e-20,
        100.25,
    ];
    for tier in tiers() {
        for &function in MathFunction::ALL {
            let block = tier.f32_block(function).expect("a supported tier has an f32 block");
            for offset in 0..4 {
                for n in 0..=values.len() - offset {
                    let inputs = &values[offset..offset + n];
                    let mut out = vec![-7.0f32; n + 1];
                    // SAFETY: inputs and out hold at least n values; the tier is supported.
                    unsafe { block(inputs.as_ptr(), out.as_mut_ptr(), n) };
                    assert_block_wrote(
                        &out,
                        n,
                        |i| function.of_f32(inputs[i]),
                        |i| format!("{}({:e}) on {}", function.name(), inputs[i], tier.name()),
                    );
                }
            }
        }
    }
}

/// Every two-argument function's f32 block on every tier gives the scalar `of_f32` bits, for
/// every pair of special and ordinary values, at every length and unaligned start, and
/// writes nothing past `n`.
#[test]
fn f32_blocks_of_every_binary_function_give_the_scalar_bits_on_every_tier() {
    let values: [f32; 12] =
        [0.0, -0.0, 1.0, -1.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 1e-45, f32::MAX, 0.5, -2.5, 3.0];
    let pairs: Vec<(f32, f32)> = values.iter().flat_map(|&a| values.iter().map(move |&b| (a, b))).collect();
    let (a, b): (Vec<f32>, Vec<f32>) = pairs.iter().copied().unzip();
    for tier in tiers() {
        for &function in BinaryMathFunction::ALL {
            let block = tier.f32_binary_block(function).expect("a supported tier has an f32 block");
            for offset in [0, 1, 3] {
                for n in [0, 1, 2, 5, 17, a.len() - offset] {
                    let mut out = vec![-7.0f32; n + 1];
                    // SAFETY: a, b and out hold at least offset + n, offset + n and n + 1
                    // values; the tier is supported.
                    unsafe { block(a[offset..].as_ptr(), b[offset..].as_ptr(), out.as_mut_ptr(), n) };
                    let (a, b) = (&a[offset..], &b[offset..]);
                    assert_block_wrote(
                        &out,
                        n,
                        |i| function.of_f32(a[i], b[i]),
                        |i| format!("{}({:e}, {:e}) on {}", function.name(), a[i], b[i], tier.name()),
                    );
                }
            }
        }
    }
}
