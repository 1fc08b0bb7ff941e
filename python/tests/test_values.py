"""fusejit's values against NumPy: every function, every input type, scalars and outputs."""

import math

import numpy as np
import pytest

import fusejit

RNG = np.random.default_rng(7)
N = 1000
X = 100.0 * np.cumprod(1.0 + (RNG.random(N) - 0.5) * 0.02)  # a positive random walk
Y = X * (0.99 + RNG.random(N) * 0.02)
U = RNG.random(N) * 2.0 - 1.0  # in [-1, 1)


def lagged(a, k):
    out = np.full(a.shape, np.nan, dtype=a.dtype)
    out[k:] = a[:-k]
    return out


def rolling(a, w, reducer):
    out = np.empty_like(a)
    for i in range(a.size):
        out[i] = reducer(a[max(0, i - w + 1) : i + 1])
    return out


def ema(a, alpha):
    out = np.empty_like(a)
    state = a[0]
    for i, v in enumerate(a):
        state = v if i == 0 else alpha * v + (1 - alpha) * state
        out[i] = state
    return out


# (program, NumPy reference, relative tolerance): elementwise math is within 1 ULP of the
# correctly rounded result, NumPy's within a few; reductions and windows sum in another order.
ELEMENTWISE = [
    ("x + y", lambda: X + Y, 0),
    ("x - y", lambda: X - Y, 0),
    ("x * y", lambda: X * Y, 0),
    ("x / y", lambda: X / Y, 0),
    ("-x", lambda: -X, 0),
    ("abs(u)", lambda: np.abs(U), 0),
    ("sqrt(x)", lambda: np.sqrt(X), 0),
    ("ln(x)", lambda: np.log(X), 4e-16),
    ("log(x)", lambda: np.log(X), 4e-16),
    ("exp(u)", lambda: np.exp(U), 4e-16),
    ("sin(u)", lambda: np.sin(U), 4e-16),
    ("cos(u)", lambda: np.cos(U), 4e-16),
    ("min(x, y)", lambda: np.minimum(X, Y), 0),
    ("max(x, y)", lambda: np.maximum(X, Y), 0),
    ("clip(u, -0.5, 0.5)", lambda: np.clip(U, -0.5, 0.5), 0),
    ("where(x > y, x, y)", lambda: np.where(X > Y, X, Y), 0),
    ("floor(x)", lambda: np.floor(X), 0),
    ("ceil(x)", lambda: np.ceil(X), 0),
    ("sign(u)", lambda: np.sign(U), 0),
    ("pow(x, 2)", lambda: X**2, 4e-16),
    ("(x - y) * 252 + 0.5", lambda: (X - Y) * 252 + 0.5, 0),
]

SEQUENTIAL = [
    ("lag(x, 3)", lambda: lagged(X, 3), 0),
    ("diff(x, 1)", lambda: X - lagged(X, 1), 0),
    ("dlog(x, 1)", lambda: np.log(X) - lagged(np.log(X), 1), 1e-10),  # a difference of logs: cancellation
    ("ret(x, 5)", lambda: X / lagged(X, 5) - 1, 1e-15),
    ("cumsum(u)", lambda: np.cumsum(U), 1e-12),
    ("cummax(x)", lambda: np.maximum.accumulate(X), 0),
    ("cummin(x)", lambda: np.minimum.accumulate(X), 0),
    ("msum(x, 20)", lambda: rolling(X, 20, np.sum), 1e-12),
    ("mavg(x, 20)", lambda: rolling(X, 20, np.mean), 1e-12),
    ("mstd(x, 20)", lambda: rolling(X, 20, np.std), 1e-8),
    ("mmax(x, 20)", lambda: rolling(X, 20, np.max), 0),
    ("mmin(x, 20)", lambda: rolling(X, 20, np.min), 0),
    ("ema(x, 0.1)", lambda: ema(X, 0.1), 1e-13),
    ("(x - mean(x)) / std(x)", lambda: (X - X.mean()) / X.std(), 1e-12),
]


