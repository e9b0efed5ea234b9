"""duckdb_merge.py - the DuckDB merge of N/100 changes into an N-row and a BIG-row table, the
two alternately (issue 10: into BIG <= 2x into N).

    build/dlt-venv/bin/python bench/duckdb_merge.py     (needs build/sluice, gen_items)

compare.py's `duckdb-scale` section appends both tables again on every run (minutes at 10M)
and times all merges into one size before the other. This builds each base once: N and BIG
items appended (root_key: true, as compare.py) and one warm-up merge, kept in
build/bench/duckdb_merge/base-SIZE and reused by later runs (BENCH_REBUILD=1 builds them
again, e.g. after a change of the file layout). Every measured run copies a base (database
file and pipeline folder) and merges a fresh delta into the copy (compare.py's delta: half
updates spread over the whole table, half new ids), N, BIG, N, BIG ... for BENCH_REPEAT pairs
(default 3), each under /usr/bin/time; the copy is checked afterwards (row count, no
duplicate id). Prints, per size, every run and the median wall time, median CPU seconds
(user + system) and the largest peak RSS, then the ratios BIG / N, and the load average
(1 min) before each run. BENCH_QUICK=1: N = 100k, BIG = 300k, one pair.
"""
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (its sizes, data, delta, time and check helpers)
from compare import N, BIG, label, say  # noqa: E402

compare.OUT = OUT = os.path.join(compare.ROOT, "build", "bench", "duckdb_merge")
REPEAT = int(os.environ.get("BENCH_REPEAT", "1" if compare.QUICK else "3"))
DELTA = N // 100


def config(name, db, data, merge):
    return compare.sluice_config(
        name, "duckdb", db,
        "        from: {file: %s}\n%s" % (data, "        write_disposition: merge\n"
                                                "        primary_key: id\n" if merge else ""),
        root_key=True, pipeline="s_scale")


def check(db, rows):
    got = compare.count("duckdb", db, "SELECT count(*) FROM items")
    dup = compare.count("duckdb", db, "SELECT count(*) - count(DISTINCT id) FROM items")
    if got != rows or dup:
        raise compare.Failed("%s: %d items (%d duplicate ids), expected %d" % (db, got, dup, rows))


def base(n):
    """build/bench/duckdb_merge/base-SIZE: n items appended, then one merge of DELTA changes"""
    d = os.path.join(OUT, "base-" + label(n))
    if os.path.exists(os.path.join(d, "ready")) and os.environ.get("BENCH_REBUILD", "") in ("", "0"):
        return d
    compare.fresh(d)
    os.makedirs(d)
    db, pdir = os.path.join(d, "db.duckdb"), os.path.join(d, "pipelines")
    say("base %s: appending %s items (root_key)" % (d, label(n)))
    compare.sluice(config("append", db, compare.dataset(n), False), pdir)
    data = os.path.join(OUT, "delta.jsonl")
    compare.delta(data, n, DELTA, 0)
    say("base %s: warm-up merge of %s changes" % (d, label(DELTA)))
    compare.sluice(config("merge", db, data, True), pdir)
    check(db, n + DELTA // 2)
    open(os.path.join(d, "ready"), "w").close()
    return d


def merge_once(n, src, run):
    """a copy of the base at src, the merge of delta `run` into it, timed"""
    work = os.path.join(OUT, "work")
    compare.fresh(work)
    shutil.copytree(src, work)
    os.remove(os.path.join(work, "ready"))
    db, pdir = os.path.join(work, "db.duckdb"), os.path.join(work, "pipelines")
    data = os.path.join(OUT, "delta.jsonl")
    compare.delta(data, n, DELTA, run)
    cfg = config("merge", db, data, True)
    subprocess.run(["sync"], check=True)
    r = compare.sluice(cfg, pdir)
    r["load"] = compare.LOADS[-1]
    check(db, n + DELTA)
    return r


def main():
    for path, what in ((compare.SLUICE, "make"), (compare.GEN, "make build/bench/gen_items"),
                       (compare.TIME_BIN, "apt-get install time")):
        if not os.access(path, os.X_OK):
            sys.exit("bench/duckdb_merge.py: %s is missing (%s)" % (path, what))
    os.makedirs(OUT, exist_ok=True)
    bases = {n: base(n) for n in (N, BIG)}
    runs = {N: [], BIG: []}
    for i in range(REPEAT):
        for n in (N, BIG):
            say("merge of %s changes into %s rows, pair %d/%d" % (label(DELTA), label(n), i + 1,
                                                                 REPEAT))
            runs[n].append(merge_once(n, bases[n], i + 1))
            r = runs[n][-1]
            say("  %.2f s wall, %.2f CPU s, %.1f MiB, load %.2f" % (r["wall"], r["cpu"], r["rss"],
                                                                  r["load"]))
    med = {n: (statistics.median(r["wall"] for r in runs[n]),
               statistics.median(r["cpu"] for r in runs[n]),
               max(r["rss"] for r in runs[n])) for n in runs}
    print()
    print("| merge of %s changes into | runs: wall s / CPU s / peak RSS MiB | median wall s | "
          "median CPU s | max peak RSS MiB |" % label(DELTA))
    print("|---|---|---|---|---|")
    for n in (N, BIG):
        print("| %s rows | %s | %.2f | %.2f | %.1f |" % (
            label(n), "; ".join("%.2f / %.2f / %.1f" % (r["wall"], r["cpu"], r["rss"])
                                for r in runs[n]), med[n][0], med[n][1], med[n][2]))
    print()
    print("into %s / into %s: wall %.2fx (target <= 2), CPU %.2fx, peak RSS %.2fx (target: "
          "<= 100 MiB)" % (label(BIG), label(N), med[BIG][0] / med[N][0],
                           med[BIG][1] / med[N][1], med[BIG][2] / med[N][2]))
    loads = [r["load"] for n in runs for r in runs[n]]
    print("load average (1 min) before the runs: %.2f to %.2f on %d cores" %
          (min(loads), max(loads), os.cpu_count()))


if __name__ == "__main__":
    try:
        main()
    except compare.Failed as e:
        sys.exit("bench/duckdb_merge.py: %s" % e)
