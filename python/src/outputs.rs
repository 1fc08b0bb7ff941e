//! fusejit results as Python values: NumPy arrays that own fusejit's buffers (masked where null), Arrow through `fusejit._arrow`, Python scalars.

use crate::EvalError;
use crate::arrow_interchange::ArrowArrayExport;
use crate::inputs::OutputKind;
use fusejit::{Column, ColumnValues, Scalar, Shape};
use numpy::{PyArray1, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// How nulls come back in NumPy results (Arrow results carry them in their validity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NullStyle {
    /// A `numpy.ma.MaskedArray` when some row is null, a plain array otherwise.
    Mask,
    /// NaN in null rows of a float result (an error for other result types).
    Nan,
    /// Always `(values, mask)`, the mask a bool array that is true where a row is null.
    Separate,
}

impl NullStyle {
    pub(crate) fn parse(text: &str) -> PyResult<NullStyle> {
        match text {
            "mask" => Ok(NullStyle::Mask),
            "nan" => Ok(NullStyle::Nan),
            "separate" => Ok(NullStyle::Separate),
            other => Err(PyValueError::new_err(format!(
                "nulls={other:?}: expected \"mask\" (a masked array), \"nan\" or \"separate\" ((values, mask))"
            ))),
        }
    }
}

fn masked_array_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static MASKED_ARRAY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    MASKED_ARRAY.import(py, "numpy.ma", "MaskedArray")
}

/// A scalar result: a Python float, int or bool, or `None` when null.
fn scalar_to_python<'py>(py: Python<'py>, value: Option<Scalar>) -> PyResult<Bound<'py, PyAny>> {
    match value {
        None => Ok(py.None().into_bound(py)),
        Some(Scalar::F64(value)) => value.into_bound_py_any(py),
        Some(Scalar::F32(value)) => f64::from(value).into_bound_py_any(py),
        Some(Scalar::I64(value)) => value.into_bound_py_any(py),
        Some(Scalar::I32(value)) => value.into_bound_py_any(py),
        Some(Scalar::Bool(value)) => value.into_bound_py_any(py),
        Some(other) => {
            Err(EvalError::new_err(format!("error: a result of type {} is not supported", other.elem())))
        }
    }
}

/// Calls `null_row` for each null row among the first `len` of `validity` (1 = valid),
/// skipping 64 valid rows at a time: a result's nulls are often few (a lag's first rows), and
/// a byte at a time took about as long as the loop that computed the values.
fn for_each_null_row(validity: &[u8], len: usize, mut null_row: impl FnMut(usize)) {
    let bytes = &validity[..len.div_ceil(8).min(validity.len())];
    for (chunk_index, chunk) in bytes.chunks(8).enumerate() {
        if let Ok(word) = <[u8; 8]>::try_from(chunk)
            && u64::from_le_bytes(word) == u64::MAX
        {
            continue;
        }
        for (offset, &byte) in chunk.iter().enumerate().filter(|(_, byte)| **byte != 0xFF) {
            let first_row = (chunk_index * 8 + offset) * 8;
            for bit in 0..8 {
                let row = first_row + bit;
                if row < len && byte & (1 << bit) == 0 {
                    null_row(row);
                }
            }
        }
    }
}

/// The mask NumPy wants (true = null) from a validity bitmap (1 = valid): zeroed memory with
/// only the null rows written.
fn null_mask<'py>(py: Python<'py>, validity: Option<&[u8]>, len: usize) -> Bound<'py, PyArray1<bool>> {
    let mut mask = vec![false; len];
    if let Some(bits) = validity {
        for_each_null_row(bits, len, |row| mask[row] = true);
    }
    PyArray1::from_vec(py, mask)
}

/// Sets null rows to NaN.
fn fill_nan<T: Copy>(values: &mut [T], validity: &[u8], nan: T) {
    let len = values.len();
    for_each_null_row(validity, len, |row| values[row] = nan);
}

/// A result column in the kind of the inputs.
pub(crate) fn column_to_python<'py>(
    py: Python<'py>,
    column: Column,
    shape: Shape,
    nulls: NullStyle,
    kind: &OutputKind<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    if shape == Shape::Scalar {
        return scalar_to_python(py, column.get(0));
    }
    match kind {
        OutputKind::NumPy => numpy_column(py, column, nulls),
        OutputKind::Arrow(source) => {
            static FROM_FUSEJIT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
            let convert = FROM_FUSEJIT.get_or_try_init(py, || {
                py.import("fusejit._arrow")
                    .and_then(|module| module.getattr("from_fusejit"))
                    .map(Bound::unbind)
            })?;
            let export = Bound::new(py, ArrowArrayExport::new(column.into_array())?)?;
            convert.bind(py).call1((export, source))
        }
    }
}

