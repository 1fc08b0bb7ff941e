//! `fusejit._native`: the Python module behind the `fusejit` package (`compile`, `evaluate`, `Kernel`, the errors).
//!
//! The package's `__init__.py` re-exports it; everything that touches data is here.
//! `evaluate` and `Kernel.eval` are vectorcall functions ([`vectorcall`]) that read their
//! keywords where CPython passes them. Inputs are converted by [`inputs`] into
//! borrowed columns, evaluated with the GIL released (but for short calls), and returned by
//! [`outputs`] in the kind of the inputs: NumPy in, NumPy out; Arrow in, Arrow out
//! ([`arrow_interchange`]).

mod arrow_interchange;
mod inputs;
mod outputs;
mod short_calls;
mod vectorcall;

use fusejit::{Bindings, ColumnMut, Engine, ValuesMut};
use inputs::{BoundInputs, Scope};
use numpy::{PyArray1, PyArrayMethods, PyUntypedArrayMethods};
use outputs::NullStyle;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple};
use std::sync::{Arc, OnceLock};
use vectorcall::{Keywords, MethodDef, Positional, type_name};

pyo3::create_exception!(fusejit, Error, PyValueError, "Base class of fusejit's errors; a ValueError.");
pyo3::create_exception!(
    fusejit,
    CompileError,
    Error,
    "The program does not parse or type-check. The message is the rendered diagnostic: the \
     program's line, the offending text underlined with ^^^, and a hint when there is one. \
     `span` holds the (start, end) byte offsets into the program."
);
pyo3::create_exception!(
    fusejit,
    EvalError,
    Error,
    "The inputs do not fit the program: a missing or misspelt name, columns of different \
     lengths, an array fusejit cannot read, an `out=` array of the wrong type or length."
);

/// The process's engine: every kernel compiled from Python shares its code cache and
/// thread pool (threads: `FUSEJIT_THREADS`, else every core).
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(Engine::new)
}

/// Rows from which an evaluation releases the GIL. Releasing it and taking it back is a
/// fixed cost of every call that releases it (PERFORMANCE.md, "Python, in process"); below
/// this many rows a call's work is microseconds, far under CPython's switch interval, so no
/// other thread would run in the gap. (A signature's first call also compiles its kernel,
/// a millisecond or so, with the GIL held when the call is this short.)
const GIL_RELEASE_MIN_ROWS: usize = 4096;

