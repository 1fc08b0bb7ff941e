"""A new result against `out=`, timed: W4 `(x-y)*a+b` on one thread through `kernel.eval(cols)`
and `kernel.eval(cols, out=out)`, NumPy's expression, and `np.empty` alone. Interleaved,
median of 31, ns per row.

    python python/bench/result_allocation.py     (numpy and the fusejit package)
"""

import sys
from pathlib import Path

import numpy as np

import fusejit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benches" / "peers"))
import peers  # noqa: E402

for rows in [20_000, 1_000_000]:
    x, y, _, _ = peers.data(rows)
    columns = {"x": x, "y": y, "a": 252.0, "b": 0.5}
    out = np.empty(rows)
    kernel = fusejit.compile("(x-y)*a+b").with_threads(1)
    contenders = [
        ("out=", lambda: kernel.eval(columns, out=out)),
        ("new", lambda: kernel.eval(columns)),
        ("numpy", lambda: (x - y) * 252.0 + 0.5),
        ("np.empty", lambda: np.empty(rows)),
    ]
    print(rows, {name: round(ns, 3) for name, ns in peers.interleaved(contenders, 31, rows).items()})
