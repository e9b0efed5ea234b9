"""compare.py - sluice against dlt 1.31.0 and against the native bulk paths (`make bench`).

    build/dlt-venv/bin/python bench/compare.py        (make bench builds what it needs first)

Runs sluice (build/sluice) and dlt (bench/dlt_side.py, one process per run) ALTERNATELY on the
same generated data (bench/gen_items.c: deterministic nested items, one object and one list
each) and prints one table of ratios with the absolute figures: wall seconds, items/s, peak
RSS (ru_maxrss of the process and the children it reaped, as /usr/bin/time -v reports it) and
process CPU seconds.

  1. N items appended -> SQLite (sluice sqlite, dlt sqlalchemy on sqlite:///)
  2. N items appended -> DuckDB (sluice duckdb, dlt duckdb), next to DuckDB's own
     read_json_auto of the JSON-lines file (the duckdb Python module of the dlt venv); skipped
     LOUDLY while sluice has no duckdb destination
  3. N items merged into an empty table (merge on id, incremental cursor on id): the base of 4
     and 5, and sluice's merge-into-empty against its append
  4. the no-op incremental run on that N-row table: process wall and CPU time, and dlt's
     pipeline.run() alone (inside the process); the source returns at once for both tools
  5. merge of N/100 and N/10 changes (half updates spread over the table, half new ids)
  6. sluice only: BIG items appended (root_key: true), and N the same way, next to the
     hand-written floor (bench/floor.c: yajl + prepared INSERTs, one thread) on the same files;
     the merge of N/100 changes into the N-row and the BIG-row table (issue 10: <= 2x)

Sizes: N = 1M, BIG = 10M; BENCH_QUICK=1: N = 100k, BIG = 300k, one repetition (a smoke test).
BENCH_REPEAT (default 3, quick 1): repetitions of each alternated pair; the median wall time
is reported, and the largest peak RSS. BENCH_DLT_MERGE_REPEAT (default 1): dlt's share of the
merge repetitions (minutes each). BENCH_DLT_TIMEOUT (default 900): a dlt run is killed after
that many seconds and shown as a lower bound. Row counts are checked after every run (both tools
must load the same rows). The machine is shared and noisy: trust the ratios, not absolutes.
Writes the table to build/bench/compare/results.md too.
"""
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "build", "bench", "compare")
SLUICE = os.path.join(ROOT, "build", "sluice")
GEN = os.path.join(ROOT, "build", "bench", "gen_items")
FLOOR = os.path.join(ROOT, "build", "bench", "floor")
DLT_SIDE = os.path.join(ROOT, "bench", "dlt_side.py")
TIME_BIN = "/usr/bin/time"  # GNU time (Debian package time, in scripts/install-deps)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dlt_side  # noqa: E402  (its setup description only; dlt itself runs in subprocesses)

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
N = 100_000 if QUICK else 1_000_000
BIG = 300_000 if QUICK else 10_000_000
REPEAT = int(os.environ.get("BENCH_REPEAT", "1" if QUICK else "3"))
# BENCH_ONLY: a comma-separated subset of the sections (default: all of them)
ONLY = os.environ.get("BENCH_ONLY", "sqlite,duckdb,incremental,scale,duckdb-scale").split(",")
DLT_TIMEOUT = int(os.environ.get("BENCH_DLT_TIMEOUT", "900"))
# dlt's merges take minutes each on SQLite: by default they run once (after sluice's first run)
DLT_MERGE_REPEAT = int(os.environ.get("BENCH_DLT_MERGE_REPEAT", "1"))
LOADS = []  # /proc/loadavg 1-minute figures sampled before every measured run


def say(msg):
    print("bench: " + msg, flush=True)


