"""Integer floor division and remainder by a constant, timed: `t // 60` and `t % 86400` (time
buckets) on i64 seconds, fusejit on one thread and on its default threads, into `out=`,
against NumPy's `floor_divide`/`remainder` (libdivide) and Polars. Interleaved, median of 21,
ns per row.

    python python/bench/integer_division.py     (numpy, polars, and the fusejit package)
"""

import sys
from pathlib import Path

import numpy as np

import fusejit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benches" / "peers"))
import peers  # noqa: E402

rows = 1_000_000
# Seconds either side of an epoch, negative ones included (floored, not truncated).
t = np.arange(rows, dtype=np.int64) * 7919 % 10_000_000 - 3_000_000
out = np.empty(rows, dtype=np.int64)
for program, divisor, numpy_op, polars_op in [
    ("t // 60", 60, np.floor_divide, lambda s: s // 60),
    ("t % 86400", 86400, np.remainder, lambda s: s % 86400),
]:
    kernel = fusejit.compile(program)
    one_thread = kernel.with_threads(1)
    assert (kernel.eval(t=t) == numpy_op(t, divisor)).all()
    contenders = [
        ("fusejit", lambda k=kernel: k.eval(t=t, out=out)),
        ("fusejit 1t", lambda k=one_thread: k.eval(t=t, out=out)),
        ("numpy", lambda op=numpy_op, d=divisor: op(t, d, out=out)),
    ]
    if peers.pl is not None:
        series = peers.pl.Series(t)
        contenders.append(("polars", lambda op=polars_op: op(series)))
    print(program, {name: round(ns, 3) for name, ns in peers.interleaved(contenders, 21, rows).items()})
