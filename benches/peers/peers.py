"""The Python peers of examples/compare, on the same workloads and the same kind of data.

    python peers.py measure ROWS[,ROWS...] REPEATS OUT.jsonl   # one round, appended as JSON lines
    python peers.py table COMPARE.jsonl... -- PEERS.jsonl...    # the merged markdown table
    python peers.py scaling COMPARE.json...                     # the JIT's thread scaling
    python peers.py stateful ROWS REPEATS                       # Polars on examples/stateful

Every contender of one workload runs interleaved (one run each, then REPEATS rounds, each
in a shuffled order), median of REPEATS. NumPy runs on one thread (it has no threads for
these), numexpr on every core, Polars on its own pool (every core), numba compiled for this
CPU on one thread. Nulls (W6) are NaN for NumPy, numexpr and numba, which have no
validity, and real nulls for Polars.
"""
import functools
import json
import os
import random
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
# The realistic corpus of benches/baselines/mod.rs (CORPUS), in its order and under its names.
CORPUS = [
    "ann_ret", "log_ret", "momentum20", "roll_vol", "sharpe20", "bollinger", "macd", "rsi14",
    "drawdown", "cum_ret", "vwap_dev", "roll_vwap", "notional", "zclip", "minmax", "range_pos",
    "signal", "spread_chg", "ema_cross", "clean_ret", "gated_ret", "f32_ret", "f32_z",
]
ORDER = WORKLOADS + CORPUS


def data(rows):
    """A positive random walk x, y near it, x as f32, and 10% of rows null (for W6)."""
    rng = np.random.default_rng(7)
    x = 100.0 * np.cumprod(1.0 + (rng.random(rows) - 0.5) * 0.02)
    y = x * (0.99 + rng.random(rows) * 0.02)
    valid = rng.random(rows) >= 0.1
    return x, y, x.astype(np.float32), valid


def volumes(rows):
    """Traded volumes, 1000 to 2000 (for the corpus)."""
    return np.floor(1000.0 + np.random.default_rng(11).random(rows) * 1000.0)


def corpus_data(rows):
    """The corpus's columns: prices `px`, `y` near them, `px32`, `pxn` (NaN for 10% of rows),
    volumes `vol`, the volumes as i64 share counts `qty`, and `live`, a bool in-session flag
    for 80% of rows."""
    x, y, x32, valid = data(rows)
    vol = volumes(rows)
    live = np.random.default_rng(13).random(rows) >= 0.2
    return {
        "px": x, "y": y, "vol": vol, "pxn": np.where(valid, x, np.nan), "px32": x32,
        "qty": vol.astype(np.int64), "live": live, "valid": valid,
    }


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


# ---------------------------------------------------------------- the corpus


def lagged(a, k):
    out = np.empty_like(a)
    out[:k] = np.nan
    out[k:] = a[:-k]
    return out


def np_rolling_mean(a, w):
    """pandas' way: a cumulative sum, then differences (partial windows at the start)."""
    c = np.cumsum(a)
    out = np.empty_like(a)
    out[:w] = c[:w] / np.arange(1, w + 1)
    out[w:] = (c[w:] - c[:-w]) / w
    return out


def np_rolling_std(a, w):
    """A NumPy user's rolling std: every full window's two-pass std (NaN before)."""
    from numpy.lib.stride_tricks import sliding_window_view

    out = np.full_like(a, np.nan)
    out[w - 1 :] = sliding_window_view(a, w).std(axis=1)
    return out


def np_rolling_extreme(a, w, reducer):
    from numpy.lib.stride_tricks import sliding_window_view

    out = np.full_like(a, np.nan)
    out[w - 1 :] = reducer(sliding_window_view(a, w), axis=1)
    return out


