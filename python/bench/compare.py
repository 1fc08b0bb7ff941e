"""fusejit against NumPy, numexpr, Polars and numba in one process: the project's peer comparison.

    python python/bench/compare.py [--rows 1000000] [--repeats 7] [--json OUT.json] [--quick]

Every contender of one program runs interleaved with the others (each once untimed, then
REPEATS rounds, each in a shuffled order), on the same arrays, and the table shows each one's median ns per row and the
best peer's time over fusejit's. fusejit runs on every core ("fusejit") and on one thread
("fusejit 1t"), writing into a preallocated array where NumPy's contender does (`out=`); W6's
nulls are a pyarrow array with a validity bitmap (for NumPy, numexpr and numba they are NaN).
The peers' code is `benches/peers/peers.py`'s, and fusejit's programs are read from
`benches/baselines/mod.rs`, so the Rust comparison (`examples/compare`) and this one time the
same programs. A last table times one call on 16 rows: the per-call overhead, where the
ratio takes fusejit's faster entry point (`Kernel.eval(columns, out=)` on a compiled kernel,
as numba's contender is its compiled function; `evaluate` looks the kernel up by text).

Needs: pip install numpy numexpr polars numba pyarrow, and the fusejit package
(`pip install ./python`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

import fusejit

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benches" / "peers"))
import peers  # noqa: E402  (the peers' contenders, shared with benches/peers/run.sh)
from peers import interleaved  # noqa: E402

try:
    import pyarrow as pa
except ImportError:  # pragma: no cover
    pa = None


def rust_programs():
    """The workloads' and the corpus's fusejit programs, from benches/baselines/mod.rs."""
    text = (REPO / "benches" / "baselines" / "mod.rs").read_text()
    source_fn = text[text.index("pub fn source(self)") :]
    source_fn = source_fn[: source_fn.index("\n    }\n")]
    workloads = {}
    for names, program in re.findall(r"((?:Workload::\w+\s*\|?\s*)+)=>\s*\"([^\"]+)\"", source_fn):
        for name in re.findall(r"Workload::(\w+)", names):
            workloads[{"Zscore": "zscore", "Mavg20": "mavg20"}.get(name, name)] = program
    corpus_text = text[text.index("pub const CORPUS") :]
    corpus_text = corpus_text[: corpus_text.index("];")]
    corpus = dict(re.findall(r"\(\s*\"(\w+)\",\s*\"([^\"]+)\",?\s*\)", corpus_text))
    assert set(workloads) == set(peers.WORKLOADS), workloads
    assert list(corpus) == peers.CORPUS, corpus
    return workloads, corpus


STATEFUL = [
    "msum(x, 20)",
    "mavg(x, 20)",
    "mstd(x, 20)",
    "mmax(x, 20)",
    "mmin(x, 20)",
    "cumsum(x)",
    "cumprod(1 + r)",
    "cummax(x)",
    "ema(x, 0.1)",
    "mavg(xn, 20)",
    "cumsum(xn)",
    "ema(xn, 0.1)",
    "mstd(dlog(x, 1), 20)",
    "x/cummax(x) - 1",
]


def fusejit_contenders(program, columns, out):
    """fusejit on every core and on one thread, into `out` when given."""
    kernel = fusejit.compile(program)
    one = kernel.with_threads(1)
    if out is None:
        return [("fusejit", lambda: kernel.eval(columns)), ("fusejit 1t", lambda: one.eval(columns))]
    return [
        ("fusejit", lambda: kernel.eval(columns, out=out)),
        ("fusejit 1t", lambda: one.eval(columns, out=out)),
    ]


def measure_workloads(rows, repeats, records, workloads):
    a, b = 252.0, 0.5
    x, y, x32, valid = peers.data(rows)
    x_nan = np.where(valid, x, np.nan)
    out, out32 = np.empty(rows), np.empty(rows, dtype=np.float32)
    frame = peers.polars_frame(x, y, x32, valid) if peers.pl is not None else None
    kernels = peers.numba_kernels() if peers.numba is not None else None
    xn = pa.array(x, mask=~valid) if pa is not None else np.ma.MaskedArray(x, mask=~valid)
    for workload in peers.WORKLOADS:
        columns = {"x": x32 if workload == "W5" else x, "y": y, "a": a, "b": b}
        if workload == "W5":
            columns["a"] = np.float32(a)
        target = out32 if workload == "W5" else out
        if workload == "W6":
            columns["x"], target = xn, None
        contenders = fusejit_contenders(workloads[workload], columns, target)
        contenders.append(("numpy", lambda: peers.numpy_contender(workload, x, y, x32, valid, a, b, out)))
        if peers.ne is not None and workload != "mavg20":
            contenders.append(("numexpr", lambda: peers.numexpr_contender(workload, x, y, x32, valid, a, b, out)))
        if frame is not None:
            contenders.append(("polars", lambda: peers.polars_contender(workload, frame, a, b)))
        if kernels is not None:
            contenders.append(
                ("numba", lambda: peers.numba_contender(kernels, workload, x, y, x32, valid, a, b, out, out32, x_nan))
            )
        for name, ns in interleaved(contenders, repeats, rows).items():
            records.append({"workload": workload, "rows": rows, "contender": name, "ns_per_row": ns})


def measure_corpus(rows, repeats, records, corpus):
    d = peers.corpus_data(rows)
    x, valid = d["px"], d["valid"]
    out, out32 = np.empty(rows), np.empty(rows, dtype=np.float32)
    kernels = peers.numba_corpus_kernels() if peers.numba is not None else {}
    frame = peers.corpus_frame(d) if peers.pl is not None else None
    columns = {column: d[column] for column in ["px", "y", "vol", "px32", "qty", "live"]}
    columns["pxn"] = pa.array(x, mask=~valid) if pa is not None else np.ma.MaskedArray(x, mask=~valid)
    for name in peers.CORPUS:
        target = None if name == "clean_ret" else (out32 if name.startswith("f32_") else out)
        contenders = fusejit_contenders(corpus[name], columns, target)
        contenders += peers.corpus_contenders(name, d, frame, kernels, out)
        for contender, ns in interleaved(contenders, repeats, rows).items():
            records.append({"workload": name, "rows": rows, "contender": contender, "ns_per_row": ns})


def measure_stateful(rows, repeats, records):
    """examples/stateful's programs over its x, r and xn: fusejit and Polars."""
    x, r, valid = peers.stateful_data(rows)
    xn = pa.array(x, mask=~valid) if pa is not None else np.ma.MaskedArray(x, mask=~valid)
    out = np.empty(rows)
    frame, polars = peers.polars_stateful(x, r, valid) if peers.pl is not None else (None, {})
    for program in STATEFUL:
        columns = {"x": x, "r": r, "xn": xn}
        nullable = "xn" in program or "dlog" in program
        contenders = fusejit_contenders(program, columns, None if nullable else out)
        if program in polars:
            contenders.append(("polars", lambda e=polars[program]: frame.select(e)))
        for contender, ns in interleaved(contenders, repeats, rows).items():
            records.append({"workload": program, "rows": rows, "contender": contender, "ns_per_row": ns})