/// Runs `work`, an evaluation over `rows` rows (`None`: scalars only), without the GIL when
/// it is long enough for another Python thread to gain from the release.
fn detach_if_long<T, F>(py: Python<'_>, rows: Option<usize>, work: F) -> T
where
    T: pyo3::marker::Ungil,
    F: pyo3::marker::Ungil + FnOnce() -> T,
{
    if rows.is_some_and(|rows| rows >= GIL_RELEASE_MIN_ROWS) { py.detach(work) } else { work() }
}

/// A fusejit error as the Python exception that carries its rendered diagnostic.
pub(crate) fn to_py_error(error: fusejit::Error) -> PyErr {
    match error {
        fusejit::Error::Compile(error) => compile_error(&error),
        fusejit::Error::Eval(error) => EvalError::new_err(format!("error: {error}")),
        other => Error::new_err(other.to_string()),
    }
}

/// An `eval_into` error, naming `out=` where the buffer is at fault.
fn out_error(error: fusejit::Error) -> PyErr {
    match error {
        fusejit::Error::Eval(
            error @ (fusejit::EvalError::OutputTooShort { .. } | fusejit::EvalError::OutputType { .. }),
        ) => EvalError::new_err(format!("error: out= does not fit: {error}")),
        fusejit::Error::Eval(fusejit::EvalError::ScalarResult { .. }) => {
            EvalError::new_err("error: the result is a scalar; out= takes a column result")
        }
        other => to_py_error(other),
    }
}

fn compile_error(error: &fusejit::CompileError) -> PyErr {
    let span = error.diagnostic.span;
    let exception = CompileError::new_err(error.render("<expr>", false));
    Python::attach(|py| {
        // Setting an attribute on a fresh exception instance cannot fail short of memory
        // exhaustion; the message alone still says everything.
        let _ = exception.value(py).setattr("span", (span.start, span.end));
    });
    exception
}

/// How many compiled programs `compile` and `evaluate` keep by text; past it the cache
/// starts over (the engine keeps its own cache of parsed programs as well).
const KERNEL_CACHE_CAPACITY: usize = 256;

/// The kernel for `expr`, from the cache by text (a dict lookup: the string's hash is
/// cached by Python) or compiled now.
fn cached_kernel<'py>(py: Python<'py>, expr: &Bound<'py, PyString>) -> PyResult<Bound<'py, Kernel>> {
    static KERNELS: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
    let kernels = KERNELS.get_or_init(py, || PyDict::new(py).unbind()).bind(py);
    if let Some(kernel) = kernels.get_item(expr)? {
        return Ok(kernel.cast_into::<Kernel>()?);
    }
    let text = expr.to_cow()?;
    let kernel = py.detach(|| engine().compile(&text)).map_err(|error| compile_error(&error))?;
    let kernel = Bound::new(py, Kernel::new(py, kernel))?;
    if kernels.len() >= KERNEL_CACHE_CAPACITY {
        kernels.clear();
    }
    kernels.set_item(expr, &kernel)?;
    Ok(kernel)
}

/// Compiles `expr` into a `Kernel`: parsing and name checks now (a mistake raises
/// `CompileError`, whose message underlines it and suggests a fix), native code at the first
/// evaluation of each combination of input types, and kept. The last 256 programs are
/// cached by text: compiling the same text again returns the same kernel.
///
/// >>> k = fusejit.compile("(x - mean(x)) / std(x)")
/// >>> k.inputs
/// ('x',)
/// >>> k.eval(x=np.array([1.0, 2.0, 3.0]))
/// array([-1.22474487,  0.        ,  1.22474487])
#[pyfunction]
fn compile<'py>(py: Python<'py>, expr: &Bound<'py, PyString>) -> PyResult<Bound<'py, Kernel>> {
    cached_kernel(py, expr)
}

/// The calling Python code's local variables (`PyEval_GetLocals`, the frame that called
/// `evaluate`: a native function pushes none), or an empty dict when no Python code runs.
/// `PyEval_GetLocals` is deprecated since 3.13 in favour of `PyEval_GetFrameLocals`, which
/// the 3.10 limited API lacks; it stays in the stable ABI, returning the frame's cached
/// dictionary of its locals (read only here).
fn caller_locals(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    // SAFETY: the thread is attached; the result is a borrowed reference to the frame's
    // locals (kept alive by the frame, which outlives this call), or null with or without an
    // error set.
    let locals = unsafe { Borrowed::from_ptr_or_opt(py, pyo3::ffi::PyEval_GetLocals()) };
    match locals {
        Some(locals) => Ok(Borrowed::to_owned(locals)),
        None => match PyErr::take(py) {
            Some(error) => Err(error),
            None => Ok(PyDict::new(py).into_any()),
        },
    }
}

/// The calling Python code's global variables (`PyEval_GetGlobals`), or an empty dict.
fn caller_globals(py: Python<'_>) -> Bound<'_, PyAny> {
    // SAFETY: the thread is attached; the result is a borrowed reference to the frame's
    // globals (kept alive by the frame), or null when no Python code runs.
    let globals = unsafe { Borrowed::from_ptr_or_opt(py, pyo3::ffi::PyEval_GetGlobals()) };
    globals.map_or_else(|| PyDict::new(py).into_any(), Borrowed::to_owned)
}

/// `evaluate`'s docstring; its first lines are the signature `inspect.signature` reads.
const EVALUATE_DOC: &std::ffi::CStr = c"evaluate(expr, local_dict=None, global_dict=None, *, out=None, \
    nulls='mask', **columns)\n--\n\n\
    Evaluates `expr` over named columns and returns the result.\n\
    \n\
    Names resolve from `columns` (keywords) alone if they are given without `local_dict`;\n\
    else from `local_dict` (the keywords winning over it) or the caller's local variables,\n\
    then from `global_dict` or the caller's global variables, as in `numexpr.evaluate`.\n\
    `local_dict` may be a table (a pyarrow Table or RecordBatch, a Polars or pandas\n\
    DataFrame), whose columns then bind by name.\n\
    The compiled program is cached by text.\n\
    \n\
    Inputs: NumPy arrays of f64, f32, i64, i32 or bool (narrower integers and f16 are widened\n\
    by a copy; a non-contiguous array is copied), NumPy masked arrays (masked rows are\n\
    nulls), any object with `__arrow_c_array__` or `__arrow_c_stream__` (pyarrow arrays,\n\
    Polars Series, pandas Series with Arrow dtypes; several chunks are concatenated;\n\
    pandas' nullable arrays such as `Int64` keep their nulls, through pyarrow), Python\n\
    and NumPy numbers (scalars, broadcast without copying), and lists (through\n\
    `numpy.asarray`). NaN is a value, not a null.\n\
    \n\
    The result follows the first column input: NumPy in, NumPy out; Arrow in, Arrow out (a\n\
    pyarrow array, a Polars Series, a pandas Series). A NumPy result with nulls is a masked\n\
    array; `nulls=\"nan\"` puts NaN in null rows of a float result instead, and\n\
    `nulls=\"separate\"` returns `(values, mask)` with `mask` true where a row is null. A\n\
    scalar result (`sum(x)`) is a Python number, or `None` when null. `out=` writes into a\n\
    preallocated contiguous NumPy array of the result's dtype and length (not one of the\n\
    inputs) and returns it.\n\
    \n\
    Errors: `CompileError` for a program that does not parse or type-check, `EvalError`\n\
    for inputs that do not fit (a missing name, different lengths, an unreadable dtype); both\n\
    print the program with the problem underlined.\n\
    \n\
    >>> px = np.array([100.0, 101.0, 100.5])\n\
    >>> fusejit.evaluate(\"dlog(px, 1) * 252\")\n\
    masked_array(data=[--, 2.507483374998305, -1.2506229142165957], ...)";

/// `evaluate` as CPython sees it: a vectorcall function (see [`vectorcall`]).
static EVALUATE: MethodDef =
    MethodDef::fastcall_with_keywords(c"evaluate", evaluate_vectorcall, EVALUATE_DOC);

/// The entry point CPython calls for `evaluate(...)`.
///
/// # Safety
///
/// Called by CPython only, as the `METH_FASTCALL | METH_KEYWORDS` function of `EVALUATE`
/// (the contract of [`vectorcall::call`]).
unsafe extern "C" fn evaluate_vectorcall(
    _module: *mut pyo3::ffi::PyObject,
    args: *const *mut pyo3::ffi::PyObject,
    nargs: pyo3::ffi::Py_ssize_t,
    kwnames: *mut pyo3::ffi::PyObject,
) -> *mut pyo3::ffi::PyObject {
    // SAFETY: CPython calls this as a vectorcall function (this function's contract).
    unsafe { vectorcall::call(args, nargs, kwnames, evaluate) }
}

/// The `nulls=` argument of `function` (`"mask"` when left out).
fn null_style(function: &str, nulls: Option<Borrowed<'_, '_, PyAny>>) -> PyResult<NullStyle> {
    match nulls {
        None => NullStyle::parse("mask"),
        Some(nulls) => {
            let text = nulls.cast::<PyString>().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "{function}() argument 'nulls' must be str, not {}",
                    type_name(&nulls)
                ))
            })?;
            NullStyle::parse(&text.to_cow()?)
        }
    }
}