def numpy_corpus(name, d):
    """NumPy, as its users write these (None where NumPy has no way short of a Python loop: ema)."""
    px, y, vol, pxn, px32 = d["px"], d["y"], d["vol"], d["pxn"], d["px32"]
    with np.errstate(all="ignore"):
        if name == "ann_ret":
            return (np.log(px) - lagged(np.log(px), 1)) * 252
        if name == "log_ret":
            return np.log(px / lagged(px, 1))
        if name == "momentum20":
            return px / lagged(px, 20) - 1
        if name == "roll_vol":
            r = np.log(px) - lagged(np.log(px), 1)
            return np_rolling_std(r, 20) * np.sqrt(252)
        if name == "sharpe20":
            r = np.log(px) - lagged(np.log(px), 1)
            r[0] = 0.0
            return np_rolling_mean(r, 20) / np_rolling_std(r, 20) * np.sqrt(252)
        if name == "bollinger":
            return (px - np_rolling_mean(px, 20)) / np_rolling_std(px, 20)
        if name == "drawdown":
            return px / np.maximum.accumulate(px) - 1
        if name == "cum_ret":
            r = np.log(px) - lagged(np.log(px), 1)
            r[0] = 0.0
            return np.exp(np.cumsum(r)) - 1
        if name == "vwap_dev":
            return px - (px * vol).sum() / vol.sum()
        if name == "roll_vwap":
            return np_rolling_mean(px * vol, 20) / np_rolling_mean(vol, 20)
        if name == "notional":
            return px * d["qty"]
        if name == "zclip":
            return np.clip((px - px.mean()) / px.std(), -3, 3)
        if name == "minmax":
            lo = px.min()
            return (px - lo) / (px.max() - lo)
        if name == "range_pos":
            lo = np_rolling_extreme(px, 20, np.min)
            return (px - lo) / (np_rolling_extreme(px, 20, np.max) - lo)
        if name == "signal":
            return np.where(px > y, 1.0, np.where(px < y, -1.0, 0.0))
        if name == "spread_chg":
            spread = px - y
            return spread - lagged(spread, 1)
        if name == "clean_ret":
            r = np.log(pxn) - lagged(np.log(pxn), 1)
            return np.where(np.abs(r) > 0.01, np.nan, r) * 252
        if name == "gated_ret":
            return np.where(d["live"], np.log(px) - lagged(np.log(px), 1), 0.0)
        if name == "f32_ret":
            logs = np.log(px32)
            return (logs - lagged(logs, 1)) * np.float32(252)
        if name == "f32_z":
            return (px32 - px32.mean()) / px32.std()
    return None


NUMEXPR_CORPUS = {
    "ann_ret": "log(cur/prev)*252",
    "log_ret": "log(cur/prev)",
    "momentum20": "cur20/prev20 - 1",
    "vwap_dev": "px - vwap",
    "notional": "px * qty",
    "zclip": "where(z > 3, 3, where(z < -3, -3, z))",
    "minmax": "(px - lo)/(hi - lo)",
    "signal": "where(px > y, 1.0, where(px < y, -1.0, 0.0))",
    "spread_chg": "(cur - ycur) - (prev - yprev)",
    "gated_ret": "where(live1, log(cur/prev), 0.0)",
    "f32_ret": "log(cur32/prev32)*f32_252",
    "f32_z": "(px32 - m32)/s32",
}


def numexpr_corpus(name, d):
    """numexpr for the row-local programs (reductions by NumPy first, as its users do; lags as
    shifted views, so the result is one row shorter)."""
    if name not in NUMEXPR_CORPUS:
        return None
    px, y, vol, px32 = d["px"], d["y"], d["vol"], d["px32"]
    env = {"px": px, "y": y, "cur": px[1:], "prev": px[:-1], "cur20": px[20:], "prev20": px[:-20]}
    env.update(qty=d["qty"], ycur=y[1:], yprev=y[:-1], live1=d["live"][1:])
    if name == "vwap_dev":
        env["vwap"] = (px * vol).sum() / vol.sum()
    if name == "zclip":
        env["z"] = ne.evaluate("(px - m)/s", local_dict={"px": px, "m": px.mean(), "s": px.std()})
    if name == "minmax":
        env["lo"], env["hi"] = px.min(), px.max()
    if name == "f32_ret":
        env.update(cur32=px32[1:], prev32=px32[:-1], f32_252=np.float32(252))
    if name == "f32_z":
        env.update(px32=px32, m32=px32.mean(), s32=px32.std())
    return ne.evaluate(NUMEXPR_CORPUS[name], local_dict=env)


def corpus_frame(d):
    """The corpus's columns as a Polars frame, `pxn`'s NaN rows as nulls."""
    columns = {name: d[name] for name in ["px", "y", "vol", "px32", "qty", "live"]}
    columns["pxn"] = pl.Series(d["px"]).set(pl.Series(~d["valid"]), None)
    return pl.DataFrame(columns)


