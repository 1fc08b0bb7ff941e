//! The aarch64 backend, proven by running it: a corpus of programs (the SPEC §6 workloads,
//! the fusion programs, and fixed seeds of the differential generator — nulls, lags, f32,
//! `where`, `ln`/`exp`) is compiled for aarch64 into one ELF object together with the
//! runtime functions (the NEON math tier among them), linked with `tests/aarch64/harness.c`,
//! and run under `qemu-aarch64`. Every result must equal the x86-64 native result bit for bit
//! (validity exactly; on valid rows the same bits, any NaN equal to any NaN — NaN payloads are
//! not part of the language, and x86 and Arm make different default NaNs).
//!
//! Needs `qemu-aarch64` and `aarch64-linux-gnu-gcc` (Debian: qemu-user, gcc-aarch64-linux-gnu,
//! libc6-dev-arm64-cross; `.ci/run` installs them). Without them the test says so and passes
//! on a developer machine, and fails when `CI=true`.

mod common;

use common::random_programs::{
    BOUNDARY_PROGRAMS, BoundaryData, Rng, bind, data, elementwise_program_strategy, program_for_seed,
};
use fusejit::internals::cross::{ArgumentImage, ArgumentWord, CrossObject};
use fusejit::{Bindings, Column, ColumnValues, Elem, Engine, EngineConfig};
use std::path::Path;
use std::process::Command;

/// Seeds of the differential generator run on aarch64 in every CI run (about 60% of them are
/// elementwise programs that compile to objects; the rest use reductions or scans).
const DIFFERENTIAL_SEEDS: u64 = 800;

fn tool_present(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|output| output.status.success())
}

/// One case: a kernel of the object, its argument image, and the x86-64 result to match.
struct Case {
    source: String,
    kernel: usize,
    image: ArgumentImage,
    expected: Column,
}

struct Corpus {
    object: CrossObject,
    kernels: usize,
    cases: Vec<Case>,
}

impl Corpus {
    /// Adds `source` over `bindings` as a new kernel and case; false if the program does not
    /// type-check for these bindings (the generator makes some such programs).
    fn add(&mut self, engine: &Engine, source: &str, bindings: &Bindings<'_>) -> bool {
        let kernel = engine.compile(source).unwrap_or_else(|error| panic!("{source}: {error}"));
        let Ok(expected) = kernel.eval(bindings) else { return false };
        let name = format!("fusejit_kernel_{}", self.kernels);
        let image = match kernel.add_to_object(&mut self.object, &name, bindings) {
            Ok(Some(image)) => image,
            // Reductions, scans and several outputs run from Rust: no object holds them yet.
            Ok(None) => return false,
            Err(error) => panic!("{source}: aarch64 compile: {error}"),
        };
        self.cases.push(Case { source: source.to_string(), kernel: self.kernels, image, expected });
        self.kernels += 1;
        true
    }
}

fn engine() -> Engine {
    Engine::with_config(EngineConfig::default().with_verify_generated_code(true))
        .expect("a valid engine configuration")
}

/// Writes the job file the harness reads (format in `harness.c`).
fn job_file(cases: &[Case]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut put = |word: u64| out.extend_from_slice(&word.to_le_bytes());
    put(cases.len() as u64);
    for case in cases {
        put(case.kernel as u64);
        put(case.image.regions.len() as u64);
        for region in &case.image.regions {
            put(region.len() as u64);
            for chunk in region.chunks(8) {
                let mut word = [0u8; 8];
                word[..chunk.len()].copy_from_slice(chunk);
                put(u64::from_le_bytes(word));
            }
        }
        put(case.image.words.len() as u64);
        for word in &case.image.words {
            match *word {
                ArgumentWord::Value(value) => [0, value, 0].into_iter().for_each(&mut put),
                ArgumentWord::Address { region, offset } => {
                    [1, region as u64, offset as u64].into_iter().for_each(&mut put)
                }
            }
        }
        put(case.image.output_values as u64);
        put(case.image.output_bitmap as u64);
    }
    out
}

/// The C table of the object's kernels, in index order.
fn kernel_table(count: usize) -> String {
    let mut c = String::from("#include <stdint.h>\ntypedef void (*kernel_fn)(const uint64_t *);\n");
    for index in 0..count {
        c.push_str(&format!("void fusejit_kernel_{index}(const uint64_t *);\n"));
    }
    c.push_str("const kernel_fn fusejit_kernels[] = {\n");
    for index in 0..count {
        c.push_str(&format!("    fusejit_kernel_{index},\n"));
    }
    c.push_str(&format!("}};\nconst uint64_t fusejit_kernel_count = {count};\n"));
    c
}