/// `evaluate(expr, local_dict=None, global_dict=None, *, out=None, nulls="mask", **columns)`
/// from the call's positional values and its keywords (name, value).
fn evaluate<'py>(
    py: Python<'py>,
    positional: &Positional<'_, 'py>,
    keywords: &Keywords<'_, 'py>,
) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::exceptions::PyTypeError;
    const PARAMETERS: [&str; 3] = ["expr", "local_dict", "global_dict"];
    if positional.len() > PARAMETERS.len() {
        return Err(PyTypeError::new_err(format!(
            "evaluate() takes from 1 to 3 positional arguments but {} were given",
            positional.len()
        )));
    }
    let mut parameters: [Option<Borrowed<'_, 'py, PyAny>>; 3] = [None; 3];
    for (slot, value) in parameters.iter_mut().zip(positional) {
        *slot = Some(*value);
    }
    let (mut out, mut nulls) = (None, None);
    let mut columns: smallvec::SmallVec<[(Borrowed<'_, 'py, PyString>, Borrowed<'_, 'py, PyAny>); 8]> =
        smallvec::SmallVec::new();
    for &(name, value) in keywords {
        let text = name.to_str()?;
        match PARAMETERS.iter().position(|parameter| *parameter == text) {
            Some(index) if parameters[index].is_some() => {
                return Err(PyTypeError::new_err(format!(
                    "evaluate() got multiple values for argument '{text}'"
                )));
            }
            Some(index) => parameters[index] = Some(value),
            None if text == "out" => out = Some(value),
            None if text == "nulls" => nulls = Some(value),
            None => columns.push((name, value)),
        }
    }
    let [expr, local_dict, global_dict] = parameters;
    let expr = expr
        .ok_or_else(|| PyTypeError::new_err("evaluate() missing 1 required positional argument: 'expr'"))?;
    let expr = expr.cast::<PyString>().map_err(|_| {
        PyTypeError::new_err(format!("evaluate() argument 'expr' must be str, not {}", type_name(&expr)))
    })?;
    let nulls = null_style("evaluate", nulls)?;
    // Python's `None` is the same as leaving an optional argument out.
    let local_dict = local_dict.filter(|value| !value.is_none());
    let global_dict = global_dict.filter(|value| !value.is_none());
    let out = out.filter(|value| !value.is_none());
    let kernel = cached_kernel(py, &expr)?;
    let kernel = kernel.get();
    let out = out.as_deref();
    if local_dict.is_none() && !columns.is_empty() {
        // Keywords alone: the common call, read where CPython passed them.
        return kernel.eval_scope(py, &Scope::Keywords(&columns), out, nulls);
    }
    // `local_dict` (with the keywords over it), else the caller's locals; then the globals,
    // as numexpr resolves names. Looked up in place: no dict of the inputs is built.
    let locals = match local_dict {
        Some(local_dict) => {
            merged_columns(py, Some(&local_dict), Some(&keywords_dict(py, &columns)?), &kernel.names)?
                .into_any()
        }
        None => caller_locals(py)?,
    };
    let globals = match global_dict {
        Some(global_dict) => Borrowed::to_owned(global_dict),
        None => caller_globals(py),
    };
    kernel.eval_scope(py, &Scope::Namespaces { locals: &locals, globals: &globals }, out, nulls)
}