def polars_corpus(name, frame):
    c = pl.col
    px = c("px")
    r = px.log() - px.log().shift(1)
    ema = lambda e, alpha: e.ewm_mean(alpha=alpha, adjust=False, ignore_nulls=True)
    expression = {
        "ann_ret": r * 252,
        "log_ret": (px / px.shift(1)).log(),
        "momentum20": px / px.shift(20) - 1,
        "roll_vol": r.rolling_std(20, min_samples=1, ddof=0) * np.sqrt(252),
        "sharpe20": r.rolling_mean(20, min_samples=1) / r.rolling_std(20, min_samples=1, ddof=0) * np.sqrt(252),
        "bollinger": (px - px.rolling_mean(20, min_samples=1)) / px.rolling_std(20, min_samples=1, ddof=0),
        "macd": ema(px, 2 / 13) - ema(px, 2 / 27),
        "rsi14": 100
        - 100 / (1 + ema(px.diff().clip(lower_bound=0), 1 / 14) / ema((-px.diff()).clip(lower_bound=0), 1 / 14)),
        "drawdown": px / px.cum_max() - 1,
        "cum_ret": r.cum_sum().exp() - 1,
        "vwap_dev": px - (px * c("vol")).sum() / c("vol").sum(),
        "roll_vwap": (px * c("vol")).rolling_sum(20, min_samples=1) / c("vol").rolling_sum(20, min_samples=1),
        "notional": px * c("qty"),
        "zclip": ((px - px.mean()) / px.std(ddof=0)).clip(-3, 3),
        "minmax": (px - px.min()) / (px.max() - px.min()),
        "range_pos": (px - px.rolling_min(20, min_samples=1))
        / (px.rolling_max(20, min_samples=1) - px.rolling_min(20, min_samples=1)),
        "signal": pl.when(px > c("y")).then(1.0).when(px < c("y")).then(-1.0).otherwise(0.0),
        "spread_chg": (px - c("y")).diff(),
        "ema_cross": pl.when(ema(px, 0.1) > ema(px, 0.02)).then(1.0).otherwise(-1.0),
        "clean_ret": pl.when((c("pxn").log() - c("pxn").log().shift(1)).abs() > 0.01)
        .then(None)
        .otherwise(c("pxn").log() - c("pxn").log().shift(1))
        * 252,
        "gated_ret": pl.when(c("live")).then(r).otherwise(0.0),
        "f32_ret": (c("px32").log() - c("px32").log().shift(1)) * 252,
        "f32_z": (c("px32") - c("px32").mean()) / c("px32").std(ddof=0),
    }[name]
    return frame.select(expression)


