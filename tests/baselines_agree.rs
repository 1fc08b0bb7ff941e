//! The benchmark's hand-written contenders compute what the JIT computes: `best` and
//! `pipeline` to the bit (same ln, same operation order), `seed` to within glibc's ln; for the
//! reduction and window workloads, whose hand-written sums run in another order, closely.
//! A benchmark that compared different results would measure nothing.

#[path = "../benches/baselines/mod.rs"]
mod baselines;

use baselines::{Data, Out, Workload};

fn valid(bits: &[u8], row: usize) -> bool {
    bits[row / 8] >> (row % 8) & 1 == 1
}

#[test]
fn best_and_pipeline_match_the_jit_bit_for_bit_and_seed_closely() {
    let engine = fusejit::Engine::new();
    for rows in [1usize, 63, 64, 65, 1000, 5000] {
        let data = Data::new(rows);
        for workload in Workload::ALL {
            let kernel = engine.compile(workload.source()).unwrap();
            let bindings = baselines::bindings(workload, &data);
            let mut jit = Out::new(rows);
            baselines::jit(&kernel, &bindings, workload, &mut jit);
            let nullable = matches!(workload, Workload::W2 | Workload::W3 | Workload::W6);
            let exact = workload.has_seed();
            for (name, run) in [
                ("best", baselines::best as fn(Workload, &Data, &mut Out)),
                ("pipeline", baselines::pipeline),
                ("seed", baselines::seed),
            ] {
                if name == "seed" && !workload.has_seed() {
                    continue;
                }
                let mut out = Out::new(rows);
                run(workload, &data, &mut out);
                for row in 0..rows {
                    if nullable {
                        assert_eq!(
                            valid(&out.validity, row),
                            valid(&jit.validity, row),
                            "{name} {workload:?} row {row}"
                        );
                        if !valid(&jit.validity, row) {
                            continue;
                        }
                    }
                    let (got, want) = if workload == Workload::W5 {
                        (f64::from(out.f32s[row]), f64::from(jit.f32s[row]))
                    } else {
                        (out.f64s[row], jit.f64s[row])
                    };
                    if name == "seed" || !exact {
                        // zscore's hand-written moments lose ~κ·u with κ = |mean|/std ≈ 10⁴.
                        let tolerance = if exact { 1e-12 } else { 1e-9 };
                        assert!(
                            (got - want).abs() <= tolerance * want.abs().max(1.0)
                                || got.is_nan() && want.is_nan(),
                            "{name} {workload:?} row {row}: {got} vs {want}"
                        );
                    } else {
                        assert_eq!(
                            got.to_bits(),
                            want.to_bits(),
                            "{name} {workload:?} row {row}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }
}