OVERHEAD = "W4 at 16 rows (µs per call)"


def measure_overhead(repeats, records):
    """One call on 16 rows, in microseconds: what a small batch costs."""
    rows = 16
    x, y, _, _ = peers.data(rows)
    a, b = 252.0, 0.5
    out = np.empty(rows)
    kernel = fusejit.compile("(x-y)*a+b")
    columns = {"x": x, "y": y, "a": a, "b": b}
    contenders = [
        ("fusejit", lambda: fusejit.evaluate("(x-y)*a+b", x=x, y=y, a=a, b=b)),
        ("fusejit kernel", lambda: kernel.eval(columns, out=out)),
        ("numpy", lambda: (x - y) * a + b),
    ]
    if peers.ne is not None:
        contenders.append(("numexpr", lambda: peers.ne.evaluate("(x-y)*a+b", local_dict=columns, out=out)))
    if peers.pl is not None:
        frame = peers.pl.DataFrame({"x": x, "y": y})
        expression = (peers.pl.col("x") - peers.pl.col("y")) * a + b
        contenders.append(("polars", lambda: frame.select(expression)))
    if peers.numba is not None:
        w4 = peers.numba_kernels()[2]
        contenders.append(("numba", lambda: w4(x, y, a, b, out)))
    inner = 1000
    runs = [(name, lambda run=run: [run() for _ in range(inner)]) for name, run in contenders]
    for name, ns in interleaved(runs, repeats, inner).items():
        records.append({"workload": OVERHEAD, "rows": rows, "contender": name, "ns_per_row": ns / 1000})


