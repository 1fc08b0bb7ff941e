"""Nulls from masked arrays and Arrow validity; Arrow in and out without copies (pyarrow, Polars, pandas)."""

import numpy as np
import pytest

import fusejit

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")
pd = pytest.importorskip("pandas")

PX = [100.0, None, 101.0, 103.0, None, 102.0]


def expected_dlog(values):
    """dlog(x, 1) with Arrow nulls: null where either row is null (and at row 0)."""
    out = [None]
    for previous, current in zip(values, values[1:]):
        out.append(None if previous is None or current is None else np.log(current) - np.log(previous))
    return out


def as_list(result):
    if isinstance(result, np.ma.MaskedArray):
        return [None if masked else float(v) for v, masked in zip(result.data, np.ma.getmaskarray(result))]
    if isinstance(result, (pa.Array, pa.ChunkedArray)):
        return result.to_pylist()
    if isinstance(result, (pl.Series, pd.Series)):
        return [None if v is None or v is pd.NA else float(v) for v in result.to_list()]
    return [float(v) for v in result]


def close(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert (g is None) == (e is None), (got, expected)
        if e is not None:
            assert g == pytest.approx(e, rel=1e-15)


def test_masked_array_in_masked_array_out():
    data = np.array([v if v is not None else -1.0 for v in PX])
    masked = np.ma.MaskedArray(data, mask=[v is None for v in PX])
    got = fusejit.evaluate("dlog(px, 1)", px=masked)
    assert isinstance(got, np.ma.MaskedArray)
    close(as_list(got), expected_dlog(PX))
    info = fusejit.compile("dlog(px, 1)").describe_inputs(px=masked)
    assert info[0]["kind"] == "masked" and info[0]["nullable"] and info[0]["copied"] is None
    assert info[0]["address"] == data.ctypes.data  # the data is borrowed; only the mask is read


def test_null_styles_for_numpy_results():
    px = np.ma.MaskedArray([1.0, 2.0, 4.0], mask=[False, True, False])
    values, mask = fusejit.evaluate("px * 2", px=px, nulls="separate")
    assert mask.tolist() == [False, True, False]
    assert values[0] == 2.0 and values[2] == 8.0
    nan = fusejit.evaluate("px * 2", px=px, nulls="nan")
    assert type(nan) is np.ndarray and np.isnan(nan[1]) and nan[2] == 8.0
    values, mask = fusejit.evaluate("x * 2", x=np.ones(3), nulls="separate")
    assert not mask.any()
    with pytest.raises(fusejit.EvalError, match="needs a float result"):
        fusejit.evaluate("px > 1", px=px, nulls="nan")
    with pytest.raises(ValueError, match="nulls="):
        fusejit.evaluate("x", x=np.ones(2), nulls="zero")
    # A mask of nomask: no nulls, a plain array back.
    assert type(fusejit.evaluate("x + 1", x=np.ma.MaskedArray([1.0, 2.0]))) is np.ndarray


@pytest.mark.parametrize("density", [0.0, 0.001, 0.1, 0.9, 1.0])
@pytest.mark.parametrize("rows", [1, 63, 64, 65, 127, 1000, 4099])
def test_every_null_style_marks_exactly_the_null_rows(rows, density):
    # Nulls anywhere: in runs of 64 valid rows (skipped a word at a time), in a partial last
    # byte, in the first rows a lag adds.
    rng = np.random.default_rng(rows)
    null = rng.random(rows) < density
    px = np.ma.MaskedArray(np.arange(1.0, rows + 1.0), mask=null)
    want_null = null.copy()
    want_null[:2] = True  # lag(px, 2)'s first rows
    want_null[2:] |= null[:-2]
    want_values = np.arange(1.0, rows + 1.0) - np.concatenate([[0.0, 0.0], np.arange(1.0, rows - 1.0)])[:rows]
    kernel = fusejit.compile("px - lag(px, 2)")
    for out in [None, np.full(rows, 7.0)]:
        values, mask = kernel.eval(px=px, nulls="separate", out=out)
        assert mask.tolist() == want_null.tolist()
        assert np.array_equal(np.asarray(values)[~want_null], want_values[~want_null])
        masked = kernel.eval(px=px, out=out)
        if want_null.any():
            assert np.ma.getmaskarray(masked).tolist() == want_null.tolist()
        else:
            assert type(masked) is np.ndarray
        nan = kernel.eval(px=px, nulls="nan", out=out)
        assert np.isnan(nan).tolist() == want_null.tolist()
        assert np.array_equal(nan[~want_null], want_values[~want_null])


def test_null_propagation_and_fill():
    px = np.ma.MaskedArray([1.0, 2.0, 3.0, 4.0], mask=[False, True, False, False])
    assert as_list(fusejit.evaluate("fill(px, 0)", px=px)) == [1.0, 0.0, 3.0, 4.0]
    assert fusejit.evaluate("is_null(px)", px=px).tolist() == [False, True, False, False]
    assert fusejit.evaluate("sum(px)", px=px) == 8.0
    assert fusejit.evaluate("count(px)", px=px) == 3


def test_pyarrow_in_pyarrow_out_without_copies():
    px = pa.array(PX, type=pa.float64())
    got = fusejit.evaluate("dlog(px, 1)", px=px)
    assert isinstance(got, pa.Array) and got.type == pa.float64()
    close(got.to_pylist(), expected_dlog(PX))
    assert got.null_count == 5  # row 0, and both rows next to each null
    info = fusejit.compile("dlog(px, 1)").describe_inputs(px=px)
    assert info[0]["kind"] == "arrow" and info[0]["copied"] is None and info[0]["nullable"]
    assert info[0]["address"] == px.buffers()[1].address  # the Arrow buffer itself
    # A slice keeps its offset: still the same buffer, from the slice's first value.
    sliced = px.slice(2, 3)
    info = fusejit.compile("dlog(px, 1)").describe_inputs(px=sliced)
    assert info[0]["address"] == sliced.buffers()[1].address + 2 * 8
    close(fusejit.evaluate("dlog(px, 1)", px=sliced).to_pylist(), expected_dlog(PX[2:5]))
    # Types: f32, i64, i32 and bool arrays come back as they compute.
    assert fusejit.evaluate("x * 2", x=pa.array([1.5], pa.float32())).type == pa.float32()
    assert fusejit.evaluate("x * 2", x=pa.array([3], pa.int64())).to_pylist() == [6]
    assert fusejit.evaluate("x > 1", x=pa.array([0.0, 2.0, None])).to_pylist() == [False, True, None]


def test_results_own_fusejit_s_buffer():
    # A NumPy result of a long call wraps the Vec fusejit wrote (rust-numpy's container is its
    # base): had it been copied into a fresh array, the base would be None.
    long = np.arange(5000.0)
    got = fusejit.evaluate("x * 2", x=long)
    assert got.tolist() == list(long * 2)
    assert got.base is not None and type(got.base).__name__ == "PySliceContainer"
    masked = fusejit.evaluate("lag(x, 1)", x=long)
    owner = masked.data
    while isinstance(owner, np.ndarray):  # the masked array's data is a view of the result
        owner = owner.base
    assert type(owner).__name__ == "PySliceContainer"
    # A short call writes into a NumPy array it makes (no Vec, no copy either): the array
    # owns its memory, and a masked result's data is that array.
    got = fusejit.evaluate("x * 2", x=np.array([1.0, 2.0]))
    assert got.tolist() == [2.0, 4.0] and got.base is None and got.flags.owndata
    masked = fusejit.evaluate("lag(x, 1)", x=np.array([1.0, 2.0]))
    assert masked.mask.tolist() == [True, False] and masked.data[1] == 1.0
    # An Arrow result is imported by pyarrow through the C Data Interface.
    first = fusejit.compile("x * 2").eval(x=pa.array([1.0, 2.0]))
    assert isinstance(first, pa.Array) and first.to_pylist() == [2.0, 4.0]


def test_chunked_and_polars_and_pandas():
    chunked = pa.chunked_array([[1.0, 2.0], [None, 4.0]])
    got = fusejit.evaluate("x + 1", x=chunked)
    assert got.to_pylist() == [2.0, 3.0, None, 5.0]
    info = fusejit.compile("x + 1").describe_inputs(x=chunked)
    assert info[0]["copied"] == "2 Arrow chunks concatenated"

    series = pl.Series("px", PX)
    got = fusejit.evaluate("dlog(px, 1)", px=series)
    assert isinstance(got, pl.Series)
    close(as_list(got), expected_dlog(PX))
    info = fusejit.compile("dlog(px, 1)").describe_inputs(px=series)
    assert info[0]["kind"] == "arrow" and info[0]["copied"] is None

    arrow_backed = pd.Series(PX, dtype="float64[pyarrow]", index=list("abcdef"))
    got = fusejit.evaluate("dlog(px, 1)", px=arrow_backed)
    assert isinstance(got, pd.Series) and list(got.index) == list("abcdef")
    close(as_list(got), expected_dlog(PX))

    numpy_backed = pd.Series([1.0, 2.0, np.nan])
    got = fusejit.evaluate("x * 2", x=numpy_backed)
    assert isinstance(got, np.ndarray)  # NaN is a value in NumPy-backed pandas, as in NumPy
    assert got[:2].tolist() == [2.0, 4.0] and np.isnan(got[2])


def test_arrow_and_numpy_mixed_follow_the_first_column():
    x = pa.array([1.0, 2.0])
    y = np.array([10.0, 20.0])
    assert isinstance(fusejit.evaluate("x + y", x=x, y=y), pa.Array)
    assert isinstance(fusejit.evaluate("y + x", x=x, y=y), np.ndarray)


def test_unsupported_arrow_types_say_so():
    with pytest.raises(fusejit.EvalError, match="Utf8 array"):
        fusejit.evaluate("x + 1", x=pa.array(["a"]))


def test_tables_bind_their_columns_by_name():
    px = PX
    vol = [10.0, 20.0, None, 40.0, 50.0, 60.0]
    expected = [None if p is None or v is None else p * v for p, v in zip(px, vol)]
    kernel = fusejit.compile("px * vol")
    tables = [
        (pa.table({"px": px, "vol": vol, "name": list("abcdef")}), pa.Array),
        (pa.record_batch({"px": px, "vol": vol}), pa.Array),
        (pl.DataFrame({"px": px, "vol": vol, "name": list("abcdef")}), pl.Series),
    ]
    for table, kind in tables:
        got = kernel.eval(table)
        assert isinstance(got, kind), type(table)
        close(as_list(got), expected)
        # Only the columns the program reads are taken (the text column is never read), each
        # in place.
        info = kernel.describe_inputs(table)
        assert [row["name"] for row in info] == ["px", "vol"]
        assert all(row["kind"] == "arrow" and row["copied"] is None for row in info)
        # Keywords win over the table's columns, as over a dict's; `evaluate`'s `local_dict`
        # may be a table too.
        close(as_list(kernel.eval(table, vol=2.0)), [None if p is None else p * 2.0 for p in px])
        close(as_list(fusejit.evaluate("px * vol", table)), expected)

    # pandas: NumPy-backed columns read as NumPy (NaN a value), labels that are not text ignored.
    frame = pd.DataFrame({"px": [1.0, 2.0, np.nan], "vol": [3.0, 4.0, 5.0], 7: [0.0, 0.0, 0.0]})
    got = kernel.eval(frame)
    assert isinstance(got, np.ndarray) and got[:2].tolist() == [3.0, 8.0] and np.isnan(got[2])
    # A pandas column called `column_names` (pandas answers the attribute with it): the
    # names still come from the frame's `columns`, as for every pandas frame.
    frame = pd.DataFrame({"column_names": [9.0, 9.0], "px": [1.0, 2.0], "vol": [3.0, 4.0]})
    assert kernel.eval(frame).tolist() == [3.0, 8.0]
    assert fusejit.compile("column_names + px").eval(frame).tolist() == [10.0, 11.0]

    # A table of several chunks: concatenated, and said so.
    chunked = pa.concat_tables([pa.table({"px": [1.0], "vol": [2.0]}), pa.table({"px": [3.0], "vol": [4.0]})])
    assert kernel.eval(chunked).to_pylist() == [2.0, 12.0]
    assert kernel.describe_inputs(chunked)[0]["copied"] == "2 Arrow chunks concatenated"


def test_tables_that_cannot_be_read_say_why():
    kernel = fusejit.compile("px * vol")
    # A column the table lacks: fusejit's own error, naming what the table gave.
    with pytest.raises(fusejit.CompileError, match="unknown name 'vol'") as raised:
        kernel.eval(pa.table({"px": [1.0], "volume": [2.0]}))
    assert "inputs are: px" in str(raised.value)
    with pytest.raises(TypeError, match="LazyFrame.*collect"):
        kernel.eval(pl.DataFrame({"px": [1.0], "vol": [2.0]}).lazy())
    for value in [5, "px", [1.0, 2.0]]:
        with pytest.raises(TypeError, match=f"columns must be a mapping.*or a table.*not {type(value).__name__}"):
            kernel.eval(value)


def test_bare_pandas_arrays_keep_their_nulls_and_types():
    # NumPy would read these as floats with NaN for <NA>; they go through pyarrow instead.
    ints = pd.array([1, None, 3], dtype="Int64")
    got = fusejit.evaluate("x * 2", x=ints)
    assert isinstance(got, pd.api.extensions.ExtensionArray) and str(got.dtype) == "int64[pyarrow]"
    assert got.tolist() == [2, pd.NA, 6]
    info = fusejit.compile("x * 2").describe_inputs(x=ints)[0]
    assert (info["kind"], info["type"], info["nullable"], info["copied"]) == ("arrow", "i64[]", True, None)
    assert info["address"] == ints._data.ctypes.data  # the values in place
    floats = pd.Series([1.5, None], dtype="Float64").array
    assert fusejit.evaluate("x + 1", x=floats).tolist() == [2.5, pd.NA]
    flags = pd.array([True, None, False], dtype="boolean")
    assert fusejit.evaluate("!x", x=flags).tolist() == [False, pd.NA, True]
