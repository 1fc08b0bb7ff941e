//! Short calls of `Kernel.eval` and `evaluate` on plain NumPy arrays: read and written through NumPy's raw pointers, as NumPy's own ufuncs do.
//!
//! A call qualifies when every input is an exact `numpy.ndarray` (one-dimensional,
//! C-contiguous, aligned, native f64/f32/i64/i32) or an exact Python `float`, `int` or
//! `bool`, at least one a column; the columns are shorter than [`GIL_RELEASE_MIN_ROWS`],
//! so the call keeps the GIL; and the result goes into `out=`, such an array, writeable,
//! whose bytes overlap no input's, or, without `out=`, into a new NumPy array the call
//! makes (a numeric column result: a bool or scalar result is the general path's). Anything
//! else — or anything unusual about these — takes the general path ([`crate::inputs`]),
//! which binds exactly the same values and says what is wrong.
//!
//! Why no rust-numpy borrow: its table is advisory, kept by Rust code that uses
//! rust-numpy's safe accessors so that they never hand out aliasing references; NumPy,
//! Python code and C extensions (numexpr, numba) read and write arrays without it, and
//! rust-numpy leaves such unchecked code to its author. Registering three arrays in it
//! and releasing them is most of what a 16-row call costs, so a short call acts as NumPy
//! does and checks what aliasing it can create itself:
//! - its only mutable slice (`out=`, or the array it made) overlaps none of the slices it
//!   reads (byte ranges compared, as rust-numpy compares the ranges of views of one base);
//! - the GIL is held from the first look at the arrays to the last write, and no Python
//!   code runs in between (no conversion, no callback), so no other thread can free,
//!   resize or register a borrow of these arrays meanwhile; each is also held by a strong
//!   reference for the call.
//!
//! Longer calls release the GIL, so another thread could take a rust-numpy borrow of an
//! input meanwhile: they register theirs (the general path).

use crate::GIL_RELEASE_MIN_ROWS;
use crate::inputs::Scope;
use crate::outputs::{self, NullStyle};
use fusejit::{Binding, ColumnData, ColumnMut, ColumnRef, Elem, Scalar, Shape, Specialized, Type, ValuesMut};
use numpy::npyffi::{self, NPY_ARRAY_ALIGNED, NPY_ARRAY_C_CONTIGUOUS, NPY_ARRAY_WRITEABLE};
use numpy::{PyArray1, PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// The element types a short call reads and writes in place.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Numeric {
    F64,
    F32,
    I64,
    I32,
}

impl Numeric {
    fn size(self) -> usize {
        match self {
            Numeric::F64 | Numeric::I64 => 8,
            Numeric::F32 | Numeric::I32 => 4,
        }
    }
}

/// A plain NumPy array's memory, as NumPy describes it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct RawArray {
    data: *mut u8,
    len: usize,
    elem: Numeric,
}

/// NumPy's `ndarray` type and its built-in native-order descriptors of the four numeric
/// types, as addresses to compare with (NumPy keeps them for the life of the process).
struct NumpyTypes {
    ndarray: usize,
    descriptors: [(usize, Numeric); 4],
}

fn numpy_types(py: Python<'_>) -> &'static NumpyTypes {
    static TYPES: OnceLock<NumpyTypes> = OnceLock::new();
    TYPES.get_or_init(|| {
        let descriptor = |descr: Bound<'_, numpy::PyArrayDescr>| {
            let address = descr.as_ptr() as usize;
            // Kept alive for the process: the address stays NumPy's built-in descriptor.
            std::mem::forget(descr);
            address
        };
        NumpyTypes {
            ndarray: <PyUntypedArray as pyo3::PyTypeInfo>::type_object_raw(py) as usize,
            descriptors: [
                (descriptor(numpy::dtype::<f64>(py)), Numeric::F64),
                (descriptor(numpy::dtype::<f32>(py)), Numeric::F32),
                (descriptor(numpy::dtype::<i64>(py)), Numeric::I64),
                (descriptor(numpy::dtype::<i32>(py)), Numeric::I32),
            ],
        }
    })
}