def numba_corpus_kernels():
    """Plain loops, as a numba user writes them: running sums that subtract, no nulls."""
    from math import exp, log, nan, sqrt

    jit = numba.njit(cache=False, error_model="numpy")

    @jit
    def ann_ret(px, out):
        out[0] = nan
        for i in range(1, px.size):
            out[i] = (log(px[i]) - log(px[i - 1])) * 252

    @jit
    def roll_vol(px, out):
        s = ss = 0.0
        out[0] = nan
        for i in range(1, px.size):
            r = log(px[i]) - log(px[i - 1])
            s += r
            ss += r * r
            if i > 20:
                q = log(px[i - 20]) - log(px[i - 21])
                s -= q
                ss -= q * q
            n = min(i, 20)
            out[i] = sqrt(max(ss / n - (s / n) ** 2, 0.0)) * sqrt(252.0)

    @jit
    def bollinger(px, out):
        s = ss = 0.0
        for i in range(px.size):
            s += px[i]
            ss += px[i] * px[i]
            if i >= 20:
                s -= px[i - 20]
                ss -= px[i - 20] * px[i - 20]
            n = min(i + 1, 20)
            mean = s / n
            out[i] = (px[i] - mean) / sqrt(max(ss / n - mean * mean, 0.0))

    @jit
    def macd(px, out):
        fast = slow = px[0]
        for i in range(px.size):
            fast = 2 / 13 * px[i] + (1 - 2 / 13) * fast
            slow = 2 / 27 * px[i] + (1 - 2 / 27) * slow
            out[i] = fast - slow

    @jit
    def rsi14(px, out):
        up = down = nan
        out[0] = nan
        for i in range(1, px.size):
            d = px[i] - px[i - 1]
            g, l = max(d, 0.0), max(-d, 0.0)
            up = g if i == 1 else g / 14 + (1 - 1 / 14) * up
            down = l if i == 1 else l / 14 + (1 - 1 / 14) * down
            out[i] = 100 - 100 / (1 + up / down)

    @jit
    def drawdown(px, out):
        peak = px[0]
        for i in range(px.size):
            peak = max(peak, px[i])
            out[i] = px[i] / peak - 1

    @jit
    def cum_ret(px, out):
        s = 0.0
        out[0] = nan
        for i in range(1, px.size):
            s += log(px[i]) - log(px[i - 1])
            out[i] = exp(s) - 1

    @jit
    def roll_vwap(px, vol, out):
        pv = v = 0.0
        for i in range(px.size):
            pv += px[i] * vol[i]
            v += vol[i]
            if i >= 20:
                pv -= px[i - 20] * vol[i - 20]
                v -= vol[i - 20]
            out[i] = pv / v

    @jit
    def range_pos(px, out):
        for i in range(px.size):
            lo = hi = px[i]
            for j in range(max(0, i - 19), i):
                lo = min(lo, px[j])
                hi = max(hi, px[j])
            out[i] = (px[i] - lo) / (hi - lo)

    @jit
    def ema_cross(px, out):
        fast = slow = px[0]
        for i in range(px.size):
            fast = 0.1 * px[i] + 0.9 * fast
            slow = 0.02 * px[i] + 0.98 * slow
            out[i] = 1.0 if fast > slow else -1.0

    @jit
    def signal(px, y, out):
        for i in range(px.size):
            out[i] = 1.0 if px[i] > y[i] else (-1.0 if px[i] < y[i] else 0.0)

    @jit
    def notional(px, qty, out):
        for i in range(px.size):
            out[i] = px[i] * qty[i]

    @jit
    def spread_chg(px, y, out):
        out[0] = nan
        for i in range(1, px.size):
            out[i] = (px[i] - y[i]) - (px[i - 1] - y[i - 1])

    @jit
    def gated_ret(px, live, out):
        out[0] = nan if live[0] else 0.0
        for i in range(1, px.size):
            out[i] = log(px[i]) - log(px[i - 1]) if live[i] else 0.0

    return {
        "ann_ret": lambda d, out: ann_ret(d["px"], out),
        "roll_vol": lambda d, out: roll_vol(d["px"], out),
        "bollinger": lambda d, out: bollinger(d["px"], out),
        "macd": lambda d, out: macd(d["px"], out),
        "rsi14": lambda d, out: rsi14(d["px"], out),
        "drawdown": lambda d, out: drawdown(d["px"], out),
        "cum_ret": lambda d, out: cum_ret(d["px"], out),
        "roll_vwap": lambda d, out: roll_vwap(d["px"], d["vol"], out),
        "notional": lambda d, out: notional(d["px"], d["qty"], out),
        "range_pos": lambda d, out: range_pos(d["px"], out),
        "signal": lambda d, out: signal(d["px"], d["y"], out),
        "spread_chg": lambda d, out: spread_chg(d["px"], d["y"], out),
        "ema_cross": lambda d, out: ema_cross(d["px"], out),
        "gated_ret": lambda d, out: gated_ret(d["px"], d["live"], out),
    }


def interleaved(contenders, repeats, rows):
    """Each contender once untimed, then `repeats` interleaved timed runs: name -> median ns/row.

    Each round runs the contenders in an order of its own (a shuffle seeded by the round), so
    that no contender always follows the same one: what ran just before moves a
    memory-bound program's time more than the contenders differ (right after Polars or
    numexpr, whose pools' threads are still awake, most of all; docs/PERFORMANCE.md, "A
    shuffled order"), and in a fixed cyclic order fusejit always followed numba, the
    quietest of them.
    """
    for _, run in contenders:
        run()
    samples = {name: [] for name, _ in contenders}
    for round_index in range(repeats):
        order = list(contenders)
        random.Random(round_index).shuffle(order)
        for name, run in order:
            start = time.perf_counter_ns()
            run()
            samples[name].append((time.perf_counter_ns() - start) / rows)
    return {name: statistics.median(times) for name, times in samples.items()}


@functools.lru_cache(maxsize=None)
def numpy_expresses(name):
    """Whether NumPy has a way to write corpus program `name` (no Python loop: not `ema`)."""
    return numpy_corpus(name, corpus_data(64)) is not None


