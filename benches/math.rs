//! The vectorised math per tier, in ns per element (criterion's throughput), against the
//! platform's scalar `f64::ln`/`f64::exp`: on an L1-resident block of 512 values and on 1M.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fusejit::{Isa, MathFunction};
use std::hint::black_box;

fn math(c: &mut Criterion) {
    // The traced tier (Cranelift's f64x2 code of the same kernels) is compiled on demand.
    let _ = fusejit::internals::install_traced_math();
    for (size_name, size) in [("block512", 512usize), ("1M", 1 << 20)] {
        let inputs: Vec<f64> = (0..size).map(|i| 0.5 + (i % 1000) as f64 * 0.731).collect();
        let exp_inputs: Vec<f64> = (0..size).map(|i| -20.0 + (i % 1000) as f64 * 0.04).collect();
        let mut out = vec![0.0; size];
        let mut group = c.benchmark_group(format!("math_{size_name}"));
        group.throughput(Throughput::Elements(size as u64));
        for tier in Isa::ALL.into_iter().filter(|tier| tier.is_supported()) {
            let ln = tier.block(MathFunction::Ln).expect("the tier is supported");
            let exp = tier.block(MathFunction::Exp).expect("the tier is supported");
            group.bench_function(BenchmarkId::new("ln", tier.name()), |bench| {
                // SAFETY: both buffers hold `size` values; the tier is supported.
                bench.iter(|| unsafe { ln(black_box(inputs.as_ptr()), out.as_mut_ptr(), size) })
            });
            group.bench_function(BenchmarkId::new("exp", tier.name()), |bench| {
                // SAFETY: as above.
                bench.iter(|| unsafe { exp(black_box(exp_inputs.as_ptr()), out.as_mut_ptr(), size) })
            });
        }
        group.bench_function(BenchmarkId::new("ln", "std"), |bench| {
            bench.iter(|| {
                for (o, x) in out.iter_mut().zip(black_box(&inputs)) {
                    *o = x.ln();
                }
            })
        });
        group.bench_function(BenchmarkId::new("exp", "std"), |bench| {
            bench.iter(|| {
                for (o, x) in out.iter_mut().zip(black_box(&exp_inputs)) {
                    *o = x.exp();
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, math);
criterion_main!(benches);
