"""Single operations against NumPy, one at a time: each function and operator fusejit has a
NumPy equivalent for, over 1M rows, fusejit on one thread (`Kernel.eval(columns)`, a new
result) and on its default threads, NumPy's ufunc (a new result too). Interleaved, median of
9, ns per row; a ratio below 1 is a row where NumPy is faster on one thread. Finds the
operations a fused loop does not make up for.

    python python/bench/operation_audit.py [TEXT ...]    (numpy and the fusejit package)

With TEXT, only the operations whose source contains one of them (`log1 expm1`).
"""

import sys
from pathlib import Path

import numpy as np

import fusejit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benches" / "peers"))
import peers  # noqa: E402

rows = 1_000_000
rng = np.random.default_rng(1)
x = 100 + rng.random(rows) * 50  # prices
r = rng.normal(0, 0.01, rows)  # returns
u = rng.random(rows) * 2 - 1  # in [-1, 1)
i = rng.integers(-1000, 1000, rows)
i32 = i.astype(np.int32)
f = rng.random(rows) > 0.5
columns = dict(x=x, r=r, u=u, i=i, i32=i32, f=f)
CASES = [
    ("ln(x)", lambda: np.log(x)),
    ("exp(u)", lambda: np.exp(u)),
    ("log10(x)", lambda: np.log10(x)),
    ("log2(x)", lambda: np.log2(x)),
    ("log1p(r)", lambda: np.log1p(r)),
    ("expm1(r)", lambda: np.expm1(r)),
    ("sin(u)", lambda: np.sin(u)),
    ("cos(u)", lambda: np.cos(u)),
    ("tan(u)", lambda: np.tan(u)),
    ("asin(u)", lambda: np.arcsin(u)),
    ("atan(u)", lambda: np.arctan(u)),
    ("sinh(u)", lambda: np.sinh(u)),
    ("tanh(u)", lambda: np.tanh(u)),
    ("cbrt(x)", lambda: np.cbrt(x)),
    ("sqrt(x)", lambda: np.sqrt(x)),
    ("atan2(u, r)", lambda: np.arctan2(u, r)),
    ("hypot(u, r)", lambda: np.hypot(u, r)),
    ("pow(x, 0.37)", lambda: np.power(x, 0.37)),
    ("x ** 2", lambda: x**2),
    ("floor(x)", lambda: np.floor(x)),
    ("abs(u)", lambda: np.abs(u)),
    ("sign(u)", lambda: np.sign(u)),
    ("x > 120", lambda: x > 120),
    ("min(x, 120)", lambda: np.minimum(x, 120)),
    ("where(u > 0, x, r)", lambda: np.where(u > 0, x, r)),
    ("x % 2.5", lambda: np.remainder(x, 2.5)),
    ("i * 3 + 1", lambda: i * 3 + 1),
    ("i // 60", lambda: i // 60),
    ("i % 7", lambda: i % 7),
    ("f64(i) / 3", lambda: i / 3),
    ("i64(x)", lambda: x.astype(np.int64)),
    ("i32(i)", lambda: i.astype(np.int32)),
    ("f32(x)", lambda: x.astype(np.float32)),
    ("!f", lambda: ~f),
    ("f && u > 0", lambda: f & (u > 0)),
    ("diff(x, 1)", lambda: np.diff(x)),
    ("cumsum(r)", lambda: np.cumsum(r)),
    ("cumprod(1 + r)", lambda: np.cumprod(1 + r)),
    ("cummax(x)", lambda: np.maximum.accumulate(x)),
    ("sum(x)", lambda: np.sum(x)),
    ("max(x)", lambda: np.max(x)),
    ("std(x)", lambda: np.std(x)),
    ("sum(i)", lambda: np.sum(i)),
    ("max(i)", lambda: np.max(i)),
    ("sum(i32)", lambda: np.sum(i32)),
]
print("| operation | fusejit | fusejit 1t | numpy | numpy / fusejit 1t |")
print("| --- | --- | --- | --- | --- |")
only = sys.argv[1:]
for source, numpy_run in CASES:
    if only and not any(text in source for text in only):
        continue
    kernel = fusejit.compile(source)
    one_thread = kernel.with_threads(1)
    contenders = [
        ("fusejit", lambda k=kernel: k.eval(columns)),
        ("fusejit 1t", lambda k=one_thread: k.eval(columns)),
        ("numpy", numpy_run),
    ]
    ns = peers.interleaved(contenders, 9, rows)
    ratio = ns["numpy"] / ns["fusejit 1t"]
    print(f"| `{source}` | {ns['fusejit']:.2f} | {ns['fusejit 1t']:.2f} | {ns['numpy']:.2f} | {ratio:.2f} |")