def check(got, expected, rtol):
    got = np.ma.filled(np.ma.asarray(got).astype(float), np.nan)
    expected = np.asarray(expected, dtype=float)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    keep = ~np.isnan(expected)
    if rtol == 0:
        np.testing.assert_array_equal(got[keep], expected[keep])
    else:
        np.testing.assert_allclose(got[keep], expected[keep], rtol=rtol, atol=0)


@pytest.mark.parametrize("program,reference,rtol", ELEMENTWISE + SEQUENTIAL, ids=lambda p: p if isinstance(p, str) else "")
def test_every_function_against_numpy(program, reference, rtol):
    known = set(fusejit.function_names())
    for name in ("ln", "exp", "sqrt", "mstd", "ema", "cummax", "clip", "where"):
        assert name in known
    check(fusejit.evaluate(program, x=X, y=Y, u=U), reference(), rtol)


def test_names_resolve_from_the_callers_frame_like_numexpr():
    px = np.array([100.0, 101.0, 100.5])
    got = fusejit.evaluate("dlog(px, 1) * 252")
    assert got.mask.tolist() == [True, False, False]
    assert got[1] == pytest.approx(math.log(101.0 / 100.0) * 252, rel=1e-15)

    def inner(px):
        scale = 2.0  # a local shadows the global below
        return fusejit.evaluate("px * scale")

    np.testing.assert_array_equal(inner(px), px * 2.0)


scale = 1000.0  # noqa: E305 - a global the frame lookup may find


def test_locals_then_globals_then_local_dict():
    px = np.array([1.0, 2.0])
    np.testing.assert_array_equal(fusejit.evaluate("px * scale"), [1000.0, 2000.0])
    np.testing.assert_array_equal(fusejit.evaluate("px * scale", local_dict={"px": px, "scale": 3.0}), [3.0, 6.0])
    # As numexpr: a name local_dict lacks comes from the caller's globals (or global_dict).
    np.testing.assert_array_equal(fusejit.evaluate("px * scale", local_dict={"px": px}), [1000.0, 2000.0])
    np.testing.assert_array_equal(
        fusejit.evaluate("px * scale", local_dict={"px": px}, global_dict={"scale": 7.0}), [7.0, 14.0]
    )
    # Keywords alone are the whole scope: no frame lookup, so a missing name is an error.
    with pytest.raises(fusejit.CompileError, match="unknown name 'scale'"):
        fusejit.evaluate("px * scale", px=px)
    np.testing.assert_array_equal(fusejit.evaluate("px * scale", px=px, scale=4), [4.0, 8.0])


def test_input_types_and_result_types():
    x32 = X.astype(np.float32)
    got = fusejit.evaluate("x * 2", x=x32)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, x32 * np.float32(2))
    i64 = np.arange(10, dtype=np.int64)
    got = fusejit.evaluate("i * 3 + 1", i=i64)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, i64 * 3 + 1)
    i32 = np.arange(10, dtype=np.int32)
    assert fusejit.evaluate("i * 3", i=i32).dtype == np.int32
    flags = X > Y
    got = fusejit.evaluate("f && x > 100", f=flags, x=X)
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, flags & (X > 100))
    # Narrower integers are widened to i32 (a copy, reported).
    i8 = np.arange(5, dtype=np.int8)
    got = fusejit.evaluate("i + 1", i=i8)
    assert got.dtype == np.int32 and got.tolist() == [1, 2, 3, 4, 5]
    info = fusejit.compile("i + 1").describe_inputs(i=i8)
    assert info[0]["copied"] == "int8 converted to int32"
    # Python scalars: int → i64, float → f64, bool → bool; NumPy scalars keep their type.
    assert fusejit.evaluate("x * a", x=i64, a=2).dtype == np.int64
    assert fusejit.evaluate("x * a", x=x32, a=np.float32(0.5)).dtype == np.float32
    # Lists go through numpy.asarray.
    np.testing.assert_array_equal(fusejit.evaluate("x + 1", x=[1.0, 2.0]), [2.0, 3.0])


