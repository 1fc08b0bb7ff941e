//! Scripted REPL sessions: through a pipe (script mode) and through a pseudo-terminal (the
//! line editor, with tab completion), asserting on what a user sees.

use assert_cmd::Command;
use std::io::Write;

fn prices() -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    file.write_all(b"px\n100\n101\n99.5\n100.25\n102\n").unwrap();
    file
}

fn session(script: &str) -> (String, String, Option<i32>) {
    let output = Command::cargo_bin("fusejit").unwrap().write_stdin(script.to_string()).output().unwrap();
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
        output.status.code(),
    )
}

#[test]
fn load_evaluate_keep_list_and_show_machine_code() {
    let file = prices();
    let path = file.path().to_str().unwrap();
    let (out, err, code) = session(&format!(":load {path}\nr = dlog(px,1)*252\n:vars\n:asm r*2\n:quit\n"));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("loaded 1 column(s)"), "{out}");
    assert!(out.contains("f64[] × 5 rows, 1 null"), "{out}");
    assert!(out.contains("         0  null\n"), "{out}");
    let second = (101f64.ln() - 100f64.ln()) * 252.0;
    assert!(out.contains(&format!("         1  {second}\n")), "{out}");
    assert!(out.contains("kept as column 'r'"), "{out}");
    assert!(out.contains("  r            f64[] × 5 rows, 1 null"), "{out}");
    assert!(out.contains("block0:") && out.contains("ret"), "machine code expected:\n{out}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn an_error_shows_the_caret_and_the_session_goes_on() {
    let file = prices();
    let path = file.path().to_str().unwrap();
    let (out, err, code) = session(&format!(
        ":load {path}\ndlg(px, 1)\n:frobnicate\n:set a = 2\npx * a\n:ir px * a\n:time px * a\n"
    ));
    assert_eq!(code, Some(0));
    assert!(err.contains("1 │ dlg(px, 1)\n  │ ^^^"), "{err}");
    assert!(err.contains("did you mean 'dlog'?"), "{err}");
    assert!(err.contains("unknown command :frobnicate"), "{err}");
    assert!(out.contains("a = 2"), "{out}");
    assert!(out.contains("         0  200\n"), "{out}");
    assert!(out.contains("stage 0: fused row loop"), "{out}");
    assert!(out.contains("ns/row"), "{out}");
}

#[test]
fn generated_walks_scalars_and_saved_csv() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("out.csv");
    let (out, err, code) = session(&format!(
        ":gen w = walk(1000)\n:set k = 3\nlw = ln(w) * k\n:vars\n:save {} lw\n:help\n",
        saved.display()
    ));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("w: f64 × 1000 rows"), "{out}");
    assert!(out.contains("f64[] × 1000 rows, 0 null"), "{out}");
    assert!(out.contains("min ") && out.contains("mean ") && out.contains("max "), "{out}");
    assert!(out.contains("  k            i64 = 3"), "{out}");
    assert!(out.contains(":load prices.csv"), "the help lists commands:\n{out}");
    let csv = std::fs::read_to_string(saved).unwrap();
    assert_eq!(csv.lines().count(), 1001);
    assert!(csv.starts_with("lw\n"));
    let first: f64 = csv.lines().nth(1).unwrap().parse().unwrap();
    assert!((first - 3.0 * 100f64.ln()).abs() < 0.1, "{first}");
}

/// The line editor in a pseudo-terminal (util-linux `script`): the prompt shows the loaded
/// columns, and Tab completes a function name.
#[test]
fn a_terminal_session_prompts_and_completes() {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        assert!(std::env::var("CI").is_err(), "CI must have `script` (util-linux) for the terminal test");
        return;
    }
    let file = prices();
    let binary = assert_cmd::cargo::cargo_bin("fusejit");
    let home = tempfile::tempdir().unwrap();
    // Keys are typed one line at a time, as a person would: input typed ahead of the line
    // editor's raw mode is discarded by the terminal when it switches modes.
    let lines =
        [format!(":load {}\r", file.path().display()), "dlo\t(px, 1)\r".to_string(), ":quit\r".to_string()];
    let mut child = std::process::Command::new("script")
        .args(["-qec", binary.to_str().unwrap(), "/dev/null"])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path())
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for line in &lines {
        std::thread::sleep(std::time::Duration::from_millis(700));
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(700));
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(screen.contains("fusejit[0]> "), "{screen}");
    assert!(screen.contains("fusejit[1]> "), "the prompt counts loaded columns:\n{screen}");
    assert!(screen.contains("fusejit[1]> dlog"), "Tab completed dlo to dlog:\n{screen}");
    assert!(screen.contains("f64[] × 5 rows, 1 null"), "{screen}");
    assert!(home.path().join("fusejit/history").exists(), "history is saved");
}

#[test]
fn outputs_are_previewed_and_kept_and_reductions_and_windows_evaluate() {
    let file = prices();
    let script = format!(
        ":load {}\nout r = dlog(px, 1); out vol = mstd(r, 2)\n:vars\n(px - mean(px)) / std(px)\n:ir mavg(px, 2)\n",
        file.path().display()
    );
    let (stdout, stderr, code) = session(&script);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("r:\n") && stdout.contains("vol:\n"), "{stdout}");
    assert!(stdout.contains("kept as column 'r'") && stdout.contains("kept as column 'vol'"), "{stdout}");
    assert!(stdout.contains("  vol          f64[]"), "{stdout}");
    assert!(stdout.contains("block call scan mavg[2]"), "{stdout}");
}

#[test]
fn plot_draws_a_braille_chart_and_writes_an_svg_and_load_reads_parquet_it_saved() {
    let directory = tempfile::tempdir().unwrap();
    let svg = directory.path().join("chart.svg");
    let parquet = directory.path().join("walk.parquet");
    let script = format!(
        ":gen px = walk(500)\n:plot px\n:plot where(px > 100, px, null) > {}\n:save {} px\n:load {}\n:plot px > 100\n",
        svg.display(),
        parquet.display(),
        parquet.display()
    );
    let (stdout, stderr, status) = session(&script);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    // Two terminal charts: each line starts its plot area at "┤" and ends with the row count.
    assert_eq!(stdout.matches("rows 0..500").count(), 2, "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|line| line.contains('┤') && line.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)))
    );
    let document = std::fs::read_to_string(&svg).unwrap();
    assert!(document.starts_with("<svg") && document.contains("<polyline"));
    assert!(stdout.contains("loaded 1 column(s)"), "{stdout}");
    assert!(stdout.contains("px (f64 500 rows, 0 null)"), "{stdout}");
}

#[test]
fn set_threads_changes_the_thread_count_and_keeps_results() {
    let (out, err, code) = session(
        ":gen w = walk(200000)\n:set threads = 1\nr1 = mstd(dlog(w, 1), 20)\n:set threads = 2\n\
         r2 = mstd(dlog(w, 1), 20)\nsame = sum(where(r1 == r2, 1, 0)) + count(r1) - count(r2)\n\
         :time w * 2\n:set threads = 0\n:vars\n",
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("threads = 1") && out.contains("threads = 2"), "{out}");
    // Every valid row equal, and the same rows null.
    assert!(out.contains("         0  199999\n"), "the two thread counts differ:\n{out}");
    assert!(out.contains("2 threads)"), "{out}");
    assert!(err.contains("'0' is not a thread count"), "{err}");
    // `threads` is a setting, never a scalar.
    assert!(!out.contains("threads      i64"), "{out}");
}
