//! The public API (SPEC §8): [`Engine`] compiles programs into [`Kernel`]s, which evaluate over
//! [`Bindings`]. A kernel is specialised per binding signature — the type of each input and
//! whether each column carries a validity bitmap — compiled to native code once per signature,
//! and cached on the kernel. [`Kernel::interpret`] runs the reference interpreter instead.

pub mod cache;
mod carried_scans;
mod multi_pass;
mod parallel;
mod plan_questions;
mod specialized;
mod speculated_scans;

use multi_pass::run_to_column;
pub use plan_questions::{Dependence, OutputType};
pub use specialized::Specialized;

use crate::bindings::{self, Bindings};

use crate::check::{self, Schema};
use crate::codegen::{self, CodegenError, Compiler, Listings, NativeKernel, OutputTarget};
use crate::column::{Binding, Column, ColumnValues};
use crate::error::{CompileError, ConfigError, Error, EvalError};
use crate::ir::{self, Elem};
use crate::math::Isa;
use crate::passes::fuse_loops::{self, InputForm, LoopPlan};
use crate::passes::split_passes::{self, PassPlan};
use crate::syntax::{self, ast};
use crate::types::Type;
use cache::LruCache;
use multi_pass::Passes;
use parallel::Parallelism;
use std::sync::{Arc, Mutex, PoisonError};

/// Engine settings. Start from `EngineConfig::default()` and set fields: more will come.
///
/// ```
/// let mut config = fusejit::EngineConfig::default();
/// config.isa = Some(fusejit::Isa::Scalar);
/// let engine = fusejit::Engine::with_config(config).unwrap();
/// assert_eq!(engine.isa(), fusejit::Isa::Scalar);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineConfig {
    /// How many compiled programs the engine keeps by source text (least recently used go first).
    pub cache_capacity: usize,
    /// Run Cranelift's verifier on every generated function. On in debug builds, and in tests
    /// that ask for it; release builds skip it (it costs tens of microseconds per kernel).
    pub verify_generated_code: bool,
    /// The tier of the vectorised `ln`/`exp`; `None` takes `FUSEJIT_ISA` if set, else the
    /// widest the CPU supports. Every tier gives the same bits; only speed differs.
    pub isa: Option<Isa>,
    /// How many threads one evaluation may use, 1 to [`EngineConfig::MAX_THREADS`]; `None`
    /// takes `FUSEJIT_THREADS` if set, else the available cores. Every thread count gives
    /// the same bits (docs/LANGUAGE.md, "Threads").
    pub threads: Option<usize>,
    /// The least rows each of two threads must get before a column is split, for a loop as
    /// costly per row as `dlog(x,1)*a+b`; a cheaper loop (plain arithmetic) needs
    /// proportionally more, by an estimate from its plan. Shorter inputs run on the
    /// caller's thread with no more overhead than one thread.
    pub min_rows_per_thread: usize,
}

impl EngineConfig {
    /// The same configuration keeping `capacity` compiled programs (0 keeps none).
    #[must_use]
    pub fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// The same configuration with Cranelift's verifier on or off.
    #[must_use]
    pub fn with_verify_generated_code(mut self, verify: bool) -> Self {
        self.verify_generated_code = verify;
        self
    }

    /// The same configuration with this math tier (`None`: `FUSEJIT_ISA`, else the widest).
    #[must_use]
    pub fn with_isa(mut self, isa: Option<Isa>) -> Self {
        self.isa = isa;
        self
    }

    /// The same configuration with this many threads per evaluation (`None`:
    /// `FUSEJIT_THREADS`, else the available cores).
    #[must_use]
    pub fn with_threads(mut self, threads: Option<usize>) -> Self {
        self.threads = threads;
        self
    }

    /// The same configuration splitting columns only into ranges of at least `rows` rows.
    #[must_use]
    pub fn with_min_rows_per_thread(mut self, rows: usize) -> Self {
        self.min_rows_per_thread = rows;
        self
    }

    /// The most threads an engine takes.
    pub const MAX_THREADS: usize = 256;

    /// The default of [`EngineConfig::min_rows_per_thread`], measured: below it, the cost of
    /// handing ranges to the pool is not repaid (docs/PERFORMANCE.md, "Threads").
    pub const DEFAULT_MIN_ROWS_PER_THREAD: usize = 65_536;

    /// The thread count this configuration asks for: `threads`, else `FUSEJIT_THREADS`,
    /// else the available cores.
    pub fn resolved_threads(&self) -> Result<usize, ConfigError> {
        let valid = |count: usize| (1..=EngineConfig::MAX_THREADS).contains(&count);
        if let Some(count) = self.threads {
            return if valid(count) {
                Ok(count)
            } else {
                Err(ConfigError::Threads { text: count.to_string(), from_environment: false })
            };
        }
        match std::env::var("FUSEJIT_THREADS") {
            Ok(text) => match text.trim().parse::<usize>() {
                Ok(count) if valid(count) => Ok(count),
                _ => Err(ConfigError::Threads { text, from_environment: true }),
            },
            Err(_) => {
                Ok(std::thread::available_parallelism().map_or(1, usize::from).min(EngineConfig::MAX_THREADS))
            }
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            cache_capacity: 256,
            verify_generated_code: cfg!(debug_assertions),
            isa: None,
            threads: None,
            min_rows_per_thread: EngineConfig::DEFAULT_MIN_ROWS_PER_THREAD,
        }
    }
}

/// Compiles programs. Cheap to clone and share: clones share one compile cache and compiler.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

#[derive(Debug)]
struct EngineInner {
    config: EngineConfig,
    cache: Mutex<LruCache<String, Kernel>>,
    backend: Arc<Backend>,
}

/// The code generator shared by an engine and its kernels (kernels outlive cache entries, so
/// they hold the backend, not the engine), and how evaluations split work.
#[derive(Debug)]
struct Backend {
    isa: Isa,
    /// Idle compilers. A compile takes one (or makes one) and puts it back, so compiles of
    /// different programs on different threads run at once; the pool holds at most as many
    /// compilers as ever compiled at once.
    compilers: Mutex<Vec<Compiler>>,
    verify: bool,
    parallelism: parallel::Parallelism,
}

