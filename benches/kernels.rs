//! Criterion benches of W1–W7 at 1K, 64K, 1M and 4M rows for every contender, and of the
//! realistic corpus (`baselines::CORPUS`) through the JIT at 64K and 1M rows (throughput in
//! elements). `cargo bench --bench kernels -- --test` runs each once (CI does).

#[path = "baselines/mod.rs"]
mod baselines;

use baselines::{Data, Out, Workload};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn kernels(c: &mut Criterion) {
    let engine = fusejit::Engine::new();
    for rows in [1_000usize, 65_536, 1_000_000, 4_000_000] {
        let data = Data::new(rows);
        let mut out = Out::new(rows);
        for workload in Workload::ALL {
            let mut group = c.benchmark_group(format!("{}_{rows}", workload.name()));
            group.throughput(Throughput::Elements(rows as u64));
            if rows >= 1_000_000 {
                group.sample_size(10);
            }
            let kernel = engine.compile(workload.source()).expect("compiles");
            let bindings = baselines::bindings(workload, &data);
            group.bench_function(BenchmarkId::from_parameter("jit"), |bench| {
                bench.iter(|| baselines::jit(&kernel, &bindings, workload, &mut out))
            });
            group.bench_function(BenchmarkId::from_parameter("best"), |bench| {
                bench.iter(|| baselines::best(workload, black_box(&data), &mut out))
            });
            group.bench_function(BenchmarkId::from_parameter("seed"), |bench| {
                bench.iter(|| baselines::seed(workload, black_box(&data), &mut out))
            });
            group.bench_function(BenchmarkId::from_parameter("pipeline"), |bench| {
                bench.iter(|| baselines::pipeline(workload, black_box(&data), &mut out))
            });
            group.bench_function(BenchmarkId::from_parameter("memcpy"), |bench| {
                bench.iter(|| baselines::memcpy(workload, black_box(&data), &mut out))
            });
            if rows <= 65_536 {
                group.bench_function(BenchmarkId::from_parameter("interp"), |bench| {
                    bench.iter(|| black_box(kernel.interpret(&bindings).expect("interprets")))
                });
            }
            group.finish();
        }
    }
}

fn corpus(c: &mut Criterion) {
    let engine = fusejit::Engine::new();
    for rows in [65_536usize, 1_000_000] {
        let data = Data::new(rows);
        let mut out = Out::new(rows);
        let bindings = baselines::corpus_bindings(&data);
        let mut group = c.benchmark_group(format!("corpus_{rows}"));
        group.throughput(Throughput::Elements(rows as u64));
        if rows >= 1_000_000 {
            group.sample_size(10);
        }
        for (name, program) in baselines::CORPUS {
            let kernel = engine.compile(program).expect("the corpus compiles");
            group.bench_function(BenchmarkId::from_parameter(name), |bench| {
                bench.iter(|| baselines::corpus_jit(&kernel, &bindings, name, &mut out))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, kernels, corpus);
criterion_main!(benches);
