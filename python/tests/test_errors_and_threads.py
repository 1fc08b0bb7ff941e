"""Errors carry the rendered diagnostic; bad input never crashes; kernels are shared across threads with the GIL released."""

import threading

import numpy as np
import pytest

import fusejit


def test_compile_errors_underline_the_program_and_hint():
    with pytest.raises(fusejit.CompileError) as caught:
        fusejit.compile("dlg(px, 1) * 252")
    message = str(caught.value)
    assert "unknown function 'dlg'" in message
    assert "dlg(px, 1) * 252" in message and "^^^" in message
    assert "did you mean 'dlog'?" in message
    assert caught.value.span == (0, 3)
    assert isinstance(caught.value, fusejit.Error) and isinstance(caught.value, ValueError)
    with pytest.raises(fusejit.CompileError, match="expected"):
        fusejit.evaluate("ln(x", x=np.ones(2))


def test_type_errors_found_at_evaluation_are_compile_errors():
    with pytest.raises(fusejit.CompileError) as caught:
        fusejit.evaluate("ln(b)", b=np.array([True, False]))
    assert "^" in str(caught.value)


def test_evaluation_errors_name_the_input():
    # A name bound nowhere: the program is checked against what is bound (a compile error,
    # with the closest bound name as a hint).
    with pytest.raises(fusejit.CompileError, match="unknown name 'y'"):
        fusejit.evaluate("x + y", x=np.ones(3), z=np.ones(3))
    with pytest.raises(fusejit.EvalError, match="rows"):
        fusejit.evaluate("x + y", x=np.ones(3), y=np.ones(4))
    with pytest.raises(fusejit.EvalError, match="one-dimensional"):
        fusejit.evaluate("x + 1", x=np.ones((2, 2)))
    with pytest.raises(fusejit.EvalError, match="uint64"):
        fusejit.evaluate("x + 1", x=np.ones(2, dtype=np.uint64))
    with pytest.raises(fusejit.EvalError, match="complex128"):
        fusejit.evaluate("x + 1", x=np.ones(2, dtype=np.complex128))
    with pytest.raises(fusejit.EvalError, match="dtype object"):
        fusejit.evaluate("x + 1", x=object())
    with pytest.raises(fusejit.EvalError, match="i64 range"):
        fusejit.evaluate("x + a", x=np.ones(2), a=2**70)


def test_out_errors():
    x = np.ones(4)
    untouched = np.full(3, 7.0)
    with pytest.raises(fusejit.EvalError, match="out= does not fit.*3 rows"):
        fusejit.evaluate("x * 2", x=x, out=untouched)
    assert untouched.tolist() == [7.0, 7.0, 7.0]  # an error writes nothing
    with pytest.raises(fusejit.EvalError, match="out= does not fit"):
        fusejit.evaluate("x * 2", x=x, out=np.empty(4, dtype=np.float32))
    with pytest.raises(fusejit.EvalError, match="in place"):
        fusejit.evaluate("x * 2", x=x, out=x)
    untouched = np.full(4, 7.0)
    with pytest.raises(fusejit.EvalError, match="scalar"):
        fusejit.evaluate("sum(x)", x=x, out=untouched)
    assert untouched.tolist() == [7.0] * 4
    with pytest.raises(fusejit.EvalError, match="contiguous"):
        fusejit.evaluate("x * 2", x=x, out=np.empty(8)[::2])
    readonly = np.empty(4)
    readonly.flags.writeable = False
    with pytest.raises(fusejit.EvalError, match="read-only"):
        fusejit.evaluate("x * 2", x=x, out=readonly)


def test_out_follows_each_calls_pattern_of_scalar_inputs():
    # One kernel, its result a column or a scalar by which inputs are scalars: the shape a
    # kernel remembers for one pattern must not answer for another.
    kernel = fusejit.compile("x * a")
    out = np.full(3, 7.0)
    assert kernel.eval({"x": np.arange(3.0), "a": 2.0}, out=out) is out
    assert out.tolist() == [0.0, 2.0, 4.0]
    with pytest.raises(fusejit.EvalError, match="scalar"):
        kernel.eval({"x": 5.0, "a": 2.0}, out=out)
    assert out.tolist() == [0.0, 2.0, 4.0]  # an error writes nothing
    assert kernel.eval({"x": 5.0, "a": 2.0}) == 10.0
    assert kernel.eval({"x": 5.0, "a": np.arange(3.0)}, out=out).tolist() == [0.0, 5.0, 10.0]
    # Learned again in the first order, and an input left out is still an error.
    assert kernel.eval({"x": np.arange(3.0), "a": 3.0}, out=out).tolist() == [0.0, 3.0, 6.0]
    with pytest.raises(fusejit.CompileError, match="unknown name 'a'"):
        kernel.eval({"x": np.arange(3.0)}, out=out)
    assert out.tolist() == [0.0, 3.0, 6.0]


