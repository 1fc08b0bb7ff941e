//! The non-interactive command line: `fusejit -e 'PROGRAM' [--input F.csv]... [--set N=V]...
//! [--output F.csv] [--emit ir]`, with the exit-status contract of SPEC §5.

pub mod csv_read;
pub mod csv_write;
pub mod files;
pub mod plot;
pub mod progress;
pub mod repl;
pub mod stream;

use clap::{Parser, ValueEnum};
use files::LoadedColumn;
use fusejit::{Binding, Bindings, Dependence, Engine, Error, Scalar, Schema, Shape, Type};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// The name diagnostics give the program text of `-e`.
const PROGRAM_FILE_NAME: &str = "<program>";

#[derive(Debug, Parser)]
#[command(
    name = "fusejit",
    version,
    about = "Compile array expressions over named columns into one fused loop"
)]
pub struct Args {
    /// The program to run, e.g. 'dlog(px, 1) * 252'. Without it, fusejit starts the REPL (on a
    /// pipe, it runs the piped lines as a script).
    #[arg(short = 'e', long = "expr", value_name = "PROGRAM", allow_hyphen_values = true)]
    pub program: Option<String>,
    /// A data file whose columns become inputs: CSV with a header row (empty field = null),
    /// Parquet, or Arrow IPC (.arrow, .feather, .ipc), by extension.
    #[arg(long = "input", value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
    /// Reads only these columns of the input files, e.g. `--columns px,volume`.
    #[arg(long = "columns", value_name = "NAME,...", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// The format of every --input and --output file, whatever their extensions.
    #[arg(long = "format", value_enum)]
    pub format: Option<files::Format>,
    /// Binds a scalar input: a number (`a=252`) or a bool (`flag=true`).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub sets: Vec<String>,
    /// Writes the outputs to this file (CSV, Parquet or Arrow IPC, by extension) instead of
    /// CSV on standard output.
    #[arg(long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Prints a stage of the compiled program instead of running it.
    #[arg(long = "emit", value_enum)]
    pub emit: Option<Emit>,
    /// With --emit clif|asm: show the code for another target, e.g. `aarch64`.
    #[arg(long = "target", value_name = "aarch64|TRIPLE")]
    pub target: Option<String>,
    /// Reads the whole input before evaluating, even when the program could stream it (one
    /// input file, a row-local or lookback program): CSV column types then come from every
    /// row rather than the first chunk (4 MiB).
    #[arg(long = "no-stream")]
    pub no_stream: bool,
    /// Forces the tier of the vectorised ln/exp (every tier gives the same bits).
    #[arg(long = "isa", value_name = "auto|avx512|avx2|sse|traced|scalar", default_value = "auto")]
    pub isa: String,
    /// Threads per evaluation (default: FUSEJIT_THREADS, else every core). Every thread
    /// count gives the same bits.
    #[arg(long = "threads", value_name = "N")]
    pub threads: Option<String>,
}

/// The engine configuration `--isa` and `--threads` ask for.
fn engine_config(args: &Args) -> Result<fusejit::EngineConfig, UserError> {
    let isa = fusejit::Isa::parse(&args.isa).map_err(|error| UserError(format!("error: --isa: {error}")))?;
    let threads = match &args.threads {
        None => None,
        Some(text) => {
            Some(parse_threads(text).map_err(|error| UserError(format!("error: --threads: {error}")))?)
        }
    };
    Ok(fusejit::EngineConfig::default().with_isa(isa).with_threads(threads))
}

