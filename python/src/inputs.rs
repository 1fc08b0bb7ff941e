//! Python values into fusejit bindings: NumPy arrays borrowed, masked arrays' masks as validity, Arrow through PyCapsules.
//!
//! Two phases, because bindings borrow: [`BoundInputs::from_scope`] holds every input (a
//! read-only NumPy borrow, an imported Arrow array, a scalar), then [`BoundInputs::bindings`]
//! lends them to fusejit. Nothing is copied except where a row says why (`copied`):
//! non-contiguous arrays, integer and float widths fusejit does not read, several Arrow
//! chunks, NumPy bools holding bytes other than 0 and 1, Python lists.

use crate::arrow_interchange;
use crate::{EvalError, to_py_error};
use arrow_array::{Array, ArrayRef};
use fusejit::{Bindings, Scalar, Validity};
use numpy::{
    PyArray1, PyArrayDescrMethods, PyArrayMethods, PyReadonlyArray1, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString, PyType};
use std::sync::Arc;

/// What the result is returned as: it follows the first column input.
pub(crate) enum OutputKind<'py> {
    /// NumPy arrays (NumPy, masked, pandas NumPy-backed and list inputs).
    NumPy,
    /// Arrow, in the library of this input (pyarrow, Polars, pandas): `fusejit._arrow`
    /// decides.
    Arrow(Bound<'py, PyAny>),
}

/// One input's values, held for the duration of a call.
enum Values<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
    I64(PyReadonlyArray1<'py, i64>),
    I32(PyReadonlyArray1<'py, i32>),
    /// A NumPy bool array viewed as bytes, every one checked to be 0 or 1.
    Bool(PyReadonlyArray1<'py, u8>),
    /// A NumPy bool array some of whose bytes were neither 0 nor 1 (NumPy reads any
    /// non-zero byte as true): normalised.
    OwnedBool(Vec<bool>),
    /// Stand-in f64 values for a name `explain` was not given.
    OwnedF64(Vec<f64>),
    Arrow(ArrayRef),
    Scalar(Scalar),
}

struct Input<'py> {
    /// Shared with the kernel's list of names (no allocation per call).
    name: Arc<str>,
    values: Values<'py>,
    /// A masked array's mask as an Arrow validity bitmap (1 = valid), LSB first.
    validity: Option<Vec<u8>>,
    /// `numpy`, `masked`, `arrow`, `scalar` or `default`.
    kind: &'static str,
    /// Why the values were copied, when they were.
    copied: Option<String>,
    /// The object the caller passed (for the result's kind).
    source: Bound<'py, PyAny>,
}

/// Every input of one call, held.
pub(crate) struct BoundInputs<'py> {
    inputs: Vec<Input<'py>>,
}

/// NumPy's types and functions this module uses, imported once.
struct Numpy<'py> {
    masked_array: &'py Bound<'py, PyType>,
    generic: &'py Bound<'py, PyType>,
    module: Bound<'py, PyModule>,
}

