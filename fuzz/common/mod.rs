//! What the fuzz targets share: one engine per process, and the native-vs-interpreter comparison.

use fusejit::{Bindings, Column, Engine, EngineConfig, Kernel, Scalar};
use std::sync::OnceLock;

/// One engine for the whole run, with Cranelift's verifier on: a verifier error is a bug.
/// It splits every column of 128 rows or more over three threads (ranges of 64 rows and
/// up), so that native results come from ranges with warm-ups, carried extremes and
/// joined reduction trees, and must still equal the interpreter's.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = EngineConfig::default();
        config.verify_generated_code = true;
        config.cache_capacity = 64;
        config.threads = Some(3);
        config.min_rows_per_thread = 64;
        Engine::with_config(config).expect("the default math tier is supported")
    })
}

/// Whether two rows hold the same value: the same validity, and on valid rows the same bits
/// (any NaN equals any NaN: payloads are not part of the language's semantics).
pub fn same(a: Option<Scalar>, b: Option<Scalar>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Scalar::F64(a)), Some(Scalar::F64(b))) => {
            a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
        }
        (Some(Scalar::F32(a)), Some(Scalar::F32(b))) => {
            a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
        }
        (Some(Scalar::I64(a)), Some(Scalar::I64(b))) => a == b,
        (Some(Scalar::I32(a)), Some(Scalar::I32(b))) => a == b,
        (Some(Scalar::Bool(a)), Some(Scalar::Bool(b))) => a == b,
        _ => false,
    }
}

/// Panics (a finding) unless native and interpreted results are the same, row for row.
pub fn assert_same_columns(source: &str, native: &Column, reference: &Column) {
    assert_eq!(native.len(), reference.len(), "{source}: lengths differ");
    assert_eq!(native.elem(), reference.elem(), "{source}: element types differ");
    assert_eq!(native.null_count, reference.null_count, "{source}: null counts differ");
    for row in 0..native.len() {
        assert!(
            same(native.get(row), reference.get(row)),
            "{source}: row {row}: native {:?} vs interpreter {:?}",
            native.get(row),
            reference.get(row)
        );
    }
}

/// Panics (a finding) unless every output of native code equals the interpreter's, or both
/// fail with the same error (type errors are expected of some generated programs).
pub fn assert_outputs_agree(label: &str, kernel: &Kernel, bindings: &Bindings<'_>) {
    match (kernel.eval_outputs(bindings), kernel.interpret_outputs(bindings)) {
        (Ok(native), Ok(reference)) => {
            assert_eq!(native.len(), reference.len(), "{label}: output counts differ");
            for ((name, column), (_, reference)) in native.iter().zip(&reference) {
                assert_same_columns(&format!("{label} output {name}"), column, reference);
            }
        }
        (Err(native), Err(reference)) => assert_eq!(native, reference, "{label}: errors differ"),
        (native, reference) => panic!("{label}: native {native:?} vs interpreter {reference:?}"),
    }
}

/// A small deterministic generator (xorshift64*) for column values from a fuzzed seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value that is usually price-like and sometimes hostile: NaN, ±inf, ±0, subnormal, huge.
    pub fn value(&mut self) -> f64 {
        match self.next() % 20 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -0.0,
            4 => 0.0,
            5 => f64::MIN_POSITIVE / 4.0,
            6 => 1e300,
            7 => -((self.next() % 1000) as f64) / 7.0,
            _ => 50.0 + ((self.next() % 1_000_000) as f64) / 997.0,
        }
    }

    /// An integer that is usually small and sometimes hostile: 0 and -1 (division), the
    /// extremes of i64 and i32 (overflow), any bits.
    #[allow(dead_code)] // not every target that includes this module uses it
    pub fn integer(&mut self) -> i64 {
        match self.next() % 16 {
            0 => 0,
            1 => -1,
            2 => i64::MIN,
            3 => i64::MAX,
            4 => i64::from(i32::MIN),
            5 => i64::from(i32::MAX),
            6 => self.next() as i64,
            7 => -((self.next() % 1000) as i64),
            _ => (self.next() % 100_000) as i64,
        }
    }

    /// A bitmap for `rows` rows at bit `offset`, each row null with `null_percent` chance.
    #[allow(dead_code)] // not every target that includes this module uses it
    pub fn bitmap(&mut self, rows: usize, offset: usize, null_percent: u64) -> Vec<u8> {
        let mut bytes = vec![0u8; (offset + rows).div_ceil(8)];
        for row in 0..rows {
            if self.next() % 100 >= null_percent {
                let bit = offset + row;
                bytes[bit / 8] |= 1 << (bit % 8);
            }
        }
        bytes
    }
}