/// A NumPy array that owns the result's values (no copy), masked or NaN-filled as asked.
fn numpy_column(py: Python<'_>, column: Column, nulls: NullStyle) -> PyResult<Bound<'_, PyAny>> {
    let Column { mut values, validity, null_count } = column;
    let len = values.len();
    if nulls == NullStyle::Nan
        && let Some(bits) = validity.as_deref().filter(|_| null_count > 0)
    {
        match &mut values {
            ColumnValues::F64(values) => fill_nan(values, bits, f64::NAN),
            ColumnValues::F32(values) => fill_nan(values, bits, f32::NAN),
            other => return Err(nan_needs_a_float(other.elem(), null_count)),
        }
    }
    let data = match values {
        ColumnValues::F64(values) => PyArray1::from_vec(py, values).into_any(),
        ColumnValues::F32(values) => PyArray1::from_vec(py, values).into_any(),
        ColumnValues::I64(values) => PyArray1::from_vec(py, values).into_any(),
        ColumnValues::I32(values) => PyArray1::from_vec(py, values).into_any(),
        ColumnValues::Bool(values) => PyArray1::from_vec(py, values).into_any(),
        other => {
            return Err(EvalError::new_err(format!(
                "error: a result of type {} is not supported",
                other.elem()
            )));
        }
    };
    with_nulls(py, data, validity.as_deref(), null_count, len, nulls)
}

/// `data` with its nulls, as `nulls` asks.
fn with_nulls<'py>(
    py: Python<'py>,
    data: Bound<'py, PyAny>,
    validity: Option<&[u8]>,
    null_count: usize,
    len: usize,
    nulls: NullStyle,
) -> PyResult<Bound<'py, PyAny>> {
    match nulls {
        NullStyle::Separate => {
            let mask = null_mask(py, validity.filter(|_| null_count > 0), len);
            Ok(PyTuple::new(py, [data, mask.into_any()])?.into_any())
        }
        NullStyle::Nan => Ok(data),
        NullStyle::Mask if null_count == 0 => Ok(data),
        NullStyle::Mask => {
            let keywords = PyDict::new(py);
            keywords.set_item("mask", null_mask(py, validity, len))?;
            keywords.set_item("copy", false)?;
            masked_array_type(py)?.call((data,), Some(&keywords))
        }
    }
}

/// `nulls="nan"` asked of a result that has no NaN.
fn nan_needs_a_float(elem: fusejit::Elem, null_count: usize) -> PyErr {
    EvalError::new_err(format!(
        "error: nulls=\"nan\" needs a float result, but the result is {elem} with {null_count} nulls: \
         use nulls=\"mask\" or nulls=\"separate\""
    ))
}

/// A result a short call wrote into a new NumPy `array` of `elem`, with its nulls as
/// `nulls` asks: what `numpy_column` makes of the same values.
pub(crate) fn finish_new<'py>(
    py: Python<'py>,
    array: Bound<'py, PyAny>,
    elem: fusejit::Elem,
    validity: &[u8],
    null_count: usize,
    nulls: NullStyle,
) -> PyResult<Bound<'py, PyAny>> {
    let len = array.cast::<numpy::PyUntypedArray>()?.len();
    if nulls == NullStyle::Nan && null_count > 0 && !fill_float_nulls_with_nan(&array, validity)? {
        return Err(nan_needs_a_float(elem, null_count));
    }
    with_nulls(py, array, Some(validity), null_count, len, nulls)
}

/// Sets the null rows of a float NumPy `array` to NaN; false (and nothing written) for an
/// array of another type.
fn fill_float_nulls_with_nan(array: &Bound<'_, PyAny>, validity: &[u8]) -> PyResult<bool> {
    if let Ok(values) = array.cast::<PyArray1<f64>>() {
        fill_nan(values.readwrite().as_slice_mut()?, validity, f64::NAN);
    } else if let Ok(values) = array.cast::<PyArray1<f32>>() {
        fill_nan(values.readwrite().as_slice_mut()?, validity, f32::NAN);
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// `eval(..., out=array)`'s return: the caller's array with its nulls as `nulls` asks.
pub(crate) fn finish_out<'py>(
    py: Python<'py>,
    out: &Bound<'py, PyAny>,
    validity: &[u8],
    null_count: usize,
    nulls: NullStyle,
) -> PyResult<Bound<'py, PyAny>> {
    let len = out.cast::<numpy::PyUntypedArray>()?.len();
    if nulls == NullStyle::Nan && null_count > 0 && !fill_float_nulls_with_nan(out, validity)? {
        return Err(EvalError::new_err(format!(
            "error: nulls=\"nan\" needs a float result, but out= has {null_count} nulls and no NaN: \
             use nulls=\"mask\" or nulls=\"separate\""
        )));
    }
    with_nulls(py, out.clone(), Some(validity), null_count, len, nulls)
}