fn numpy(py: Python<'_>) -> PyResult<Numpy<'_>> {
    static MASKED_ARRAY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static GENERIC: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module = MODULE.get_or_try_init(py, || py.import("numpy").map(Bound::unbind))?.bind(py).clone();
    Ok(Numpy {
        masked_array: MASKED_ARRAY.import(py, "numpy.ma", "MaskedArray")?,
        generic: GENERIC.import(py, "numpy", "generic")?,
        module,
    })
}

fn eval_error(message: String) -> PyErr {
    EvalError::new_err(format!("error: {message}"))
}

/// Where one call's inputs come from, looked up by name.
pub(crate) enum Scope<'a, 'py> {
    /// A dict of names to values: `Kernel.eval`'s positional mapping, or a mapping merged
    /// with keywords.
    Dict(&'a Bound<'py, PyDict>),
    /// The column keywords of a vectorcall (`evaluate`'s or `Kernel.eval`'s), names and
    /// values side by side as CPython passes them: no dict is built for them.
    Keywords(&'a [(Borrowed<'a, 'py, PyString>, Borrowed<'a, 'py, PyAny>)]),
    /// Two mappings, the first winning: `evaluate`'s locals (or `local_dict`) and globals
    /// (or `global_dict`), as numexpr resolves names.
    Namespaces { locals: &'a Bound<'py, PyAny>, globals: &'a Bound<'py, PyAny> },
}

impl<'py> Scope<'_, 'py> {
    /// The value of the input called `name` (`key` is the same text as a Python string).
    pub(crate) fn get(&self, name: &str, key: &Bound<'py, PyString>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self {
            Scope::Dict(dict) => dict.get_item(key),
            Scope::Keywords(pairs) => {
                // CPython interns the keyword names of a call written in code, as the kernel
                // interns its keys: the same text is then the same object. Names built at
                // run time (`**{...}`) are compared by text.
                if let Some((_, value)) = pairs.iter().find(|(keyword, _)| keyword.as_ptr() == key.as_ptr()) {
                    return Ok(Some(Borrowed::to_owned(*value)));
                }
                for (keyword, value) in pairs.iter() {
                    if keyword.to_str()? == name {
                        return Ok(Some(Borrowed::to_owned(*value)));
                    }
                }
                Ok(None)
            }
            Scope::Namespaces { locals, globals } => {
                for namespace in [locals, globals] {
                    // A dict (almost always) answers a miss without raising a KeyError.
                    if let Ok(dict) = namespace.cast::<PyDict>() {
                        if let Some(value) = dict.get_item(key)? {
                            return Ok(Some(value));
                        }
                        continue;
                    }
                    match namespace.get_item(key) {
                        Ok(value) => return Ok(Some(value)),
                        Err(error)
                            if error.is_instance_of::<pyo3::exceptions::PyKeyError>(namespace.py()) => {}
                        Err(error) => return Err(error),
                    }
                }
                Ok(None)
            }
        }
    }
}

impl<'py> BoundInputs<'py> {
    /// Holds the value of every name the program reads that `scope` has; a name it lacks is
    /// left unbound, so that fusejit's own error lists what is bound and suggests the
    /// closest name.
    pub(crate) fn from_scope(
        py: Python<'py>,
        names: &[Arc<str>],
        keys: &[Py<PyString>],
        scope: &Scope<'_, 'py>,
    ) -> PyResult<Self> {
        let mut inputs = Vec::with_capacity(names.len());
        for (name, key) in names.iter().zip(keys) {
            if let Some(value) = scope.get(name, key.bind(py))? {
                inputs.push(convert(py, name, value)?);
            }
        }
        Ok(BoundInputs { inputs })
    }

    /// The row count of the column inputs (the first one's: fusejit checks the rest), or
    /// `None` when every input is a scalar.
    pub(crate) fn rows(&self) -> Option<usize> {
        self.inputs.iter().find_map(Input::rows)
    }

    /// As `from_scope`, with an f64 column without nulls (of the given columns' length) for
    /// every name `scope` lacks: for `explain`, where only types matter.
    pub(crate) fn from_scope_with_defaults(
        py: Python<'py>,
        names: &[Arc<str>],
        keys: &[Py<PyString>],
        scope: &Bound<'py, PyDict>,
    ) -> PyResult<Self> {
        let mut bound = BoundInputs::from_scope(py, names, keys, &Scope::Dict(scope))?;
        let rows = bound.rows().unwrap_or(1);
        for name in names {
            if !bound.inputs.iter().any(|input| input.name == *name) {
                bound.inputs.push(Input {
                    name: name.clone(),
                    values: Values::OwnedF64(vec![1.0; rows]),
                    validity: None,
                    kind: "default",
                    copied: None,
                    source: py.None().into_bound(py),
                });
            }
        }
        Ok(bound)
    }