impl RawArray {
    /// `value` as a plain array of a type fusejit reads in place: an exact `ndarray`, one
    /// dimension, C-contiguous and aligned (`flags` more besides), native byte order.
    fn of(types: &NumpyTypes, value: &Bound<'_, PyAny>, flags: i32) -> Option<RawArray> {
        if value.get_type_ptr() as usize != types.ndarray {
            return None;
        }
        // SAFETY: `value`'s type is exactly `numpy.ndarray` (checked just above).
        let array = unsafe { value.cast_unchecked::<PyUntypedArray>() };
        if array.ndim() != 1 {
            return None;
        }
        // SAFETY: `array` is a live ndarray (checked just above, held by `value`), whose
        // object fields NumPy's C API gives access to; `nd == 1` makes `dimensions[0]` its
        // length.
        let (data, len, array_flags, descr) = unsafe {
            let fields = &*npyffi::_PyArray_GET_ITEM_DATA(array.as_array_ptr());
            (fields.data.cast::<u8>(), *fields.dimensions, fields.flags, fields.descr as usize)
        };
        let wanted = NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED | flags;
        if array_flags & wanted != wanted || len < 0 {
            return None;
        }
        // Arrays NumPy makes share its built-in descriptors; any other is read field by field.
        let elem = match types.descriptors.iter().find(|(address, _)| *address == descr) {
            Some(&(_, elem)) => elem,
            None => {
                let dtype = array.dtype();
                if dtype.is_native_byteorder() != Some(true) {
                    return None;
                }
                match (dtype.kind(), dtype.itemsize()) {
                    (b'f', 8) => Numeric::F64,
                    (b'f', 4) => Numeric::F32,
                    (b'i', 8) => Numeric::I64,
                    (b'i', 4) => Numeric::I32,
                    _ => return None,
                }
            }
        };
        Some(RawArray { data, len: len as usize, elem })
    }

    /// The byte range the array's values occupy.
    fn bytes(&self) -> std::ops::Range<usize> {
        let start = self.data as usize;
        start..start + self.len * self.elem.size()
    }

    /// The values as a column.
    ///
    /// # Safety
    /// The array must stay alive and unwritten for `'a`, and its fields must be as
    /// [`RawArray::of`] read them.
    unsafe fn column<'a>(&self) -> ColumnData<'a> {
        let data = self.slice_start();
        // SAFETY: a C-contiguous, aligned array of `len` values of `elem` starts at `data`
        // (`RawArray::of`; `slice_start` for an empty one), alive and unwritten for `'a`
        // (the caller).
        unsafe {
            match self.elem {
                Numeric::F64 => ColumnData::F64(std::slice::from_raw_parts(data.cast(), self.len)),
                Numeric::F32 => ColumnData::F32(std::slice::from_raw_parts(data.cast(), self.len)),
                Numeric::I64 => ColumnData::I64(std::slice::from_raw_parts(data.cast(), self.len)),
                Numeric::I32 => ColumnData::I32(std::slice::from_raw_parts(data.cast(), self.len)),
            }
        }
    }

    /// Where a slice of the values starts: `data`, or for an empty array an aligned dangling
    /// pointer (NumPy calls an empty array aligned whatever its pointer; a Rust slice needs
    /// alignment even when empty, and 8 bytes serve all four types).
    fn slice_start(&self) -> *mut u8 {
        if self.len == 0 { std::ptr::dangling_mut::<u64>().cast() } else { self.data }
    }

    /// The values as the buffer a result is written into.
    ///
    /// # Safety
    /// The array must stay alive for `'a`, writeable, and neither read nor written through
    /// anything else meanwhile; its fields must be as [`RawArray::of`] read them.
    unsafe fn values_mut<'a>(&self) -> ValuesMut<'a> {
        let data = self.slice_start();
        // SAFETY: as `column`, and nothing else touches the values for `'a` (the caller).
        unsafe {
            match self.elem {
                Numeric::F64 => ValuesMut::F64(std::slice::from_raw_parts_mut(data.cast(), self.len)),
                Numeric::F32 => ValuesMut::F32(std::slice::from_raw_parts_mut(data.cast(), self.len)),
                Numeric::I64 => ValuesMut::I64(std::slice::from_raw_parts_mut(data.cast(), self.len)),
                Numeric::I32 => ValuesMut::I32(std::slice::from_raw_parts_mut(data.cast(), self.len)),
            }
        }
    }
}

/// One input of a short call.
#[derive(Clone, Copy)]
enum ShortInput {
    Column(RawArray),
    Scalar(Scalar),
}