def test_scalar_results_are_python_scalars():
    assert fusejit.evaluate("sum(x)", x=np.array([1.0, 2.0, 3.5])) == 6.5
    assert isinstance(fusejit.evaluate("sum(x)", x=np.array([1.0])), float)
    # One row: the result's type, not its length, tells a column from a scalar.
    one_row = fusejit.evaluate("x * 2", x=np.array([1.5]))
    assert isinstance(one_row, np.ndarray) and one_row.tolist() == [3.0]
    outputs = fusejit.compile("out s = sum(x); x * 2").eval_outputs(x=np.array([1.5]))
    assert outputs["s"] == 1.5 and outputs["result"].tolist() == [3.0]
    assert fusejit.evaluate("count(x)", x=np.array([1.0, 2.0])) == 2
    assert fusejit.evaluate("a * 2", a=3) == 6
    masked = np.ma.MaskedArray([1.0, 2.0], mask=[True, True])
    assert fusejit.evaluate("mean(x)", x=masked) is None


def test_non_contiguous_arrays_are_copied_and_say_so():
    strided = X[::2]
    np.testing.assert_array_equal(fusejit.evaluate("x * 2", x=strided), strided * 2)
    info = fusejit.compile("x * 2").describe_inputs(x=strided)
    assert info[0]["copied"] == "not contiguous"
    contiguous = fusejit.compile("x * 2").describe_inputs(x=X)
    assert contiguous[0]["copied"] is None
    assert contiguous[0]["address"] == X.ctypes.data  # borrowed, not copied


def test_out_writes_into_the_callers_array():
    out = np.empty(N)
    result = fusejit.evaluate("(x - y) * 252", x=X, y=Y, out=out)
    assert result is out
    np.testing.assert_array_equal(out, (X - Y) * 252)
    out32 = np.empty(N, dtype=np.float32)
    fusejit.evaluate("x * 2", x=X.astype(np.float32), out=out32)
    np.testing.assert_array_equal(out32, X.astype(np.float32) * 2)
    flags = np.empty(N, dtype=bool)
    fusejit.evaluate("x > y", x=X, y=Y, out=flags)
    np.testing.assert_array_equal(flags, X > Y)
    # With nulls: a masked view of out, NaN in place, or (out, mask).
    out = np.zeros(4)
    result = fusejit.evaluate("lag(x, 1)", x=np.arange(4.0), out=out)
    assert result.mask.tolist() == [True, False, False, False]
    assert result.data is out or np.shares_memory(result.data, out)
    out = np.zeros(4)
    fusejit.evaluate("lag(x, 1)", x=np.arange(4.0), out=out, nulls="nan")
    assert math.isnan(out[0]) and out[1:].tolist() == [0.0, 1.0, 2.0]


def test_eval_outputs_returns_every_output_by_name():
    kernel = fusejit.compile("out vol = mstd(dlog(px, 1), 3); out m = mean(px); dlog(px, 1)")
    px = np.array([100.0, 101.0, 99.0, 102.0, 103.0])
    outputs = kernel.eval_outputs(px=px)
    assert list(outputs) == ["vol", "m", "result"]
    assert outputs["m"] == pytest.approx(px.mean(), rel=1e-15)
    assert outputs["result"].mask.tolist() == [True, False, False, False, False]
    np.testing.assert_array_equal(outputs["result"], kernel.eval(px=px))


def test_kernel_properties_and_explain():
    kernel = fusejit.compile("dlog(px, 1) * a + b")
    assert kernel.inputs == ("px", "a", "b")
    assert kernel.source == "dlog(px, 1) * a + b"
    assert kernel.threads >= 1
    assert kernel.with_threads(1).threads == 1
    ir = kernel.explain("ir", px=X, a=252.0, b=0.5)
    assert "ln" in ir and "lag" in ir
    assert "f32" in kernel.explain("ir", px=X.astype(np.float32), a=np.float32(1), b=np.float32(0))
    clif = kernel.explain("clif")
    assert "function" in clif
    asm = kernel.explain("asm")
    assert "ret" in asm
    assert "loop" in kernel.explain("plan").lower()
    with pytest.raises(ValueError, match="unknown kind"):
        kernel.explain("llvm")
    assert fusejit.isa() in ("avx512", "avx2", "sse4.1", "scalar", "traced", "neon")
    assert "Kernel" in repr(kernel)


