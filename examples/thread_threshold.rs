//! Where splitting a column between threads pays: for each size and program, the time on one
//! thread over the time on two (above 1: two threads are faster), with the engine's default
//! threshold (`EngineConfig::min_rows_per_thread`), or `--split-all` to split from 64 rows
//! (what the threshold was measured from). Each evaluation follows other single-threaded
//! work, as in an application, so that the pool's workers are asleep when it starts.
//!
//! `cargo run --release --example thread_threshold -- [--split-all]`
use std::time::Instant;
fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if let Some(other) = arguments.iter().find(|arg| *arg != "--split-all") {
        eprintln!("thread_threshold: unknown argument {other}; the one option is --split-all");
        std::process::exit(2);
    }
    let split_all = !arguments.is_empty();
    let min_rows = if split_all { 64 } else { fusejit::EngineConfig::DEFAULT_MIN_ROWS_PER_THREAD };
    println!("median of 41 interleaved runs; 1-thread time / 2-thread time\n");
    let programs = ["x*a", "x32*a", "(x-y)*a+b", "dlog(x,1)*a+b", "(x-mean(x))/std(x)", "mavg(x,20)"];
    for rows in [16_384usize, 32_768, 65_536, 131_072, 262_144, 524_288, 1_048_576, 4_194_304] {
        let x: Vec<f64> = (0..rows).map(|i| 100.0 + (i as f64 * 0.001).sin()).collect();
        let y: Vec<f64> = (0..rows).map(|i| 100.0 + (i as f64 * 0.002).cos()).collect();
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut line = format!("{rows:>8}");
        for program in programs {
            let engines: Vec<fusejit::Engine> = [1usize, 2]
                .iter()
                .map(|&t| {
                    fusejit::Engine::with_config(
                        fusejit::EngineConfig::default()
                            .with_threads(Some(t))
                            .with_min_rows_per_thread(min_rows),
                    )
                    .unwrap()
                })
                .collect();
            let kernels: Vec<_> = engines.iter().map(|e| e.compile(program).unwrap()).collect();
            let mut b = fusejit::Bindings::new();
            b.column("x", &x[..])
                .column("x32", &x32[..])
                .column("y", &y[..])
                .scalar("a", 2.0)
                .scalar("b", 0.5);
            let mut out = vec![0.0; rows];
            let mut out32 = vec![0.0f32; rows];
            let mut valid = vec![0u8; rows / 8 + 1];
            let mut samples = [Vec::new(), Vec::new()];
            for _ in 0..41 {
                for (k, kernel) in kernels.iter().enumerate() {
                    let mut acc = 0.0;
                    for v in &x {
                        acc += v.sqrt();
                    }
                    std::hint::black_box(acc);
                    let t = Instant::now();
                    // The one f32 program writes an f32 column.
                    let values = if program.contains("x32") {
                        fusejit::ValuesMut::F32(&mut out32)
                    } else {
                        fusejit::ValuesMut::F64(&mut out)
                    };
                    let mut col = fusejit::ColumnMut { values, validity: &mut valid };
                    kernel.eval_into(&b, &mut col).unwrap();
                    samples[k].push(t.elapsed().as_secs_f64());
                }
            }
            for s in samples.iter_mut() {
                s.sort_by(f64::total_cmp);
            }
            line += &format!(" | {:>18}: {:.2}", program, samples[0][20] / samples[1][20]);
        }
        println!("{line}");
    }
}
