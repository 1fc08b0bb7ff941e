"""The Polars side of benches/io/run.sh: data generation, one Polars run, and the table."""
import statistics
import sys


def generate(directory):
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(7)
    n = 5_000_000
    px = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    frame = pl.DataFrame({"px": px})
    frame.write_csv(f"{directory}/big.csv")
    frame.write_parquet(f"{directory}/big.parquet")
    n = 50_000_000
    px = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    pl.DataFrame({"px": px}).write_parquet(f"{directory}/big50.parquet")


def run(source, target):
    import polars as pl

    frame = pl.read_csv(source) if source.endswith(".csv") else pl.read_parquet(source)
    result = frame.select((pl.col("px").log().diff() * 252).alias("result"))
    result.write_csv(target) if target.endswith(".csv") else result.write_parquet(target)


def table(path):
    runs = {}
    for line in open(path):
        parts = line.split()
        if len(parts) == 3:
            runs.setdefault(parts[0], []).append((float(parts[1]), int(parts[2])))
    print("| input | fusejit s | Polars s | time ratio | fusejit peak RSS MB | Polars peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for case in ["csv", "parquet", "parquet_50M"]:
        ours, theirs = runs.get(f"fusejit_{case}"), runs.get(f"polars_{case}")
        if not ours or not theirs:
            continue
        t_ours = statistics.median(t for t, _ in ours)
        t_theirs = statistics.median(t for t, _ in theirs)
        m_ours = max(m for _, m in ours) / 1024
        m_theirs = max(m for _, m in theirs) / 1024
        print(f"| {case} | {t_ours:.2f} | {t_theirs:.2f} | {t_theirs / t_ours:.2f}x faster | {m_ours:.0f} | {m_theirs:.0f} |")
    csv = runs.get("fusejit_csv")
    parquet = runs.get("fusejit_parquet")
    if csv and parquet:
        ratio = statistics.median(t for t, _ in csv) / statistics.median(t for t, _ in parquet)
        print(f"\nfusejit Parquet vs CSV end to end: {ratio:.1f}x faster")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "generate":
        generate(sys.argv[2])
    elif command == "run":
        run(sys.argv[2], sys.argv[3])
    elif command == "table":
        table(sys.argv[2])