/// The vectorised math tier this process uses (`avx512`, `avx2`, `sse4.1`, `scalar`,
/// `traced`): every tier gives the same bits.
#[pyfunction]
fn isa() -> String {
    engine().isa().name().to_string()
}

/// The names of every built-in function, aliases included.
#[pyfunction]
fn function_names() -> Vec<&'static str> {
    fusejit::function_names().collect()
}

/// A compiled program. Evaluate it with `eval(**columns)`; share it freely between Python
/// threads (evaluation releases the GIL, but for short calls, and never mutates the kernel).
#[pyclass(frozen, module = "fusejit")]
struct Kernel {
    kernel: fusejit::Kernel,
    /// The input names as Python strings, made once: looking them up in a call's dict then
    /// allocates nothing, and their hashes are cached.
    keys: Vec<Py<PyString>>,
    /// The input names, in `keys`' order, shared with each call's held inputs.
    names: Vec<Arc<str>>,
    /// The specialisation short calls last ran ([`short_calls`]).
    last: short_calls::LastSpecialization,
}

impl Kernel {
    fn new(py: Python<'_>, kernel: fusejit::Kernel) -> Kernel {
        let keys = kernel.input_names().iter().map(|name| PyString::intern(py, name).unbind()).collect();
        let names = kernel.input_names().iter().map(|name| Arc::from(name.as_str())).collect();
        Kernel { kernel, keys, names, last: short_calls::LastSpecialization::default() }
    }
}

/// The columns of one call: the positional `columns` (a dict, another mapping, or a table:
/// see [`table_columns`]) and the keywords, keywords winning. Of a table, only the columns
/// called `names` (the program's inputs) are taken.
fn merged_columns<'py>(
    py: Python<'py>,
    columns: Option<&Bound<'py, PyAny>>,
    keywords: Option<&Bound<'py, PyDict>>,
    names: &[Arc<str>],
) -> PyResult<Bound<'py, PyDict>> {
    match (columns, keywords) {
        (None, Some(keywords)) => Ok(keywords.clone()),
        (None, None) => Ok(PyDict::new(py)),
        // One dict: read as it is, no copy (the common call, and the cheapest).
        (Some(columns), None) if columns.cast::<PyDict>().is_ok() => Ok(columns.cast::<PyDict>()?.clone()),
        (Some(columns), keywords) => {
            let merged = match columns.cast::<pyo3::types::PyMapping>() {
                Ok(mapping) => {
                    let merged = PyDict::new(py);
                    merged.update(mapping)?;
                    merged
                }
                Err(_) => table_columns(py, columns, names)?,
            };
            if let Some(keywords) = keywords {
                merged.update(keywords.as_mapping())?;
            }
            Ok(merged)
        }
    }
}