def corpus_contenders(name, d, frame, kernels, out):
    """The peers that can express corpus program `name`, over `corpus_data` `d`, its Polars
    `frame` (None without Polars) and numba's `kernels` writing into `out`."""
    contenders = []
    if numpy_expresses(name):
        contenders.append(("numpy", lambda: numpy_corpus(name, d)))
    if ne is not None and name in NUMEXPR_CORPUS:
        contenders.append(("numexpr", lambda: numexpr_corpus(name, d)))
    if frame is not None:
        contenders.append(("polars", lambda: polars_corpus(name, frame)))
    if name in kernels:
        contenders.append(("numba", lambda: kernels[name](d, out)))
    return contenders


def measure_corpus(sizes, repeats, records):
    kernels = numba_corpus_kernels() if numba is not None else {}
    for rows in sizes:
        d = corpus_data(rows)
        out = np.empty(rows)
        frame = corpus_frame(d) if pl is not None else None
        for name in CORPUS:
            contenders = corpus_contenders(name, d, frame, kernels, out)
            for contender, ns in interleaved(contenders, repeats, rows).items():
                records.append({"workload": name, "rows": rows, "contender": contender, "ns_per_row": ns})


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
            # The untimed first run of each is also where numba compiles.
            for name, ns in interleaved(contenders, repeats, rows).items():
                records.append({"workload": workload, "rows": rows, "contender": name, "ns_per_row": ns})
    measure_corpus(sizes, repeats, records)
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
    keys = sorted({(w, r) for w, r, _ in values}, key=lambda key: (key[1], ORDER.index(key[0])))
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
    keys = sorted({(w, r) for w, r, _ in values}, key=lambda key: (key[1], ORDER.index(key[0])))
    for workload, rows in keys:
        times = [values[(workload, rows, c)] for c in ours]
        speedups = " | ".join(f"{times[0] / t:.2f}" for t in times[1:])
        print(f"| {workload} | {rows} | " + " | ".join(f"{t:.2f}" for t in times) + f" | {speedups} |")


def stateful_data(rows):
    """examples/stateful's x, r and xn (10% nulls), and the validity of xn."""
    rng = np.random.default_rng(7)
    x = 100.0 * np.cumprod(1.0 + (rng.random(rows) - 0.5) * 0.02)
    r = (rng.random(rows) - 0.5) * 1e-6
    valid = rng.random(rows) >= 0.1
    return x, r, valid


def polars_stateful(x, r, valid):
    """A Polars frame of x, r, xn and the programs of examples/stateful as its expressions."""
    frame = pl.DataFrame({"x": x, "r": r, "xn": pl.Series(x).set(pl.Series(~valid), None)})
    c = pl.col
    ema = lambda e: e.ewm_mean(alpha=0.1, adjust=False, ignore_nulls=True)
    programs = {
        "msum(x, 20)": c("x").rolling_sum(20, min_samples=1),
        "mavg(x, 20)": c("x").rolling_mean(20, min_samples=1),
        "mstd(x, 20)": c("x").rolling_std(20, min_samples=1, ddof=0),
        "mmax(x, 20)": c("x").rolling_max(20, min_samples=1),
        "mmin(x, 20)": c("x").rolling_min(20, min_samples=1),
        "cumsum(x)": c("x").cum_sum(),
        "cumprod(1 + r)": (1 + c("r")).cum_prod(),
        "cummax(x)": c("x").cum_max(),
        "ema(x, 0.1)": ema(c("x")),
        "mavg(xn, 20)": c("xn").rolling_mean(20, min_samples=1),
        "cumsum(xn)": c("xn").cum_sum(),
        "ema(xn, 0.1)": ema(c("xn")),
        "mstd(dlog(x, 1), 20)": (c("x").log() - c("x").log().shift(1)).rolling_std(20, min_samples=1, ddof=0),
        "x/cummax(x) - 1": c("x") / c("x").cum_max() - 1,
    }
    return frame, programs


def stateful(rows, repeats):
    """Polars on the programs of examples/stateful (its x, r and xn), median ns per row."""
    frame, programs = polars_stateful(*stateful_data(rows))
    contenders = [(name, lambda e=e: frame.select(e)) for name, e in programs.items()]
    print(f"Polars {pl.__version__}, {rows} rows, median of {repeats}; ns per row\n")
    print("| program | polars |\n| --- | --- |")
    for name, ns in interleaved(contenders, repeats, rows).items():
        print(f"| `{name}` | {ns:.2f} |")


if __name__ == "__main__":
    if sys.argv[1] == "stateful":
        stateful(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "measure":
        measure([int(n) for n in sys.argv[2].split(",")], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "scaling":
        scaling(sys.argv[2:])
    else:
        table(sys.argv[2:])
