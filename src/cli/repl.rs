//! The interactive REPL: load data, type programs, see previews, stages and timings.
//!
//! On a terminal it uses rustyline: line editing, persistent history in the user's data
//! directory, and tab completion of names, functions and `:commands`. When standard input is
//! not a terminal, the lines run as a script with no prompt, so sessions can be piped and
//! tested.

use super::files;
use super::plot;
use fusejit::{Binding, Bindings, Column, ColumnValues, Engine, Scalar};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper, history::DefaultHistory};
use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Write};
use std::rc::Rc;
use std::time::Instant;

const COMMANDS: &[(&str, &str)] = &[
    (":load", ":load prices.csv        load every column of a CSV, Parquet or Arrow IPC file"),
    (":gen", ":gen px = walk(1000000)  make a random positive price walk column"),
    (":set", ":set a = 252             bind a scalar (a number or true/false); :set threads = 2"),
    (":vars", ":vars                   list columns and scalars"),
    (":save", ":save out.csv r px      write columns to CSV/Parquet/Arrow (all without names)"),
    (":ir", ":ir dlog(px,1)*a         show the fused loop plan and the IR"),
    (":clif", ":clif dlog(px,1)*a       show the Cranelift IR"),
    (":asm", ":asm dlog(px,1)*a        show the machine code"),
    (":time", ":time dlog(px,1)*a       run repeatedly, report ns/row (min, median)"),
    (":plot", ":plot px [> chart.svg]   draw a column as a line chart (nulls are gaps)"),
    (":help", ":help                   this list"),
    (":quit", ":quit                   leave (also Ctrl-D)"),
];

/// A column the session owns, by name.
struct Stored {
    name: String,
    column: Column,
}

impl Stored {
    fn len(&self) -> usize {
        self.column.len()
    }
}

struct Session {
    engine: Engine,
    columns: Vec<Stored>,
    scalars: Vec<(String, Scalar)>,
    color: bool,
    /// Names for completion, shared with the line editor's helper.
    names: Rc<RefCell<Vec<String>>>,
}

/// Runs the REPL until `:quit` or end of input. Returns the process exit status.
pub fn run(engine: Engine) -> std::process::ExitCode {
    let interactive = std::io::stdin().is_terminal();
    let names = Rc::new(RefCell::new(Vec::new()));
    let mut session = Session { engine, columns: Vec::new(), scalars: Vec::new(), color: interactive, names };
    session.refresh_names();
    if interactive {
        session.interactive();
    } else {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            if !session.handle_guarded(&line) {
                break;
            }
        }
    }
    std::process::ExitCode::SUCCESS
}

impl Session {
    fn interactive(&mut self) {
        let config = rustyline::Config::builder().auto_add_history(true).build();
        let Ok(mut editor) = Editor::<ReplHelper, DefaultHistory>::with_config(config) else {
            eprintln!("error: cannot start the line editor");
            return;
        };
        editor.set_helper(Some(ReplHelper { names: self.names.clone() }));
        let history = history_path();
        if let Some(path) = &history {
            let _ = editor.load_history(path);
        }
        println!("fusejit {} — :help lists commands, Ctrl-D leaves", env!("CARGO_PKG_VERSION"));
        loop {
            let prompt = format!("fusejit[{}]> ", self.columns.len());
            match editor.readline(&prompt) {
                Ok(line) => {
                    if !self.handle_guarded(&line) {
                        break;
                    }
                }
                Err(ReadlineError::Interrupted) => continue,
                Err(_) => break,
            }
        }
        if let Some(path) = &history {
            if let Some(parent) = path.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let _ = editor.save_history(path);
        }
    }

