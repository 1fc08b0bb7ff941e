//! Per-call overhead: one `eval_into` (and one `eval`) of W3 at 16 and 1024 rows, and one
//! `eval_into` of the two-pass z-score at 16 rows.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fusejit::{Bindings, ColumnMut, Engine, ValuesMut};
use std::hint::black_box;

fn overhead(c: &mut Criterion) {
    let engine = Engine::new();
    let kernel = engine.compile("dlog(x,5)*a+b").expect("compiles");
    let mut group = c.benchmark_group("eval_overhead");
    for rows in [16usize, 1024] {
        let x: Vec<f64> = (0..rows).map(|i| 100.0 + i as f64 * 0.01).collect();
        let mut bindings = Bindings::new();
        bindings.column("x", &x[..]).scalar("a", 252.0).scalar("b", 0.5);
        let mut values = vec![0.0; rows];
        let mut validity = vec![0u8; rows.div_ceil(8)];
        group.bench_function(BenchmarkId::new("eval_into", rows), |bench| {
            bench.iter(|| {
                let mut out = ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity };
                black_box(kernel.eval_into(black_box(&bindings), &mut out).expect("evaluates"))
            })
        });
        group.bench_function(BenchmarkId::new("eval", rows), |bench| {
            bench.iter(|| black_box(kernel.eval(black_box(&bindings)).expect("evaluates")))
        });
    }
    let zscore = engine.compile("(x-mean(x))/std(x)").expect("compiles");
    let x: Vec<f64> = (0..16).map(|i| 100.0 + i as f64 * 0.01).collect();
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    let (mut values, mut validity) = (vec![0.0; 16], vec![0u8; 2]);
    group.bench_function(BenchmarkId::new("eval_into_zscore", 16), |bench| {
        bench.iter(|| {
            let mut out = ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity };
            black_box(zscore.eval_into(black_box(&bindings), &mut out).expect("evaluates"))
        })
    });
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