impl ShortInput {
    /// `value` as a plain array or an exact Python number, bound as the general path binds
    /// them (`inputs::convert`); `None` for anything else.
    fn of(types: &NumpyTypes, value: &Bound<'_, PyAny>) -> Option<ShortInput> {
        if let Some(array) = RawArray::of(types, value, 0) {
            return Some(ShortInput::Column(array));
        }
        if let Ok(float) = value.cast_exact::<PyFloat>() {
            return Some(ShortInput::Scalar(Scalar::F64(float.value())));
        }
        if let Ok(flag) = value.cast_exact::<PyBool>() {
            return Some(ShortInput::Scalar(Scalar::Bool(flag.is_true())));
        }
        if value.is_exact_instance_of::<PyInt>() {
            // Beyond i64 the general path explains the error.
            return value.extract::<i64>().ok().map(|integer| ShortInput::Scalar(Scalar::I64(integer)));
        }
        None
    }
}

/// The types of a short call's inputs, in order: inputs of the same types have the same
/// signature, since a short call's columns have no bitmaps.
type InputTypes = smallvec::SmallVec<[Type; MAX_INPUTS]>;

/// The specialisation a kernel's short calls last used, kept on the Python `Kernel` with
/// the types of inputs it was made for: a call with inputs of the same types runs it without
/// looking up names or signatures.
#[derive(Default)]
pub(crate) struct LastSpecialization(Mutex<Option<(InputTypes, Arc<Specialized>)>>);

impl LastSpecialization {
    /// The specialisation for a short call's `inputs`: the last one if they are of its types,
    /// else the kernel's (compiled if need be), kept for the next call.
    fn for_inputs(
        &self,
        kernel: &fusejit::Kernel,
        inputs: &[Binding<'_>],
    ) -> Result<Arc<Specialized>, fusejit::Error> {
        if let Some((types, last)) = &*self.0.lock().unwrap_or_else(PoisonError::into_inner)
            && types.iter().copied().eq(inputs.iter().map(Binding::ty))
        {
            return Ok(last.clone());
        }
        let specialized = Arc::new(kernel.specialized(inputs)?);
        let types = inputs.iter().map(Binding::ty).collect();
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some((types, specialized.clone()));
        Ok(specialized)
    }
}

/// The most inputs a short call takes: its values live in arrays on the stack.
const MAX_INPUTS: usize = 8;

/// The value of every input name in `scope`, or `None` if one is missing or its lookup
/// raised (the general path looks again and reports it).
fn look_up_in<'py>(
    py: Python<'py>,
    scope: &Scope<'_, 'py>,
    (names, keys): (&[Arc<str>], &[Py<PyString>]),
) -> Option<[Option<Bound<'py, PyAny>>; MAX_INPUTS]> {
    let mut found = [const { None }; MAX_INPUTS];
    for ((value, name), key) in found.iter_mut().zip(names).zip(keys) {
        *value = Some(scope.get(name, key.bind(py)).ok()??);
    }
    Some(found)
}

/// A new NumPy array of `rows` zeros for a result of `elem`, and its memory; `None` for a
/// bool result (the general path makes those).
fn new_result<'py>(
    py: Python<'py>,
    types: &NumpyTypes,
    elem: Elem,
    rows: usize,
) -> Option<(Bound<'py, PyAny>, RawArray)> {
    let array = match elem {
        Elem::F64 => PyArray1::<f64>::zeros(py, rows, false).into_any(),
        Elem::F32 => PyArray1::<f32>::zeros(py, rows, false).into_any(),
        Elem::I64 => PyArray1::<i64>::zeros(py, rows, false).into_any(),
        Elem::I32 => PyArray1::<i32>::zeros(py, rows, false).into_any(),
        _ => return None,
    };
    let raw = RawArray::of(types, &array, NPY_ARRAY_WRITEABLE)?;
    Some((array, raw))
}