    /// The held inputs lent to fusejit.
    pub(crate) fn bindings(&self) -> PyResult<Bindings<'_>> {
        let mut bindings = Bindings::with_capacity(self.inputs.len());
        for input in &self.inputs {
            let name: &str = &input.name;
            let validity = input.validity.as_deref().map(|bytes| Validity::new(bytes, 0));
            macro_rules! column {
                ($slice:expr) => {{
                    let values = $slice;
                    match validity {
                        Some(validity) => bindings.column_with_validity(name, values, validity),
                        None => bindings.column(name, values),
                    };
                }};
            }
            match &input.values {
                Values::F64(array) => column!(readonly_slice(array)?),
                Values::F32(array) => column!(readonly_slice(array)?),
                Values::I64(array) => column!(readonly_slice(array)?),
                Values::I32(array) => column!(readonly_slice(array)?),
                Values::Bool(bytes) => {
                    let bytes = readonly_slice(bytes)?;
                    debug_assert!(bytes.iter().all(|&byte| byte <= 1));
                    // SAFETY: `convert` checked that every byte of this (read-only borrowed,
                    // contiguous) array is 0 or 1, the only valid `bool` representations;
                    // `bool` has the size and alignment of `u8`; the slice borrows `bytes`.
                    let bools =
                        unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<bool>(), bytes.len()) };
                    column!(bools)
                }
                Values::OwnedBool(values) => column!(&values[..]),
                Values::OwnedF64(values) => column!(&values[..]),
                Values::Arrow(array) => {
                    bindings.bind_array(name, array.as_ref()).map_err(|error| to_py_error(error.into()))?;
                }
                Values::Scalar(scalar) => {
                    bindings.scalar(name, *scalar);
                }
            }
        }
        Ok(bindings)
    }

    /// NumPy out unless the first column input is Arrow.
    pub(crate) fn output_kind(&self) -> OutputKind<'py> {
        match self.inputs.iter().find(|input| input.rows().is_some()) {
            Some(input) if input.kind == "arrow" => OutputKind::Arrow(input.source.clone()),
            _ => OutputKind::NumPy,
        }
    }

    /// One dict per input: how it binds (see `Kernel.describe_inputs`).
    pub(crate) fn describe(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inputs
            .iter()
            .map(|input| {
                let row = PyDict::new(py);
                row.set_item("name", &*input.name)?;
                row.set_item("kind", input.kind)?;
                row.set_item("type", input.type_name())?;
                row.set_item("rows", input.rows())?;
                row.set_item("address", input.address()?)?;
                row.set_item("copied", input.copied.as_deref())?;
                row.set_item("nullable", input.validity.is_some() || input.arrow_nulls())?;
                Ok(row)
            })
            .collect()
    }
}

fn readonly_slice<'a, T: numpy::Element>(array: &'a PyReadonlyArray1<'_, T>) -> PyResult<&'a [T]> {
    array.as_slice().map_err(|error| eval_error(error.to_string()))
}

impl Input<'_> {
    fn rows(&self) -> Option<usize> {
        Some(match &self.values {
            Values::F64(array) => array.len(),
            Values::F32(array) => array.len(),
            Values::I64(array) => array.len(),
            Values::I32(array) => array.len(),
            Values::Bool(array) => array.len(),
            Values::OwnedBool(values) => values.len(),
            Values::OwnedF64(values) => values.len(),
            Values::Arrow(array) => array.len(),
            Values::Scalar(_) => return None,
        })
    }

    fn type_name(&self) -> String {
        match &self.values {
            Values::F64(_) | Values::OwnedF64(_) => "f64[]".into(),
            Values::F32(_) => "f32[]".into(),
            Values::I64(_) => "i64[]".into(),
            Values::I32(_) => "i32[]".into(),
            Values::Bool(_) | Values::OwnedBool(_) => "bool[]".into(),
            Values::Arrow(array) => match fusejit::Elem::from_arrow(array.data_type()) {
                Some(elem) => format!("{elem}[]"),
                None => format!("unsupported Arrow type {}", array.data_type()),
            },
            Values::Scalar(scalar) => scalar.elem().to_string(),
        }
    }

    /// The address of the first row's value (of the byte holding its bit, for packed
    /// bools), or `None` for a scalar.
    fn address(&self) -> PyResult<Option<usize>> {
        Ok(Some(match &self.values {
            Values::F64(array) => readonly_slice(array)?.as_ptr() as usize,
            Values::F32(array) => readonly_slice(array)?.as_ptr() as usize,
            Values::I64(array) => readonly_slice(array)?.as_ptr() as usize,
            Values::I32(array) => readonly_slice(array)?.as_ptr() as usize,
            Values::Bool(array) => readonly_slice(array)?.as_ptr() as usize,
            Values::OwnedBool(values) => values.as_ptr() as usize,
            Values::OwnedF64(values) => values.as_ptr() as usize,
            Values::Arrow(array) => arrow_interchange::first_value_address(array.as_ref()),
            Values::Scalar(_) => return Ok(None),
        }))
    }

    fn arrow_nulls(&self) -> bool {
        matches!(&self.values, Values::Arrow(array) if array.null_count() > 0)
    }
}