/// The columns called `names` of a table, as a dict: a pyarrow `Table` or `RecordBatch`
/// (names from `column_names`), a Polars or pandas `DataFrame` (from `columns`, chosen by
/// the type's module), or anything else with one of those (`column_names` first) and
/// `table[name]`. Each column is then read as `eval`
/// reads a column of that library (pyarrow and Polars as Arrow, pandas as NumPy), without a
/// copy. A name the table lacks is left out, for fusejit's own error.
fn table_columns<'py>(
    py: Python<'py>,
    table: &Bound<'py, PyAny>,
    names: &[Arc<str>],
) -> PyResult<Bound<'py, PyDict>> {
    let kind = type_name(table);
    let not_columns = || {
        pyo3::exceptions::PyTypeError::new_err(format!(
            "columns must be a mapping of names to arrays (a dict) or a table (a pyarrow Table or \
             RecordBatch, a Polars or pandas DataFrame), not {kind}; or pass the columns as keywords"
        ))
    };
    if kind == "LazyFrame" {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "columns is a Polars LazyFrame, whose rows are not computed yet: pass .collect()'s DataFrame",
        ));
    }
    // Which attribute lists the names is the library's: a pyarrow table's `columns` are its
    // arrays, and a pandas DataFrame answers `column_names` with a column so named, if any.
    let module = table.get_type().module().map(|module| module.to_string()).unwrap_or_default();
    let library = module.split('.').next().unwrap_or_default();
    let order = match library {
        "pandas" | "polars" => ["columns", "column_names"],
        _ => ["column_names", "columns"],
    };
    let column_names = match table.getattr(order[0]) {
        Ok(column_names) => column_names,
        Err(_) => table.getattr(order[1]).map_err(|_| not_columns())?,
    };
    // pandas' labels may be numbers; only text labels can name an input.
    let mut present = std::collections::HashSet::new();
    for label in column_names.try_iter().map_err(|_| not_columns())? {
        if let Ok(label) = label?.cast::<PyString>() {
            present.insert(label.to_cow()?.into_owned());
        }
    }
    let selected = PyDict::new(py);
    for name in names {
        if present.contains(&**name) {
            selected.set_item(&**name, table.get_item(&**name)?)?;
        }
    }
    Ok(selected)
}

/// A vectorcall's column keywords as a dict, for merging over a mapping (`merged_columns`).
fn keywords_dict<'py>(py: Python<'py>, keywords: &Keywords<'_, 'py>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in keywords {
        dict.set_item(name, value)?;
    }
    Ok(dict)
}

/// `Kernel.eval`'s docstring; its first lines are the signature `inspect.signature` reads.
const KERNEL_EVAL_DOC: &std::ffi::CStr = c"eval($self, columns=None, /, *, out=None, nulls='mask', \
    **keywords)\n--\n\n\
    Evaluates the program's result over `columns` (a mapping, or keywords; keywords win).\n\
    `columns` may also be a table: a pyarrow Table or RecordBatch, a Polars or pandas\n\
    DataFrame; the columns the program reads are taken from it by name, in place (a column\n\
    of several Arrow chunks is concatenated).\n\
    \n\
    Columns are NumPy arrays (f64, f32, i64, i32, bool; narrower integers and f16 are\n\
    widened by a copy), NumPy masked arrays (masked rows are nulls), or anything with\n\
    `__arrow_c_array__` / `__arrow_c_stream__` (pyarrow, Polars, pandas' Arrow-backed\n\
    Series). Python and NumPy scalars bind as scalars. Names the program does not read are\n\
    ignored.\n\
    \n\
    The result follows the first column input: NumPy in, NumPy out (a masked array when\n\
    some rows are null; `nulls=\"nan\"` fills them with NaN instead, `nulls=\"separate\"`\n\
    returns `(values, mask)`); Arrow in, Arrow out (a pyarrow array, or a Polars or pandas\n\
    Series for those inputs). A scalar result returns a Python scalar (`None` when null).\n\
    `out=` writes into a preallocated contiguous NumPy array of the result's type and\n\
    length, and returns it.";

/// `Kernel.eval` as CPython sees it: a vectorcall method (see [`vectorcall`]), set on the
/// class when the module is made.
static KERNEL_EVAL: MethodDef =
    MethodDef::fastcall_with_keywords(c"eval", kernel_eval_vectorcall, KERNEL_EVAL_DOC);