    /// Handles one line; a panic in the library is reported as a bug and the session goes on.
    /// Returns false when the session should end.
    fn handle_guarded(&mut self, line: &str) -> bool {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(line))) {
            Ok(keep_going) => keep_going,
            Err(_) => {
                eprintln!("internal error (a bug in fusejit, please report it): the line was not evaluated");
                true
            }
        }
    }

    fn handle(&mut self, line: &str) -> bool {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return true;
        }
        let (command, rest) = match line.split_once(char::is_whitespace) {
            Some((command, rest)) => (command, rest.trim()),
            None => (line, ""),
        };
        let outcome = match command {
            ":quit" | ":q" | ":exit" => return false,
            ":help" => {
                for (_, help) in COMMANDS {
                    println!("  {help}");
                }
                println!("  name = expr             evaluate and keep the result as a column");
                println!("  expr                    evaluate and preview, e.g. dlog(px, 1) * 252");
                Ok(())
            }
            ":load" => self.load(rest),
            ":gen" => self.generate(rest),
            ":set" => self.set(rest),
            ":vars" => {
                self.vars();
                Ok(())
            }
            ":save" => self.save(rest),
            ":ir" | ":clif" | ":asm" => self.show(command, rest),
            ":time" => self.time(rest),
            ":plot" => self.plot(rest),
            other if other.starts_with(':') => Err(format!("unknown command {other}; :help lists them")),
            _ => self.evaluate(line),
        };
        if let Err(message) = outcome {
            eprintln!("{}", message.trim_end());
        }
        self.refresh_names();
        true
    }

    fn refresh_names(&self) {
        let mut names: Vec<String> = self.columns.iter().map(|column| column.name.clone()).collect();
        names.extend(self.scalars.iter().map(|(name, _)| name.clone()));
        names.extend(fusejit::function_names().map(str::to_string));
        names.extend(COMMANDS.iter().map(|(command, _)| command.to_string()));
        *self.names.borrow_mut() = names;
    }

    fn bindings(&self) -> Bindings<'_> {
        let mut bindings = Bindings::new();
        for stored in &self.columns {
            bindings.bind(stored.name.clone(), Binding::Column(stored.column.as_column_ref()));
        }
        for (name, value) in &self.scalars {
            bindings.scalar(name.clone(), *value);
        }
        bindings
    }

    fn render(&self, error: fusejit::Error) -> String {
        error.render("<input>", self.color)
    }

    fn store(&mut self, name: &str, column: Column) {
        let stored = Stored { name: name.to_string(), column };
        self.scalars.retain(|(existing, _)| existing != name);
        match self.columns.iter_mut().find(|existing| existing.name == name) {
            Some(existing) => *existing = stored,
            None => self.columns.push(stored),
        }
    }

    fn load(&mut self, path: &str) -> Result<(), String> {
        if path.is_empty() {
            return Err("usage: :load FILE.csv|FILE.parquet|FILE.arrow".to_string());
        }
        let path = std::path::Path::new(path);
        let loaded = files::load(path, files::Format::of(path, None), None)?;
        let mut names = Vec::new();
        for loaded in loaded.columns {
            let column = &loaded.column;
            names.push(format!(
                "{} ({} {} rows, {} null)",
                loaded.name,
                column.elem(),
                column.len(),
                column.null_count
            ));
            self.store(&loaded.name, loaded.column);
        }
        println!("loaded {} column(s) from {}: {}", names.len(), path.display(), names.join(", "));
        for skipped in loaded.skipped {
            println!("skipped column '{}': {}", skipped.name, skipped.reason);
        }
        Ok(())
    }

    fn generate(&mut self, rest: &str) -> Result<(), String> {
        let usage = || "usage: :gen NAME = walk(N)".to_string();
        let (name, call) = rest.split_once('=').ok_or_else(usage)?;
        let (name, call) = (name.trim(), call.trim());
        let count = call
            .strip_prefix("walk(")
            .and_then(|rest| rest.strip_suffix(')'))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .ok_or_else(usage)?;
        if name.is_empty() || count > 100_000_000 {
            return Err(usage() + " (N at most 100000000)");
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut price = 100.0f64;
        let values: Vec<f64> = (0..count)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let step = ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.02;
                price *= 1.0 + step;
                price
            })
            .collect();
        self.store(name, Column { values: ColumnValues::F64(values), validity: None, null_count: 0 });
        println!("{name}: f64 × {count} rows, a random walk from 100");
        Ok(())
    }

    fn set(&mut self, rest: &str) -> Result<(), String> {
        let (name, value) = rest.split_once('=').ok_or("usage: :set NAME = VALUE")?;
        let (name, value) = (name.trim(), value.trim());
        if name == "threads" {
            // A setting, not a scalar: a new engine (its compile cache starts empty).
            let threads = super::parse_threads(value)?;
            let config = self.engine.config().clone().with_threads(Some(threads));
            self.engine = Engine::with_config(config).map_err(|error| error.to_string())?;
            println!("threads = {threads} (results are the same bits on any thread count)");
            return Ok(());
        }
        let scalar = super::csv_read::parse_scalar(value)
            .ok_or_else(|| format!("'{value}' is not a number or true/false"))?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("'{name}' is not a name"));
        }
        self.columns.retain(|column| column.name != name);
        match self.scalars.iter_mut().find(|(existing, _)| existing == name) {
            Some(entry) => entry.1 = scalar,
            None => self.scalars.push((name.to_string(), scalar)),
        }
        println!("{name} = {scalar}");
        Ok(())
    }

    fn vars(&self) {
        if self.columns.is_empty() && self.scalars.is_empty() {
            println!("nothing bound yet: :load a CSV, :gen a walk or :set a scalar");
        }
        for stored in &self.columns {
            let column = &stored.column;
            println!(
                "  {:<12} {}[] × {} rows, {} null",
                stored.name,
                column.elem(),
                column.len(),
                column.null_count
            );
        }
        for (name, value) in &self.scalars {
            println!("  {name:<12} {} = {value}", value.elem());
        }
    }

    fn save(&self, rest: &str) -> Result<(), String> {
        let mut words = rest.split_whitespace();
        let path = words.next().ok_or("usage: :save FILE.csv [NAME...]")?;
        let wanted: Vec<&str> = words.collect();
        let columns: Vec<&Stored> = if wanted.is_empty() {
            self.columns.iter().collect()
        } else {
            wanted
                .iter()
                .map(|name| {
                    self.columns
                        .iter()
                        .find(|column| column.name == *name)
                        .ok_or(format!("no column '{name}'"))
                })
                .collect::<Result<_, _>>()?
        };
        let rows = columns.first().map_or(0, |column| column.len());
        if let Some(other) = columns.iter().find(|column| column.len() != rows) {
            return Err(format!("column '{}' has {} rows, the first has {rows}", other.name, other.len()));
        }
        let outputs: Vec<(String, Column)> =
            columns.iter().map(|stored| (stored.name.clone(), stored.column.clone())).collect();
        let target = std::path::Path::new(path);
        files::save(target, files::Format::of(target, None), outputs)?;
        println!("wrote {} column(s), {rows} rows to {path}", columns.len());
        Ok(())
    }

    fn show(&self, command: &str, program: &str) -> Result<(), String> {
        let kernel = self.engine.compile(program).map_err(|error| self.render(error.into()))?;
        let bindings = self.bindings();
        let text = match command {
            ":ir" => kernel.plan_text(&bindings),
            ":clif" => kernel.clif_text(&bindings),
            _ => kernel.asm_text(&bindings),
        }
        .map_err(|error| self.render(error))?;
        print!("{text}");
        Ok(())
    }

    fn time(&self, program: &str) -> Result<(), String> {
        let kernel = self.engine.compile(program).map_err(|error| self.render(error.into()))?;
        let bindings = self.bindings();
        let first = kernel.eval(&bindings).map_err(|error| self.render(error))?;
        let rows = first.len().max(1);
        let budget = Instant::now();
        let mut samples = Vec::new();
        while samples.len() < 5 || (samples.len() < 200 && budget.elapsed().as_secs_f64() < 1.0) {
            let start = Instant::now();
            let _ = kernel.eval(&bindings);
            samples.push(start.elapsed().as_nanos() as f64 / rows as f64);
        }
        samples.sort_by(f64::total_cmp);
        println!(
            "{} runs over {rows} rows: min {:.3} ns/row, median {:.3} ns/row (math tier {}, {} thread{})",
            samples.len(),
            samples[0],
            samples[samples.len() / 2],
            self.engine.isa().name(),
            self.engine.threads(),
            if self.engine.threads() == 1 { "" } else { "s" }
        );
        Ok(())
    }

    fn evaluate(&mut self, line: &str) -> Result<(), String> {
        // `name = expr` alone keeps the result as a column; anything else is a program.
        let parsed = fusejit::internals::syntax::parse_program(line).map_err(|diagnostic| {
            fusejit::CompileError::new(diagnostic, line).render("<input>", self.color)
        })?;
        let has_outputs = parsed.statements.iter().any(|statement| {
            matches!(statement, fusejit::internals::syntax::ast::Statement::Let { output: true, .. })
        });
        if has_outputs && parsed.statements.len() > 1 {
            return self.evaluate_outputs(line);
        }
        let (keep, source) = match parsed.statements.as_slice() {
            [fusejit::internals::syntax::ast::Statement::Let { name, value, .. }] => {
                (Some(name.text.clone()), &line[value.span.start..value.span.end])
            }
            _ => (None, line),
        };
        // The first evaluation compiles for these bindings; the second is timed as the run.
        let compile_start = Instant::now();
        let kernel = self.engine.compile(source).map_err(|error| self.render(error.into()))?;
        let bindings = self.bindings();
        kernel.eval(&bindings).map_err(|error| self.render(error))?;
        let compile_time = compile_start.elapsed();
        let run_start = Instant::now();
        let result = kernel.eval(&bindings).map_err(|error| self.render(error))?;
        let run_time = run_start.elapsed();
        drop(bindings);
        preview(&result, compile_time.as_secs_f64() * 1e3, run_time.as_secs_f64() * 1e3);
        if let Some(name) = keep {
            println!("kept as column '{name}'");
            self.store(&name, result);
        }
        Ok(())
    }
}