def label(n):
    return "%dM" % (n // 1_000_000) if n % 1_000_000 == 0 else "%dk" % (n // 1000) \
        if n % 1000 == 0 else str(n)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# ---- measured processes ------------------------------------------------------------------

class Failed(Exception):
    pass


class TimedOut(Exception):
    """a dlt run killed after BENCH_DLT_TIMEOUT seconds: its figure is a lower bound"""
    def __init__(self, seconds):
        Exception.__init__(self, "killed after %d s" % seconds)
        self.seconds = seconds


def measure(cmd, env=None, name=None, timeout=None):
    """Runs cmd under GNU time (/usr/bin/time -v: a small C parent, so the peak RSS is the
    command's, not that of this Python process forked before exec); returns wall seconds
    (timed here), CPU seconds (user + system) and peak RSS in MiB (the largest of the command
    and the children it waited for), and stdout. Raises Failed."""
    LOADS.append(loadavg())
    log, tlog = os.path.join(OUT, "last.err"), os.path.join(OUT, "last.time")
    with open(log, "wb") as err:
        t0 = time.monotonic()
        # a session of its own: on a timeout the whole group (time, the command and its
        # workers) is killed, nothing else
        p = subprocess.Popen([TIME_BIN, "-v", "-o", tlog] + cmd, stdout=subprocess.PIPE,
                             stderr=err, env=dict(os.environ, **(env or {})),
                             start_new_session=True)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise TimedOut(timeout)
        wall = time.monotonic() - t0
    if p.returncode != 0:
        with open(log, errors="replace") as f:
            tail = f.read()[-2000:]
        raise Failed("%s failed (exit %d):\n%s" % (name or cmd[0], p.returncode, tail))
    with open(tlog) as f:
        tv = dict(line.strip().rsplit(": ", 1) for line in f if ": " in line)
    return {"wall": wall,
            "cpu": float(tv["User time (seconds)"]) + float(tv["System time (seconds)"]),
            "rss": int(tv["Maximum resident set size (kbytes)"]) / 1024.0,
            "out": out.decode(errors="replace")}


def summary(runs):
    """median wall/cpu, max RSS over repetitions; extra keys are medians too. None for no
    runs; a lower bound (timeout) when a run was killed"""
    if not runs:
        return None
    if any(r.get("timeout") for r in runs):
        return {"wall": max(r["wall"] for r in runs), "cpu": None, "rss": None,
                "timeout": True, "n": len(runs)}
    s = {"wall": statistics.median(r["wall"] for r in runs),
         "cpu": statistics.median(r["cpu"] for r in runs),
         "rss": max(r["rss"] for r in runs), "n": len(runs)}
    for k in ("run_s",):
        if all(k in r for r in runs):
            s[k] = statistics.median(r[k] for r in runs)
    return s


# ---- data ----------------------------------------------------------------------------------

def dataset(n):
    path = os.path.join(ROOT, "build", "bench", "items_%s.jsonl" % label(n))
    if not os.path.exists(path) or os.path.getmtime(path) < os.path.getmtime(GEN) or \
            os.path.getsize(path) == 0:
        say("generating %s (%d items)" % (path, n))
        with open(path + ".tmp", "wb") as f:
            subprocess.run([GEN, str(n)], stdout=f, check=True)
        os.replace(path + ".tmp", path)
    return path


def delta(path, size, count, run):
    """count items of gen_items' shape: the first half update ids spread over 1..size, the
    second half are new ids above size (a new range per run), as bench/postgres.sh does"""
    half = count // 2
    out = subprocess.run([GEN, str(count)], capture_output=True, check=True).stdout
    lines = out.decode().splitlines()
    with open(path, "w") as f:
        for i, line in enumerate(lines, 1):
            if i <= half:
                new = (i * 7919 + run * 104729) % size + 1
            else:
                new = size + run * 1_000_000 + i
            f.write(re.sub(r'^\{"id": [0-9]+', '{"id": %d' % new, line, count=1) + "\n")


# ---- destinations: file names and checks ----------------------------------------------------

def fresh(*paths):
    for p in paths:
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.remove(p)


def sqlite_dataset_file(db):
    stem, ext = os.path.splitext(db)
    return stem + "__bench" + ext  # dlt's sqlalchemy layout, which sluice follows


def count(dest, db, sql):
    if dest == "sqlite":
        con = sqlite3.connect(sqlite_dataset_file(db))
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()
    import duckdb
    con = duckdb.connect(db, read_only=True)
    try:
        return con.execute(sql.replace("FROM ", "FROM bench.")).fetchone()[0]
    finally:
        con.close()


def check_rows(who, dest, db, items, tags=None):
    got = count(dest, db, "SELECT count(*) FROM items")
    dup = count(dest, db, "SELECT count(*) - count(DISTINCT id) FROM items")
    if got != items or dup != 0:
        raise Failed("%s -> %s: %d items (%d duplicate ids), expected %d" %
                     (who, dest, got, dup, items))
    t = count(dest, db, "SELECT count(*) FROM items__tags")
    if tags is not None and t != tags:
        raise Failed("%s -> %s: %d items__tags rows, expected %d" % (who, dest, t, tags))
    return t


def sluice_config(name, dest, db, resource_yaml, root_key=False, pipeline=None):
    """writes OUT/NAME.yaml for pipeline PIPELINE (default NAME), resource `items`"""
    path = os.path.join(OUT, name + ".yaml")
    with open(path, "w") as f:
        f.write("pipeline: %s\ndestination: {type: %s, path: %s}\ndataset: bench\n"
                "sources:\n  bench:\n%s    resources:\n      items:\n%s" %
                (pipeline or name, dest, db, "    root_key: true\n" if root_key else "",
                 resource_yaml))
    return path


def sluice(cfg, pdir, env=None):
    return measure([SLUICE, "run", cfg, "--progress", "none"],
                   dict(env or {}, SLUICE_PIPELINES_DIR=pdir), "sluice run " + cfg)


def dlt(state, runs, mode, dest, db, pdir, data, max_id=0):
    """one dlt run, appended to runs; False when it was not run or was killed: after a kill
    (BENCH_DLT_TIMEOUT) its pipeline holds a pending package, so state["dead"] stops the later
    runs on it"""
    if state.get("dead"):
        return False
    try:
        r = measure([sys.executable, DLT_SIDE, mode, dest, db, pdir, data, str(max_id)],
                    name="dlt " + mode, timeout=DLT_TIMEOUT)
    except TimedOut as e:
        say("dlt %s KILLED after %d s (BENCH_DLT_TIMEOUT): its figure is a lower bound" %
            (mode, e.seconds))
        runs.append({"wall": float(e.seconds), "cpu": None, "rss": None, "timeout": True})
        state["dead"] = "not run: an earlier dlt run on this pipeline was killed after %d s" % \
            e.seconds
        return False
    r.update(json.loads(r["out"].strip().splitlines()[-1]))
    runs.append(r)
    return True


def probe_duckdb():
    """None when sluice loads into DuckDB, else the reason it is skipped"""
    data = os.path.join(OUT, "probe.jsonl")
    with open(data, "w") as f:
        f.write('{"id": 1}\n')
    db = os.path.join(OUT, "probe.duckdb")
    pdir = os.path.join(OUT, "probe-pipelines")
    fresh(db, pdir)
    cfg = sluice_config("probe", "duckdb", db, "        from: {file: %s}\n" % data)
    try:
        sluice(cfg, pdir)
    except Failed as e:
        msg = str(e).strip().splitlines()[-1] if str(e).strip() else str(e)
        if "not available in this build" in str(e):
            return "sluice has no duckdb destination in this build"
        return "sluice's duckdb destination failed a 1-item probe: " + msg
    return None


# ---- the table ------------------------------------------------------------------------------

ROWS = []  # (measure, sluice summary or None, other summary or None, other name, note)


def row(what, s, o=None, other="dlt", items=None, note=""):
    ROWS.append((what, s, o, other, items, note))


def rate(items, secs):
    r = items / secs
    return "%.0f k" % (r / 1000) if r >= 10_000 else "%.0f" % r


def fmt_side(s, items):
    if s is None:
        return ["-", "-", "-", "-"]
    if s.get("timeout"):
        return ["> %.0f" % s["wall"], "< " + rate(items, s["wall"]) if items else "-", "-", "-"]
    ips = rate(items, s["wall"]) if items else "-"
    cpu = "-" if s["cpu"] is None else "%.2f" % s["cpu"]
    return ["%.2f" % s["wall"], ips, "-" if s["rss"] is None else "%.1f" % s["rss"], cpu]


def render():
    head = ["measure", "sluice s", "sluice items/s", "sluice RSS MiB", "sluice CPU s",
            "other", "other s", "other items/s", "other RSS MiB", "other CPU s",
            "speed ratio", "CPU ratio", "RSS ratio", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for what, s, o, other, items, note in ROWS:
        if s is None and o is None:
            cells = [what] + ["-"] * 12 + [note]
        else:
            speed = cpu = rss = "-"
            if s and o:
                speed = "%s%.2f×" % ("> " if o.get("timeout") else "", o["wall"] / s["wall"])
                if o["cpu"] and s["cpu"]:
                    cpu = "%.2f×" % (o["cpu"] / s["cpu"])
                if o["rss"] and s["rss"]:
                    rss = "%.3f" % (s["rss"] / o["rss"])
            cells = [what] + fmt_side(s, items) + [other if o else "-"] + fmt_side(o, items) + \
                [speed, cpu, rss, note]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def header():
    def cmd(c):
        try:
            return subprocess.run(c, capture_output=True, text=True, shell=True).stdout.strip()
        except OSError:
            return "?"
    cpu = cmd("sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1")
    import duckdb
    return [
        "date: %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "sluice: %s (%s)" % (cmd("git -C %s rev-parse --short HEAD" % ROOT),
                             cmd("git -C %s log -1 --format=%%cs" % ROOT)),
        "dlt: " + dlt_side.describe(),
        "SQLite: libsqlite3 %s (sluice, floor.c), Python's sqlite3 %s (dlt); duckdb Python "
        "module %s" % (cmd("pkg-config --modversion sqlite3"), sqlite3.sqlite_version,
                       duckdb.__version__),
        "machine: %s cores (nproc), %s, %s, Python %s" % (
            os.cpu_count(), cpu, platform.platform(), platform.python_version()),
        "sizes: N = %d, BIG = %d, %d repetition(s) alternated, median wall, max RSS%s" % (
            N, BIG, REPEAT, " (BENCH_QUICK)" if QUICK else ""),
    ]


# ---- the benchmarks -------------------------------------------------------------------------

def bench_append(dest, data, skip_reason):
    what = "%s append -> %s" % (label(N), "SQLite" if dest == "sqlite" else "DuckDB")
    if skip_reason:
        say("SKIPPED %s: %s" % (what, skip_reason))
        row(what, None, note="skipped: " + skip_reason)
        return None
    ext = ".sqlite" if dest == "sqlite" else ".duckdb"
    sdb, ddb = os.path.join(OUT, "s_append" + ext), os.path.join(OUT, "d_append" + ext)
    spd, dpd = os.path.join(OUT, "s-pl"), os.path.join(OUT, "d-pl")
    cfg = sluice_config("s_append", dest, sdb, "        from: {file: %s}\n" % data)
    sr, dr, dstate = [], [], {}
    tags = None
    for i in range(REPEAT):
        say("%s, run %d/%d: sluice" % (what, i + 1, REPEAT))
        fresh(sdb, sqlite_dataset_file(sdb), spd, sdb + ".wal")
        sr.append(sluice(cfg, spd))
        tags = check_rows("sluice", dest, sdb, N, tags)
        say("%s, run %d/%d: dlt" % (what, i + 1, REPEAT))
        fresh(ddb, sqlite_dataset_file(ddb), dpd, ddb + ".wal")
        if dlt(dstate, dr, "append", dest, ddb, dpd, data):
            check_rows("dlt", dest, ddb, N, tags)
    s, d = summary(sr), summary(dr)
    row(what, s, d, "dlt", N, "%d items__tags rows" % tags)
    return s, tags


def bench_duckdb_native(data, s_append, tags):
    """read_json_auto of the JSON-lines file into a table (nested values kept as STRUCT/LIST),
    in a subprocess of the venv's Python so that its RSS is measured the same way"""
    db = os.path.join(OUT, "native.duckdb")
    code = ("import duckdb,sys; c=duckdb.connect(sys.argv[1]); c.execute(\"CREATE TABLE items "
            "AS SELECT * FROM read_json_auto('%s', format='newline_delimited')\"); "
            "c.close()" % data)
    runs = []
    for i in range(REPEAT):
        fresh(db, db + ".wal")
        say("DuckDB read_json_auto, run %d/%d" % (i + 1, REPEAT))
        runs.append(measure([sys.executable, "-c", code, db], name="duckdb read_json_auto"))
    n = summary(runs)
    row("%s -> DuckDB: sluice vs read_json_auto" % label(N), s_append, n,
        "duckdb read_json_auto", N,
        "issue 10 target: sluice >= 0.70 of native items/s; native keeps user/tags nested")


def bench_incremental(data):
    """3, 4, 5 on SQLite: base (merge into empty), no-op, merge deltas"""
    sdb, ddb = os.path.join(OUT, "s_inc.sqlite"), os.path.join(OUT, "d_inc.sqlite")
    spd, dpd = os.path.join(OUT, "s-inc-pl"), os.path.join(OUT, "d-inc-pl")
    fresh(sdb, sqlite_dataset_file(sdb), spd, ddb, sqlite_dataset_file(ddb), dpd)
    src = os.path.join(OUT, "src.sh")
    with open(src, "w") as f:
        f.write('#!/bin/sh\n# items with id in (SLUICE_START_VALUE, %d]: at once nothing when the '
                'cursor is there\nlast=${SLUICE_START_VALUE:-0}\n[ "$last" -lt %d ] || exit 0\n'
                '[ "$last" -gt 0 ] || exec cat "%s"\nexec "%s" $((%d - last)) $((last + 1))\n'
                % (N, N, data, GEN, N))
    base = sluice_config("s_inc", "sqlite", sdb,
                         "        from: {command: \"sh %s\"}\n        write_disposition: merge\n"
                         "        primary_key: id\n        incremental: {cursor_path: id}\n"
                         % src)
    say("%s merged into an empty table (incremental base): sluice" % label(N))
    s = sluice(base, spd)
    tags = check_rows("sluice", "sqlite", sdb, N)
    say("%s merged into an empty table (incremental base): dlt" % label(N))
    dstate, dr = {}, []
    if dlt(dstate, dr, "incbase", "sqlite", ddb, dpd, data, N):
        check_rows("dlt", "sqlite", ddb, N, tags)
    row("%s merge into an empty table (SQLite)" % label(N), summary([s]), summary(dr), "dlt", N,
        "once each; issue 12 target: sluice <= 1.3× its append")
    merge_empty = s

    sr, dr, src_runs = [], [], []
    for i in range(REPEAT):
        say("no-op incremental run on %s rows, run %d/%d" % (label(N), i + 1, REPEAT))
        sr.append(sluice(base, spd))
        dlt(dstate, dr, "noop", "sqlite", ddb, dpd, data, N)
        src_runs.append(measure(["sh", src], {"SLUICE_START_VALUE": str(N)}, "source"))
    check_rows("sluice", "sqlite", sdb, N, tags)
    if not dstate:
        check_rows("dlt", "sqlite", ddb, N, tags)
    s, d = summary(sr), summary(dr)
    src_s = summary(src_runs)["wall"]
    row("no-op incremental run on %s rows: process" % label(N), s, d, "dlt", None,
        "the source's own time %.3f s, sluice's overhead %.3f s%s" % (
            src_s, s["wall"] - src_s, "; dlt " + dstate["dead"] if dstate else ""))
    if d and not d.get("timeout"):
        row("  the same, against dlt's pipeline.run() alone", s,
            {"wall": d["run_s"], "rss": d["rss"], "cpu": None}, "dlt run()", None,
            "dlt's run() timed inside its process")

    rows_now = d_rows = N
    ddata = os.path.join(OUT, "delta.jsonl")
    scfg = sluice_config("s_inc_delta", "sqlite", sdb,
                         "        from: {file: %s}\n        write_disposition: merge\n"
                         "        primary_key: id\n" % ddata, pipeline="s_inc")
    run_no = 0
    for size in (N // 100, N // 10):
        sr, dr = [], []
        for i in range(REPEAT):
            run_no += 1
            delta(ddata, N, size, run_no)
            say("merge of %s changes into %s rows, run %d/%d" % (label(size), label(N), i + 1,
                                                                 REPEAT))
            sr.append(sluice(scfg, spd))
            rows_now += size - size // 2
            check_rows("sluice", "sqlite", sdb, rows_now)
            if i < DLT_MERGE_REPEAT:
                d_rows = d_rows + size - size // 2
                if dlt(dstate, dr, "merge", "sqlite", ddb, dpd, ddata):
                    check_rows("dlt", "sqlite", ddb, d_rows)
        row("merge of %s changes into %s rows (SQLite)" % (label(size), label(N)),
            summary(sr), summary(dr), "dlt", size, "half updates, half new ids; dlt %d run(s)" %
            min(REPEAT, DLT_MERGE_REPEAT) +
            ("; dlt " + dstate["dead"] if dstate and not dr else ""))
    return merge_empty


def scale_bases(dest, data_n, with_floor):
    """sluice alone: N and BIG items appended (root_key) into fresh tables, next to the floor
    program on the same files (SQLite only); returns {n: {append, floor, db, pdir}}"""
    results = {}
    ext = ".sqlite" if dest == "sqlite" else ".duckdb"
    name = "SQLite" if dest == "sqlite" else "DuckDB"
    for n in (N, BIG):
        data = data_n if n == N else dataset(BIG)
        f = None
        fdb = os.path.join(OUT, "floor.db")
        sdb = os.path.join(OUT, "s_scale_%s%s" % (label(n), ext))
        pdir = os.path.join(OUT, "s-scale-pl-%s-%s" % (dest, label(n)))
        cfg = sluice_config("s_scale", dest, sdb, "        from: {file: %s}\n" % data,
                            root_key=True)
        # the floor and sluice alternately (floor, sluice, floor, sluice ...), as against dlt;
        # the last sluice run's table is the one the merges below go into
        floor_runs, sluice_runs = [], []
        reps = REPEAT if n == N else 1
        for i in range(reps):
            if with_floor:
                fresh(fdb, fdb + "-journal")
                say("floor on %s, run %d/%d" % (label(n), i + 1, reps))
                floor_runs.append(measure([FLOOR, data, fdb], name="floor"))
                fresh(fdb, fdb + "-journal")
            fresh(sdb, sqlite_dataset_file(sdb), pdir, sdb + ".wal")
            say("sluice %s append -> %s (root_key), run %d/%d" % (label(n), name, i + 1, reps))
            sluice_runs.append(sluice(cfg, pdir))
            check_rows("sluice", dest, sdb, n)
        if with_floor:
            f = summary(floor_runs)
        s = summary(sluice_runs)
        note = "issue 12: sluice items/s within 10%% of its %s" % label(N) if n == BIG else ""
        if with_floor:
            if n == N:
                note = "floor: one thread, yajl + prepared INSERTs; issue 12 target >= 1.2×"
            row("%s append -> %s (root_key), sluice vs the floor" % (label(n), name),
                s, f, "floor.c", n, note)
        else:
            row("%s append -> %s (root_key), sluice" % (label(n), name), s,
                items=n, note=note)
        results[n] = {"append": s, "floor": f, "db": sdb, "pdir": pdir}
    return results


def scale_merge(dest, results):
    """the merge of N/100 changes into the N-row and the BIG-row table of scale_bases"""
    ddata = os.path.join(OUT, "scale_delta.jsonl")
    size = N // 100
    for n in (N, BIG):
        r = results[n]
        cfg = sluice_config("s_scale_delta", dest, r["db"],
                            "        from: {file: %s}\n        write_disposition: merge\n"
                            "        primary_key: id\n" % ddata, root_key=True,
                            pipeline="s_scale")
        delta(ddata, n, size, 0)
        say("merge warm-up into %s rows (creates the key indexes, not timed)" % label(n))
        sluice(cfg, r["pdir"])
        runs = []
        for i in range(REPEAT):
            delta(ddata, n, size, i + 1)
            say("merge of %s changes into %s rows, run %d/%d" % (label(size), label(n), i + 1,
                                                                 REPEAT))
            runs.append(sluice(cfg, r["pdir"]))
        r["merge"] = summary(runs)
        dup = count(dest, r["db"], "SELECT count(*) - count(DISTINCT id) FROM items")
        if dup:
            raise Failed("merge into %s rows left %d duplicate ids" % (label(n), dup))
    a, b = results[N], results[BIG]
    row("merge of %s changes into %s rows vs into %s rows (sluice, %s)" % (
        label(size), label(BIG), label(N), "SQLite" if dest == "sqlite" else "DuckDB"),
        b["merge"], a["merge"], "into " + label(N), size,
        "issue 10/12 target: into %s <= 2× into %s (speed ratio >= 0.5)" % (label(BIG), label(N)))
    return results


def bench_scale(dest, data_n):
    """6: sluice alone at N and BIG, the floor (SQLite), the merge at both sizes"""
    return scale_merge(dest, scale_bases(dest, data_n, dest == "sqlite"))


def main():
    for path, what in ((SLUICE, "make"), (GEN, "make build/bench/gen_items"),
                       (FLOOR, "make build/bench/floor"), (TIME_BIN, "apt-get install time")):
        if not os.access(path, os.X_OK):
            sys.exit("bench/compare.py: %s is missing (%s)" % (path, what))
    os.makedirs(OUT, exist_ok=True)
    head = header()
    for line in head:
        say(line)
    data = dataset(N)
    failures = []

    def guarded(fn, *a):
        try:
            return fn(*a)
        except Failed as e:
            failures.append(str(e))
            say("FAILED: " + str(e))
            return None

    s_append = merge_empty = scale = dscale = None
    if "sqlite" in ONLY:
        r = guarded(bench_append, "sqlite", data, None)
        s_append = r[0] if r else None
    skip = probe_duckdb()
    if "duckdb" in ONLY:
        r = guarded(bench_append, "duckdb", data, skip)
        if r:
            guarded(bench_duckdb_native, data, r[0], r[1])
        else:
            row("%s -> DuckDB: sluice vs read_json_auto" % label(N), None,
                note="skipped: " + (skip or "the DuckDB append failed"))
    if "incremental" in ONLY:
        merge_empty = guarded(bench_incremental, data)
    if "scale" in ONLY:
        scale = guarded(bench_scale, "sqlite", data)
    if "duckdb-scale" not in ONLY:
        pass
    elif skip:
        row("%s rows, merge of %s changes into %s vs %s rows (DuckDB)" % (
            label(BIG), label(N // 100), label(BIG), label(N)), None, note="skipped: " + skip)
    else:
        dscale = guarded(bench_scale, "duckdb", data)

    notes = []
    if s_append and merge_empty:
        notes.append("sluice merge into an empty table / its append: %.2f× (target <= 1.3)" %
                     (merge_empty["wall"] / s_append["wall"]))
    if scale:
        a, b = scale[N]["append"], scale[BIG]["append"]
        notes.append("sluice items/s %s / %s: %.2f (target >= 0.90); CPU s per item %s / %s: "
                     "%.2f (less sensitive to the load); peak RSS %s / %s: %.2f (target <= 1.2)" %
                     (label(BIG), label(N), (BIG / b["wall"]) / (N / a["wall"]), label(BIG),
                      label(N), (b["cpu"] / BIG) / (a["cpu"] / N), label(BIG), label(N),
                      b["rss"] / a["rss"]))
        notes.append("merge of %s changes: into %s rows %.2f s, into %s rows %.2f s, ratio %.2f "
                     "(target <= 2)" % (label(N // 100), label(BIG), scale[BIG]["merge"]["wall"],
                                        label(N), scale[N]["merge"]["wall"],
                                        scale[BIG]["merge"]["wall"] / scale[N]["merge"]["wall"]))
    if dscale:
        notes.append("DuckDB: merge of %s changes: into %s rows %.2f s, into %s rows %.2f s, "
                     "ratio %.2f (target <= 2)" %
                     (label(N // 100), label(BIG), dscale[BIG]["merge"]["wall"], label(N),
                      dscale[N]["merge"]["wall"],
                      dscale[BIG]["merge"]["wall"] / dscale[N]["merge"]["wall"]))
    lo, hi = (min(LOADS), max(LOADS)) if LOADS else (0, 0)
    notes.append("load average (1 min) before each run: %.2f to %.2f on %d cores" %
                 (lo, hi, os.cpu_count()))
    table = render()
    text = "\n".join(["- " + h for h in head]) + "\n\n" + table + "\n\n" + \
        "\n".join("- " + n for n in notes) + "\n"
    text += "\nspeed ratio = the other's wall time / sluice's (above 1: sluice is faster); CPU " \
        "ratio = the other's CPU seconds (user + system, its children included) / sluice's; RSS " \
        "ratio = sluice's peak RSS / the other's (issue 12 target for dlt: <= 0.05).\n"
    if failures:
        text += "\nFAILED:\n" + "\n".join("- " + f.replace("\n", " ") for f in failures) + "\n"
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(text)
    print()
    print(text)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
