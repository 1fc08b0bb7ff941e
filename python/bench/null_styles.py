"""How a result's nulls come back, timed: `spread_chg`'s `diff(px - y, 1)` on one thread into
`out=`, with each `nulls=` style, against the same loop with no nulls to report, `px - y`, and
numba's loop (NaN for its null row). Interleaved, median of 21, ns per row.

    python python/bench/null_styles.py     (numpy, numba, and the fusejit package)
"""

import sys
from pathlib import Path

import numpy as np

import fusejit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benches" / "peers"))
import peers  # noqa: E402

for rows in [20_000, 1_000_000]:
    d = peers.corpus_data(rows)
    numba_kernels = peers.numba_corpus_kernels()
    out = np.empty(rows)
    columns = {name: d[name] for name in ["px", "y", "qty", "live"]}
    kernel = fusejit.compile("diff(px - y, 1)").with_threads(1)
    difference = fusejit.compile("px - y").with_threads(1)
    filled = fusejit.compile("fill(diff(px - y, 1), 0.0)").with_threads(1)
    contenders = [
        ("mask", lambda: kernel.eval(columns, out=out)),
        ("nan", lambda: kernel.eval(columns, out=out, nulls="nan")),
        ("separate", lambda: kernel.eval(columns, out=out, nulls="separate")),
        ("px - y", lambda: difference.eval(columns, out=out)),
        ("fill", lambda: filled.eval(columns, out=out)),
        ("numba", lambda: numba_kernels["spread_chg"](d, out)),
    ]
    print(rows, {name: round(ns, 3) for name, ns in peers.interleaved(contenders, 21, rows).items()})