impl Session {
    /// `:plot EXPR` draws the column in the terminal (braille, as wide as `$COLUMNS` says);
    /// `:plot EXPR > FILE.svg` writes an SVG instead.
    fn plot(&mut self, rest: &str) -> Result<(), String> {
        let (program, target) = match rest.rsplit_once('>') {
            Some((program, file)) if file.trim().ends_with(".svg") => (program.trim(), Some(file.trim())),
            _ => (rest.trim(), None),
        };
        if program.is_empty() {
            return Err("usage: :plot EXPR [> FILE.svg]".to_string());
        }
        let kernel = self.engine.compile(program).map_err(|error| self.render(error.into()))?;
        let column = kernel.eval(&self.bindings()).map_err(|error| self.render(error))?;
        let values: Vec<Option<f64>> = (0..column.len())
            .map(|row| {
                column.get(row).map(|value| match value {
                    Scalar::F64(v) => v,
                    Scalar::F32(v) => f64::from(v),
                    Scalar::I64(v) => v as f64,
                    Scalar::I32(v) => f64::from(v),
                    Scalar::Bool(v) => f64::from(u8::from(v)),
                    _ => f64::NAN,
                })
            })
            .collect();
        match target {
            Some(file) => {
                std::fs::write(file, plot::svg(&values, program))
                    .map_err(|error| format!("cannot write {file}: {error}"))?;
                println!("wrote a chart of {} rows to {file}", values.len());
            }
            None => {
                let width =
                    std::env::var("COLUMNS").ok().and_then(|text| text.parse::<usize>().ok()).unwrap_or(80);
                print!("{}", plot::braille(&values, width.saturating_sub(24).max(20), 12));
            }
        }
        Ok(())
    }

