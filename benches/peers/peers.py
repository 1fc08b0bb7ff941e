"""The Python peers of examples/compare, on the same workloads and the same kind of data.

    python peers.py measure ROWS[,ROWS...] REPEATS OUT.jsonl   # one round, appended as JSON lines
    python peers.py table COMPARE.jsonl... -- PEERS.jsonl...    # the merged markdown table
    python peers.py scaling COMPARE.json...                     # the JIT's thread scaling

Every contender of one workload runs interleaved (one run each, then again), median of
REPEATS. NumPy runs on one thread (it has no threads for these), numexpr on every core,
Polars on its own pool (every core), numba compiled for this CPU on one thread. Nulls (W6)
are NaN for NumPy, numexpr and numba, which have no validity, and real nulls for Polars.
"""
import json
import os
import statistics
import sys
import time

import numpy as np

try:
    import numexpr as ne
except ImportError:  # pragma: no cover - the venv installs it
    ne = None
try:
    import polars as pl
except ImportError:  # pragma: no cover
    pl = None
try:
    import numba
except ImportError:  # numba may be missing for this Python
    numba = None

WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "zscore", "mavg20"]


def data(rows):
    """A positive random walk x, y near it, x as f32, and 10% of rows null (for W6)."""
    rng = np.random.default_rng(7)
    x = 100.0 * np.cumprod(1.0 + (rng.random(rows) - 0.5) * 0.02)
    y = x * (0.99 + rng.random(rows) * 0.02)
    valid = rng.random(rows) >= 0.1
    return x, y, x.astype(np.float32), valid


def numpy_contender(workload, x, y, x32, valid, a, b, out):
    if workload == "W1":
        np.log(x, out=out)
        out *= a
        out += b
    elif workload in ("W2", "W3", "W6"):
        k = 1 if workload == "W2" else 5
        source = np.where(valid, x, np.nan) if workload == "W6" else x
        logs = np.log(source)
        out[:k] = np.nan
        np.subtract(logs[k:], logs[:-k], out=out[k:])
        out *= a
        out += b
    elif workload == "W4":
        np.subtract(x, y, out=out)
        out *= a
        out += b
    elif workload == "W5":
        return x32 * np.float32(a)
    elif workload == "W7":
        np.multiply(np.where(x > y, x - y, 0.0), a, out=out)
    elif workload == "zscore":
        np.subtract(x, x.mean(), out=out)
        out /= x.std()
    elif workload == "mavg20":
        c = np.cumsum(x)
        out[:20] = c[:20] / np.arange(1, 21)
        out[20:] = (c[20:] - c[:-20]) / 20.0
    return out


def numexpr_contender(workload, x, y, x32, valid, a, b, out):
    if workload == "W1":
        return ne.evaluate("log(x)*a+b", out=out)
    if workload in ("W2", "W3", "W6"):
        k = 1 if workload == "W2" else 5
        source = np.where(valid, x, np.nan) if workload == "W6" else x
        cur, prev = source[k:], source[:-k]
        out[:k] = np.nan
        return ne.evaluate("log(cur/prev)*a+b", out=out[k:])
    if workload == "W4":
        return ne.evaluate("(x-y)*a+b", out=out)
    if workload == "W5":
        a32 = np.float32(a)
        return ne.evaluate("x32*a32")
    if workload == "W7":
        return ne.evaluate("where(x>y, x-y, 0)*a", out=out)
    if workload == "zscore":
        mean, std = x.mean(), x.std()
        return ne.evaluate("(x-mean)/std", out=out)
    return None  # no rolling windows in numexpr


def polars_frame(x, y, x32, valid):
    return pl.DataFrame({"x": x, "y": y, "x32": x32, "xn": pl.Series(x).set(pl.Series(~valid), None)})


def polars_contender(workload, frame, a, b):
    c = pl.col
    expression = {
        "W1": c("x").log() * a + b,
        "W2": (c("x").log() - c("x").log().shift(1)) * a + b,
        "W3": (c("x").log() - c("x").log().shift(5)) * a + b,
        "W4": (c("x") - c("y")) * a + b,
        "W5": c("x32") * np.float32(a),
        "W6": (c("xn").log() - c("xn").log().shift(5)) * a + b,
        "W7": pl.when(c("x") > c("y")).then(c("x") - c("y")).otherwise(0.0) * a,
        "zscore": (c("x") - c("x").mean()) / c("x").std(ddof=0),
        "mavg20": c("x").rolling_mean(20, min_samples=1),
    }[workload]
    return frame.select(expression)


def numba_kernels():
    from math import log, nan

    @numba.njit(cache=False)
    def w1(x, a, b, out):
        for i in range(x.size):
            out[i] = log(x[i]) * a + b

    @numba.njit(cache=False)
    def dlog(x, k, a, b, out):
        for i in range(x.size):
            out[i] = (log(x[i]) - log(x[i - k])) * a + b if i >= k else nan

    @numba.njit(cache=False)
    def w4(x, y, a, b, out):
        for i in range(x.size):
            out[i] = (x[i] - y[i]) * a + b

    @numba.njit(cache=False)
    def w5(x, a, out):
        for i in range(x.size):
            out[i] = x[i] * a

    @numba.njit(cache=False)
    def w7(x, y, a, out):
        for i in range(x.size):
            out[i] = (x[i] - y[i] if x[i] > y[i] else 0.0) * a

    @numba.njit(cache=False)
    def zscore(x, out):
        s = 0.0
        for i in range(x.size):
            s += x[i]
        mean = s / x.size
        m2 = 0.0
        for i in range(x.size):
            m2 += (x[i] - mean) ** 2
        std = (m2 / x.size) ** 0.5
        for i in range(x.size):
            out[i] = (x[i] - mean) / std

    @numba.njit(cache=False)
    def mavg20(x, out):
        s = 0.0
        for i in range(x.size):
            s += x[i]
            if i >= 20:
                s -= x[i - 20]
            out[i] = s / min(i + 1, 20)

    return w1, dlog, w4, w5, w7, zscore, mavg20


