"""fusejit: array expressions over named columns, compiled into one fused native loop.

    >>> import numpy as np, fusejit
    >>> px = np.array([100.0, 101.0, 100.5])
    >>> fusejit.evaluate("dlog(px, 1) * 252")      # names from the caller, as numexpr does
    masked_array(data=[--, 2.507483374998305, -1.2506229142165957], ...)

``evaluate(expr, **columns)`` compiles (once per text) and evaluates; ``compile(expr)`` returns
a :class:`Kernel` to evaluate many times. Inputs are NumPy arrays (masked arrays for nulls),
Arrow arrays and Series from any library that speaks the Arrow PyCapsule interface (pyarrow,
Polars, pandas' Arrow-backed columns), and Python or NumPy scalars. NumPy in, NumPy out; Arrow
in, Arrow out. Every evaluation releases the GIL; kernels may be shared between threads.

Both functions are native (``fusejit._native``): a call costs no Python frame. The language
(functions, nulls, lags, windows) is docs/LANGUAGE.md in the repository;
``fusejit.function_names()`` lists the functions.
"""

from ._native import (
    CompileError,
    Error,
    EvalError,
    Kernel,
    compile,
    evaluate,
    function_names,
    isa,
)

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
