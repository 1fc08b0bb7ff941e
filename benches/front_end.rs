//! Front-end latency: source text to optimised IR (parse → check → lower → passes) for the
//! SPEC §6 workloads, and one interpreted evaluation, so later stages can be weighed against it.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fusejit::{Bindings, Elem, Engine, EngineConfig, Schema, Type};
use std::hint::black_box;

const WORKLOADS: &[(&str, &str)] = &[
    ("W1", "ln(x)*a+b"),
    ("W2", "dlog(x,1)*a+b"),
    ("W3", "dlog(x,5)*a+b"),
    ("W4", "(x-y)*a+b"),
    ("W7", "where(x>y, x-y, 0)*a"),
];

fn schema() -> Schema {
    let mut schema = Schema::new();
    schema
        .insert("x", Type::column(Elem::F64))
        .insert("y", Type::column(Elem::F64))
        .insert("a", Type::scalar(Elem::F64))
        .insert("b", Type::scalar(Elem::F64));
    schema
}

fn compile_latency(c: &mut Criterion) {
    // A cache of zero capacity makes every compile a cold one.
    let engine = Engine::with_config(EngineConfig { cache_capacity: 0, ..EngineConfig::default() })
        .expect("a valid engine configuration");
    let schema = schema();
    let mut group = c.benchmark_group("front_end_compile");
    for (name, source) in WORKLOADS {
        group.bench_with_input(BenchmarkId::from_parameter(name), source, |bench, source| {
            bench.iter(|| engine.compile_with_schema(black_box(source), &schema).expect("compiles"))
        });
    }
    group.finish();
}

fn interpreter_throughput(c: &mut Criterion) {
    let rows = 64 * 1024;
    let x: Vec<f64> = (0..rows).map(|i| 100.0 + (i as f64 * 0.01).sin()).collect();
    let y: Vec<f64> = (0..rows).map(|i| 100.0 + (i as f64 * 0.02).cos()).collect();
    let engine = Engine::new();
    let mut group = c.benchmark_group("interpreter");
    group.throughput(Throughput::Elements(rows as u64));
    for (name, source) in WORKLOADS {
        let kernel = engine.compile(source).expect("compiles");
        let mut bindings = Bindings::new();
        bindings.column("x", &x[..]).column("y", &y[..]).scalar("a", 252.0).scalar("b", 0.5);
        group.bench_function(BenchmarkId::from_parameter(name), |bench| {
            bench.iter(|| kernel.interpret(black_box(&bindings)).expect("evaluates"))
        });
    }
    group.finish();
}

criterion_group!(benches, compile_latency, interpreter_throughput);
criterion_main!(benches);