/// One Python value as an input.
fn convert<'py>(py: Python<'py>, name: &Arc<str>, value: Bound<'py, PyAny>) -> PyResult<Input<'py>> {
    let numpy = numpy(py)?;
    let input = |values, kind, copied: Option<String>, validity, source: &Bound<'py, PyAny>| Input {
        name: name.clone(),
        values,
        validity,
        kind,
        copied,
        source: source.clone(),
    };
    // The common cases first, by exact type: a plain ndarray, a Python float.
    if value.cast_exact::<PyUntypedArray>().is_ok() {
        return ndarray(&numpy, name, &value, &value, None, "numpy", None);
    }
    if value.cast_exact::<PyFloat>().is_ok() {
        return Ok(input(Values::Scalar(Scalar::F64(value.extract()?)), "scalar", None, None, &value));
    }
    if value.is_instance(numpy.masked_array)? {
        return masked_array(&numpy, name, &value);
    }
    if value.cast::<PyUntypedArray>().is_ok() {
        return ndarray(&numpy, name, &value, &value, None, "numpy", None);
    }
    if let Some(scalar) = python_scalar(&numpy, name, &value)? {
        return Ok(input(Values::Scalar(scalar), "scalar", None, None, &value));
    }
    let module = value.get_type().module()?;
    let module = module.to_cow()?;
    if module.starts_with("pandas") {
        // A pandas Series or Index: NumPy-backed dtypes as NumPy (no copy, NaN stays a value,
        // as in pandas); Arrow-backed and nullable extension dtypes through the Arrow stream.
        let numpy_backed =
            value.getattr("dtype").is_ok_and(|dtype| dtype.cast::<numpy::PyArrayDescr>().is_ok());
        if numpy_backed {
            let array = value.call_method0("to_numpy")?;
            return ndarray(&numpy, name, &array, &value, None, "numpy", None);
        }
        // A bare extension array (`pd.array([1, None], dtype="Int64")`, a Series' `.array`)
        // has no PyCapsule method: NumPy would read it as floats with NaN for its nulls.
        // pandas gives it to pyarrow instead, its mask becoming Arrow validity.
        let capsules = value.hasattr("__arrow_c_array__")? || value.hasattr("__arrow_c_stream__")?;
        if !capsules && value.hasattr("__arrow_array__")? {
            let arrow = value.call_method0("__arrow_array__")?;
            let (array, chunks) = if arrow.hasattr("__arrow_c_array__")? {
                (arrow_interchange::import_array(&arrow)?, 1)
            } else {
                arrow_interchange::import_stream(&arrow)?
            };
            // pyarrow takes the values in place (and builds a bitmap from a mask).
            let copied = (chunks > 1).then(|| format!("{chunks} Arrow chunks concatenated"));
            return Ok(input(Values::Arrow(array), "arrow", copied, None, &value));
        }
    }
    if value.hasattr("__arrow_c_array__")? {
        let array = arrow_interchange::import_array(&value)?;
        return Ok(input(Values::Arrow(array), "arrow", None, None, &value));
    }
    if value.hasattr("__arrow_c_stream__")? {
        let (array, chunks) = arrow_interchange::import_stream(&value)?;
        let copied = (chunks > 1).then(|| format!("{chunks} Arrow chunks concatenated"));
        return Ok(input(Values::Arrow(array), "arrow", copied, None, &value));
    }
    // Lists and anything else NumPy can read.
    let array = numpy.module.call_method1("asarray", (&value,)).map_err(|_| {
        eval_error(format!(
            "input '{name}' is a {}, which fusejit cannot read: pass a NumPy array, an Arrow array \
             or Series, or a number",
            value.get_type().name().map_or_else(|_| "value".into(), |name| name.to_string())
        ))
    })?;
    ndarray(&numpy, name, &array, &value, None, "numpy", Some("converted with numpy.asarray".into()))
}