/// The entry point CPython calls for `kernel.eval(...)`.
///
/// # Safety
///
/// Called by CPython only, as the `METH_FASTCALL | METH_KEYWORDS` method of `KERNEL_EVAL`
/// (the contract of [`vectorcall::call`]), with `slf` the object the method was called on,
/// borrowed for the call.
unsafe extern "C" fn kernel_eval_vectorcall(
    slf: *mut pyo3::ffi::PyObject,
    args: *const *mut pyo3::ffi::PyObject,
    nargs: pyo3::ffi::Py_ssize_t,
    kwnames: *mut pyo3::ffi::PyObject,
) -> *mut pyo3::ffi::PyObject {
    // SAFETY: CPython calls this as a vectorcall method (this function's contract).
    unsafe {
        vectorcall::call(args, nargs, kwnames, |py, positional, keywords| {
            // SAFETY: `slf` is a valid reference borrowed for the call (the contract);
            // the method descriptor let only instances of `Kernel` through, checked again
            // by the cast.
            let slf = Borrowed::from_ptr(py, slf);
            let kernel = slf.cast::<Kernel>().map_err(PyErr::from)?;
            kernel.get().eval_arguments(py, positional, keywords)
        })
    }
}

#[pymethods]
impl Kernel {
    /// The program's text.
    #[getter]
    fn source(&self) -> &str {
        self.kernel.source()
    }

    /// The names the program reads, in order of first use.
    #[getter]
    fn inputs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.kernel.input_names())
    }

    /// How many threads one evaluation may use.
    #[getter]
    fn threads(&self) -> usize {
        self.kernel.threads()
    }

    /// The same compiled program evaluating on `threads` threads (1 to 256). Every thread
    /// count gives the same bits.
    fn with_threads(&self, py: Python<'_>, threads: usize) -> PyResult<Kernel> {
        let kernel =
            self.kernel.with_threads(threads).map_err(|error| EvalError::new_err(error.to_string()))?;
        Ok(Kernel::new(py, kernel))
    }

    /// Evaluates every output of the program (`out name = ...` statements, then the final
    /// expression as `result`) into a dict by name, in program order; each value as `eval`
    /// returns it.
    #[pyo3(signature = (columns=None, /, *, nulls="mask", **keywords))]
    fn eval_outputs<'py>(
        &self,
        py: Python<'py>,
        columns: Option<&Bound<'py, PyAny>>,
        nulls: &str,
        keywords: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let nulls = NullStyle::parse(nulls)?;
        let scope = merged_columns(py, columns, keywords, &self.names)?;
        let inputs = BoundInputs::from_scope(py, &self.names, &self.keys, &Scope::Dict(&scope))?;
        let bindings = inputs.bindings()?;
        let kernel = &self.kernel;
        let outputs = detach_if_long(py, inputs.rows(), || kernel.eval_outputs_with_types(&bindings))
            .map_err(to_py_error)?;
        let kind = inputs.output_kind();
        let result = PyDict::new(py);
        for (name, ty, column) in outputs {
            result.set_item(name, outputs::column_to_python(py, column, ty.shape, nulls, &kind)?)?;
        }
        Ok(result)
    }

    /// The compiled program as text: `"ir"` (after type checking), `"optimized"` (after the
    /// passes), `"plan"` (the fused loops), `"clif"` (Cranelift IR) or `"asm"` (this machine's
    /// code). Types come from `columns` as in `eval` (sample data of the right types will
    /// do); names left out are taken as f64 columns without nulls.
    #[pyo3(signature = (kind="ir", columns=None, /, **keywords))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        columns: Option<&Bound<'py, PyAny>>,
        keywords: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<String> {
        let scope = merged_columns(py, columns, keywords, &self.names)?;
        let inputs = BoundInputs::from_scope_with_defaults(py, &self.names, &self.keys, &scope)?;
        let bindings = inputs.bindings()?;
        let kernel = &self.kernel;
        let text = py.detach(|| match kind {
            "ir" => Ok(kernel.ir_text(&kernel.schema_of(&bindings)).map_err(fusejit::Error::from)),
            "optimized" => {
                Ok(kernel.optimized_ir(&kernel.schema_of(&bindings)).map_err(fusejit::Error::from))
            }
            "plan" => Ok(kernel.plan_text(&bindings)),
            "clif" => Ok(kernel.clif_text(&bindings)),
            "asm" => Ok(kernel.asm_text(&bindings)),
            other => Err(other.to_string()),
        });
        match text {
            Ok(text) => text.map_err(to_py_error),
            Err(other) => Err(PyValueError::new_err(format!(
                "unknown kind {other:?}: expected \"ir\", \"optimized\", \"plan\", \"clif\" or \"asm\""
            ))),
        }
    }

    /// How each input binds for `columns`, without evaluating: a list of dicts with `name`,
    /// `kind` (`"numpy"`, `"masked"`, `"arrow"`, `"scalar"`), `type`, `rows`, `address` (of
    /// the values fusejit reads) and `copied` (`None`, or why the values were copied:
    /// non-contiguous, widened, several Arrow chunks, ...).
    #[pyo3(signature = (columns=None, /, **keywords))]
    fn describe_inputs<'py>(
        &self,
        py: Python<'py>,
        columns: Option<&Bound<'py, PyAny>>,
        keywords: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let scope = merged_columns(py, columns, keywords, &self.names)?;
        let inputs = BoundInputs::from_scope(py, &self.names, &self.keys, &Scope::Dict(&scope))?;
        inputs.describe(py)
    }

    fn __repr__(&self) -> String {
        format!("fusejit.Kernel({:?}, inputs={:?})", self.kernel.source(), self.kernel.input_names())
    }
}