impl Backend {
    fn compile(&self, plan: LoopPlan, listings: Listings) -> Result<NativeKernel, CodegenError> {
        let idle = self.compilers.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut compiler = match idle {
            Some(compiler) => compiler,
            None => {
                let mut compiler = Compiler::for_host(self.isa)?;
                compiler.verify = self.verify;
                compiler
            }
        };
        let compiled = compiler.compile(plan, listings);
        self.compilers.lock().unwrap_or_else(PoisonError::into_inner).push(compiler);
        compiled
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    /// An engine with the default configuration. An invalid or unsupported `FUSEJIT_ISA` falls
    /// back to the widest supported tier here, an invalid `FUSEJIT_THREADS` to the available
    /// cores; [`Engine::with_config`] reports them instead.
    pub fn new() -> Self {
        Engine::with_config(EngineConfig::default()).unwrap_or_else(|_| {
            let config = EngineConfig::default();
            let isa = Isa::select(None).unwrap_or_else(|_| Isa::best());
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            let threads = config.resolved_threads().unwrap_or(cores.min(EngineConfig::MAX_THREADS));
            Engine::build(config, isa, threads)
        })
    }

    /// An engine with `config`. Fails when the configured (or `FUSEJIT_ISA`) math tier is
    /// unknown or not supported by this CPU.
    pub fn with_config(config: EngineConfig) -> Result<Self, ConfigError> {
        // The traced tier is compiled on demand: where it is asked for, and on hosts without a
        // hand-compiled SIMD tier (aarch64), where it is the widest.
        let asked = config.isa == Some(Isa::Traced)
            || (config.isa.is_none()
                && std::env::var("FUSEJIT_ISA").is_ok_and(|text| text.trim() == "traced"));
        if asked || !cfg!(target_arch = "x86_64") {
            let installed = codegen::install_traced_math();
            if asked {
                installed.map_err(|error| ConfigError::TracedMath { message: error.to_string() })?;
            }
        }
        let isa = Isa::select(config.isa)?;
        let threads = config.resolved_threads()?;
        Ok(Engine::build(config, isa, threads))
    }

    fn build(config: EngineConfig, isa: Isa, threads: usize) -> Self {
        let cache = Mutex::new(LruCache::new(config.cache_capacity));
        let parallelism =
            parallel::Parallelism { threads, min_rows_per_thread: config.min_rows_per_thread.max(1) };
        let backend = Arc::new(Backend {
            isa,
            compilers: Mutex::new(Vec::new()),
            verify: config.verify_generated_code,
            parallelism,
        });
        Engine { inner: Arc::new(EngineInner { config, cache, backend }) }
    }

    /// How many threads one evaluation uses (see [`EngineConfig::threads`]).
    pub fn threads(&self) -> usize {
        self.inner.backend.parallelism.threads
    }

    /// The math tier this engine's kernels use.
    pub fn isa(&self) -> Isa {
        self.inner.backend.isa
    }

    /// The configuration the engine was made with.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Parses and checks what needs no types (names, functions, arities, lag counts). Types
    /// come from the bindings at the first `eval` of each binding signature.
    ///
    /// ```
    /// let engine = fusejit::Engine::new();
    /// let kernel = engine.compile("(x - mean(x)) / std(x)").unwrap();
    /// assert_eq!(kernel.input_names(), ["x"]);
    /// let error = engine.compile("lag(x)").unwrap_err();
    /// assert!(error.to_string().contains("lag"), "{error}");
    /// ```
    pub fn compile(&self, source: &str) -> Result<Kernel, CompileError> {
        let cached = self.inner.cache.lock().unwrap_or_else(PoisonError::into_inner).get(&source.to_string());
        if let Some(kernel) = cached {
            return Ok(kernel);
        }
        let kernel = Kernel::parse(source, self.inner.backend.clone())?;
        self.inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(source.to_string(), kernel.clone());
        Ok(kernel)
    }

    /// The eager form: compiles `source` to native code for the given input types now (for
    /// columns without validity bitmaps), so the first matching `eval` pays no compile cost.
    pub fn compile_with_schema(&self, source: &str, schema: &Schema) -> Result<Kernel, CompileError> {
        let kernel = self.compile(source)?;
        kernel.specialize(schema)?;
        Ok(kernel)
    }

    /// Evaluates `source` with the reference interpreter (the test oracle).
    pub fn interpret(&self, source: &str, bindings: &Bindings<'_>) -> Result<Column, Error> {
        self.compile(source)?.interpret(bindings)
    }
}

/// A compiled program. `Clone` shares it; `Send + Sync`: many threads may evaluate one kernel.
/// Each handle evaluates on its own thread count ([`Kernel::with_threads`]).
#[derive(Debug, Clone)]
pub struct Kernel {
    inner: Arc<KernelInner>,
    /// How this handle splits evaluations (the engine's, unless `with_threads` changed it).
    parallelism: Parallelism,
}

/// What a specialisation is keyed by: the input types and how each column is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signature {
    /// The type of every name the program reads, in `input_names` order.
    schema: Schema,
    /// Whether each of those names is a column with a validity bitmap, bit-packed or not, in
    /// the same order.
    forms: Vec<InputForm>,
}

impl Signature {
    /// Whether `bound` (each input name's binding, in `input_names` order, as `prepare`
    /// looks them up once) has this signature; allocates nothing (the per-call fast path).
    fn matches<'r, 'b: 'r>(&self, bound: impl ExactSizeIterator<Item = Option<&'r Binding<'b>>>) -> bool {
        self.forms.len() == bound.len()
            && self.schema.iter().zip(&self.forms).zip(bound).all(|(((_, ty), &form), binding)| match binding
            {
                Some(binding) => binding.ty() == ty && input_form(binding) == form,
                None => false,
            })
    }
}

