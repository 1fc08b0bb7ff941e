//! Entry points CPython calls with the vectorcall convention, for the calls whose keywords pyo3 would pack into a dict.
//!
//! pyo3 hands a function with `**keywords` its keywords as a dict: CPython builds one from
//! the call's keyword names and values, and pyo3 copies the unknown ones into another, on
//! every call. `fusejit.evaluate(expr, x=x, y=y)` and `Kernel.eval(x=x, out=out)` take their
//! columns as keywords, so they are registered by hand as `METH_FASTCALL | METH_KEYWORDS`
//! functions (the limited API has them from Python 3.10) and read each keyword where
//! CPython passes it. [`call`] is the one place that turns CPython's raw arguments into
//! borrowed Python objects; the parsing of each signature stays with its function.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

/// A call's positional arguments, borrowed for the call.
pub(crate) type Positional<'a, 'py> = [Borrowed<'a, 'py, PyAny>];

/// A call's keyword arguments as (name, value), in the call's order, borrowed for the call.
pub(crate) type Keywords<'a, 'py> = [(Borrowed<'a, 'py, PyString>, Borrowed<'a, 'py, PyAny>)];

/// A method definition CPython may keep a pointer to for the life of the process.
pub(crate) struct MethodDef(ffi::PyMethodDef);

// SAFETY: a `MethodDef` holds pointers to static C strings and to a function and is never
// written after its static initialisation; CPython only reads it.
unsafe impl Sync for MethodDef {}

impl MethodDef {
    /// The definition of a `METH_FASTCALL | METH_KEYWORDS` function or method.
    pub(crate) const fn fastcall_with_keywords(
        name: &'static std::ffi::CStr,
        function: ffi::PyCFunctionFastWithKeywords,
        doc: &'static std::ffi::CStr,
    ) -> MethodDef {
        MethodDef(ffi::PyMethodDef {
            ml_name: name.as_ptr(),
            ml_meth: ffi::PyMethodDefPointer { PyCFunctionFastWithKeywords: function },
            ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
            ml_doc: doc.as_ptr(),
        })
    }

    /// The pointer CPython's constructors take (`PyCFunction_NewEx`, `PyDescr_NewMethod`).
    pub(crate) fn as_ptr(&'static self) -> *mut ffi::PyMethodDef {
        // CPython takes a `*mut` for historical reasons and never writes through it.
        std::ptr::from_ref(&self.0).cast_mut()
    }
}

/// Runs `body` over a vectorcall's arguments and hands its result (or its error, or a panic
/// as a `PanicException`) back to CPython.
///
/// # Safety
///
/// The caller is a `METH_FASTCALL | METH_KEYWORDS` entry point, called by CPython with the
/// thread attached to the interpreter; `args` holds `nargs` positional arguments followed by
/// one value per name of the `kwnames` tuple (or `kwnames` is null), every one a valid
/// reference borrowed for the duration of the call.
pub(crate) unsafe fn call(
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
    body: impl for<'a, 'py> FnOnce(
        Python<'py>,
        &Positional<'a, 'py>,
        &Keywords<'a, 'py>,
    ) -> PyResult<Bound<'py, PyAny>>,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls the entry point with the thread attached (the contract above).
    let py = unsafe { Python::assume_attached() };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `kwnames` is null or a tuple of str, borrowed for the call.
        let names = unsafe { Borrowed::from_ptr_or_opt(py, kwnames) };
        let names = match names {
            Some(names) => Some(names.cast::<PyTuple>().map_err(PyErr::from)?),
            None => None,
        };
        let positional_count = usize::try_from(nargs).unwrap_or(0);
        let total = positional_count + names.as_ref().map_or(0, |names| names.len());
        let values: &[*mut ffi::PyObject] = if total == 0 {
            &[]
        } else {
            // SAFETY: CPython passes `nargs` positional values then one per keyword name,
            // contiguous and valid for the call (the contract above); `total` counts them.
            unsafe { std::slice::from_raw_parts(args, total) }
        };
        // SAFETY: each value is a valid, non-null reference borrowed for the call.
        let borrow = |pointer: *mut ffi::PyObject| unsafe { Borrowed::from_ptr(py, pointer) };
        let positional: smallvec::SmallVec<[Borrowed<'_, '_, PyAny>; 3]> =
            values[..positional_count].iter().map(|&pointer| borrow(pointer)).collect();
        let mut keywords: smallvec::SmallVec<[(Borrowed<'_, '_, PyString>, Borrowed<'_, '_, PyAny>); 8]> =
            smallvec::SmallVec::new();
        if let Some(names) = &names {
            for (name, &value) in names.iter_borrowed().zip(&values[positional_count..]) {
                keywords.push((name.cast::<PyString>().map_err(PyErr::from)?, borrow(value)));
            }
        }
        body(py, &positional, &keywords)
    }));
    match outcome {
        Ok(Ok(result)) => result.into_ptr(),
        Ok(Err(error)) => {
            error.restore(py);
            std::ptr::null_mut()
        }
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|message| (*message).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic inside fusejit".to_string());
            pyo3::panic::PanicException::new_err(message).restore(py);
            std::ptr::null_mut()
        }
    }
}

/// The name of `value`'s type, for an error message.
pub(crate) fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map_or_else(|_| "an object".to_string(), |name| name.to_string())
}