def numba_contender(kernels, workload, x, y, x32, valid, a, b, out, out32, x_nan):
    w1, dlog, w4, w5, w7, zscore, mavg20 = kernels
    if workload == "W1":
        w1(x, a, b, out)
    elif workload == "W2":
        dlog(x, 1, a, b, out)
    elif workload == "W3":
        dlog(x, 5, a, b, out)
    elif workload == "W6":
        dlog(x_nan, 5, a, b, out)
    elif workload == "W4":
        w4(x, y, a, b, out)
    elif workload == "W5":
        w5(x32, np.float32(a), out32)
    elif workload == "W7":
        w7(x, y, a, out)
    elif workload == "zscore":
        zscore(x, out)
    else:
        mavg20(x, out)


def measure(sizes, repeats, path):
    a, b = 252.0, 0.5
    if ne is not None:
        ne.set_num_threads(os.cpu_count())
    kernels = numba_kernels() if numba is not None else None
    records = []
    for rows in sizes:
        x, y, x32, valid = data(rows)
        x_nan = np.where(valid, x, np.nan)
        out = np.empty(rows)
        out32 = np.empty(rows, dtype=np.float32)
        frame = polars_frame(x, y, x32, valid) if pl is not None else None
        for workload in WORKLOADS:
            contenders = [("numpy", lambda: numpy_contender(workload, x, y, x32, valid, a, b, out))]
            if ne is not None and workload != "mavg20":
                contenders.append(
                    ("numexpr", lambda: numexpr_contender(workload, x, y, x32, valid, a, b, out))
                )
            if frame is not None:
                contenders.append(("polars", lambda: polars_contender(workload, frame, a, b)))
            if kernels is not None:
                contenders.append(
                    (
                        "numba",
                        lambda: numba_contender(kernels, workload, x, y, x32, valid, a, b, out, out32, x_nan),
                    )
                )
            for _, run in contenders:  # warm up (numba compiles here)
                run()
            samples = {name: [] for name, _ in contenders}
            for _ in range(repeats):
                for name, run in contenders:
                    start = time.perf_counter_ns()
                    run()
                    samples[name].append((time.perf_counter_ns() - start) / rows)
            for name, times in samples.items():
                records.append(
                    {"workload": workload, "rows": rows, "contender": name, "ns_per_row": statistics.median(times)}
                )
    with open(path, "a") as file:
        for record in records:
            file.write(json.dumps(record) + "\n")


def load(paths):
    """(workload, rows, contender) -> the median over rounds."""
    values = {}
    for path in paths:
        with open(path) as file:
            text = file.read().strip()
        records = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines()]
        for record in records:
            key = (record["workload"], record["rows"], record["contender"])
            values.setdefault(key, []).append(record["ns_per_row"])
    return {key: statistics.median(times) for key, times in values.items()}


def table(paths):
    split = paths.index("--")
    values = load(paths[:split] + paths[split + 1 :])
    contenders = []
    for _, _, contender in values:
        if contender not in contenders:
            contenders.append(contender)
    ours = [c for c in contenders if c.startswith("jit ")]
    peers = [c for c in ["numpy", "numexpr", "polars", "numba"] if c in contenders]
    shown = ours + ["best"] + peers
    print("| workload | rows | " + " | ".join(shown) + " | best peer / " + ours[-1] + " |")
    print("| --- | --- |" + " --- |" * (len(shown) + 1))
    keys = sorted({(w, r) for w, r, _ in values}, key=lambda key: (key[1], WORKLOADS.index(key[0])))
    for workload, rows in keys:
        cells = [values.get((workload, rows, c)) for c in shown]
        best_peer = min(v for c, v in zip(shown, cells) if c in peers and v is not None)
        ratio = best_peer / values[(workload, rows, ours[-1])]
        text = " | ".join("-" if v is None else f"{v:.2f}" for v in cells)
        print(f"| {workload} | {rows} | {text} | {ratio:.2f} |")


def scaling(paths):
    """examples/compare's JIT columns (`--threads 1,N`), median over runs, with the speedup."""
    values = load(paths)
    ours = sorted({c for _, _, c in values if c.startswith("jit ")}, key=lambda c: int(c[4:-1]))
    print("| workload | rows | " + " | ".join(ours) + " | " + " | ".join(f"{ours[0]} / {c}" for c in ours[1:]) + " |")
    print("| --- | --- |" + " --- |" * (2 * len(ours) - 1))
    keys = sorted({(w, r) for w, r, _ in values}, key=lambda key: (key[1], WORKLOADS.index(key[0])))
    for workload, rows in keys:
        times = [values[(workload, rows, c)] for c in ours]
        speedups = " | ".join(f"{times[0] / t:.2f}" for t in times[1:])
        print(f"| {workload} | {rows} | " + " | ".join(f"{t:.2f}" for t in times) + f" | {speedups} |")


if __name__ == "__main__":
    if sys.argv[1] == "measure":
        measure([int(n) for n in sys.argv[2].split(",")], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "scaling":
        scaling(sys.argv[2:])
    else:
        table(sys.argv[2:])
