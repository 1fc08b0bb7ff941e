//! The vectorised math per function and tier, in ns per element (criterion's throughput),
//! against the platform's scalar `f64::ln`/`f64::exp`: on an L1-resident block of 512 values
//! and on 1M. `FUSEJIT_BENCH_FUNCTIONS=ln,exp` runs some functions only.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fusejit::{BinaryMathFunction, Isa, MathFunction};
use std::hint::black_box;

/// Inputs inside each function's domain where its cost is typical (no special-case lanes).
fn inputs_for(function: MathFunction, size: usize) -> Vec<f64> {
    let unit = |i: usize| (i % 1000) as f64 / 1000.0;
    (0..size)
        .map(|i| match function {
            MathFunction::Exp | MathFunction::Expm1 => -20.0 + 40.0 * unit(i),
            MathFunction::Sinh | MathFunction::Cosh | MathFunction::Tanh => -10.0 + 20.0 * unit(i),
            MathFunction::Asin | MathFunction::Acos => -0.999 + 1.998 * unit(i),
            MathFunction::Log1p => -0.5 + 100.0 * unit(i),
            MathFunction::Atan | MathFunction::Cbrt => -100.0 + 200.0 * unit(i),
            _ => 0.5 + 731.0 * unit(i),
        })
        .collect()
}

fn math(c: &mut Criterion) {
    // The traced tier (Cranelift's f64x2 code of the same kernels) is compiled on demand.
    let _ = fusejit::internals::install_traced_math();
    // FUSEJIT_BENCH_FUNCTIONS=ln,exp limits the run to some functions.
    let only = std::env::var("FUSEJIT_BENCH_FUNCTIONS").ok();
    let wanted = |function: MathFunction| {
        only.as_deref().is_none_or(|only| only.split(',').any(|name| name == function.name()))
    };
    for (size_name, size) in [("block512", 512usize), ("1M", 1 << 20)] {
        let mut out = vec![0.0; size];
        let mut group = c.benchmark_group(format!("math_{size_name}"));
        group.throughput(Throughput::Elements(size as u64));
        for &function in MathFunction::ALL.iter().filter(|&&function| wanted(function)) {
            let inputs = inputs_for(function, size);
            for tier in Isa::ALL.into_iter().filter(|tier| tier.is_supported()) {
                let block = tier.block(function).expect("the tier is supported");
                group.bench_function(BenchmarkId::new(function.name(), tier.name()), |bench| {
                    // SAFETY: both buffers hold `size` values; the tier is supported.
                    bench.iter(|| unsafe { block(black_box(inputs.as_ptr()), out.as_mut_ptr(), size) })
                });
            }
        }
        for &function in BinaryMathFunction::ALL {
            if only.as_deref().is_some_and(|only| !only.split(',').any(|name| name == function.name())) {
                continue;
            }
            // pow: bases in (0.5, 50], exponents in [-3, 3]; atan2, hypot: both in [-10, 10].
            let (a, b): (Vec<f64>, Vec<f64>) = (0..size)
                .map(|i| {
                    let unit = (i % 1000) as f64 / 1000.0;
                    let other = ((i * 7) % 1000) as f64 / 1000.0;
                    match function {
                        BinaryMathFunction::Pow => (0.5 + 49.5 * unit, -3.0 + 6.0 * other),
                        _ => (-10.0 + 20.0 * unit, -10.0 + 20.0 * other),
                    }
                })
                .unzip();
            for tier in Isa::ALL.into_iter().filter(|tier| tier.is_supported()) {
                let block = tier.binary_block(function).expect("the tier is supported");
                group.bench_function(BenchmarkId::new(function.name(), tier.name()), |bench| {
                    // SAFETY: all three buffers hold `size` values; the tier is supported.
                    bench.iter(|| unsafe { block(black_box(a.as_ptr()), b.as_ptr(), out.as_mut_ptr(), size) })
                });
            }
        }
        if wanted(MathFunction::Ln) {
            let inputs = inputs_for(MathFunction::Ln, size);
            group.bench_function(BenchmarkId::new("ln", "std"), |bench| {
                bench.iter(|| {
                    for (o, x) in out.iter_mut().zip(black_box(&inputs)) {
                        *o = x.ln();
                    }
                })
            });
        }
        // ln and exp of f32s: each tier's f32 block (their own kernels), and the C library's.
        for (function, name, libm) in [
            (MathFunction::Ln, "ln_f32", f32::ln as fn(f32) -> f32),
            (MathFunction::Exp, "exp_f32", f32::exp as fn(f32) -> f32),
        ] {
            if !wanted(function) {
                continue;
            }
            let inputs: Vec<f32> = inputs_for(function, size).iter().map(|&x| x as f32).collect();
            let mut out32 = vec![0.0f32; size];
            for tier in Isa::ALL.into_iter().filter(|tier| tier.is_supported()) {
                let block = tier.f32_block(function).expect("the tier is supported");
                group.bench_function(BenchmarkId::new(name, tier.name()), |bench| {
                    // SAFETY: both buffers hold `size` values; the tier is supported.
                    bench.iter(|| unsafe { block(black_box(inputs.as_ptr()), out32.as_mut_ptr(), size) })
                });
            }
            group.bench_function(BenchmarkId::new(name, "std"), |bench| {
                bench.iter(|| {
                    for (o, x) in out32.iter_mut().zip(black_box(&inputs)) {
                        *o = libm(*x);
                    }
                })
            });
        }
        if wanted(MathFunction::Exp) {
            let inputs = inputs_for(MathFunction::Exp, size);
            group.bench_function(BenchmarkId::new("exp", "std"), |bench| {
                bench.iter(|| {
                    for (o, x) in out.iter_mut().zip(black_box(&inputs)) {
                        *o = x.exp();
                    }
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, math);
criterion_main!(benches);