impl Kernel {
    /// `eval(columns=None, /, *, out=None, nulls="mask", **keywords)` from the call's
    /// positional values and its keywords (name, value).
    fn eval_arguments<'py>(
        &self,
        py: Python<'py>,
        positional: &Positional<'_, 'py>,
        keywords: &Keywords<'_, 'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if positional.len() > 1 {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "eval() takes at most 1 positional argument ({} given)",
                positional.len()
            )));
        }
        let (mut out, mut nulls) = (None, None);
        let mut columns: smallvec::SmallVec<[(Borrowed<'_, 'py, PyString>, Borrowed<'_, 'py, PyAny>); 8]> =
            smallvec::SmallVec::new();
        for &(name, value) in keywords {
            match &*name.to_cow()? {
                "out" => out = Some(value),
                "nulls" => nulls = Some(value),
                _ => columns.push((name, value)),
            }
        }
        let nulls = null_style("eval", nulls)?;
        // Python's `None` is the same as leaving an optional argument out.
        let out = out.filter(|value| !value.is_none());
        let out = out.as_deref();
        match positional.first().filter(|mapping| !mapping.is_none()) {
            // Keywords alone, or nothing: read where CPython passed them.
            None => self.eval_scope(py, &Scope::Keywords(&columns), out, nulls),
            Some(mapping) => {
                // One dict alone (the common call): read as it is.
                if let (true, Ok(dict)) = (columns.is_empty(), mapping.cast::<PyDict>()) {
                    return self.eval_scope(py, &Scope::Dict(&dict), out, nulls);
                }
                let scope =
                    merged_columns(py, Some(mapping), Some(&keywords_dict(py, &columns)?), &self.names)?;
                self.eval_scope(py, &Scope::Dict(&scope), out, nulls)
            }
        }
    }

    /// `eval` over the columns `scope` holds.
    fn eval_scope<'py>(
        &self,
        py: Python<'py>,
        scope: &Scope<'_, 'py>,
        out: Option<&Bound<'py, PyAny>>,
        nulls: NullStyle,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kernel = (&self.kernel, &self.last);
        if let Some(result) = short_calls::eval(py, kernel, (&self.names, &self.keys), scope, out, nulls) {
            return result;
        }
        let inputs = BoundInputs::from_scope(py, &self.names, &self.keys, scope)?;
        let bindings = inputs.bindings()?;
        match out {
            Some(out) => self.eval_into(py, &inputs, &bindings, out, nulls),
            None => {
                let kernel = &self.kernel;
                let (ty, column) = detach_if_long(py, inputs.rows(), || kernel.eval_with_type(&bindings))
                    .map_err(to_py_error)?;
                outputs::column_to_python(py, column, ty.shape, nulls, &inputs.output_kind())
            }
        }
    }

    /// `eval(..., out=array)`: the values straight into the caller's array.
    fn eval_into<'py>(
        &self,
        py: Python<'py>,
        inputs: &BoundInputs<'_>,
        bindings: &Bindings<'_>,
        out: &Bound<'py, PyAny>,
        nulls: NullStyle,
    ) -> PyResult<Bound<'py, PyAny>> {
        let rows = inputs.rows();
        let untyped = out.cast::<numpy::PyUntypedArray>().map_err(|_| {
            EvalError::new_err("error: out= must be a NumPy array (contiguous, one-dimensional, writeable)")
        })?;
        if untyped.ndim() != 1 || !untyped.is_c_contiguous() {
            return Err(EvalError::new_err(format!(
                "error: out= must be a contiguous one-dimensional NumPy array; got shape {:?}{}",
                untyped.shape(),
                if untyped.is_c_contiguous() { "" } else { " (not contiguous)" }
            )));
        }
        let len = untyped.len();
        // Checked before anything is written, here and by `eval_column_into` (which refuses a
        // scalar result): an error leaves the caller's array as it was.
        if let Some(rows) = rows
            && rows != len
        {
            return Err(EvalError::new_err(format!(
                "error: out= does not fit: it has {len} rows, the inputs {rows}"
            )));
        }
        // The result's bitmap, read back only to find its nulls: on the stack for short calls.
        let mut validity: smallvec::SmallVec<[u8; 128]> = smallvec::smallvec![0u8; len.div_ceil(8)];
        let kernel = &self.kernel;
        macro_rules! into {
            ($t:ty, $variant:ident) => {
                if let Ok(array) = out.cast::<PyArray1<$t>>() {
                    let mut writeable = array.try_readwrite().map_err(|error| {
                        EvalError::new_err(format!(
                            "error: out= cannot be written: it is read-only, or it is also an input \
                             (fusejit does not evaluate in place; pass a fresh array) ({error})"
                        ))
                    })?;
                    let values =
                        writeable.as_slice_mut().map_err(|error| EvalError::new_err(error.to_string()))?;
                    let summary = detach_if_long(py, Some(len), || {
                        let mut target =
                            ColumnMut { values: ValuesMut::$variant(values), validity: &mut validity };
                        kernel.eval_column_into(bindings, &mut target)
                    })
                    .map_err(out_error)?;
                    drop(writeable);
                    if summary.len != len {
                        return Err(EvalError::new_err(format!(
                            "error: out= has {len} rows but the result has {}",
                            summary.len
                        )));
                    }
                    return outputs::finish_out(py, out, &validity, summary.null_count, nulls);
                }
            };
        }
        into!(f64, F64);
        into!(f32, F32);
        into!(i64, I64);
        into!(i32, I32);
        if out.cast::<PyArray1<bool>>().is_ok() {
            // A NumPy bool array may hold any byte (`np.empty`): zero it first, so that the
            // slice fusejit writes through holds valid bools from the start.
            out.call_method1("fill", (false,))?;
        }
        into!(bool, Bool);
        Err(EvalError::new_err(format!(
            "error: out= has dtype {}; fusejit writes f64, f32, i64, i32 or bool",
            untyped.dtype()
        )))
    }
}

