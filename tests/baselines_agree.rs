//! The benchmark's hand-written contenders compute what the JIT computes: `best` and
//! `pipeline` to the bit (same ln, same operation order), `seed` to within glibc's ln; for the
//! reduction and window workloads, whose hand-written sums run in another order, closely.
//! A benchmark that compared different results would measure nothing.

#[path = "../benches/baselines/mod.rs"]
mod baselines;
mod common;

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

/// Every corpus program the comparisons time computes, through the JIT, the interpreter's
/// bits; and the programs on integer, bool and computed-then-lagged columns compute what a
/// user means by them.
#[test]
fn corpus_programs_match_the_interpreter_and_mean_what_they_say() {
    use fusejit::Scalar;
    let engine = fusejit::Engine::new();
    for rows in [1usize, 63, 64, 65, 1000, 5000] {
        let data = Data::new(rows);
        let bindings = baselines::corpus_bindings(&data);
        for (name, program) in baselines::CORPUS {
            let kernel = engine.compile(program).unwrap();
            let jit = kernel.eval(&bindings).unwrap();
            let interp = kernel.interpret(&bindings).unwrap();
            if let Err(message) = common::random_programs::compare(program, &jit, &interp) {
                panic!("{name}: {message}");
            }
            for row in 0..rows {
                let got = jit.get(row);
                let (px, y) = (data.x[row], data.y[row]);
                match name {
                    "notional" => assert_eq!(got, Some(Scalar::F64(px * data.qty[row] as f64)), "row {row}"),
                    "spread_chg" if row == 0 => assert_eq!(got, None),
                    "spread_chg" => {
                        let want = (px - y) - (data.x[row - 1] - data.y[row - 1]);
                        assert_eq!(got, Some(Scalar::F64(want)), "row {row}");
                    }
                    "gated_ret" if !data.live[row] => assert_eq!(got, Some(Scalar::F64(0.0)), "row {row}"),
                    "gated_ret" if row == 0 => assert_eq!(got, None),
                    "gated_ret" => {
                        let Some(Scalar::F64(value)) = got else { panic!("row {row}: {got:?}") };
                        let want = (px / data.x[row - 1]).ln();
                        assert!((value - want).abs() <= 1e-15, "row {row}: {value} vs {want}");
                    }
                    _ => {}
                }
            }
        }
    }
}