/// Compares one case's aarch64 output regions with its x86-64 result; returns the rows
/// compared.
fn compare(case: &Case, values: &[u8], bitmap: &[u8]) -> usize {
    let expected = &case.expected;
    let len = case.image.result_len;
    assert_eq!(expected.len(), len, "{}: length", case.source);
    let valid_on_arm = |row: usize| !case.image.result_nullable || bitmap[row / 8] >> (row % 8) & 1 == 1;
    for row in 0..len {
        let valid_on_x86 = expected.get(row).is_some();
        assert_eq!(valid_on_arm(row), valid_on_x86, "{}: validity of row {row} of {len}", case.source);
        if !valid_on_x86 {
            continue;
        }
        let same = match (&expected.values, case.image.result_elem) {
            (ColumnValues::F64(want), Elem::F64) => {
                let got = f64::from_le_bytes(values[row * 8..row * 8 + 8].try_into().expect("8 bytes"));
                got.to_bits() == want[row].to_bits() || got.is_nan() && want[row].is_nan()
            }
            (ColumnValues::F32(want), Elem::F32) => {
                let got = f32::from_le_bytes(values[row * 4..row * 4 + 4].try_into().expect("4 bytes"));
                got.to_bits() == want[row].to_bits() || got.is_nan() && want[row].is_nan()
            }
            (ColumnValues::I64(want), Elem::I64) => {
                i64::from_le_bytes(values[row * 8..row * 8 + 8].try_into().expect("8 bytes")) == want[row]
            }
            (ColumnValues::I32(want), Elem::I32) => {
                i32::from_le_bytes(values[row * 4..row * 4 + 4].try_into().expect("4 bytes")) == want[row]
            }
            (ColumnValues::Bool(want), Elem::Bool) => values[row] == u8::from(want[row]),
            _ => panic!("{}: result types differ", case.source),
        };
        assert!(same, "{}: row {row} of {len} differs between aarch64 and x86-64", case.source);
    }
    len
}

#[test]
fn aarch64_code_under_qemu_equals_x86_64_bit_for_bit() {
    let tools = ["qemu-aarch64", "aarch64-linux-gnu-gcc"];
    if let Some(missing) = tools.iter().find(|tool| !tool_present(tool)) {
        let in_ci = std::env::var("CI").is_ok_and(|value| value == "true");
        assert!(
            !in_ci,
            "{missing} is missing: CI must install qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
        );
        eprintln!("skipped: {missing} is not installed (the test runs in CI)");
        return;
    }
    let engine = engine();
    let mut corpus = Corpus {
        object: CrossObject::new("aarch64").expect("an aarch64 object"),
        kernels: 0,
        cases: Vec::new(),
    };

    // The workloads at block boundaries, with and without nulls.
    for rows in [0usize, 1, 2, 63, 64, 65, 511, 512, 513, 1025, 3001] {
        let data = BoundaryData::new(rows);
        for with_nulls in [false, true] {
            let bindings = data.bind(with_nulls);
            for source in BOUNDARY_PROGRAMS {
                assert!(corpus.add(&engine, source, &bindings), "{source} compiles");
            }
        }
    }
    let workload_cases = corpus.cases.len();
    // Fixed seeds of the differential generator: the whole language on hostile data.
    let mut generated = 0;
    let strategy = elementwise_program_strategy();
    for seed in 1..=DIFFERENTIAL_SEEDS {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let source = program_for_seed(&strategy, seed);
        let data = data(&mut rng);
        let bindings = bind(&data, &mut rng);
        if corpus.add(&engine, &source, &bindings) {
            generated += 1;
        }
    }
    assert!(generated > DIFFERENTIAL_SEEDS / 2, "only {generated} generated programs compile for aarch64");

    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = |name: &str| directory.path().join(name);
    let Corpus { object, kernels, cases } = corpus;
    std::fs::write(path("kernels.o"), object.finish().expect("an object file")).unwrap();
    std::fs::write(path("table.c"), kernel_table(kernels)).unwrap();
    std::fs::write(path("job.bin"), job_file(&cases)).unwrap();
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aarch64/harness.c");
    let link = Command::new("aarch64-linux-gnu-gcc")
        .args(["-O1", "-no-pie", "-o"])
        .arg(path("harness"))
        .arg(&harness)
        .arg(path("table.c"))
        .arg(path("kernels.o"))
        .output()
        .expect("aarch64-linux-gnu-gcc runs");
    assert!(link.status.success(), "link failed: {}", String::from_utf8_lossy(&link.stderr));
    let run = Command::new("qemu-aarch64")
        .args(["-L", "/usr/aarch64-linux-gnu"])
        .arg(path("harness"))
        .arg(path("job.bin"))
        .arg(path("out.bin"))
        .output()
        .expect("qemu-aarch64 runs");
    assert!(run.status.success(), "harness failed under qemu: {}", String::from_utf8_lossy(&run.stderr));

    let output = std::fs::read(path("out.bin")).unwrap();
    let mut at = 0;
    let mut take = || {
        let length = u64::from_le_bytes(output[at..at + 8].try_into().expect("8 bytes")) as usize;
        let bytes = &output[at + 8..at + 8 + length];
        at += 8 + length;
        bytes
    };
    let mut rows = 0;
    for case in &cases {
        let values = take();
        let bitmap = take();
        rows += compare(case, values, bitmap);
    }
    assert_eq!(at, output.len(), "the harness wrote more than the cases");
    eprintln!(
        "aarch64 under qemu: {} cases ({} workload, {} generated programs), {} kernels, {rows} rows, all bit-identical to x86-64",
        cases.len(),
        workload_cases,
        generated,
        kernels
    );
}