/// How `binding` is laid out, as a loop plan needs to know.
fn input_form(binding: &Binding<'_>) -> InputForm {
    match binding {
        Binding::Column(column) => {
            InputForm { nullable: column.validity.is_some(), bit_packed: column.data.is_bit_packed() }
        }
        Binding::Scalar(_) => InputForm::default(),
        // Its validity is a flag the loop reads (`InputWord::Validity`).
        Binding::NullScalar(_) => InputForm { nullable: true, bit_packed: false },
    }
}

/// How many signatures one kernel keeps compiled; the oldest goes first.
const MAX_SPECIALIZATIONS_PER_KERNEL: usize = 16;

#[derive(Debug)]
struct KernelInner {
    source: Arc<str>,
    ast: ast::Program,
    /// The names the program reads from its bindings, in order of first use.
    input_names: Vec<String>,
    backend: Arc<Backend>,
    /// One specialisation per binding signature seen (few per kernel in practice).
    specializations: Mutex<Vec<(Signature, Arc<Specialization>)>>,
    /// Held while a specialisation compiles, so that threads racing through the first eval
    /// of one signature compile it once (other kernels compile meanwhile: the backend's
    /// compilers are a pool).
    compiling: Mutex<()>,
}

/// A program compiled for one binding signature.
#[derive(Debug)]
struct Specialization {
    /// The optimised program, every output.
    program: ir::Program,
    /// How `eval` computes the last output.
    form: Form,
    /// How `eval_outputs` computes every output of a multi-output program, made on first use.
    outputs: Mutex<Option<Arc<Passes>>>,
    /// Each input's layout in the signature (validity bitmap, bit-packed), by name.
    input_forms: Vec<(String, InputForm)>,
    /// For each of `program.inputs`, its index in the kernel's `input_names` (`None` for an
    /// input that is not a name the program reads, which `prepare` then looks up by name).
    input_name_indices: Vec<Option<usize>>,
    /// For a fused loop with `cummax`/`cummin`: how its ranges find their carries, made on
    /// the first evaluation on several threads (`None` inside: the loop cannot carry).
    carry_plan: Mutex<Option<Option<Arc<carried_scans::CarryPlan>>>>,
}

// The fused form is the large and the common one, kept inline (a specialisation lives in an
// `Arc` already; boxing it would add a pointer chase to every evaluation).
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Form {
    /// An elementwise program: one fused loop.
    Fused(Fused),
    /// A program with reductions: passes over the rows (see `passes::split_passes`), whose
    /// loops are compiled on first use.
    MultiPass(Passes),
}

/// One fused loop: its native code, which owns its plan.
type Fused = NativeKernel;

/// What `eval_into` wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EvalSummary {
    /// How many rows were written (1 for a scalar result).
    pub len: usize,
    /// How many of them are null.
    pub null_count: usize,
}

