//! End-to-end tests of the `fusejit` command line: exit codes, stderr and CSV output.

use assert_cmd::Command;
use std::io::Write;

fn fusejit() -> Command {
    Command::cargo_bin("fusejit").expect("the binary is built")
}

fn csv_file(contents: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".csv").tempfile().expect("temp file");
    file.write_all(contents.as_bytes()).expect("write csv");
    file
}

fn stdout_of(args: &[&str]) -> String {
    let output = fusejit().args(args).output().expect("runs");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn constant_program_prints_one_row() {
    assert_eq!(stdout_of(&["-e", "1+2"]), "result\n3\n");
    assert_eq!(stdout_of(&["-e", "1/3"]), "result\n0.3333333333333333\n");
    assert_eq!(stdout_of(&["-e", "null"]), "result\n\n");
    assert_eq!(stdout_of(&["-e", "-1/0"]), "result\n-inf\n");
    assert_eq!(stdout_of(&["-e", "0/0 != 0/0"]), "result\ntrue\n");
}

#[test]
fn dlog_over_prices_prints_an_empty_first_row_and_exact_values() {
    let prices = csv_file("px\n100\n101\n99.5\n");
    let path = prices.path().to_str().unwrap();
    let out = stdout_of(&["-e", "dlog(px,1)*252", "--input", path]);
    let expected = format!(
        "result\n\n{}\n{}\n",
        (101f64.ln() - 100f64.ln()) * 252.0,
        (99.5f64.ln() - 101f64.ln()) * 252.0
    );
    assert_eq!(out, expected);
}

#[test]
fn empty_fields_are_nulls_in_and_out_and_scalars_come_from_set() {
    let data = csv_file("x,y,flag\n1,,true\n2,5,false\n,7,\nNaN,1,true\n");
    let path = data.path().to_str().unwrap();
    assert_eq!(stdout_of(&["-e", "x * a + y", "--input", path, "--set", "a=10"]), "result\n\n25\n\nNaN\n");
    assert_eq!(stdout_of(&["-e", "fill(x, -1)", "--input", path]), "result\n1\n2\n-1\nNaN\n");
    assert_eq!(stdout_of(&["-e", "flag && x > 1", "--input", path]), "result\nfalse\nfalse\n\nfalse\n");
    assert_eq!(stdout_of(&["-e", "is_null(y)", "--input", path]), "result\ntrue\nfalse\nfalse\nfalse\n");
}

#[test]
fn inputs_from_several_files_and_output_to_a_file() {
    let first = csv_file("x\n1\n2\n");
    let second = csv_file("y\n10\n20\n");
    let output = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    let out_path = output.path().to_str().unwrap();
    let stdout = stdout_of(&[
        "-e",
        "x + y",
        "--input",
        first.path().to_str().unwrap(),
        "--input",
        second.path().to_str().unwrap(),
        "--output",
        out_path,
    ]);
    assert_eq!(stdout, "");
    assert_eq!(std::fs::read_to_string(out_path).unwrap(), "result\n11\n22\n");
}

#[test]
fn unknown_function_exits_1_with_a_caret_and_a_hint() {
    let prices = csv_file("px\n1\n");
    let output =
        fusejit().args(["-e", "dlg(px,1)", "--input", prices.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error: unknown function 'dlg'"), "{stderr}");
    assert!(stderr.contains("1 │ dlg(px,1)\n  │ ^^^"), "{stderr}");
    assert!(stderr.contains("did you mean 'dlog'?"), "{stderr}");
}

#[test]
fn user_errors_exit_1_with_a_message_and_no_panic() {
    let bad = csv_file("x\n1\nabc\n");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["-e".into(), "pxx".into()], "unknown name 'pxx'"),
        (
            vec!["-e".into(), "x".into(), "--input".into(), bad.path().to_str().unwrap().into()],
            "cannot be read: line 3: 'abc' is not a number",
        ),
        (vec!["-e".into(), "1".into(), "--input".into(), "/nonexistent/file.csv".into()], "cannot read"),
        (vec!["-e".into(), "a".into(), "--set".into(), "a".into()], "expected NAME=VALUE"),
        (vec!["-e".into(), "a".into(), "--set".into(), "a=abc".into()], "is not a number"),
        (vec!["-e".into(), "(((".into()], "unexpected end"),
        (vec!["--no-such-flag".into()], "unexpected argument"),
        (vec!["-e".into(), "1".into(), "--emit".into(), "nonsense".into()], "invalid value"),
    ];
    for (args, expected) in cases {
        let output = fusejit().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: expected '{expected}' in {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn columns_of_different_lengths_are_an_error_not_a_truncation() {
    let first = csv_file("x\n1\n2\n3\n");
    let second = csv_file("y\n10\n20\n");
    let output = fusejit()
        .args([
            "-e",
            "x + y",
            "--input",
            first.path().to_str().unwrap(),
            "--input",
            second.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("column 'y' has 2 rows, but column 'x' has 3"), "{stderr}");
}

#[test]
fn emit_ir_prints_the_ir_after_each_pass() {
    let prices = csv_file("px\n1.5\n2\n");
    let out =
        stdout_of(&["-e", "dlog(px,1)*252", "--input", prices.path().to_str().unwrap(), "--emit", "ir"]);
    assert!(out.contains("## after check"), "{out}");
    assert!(out.contains("## after eliminate_dead_nodes"), "{out}");
    assert!(out.contains("f64[] = lag %1, 1"), "{out}");
}

#[test]
fn help_and_version_exit_0() {
    fusejit().arg("--help").assert().success();
    fusejit().arg("--version").assert().success();
}

#[test]
fn emit_clif_and_asm_show_the_kernel_calling_the_ln_block_stub_once_per_block() {
    let prices = csv_file("px\n1\n2\n");
    let path = prices.path().to_str().unwrap();
    let clif = stdout_of(&["-e", "dlog(px,1)*252", "--input", path, "--emit", "clif"]);
    assert!(clif.starts_with("function "), "{clif}");
    // The ln stub is imported once and called once: per block, from the block loop.
    assert_eq!(clif.matches("call fn0(").count(), 1, "{clif}");
    // Only the runtime functions the kernel calls are imported (not the whole table).
    let imported: Vec<&str> = clif
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("fn") && line.contains(" = "))
        .map(|line| line.split(" = ").next().unwrap())
        .collect();
    assert!(!imported.is_empty() && imported.len() <= 4, "{clif}");
    for name in &imported {
        assert!(clif.contains(&format!("call {name}(")), "{name} is imported but not called:\n{clif}");
    }
    let asm = stdout_of(&["-e", "dlog(px,1)*252", "--input", path, "--emit", "asm"]);
    // The host's listing: an indirect call is `call` on x86-64, `blr` on aarch64.
    let (call, subtract) = if cfg!(target_arch = "aarch64") { ("blr ", "fsub") } else { ("call ", "subsd") };
    // Calls, each once per block: ln, the result's validity (packed from bytes in the first
    // block, which runs one row at a time; straight into the bitmap in the f64x2 blocks), and
    // the halo shift — none per row.
    assert_eq!(asm.matches(call).count(), 4, "{asm}");
    assert!(asm.contains(subtract), "{asm}");
    // Each call names its target, not Cranelift's `userextname{N}`.
    let targets: Vec<&str> = asm
        .lines()
        .filter(|line| line.trim_start().starts_with(call))
        .map(|line| line.rsplit("; ").next().unwrap().trim())
        .collect();
    assert_eq!(
        targets,
        [
            "fusejit_ln_f64_block",
            "fusejit_pack_validity",
            "fusejit_combine_validity_bits",
            "fusejit_shift_halo"
        ],
        "{asm}"
    );
    assert!(!asm.contains("userextname"), "{asm}");
}

#[test]
fn a_one_column_file_keeps_its_empty_lines_as_nulls() {
    let data = csv_file("x\n0.5\n\n2\n");
    let out = stdout_of(&["-e", "x * 2", "--input", data.path().to_str().unwrap()]);
    assert_eq!(out, "result\n1\n\n4\n");
}

#[test]
fn every_math_tier_prints_identical_output() {
    let data = csv_file("x\n0.5\n2\n\n1e-310\n-1\n0\n700\n");
    let path = data.path().to_str().unwrap();
    let reference = stdout_of(&["-e", "ln(x) + exp(x / 1000)", "--input", path, "--isa", "scalar"]);
    assert_eq!(reference.lines().count(), 8, "{reference}");
    // The traced tier is compiled on demand: install it here so that it counts as supported.
    fusejit::internals::install_traced_math().expect("the traced tier compiles for this host");
    for tier in fusejit::Isa::ALL.into_iter().filter(|tier| tier.is_supported()) {
        let out = stdout_of(&["-e", "ln(x) + exp(x / 1000)", "--input", path, "--isa", tier.name()]);
        assert_eq!(out, reference, "tier {}", tier.name());
    }
    let output = fusejit().args(["-e", "1", "--isa", "bogus"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown ISA tier 'bogus'"));
}

#[test]
fn emit_asm_for_aarch64_shows_arm_code_from_the_same_plan() {
    let prices = csv_file("px\n1\n2\n");
    let path = prices.path().to_str().unwrap();
    let asm = stdout_of(&["-e", "dlog(px,1)*252", "--input", path, "--emit", "asm", "--target", "aarch64"]);
    assert!(asm.starts_with("; aarch64-unknown-linux-gnu code"), "{asm}");
    assert!(asm.contains("blr x") && asm.contains("; fusejit_ln_f64_block"), "{asm}");
    assert!(!asm.contains("userextname"), "{asm}");
    assert!(asm.contains("ldr ") && asm.contains("fmul"), "Arm instructions expected:\n{asm}");
    assert!(asm.contains("blr "), "the ln block is called through a register:\n{asm}");
    let clif = stdout_of(&["-e", "dlog(px,1)*252", "--input", path, "--emit", "clif", "--target", "aarch64"]);
    assert!(clif.starts_with("function "), "{clif}");
    let output = fusejit().args(["-e", "1", "--emit", "asm", "--target", "nonsense-arch"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
}

/// Σ values with Neumaier compensation: the test's own sums, independent of fusejit's.
fn compensated_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut compensation) = (0.0f64, 0.0f64);
    for x in values {
        let t = sum + x;
        compensation += if sum.abs() >= x.abs() { (sum - t) + x } else { (x - t) + sum };
        sum = t;
    }
    sum + compensation
}

fn ulps_apart(a: f64, b: f64) -> u64 {
    let key = |x: f64| {
        let bits = x.to_bits() as i64;
        if bits < 0 { i64::MIN - bits } else { bits }
    };
    key(a).abs_diff(key(b))
}

#[test]
fn zscore_matches_an_independent_compensated_computation_within_4_ulp() {
    // A price-like column with a large common offset and a few nulls.
    let x: Vec<Option<f64>> = (0..5000)
        .map(|i| (i % 97 != 13).then(|| 1000.0 + (i as f64 * 0.37).sin() * 7.0 + (i % 11) as f64 * 0.125))
        .collect();
    let mut text = String::from("x\n");
    for value in &x {
        match value {
            Some(value) => text.push_str(&format!("{value}\n")),
            None => text.push('\n'),
        }
    }
    let input = csv_file(&text);
    let path = input.path().to_str().unwrap();
    let out = stdout_of(&["-e", "(x-mean(x))/std(x)", "--input", path]);
    let valid: Vec<f64> = x.iter().flatten().copied().collect();
    let n = valid.len() as f64;
    let mean = compensated_sum(valid.iter().copied()) / n;
    let std = (compensated_sum(valid.iter().map(|v| (v - mean) * (v - mean))) / n).sqrt();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("result"));
    let mut worst = 0;
    for (row, (line, value)) in lines.zip(&x).enumerate() {
        match value {
            None => assert_eq!(line, "", "row {row} is null"),
            Some(value) => {
                let got: f64 = line.parse().unwrap_or_else(|_| panic!("row {row}: {line:?}"));
                let want = (value - mean) / std;
                worst = worst.max(ulps_apart(got, want));
                assert!(ulps_apart(got, want) <= 4, "row {row}: {got} vs {want}");
            }
        }
    }
    assert_eq!(out.lines().count(), x.len() + 1);
    eprintln!("zscore: worst row {worst} ULP from the compensated computation");

    // Two stages: the reductions of `x` in one pass, then the fused elementwise loop.
    let plan = stdout_of(&["-e", "(x-mean(x))/std(x)", "--input", path, "--emit", "ir"]);
    assert!(
        plan.contains("pass 1: reduce [mean -> %1`, std[ddof=0] -> %3`] over input `x` (read once)"),
        "{plan}"
    );
    assert!(plan.contains("pass 2: the fused loop:"), "{plan}");
    assert!(!plan.contains("pass 3"), "{plan}");
    // The machine code of every pass: a loop reducing ln(x), none for `std(x)` (x is read
    // where it lies), and the final loop.
    let asm = stdout_of(&["-e", "(x-mean(ln(x)))/std(x)", "--input", path, "--emit", "asm"]);
    let headings: Vec<&str> = asm.lines().filter(|line| line.starts_with("## ")).collect();
    assert_eq!(
        headings,
        [
            "## pass 1: the reducing loop",
            "## pass 2: reduces an input as it lies (no loop)",
            "## pass 3: the fused loop"
        ],
        "{asm}"
    );
}

#[test]
fn outputs_are_written_as_one_csv_column_each() {
    let prices = csv_file("px\n100\n101\n99.5\n");
    let path = prices.path().to_str().unwrap();
    let out = stdout_of(&[
        "-e",
        "r = dlog(px, 1)\nout ret = r\nout vol = abs(r) * 252\nout n = count(r)",
        "--input",
        path,
    ]);
    let r1 = 101f64.ln() - 100f64.ln();
    let r2 = 99.5f64.ln() - 101f64.ln();
    let expected = format!("ret,vol,n\n,,2\n{r1},{},\n{r2},{},\n", r1.abs() * 252.0, r2.abs() * 252.0);
    assert_eq!(out, expected);
    // `out` is a keyword only before a name: it stays usable as a column.
    let columns = csv_file("out\n1\n2\n");
    assert_eq!(stdout_of(&["-e", "out * 2", "--input", columns.path().to_str().unwrap()]), "result\n2\n4\n");
    let output = fusejit().args(["-e", "outt r = 1"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unexpected 'r'"));
}

#[test]
fn integer_columns_load_as_i64_and_print_without_a_decimal_point() {
    // `volume` is all integers (one null); `px` has a decimal point, so it stays f64.
    let data = csv_file("volume,px\n100,1.5\n-7,2\n,2.5\n9223372036854775807,3\n");
    let path = data.path().to_str().unwrap();
    assert_eq!(stdout_of(&["-e", "volume // 3", "--input", path]), "result\n33\n-3\n\n3074457345618258602\n");
    assert_eq!(stdout_of(&["-e", "volume % 3", "--input", path]), "result\n1\n2\n\n1\n");
    // 100 − 7 + i64::MAX does not fit in i64: the exact sum is null, never a wrapped number.
    assert_eq!(stdout_of(&["-e", "sum(volume)", "--input", path]), "result\n\n");
    assert_eq!(stdout_of(&["-e", "sum(volume * 0 + 2)", "--input", path]), "result\n6\n");
    assert_eq!(
        stdout_of(&["-e", "volume * px", "--input", path]),
        "result\n150\n-14\n\n27670116110564327000\n"
    );
    assert_eq!(
        stdout_of(&["-e", "volume / 2", "--input", path]),
        "result\n50\n-3.5\n\n4611686018427388000\n"
    );
    assert_eq!(stdout_of(&["-e", "count(volume) + k", "--input", path, "--set", "k=1"]), "result\n4\n");
}

#[test]
fn quoted_fields_crlf_and_one_column_files_read_as_csv_says() {
    // Quoted fields (a header with a comma and a line break), CRLF line ends, a null.
    let data = csv_file("x,\"y\",\"c,\nd\"\r\n1,\"2\",3\r\n\"4\",5.5,6\r\n,7,\r\n");
    let path = data.path().to_str().unwrap();
    assert_eq!(stdout_of(&["-e", "x + y", "--input", path]), "result\n3\n9.5\n\n");
    // One column: quoted values, CRLF, a null as an empty line, a quoted empty field as a
    // null, no final line break.
    let one = csv_file("px\r\n\"1.5\"\r\n\r\n\"2\"\r\n\"\"\r\n4");
    let path = one.path().to_str().unwrap();
    assert_eq!(stdout_of(&["-e", "px * 2", "--input", path]), "result\n3\n\n4\n\n8\n");
    // A quoted field may hold a line break in a one-column file too; it is not a number.
    let broken = csv_file("px\n\"1\n2\"\n");
    let output = fusejit().args(["-e", "px", "--input", broken.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a number"));
    // An unclosed quote and a stray comma are errors that say where.
    for (contents, message) in [("px\n\"1\n", "a quoted field is not closed"), ("px\n1\n2,3\n", "line 3")] {
        let file = csv_file(contents);
        let output = fusejit().args(["-e", "px", "--input", file.path().to_str().unwrap()]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{contents:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains(message), "{contents:?}");
    }
}

#[test]
fn parquet_and_arrow_ipc_files_round_trip_values_nulls_and_types() {
    let data = csv_file("px,volume,flag,sym\n100,10,true,a\n101.5,,false,b\n,30,,c\n99,40,true,d\n");
    let csv_path = data.path().to_str().unwrap();
    let directory = tempfile::tempdir().unwrap();
    let parquet = directory.path().join("data.parquet");
    let ipc = directory.path().join("data.arrow");
    let back = directory.path().join("back.csv");
    // CSV → Parquet: every output a column (the string column is skipped with a note).
    let output = fusejit()
        .args(["-e", "out px = px; out volume = volume; flag", "--input", csv_path])
        .args(["--output", parquet.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("note: skipped column 'sym'"));
    // Parquet → IPC → CSV, keeping names, nulls and types (i64 prints without a point).
    let to_ipc = ["-e", "out px = px; out volume = volume; result", "--input", parquet.to_str().unwrap()];
    let output = fusejit().args(to_ipc).args(["--output", ipc.to_str().unwrap()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let to_csv = ["-e", "out px = px; out volume = volume; result", "--input", ipc.to_str().unwrap()];
    let output = fusejit().args(to_csv).args(["--output", back.to_str().unwrap()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        std::fs::read_to_string(&back).unwrap(),
        "px,volume,result\n100,10,true\n101.5,,false\n,30,\n99,40,true\n"
    );
    // --columns reads only those; a program reading the skipped string column is an error
    // that names its type; --format overrides the extension.
    assert_eq!(
        stdout_of(&["-e", "volume * 2", "--input", parquet.to_str().unwrap(), "--columns", "volume"]),
        "result\n20\n\n60\n80\n"
    );
    let output = fusejit().args(["-e", "sym", "--input", csv_path]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("column 'sym' of"));
    let renamed_ipc = directory.path().join("data.bin");
    std::fs::copy(&ipc, &renamed_ipc).unwrap();
    assert_eq!(
        stdout_of(&["-e", "px", "--input", renamed_ipc.to_str().unwrap(), "--format", "ipc"]),
        "result\n100\n101.5\n\n99\n"
    );
}

/// IPC files with compressed buffers, as pyarrow writes Feather files by default (lz4) or on
/// request (zstd), read like uncompressed ones: an f32 column and a nullable f64 one.
#[test]
fn compressed_arrow_ipc_files_are_read() {
    use arrow_array::{Float32Array, Float64Array, RecordBatch};
    use arrow_ipc::CompressionType;
    use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
    use std::sync::Arc;
    let x32 = Float32Array::from(vec![1.5f32, 2.0, 4.0, 8.25]);
    let px = Float64Array::from(vec![Some(100.0), None, Some(102.0), Some(99.5)]);
    let batch = RecordBatch::try_from_iter([
        ("x32", Arc::new(x32) as arrow_array::ArrayRef),
        ("px", Arc::new(px) as arrow_array::ArrayRef),
    ])
    .unwrap();
    let directory = tempfile::tempdir().unwrap();
    for (name, compression) in
        [("lz4.feather", CompressionType::LZ4_FRAME), ("zstd.arrow", CompressionType::ZSTD)]
    {
        let path = directory.path().join(name);
        let options = IpcWriteOptions::default().try_with_compression(Some(compression)).unwrap();
        let mut writer =
            FileWriter::try_new_with_options(std::fs::File::create(&path).unwrap(), &batch.schema(), options)
                .unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        assert_eq!(
            stdout_of(&["-e", "out y = x32 * 2; px + 1", "--input", path.to_str().unwrap()]),
            "y,result\n3,101\n4,\n8,103\n16.5,100.5\n",
            "{name}"
        );
    }
}

/// A CSV of `rows` rows that spans several 4 MiB chunks: a random walk with nulls, an
/// integer column and a bool column, the text exactly as given.
fn large_csv(rows: usize) -> tempfile::NamedTempFile {
    let mut text = String::from("px,volume,flag\n");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut px = 100.0f64;
    for row in 0..rows {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        px *= 1.0 + ((state % 2001) as f64 - 1000.0) * 1e-6;
        let shown_px = if row % 97 == 13 { String::new() } else { format!("{px}") };
        let volume = if row % 89 == 5 { String::new() } else { format!("{}", state % 100_000) };
        let flag = if state.is_multiple_of(3) { "true" } else { "false" };
        text.push_str(&format!("{shown_px},{volume},{flag}\n"));
    }
    csv_file(&text)
}

#[test]
fn streaming_gives_the_whole_file_results_bit_for_bit_across_batch_edges() {
    // ~13 MB: four CSV chunks, and as Parquet four 65 536-row batches.
    let rows = 250_000;
    let data = large_csv(rows);
    let csv = data.path().to_str().unwrap();
    let directory = tempfile::tempdir().unwrap();
    let parquet = directory.path().join("data.parquet");
    let ipc = directory.path().join("data.arrow");
    for target in [&parquet, &ipc] {
        let program = "out px = px; out volume = volume; out flag = flag; 0";
        stdout_of(&["-e", program, "--input", csv, "--output", target.to_str().unwrap(), "--no-stream"]);
    }
    let programs = [
        // Row-local, lags reaching over a batch edge, a window (lookback 19), bools.
        "(px - 100) * 2 + volume",
        "dlog(px, 1) * 252",
        "out d = diff(px, 300); lag(volume, 70000) + lag(px, 3)",
        "mmax(dlog(px, 1), 20) - mmin(px, 5)",
        "where(flag && !lag(flag, 1), px, -px)",
    ];
    for input in [csv, parquet.to_str().unwrap(), ipc.to_str().unwrap()] {
        for program in programs {
            let streamed = stdout_of(&["-e", program, "--input", input]);
            let whole = stdout_of(&["-e", program, "--input", input, "--no-stream"]);
            assert_eq!(streamed.lines().count(), rows + 1, "{program} over {input}");
            assert!(streamed == whole, "{program} over {input}: streaming differs from the whole file");
        }
    }
    // The lag across the first batch edge, by value: row 65 536 + 2 of `lag(px, 3)` is row
    // 65 535 of px (a whole-file fact the streamed run must keep).
    let px = stdout_of(&["-e", "px", "--input", parquet.to_str().unwrap()]);
    let lagged = stdout_of(&["-e", "lag(px, 3)", "--input", parquet.to_str().unwrap()]);
    let (px, lagged): (Vec<&str>, Vec<&str>) = (px.lines().collect(), lagged.lines().collect());
    for row in [65_536 - 1, 65_536, 65_538, 131_072 + 1] {
        assert_eq!(lagged[row + 1], px[row + 1 - 3], "row {row}");
    }
    // Streamed Parquet and IPC outputs equal the whole-file ones when read back.
    for extension in ["parquet", "arrow"] {
        let streamed = directory.path().join(format!("streamed.{extension}"));
        let whole = directory.path().join(format!("whole.{extension}"));
        let program = "mavg(px, 1) + lag(px, 1)";
        stdout_of(&["-e", program, "--input", csv, "--output", streamed.to_str().unwrap()]);
        stdout_of(&["-e", program, "--input", csv, "--output", whole.to_str().unwrap(), "--no-stream"]);
        let read = |path: &std::path::Path| stdout_of(&["-e", "result", "--input", path.to_str().unwrap()]);
        assert_eq!(read(&streamed), read(&whole), "{extension}");
    }
}

#[test]
fn a_csv_column_whose_type_changes_after_the_first_chunk_is_an_error_when_streaming() {
    // Integers for the first 4 MiB, then a decimal: the whole file says f64.
    let mut text = String::from("n\n");
    while text.len() < 5 << 20 {
        text.push_str("123456\n");
    }
    text.push_str("1.5\n");
    let file = csv_file(&text);
    let path = file.path().to_str().unwrap();
    let output = fusejit().args(["-e", "n * 2", "--input", path]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("column 'n' was read as i64 from its first rows"), "{stderr}");
    assert!(stderr.contains("--no-stream"), "{stderr}");
    let whole = stdout_of(&["-e", "n * 2", "--input", path, "--no-stream"]);
    assert!(whole.starts_with("result\n246912\n"), "{}", &whole[..40]);
    assert!(whole.ends_with("\n246912\n3\n"));
    // A whole-column program reads the whole file, so it needs no flag.
    assert_eq!(stdout_of(&["-e", "max(n)", "--input", path]), "result\n123456\n");
}

#[test]
fn quoted_fields_with_line_breaks_across_chunk_edges_read_the_same_streamed_or_whole() {
    // ~6 MB: every record has a quoted text field holding a comma, a doubled quote and a line
    // break, so chunk edges must be found outside quotes.
    let mut text = String::from("note,px\r\n");
    let mut row = 0;
    while text.len() < 6 << 20 {
        text.push_str(&format!("\"row {row}, said \"\"hi\"\"\nbye\",{}\r\n", row as f64 * 0.5));
        row += 1;
    }
    let file = csv_file(&text);
    let path = file.path().to_str().unwrap();
    let streamed = stdout_of(&["-e", "px * 2 + lag(px, 1)", "--input", path]);
    let whole = stdout_of(&["-e", "px * 2 + lag(px, 1)", "--input", path, "--no-stream"]);
    assert!(streamed == whole, "streaming differs from the whole file");
    let lines: Vec<&str> = streamed.lines().collect();
    assert_eq!(lines.len(), row + 1);
    assert_eq!(lines[1], "");
    for r in [1usize, 1000, row / 2, row - 1] {
        assert_eq!(lines[r + 1], format!("{}", r as f64 * 0.5 * 2.0 + (r - 1) as f64 * 0.5), "row {r}");
    }
}

#[test]
fn every_thread_count_prints_identical_output_and_bad_counts_are_errors() {
    // 300 000 rows, so that the evaluation is split between threads (whole-file: the
    // z-score's reductions and the windows need every row).
    let mut text = String::from("x\n");
    for i in 0..300_000u32 {
        if i % 97 == 5 {
            text.push('\n');
        } else {
            text.push_str(&format!("{}\n", 100.0 + (f64::from(i) * 0.01).sin()));
        }
    }
    let data = csv_file(&text);
    let path = data.path().to_str().unwrap();
    let program = "(dlog(x, 1) - mean(dlog(x, 1))) / std(x) + mmax(x, 30) - mavg(lag(x, 3), 20)";
    let reference = stdout_of(&["-e", program, "--input", path, "--threads", "1"]);
    assert_eq!(reference.lines().count(), 300_001);
    for threads in ["2", "3", "7"] {
        let out = stdout_of(&["-e", program, "--input", path, "--threads", threads]);
        assert!(out == reference, "--threads {threads} printed other output");
    }
    let with_environment =
        fusejit().env("FUSEJIT_THREADS", "3").args(["-e", program, "--input", path]).output().unwrap();
    assert!(String::from_utf8(with_environment.stdout).unwrap() == reference, "FUSEJIT_THREADS=3");
    for bad in ["0", "-1", "many", "257"] {
        let output = fusejit().args(["-e", "1", &format!("--threads={bad}")]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "--threads {bad}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("--threads: '{bad}' is not a thread count")), "{stderr}");
    }
    let output = fusejit().env("FUSEJIT_THREADS", "lots").args(["-e", "1"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("FUSEJIT_THREADS: 'lots' is not a thread count")
    );
}
