//! The public API (SPEC §8): [`Engine`] compiles programs into [`Kernel`]s, which evaluate over
//! [`Bindings`]. Kernels are specialised per binding signature and cached.
//!
//! Until the codegen issue lands, a kernel's specialisation is its optimised IR and evaluation
//! runs through the reference interpreter; the API is the one native kernels will serve.

pub mod bindings;
pub mod cache;

pub use bindings::Bindings;

use crate::check::{self, Schema};
use crate::column::{Binding, Column, ColumnValues};
use crate::error::{CompileError, Error, EvalError};
use crate::ir;
use crate::syntax::{self, ast};
use cache::LruCache;
use std::sync::{Arc, Mutex, PoisonError};

/// Engine settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// How many compiled programs the engine keeps by source text (least recently used go first).
    pub cache_capacity: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { cache_capacity: 256 }
    }
}

/// Compiles programs. Cheap to clone and share: clones share one compile cache.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

#[derive(Debug)]
struct EngineInner {
    config: EngineConfig,
    cache: Mutex<LruCache<String, Kernel>>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    pub fn new() -> Self {
        Engine::with_config(EngineConfig::default())
    }

    pub fn with_config(config: EngineConfig) -> Self {
        let cache = Mutex::new(LruCache::new(config.cache_capacity));
        Engine { inner: Arc::new(EngineInner { config, cache }) }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Parses and checks what needs no types (names, functions, arities, lag counts). Types
    /// come from the bindings at the first `eval` of each binding signature.
    pub fn compile(&self, source: &str) -> Result<Kernel, CompileError> {
        let cached = self.inner.cache.lock().unwrap_or_else(PoisonError::into_inner).get(&source.to_string());
        if let Some(kernel) = cached {
            return Ok(kernel);
        }
        let kernel = Kernel::parse(source)?;
        self.inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(source.to_string(), kernel.clone());
        Ok(kernel)
    }

    /// The eager form: compiles `source` for the given input types now, so that the first
    /// `eval` with matching bindings pays no compile cost.
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
#[derive(Debug, Clone)]
pub struct Kernel {
    inner: Arc<KernelInner>,
}

#[derive(Debug)]
struct KernelInner {
    source: Arc<str>,
    ast: ast::Program,
    /// The names the program reads from its bindings, in order of first use.
    input_names: Vec<String>,
    /// One specialisation per binding signature seen (few per kernel in practice).
    specializations: Mutex<Vec<(Schema, Arc<Specialization>)>>,
}

/// A program compiled for one binding signature.
#[derive(Debug)]
struct Specialization {
    program: ir::Program,
}

/// What `eval_into` wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalSummary {
    pub len: usize,
    pub null_count: usize,
}

/// Caller-provided output values for `eval_into`.
#[derive(Debug)]
pub enum ValuesMut<'a> {
    F64(&'a mut [f64]),
    F32(&'a mut [f32]),
    Bool(&'a mut [bool]),
}

/// Caller-provided output buffers: values and a validity bitmap (LSB-first, offset 0) of at
/// least `ceil(len / 8)` bytes. Every bit of the first `len` is written.
#[derive(Debug)]
pub struct ColumnMut<'a> {
    pub values: ValuesMut<'a>,
    pub validity: &'a mut [u8],
}

impl Kernel {
    fn parse(source: &str) -> Result<Kernel, CompileError> {
        let ast = syntax::parse_program(source).map_err(|d| CompileError::new(d, source))?;
        let input_names = check::check_structure(&ast).map_err(|d| CompileError::new(d, source))?;
        Ok(Kernel {
            inner: Arc::new(KernelInner {
                source: source.into(),
                ast,
                input_names,
                specializations: Mutex::new(Vec::new()),
            }),
        })
    }

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
                schema.insert(name.clone(), bindings::binding_type(binding));
            }
        }
        schema
    }

    /// Compiles (or finds) the specialisation for `schema`.
    pub fn specialize(&self, schema: &Schema) -> Result<(), CompileError> {
        self.specialization(schema).map(|_| ())
    }

    fn specialization(&self, schema: &Schema) -> Result<Arc<Specialization>, CompileError> {
        let found = {
            let specializations = self.inner.specializations.lock().unwrap_or_else(PoisonError::into_inner);
            specializations.iter().find(|(key, _)| key == schema).map(|(_, spec)| spec.clone())
        };
        if let Some(spec) = found {
            return Ok(spec);
        }
        let program = self.lower(schema)?;
        let program =
            crate::passes::optimize(program).map_err(|error| self.internal_error(error.to_string()))?;
        let spec = Arc::new(Specialization { program });
        self.inner
            .specializations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((schema.clone(), spec.clone()));
        Ok(spec)
    }

    fn lower(&self, schema: &Schema) -> Result<ir::Program, CompileError> {
        check::check(&self.inner.ast, schema).map_err(|d| CompileError::new(d, self.inner.source.clone()))
    }

    fn internal_error(&self, message: String) -> CompileError {
        let span = syntax::Span::new(0, self.inner.source.len());
        CompileError::new(
            crate::diagnostic::Diagnostic::new(span, format!("internal compiler error: {message}"))
                .with_hint("this is a bug in fusejit; please report it with the program"),
            self.inner.source.clone(),
        )
    }

    /// The IR after checking and after each optimisation pass, as text (`--emit ir`, `:ir`).
    pub fn ir_text(&self, schema: &Schema) -> Result<String, CompileError> {
        let program = self.lower(schema)?;
        let stages =
            crate::passes::optimize_with_dumps(program).map_err(|e| self.internal_error(e.to_string()))?;
        let mut out = String::new();
        for (name, program) in stages {
            out.push_str(&format!("## after {name}\n{}", program.to_text()));
        }
        Ok(out)
    }

    /// The optimised IR for `schema`, as text.
    pub fn optimized_ir(&self, schema: &Schema) -> Result<String, CompileError> {
        Ok(self.specialization(schema)?.program.to_text())
    }

    /// Evaluates over `bindings`, returning an owned column.
    pub fn eval(&self, bindings: &Bindings<'_>) -> Result<Column, Error> {
        self.interpret(bindings)
    }

    /// Evaluates with the reference interpreter, whatever the engine's backend.
    pub fn interpret(&self, bindings: &Bindings<'_>) -> Result<Column, Error> {
        let (spec, inputs, rows) = self.prepare(bindings)?;
        Ok(crate::interp::evaluate(&spec.program, &inputs, rows)?)
    }

    /// Evaluates into caller-provided buffers; returns the length written and the null count.
    /// The buffers must hold at least the result's length (1 for a scalar result).
    pub fn eval_into(&self, bindings: &Bindings<'_>, out: &mut ColumnMut<'_>) -> Result<EvalSummary, Error> {
        let column = self.eval(bindings)?;
        let len = column.len();
        if out.validity.len() < len.div_ceil(8) {
            return Err(EvalError::Output {
                message: format!(
                    "validity has {} bytes, the result needs {}",
                    out.validity.len(),
                    len.div_ceil(8)
                ),
            }
            .into());
        }
        let wrong_type = |want: &str| EvalError::Output {
            message: format!("values are {want}, the result is {}", column.elem()),
        };
        match (&column.values, &mut out.values) {
            (ColumnValues::F64(values), ValuesMut::F64(target)) => copy_values(target, values)?,
            (ColumnValues::F32(values), ValuesMut::F32(target)) => copy_values(target, values)?,
            (ColumnValues::Bool(values), ValuesMut::Bool(target)) => copy_values(target, values)?,
            (_, ValuesMut::F64(_)) => return Err(wrong_type("f64").into()),
            (_, ValuesMut::F32(_)) => return Err(wrong_type("f32").into()),
            (_, ValuesMut::Bool(_)) => return Err(wrong_type("bool").into()),
        }
        for row in 0..len {
            let bit = 1u8 << (row % 8);
            if column.is_valid(row) {
                out.validity[row / 8] |= bit;
            } else {
                out.validity[row / 8] &= !bit;
            }
        }
        Ok(EvalSummary { len, null_count: column.null_count })
    }

    /// Resolves the bindings against this program: the specialisation for their signature,
    /// the bindings in input-slot order, and the row count, all checked.
    fn prepare<'b>(
        &self,
        bindings: &Bindings<'b>,
    ) -> Result<(Arc<Specialization>, Vec<Binding<'b>>, usize), Error> {
        let schema = self.schema_of(bindings);
        if let Some(missing) = self.inner.input_names.iter().find(|name| schema.get(name).is_none()) {
            // Check against every bound name, so the error lists them all and suggests the
            // closest; should check somehow accept the program, report the missing name plainly.
            let mut everything = Schema::new();
            for (name, binding) in bindings.iter() {
                everything.insert(name, bindings::binding_type(binding));
            }
            self.lower(&everything)?;
            return Err(EvalError::MissingBinding { name: missing.clone() }.into());
        }
        let spec = self.specialization(&schema)?;
        let rows = bindings::row_count(&self.inner.input_names, bindings)?;
        let mut inputs = Vec::with_capacity(spec.program.inputs.len());
        for input in &spec.program.inputs {
            let binding = bindings
                .get(&input.name)
                .ok_or_else(|| EvalError::MissingBinding { name: input.name.clone() })?;
            bindings::check_binding(&input.name, input.ty, binding, rows)?;
            inputs.push(*binding);
        }
        Ok((spec, inputs, rows))
    }
}

fn copy_values<T: Copy>(target: &mut [T], values: &[T]) -> Result<(), EvalError> {
    let have = target.len();
    let slot = target.get_mut(..values.len()).ok_or_else(|| EvalError::Output {
        message: format!("values hold {have} rows, the result has {}", values.len()),
    })?;
    slot.copy_from_slice(values);
    Ok(())
}