def test_compiled_programs_are_cached_by_text():
    assert fusejit.compile("x * 7") is fusejit.compile("x * 7")


def test_global_dict_replaces_the_callers_globals():
    px = np.array([1.0, 2.0])
    got = fusejit.evaluate("px * scale", global_dict={"scale": 5.0})
    np.testing.assert_array_equal(got, [5.0, 10.0])
    # Keywords and local_dict together: keywords win.
    got = fusejit.evaluate("px * scale", {"px": px, "scale": 2.0}, scale=3.0)
    np.testing.assert_array_equal(got, [3.0, 6.0])


def test_help_is_useful():
    doc = fusejit.evaluate.__doc__
    assert "numexpr" in doc and "masked" in doc and "out=" in doc
    assert "local_dict" in fusejit.evaluate.__text_signature__
    assert "cached by text" in fusejit.compile.__doc__
    assert "out=" in fusejit.Kernel.eval.__doc__ and "masked" in fusejit.Kernel.eval.__doc__


def test_evaluate_reads_its_arguments_as_a_python_function_would():
    # evaluate is a vectorcall function that parses its own arguments: every way of passing
    # them, and every mistake, as `def evaluate(expr, local_dict=None, global_dict=None, *,
    # out=None, nulls="mask", **columns)` would.
    px = np.array([1.0, 2.0, 4.0])
    np.testing.assert_array_equal(fusejit.evaluate(expr="px * 2", px=px), [2.0, 4.0, 8.0])
    np.testing.assert_array_equal(fusejit.evaluate("px * 2", None, None, px=px, out=None), [2.0, 4.0, 8.0])
    np.testing.assert_array_equal(fusejit.evaluate("px * k", local_dict={"px": px}, k=3.0), [3.0, 6.0, 12.0])
    np.testing.assert_array_equal(fusejit.evaluate("px + scale", None, {"scale": 0.5}), [1.5, 2.5, 4.5])
    np.testing.assert_array_equal(fusejit.evaluate("px + scale", {"px": px}, {"scale": 0.5}), [1.5, 2.5, 4.5])
    # Column names built at run time are not interned: found by text.
    name = "".join(["p", "x"])
    np.testing.assert_array_equal(fusejit.evaluate("px - 1", **{name: px}), [0.0, 1.0, 3.0])
    values, mask = fusejit.evaluate("lag(px, 1)", px=px, nulls="separate")
    np.testing.assert_array_equal(mask, [True, False, False])
    np.testing.assert_array_equal(values[1:], [1.0, 2.0])
    out = np.zeros(3)
    assert fusejit.evaluate("px * 10", px=px, out=out) is out
    np.testing.assert_array_equal(out, [10.0, 20.0, 40.0])
    with pytest.raises(TypeError, match=r"missing 1 required positional argument: 'expr'"):
        fusejit.evaluate(px=px)
    with pytest.raises(TypeError, match=r"takes from 1 to 3 positional arguments but 4 were given"):
        fusejit.evaluate("px", {}, {}, {})
    with pytest.raises(TypeError, match=r"multiple values for argument 'expr'"):
        fusejit.evaluate("px", expr="px")
    with pytest.raises(TypeError, match=r"multiple values for argument 'local_dict'"):
        fusejit.evaluate("px", {}, local_dict={})
    with pytest.raises(TypeError, match=r"argument 'expr' must be str, not int"):
        fusejit.evaluate(3, px=px)
    with pytest.raises(TypeError, match=r"argument 'nulls' must be str, not int"):
        fusejit.evaluate("px", px=px, nulls=1)
    with pytest.raises(ValueError, match=r"nulls"):
        fusejit.evaluate("px", px=px, nulls="zero")
    with pytest.raises(fusejit.EvalError, match=r"out= does not fit"):
        fusejit.evaluate("px * 10", px=px, out=np.zeros(2))
    assert fusejit.evaluate.__name__ == "evaluate"
    assert fusejit.evaluate.__module__ == "fusejit._native"