/// Whether every byte is 0 or 1 (a `bool`'s only representations): the bytes OR-ed a chunk
/// at a time, a loop without an early exit that the compiler vectorises, where `all` would
/// test a byte at a time.
fn bytes_are_zero_or_one(bytes: &[u8]) -> bool {
    bytes.chunks(256).all(|chunk| chunk.iter().fold(0u8, |any, &byte| any | byte) <= 1)
}

/// A Python or NumPy number (or a zero-dimensional array), as a scalar; `None` if it is not
/// one.
fn python_scalar(numpy: &Numpy<'_>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<Option<Scalar>> {
    if value.is_instance(numpy.generic)? {
        let dtype = value.getattr("dtype")?.cast_into::<numpy::PyArrayDescr>()?;
        return numpy_scalar(name, value, &dtype).map(Some);
    }
    // bool before int: Python's bool is an int.
    if value.cast::<PyBool>().is_ok() {
        return Ok(Some(Scalar::Bool(value.extract()?)));
    }
    if value.cast::<PyInt>().is_ok() {
        let integer: i64 = value.extract().map_err(|_| {
            eval_error(format!("input '{name}' is an integer outside the i64 range: pass a float"))
        })?;
        return Ok(Some(Scalar::I64(integer)));
    }
    if value.cast::<PyFloat>().is_ok() {
        return Ok(Some(Scalar::F64(value.extract()?)));
    }
    Ok(None)
}

/// A NumPy scalar of `dtype`: f64/f32/i64/i32/bool as they are, narrower integers as i32,
/// u32 as i64, f16 as f32.
fn numpy_scalar(
    name: &str,
    value: &Bound<'_, PyAny>,
    dtype: &Bound<'_, numpy::PyArrayDescr>,
) -> PyResult<Scalar> {
    let (kind, size) = (dtype.kind(), dtype.itemsize());
    Ok(match (kind, size) {
        (b'f', 8) => Scalar::F64(value.extract()?),
        // f32 and f16 values are exact in f64, and f64 → f32 of them exact again.
        (b'f', 4) | (b'f', 2) => Scalar::F32(value.extract::<f64>()? as f32),
        (b'i', 8) | (b'u', 4) => Scalar::I64(value.extract()?),
        (b'i', 4 | 2 | 1) | (b'u', 2 | 1) => Scalar::I32(value.extract()?),
        (b'b', _) => Scalar::Bool(value.extract()?),
        _ => return Err(unsupported_dtype(name, dtype)),
    })
}

fn unsupported_dtype(name: &str, dtype: &Bound<'_, numpy::PyArrayDescr>) -> PyErr {
    let hint = if dtype.kind() == b'u' && dtype.itemsize() == 8 {
        " (uint64 does not fit i64: convert with .astype(np.int64) or .astype(np.float64))"
    } else {
        ""
    };
    eval_error(format!(
        "input '{name}' has dtype {dtype}, which fusejit does not read: use f64, f32, i64, i32 or bool{hint}"
    ))
}