/// The native module. Its classes and functions are re-exported by `fusejit/__init__.py`.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add_function(wrap_pyfunction!(compile, module)?)?;
    // SAFETY: `EVALUATE` is a valid, static method definition (never written, so CPython may
    // keep the pointer); the module is a valid object it binds as `self`. A null result is
    // the raised error, which `from_owned_ptr_or_err` takes.
    let evaluate = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyCFunction_NewEx(EVALUATE.as_ptr(), module.as_ptr(), module.name()?.as_ptr()),
        )?
    };
    module.add("evaluate", evaluate)?;
    module.add_function(wrap_pyfunction!(isa, module)?)?;
    module.add_function(wrap_pyfunction!(function_names, module)?)?;
    module.add_class::<Kernel>()?;
    let kernel_type = py.get_type::<Kernel>();
    // SAFETY: `KERNEL_EVAL` is a valid, static method definition (never written, so CPython
    // may keep the pointer); `kernel_type` is the `Kernel` class. A null result is the
    // raised error, which `from_owned_ptr_or_err` takes.
    let kernel_eval = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyDescr_NewMethod(kernel_type.as_type_ptr(), KERNEL_EVAL.as_ptr()),
        )?
    };
    kernel_type.setattr("eval", kernel_eval)?;
    module.add("Error", py.get_type::<Error>())?;
    module.add("CompileError", py.get_type::<CompileError>())?;
    module.add("EvalError", py.get_type::<EvalError>())?;
    module.add_class::<arrow_interchange::ArrowArrayExport>()?;
    Ok(())
}