    /// A program with `out` statements: every output is previewed and kept as a column.
    fn evaluate_outputs(&mut self, line: &str) -> Result<(), String> {
        let compile_start = Instant::now();
        let kernel = self.engine.compile(line).map_err(|error| self.render(error.into()))?;
        let bindings = self.bindings();
        kernel.eval_outputs(&bindings).map_err(|error| self.render(error))?;
        let compile_time = compile_start.elapsed();
        let run_start = Instant::now();
        let outputs = kernel.eval_outputs(&bindings).map_err(|error| self.render(error))?;
        let run_time = run_start.elapsed();
        drop(bindings);
        for (name, column) in outputs {
            println!("{name}:");
            preview(&column, compile_time.as_secs_f64() * 1e3, run_time.as_secs_f64() * 1e3);
            println!("kept as column '{name}'");
            self.store(&name, column);
        }
        Ok(())
    }
}

/// Type, length, null count, head and tail, min/mean/max of the valid rows, and timings.
fn preview(column: &Column, compile_ms: f64, run_ms: f64) {
    let rows = column.len();
    let kind = if rows == 1 { format!("{}", column.elem()) } else { format!("{}[]", column.elem()) };
    println!(
        "{kind} × {rows} rows, {} null   (compile+first run {compile_ms:.3} ms, run {run_ms:.3} ms)",
        column.null_count
    );
    let show = |row: usize| match column.get(row) {
        Some(value) => println!("  {row:>8}  {value}"),
        None => println!("  {row:>8}  null"),
    };
    if rows <= 10 {
        (0..rows).for_each(show);
    } else {
        (0..5).for_each(show);
        println!("  {:>8}  …", "");
        (rows - 5..rows).for_each(show);
    }
    let valid: Vec<f64> = (0..rows)
        .filter_map(|row| match column.get(row) {
            Some(Scalar::F64(v)) => Some(v),
            Some(Scalar::F32(v)) => Some(f64::from(v)),
            Some(Scalar::I64(v)) => Some(v as f64),
            Some(Scalar::I32(v)) => Some(f64::from(v)),
            _ => None,
        })
        .collect();
    if !valid.is_empty() {
        let min = valid.iter().copied().fold(f64::INFINITY, f64::min);
        let max = valid.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = valid.iter().sum::<f64>() / valid.len() as f64;
        println!("  min {min}  mean {mean}  max {max}  ({} valid rows)", valid.len());
    }
    let _ = std::io::stdout().flush();
}

/// `$XDG_DATA_HOME/fusejit/history`, else `$HOME/.local/share/fusejit/history`.
fn history_path() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME").map(std::path::PathBuf::from).or_else(|| {
        std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".local/share"))
    })?;
    Some(base.join("fusejit").join("history"))
}

/// Completion of names, functions and `:commands` for the line editor.
struct ReplHelper {
    names: Rc<RefCell<Vec<String>>>,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |index| index + 1);
        let word = &before[start..];
        if word.is_empty() {
            return Ok((pos, Vec::new()));
        }
        let mut candidates: Vec<Pair> = self
            .names
            .borrow()
            .iter()
            .filter(|name| name.starts_with(word))
            .map(|name| Pair { display: name.clone(), replacement: name.clone() })
            .collect();
        candidates.sort_by(|a, b| a.display.cmp(&b.display));
        candidates.dedup_by(|a, b| a.display == b.display);
        Ok((start, candidates))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}
impl Highlighter for ReplHelper {}
impl Validator for ReplHelper {}
impl Helper for ReplHelper {}