/// Caller-provided output values for `eval_into`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ValuesMut<'a> {
    /// Room for f64 results.
    F64(&'a mut [f64]),
    /// Room for f32 results.
    F32(&'a mut [f32]),
    /// Room for i64 results.
    I64(&'a mut [i64]),
    /// Room for i32 results.
    I32(&'a mut [i32]),
    /// Room for bool results.
    Bool(&'a mut [bool]),
}

impl<'a> From<&'a mut ColumnValues> for ValuesMut<'a> {
    /// Room for a result of the values' type, as many rows as they have (with
    /// [`ColumnValues::zeroed`], an owned output for `eval_into`).
    fn from(values: &'a mut ColumnValues) -> ValuesMut<'a> {
        match values {
            ColumnValues::F64(values) => ValuesMut::F64(values),
            ColumnValues::F32(values) => ValuesMut::F32(values),
            ColumnValues::I64(values) => ValuesMut::I64(values),
            ColumnValues::I32(values) => ValuesMut::I32(values),
            ColumnValues::Bool(values) => ValuesMut::Bool(values),
        }
    }
}

/// Caller-provided output buffers: values and a validity bitmap (LSB-first, offset 0) of at
/// least `ceil(len / 8)` bytes. Every bit of the first `len` is written.
#[derive(Debug)]
pub struct ColumnMut<'a> {
    /// Where the values go.
    pub values: ValuesMut<'a>,
    /// Where the validity bits go.
    pub validity: &'a mut [u8],
}

impl Kernel {
    fn parse(source: &str, backend: Arc<Backend>) -> Result<Kernel, CompileError> {
        let ast = syntax::parse_program(source).map_err(|d| CompileError::new(d, source))?;
        let input_names = check::check_structure(&ast).map_err(|d| CompileError::new(d, source))?;
        let parallelism = backend.parallelism;
        Ok(Kernel {
            inner: Arc::new(KernelInner {
                source: source.into(),
                ast,
                input_names,
                backend,
                specializations: Mutex::new(Vec::new()),
                compiling: Mutex::new(()),
            }),
            parallelism,
        })
    }

    /// The same compiled program, evaluating on `threads` threads (1 to
    /// [`EngineConfig::MAX_THREADS`]): it shares this kernel's native code, so the thread
    /// count is the only difference. Every thread count gives the same bits.
    ///
    /// ```
    /// let kernel = fusejit::Engine::new().compile("dlog(x, 1) * 252").unwrap();
    /// let one = kernel.with_threads(1).unwrap();
    /// assert_eq!(one.threads(), 1);
    /// assert!(kernel.with_threads(0).is_err());
    /// ```
    pub fn with_threads(&self, threads: usize) -> Result<Kernel, ConfigError> {
        let config = EngineConfig { threads: Some(threads), ..EngineConfig::default() };
        let threads = config.resolved_threads()?;
        let parallelism = Parallelism { threads, ..self.parallelism };
        Ok(Kernel { inner: self.inner.clone(), parallelism })
    }

    /// How many threads this handle's evaluations use.
    pub fn threads(&self) -> usize {
        self.parallelism.threads
    }

    /// How many specialisations (binding signatures) this kernel holds. For tests.
    #[doc(hidden)]
    pub fn specialization_count(&self) -> usize {
        self.inner.specializations.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// How many pass loops the multi-pass specialisations hold in all. For tests.
    #[doc(hidden)]
    pub fn pass_loop_count(&self) -> usize {
        let specializations = self.inner.specializations.lock().unwrap_or_else(PoisonError::into_inner);
        specializations
            .iter()
            .map(|(_, spec)| {
                let own = match &spec.form {
                    Form::MultiPass(passes) => passes.loop_count(),
                    Form::Fused(_) => 0,
                };
                let outputs = spec.outputs.lock().unwrap_or_else(PoisonError::into_inner);
                own + outputs.as_ref().map_or(0, |passes| passes.loop_count())
            })
            .sum()
    }

    /// The program's text.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// The names the program reads (columns or scalars), in order of first use.
    pub fn input_names(&self) -> &[String] {
        &self.inner.input_names
    }

    /// The signature of `bindings` for this program: the type of each name it reads.
    pub fn schema_of(&self, bindings: &Bindings<'_>) -> Schema {
        let mut schema = Schema::new();
        for name in &self.inner.input_names {
            if let Some(binding) = bindings.get(name) {
                schema.insert(name.clone(), binding.ty());
            }
        }
        schema
    }

    /// Compiles (or finds) the native specialisation for `schema`, for columns without
    /// validity bitmaps.
    pub fn specialize(&self, schema: &Schema) -> Result<(), CompileError> {
        let mut ordered = Schema::new();
        for name in &self.inner.input_names {
            if let Some(ty) = schema.get(name) {
                ordered.insert(name.clone(), ty);
            }
        }
        let forms = vec![InputForm::default(); self.inner.input_names.len()];
        self.specialization(&Signature { schema: ordered, forms }).map(|_| ())
    }

    fn specialization(&self, signature: &Signature) -> Result<Arc<Specialization>, CompileError> {
        let find = || {
            let specializations = self.inner.specializations.lock().unwrap_or_else(PoisonError::into_inner);
            specializations.iter().find(|(key, _)| key == signature).map(|(_, spec)| spec.clone())
        };
        if let Some(spec) = find() {
            return Ok(spec);
        }
        let _compiling = self.inner.compiling.lock().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have compiled it while this one waited.
        if let Some(spec) = find() {
            return Ok(spec);
        }
        let program = self.lowered(&signature.schema)?;
        let input_forms: Vec<(String, InputForm)> =
            self.inner.input_names.iter().cloned().zip(signature.forms.iter().copied()).collect();
        // `eval` computes the last output only; `eval_outputs` computes each.
        let last = if program.outputs.len() > 1 {
            crate::passes::eliminate_dead_nodes::run(&program.select_output(program.outputs.len() - 1))
        } else {
            program.clone()
        };
        let form = match split_passes::split(&last) {
            Some(passes) => Form::MultiPass(Passes::new(passes, input_forms.clone())),
            None => {
                let plan = fuse_loops::plan(&last, &self.slot_forms(&last, signature));
                let native = self
                    .inner
                    .backend
                    .compile(plan, Listings::default())
                    .map_err(|error| self.internal_error(error))?;
                Form::Fused(native)
            }
        };
        let input_name_indices = program
            .inputs
            .iter()
            .map(|input| self.inner.input_names.iter().position(|name| *name == input.name))
            .collect();
        let spec = Arc::new(Specialization {
            program,
            form,
            outputs: Mutex::new(None),
            input_forms,
            input_name_indices,
            carry_plan: Mutex::new(None),
        });
        let mut specializations = self.inner.specializations.lock().unwrap_or_else(PoisonError::into_inner);
        if specializations.len() >= MAX_SPECIALIZATIONS_PER_KERNEL {
            specializations.remove(0);
        }
        specializations.push((signature.clone(), spec.clone()));
        Ok(spec)
    }

    /// The checked and optimised program for `signature`.
    fn lowered(&self, schema: &Schema) -> Result<ir::Program, CompileError> {
        let program = self.lower(schema)?;
        crate::passes::optimize(program).map_err(|error| self.internal_error(error))
    }

    /// How each input slot of `program` is laid out: the signature has it by name; inputs
    /// that carry results of earlier passes count as nullable.
    fn slot_forms(&self, program: &ir::Program, signature: &Signature) -> Vec<InputForm> {
        program
            .inputs
            .iter()
            .map(|input| match self.inner.input_names.iter().position(|name| *name == input.name) {
                Some(index) => signature.forms[index],
                None => InputForm { nullable: input.ty.shape == ir::Shape::Column, bit_packed: false },
            })
            .collect()
    }

    fn lower(&self, schema: &Schema) -> Result<ir::Program, CompileError> {
        check::check(&self.inner.ast, schema).map_err(|d| CompileError::new(d, self.inner.source.clone()))
    }

    fn internal_error(&self, message: impl std::fmt::Display) -> CompileError {
        let span = syntax::Span::new(0, self.inner.source.len());
        CompileError::new(
            crate::diagnostic::Diagnostic::new(span, format!("internal compiler error: {message}"))
                .with_hint("this is a bug in fusejit; please report it with the program"),
            self.inner.source.clone(),
        )
    }

    /// The IR after checking and after each optimisation pass, as text.
    pub fn ir_text(&self, schema: &Schema) -> Result<String, CompileError> {
        let program = self.lower(schema)?;
        let stages = crate::passes::optimize_with_dumps(program).map_err(|e| self.internal_error(e))?;
        let mut out = String::new();
        for (name, program) in stages {
            out.push_str(&format!("## after {name}\n{}", program.to_text()));
        }
        Ok(out)
    }

    /// The optimised IR for `schema`, as text.
    pub fn optimized_ir(&self, schema: &Schema) -> Result<String, CompileError> {
        let program = self.lower(schema)?;
        let program = crate::passes::optimize(program).map_err(|error| self.internal_error(error))?;
        Ok(program.to_text())
    }

    /// The fused loop plan for these bindings (`--emit ir`, the REPL's `:ir`).
    pub fn plan_text(&self, bindings: &Bindings<'_>) -> Result<String, Error> {
        let signature = self.signature(bindings)?;
        let program = self.lowered(&signature.schema)?;
        match split_passes::split(&program) {
            Some(passes) => Ok(passes.to_text(|part, reductions| {
                let forms = self.slot_forms(part, &signature);
                fuse_loops::plan_reduction(part, &forms, reductions)
                    .unwrap_or_else(|| fuse_loops::plan(part, &forms))
                    .to_text()
            })),
            None => Ok(fuse_loops::plan(&program, &self.slot_forms(&program, &signature)).to_text()),
        }
    }

    /// The Cranelift IR of the native kernel for these bindings (`--emit clif`).
    pub fn clif_text(&self, bindings: &Bindings<'_>) -> Result<String, Error> {
        self.listings(bindings, |plan| {
            let kernel = self.inner.backend.compile(plan.clone(), Listings { clif: true, asm: false })?;
            Ok(kernel.clif.clone().unwrap_or_default())
        })
    }

    /// The machine code of the native kernel for these bindings, as Cranelift's VCode
    /// disassembly (`--emit asm`).
    pub fn asm_text(&self, bindings: &Bindings<'_>) -> Result<String, Error> {
        self.listings(bindings, |plan| {
            let kernel = self.inner.backend.compile(plan.clone(), Listings { clif: false, asm: true })?;
            Ok(kernel.asm.clone().unwrap_or_default())
        })
    }

    /// The Cranelift IR and machine code of this program for another target, e.g. `aarch64`
    /// (`--emit clif|asm --target`): `(clif, asm)`. Needs the `cross` feature.
    #[cfg(feature = "cross")]
    pub fn cross_listing(&self, bindings: &Bindings<'_>, target: &str) -> Result<(String, String), Error> {
        let clif = self.listings(bindings, |plan| Ok(codegen::cross_listing(plan, target)?.0))?;
        let asm = self.listings(bindings, |plan| Ok(codegen::cross_listing(plan, target)?.1))?;
        Ok((clif, asm))
    }

    /// `list` applied to the loop plan of every pass (one for an elementwise program; for a
    /// program with reductions, each reducing loop then the final loop, under headings).
    fn listings(
        &self,
        bindings: &Bindings<'_>,
        list: impl Fn(&LoopPlan) -> Result<String, CodegenError>,
    ) -> Result<String, Error> {
        let signature = self.signature(bindings)?;
        let program = self.lowered(&signature.schema)?;
        let list = |plan: &LoopPlan| list(plan).map_err(|error| self.internal_error(error));
        let Some(passes) = split_passes::split(&program) else {
            return Ok(list(&fuse_loops::plan(&program, &self.slot_forms(&program, &signature)))?);
        };
        let mut out = String::new();
        for (index, step) in passes.steps.iter().enumerate() {
            let reductions: Vec<ir::ReduceOp> = step.reductions.iter().map(|(op, _, _)| *op).collect();
            let forms = self.slot_forms(&step.operand, &signature);
            match fuse_loops::plan_reduction(&step.operand, &forms, &reductions) {
                Some(plan) => {
                    out.push_str(&format!("## pass {}: the reducing loop\n{}", index + 1, list(&plan)?))
                }
                None => {
                    out.push_str(&format!("## pass {}: reduces an input as it lies (no loop)\n", index + 1))
                }
            }
        }
        let forms = self.slot_forms(&passes.last, &signature);
        let plan = fuse_loops::plan(&passes.last, &forms);
        out.push_str(&format!("## pass {}: the fused loop\n{}", passes.steps.len() + 1, list(&plan)?));
        Ok(out)
    }

    /// Compiles this program, specialised to `bindings`, into `object` (built for another
    /// target) as the exported function `name`, and describes the argument block it takes for
    /// exactly these bindings: how a harness on that target runs it (see `tests/aarch64.rs`).
    /// `None` when the program needs what objects do not hold yet: passes (reductions), scans
    /// or several outputs, which run from Rust on the host.
    #[doc(hidden)]
    #[cfg(feature = "cross")]
    pub fn add_to_object(
        &self,
        object: &mut codegen::object::CrossObject,
        name: &str,
        bindings: &Bindings<'_>,
    ) -> Result<Option<codegen::object::ArgumentImage>, Error> {
        let (spec, inputs, rows) = self.prepare(bindings)?;
        let Form::Fused(fused) = &spec.form else { return Ok(None) };
        let plan = fused.plan();
        if !codegen::object::CrossObject::supports(plan) {
            return Ok(None);
        }
        object.add_kernel(name, plan).map_err(|error| self.internal_error(error))?;
        let len = if codegen::result_is_scalar(plan) { 1 } else { rows };
        Ok(Some(codegen::object::argument_image(plan, &inputs, rows, len)))
    }

    /// Evaluates over `bindings` with native code, returning an owned column. Nulls come
    /// from the inputs' validity, lags before the first row, and `null`.
    ///
    /// ```
    /// use fusejit::{Bindings, Engine, Scalar, Validity};
    /// let kernel = Engine::new().compile("where(x > 1, x * a, null)").unwrap();
    /// let x = [0.5, 2.0, 3.0];
    /// let valid = [0b011u8]; // row 2 is null
    /// let mut bindings = Bindings::new();
    /// bindings.column_with_validity("x", &x[..], Validity::new(&valid, 0)).scalar("a", 10.0);
    /// let out = kernel.eval(&bindings).unwrap();
    /// assert_eq!(out.to_options(), [None, Some(Scalar::F64(20.0)), None]);
    /// assert_eq!(out.null_count, 2);
    /// ```
    pub fn eval(&self, bindings: &Bindings<'_>) -> Result<Column, Error> {
        let (spec, inputs, rows) = self.prepare(bindings)?;
        self.eval_prepared(&spec, &inputs, bindings, rows)
    }

    /// [`eval`](Self::eval) with the result's [`Type`], from the specialisation the
    /// evaluation runs: whether the result is a scalar or a column, which its length alone
    /// cannot tell for one row.
    ///
    /// ```
    /// use fusejit::{Bindings, Engine, Shape};
    /// let x = [2.0];
    /// let mut bindings = Bindings::new();
    /// bindings.column("x", &x[..]);
    /// let engine = Engine::new();
    /// let (ty, column) = engine.compile("sum(x)").unwrap().eval_with_type(&bindings).unwrap();
    /// assert_eq!((ty.shape, column.len()), (Shape::Scalar, 1));
    /// let (ty, column) = engine.compile("x * 2").unwrap().eval_with_type(&bindings).unwrap();
    /// assert_eq!((ty.shape, column.len()), (Shape::Column, 1));
    /// ```
    pub fn eval_with_type(&self, bindings: &Bindings<'_>) -> Result<(Type, Column), Error> {
        let (spec, inputs, rows) = self.prepare(bindings)?;
        let ty = spec.program.result_type();
        Ok((ty, self.eval_prepared(&spec, &inputs, bindings, rows)?))
    }

    fn eval_prepared(
        &self,
        spec: &Specialization,
        inputs: &[Binding<'_>],
        bindings: &Bindings<'_>,
        rows: usize,
    ) -> Result<Column, Error> {
        match &spec.form {
            Form::Fused(fused) => {
                let carry = self.carry_plan_of(spec, fused)?;
                Ok(run_to_column(fused, inputs, rows, self.parallelism, carry.as_deref()))
            }
            Form::MultiPass(passes) => self.eval_passes(passes, bindings, rows),
        }
    }

    /// Evaluates every output of the program (`out name = ...` statements, then the final
    /// expression as `result`), by name in program order. One fused loop writes every output
    /// it computes; reductions and windows run once for all of them.
    ///
    /// ```
    /// let kernel = fusejit::Engine::new().compile("out vol = abs(x); x * 2").unwrap();
    /// let x = [-1.0, 2.0];
    /// let mut bindings = fusejit::Bindings::new();
    /// bindings.column("x", &x[..]);
    /// let outputs = kernel.eval_outputs(&bindings).unwrap();
    /// let names: Vec<&str> = outputs.iter().map(|(name, _)| name.as_str()).collect();
    /// assert_eq!(names, ["vol", "result"]);
    /// ```
    pub fn eval_outputs(&self, bindings: &Bindings<'_>) -> Result<Vec<(String, Column)>, Error> {
        let (spec, inputs, rows) = self.prepare(bindings)?;
        self.eval_outputs_prepared(&spec, &inputs, bindings, rows)
    }

    /// [`eval_outputs`](Self::eval_outputs) with each output's [`Type`] (as
    /// [`output_types_of_bindings`](Self::output_types_of_bindings) gives it), from the one
    /// specialisation the evaluation runs.
    pub fn eval_outputs_with_types(
        &self,
        bindings: &Bindings<'_>,
    ) -> Result<Vec<(String, Type, Column)>, Error> {
        let (spec, inputs, rows) = self.prepare(bindings)?;
        let outputs = self.eval_outputs_prepared(&spec, &inputs, bindings, rows)?;
        Ok(outputs
            .into_iter()
            .zip(&spec.program.outputs)
            .map(|((name, column), (_, id))| (name, spec.program.node(*id).ty, column))
            .collect())
    }

    /// Every output with its [`OutputType`], nullable as `nullable_inputs` declare (not as
    /// these bindings happen to be), from the program the evaluation compiled: what
    /// `eval_batch` returns, with no second lowering.
    #[cfg(feature = "arrow")]
    pub(crate) fn eval_outputs_typed(
        &self,
        bindings: &Bindings<'_>,
        nullable_inputs: &[&str],
    ) -> Result<Vec<(OutputType, Column)>, Error> {
        let (spec, inputs, rows) = self.prepare(bindings)?;
        let types = plan_questions::output_types_of(&spec.program, nullable_inputs);
        let outputs = self.eval_outputs_prepared(&spec, &inputs, bindings, rows)?;
        Ok(types.into_iter().zip(outputs).map(|(ty, (_, column))| (ty, column)).collect())
    }

    fn eval_outputs_prepared(
        &self,
        spec: &Arc<Specialization>,
        inputs: &Inputs<'_>,
        bindings: &Bindings<'_>,
        rows: usize,
    ) -> Result<Vec<(String, Column)>, Error> {
        if spec.program.outputs.len() == 1 {
            let name = spec.program.outputs[0].0.clone();
            return Ok(vec![(name, self.eval_prepared(spec, inputs, bindings, rows)?)]);
        }
        let passes = {
            let mut outputs = spec.outputs.lock().unwrap_or_else(PoisonError::into_inner);
            outputs
                .get_or_insert_with(|| {
                    let plan = split_passes::split(&spec.program)
                        .unwrap_or_else(|| PassPlan { steps: Vec::new(), last: spec.program.clone() });
                    Arc::new(Passes::new(plan, spec.input_forms.clone()))
                })
                .clone()
        };
        self.eval_all_outputs(&passes, bindings, rows)
    }

    /// The name and type of every output (program order, the final expression last as
    /// `result`) for the signature of `bindings`, from the specialisation an evaluation over
    /// them uses (compiled now if it is not yet): whether the result is a scalar or a column,
    /// without evaluating. Cheap once compiled: a binding such as Python's asks it per call.
    ///
    /// ```
    /// use fusejit::{Bindings, Elem, Shape};
    /// let kernel = fusejit::Engine::new().compile("out m = mean(x); x - m").unwrap();
    /// let x = [1.0f32, 2.0];
    /// let mut bindings = Bindings::new();
    /// bindings.column("x", &x[..]);
    /// let types = kernel.output_types_of_bindings(&bindings).unwrap();
    /// assert_eq!(types[0].0, "m");
    /// assert_eq!((types[0].1.elem, types[0].1.shape), (Elem::F32, Shape::Scalar));
    /// assert_eq!((types[1].1.elem, types[1].1.shape), (Elem::F32, Shape::Column));
    /// ```
    pub fn output_types_of_bindings(&self, bindings: &Bindings<'_>) -> Result<Vec<(String, Type)>, Error> {
        let (spec, _, _) = self.prepare(bindings)?;
        Ok(spec.program.outputs.iter().map(|(name, id)| (name.clone(), spec.program.node(*id).ty)).collect())
    }

    /// Every output with the reference interpreter (see [`Kernel::eval_outputs`]).
    pub fn interpret_outputs(&self, bindings: &Bindings<'_>) -> Result<Vec<(String, Column)>, Error> {
        let (spec, inputs, rows) = self.prepare(bindings)?;
        Ok(crate::interp::evaluate_outputs(&spec.program, &inputs, rows)?)
    }

    /// Evaluates with the reference interpreter, whatever the engine's backend.
    pub fn interpret(&self, bindings: &Bindings<'_>) -> Result<Column, Error> {
        let (spec, inputs, rows) = self.prepare(bindings)?;
        Ok(crate::interp::evaluate(&spec.program, &inputs, rows)?)
    }

    /// Evaluates into caller-provided buffers; returns the length written and the null count.
    ///
    /// ```
    /// use fusejit::{Bindings, ColumnMut, Engine, ValuesMut};
    /// let kernel = Engine::new().compile("dlog(px, 1) * 252").unwrap();
    /// let px = [100.0, 101.0, 102.0];
    /// let mut bindings = Bindings::new();
    /// bindings.column("px", &px[..]);
    /// let (mut values, mut validity) = ([0.0; 3], [0u8; 1]);
    /// let mut out = ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity };
    /// let summary = kernel.eval_into(&bindings, &mut out).unwrap();
    /// assert_eq!((summary.len, summary.null_count), (3, 1));
    /// assert_eq!(validity[0] & 0b111, 0b110);
    /// ```
    /// The buffers must hold at least the result's length (1 for a scalar result). Apart from
    /// a per-thread scratch reused across calls, nothing is allocated.
    pub fn eval_into(&self, bindings: &Bindings<'_>, out: &mut ColumnMut<'_>) -> Result<EvalSummary, Error> {
        let (spec, inputs, rows) = self.prepare(bindings)?;
        self.eval_prepared_into(&spec, &inputs, bindings, rows, out)
    }

    /// [`eval_into`](Self::eval_into) for a caller whose buffers stand for a column (an
    /// array the caller hands on as the result): a result that is a scalar for these
    /// bindings is refused with [`EvalError::ScalarResult`] before anything is written,
    /// decided by the same specialisation the evaluation runs, with no second lookup.
    ///
    /// ```
    /// use fusejit::{Bindings, ColumnMut, Engine, Error, EvalError, ValuesMut};
    /// let kernel = Engine::new().compile("x * a").unwrap();
    /// let x = [1.0, 2.0];
    /// let (mut values, mut validity) = ([7.0; 2], [0u8; 1]);
    /// let mut bindings = Bindings::new();
    /// bindings.scalar("x", 3.0).scalar("a", 2.0);
    /// let mut out = ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity };
    /// let refused = kernel.eval_column_into(&bindings, &mut out).unwrap_err();
    /// assert!(matches!(refused, Error::Eval(EvalError::ScalarResult { .. })));
    /// assert_eq!(values, [7.0, 7.0]); // untouched
    /// bindings.column("x", &x[..]);
    /// let mut out = ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity };
    /// assert_eq!(kernel.eval_column_into(&bindings, &mut out).unwrap().len, 2);
    /// assert_eq!(values, [2.0, 4.0]);
    /// ```
    pub fn eval_column_into(
        &self,
        bindings: &Bindings<'_>,
        out: &mut ColumnMut<'_>,
    ) -> Result<EvalSummary, Error> {
        let (spec, inputs, rows) = self.prepare(bindings)?;
        refuse_scalar_result(&spec)?;
        self.eval_prepared_into(&spec, &inputs, bindings, rows, out)
    }

    fn eval_prepared_into(
        &self,
        spec: &Specialization,
        inputs: &[Binding<'_>],
        bindings: &Bindings<'_>,
        rows: usize,
        out: &mut ColumnMut<'_>,
    ) -> Result<EvalSummary, Error> {
        let fused = match &spec.form {
            Form::Fused(fused) => fused,
            Form::MultiPass(passes) => return self.eval_passes_into(passes, bindings, rows, out),
        };
        let carry = self.carry_plan_of(spec, fused)?;
        run_fused_into(fused, inputs, rows, out, self.parallelism, carry.as_deref())
    }

    /// The carry plan of a fused loop with `cummax`/`cummin`, when this handle runs on
    /// several threads (`carried_scans`); made once per specialisation.
    fn carry_plan_of(
        &self,
        spec: &Specialization,
        fused: &Fused,
    ) -> Result<Option<Arc<carried_scans::CarryPlan>>, Error> {
        if self.parallelism.threads <= 1 || fused.plan().scans.is_empty() {
            return Ok(None);
        }
        let mut slot = spec.carry_plan.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(plan) = &*slot {
            return Ok(plan.clone());
        }
        // Decided once per specialisation, eligible or not.
        let plan = if carried_scans::eligible(fused.plan()) {
            self.carry_plan(fused.plan())?.map(Arc::new)
        } else {
            None
        };
        *slot = Some(plan.clone());
        Ok(plan)
    }

    /// The signature of `bindings`, or the error that explains why they do not fit.
    fn signature(&self, bindings: &Bindings<'_>) -> Result<Signature, Error> {
        let schema = self.schema_of(bindings);
        if let Some(missing) = self.inner.input_names.iter().find(|name| schema.get(name).is_none()) {
            // A record batch's column of a type fusejit cannot read: say so, not "unknown name".
            let error = bindings.missing(missing);
            if let EvalError::UnsupportedArrowType { .. } = error {
                return Err(error.into());
            }
            // Check against every bound name, so the error lists them all and suggests the
            // closest; should check somehow accept the program, report the missing name plainly.
            let mut everything = Schema::new();
            for (name, binding) in bindings.iter() {
                everything.insert(name, binding.ty());
            }
            self.lower(&everything)?;
            return Err(error.into());
        }
        let forms = self
            .inner
            .input_names
            .iter()
            .map(|name| bindings.get(name).map_or_else(InputForm::default, input_form))
            .collect();
        Ok(Signature { schema, forms })
    }

    /// Resolves the bindings against this program: the specialisation for their signature
    /// (found without allocating when it is already compiled), the bindings in input-slot
    /// order, and the row count, all checked.
    fn prepare<'b>(
        &self,
        bindings: &Bindings<'b>,
    ) -> Result<(Arc<Specialization>, Inputs<'b>, usize), Error> {
        // Each input name looked up once; the signature, the row count and the slots read this.
        let bound: Bound<'_, 'b> = self.inner.input_names.iter().map(|name| bindings.get(name)).collect();
        let found = {
            let specializations = self.inner.specializations.lock().unwrap_or_else(PoisonError::into_inner);
            specializations
                .iter()
                .rev()
                .find(|(key, _)| key.matches(bound.iter().copied()))
                .map(|(_, spec)| spec.clone())
        };
        let spec = match found {
            Some(spec) => spec,
            None => self.specialization(&self.signature(bindings)?)?,
        };
        let rows = bindings::row_count(&self.inner.input_names, bound.iter().copied())?;
        let mut inputs = Inputs::new();
        for ((slot, input), name_index) in
            spec.program.inputs.iter().enumerate().zip(&spec.input_name_indices)
        {
            let binding = name_index
                .and_then(|index| bound[index])
                .or_else(|| bindings.get(&input.name))
                .ok_or_else(|| bindings.missing(&input.name))?;
            bindings::check_binding(&input.name, input.ty, binding, rows)?;
            if let Form::Fused(fused) = &spec.form
                && input_form(binding) != fused.plan().input_forms[slot]
            {
                return Err(EvalError::Internal {
                    message: format!("the layout of '{}' differs from the plan", input.name),
                }
                .into());
            }
            inputs.push(*binding);
        }
        Ok((spec, inputs, rows))
    }
}

/// For buffers that stand for a column: a result that is a scalar for this specialisation
/// is refused ([`EvalError::ScalarResult`]), before anything is written.
fn refuse_scalar_result(spec: &Specialization) -> Result<(), Error> {
    let result = spec.program.result_type();
    if result.shape == ir::Shape::Scalar {
        return Err(EvalError::ScalarResult { elem: result.elem }.into());
    }
    Ok(())
}

/// Runs a fused loop into caller-provided buffers, checked here against the result's type and
/// length. `inputs` must have been checked against the plan (as `prepare` does).
fn run_fused_into(
    fused: &Fused,
    inputs: &[Binding<'_>],
    rows: usize,
    out: &mut ColumnMut<'_>,
    parallelism: Parallelism,
    carry: Option<&carried_scans::CarryPlan>,
) -> Result<EvalSummary, Error> {
    if !fused.plan().extra_outputs.is_empty() {
        return Err(
            EvalError::Internal { message: "a multi-output loop has one output buffer".into() }.into()
        );
    }
    let len = if codegen::result_is_scalar(fused.plan()) { 1 } else { rows };
    let bytes = len.div_ceil(8);
    if out.validity.len() < bytes {
        return Err(
            EvalError::OutputTooShort { validity: true, len: out.validity.len(), needed: bytes }.into()
        );
    }
    let elem = fused.plan().program.result_type().elem;
    let (pointer, room, found) = match &mut out.values {
        ValuesMut::F64(values) => (values.as_mut_ptr().cast::<u8>(), values.len(), Elem::F64),
        ValuesMut::F32(values) => (values.as_mut_ptr().cast::<u8>(), values.len(), Elem::F32),
        ValuesMut::I64(values) => (values.as_mut_ptr().cast::<u8>(), values.len(), Elem::I64),
        ValuesMut::I32(values) => (values.as_mut_ptr().cast::<u8>(), values.len(), Elem::I32),
        ValuesMut::Bool(values) => (values.as_mut_ptr().cast::<u8>(), values.len(), Elem::Bool),
    };
    if found != elem {
        return Err(EvalError::OutputType { expected: elem, found }.into());
    }
    if room < len {
        return Err(EvalError::OutputTooShort { validity: false, len: room, needed: len }.into());
    }
    let nullable = fused.plan().result_nullable();
    let target = OutputTarget::new(pointer, out.validity);
    // SAFETY: the caller checked every binding against the plan's signature; `pointer` has
    // room for `len` values of the result's type and the bitmap for `len` bits, both borrowed
    // mutably (through `out`) until the run returns.
    unsafe { multi_pass::run_in_ranges(fused, inputs, rows, target, &[], parallelism, carry) };
    // A result the plan proves never null needs no counting, only its bits set.
    let null_count = if nullable {
        len - count_valid(out.validity, len)
    } else {
        set_all_valid(out.validity, len);
        0
    };
    Ok(EvalSummary { len, null_count })
}

/// The bindings of one evaluation in input-slot order; on the stack for typical programs.
type Inputs<'b> = smallvec::SmallVec<[Binding<'b>; 8]>;

/// Each input name's binding (if bound), in `input_names` order: what `prepare` reads, looked
/// up once per call.
type Bound<'r, 'b> = smallvec::SmallVec<[Option<&'r Binding<'b>>; 8]>;

/// How many of the first `len` bits are set (`bitmap` holds at least `len` bits).
fn count_valid(bitmap: &[u8], len: usize) -> usize {
    arrow_buffer::bit_chunk_iterator::UnalignedBitChunk::new(bitmap, 0, len).count_ones()
}

/// Sets the first `len` bits, leaving the rest of the last byte as it was.
fn set_all_valid(bitmap: &mut [u8], len: usize) {
    let full = len / 8;
    bitmap[..full].fill(0xff);
    if !len.is_multiple_of(8) {
        bitmap[full] |= (1u8 << (len % 8)) - 1;
    }
}
