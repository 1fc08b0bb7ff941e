"""fusejit: array expressions over named columns, compiled into one fused native loop.

    >>> import numpy as np, fusejit
    >>> px = np.array([100.0, 101.0, 100.5])
    >>> fusejit.evaluate("dlog(px, 1) * 252")      # names from the caller, as numexpr does
    masked_array(data=[--, 2.5074..., -1.2500...], ...)

``evaluate(expr, **columns)`` compiles (once per text) and evaluates; ``compile(expr)`` returns
a :class:`Kernel` to evaluate many times. Inputs are NumPy arrays (masked arrays for nulls),
Arrow arrays and Series from any library that speaks the Arrow PyCapsule interface (pyarrow,
Polars, pandas' Arrow-backed columns), and Python or NumPy scalars. NumPy in, NumPy out; Arrow
in, Arrow out. Every evaluation releases the GIL; kernels may be shared between threads.

The language (functions, nulls, lags, windows): docs/LANGUAGE.md in the repository, or
``fusejit.function_names()``.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Mapping, Optional

from ._native import (
    CompileError,
    Error,
    EvalError,
    Kernel,
    function_names,
    isa,
)
from ._native import compile as _compile_native

__all__ = [
    "evaluate",
    "compile",
    "Kernel",
    "Error",
    "CompileError",
    "EvalError",
    "function_names",
    "isa",
]
__version__ = "0.1.0"


@functools.lru_cache(maxsize=256)
def compile(expr: str) -> Kernel:
    """Compiles ``expr`` into a :class:`Kernel`.

    Parsing and name checks happen now (a mistake raises :class:`CompileError`, whose message
    underlines it and suggests a fix); native code is generated at the first evaluation of each
    combination of input types, and kept. The last 256 programs are cached by text.

    >>> k = fusejit.compile("(x - mean(x)) / std(x)")
    >>> k.inputs
    ('x',)
    >>> k.eval(x=np.array([1.0, 2.0, 3.0]))
    array([-1.22474487,  0.        ,  1.22474487])
    """
    return _compile_native(expr)


def _caller_scope(names, frame_depth: int, global_dict: Optional[Mapping[str, Any]]):
    """The values of ``names`` in the calling frame: its locals, then its globals (or
    ``global_dict``), as numexpr resolves them. Names found nowhere are left out, so the
    error lists what was found and suggests the closest."""
    frame = sys._getframe(frame_depth)
    try:
        local_vars = frame.f_locals
        global_vars = frame.f_globals if global_dict is None else global_dict
        scope = {}
        for name in names:
            if name in local_vars:
                scope[name] = local_vars[name]
            elif name in global_vars:
                scope[name] = global_vars[name]
        return scope
    finally:
        del frame


def evaluate(
    expr: str,
    local_dict: Optional[Mapping[str, Any]] = None,
    global_dict: Optional[Mapping[str, Any]] = None,
    *,
    out: Any = None,
    nulls: str = "mask",
    **columns: Any,
) -> Any:
    """Evaluates ``expr`` over named columns and returns the result.

    Names resolve from ``columns`` (keywords) if any are given, else from ``local_dict``, else
    from the caller's local and global variables (``global_dict`` replacing the globals), as
    in ``numexpr.evaluate``. The compiled program is cached by text.

    Inputs: NumPy arrays of f64, f32, i64, i32 or bool (narrower integers and f16 are widened
    by a copy; a non-contiguous array is copied), NumPy masked arrays (masked rows are
    nulls), any object with ``__arrow_c_array__`` or ``__arrow_c_stream__`` (pyarrow arrays,
    Polars Series, pandas Series with Arrow dtypes; several chunks are concatenated), Python
    and NumPy numbers (scalars, broadcast without copying), and lists (through
    ``numpy.asarray``). NaN is a value, not a null.

    The result follows the first column input: NumPy in, NumPy out; Arrow in, Arrow out (a
    pyarrow array, a Polars Series, a pandas Series). A NumPy result with nulls is a masked
    array; ``nulls="nan"`` puts NaN in null rows of a float result instead, and
    ``nulls="separate"`` returns ``(values, mask)`` with ``mask`` true where a row is null.
    A scalar result (``sum(x)``) is a Python number, or ``None`` when null. ``out=`` writes
    into a preallocated contiguous NumPy array of the result's dtype and length (not one of
    the inputs) and returns it.

    Errors: :class:`CompileError` for a program that does not parse or type-check,
    :class:`EvalError` for inputs that do not fit (a missing name, different lengths, an
    unreadable dtype); both print the program with the problem underlined.

    >>> x, y = np.array([1.0, 5.0]), np.array([2.0, 3.0])
    >>> fusejit.evaluate("where(x > y, x - y, 0) * 2")
    array([0., 4.])
    """
    kernel = compile(expr)
    if columns and local_dict is None and out is None and nulls == "mask":
        return kernel.eval(columns)  # the common call, without keyword parsing
    if columns:
        scope = columns if local_dict is None else {**local_dict, **columns}
    elif local_dict is not None:
        scope = local_dict
    else:
        scope = _caller_scope(kernel.inputs, 2, global_dict)
    return kernel.eval(scope, out=out, nulls=nulls)