/// A NumPy array (or the data of a masked array, with `validity`).
fn ndarray<'py>(
    numpy: &Numpy<'py>,
    name: &Arc<str>,
    array: &Bound<'py, PyAny>,
    source: &Bound<'py, PyAny>,
    validity: Option<Vec<u8>>,
    kind: &'static str,
    mut copied: Option<String>,
) -> PyResult<Input<'py>> {
    let untyped = array.cast::<PyUntypedArray>()?;
    if untyped.ndim() == 0 {
        if validity.as_ref().is_some_and(|bits| bits.first().is_some_and(|byte| byte & 1 == 0)) {
            return Err(eval_error(format!("input '{name}' is a masked scalar: pass a value")));
        }
        let dtype = untyped.dtype();
        let item = array.call_method1("__getitem__", ((),))?;
        let scalar = numpy_scalar(name, &item, &dtype)?;
        return Ok(Input {
            name: name.clone(),
            values: Values::Scalar(scalar),
            validity: None,
            kind: "scalar",
            copied: None,
            source: source.clone(),
        });
    }
    if untyped.ndim() != 1 {
        return Err(eval_error(format!(
            "input '{name}' has shape {:?}: fusejit columns are one-dimensional (pass a column, or .ravel())",
            untyped.shape()
        )));
    }
    let mut array = array.clone();
    if !untyped.is_c_contiguous() {
        array = numpy.module.call_method1("ascontiguousarray", (&array,))?;
        copied.get_or_insert_with(|| "not contiguous".into());
    }
    let held = |values| Input {
        name: name.clone(),
        values,
        validity: validity.clone(),
        kind,
        copied: copied.clone(),
        source: source.clone(),
    };
    if let Ok(typed) = array.cast::<PyArray1<f64>>() {
        return Ok(held(Values::F64(readonly(name, typed)?)));
    }
    if let Ok(typed) = array.cast::<PyArray1<f32>>() {
        return Ok(held(Values::F32(readonly(name, typed)?)));
    }
    if let Ok(typed) = array.cast::<PyArray1<i64>>() {
        return Ok(held(Values::I64(readonly(name, typed)?)));
    }
    if let Ok(typed) = array.cast::<PyArray1<i32>>() {
        return Ok(held(Values::I32(readonly(name, typed)?)));
    }
    let dtype = array.cast::<PyUntypedArray>()?.dtype();
    if dtype.kind() == b'b' {
        let bytes = array.call_method1("view", (numpy.module.getattr("uint8")?,))?;
        let typed = bytes.cast::<PyArray1<u8>>()?;
        let borrowed = readonly(name, typed)?;
        let slice = readonly_slice(&borrowed)?;
        if bytes_are_zero_or_one(slice) {
            return Ok(held(Values::Bool(borrowed)));
        }
        let normalised = slice.iter().map(|&byte| byte != 0).collect();
        let mut input = held(Values::OwnedBool(normalised));
        input.copied.get_or_insert_with(|| "bool bytes other than 0 and 1 normalised".into());
        return Ok(input);
    }
    // Widths and byte orders fusejit does not read: one widening (or byte-swapping) copy.
    let target = match (dtype.kind(), dtype.itemsize()) {
        (b'f', 8) => "float64",
        (b'f', 4) | (b'f', 2) => "float32",
        (b'i', 8) | (b'u', 4) => "int64",
        (b'i', 4 | 2 | 1) | (b'u', 2 | 1) => "int32",
        _ => return Err(unsupported_dtype(name, &dtype)),
    };
    let converted = array.call_method1("astype", (target,))?;
    let reason = format!("{dtype} converted to {target}");
    ndarray(numpy, name, &converted, source, validity, kind, Some(copied.unwrap_or(reason)))
}

fn readonly<'py, T: numpy::Element>(
    name: &str,
    array: &Bound<'py, PyArray1<T>>,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    array.try_readonly().map_err(|error| {
        eval_error(format!("input '{name}' cannot be read while it is borrowed for writing ({error})"))
    })
}

/// A masked array: its data borrowed, its mask turned into a validity bitmap.
fn masked_array<'py>(numpy: &Numpy<'py>, name: &Arc<str>, value: &Bound<'py, PyAny>) -> PyResult<Input<'py>> {
    let data = value.getattr("data")?;
    let mask = numpy.module.getattr("ma")?.call_method1("getmask", (value,))?;
    let validity = if mask.cast::<PyUntypedArray>().is_ok() {
        let mask = numpy.module.call_method1("ascontiguousarray", (&mask,))?;
        let untyped = mask.cast::<PyUntypedArray>()?;
        let data_shape = data.cast::<PyUntypedArray>()?.shape().to_vec();
        if untyped.shape() != data_shape.as_slice() {
            return Err(eval_error(format!(
                "input '{name}': the mask's shape {:?} is not the data's {data_shape:?}",
                untyped.shape()
            )));
        }
        let bytes = mask.call_method1("view", (numpy.module.getattr("uint8")?,))?;
        let typed = bytes.cast::<PyArray1<u8>>().map_err(|_| {
            eval_error(format!("input '{name}' is a masked array that is not one-dimensional"))
        })?;
        let borrowed = readonly(name, typed)?;
        let mask_bytes = readonly_slice(&borrowed)?;
        let mut bits = vec![0u8; mask_bytes.len().div_ceil(8)];
        for (row, &masked) in mask_bytes.iter().enumerate() {
            if masked == 0 {
                bits[row / 8] |= 1 << (row % 8);
            }
        }
        Some(bits)
    } else {
        None // `nomask`: every row valid
    };
    ndarray(numpy, name, &data, value, validity, "masked", None)
}
