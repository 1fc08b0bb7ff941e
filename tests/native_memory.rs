//! Native kernels touch no byte outside their bindings and outputs (inputs, bitmaps and outputs
//! are placed right against an unmapped page), free their code when dropped, and run from many
//! threads at once.

use fusejit::{Bindings, ColumnMut, Engine, EngineConfig, Scalar, Validity, ValuesMut};

/// Memory whose last usable byte is followed by a page mapped `PROT_NONE`: any overread or
/// overwrite past the end faults.
struct Guarded {
    base: *mut u8,
    total: usize,
    usable: usize,
}

impl Guarded {
    fn new(bytes: usize) -> Guarded {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let usable = bytes.div_ceil(page).max(1) * page;
        let total = usable + page;
        // SAFETY: an anonymous private mapping of `total` bytes; checked for failure below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED, "mmap failed");
        let base = base.cast::<u8>();
        // SAFETY: the last page lies within the mapping just made.
        let protected = unsafe { libc::mprotect(base.add(usable).cast(), page, libc::PROT_NONE) };
        assert_eq!(protected, 0, "mprotect failed");
        Guarded { base, total, usable }
    }

    /// A slice of `len` elements ending exactly at the guard page.
    fn slice<T: Copy>(&mut self, values: &[T]) -> &mut [T] {
        let bytes = std::mem::size_of_val(values);
        assert!(bytes <= self.usable);
        // SAFETY: the range [usable - bytes, usable) lies in the readable part of the mapping;
        // its start is aligned for T since `usable` is page-aligned and bytes a multiple of
        // size_of::<T>(); the mapping outlives the slice (tied to &mut self).
        unsafe {
            let start = self.base.add(self.usable - bytes).cast::<T>();
            std::ptr::copy_nonoverlapping(values.as_ptr(), start, values.len());
            std::slice::from_raw_parts_mut(start, values.len())
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`.
        unsafe { libc::munmap(self.base.cast(), self.total) };
    }
}

const PROGRAMS: &[&str] = &[
    "ln(x)*a+b",
    "dlog(x,1)*a+b",
    "dlog(x,5)*a+b",
    "(x-y)*a+b",
    "where(x>y, x-y, 0)*a",
    "dlog(dlog(x,1),5)",
    "lag(x, 1) + lag(y, 64) + lag(x, 513)",
    "diff(x, 3) + ret(y, 2)",
    "exp(-abs(x) / 100) + sqrt(abs(y))",
    "floor(x) + ceil(y) + round(x / 3)",
    "min(x, y) - max(x, y)",
    "fill(x, y) + f64(f32(x))",
    "is_null(x) || is_valid(lag(y, 2)) && x > y",
    "x^3 + y^-2",
    "where(c, x, null)",
    "!c && lag(c, 7)",
    "(x - mean(x)) / std(x, 1) + max(y) - count(x)",
    "mavg(x, 20) + msum(ln(y), 3) - mstd(x, 5)",
    "mmin(x, 4) * mmax(y, 600) + cumsum(x) - cumprod(y / 100)",
    "ema(x, 0.25) + cummax(y) - cummin(x)",
    "mavg(x, 7)",
    // f32 and i32 columns widened in the f64 loop (two rows a lane group), lagged; a bool
    // column and lagged masks read as lane masks; a lag of a value of the same loop.
    "w + x * 2",
    "m * y + lag(w, 3) - f64(m)",
    "where(c && x > y, f64(m), y) + diff(x * 2, 1)",
    "f = x > y; where(f && !lag(f, 1), 1.0, 0.0) + where(lag(c, 2) || is_nan(x / y), 1.0, 2.0)",
];

#[test]
fn every_function_and_lag_reads_and_writes_only_inside_its_buffers() {
    // One thread, and three threads over ranges as short as 64 rows: a range's warm-up reads
    // the rows before it, and its writes stop at its last row.
    for (threads, min_rows) in [(1, 64), (3, 64)] {
        let config = EngineConfig::default()
            .with_verify_generated_code(true)
            .with_threads(Some(threads))
            .with_min_rows_per_thread(min_rows);
        guarded_runs(&Engine::with_config(config).expect("a valid engine configuration"));
    }
}

fn guarded_runs(engine: &Engine) {
    for rows in [1usize, 7, 63, 64, 65, 511, 512, 513, 1000, 1217] {
        for offset in [0usize, 3, 7] {
            let x: Vec<f64> = (0..rows).map(|i| 1.0 + i as f64 * 0.5).collect();
            let y: Vec<f64> = (0..rows).map(|i| 2.0 + (i % 7) as f64).collect();
            let c: Vec<bool> = (0..rows).map(|i| i % 3 == 0).collect();
            let w: Vec<f32> = (0..rows).map(|i| 3.0 + (i % 11) as f32 * 0.25).collect();
            let m: Vec<i32> = (0..rows).map(|i| (i % 13) as i32 - 6).collect();
            let bitmap: Vec<u8> = {
                let mut bytes = vec![0u8; (offset + rows).div_ceil(8)];
                for row in (0..rows).filter(|row| row % 5 != 2) {
                    bytes[(offset + row) / 8] |= 1 << ((offset + row) % 8);
                }
                bytes
            };
            let (mut gx, mut gy, mut gc, mut gbits) = (
                Guarded::new(rows * 8),
                Guarded::new(rows * 8),
                Guarded::new(rows),
                Guarded::new(bitmap.len()),
            );
            let (mut gw, mut gm) = (Guarded::new(rows * 4), Guarded::new(rows * 4));
            let (x, y, c, bits) = (gx.slice(&x), gy.slice(&y), gc.slice(&c), gbits.slice(&bitmap));
            let (w, m) = (gw.slice(&w), gm.slice(&m));
            let mut bindings = Bindings::new();
            bindings
                .column_with_validity("x", &x[..], Validity::new(bits, offset))
                .column("y", &y[..])
                .column_with_validity("c", &c[..], Validity::new(bits, offset))
                .column("w", &w[..])
                .column("m", &m[..])
                .scalar("a", 252.0)
                .scalar("b", 0.5);
            for source in PROGRAMS {
                let kernel = engine.compile(source).unwrap();
                let reference = kernel.interpret(&bindings).unwrap();
                let (mut gout, mut gvalid) = (Guarded::new(rows * 8), Guarded::new(rows.div_ceil(8)));
                let validity = gvalid.slice(&vec![0u8; rows.div_ceil(8)]);
                let summary = match reference.elem() {
                    fusejit::Elem::Bool => {
                        let values = gout.slice(&vec![false; rows]);
                        let mut out = ColumnMut { values: ValuesMut::Bool(values), validity };
                        let summary = kernel.eval_into(&bindings, &mut out).unwrap();
                        for row in 0..rows {
                            let got =
                                (out.validity[row / 8] >> (row % 8) & 1 == 1).then(|| match &out.values {
                                    ValuesMut::Bool(values) => Scalar::Bool(values[row]),
                                    _ => unreachable!(),
                                });
                            assert_eq!(got, reference.get(row), "{source} rows {rows} row {row}");
                        }
                        summary
                    }
                    _ => {
                        let values = gout.slice(&vec![0.0f64; rows]);
                        let mut out = ColumnMut { values: ValuesMut::F64(values), validity };
                        let summary = kernel.eval_into(&bindings, &mut out).unwrap();
                        for row in 0..rows {
                            let valid = out.validity[row / 8] >> (row % 8) & 1 == 1;
                            let value = match &out.values {
                                ValuesMut::F64(values) => values[row],
                                _ => unreachable!(),
                            };
                            match reference.get(row) {
                                None => assert!(!valid, "{source} rows {rows} row {row}: expected null"),
                                Some(Scalar::F64(expected)) => assert!(
                                    valid
                                        && (value.to_bits() == expected.to_bits()
                                            || (value.is_nan() && expected.is_nan())),
                                    "{source} rows {rows} row {row}: {value} vs {expected}"
                                ),
                                Some(other) => panic!("unexpected {other:?}"),
                            }
                        }
                        summary
                    }
                };
                assert_eq!((summary.len, summary.null_count), (rows, reference.null_count), "{source}");
            }
        }
    }
}

fn resident_pages() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    statm.split_whitespace().nth(1).and_then(|field| field.parse().ok()).expect("resident field")
}

#[test]
fn compiling_and_dropping_10_000_kernels_keeps_memory_bounded() {
    let engine = Engine::with_config(EngineConfig::default().with_cache_capacity(8))
        .expect("a valid engine configuration");
    let x: Vec<f64> = (1..=100).map(f64::from).collect();
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    let run = |range: std::ops::Range<u32>| {
        for i in range {
            let out =
                engine.compile(&format!("ln(x) * {i} + lag(x, {})", i % 7)).unwrap().eval(&bindings).unwrap();
            assert_eq!(out.len(), 100);
        }
    };
    run(0..1000);
    let before = resident_pages();
    run(1000..11_000);
    let after = resident_pages();
    let grown_kib = after.saturating_sub(before) * 4;
    assert!(grown_kib < 8 * 1024, "resident memory grew by {grown_kib} KiB over 10 000 kernels");
}

#[test]
fn eight_threads_evaluate_one_kernel_1000_times_with_identical_results() {
    // Each caller's evaluation is itself split over the pool (3 threads, ranges of 64 rows):
    // eight callers share the pool's workers without deadlock, and every result is the same.
    let config = EngineConfig::default().with_threads(Some(3)).with_min_rows_per_thread(64);
    let engine = Engine::with_config(config).unwrap();
    let kernel = engine.compile("dlog(x, 5) * a + b").unwrap();
    let reducing = engine.compile("(x - mean(x)) / std(x) + mmax(x, 30)").unwrap();
    let x: Vec<f64> = (1..=2000).map(|i| 100.0 + f64::from(i).sin()).collect();
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]).scalar("a", 252.0).scalar("b", 0.5);
    // Values under null rows are unspecified, so compare rows as optional values.
    let expected = kernel.interpret(&bindings).unwrap().to_options();
    let expected_reducing = reducing.interpret(&bindings).unwrap().to_options();
    assert_eq!(expected.iter().filter(|row| row.is_none()).count(), 5);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..500 {
                    let rows = kernel.eval(&bindings).unwrap().to_options();
                    assert!(rows == expected, "a thread saw different rows");
                    let rows = reducing.eval(&bindings).unwrap().to_options();
                    assert!(rows == expected_reducing, "a thread saw different reduced rows");
                }
            });
        }
    });
    // Called from inside another rayon pool's tasks (nested pools): the same.
    use rayon::prelude::*;
    let outer = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
    let all_equal = outer.install(|| {
        (0..64).into_par_iter().all(|_| kernel.eval(&bindings).unwrap().to_options() == expected)
    });
    assert!(all_equal, "a nested evaluation saw different rows");
}