/// A thread count from 1 to `EngineConfig::MAX_THREADS`, or why not.
pub(crate) fn parse_threads(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(count) if (1..=fusejit::EngineConfig::MAX_THREADS).contains(&count) => Ok(count),
        _ => Err(format!(
            "'{text}' is not a thread count; expected a whole number from 1 to {}",
            fusejit::EngineConfig::MAX_THREADS
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// The fused loop plan, then the IR after checking and after each optimisation pass.
    Ir,
    /// The Cranelift IR of the native kernel.
    Clif,
    /// The machine code of the native kernel (Cranelift's disassembly).
    Asm,
}

/// A failure the user can fix: printed on stderr, exit status 1.
#[derive(Debug)]
pub struct UserError(pub String);

pub fn run(args: Args) -> Result<(), UserError> {
    let config = engine_config(&args)?;
    let Some(program) = args.program else {
        let engine = Engine::with_config(config).map_err(|error| UserError(format!("error: {error}")))?;
        repl::run(engine);
        return Ok(());
    };
    let mut scalars: Vec<(String, Scalar)> = Vec::new();
    for set in &args.sets {
        let (name, value) = parse_set(set)?;
        if scalars.iter().any(|(n, _)| *n == name) {
            return Err(UserError(format!("--set {name}: '{name}' is already bound")));
        }
        scalars.push((name, value));
    }
    let color = std::io::stderr().is_terminal();
    let render = |error: Error| error.render(PROGRAM_FILE_NAME, color);
    let engine = Engine::with_config(config).map_err(|error| UserError(format!("error: {error}")))?;
    let kernel = engine.compile(&program).map_err(|error| UserError(render(error.into())))?;
    let only = (!args.columns.is_empty()).then_some(args.columns.as_slice());
    // Only the columns the program reads are decoded (the others get a notice if skipped).
    let needed: Vec<String> = kernel.input_names().to_vec();

    let mut sources = Vec::with_capacity(args.inputs.len());
    for path in &args.inputs {
        let format = files::Format::of(path, args.format);
        let source =
            files::open(path, format, only, Some(&needed)).map_err(|error| UserError(error_line(error)))?;
        for skipped in &source.skipped {
            if needed.contains(&skipped.name) {
                return Err(UserError(format!(
                    "error: column '{}' of {} cannot be read: {}",
                    skipped.name,
                    path.display(),
                    skipped.reason
                )));
            }
            eprintln!("note: skipped column '{}' of {}: {}", skipped.name, path.display(), skipped.reason);
        }
        sources.push((path.clone(), source));
    }
    let mut schema = Schema::new();
    for (path, source) in &sources {
        for (name, elem) in &source.columns {
            if schema.get(name).is_some() {
                return Err(UserError(format!(
                    "column '{name}' of {} is already loaded from an earlier --input",
                    path.display()
                )));
            }
            schema.insert(name.clone(), Type::column(*elem));
        }
    }
    for (name, value) in &scalars {
        if schema.get(name).is_some() {
            return Err(UserError(format!("--set {name}: '{name}' is already bound")));
        }
        schema.insert(name.clone(), Type::scalar(value.elem()));
    }

    // One input and a program whose rows read a bounded number of rows before them: stream.
    if sources.len() == 1 && args.emit.is_none() && !args.no_stream {
        let dependence = kernel.dependence(&schema).map_err(|error| UserError(render(error.into())))?;
        let outputs = kernel.output_types(&schema, &[]).map_err(|error| UserError(render(error.into())))?;
        let lookback = match dependence {
            Dependence::RowLocal => Some(0),
            Dependence::Lookback(rows) => usize::try_from(rows).ok(),
            _ => None,
        };
        if let Some(lookback) = lookback
            && outputs.iter().all(|output| output.ty.shape == Shape::Column)
        {
            let sink = match &args.output {
                Some(path) => files::Sink::create(path, files::Format::of(path, args.format)),
                None => Ok(files::Sink::stdout()),
            }
            .map_err(|error| UserError(error_line(error)))?;
            let (_, source) = sources.pop().expect("one source");
            let streamed = stream::run(&kernel, source, &scalars, lookback, sink, &render);
            if let (Err(_), Some(path)) = (&streamed, &args.output) {
                // A half-written file is worse than none.
                let _ = std::fs::remove_file(path);
            }
            return streamed.map_err(|error| UserError(error_line(error)));
        }
    }

    let mut columns: Vec<LoadedColumn> = Vec::new();
    for (_, source) in sources {
        columns.extend(source.read_all().map_err(|error| UserError(error_line(error)))?.columns);
    }
    let mut bindings = Bindings::new();
    for loaded in &columns {
        bindings.bind(loaded.name.clone(), Binding::Column(loaded.column.as_column_ref()));
    }
    for (name, value) in &scalars {
        bindings.scalar(name.clone(), *value);
    }
    let render = |error: Error| UserError(render(error));
    if let Some(emit) = args.emit {
        let text = match emit {
            Emit::Ir => {
                let plan = kernel.plan_text(&bindings).map_err(render)?;
                let passes =
                    kernel.ir_text(&kernel.schema_of(&bindings)).map_err(|error| render(error.into()))?;
                format!("## fused loop plan\n{plan}{passes}")
            }
            Emit::Clif | Emit::Asm if args.target.is_some() => {
                let target = args.target.as_deref().unwrap_or_default();
                let (clif, asm) = kernel.cross_listing(&bindings, target).map_err(render)?;
                if emit == Emit::Clif { clif } else { asm }
            }
            Emit::Clif => kernel.clif_text(&bindings).map_err(render)?,
            Emit::Asm => kernel.asm_text(&bindings).map_err(render)?,
        };
        return write_output(args.output.as_ref(), |out| out.write_all(text.as_bytes()));
    }
    // One column per output (`out name = ...`), or `result` alone.
    let outputs = kernel.eval_outputs(&bindings).map_err(render)?;
    if let Some(path) = &args.output {
        let format = files::Format::of(path, args.format);
        return files::save(path, format, outputs).map_err(|error| UserError(error_line(error)));
    }
    write_output(None, |out| csv_write::write_columns(out, &outputs))
}

/// A message as an `error:` line.
fn error_line(message: String) -> String {
    if message.starts_with("error:") { message } else { format!("error: {message}") }
}

fn write_output(
    path: Option<&PathBuf>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), UserError> {
    let outcome = match path {
        Some(path) => std::fs::File::create(path).and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            write(&mut out)?;
            out.flush()
        }),
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            write(&mut out).and_then(|()| out.flush())
        }
    };
    match outcome {
        Ok(()) => Ok(()),
        // A closed pipe (`fusejit ... | head`) is not an error of ours.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(UserError(format!(
            "error: cannot write {}: {error}",
            path.map_or("standard output".to_string(), |p| p.display().to_string())
        ))),
    }
}

/// `NAME=VALUE`: an integer, a number or `true`/`false`.
fn parse_set(text: &str) -> Result<(String, Scalar), UserError> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(UserError(format!("error: --set {text}: expected NAME=VALUE, e.g. --set a=252")));
    };
    let (name, value) = (name.trim(), value.trim());
    let is_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !is_name {
        return Err(UserError(format!("error: --set {text}: '{name}' is not a name")));
    }
    let scalar = csv_read::parse_scalar(value)
        .ok_or_else(|| UserError(format!("error: --set {text}: '{value}' is not a number or true/false")))?;
    Ok((name.to_string(), scalar))
}