def test_out_is_right_for_more_patterns_of_scalars_than_a_kernel_remembers():
    # 7 inputs, 128 patterns of scalars and columns, each met twice: past the patterns a
    # kernel remembers, the engine answers; every column result is right, and the one
    # all-scalar pattern is refused without a write.
    names = "abcdefg"
    kernel = fusejit.compile("+".join(names))
    for _ in range(2):
        for pattern in range(128):
            columns = {
                name: (np.arange(3.0) + i if pattern >> i & 1 else float(i))
                for i, name in enumerate(names)
            }
            out = np.full(3, -1.0)
            if pattern == 0:
                with pytest.raises(fusejit.EvalError, match="scalar"):
                    kernel.eval(columns, out=out)
                assert out.tolist() == [-1.0] * 3
            else:
                kernel.eval(columns, out=out)
                want = sum(np.arange(3.0) + i if pattern >> i & 1 else float(i) for i in range(7))
                assert out.tolist() == list(want)


def test_bool_bytes_other_than_zero_and_one_are_read_as_numpy_reads_them():
    odd = np.array([0, 2, 1, 255], dtype=np.uint8).view(np.bool_)
    got = fusejit.evaluate("where(b, 1.0, 0.0)", b=odd)
    assert got.tolist() == [0.0, 1.0, 1.0, 1.0]
    assert fusejit.compile("where(b, 1.0, 0.0)").describe_inputs(b=odd)[0]["copied"].startswith("bool bytes")
    # One odd byte anywhere among many, the bytes checked a chunk at a time: found wherever
    # it lies, and a column of 0s and 1s read in place.
    for at in [0, 255, 256, 700, 999]:
        raw = (np.arange(1000) % 3 == 0).astype(np.uint8)
        raw[at] = 4
        got = fusejit.evaluate("!b", b=raw.view(np.bool_))
        assert got.tolist() == (raw == 0).tolist(), at
        assert fusejit.compile("!b").describe_inputs(b=raw.view(np.bool_))[0]["copied"].startswith("bool bytes")
    plain = np.arange(1000) % 3 == 0
    assert fusejit.compile("!b").describe_inputs(b=plain)[0]["copied"] is None


def test_empty_inputs():
    assert fusejit.evaluate("x * 2", x=np.array([])).tolist() == []
    assert fusejit.evaluate("sum(x)", x=np.array([])) == 0.0


def test_one_kernel_shared_by_many_threads_gives_the_same_bits():
    kernel = fusejit.compile("mstd(dlog(px, 1), 20) * sqrt(252)")
    rng = np.random.default_rng(1)
    inputs = [100.0 * np.cumprod(1.0 + (rng.random(200_000) - 0.5) * 0.02) for _ in range(8)]
    expected = [kernel.with_threads(1).eval(px=px) for px in inputs]
    results = [None] * len(inputs)
    errors = []

    def work(i):
        try:
            for _ in range(3):
                results[i] = kernel.eval(px=inputs[i])
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want))
        np.testing.assert_array_equal(got.data[1:], want.data[1:])


def test_the_gil_is_released_during_evaluation():
    # While one thread evaluates a long kernel, another thread runs Python: with the GIL
    # held throughout, the counter could not advance until the evaluation finished.
    kernel = fusejit.compile("mstd(x, 50) + mstd(x, 70) + mstd(x, 90)").with_threads(1)
    x = np.random.default_rng(2).random(3_000_000)
    kernel.eval(x=x[:1000])  # compile first
    started, counter, stop = threading.Event(), [0], threading.Event()

    def count():
        started.set()
        while not stop.is_set():
            counter[0] += 1

    thread = threading.Thread(target=count)
    thread.start()
    started.wait()
    before = counter[0]
    kernel.eval(x=x)
    during = counter[0] - before
    stop.set()
    thread.join()
    assert during > 1000