/// `kernel.eval(...)` (and `evaluate`) as a short call — into `out` when given, else into a
/// new array — or `None` when the call does not qualify (see the module's documentation)
/// and must take the general path. Everything that decides is checked before anything is
/// written.
pub(crate) fn eval<'py>(
    py: Python<'py>,
    (kernel, last): (&fusejit::Kernel, &LastSpecialization),
    (names, keys): (&[Arc<str>], &[Py<PyString>]),
    scope: &Scope<'_, 'py>,
    out: Option<&Bound<'py, PyAny>>,
    nulls: NullStyle,
) -> Option<PyResult<Bound<'py, PyAny>>> {
    let count = keys.len();
    if count > MAX_INPUTS {
        return None;
    }
    // Strong references for the call: nothing can free these arrays before it returns.
    // Looked up first, since a lookup may run Python code (a key's `__eq__`, a mapping's
    // `__getitem__`); from the first array read below to the last write, none runs.
    let held = look_up_in(py, scope, (names, keys))?;
    let types = numpy_types(py);
    let mut inputs = [ShortInput::Scalar(Scalar::Bool(false)); MAX_INPUTS];
    let mut rows = None;
    for (value, input) in held.iter().zip(&mut inputs).take(count) {
        *input = ShortInput::of(types, value.as_ref()?)?;
        if let ShortInput::Column(array) = input {
            // Columns of different lengths: the general path names them.
            if *rows.get_or_insert(array.len) != array.len {
                return None;
            }
        }
    }
    let rows = rows.filter(|&rows| rows < GIL_RELEASE_MIN_ROWS)?;
    let inputs = &inputs[..count];
    let target = match out {
        Some(out) => {
            let target = RawArray::of(types, out, NPY_ARRAY_WRITEABLE)?;
            let written = target.bytes();
            let overlaps = |read: std::ops::Range<usize>| {
                !read.is_empty()
                    && !written.is_empty()
                    && read.start < written.end
                    && written.start < read.end
            };
            let overlapping = inputs
                .iter()
                .any(|input| matches!(input, ShortInput::Column(array) if overlaps(array.bytes())));
            if target.len != rows || overlapping {
                return None;
            }
            Some(target)
        }
        None => None,
    };
    let mut bindings = [Binding::Scalar(Scalar::Bool(false)); MAX_INPUTS];
    for (binding, input) in bindings.iter_mut().zip(inputs) {
        *binding = match input {
            // SAFETY: `held` keeps the array alive for this function; the GIL stays held
            // and no Python code runs until the bindings drop (the one call into NumPy, a
            // new result array, is followed by a check that every input is as read here),
            // so nothing writes the array meanwhile but the result, whose bytes it does
            // not overlap (`out=` checked above, a new array made below).
            ShortInput::Column(array) => {
                Binding::Column(ColumnRef { data: unsafe { array.column() }, validity: None })
            }
            ShortInput::Scalar(scalar) => Binding::Scalar(*scalar),
        };
    }
    let bindings = &bindings[..count];
    let specialized = match last.for_inputs(kernel, bindings) {
        Ok(specialized) => specialized,
        Err(error) => return Some(Err(crate::to_py_error(error))),
    };
    let (result, target) = match (out, target) {
        (Some(out), Some(target)) => (out.clone(), target),
        _ => {
            // A scalar or bool result: the general path returns a Python value or a bool
            // array.
            let ty = specialized.result_type();
            if ty.shape == Shape::Scalar {
                return None;
            }
            let made = new_result(py, types, ty.elem, rows)?;
            // Making an array runs no Python code (an ndarray is not tracked by the garbage
            // collector, and NumPy allocates it), but NumPy's allocator can be replaced: the
            // inputs are read again, and must be as the bindings saw them.
            for (value, input) in held.iter().zip(inputs) {
                if let ShortInput::Column(array) = input
                    && RawArray::of(types, value.as_ref()?, 0) != Some(*array)
                {
                    return None;
                }
            }
            made
        }
    };
    // The result's bitmap, read back only to find its nulls (`rows` is under
    // `GIL_RELEASE_MIN_ROWS`).
    let mut bitmap = [0u8; GIL_RELEASE_MIN_ROWS / 8];
    let validity = &mut bitmap[..rows.div_ceil(8)];
    let summary = {
        // SAFETY: the result array (`out=`, alive through the caller's reference, or the new
        // one `result` holds) is writeable (checked), and for this block nothing else reads
        // or writes it: the inputs overlap none of its bytes and the GIL is held with no
        // Python code running.
        let values = unsafe { target.values_mut() };
        let mut column = ColumnMut { values, validity: &mut *validity };
        specialized.eval_column_into(bindings, &mut column)
    };
    drop(held);
    let summary = match summary {
        Ok(summary) => summary,
        Err(error) if out.is_some() => return Some(Err(crate::out_error(error))),
        Err(error) => return Some(Err(crate::to_py_error(error))),
    };
    if summary.len != rows {
        return Some(Err(crate::EvalError::new_err(format!(
            "error: the result has {} rows, the inputs {rows}",
            summary.len
        ))));
    }
    if summary.null_count == 0 && nulls != NullStyle::Separate {
        // No null to mark or fill: the array as it is (what `finish_out` returns then).
        return Some(Ok(result));
    }
    Some(match out {
        Some(out) => outputs::finish_out(py, out, validity, summary.null_count, nulls),
        None => outputs::finish_new(
            py,
            result,
            specialized.result_type().elem,
            validity,
            summary.null_count,
            nulls,
        ),
    })
}
