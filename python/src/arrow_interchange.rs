//! The Arrow PyCapsule interface: arrays and streams in (`__arrow_c_array__`, `__arrow_c_stream__`), arrays out, without copies.
//!
//! The capsules carry the Arrow C Data Interface's structs. Importing moves the struct out of
//! its capsule (leaving it released, as the protocol asks), so the imported array owns the
//! producer's buffers until it is dropped; exporting hands our buffers over the same way.

use crate::EvalError;
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi, to_ffi};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{Array, ArrayRef, make_array};
use arrow_schema::{DataType, Field};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};
use std::ffi::{CStr, c_void};
use std::sync::Mutex;

const SCHEMA_NAME: &CStr = c"arrow_schema";
const ARRAY_NAME: &CStr = c"arrow_array";
const STREAM_NAME: &CStr = c"arrow_array_stream";

fn arrow_error(message: impl std::fmt::Display) -> PyErr {
    EvalError::new_err(format!("error: {message}"))
}

/// The pointer a capsule named `name` holds.
fn capsule_pointer(capsule: &Bound<'_, PyAny>, name: &CStr) -> PyResult<*mut c_void> {
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| {
        arrow_error(format!("the Arrow PyCapsule interface returned something other than a {name:?} capsule"))
    })?;
    let pointer = capsule
        .pointer_checked(Some(name))
        .map_err(|_| arrow_error(format!("expected an Arrow capsule named {name:?}")))?;
    Ok(pointer.as_ptr())
}

/// The array of `value.__arrow_c_array__()`, moved out of its capsule.
pub(crate) fn import_array(value: &Bound<'_, PyAny>) -> PyResult<ArrayRef> {
    let capsules = value.call_method0("__arrow_c_array__")?;
    let capsules =
        capsules.cast::<PyTuple>().map_err(|_| arrow_error("__arrow_c_array__ did not return a tuple"))?;
    if capsules.len() != 2 {
        return Err(arrow_error("__arrow_c_array__ did not return (schema, array) capsules"));
    }
    let schema = capsule_pointer(&capsules.get_item(0)?, SCHEMA_NAME)?.cast::<FFI_ArrowSchema>();
    let array = capsule_pointer(&capsules.get_item(1)?, ARRAY_NAME)?.cast::<FFI_ArrowArray>();
    // SAFETY: the capsules are named "arrow_schema" and "arrow_array" (checked above), so by
    // the PyCapsule interface they hold a valid ArrowSchema and ArrowArray of the C Data
    // Interface. `from_raw` moves the array out, leaving a released struct behind, so the
    // capsule's destructor will not release it again; the schema is only read, and stays
    // alive in its capsule (held by `capsules`) for this call.
    let data = unsafe {
        let array = FFI_ArrowArray::from_raw(array);
        from_ffi(array, &*schema)
    }
    .map_err(arrow_error)?;
    Ok(make_array(data))
}