PEERS = ["numpy", "numexpr", "polars", "numba"]


def table(records):
    contenders = []
    for record in records:
        if record["contender"] not in contenders:
            contenders.append(record["contender"])
    ours = [c for c in contenders if c.startswith("fusejit")]
    shown = ours + [c for c in PEERS if c in contenders]
    lines = [
        "| program | rows | " + " | ".join(shown) + " | best peer / fusejit |",
        "| --- | --- |" + " --- |" * (len(shown) + 1),
    ]
    keys = []
    for record in records:
        key = (record["workload"], record["rows"])
        if key not in keys:
            keys.append(key)
    values = {(r["workload"], r["rows"], r["contender"]): r["ns_per_row"] for r in records}
    for workload, rows in keys:
        cells = [values.get((workload, rows, c)) for c in shown]
        peer_times = [values[(workload, rows, c)] for c in PEERS if (workload, rows, c) in values]
        # One call's overhead is each tool's fastest way to make it: numba's compiled
        # function against a compiled `Kernel`, not against `evaluate`'s lookup by text.
        compared = ours if workload == OVERHEAD else ["fusejit"]
        our_time = min(values[(workload, rows, c)] for c in compared if (workload, rows, c) in values)
        ratio = f"{min(peer_times) / our_time:.2f}" if peer_times else "-"
        text = " | ".join("-" if v is None else f"{v:.2f}" for v in cells)
        lines.append(f"| `{workload}` | {rows} | {text} | {ratio} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1000000", help="comma-separated row counts")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", help="write the records here too")
    parser.add_argument("--quick", action="store_true", help="100 000 rows, 3 repeats: a smoke run")
    parser.add_argument("--only", choices=["workloads", "corpus", "stateful", "overhead"], action="append")
    args = parser.parse_args()
    sizes = [100_000] if args.quick else [int(n) for n in args.rows.split(",")]
    repeats = 3 if args.quick else args.repeats
    if peers.ne is not None:
        peers.ne.set_num_threads(os.cpu_count())
    parts = args.only or ["workloads", "corpus", "stateful", "overhead"]
    workloads, corpus = rust_programs()
    records = []
    for rows in sizes:
        if "workloads" in parts:
            measure_workloads(rows, repeats, records, workloads)
        if "corpus" in parts:
            measure_corpus(rows, repeats, records, corpus)
        if "stateful" in parts:
            measure_stateful(rows, repeats, records)
    if "overhead" in parts:
        measure_overhead(repeats, records)
    versions = {"fusejit": fusejit.__version__, "isa": fusejit.isa(), "numpy": np.__version__, "cores": os.cpu_count()}
    for name, module in [("numexpr", peers.ne), ("polars", peers.pl), ("numba", peers.numba)]:
        if module is not None:
            versions[name] = module.__version__
    print(f"# {versions}; median of {repeats} interleaved runs; ns per row (µs per call for the 16-row line)\n")
    print(table(records))
    if args.json:
        Path(args.json).write_text(json.dumps({"versions": versions, "records": records}, indent=1))


if __name__ == "__main__":
    main()
