//! How long a sleeping worker of the evaluation pool's kind (rayon) takes to start a job.
//!
//! `cargo run --release --example worker_wake`. A call split over threads gains from a second
//! thread only what is left after the worker wakes: the caller starts its ranges at once,
//! the worker when the scheduler runs it. For each idle gap before a spawn (the caller busy
//! for that long, as between two evaluations), the median and spread of the time from
//! `spawn` to the job's first instruction over 200 spawns, and the median time the `spawn`
//! call itself keeps the caller (the wake-up's system call). Rayon's workers spin briefly
//! after their last job, then sleep; a worker asleep costs what this host's wake-up costs.

use std::time::{Duration, Instant};

fn main() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a one-worker pool");
    println!("| idle gap before the spawn, µs | wake median, µs | p10 | p90 | the spawn call, median µs |");
    println!("| --- | --- | --- | --- | --- |");
    for gap_us in [0u64, 10, 50, 100, 300, 1000, 3000] {
        let mut latencies = Vec::new();
        let mut spawn_costs = Vec::new();
        for _ in 0..200 {
            let idle = Instant::now();
            while idle.elapsed() < Duration::from_micros(gap_us) {
                std::hint::spin_loop();
            }
            let (sender, receiver) = std::sync::mpsc::channel();
            let spawned = Instant::now();
            pool.spawn(move || {
                // The receiver waits below, so the send cannot fail.
                let _ = sender.send(Instant::now());
            });
            spawn_costs.push(spawned.elapsed().as_nanos() as f64 / 1000.0);
            let Ok(started) = receiver.recv() else { return };
            latencies.push((started - spawned).as_nanos() as f64 / 1000.0);
        }
        latencies.sort_by(f64::total_cmp);
        spawn_costs.sort_by(f64::total_cmp);
        let at = |values: &[f64], fraction: f64| values[((values.len() - 1) as f64 * fraction) as usize];
        println!(
            "| {gap_us} | {:.1} | {:.1} | {:.1} | {:.1} |",
            at(&latencies, 0.5),
            at(&latencies, 0.1),
            at(&latencies, 0.9),
            at(&spawn_costs, 0.5)
        );
    }
}
