//! The non-interactive command line: `fusejit -e 'PROGRAM' [--input F.csv]... [--set N=V]...
//! [--output F.csv] [--emit ir]`, with the exit-status contract of SPEC §5.

pub mod csv_io;
pub mod files;
pub mod plot;
pub mod repl;

use clap::{Parser, ValueEnum};
use csv_io::LoadedColumn;
use fusejit::{Binding, Bindings, Engine, Error, Scalar};
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
    /// Forces the tier of the vectorised ln/exp (every tier gives the same bits).
    #[arg(long = "isa", value_name = "auto|avx512|avx2|sse|traced|scalar", default_value = "auto")]
    pub isa: String,
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
    let Some(program) = args.program else {
        let isa =
            fusejit::Isa::parse(&args.isa).map_err(|error| UserError(format!("error: --isa: {error}")))?;
        let config = fusejit::EngineConfig::default().with_isa(isa);
        let engine = Engine::with_config(config).map_err(|error| UserError(format!("error: {error}")))?;
        repl::run(engine);
        return Ok(());
    };
    let mut columns: Vec<LoadedColumn> = Vec::new();
    // Columns left out of a file (type unsupported): (file, column and reason).
    let mut skipped: Vec<(PathBuf, files::Skipped)> = Vec::new();
    let only = (!args.columns.is_empty()).then_some(args.columns.as_slice());
    for path in &args.inputs {
        let format = files::Format::of(path, args.format);
        let loaded = files::load(path, format, only).map_err(UserError)?;
        for column in loaded.columns {
            if columns.iter().any(|existing| existing.name == column.name) {
                return Err(UserError(format!(
                    "column '{}' of {} is already loaded from an earlier --input",
                    column.name,
                    path.display()
                )));
            }
            columns.push(column);
        }
        skipped.extend(loaded.skipped.into_iter().map(|column| (path.clone(), column)));
    }
    let mut scalars: Vec<(String, Scalar)> = Vec::new();
    for set in &args.sets {
        let (name, value) = parse_set(set)?;
        if columns.iter().any(|column| column.name == name) || scalars.iter().any(|(n, _)| *n == name) {
            return Err(UserError(format!("--set {name}: '{name}' is already bound")));
        }
        scalars.push((name, value));
    }
    let mut bindings = Bindings::new();
    for loaded in &columns {
        bindings.bind(loaded.name.clone(), Binding::Column(loaded.column.as_column_ref()));
    }
    for (name, value) in &scalars {
        bindings.scalar(name.clone(), *value);
    }

    let color = std::io::stderr().is_terminal();
    let render = |error: Error| UserError(error.render(PROGRAM_FILE_NAME, color));
    let isa = fusejit::Isa::parse(&args.isa).map_err(|error| UserError(format!("error: --isa: {error}")))?;
    let config = fusejit::EngineConfig::default().with_isa(isa);
    let engine = Engine::with_config(config).map_err(|error| UserError(format!("error: {error}")))?;
    let kernel = engine.compile(&program).map_err(|error| render(error.into()))?;
    for (path, column) in &skipped {
        let bound = columns.iter().any(|loaded| loaded.name == column.name);
        if kernel.input_names().contains(&column.name) && !bound {
            return Err(UserError(format!(
                "error: column '{}' of {} cannot be read: {}",
                column.name,
                path.display(),
                column.reason
            )));
        }
        eprintln!("note: skipped column '{}' of {}: {}", column.name, path.display(), column.reason);
    }
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
        if format != files::Format::Csv {
            return files::save(path, format, outputs).map_err(|error| UserError(format!("error: {error}")));
        }
    }
    write_output(args.output.as_ref(), |out| csv_io::write_columns(out, &outputs))
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
    let scalar = csv_io::parse_scalar(value)
        .ok_or_else(|| UserError(format!("error: --set {text}: '{value}' is not a number or true/false")))?;
    Ok((name.to_string(), scalar))
}
