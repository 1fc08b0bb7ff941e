"""Short `Kernel.eval(columns, out=array)` calls, which read plain NumPy arrays in place: the same values and errors as every other call."""

import numpy as np
import pytest

import fusejit

RNG = np.random.default_rng(7)


def general(kernel, columns):
    """The result through the general path: every array given as a non-contiguous view,
    which a short call does not read (the general path copies it)."""
    strided = {
        name: np.repeat(value, 2)[::2] if isinstance(value, np.ndarray) else value
        for name, value in columns.items()
    }
    return kernel.eval(strided)


@pytest.mark.parametrize("rows", [0, 1, 16, 1000, 4095, 4096, 5000])
def test_short_calls_give_the_general_paths_bits_for_every_numeric_type(rows):
    x = RNG.normal(size=rows) * 100
    y = RNG.normal(size=rows)
    i = RNG.integers(-1000, 1000, size=rows)
    cases = [
        ("(x - y) * a + b", {"x": x, "y": y, "a": 252.0, "b": 0.5}),
        ("x * a", {"x": x.astype(np.float32), "a": np.float32(2.5)}),
        ("x * 2 + y", {"x": x.astype(np.float32), "y": y.astype(np.float32)}),
        ("i * k + 3", {"i": i, "k": 7}),
        ("i * k + 3", {"i": i.astype(np.int32), "k": np.int32(7)}),
        ("i // 7 + j", {"i": i.astype(np.int32), "j": i.astype(np.int32)}),
        ("where(flag, x, -x) + i", {"flag": True, "x": x, "i": i}),
        ("where(flag, x, -x) + i", {"flag": False, "x": x, "i": i}),
    ]
    for source, columns in cases:
        kernel = fusejit.compile(source)
        want = general(kernel, columns)
        out = np.full(rows, 7, dtype=want.dtype)
        assert kernel.eval(columns, out=out) is out, source
        assert out.dtype == want.dtype, source
        np.testing.assert_array_equal(out.view(np.uint8), want.view(np.uint8), err_msg=source)
        # Without out=: a new array of the same bits, by every way of passing the inputs.
        for got in [kernel.eval(columns), kernel.eval(**columns), fusejit.evaluate(source, **columns)]:
            assert type(got) is np.ndarray and got.dtype == want.dtype, source
            np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8), err_msg=source)


def test_short_calls_follow_each_calls_types():
    # One kernel, its inputs' types changing from call to call: every call is right.
    kernel = fusejit.compile("(x - y) * a")
    x, y = np.arange(16.0), np.ones(16)
    out, out32 = np.empty(16), np.empty(16, dtype=np.float32)
    for _ in range(3):
        assert kernel.eval({"x": x, "y": y, "a": 2.0}, out=out).tolist() == list((x - 1) * 2)
        assert kernel.eval({"x": x, "y": y, "a": 3}, out=out).tolist() == list((x - 1) * 3)
        x32, y32 = x.astype(np.float32), y.astype(np.float32)
        assert kernel.eval({"x": x32, "y": y32, "a": np.float32(4)}, out=out32).tolist() == list((x - 1) * 4)
        assert kernel.eval({"x": x32, "y": y, "a": 5.0}, out=out).tolist() == list((x - 1) * 5)
        assert kernel.eval({"x": 3.0, "y": y, "a": 5.0}, out=out).tolist() == [10.0] * 16


def test_short_calls_keep_nulls_as_the_general_path_does():
    kernel = fusejit.compile("lag(x, 2) * a")
    x = np.arange(16.0)
    out = np.zeros(16)
    result = kernel.eval({"x": x, "a": 2.0}, out=out)
    assert result.mask.tolist() == [True, True] + [False] * 14
    assert result.data.tolist()[2:] == list(x[:-2] * 2)
    out = np.zeros(16)
    assert kernel.eval({"x": x, "a": 2.0}, out=out, nulls="nan") is out
    assert np.isnan(out[:2]).all() and out[2:].tolist() == list(x[:-2] * 2)
    values, mask = kernel.eval({"x": x, "a": 2.0}, out=np.zeros(16), nulls="separate")
    assert mask.tolist() == [True, True] + [False] * 14 and values[2:].tolist() == list(x[:-2] * 2)


def test_an_out_array_that_overlaps_an_input_is_refused_and_left_as_it_was():
    kernel = fusejit.compile("x * 2")
    for rows in [16, 5000]:
        buffer = np.arange(rows + 4, dtype=np.float64)
        before = buffer.copy()
        for out in [buffer[: rows], buffer[2 : rows + 2], buffer[4:]]:
            with pytest.raises(fusejit.EvalError, match="in place"):
                kernel.eval({"x": buffer[:rows]}, out=out)
            np.testing.assert_array_equal(buffer, before)
        # Disjoint halves of one buffer are two arrays.
        halves = np.arange(2.0 * rows)
        kernel.eval({"x": halves[:rows]}, out=halves[rows:])
        np.testing.assert_array_equal(halves[rows:], np.arange(rows) * 2.0)


