//! Kernels shared across threads: racing through the first evaluation of a signature leaves
//! one specialisation and equal results; many null patterns of a program's reductions keep the
//! multi-pass loop cache bounded and every result right.

use fusejit::{Bindings, Engine, EngineConfig, Scalar, Validity};
use std::sync::Barrier;

fn bits(column: &fusejit::Column) -> Vec<Option<u64>> {
    column
        .to_options()
        .into_iter()
        .map(|value| match value {
            Some(Scalar::F64(v)) => Some(v.to_bits()),
            Some(other) => panic!("expected f64, got {other:?}"),
            None => None,
        })
        .collect()
}

#[test]
fn threads_racing_the_first_eval_share_one_specialisation_and_agree() {
    let engine = Engine::with_config(EngineConfig::default().with_verify_generated_code(true))
        .expect("a valid configuration");
    let x: Vec<f64> = (0..3000).map(|i| 100.0 + (i as f64 * 0.37).sin()).collect();
    let bits_of_x: Vec<u8> =
        (0..3000usize.div_ceil(8)).map(|i| if i % 7 == 0 { 0xef } else { 0xff }).collect();
    let threads = 8;
    // Fused, multi-pass (a reduction) and scan programs: each kind has its own compile path.
    for (round, program) in
        ["dlog(x, 1) * a + 1", "(x - mean(x)) / std(x)", "mstd(dlog(x, 1), 20) + cumsum(x)"]
            .iter()
            .enumerate()
    {
        let kernel = engine.compile(program).expect("compiles");
        assert_eq!(kernel.specialization_count(), 0, "{program}: nothing compiled before the first eval");
        let barrier = Barrier::new(threads);
        let results: Vec<Vec<Option<u64>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut bindings = Bindings::new();
                        bindings.column_with_validity("x", &x[..], Validity::new(&bits_of_x, 0));
                        bindings.scalar("a", 252.0);
                        barrier.wait();
                        bits(&kernel.eval(&bindings).expect("evaluates"))
                    })
                })
                .collect();
            handles.into_iter().map(|handle| handle.join().expect("no thread panics")).collect()
        });
        assert_eq!(kernel.specialization_count(), 1, "round {round}: {program}");
        let mut bindings = Bindings::new();
        bindings.column_with_validity("x", &x[..], Validity::new(&bits_of_x, 0));
        bindings.scalar("a", 252.0);
        let reference = bits(&kernel.interpret(&bindings).expect("interprets"));
        for (thread, result) in results.iter().enumerate() {
            assert_eq!(result, &reference, "{program}: thread {thread} differs from the interpreter");
        }
    }
}

#[test]
fn many_null_patterns_of_reductions_keep_the_loop_cache_bounded_and_correct() {
    let engine = Engine::new();
    // Eight reductions, each null when its column is entirely null: 256 patterns, served by
    // two loops: reductions never null, and reductions that may be null (a flag each).
    let reductions: Vec<String> = (0..8).map(|i| format!("fill(mean(y{i}), {i})")).collect();
    let program = format!("x * 2 + {}", reductions.join(" + "));
    let kernel = engine.compile(&program).expect("compiles");
    let rows: usize = 100;
    let x: Vec<f64> = (0..rows).map(|i| i as f64).collect();
    let ys: Vec<Vec<f64>> = (0..8).map(|i| (0..rows).map(|r| (r * (i + 1)) as f64 / 7.0).collect()).collect();
    let all_valid = vec![0xffu8; rows.div_ceil(8)];
    let all_null = vec![0u8; rows.div_ceil(8)];
    for pattern in 0..256u32 {
        let mut bindings = Bindings::new();
        bindings.column("x", &x[..]);
        for (i, y) in ys.iter().enumerate() {
            let bitmap = if pattern >> i & 1 == 1 { &all_null } else { &all_valid };
            bindings.column_with_validity(format!("y{i}"), &y[..], Validity::new(bitmap, 0));
        }
        let native = kernel.eval(&bindings).expect("evaluates");
        let reference = kernel.interpret(&bindings).expect("interprets");
        assert_eq!(bits(&native), bits(&reference), "null pattern {pattern:08b}");
        // Row 3 by hand: x*2 plus each reduction's mean, or its fill value when all null.
        let mut expected = 6.0;
        for (i, y) in ys.iter().enumerate() {
            expected += if pattern >> i & 1 == 1 { i as f64 } else { y.iter().sum::<f64>() / rows as f64 };
        }
        let Some(Scalar::F64(row3)) = native.get(3) else { panic!("row 3 is valid") };
        assert!((row3 - expected).abs() <= 1e-9 * expected.abs(), "pattern {pattern}: {row3} vs {expected}");
        let expected_loops = if pattern == 0 { 1 } else { 2 };
        assert_eq!(kernel.pass_loop_count(), expected_loops, "pattern {pattern:08b}");
    }
    assert_eq!(kernel.specialization_count(), 1, "one signature: every column has a bitmap throughout");
}

#[test]
fn threads_compiling_different_programs_at_once_each_get_their_own_right_code() {
    // Each thread's first eval compiles a different program, at the same moment: the
    // backend hands each compile its own compiler, and every result equals the interpreter's.
    let engine = Engine::with_config(EngineConfig::default().with_verify_generated_code(true)).unwrap();
    let x: Vec<f64> = (0..5000).map(|i| 100.0 + (i as f64 * 0.37).sin()).collect();
    let programs: Vec<String> = (1..=8).map(|k| format!("dlog(x, {k}) * {k} + mavg(x, {})", k * 3)).collect();
    let barrier = Barrier::new(programs.len());
    std::thread::scope(|scope| {
        for program in &programs {
            let (engine, barrier, x) = (&engine, &barrier, &x);
            scope.spawn(move || {
                let mut bindings = Bindings::new();
                bindings.column("x", &x[..]);
                let kernel = engine.compile(program).unwrap();
                barrier.wait();
                let native = bits(&kernel.eval(&bindings).unwrap());
                assert_eq!(native, bits(&kernel.interpret(&bindings).unwrap()), "{program}");
                assert_eq!(kernel.specialization_count(), 1, "{program}");
            });
        }
    });
}