class _Scales:
    """A mapping that is not a dict: looked up by `[]`, a miss a KeyError."""

    def __getitem__(self, name):
        if name == "scale":
            return 9.0
        raise KeyError(name)


def test_names_from_the_frame_and_from_mappings_that_are_not_dicts():
    px = np.array([1.0, 2.0])
    # The caller's locals, then a global_dict that is not a dict.
    np.testing.assert_array_equal(fusejit.evaluate("px * scale", global_dict=_Scales()), [9.0, 18.0])
    # A name found nowhere: the error names it, as for keywords.
    with pytest.raises(fusejit.CompileError, match="unknown name 'nowhere'"):
        fusejit.evaluate("px * nowhere", global_dict=_Scales())
    # From a lambda and a comprehension: their own frames' locals, then the module's globals.
    double = lambda v: fusejit.evaluate("v * 2")  # noqa: E731
    np.testing.assert_array_equal(double(px), [2.0, 4.0])
    # (A comprehension's own frame before Python 3.12, inlined after: only its own names.)
    assert [fusejit.evaluate("scale + k") for k in (1.0, 2.0)] == [1001.0, 1002.0]


def test_kernel_eval_reads_its_arguments_as_a_python_method_would():
    # Kernel.eval is a vectorcall method that parses its own arguments, as
    # `def eval(self, columns=None, /, *, out=None, nulls="mask", **keywords)` would.
    import collections
    import inspect

    kernel = fusejit.compile("x * a + columns")
    x = np.array([1.0, 2.0, 3.0])
    expected = [12.0, 22.0, 32.0]
    np.testing.assert_array_equal(kernel.eval(x=x, a=10.0, columns=2.0), expected)
    np.testing.assert_array_equal(kernel.eval({"x": x, "a": 10.0, "columns": 2.0}), expected)
    np.testing.assert_array_equal(kernel.eval(None, x=x, a=10.0, columns=2.0, out=None), expected)
    # A mapping that is not a dict, and keywords over a dict.
    mapping = collections.ChainMap({"x": x}, {"a": 10.0, "columns": 2.0})
    np.testing.assert_array_equal(kernel.eval(mapping), expected)
    np.testing.assert_array_equal(kernel.eval({"x": x, "a": 1.0, "columns": 2.0}, a=10.0), expected)
    out = np.empty(3)
    assert kernel.eval(x=x, a=10.0, columns=2.0, out=out) is out
    np.testing.assert_array_equal(out, expected)
    values, mask = fusejit.compile("lag(x, 1)").eval(x=x, nulls="separate")
    np.testing.assert_array_equal(mask, [True, False, False])
    with pytest.raises(TypeError, match=r"takes at most 1 positional argument \(2 given\)"):
        kernel.eval({"x": x}, {"a": 1.0})
    with pytest.raises(TypeError, match=r"argument 'nulls' must be str, not float"):
        kernel.eval(x=x, a=1.0, columns=2.0, nulls=1.5)
    with pytest.raises(TypeError, match=r"mapping"):
        kernel.eval(3, a=1.0)
    with pytest.raises(TypeError, match=r"eval"):
        fusejit.Kernel.eval(object(), x=x)
    with pytest.raises(fusejit.CompileError, match=r"unknown name 'x'"):
        kernel.eval()
    assert list(inspect.signature(fusejit.Kernel.eval).parameters) == ["self", "columns", "out", "nulls", "keywords"]
    assert kernel.with_threads(1).eval(x=x, a=10.0, columns=2.0).tolist() == expected