def test_what_a_short_call_does_not_read_takes_the_general_path():
    x = np.arange(16.0)
    kernel = fusejit.compile("x * a")
    out = np.empty(16)
    # Not contiguous, masked, a list, another width, bool, byte-swapped, a NumPy scalar.
    assert kernel.eval({"x": np.arange(32.0)[::2], "a": 1.0}, out=out).tolist() == list(np.arange(32.0)[::2])
    masked = np.ma.MaskedArray(x, mask=[True] + [False] * 15)
    assert kernel.eval({"x": masked, "a": 2.0}, out=out).mask.tolist() == [True] + [False] * 15
    assert kernel.eval({"x": list(x), "a": 2.0}, out=out).tolist() == list(x * 2)
    assert kernel.eval({"x": x.astype(np.int16), "a": np.int32(2)}, out=np.empty(16, dtype=np.int32)).tolist() == list(x * 2)
    swapped = x.astype(">f8")
    assert kernel.eval({"x": swapped, "a": 2.0}, out=out).tolist() == list(x * 2)
    assert kernel.eval({"x": x, "a": np.float64(2.0)}, out=out).tolist() == list(x * 2)
    flags = np.zeros(16, dtype=bool)
    assert fusejit.compile("x > a").eval({"x": x, "a": 7.5}, out=flags).tolist() == list(x > 7.5)
    # A key built at run time is not the interned name, and is found all the same.
    name = "".join(["x"])
    assert kernel.eval({name: x, "a": 3.0}, out=out).tolist() == list(x * 3)
    # More inputs than a short call holds.
    names = "abcdefghi"
    wide = fusejit.compile("+".join(names))
    columns = {name: np.full(16, float(index)) for index, name in enumerate(names)}
    assert wide.eval(columns, out=out).tolist() == [36.0] * 16


def test_short_call_errors_are_the_general_paths_and_write_nothing():
    kernel = fusejit.compile("x * a")
    x = np.arange(16.0)
    out = np.full(16, 7.0)
    with pytest.raises(fusejit.CompileError, match="unknown name 'a'"):
        kernel.eval({"x": x}, out=out)
    with pytest.raises(fusejit.EvalError, match="i64 range"):
        kernel.eval({"x": x, "a": 2**70}, out=out)
    with pytest.raises(fusejit.EvalError, match="out= does not fit"):
        kernel.eval({"x": x, "a": 2.0}, out=np.full(15, 7.0))
    with pytest.raises(fusejit.EvalError, match="out= does not fit"):
        kernel.eval({"x": x, "a": 2.0}, out=np.full(16, 7.0, dtype=np.float32))
    readonly = np.full(16, 7.0)
    readonly.flags.writeable = False
    with pytest.raises(fusejit.EvalError, match="read-only"):
        kernel.eval({"x": x, "a": 2.0}, out=readonly)
    with pytest.raises(fusejit.EvalError, match="scalar"):
        kernel.eval({"x": 3.0, "a": 2.0}, out=out)
    with pytest.raises(fusejit.EvalError, match="same length"):
        fusejit.compile("x * y").eval({"x": x, "y": np.ones(15)}, out=out)
    assert out.tolist() == [7.0] * 16


def test_short_calls_without_out_give_nulls_as_the_general_path_does():
    short, long = np.arange(16.0), np.arange(5000.0)
    for nulls in ["mask", "nan", "separate"]:
        for source in ["lag(x, 2) * a", "dlog(x + 1, 1) * a"]:
            got = fusejit.evaluate(source, x=short, a=2.0, nulls=nulls)
            want = fusejit.evaluate(source, x=long, a=2.0, nulls=nulls)
            if nulls == "mask":
                assert isinstance(got, np.ma.MaskedArray) and isinstance(want, np.ma.MaskedArray)
                assert got.mask.tolist() == want.mask.tolist()[:16]
                np.testing.assert_array_equal(got.compressed(), want.compressed()[: got.count()])
            elif nulls == "nan":
                assert type(got) is np.ndarray
                np.testing.assert_array_equal(got, want[:16])
            else:
                (values, mask), (want_values, want_mask) = got, want
                assert mask.tolist() == want_mask.tolist()[:16]
                np.testing.assert_array_equal(values[~mask], want_values[:16][~mask])
    # Without nulls, "separate" still gives (values, mask); an integer result has no NaN.
    for x in [short, long]:
        values, mask = fusejit.evaluate("x * 2", x=x, nulls="separate")
        assert values.tolist() == list(x * 2) and mask.dtype == bool and not mask.any()
    for rows in [16, 5000]:
        with pytest.raises(fusejit.EvalError, match='nulls="nan" needs a float result, but the result is i64'):
            fusejit.evaluate("lag(i, 1) * 2", i=np.arange(rows), nulls="nan")


def test_short_calls_read_the_callers_names_and_leave_other_results_to_the_general_path():
    x = np.arange(16.0)
    a = 3.0
    assert fusejit.evaluate("x * a").tolist() == list(x * 3)  # the caller's locals
    assert fusejit.evaluate("x * a", local_dict={"x": x, "a": 4.0}).tolist() == list(x * 4)
    flags = fusejit.evaluate("x > a")
    assert flags.dtype == bool and flags.tolist() == list(x > 3)
    assert fusejit.evaluate("sum(x) * a") == 360.0
    assert fusejit.compile("mean(x)").eval({"x": x}) == 7.5
