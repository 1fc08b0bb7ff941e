//! Compile latency: source text to a callable native kernel for W1–W7 and a 30-operator
//! program (cold: no cache), and a compile-cache hit.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fusejit::{Elem, Engine, EngineConfig, Schema, Type};
use std::hint::black_box;

const PROGRAMS: &[(&str, &str)] = &[
    ("W1", "ln(x)*a+b"),
    ("W2", "dlog(x,1)*a+b"),
    ("W3", "dlog(x,5)*a+b"),
    ("W4", "(x-y)*a+b"),
    ("W5", "x*a"),
    ("W7", "where(x>y, x-y, 0)*a"),
    (
        "30 operators",
        "r = dlog(x,1); s = diff(y,2) / lag(y,2); t = where(r > 0, r * a, -r * b) + abs(s) * 2; \\
         u = sqrt(abs(t)) + exp(-abs(r)) - ln(abs(s) + 1); max(u, t) * a + min(r, s) * b - floor(t) + ceil(u)",
    ),
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

fn compile(c: &mut Criterion) {
    let cold = Engine::with_config(EngineConfig::default().with_cache_capacity(0))
        .expect("a valid engine configuration");
    let schema = schema();
    let mut group = c.benchmark_group("compile_to_native");
    for (name, source) in PROGRAMS {
        let source = source.replace("\\\n", " ");
        group.bench_function(BenchmarkId::from_parameter(name), |bench| {
            bench.iter(|| cold.compile_with_schema(black_box(&source), &schema).expect("compiles"))
        });
    }
    group.finish();
    let warm = Engine::new();
    warm.compile_with_schema("dlog(x,5)*a+b", &schema).expect("compiles");
    c.bench_function("compile_cache_hit", |bench| {
        bench.iter(|| warm.compile(black_box("dlog(x,5)*a+b")).expect("cached"))
    });
}

criterion_group!(benches, compile);
criterion_main!(benches);