/// Every chunk of `value.__arrow_c_stream__()`, concatenated when there are several (one
/// copy; the returned count says how many there were).
pub(crate) fn import_stream(value: &Bound<'_, PyAny>) -> PyResult<(ArrayRef, usize)> {
    let capsule = value.call_method0("__arrow_c_stream__")?;
    let pointer = capsule_pointer(&capsule, STREAM_NAME)?.cast::<FFI_ArrowArrayStream>();
    // SAFETY: the capsule is named "arrow_array_stream", so it holds a valid
    // ArrowArrayStream; `from_raw` moves it out and leaves a released one behind.
    let mut stream = unsafe { FFI_ArrowArrayStream::from_raw(pointer) };
    let stream_error = |stream: &mut FFI_ArrowArrayStream, code: i32| {
        let message = stream
            .get_last_error
            // SAFETY: the stream is live (not released); the callback returns null or a
            // NUL-terminated string valid until the next call on the stream.
            .map(|get| unsafe { get(stream) })
            .filter(|text| !text.is_null())
            // SAFETY: non-null, NUL-terminated (see above), read before the next call.
            .map(|text| unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("error code {code}"));
        arrow_error(format!("the Arrow stream failed: {message}"))
    };
    let get_schema = stream.get_schema.ok_or_else(|| arrow_error("the Arrow stream is released"))?;
    let get_next = stream.get_next.ok_or_else(|| arrow_error("the Arrow stream is released"))?;
    let mut schema = FFI_ArrowSchema::empty();
    // SAFETY: a live stream and a writable schema struct, as the C Stream Interface asks.
    let code = unsafe { get_schema(&mut stream, &mut schema) };
    if code != 0 {
        return Err(stream_error(&mut stream, code));
    }
    let data_type = DataType::try_from(&schema).map_err(arrow_error)?;
    let mut chunks: Vec<ArrayRef> = Vec::new();
    loop {
        let mut array = FFI_ArrowArray::empty();
        // SAFETY: as above; the stream writes a chunk, or a released array at its end.
        let code = unsafe { get_next(&mut stream, &mut array) };
        if code != 0 {
            return Err(stream_error(&mut stream, code));
        }
        if array.is_released() {
            break;
        }
        // SAFETY: a chunk the stream produced for `schema` (the C Stream Interface); the
        // imported data owns it from here.
        let data = unsafe { from_ffi(array, &schema) }.map_err(arrow_error)?;
        chunks.push(make_array(data));
    }
    let count = chunks.len();
    let array = match count {
        0 => arrow_array::new_empty_array(&data_type),
        1 => chunks.pop().expect("one chunk"),
        _ => {
            let parts: Vec<&dyn Array> = chunks.iter().map(|chunk| chunk.as_ref()).collect();
            arrow_select::concat::concat(&parts).map_err(arrow_error)?
        }
    };
    Ok((array, count))
}

/// The address of the first row's value of a primitive or boolean array (of the byte that
/// holds its bit, for booleans), or of the array's first buffer.
pub(crate) fn first_value_address(array: &dyn Array) -> usize {
    let data = array.to_data();
    let Some(buffer) = data.buffers().first() else { return 0 };
    let start = buffer.as_ptr() as usize;
    match data.data_type().primitive_width() {
        Some(width) => start + data.offset() * width,
        None => start + data.offset() / 8,
    }
}

/// A fusejit result as Arrow, exported once through `__arrow_c_array__`: what
/// `pyarrow.array(export)` (and any other Arrow PyCapsule consumer) imports without a copy.
#[pyclass(module = "fusejit", name = "ArrowArrayExport", frozen)]
pub(crate) struct ArrowArrayExport {
    parts: Mutex<Option<(FFI_ArrowSchema, FFI_ArrowArray)>>,
    len: usize,
    data_type: String,
}

impl ArrowArrayExport {
    pub(crate) fn new(array: ArrayRef) -> PyResult<Self> {
        let field = Field::new("result", array.data_type().clone(), array.null_count() > 0);
        let (ffi_array, _) = to_ffi(&array.to_data()).map_err(arrow_error)?;
        let schema = FFI_ArrowSchema::try_from(&field).map_err(arrow_error)?;
        Ok(ArrowArrayExport {
            len: array.len(),
            data_type: array.data_type().to_string(),
            parts: Mutex::new(Some((schema, ffi_array))),
        })
    }
}

#[pymethods]
impl ArrowArrayExport {
    /// The Arrow PyCapsule interface: `(schema, array)` capsules. The array can be taken
    /// once; a requested schema other than the array's own is not supported.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let _ = requested_schema; // the producer may ignore it (the interface allows that)
        let (schema, array) = self
            .parts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .ok_or_else(|| arrow_error("this fusejit result was already exported"))?;
        let schema = PyCapsule::new_with_value(py, schema, SCHEMA_NAME)?;
        let array = PyCapsule::new_with_value(py, array, ARRAY_NAME)?;
        PyTuple::new(py, [schema.into_any(), array.into_any()])
    }

    fn __len__(&self) -> usize {
        self.len
    }

    fn __repr__(&self) -> String {
        format!("fusejit.ArrowArrayExport({} rows of {})", self.len, self.data_type)
    }
}
