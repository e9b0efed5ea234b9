#!/usr/bin/env python3
"""interop.py: a sluice dataset is a dlt dataset, both directions (issue 9).

    interop.py SLUICE_BIN WORKDIR [--destination sqlite|postgres|duckdb]

(default: sqlite, duckdb (sluice loads libduckdb.so at run time: deps/duckdb/ from
scripts/install-deps, or SLUICE_DUCKDB_LIB), and postgres when SLUICE_TEST_PG_DSN names a
server, as scripts/pg-start sets it)

Two scenarios on one destination, each with three steps that alternate the tools:

    sluice-first:  sluice loads  -> dlt (fresh pipelines dir) syncs and continues
                   -> sluice (its old working dir) continues
    dlt-first:     dlt loads     -> sluice (fresh working dir) continues
                   -> dlt (its old pipelines dir) continues

Both tools run the same pipeline: source `src` with two resources read from JSON lines
files that this script writes before each step,
  items   merge on `id`, incremental on the datetime `updated_at`, a nested object (columns
          meta__*) and a list (child table items__tags); every batch updates earlier ids and
          repeats the previous batch's last item (the incremental boundary)
  events  append, incremental on the datetime `at` (boundary rows de-duplicated by their
          hash: a duplicate would show as a second row)
  dims, dims_hist  merge strategy scd2 on full
          extracts with a boundary_timestamp per step (dims_hist: active_record_timestamp
          9999-12-31): records change, vanish and come back changed across the tools
After every step it checks: row counts = distinct keys = what the items promise (items: one
row per id, its latest version and that version's tags; events: each event once), the
restored incremental last_value of each resource (from the tool that just ran: sluice's
`pipeline NAME info --json`, dlt's pipeline.state), and that dlt's dataset() reads every table
of the stored schema with .arrow() (rows = SQL count); the versions of both scd2 tables with
their validity columns (on SQLite in dlt's timestamp text). Prints `ok`/`FAIL` per step and ends
with "interop: N passed, N failed". A destination is a parameter (DESTINATIONS below): adding
one is a config block for sluice and a dlt destination factory.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys

PIPELINE = "compat"
DATASET = "ds"


# ---- destinations ------------------------------------------------------------------------

class SqliteDest:
    """sluice's sqlite destination = dlt's sqlalchemy destination on sqlite:///FILE."""
    name = "sqlite"
    # scd2's active_record_timestamp as dlt writes it here (text with an offset; its retiring
    # boundary has none)
    active_text = "9999-12-31 00:00:00.000000+00:00"

    def __init__(self, work):
        self.main = os.path.join(work, "compat.sqlite")   # dataset file: compat__ds.sqlite

    def sluice_yaml(self):
        return "destination: {type: sqlite, path: %s}\n" % self.main

    def dlt(self, dlt):
        return dlt.destinations.sqlalchemy("sqlite:///" + self.main)

    def query(self, sql):
        con = sqlite3.connect(self.main)
        con.execute("ATTACH DATABASE ? AS %s" % DATASET,
                    [os.path.splitext(self.main)[0] + "__" + DATASET + ".sqlite"])
        try:
            return con.execute(sql.replace("{ds}", DATASET)).fetchall()
        finally:
            con.close()


class PostgresDest:
    """sluice's postgres destination = dlt's postgres destination, on the server of
    SLUICE_TEST_PG_DSN (scripts/pg-start); each scenario uses its own dataset (schema)."""
    name = "postgres"
    active_text = "9999-12-31 00:00:00.000000"   # a timestamptz, shown as UTC text here

    def __init__(self, work):
        self.dsn = os.environ["SLUICE_TEST_PG_DSN"]
        self.schema = DATASET
        with self._con() as con, con.cursor() as cur:
            cur.execute('DROP SCHEMA IF EXISTS "%s" CASCADE' % DATASET)
            cur.execute('DROP SCHEMA IF EXISTS "%s_staging" CASCADE' % DATASET)

    def _con(self):
        import psycopg2
        return psycopg2.connect(self.dsn)

    def sluice_yaml(self):
        return 'destination: {type: postgres, dsn: "%s"}\n' % self.dsn

    def dlt(self, dlt):
        # dlt insists on a password; the test server trusts local users, so any will do
        import urllib.parse
        u = urllib.parse.urlsplit(self.dsn)
        if u.password is None and u.username:
            u = u._replace(netloc="%s:unused@%s" % (u.username, u.netloc.split("@", 1)[1]))
        return dlt.destinations.postgres(credentials=urllib.parse.urlunsplit(u))

    def query(self, sql):
        con = self._con()
        try:
            with con.cursor() as cur:
                cur.execute(sql.replace("{ds}", '"%s"' % DATASET))
                return cur.fetchall()
        finally:
            con.close()


class DuckdbDest:
    """sluice's duckdb destination = dlt's duckdb destination on the same FILE.duckdb (the
    dataset is a schema in it)."""
    name = "duckdb"
    active_text = "9999-12-31 00:00:00.000000"   # a TIMESTAMPTZ, shown as UTC text here

    def __init__(self, work):
        self.path = os.path.join(work, "compat.duckdb")

    def sluice_yaml(self):
        return "destination: {type: duckdb, path: %s}\n" % self.path

    def dlt(self, dlt):
        return dlt.destinations.duckdb(self.path)

    def query(self, sql):
        import duckdb
        con = duckdb.connect(self.path, read_only=True)
        try:
            return con.execute(sql.replace("{ds}", '"%s"' % DATASET)).fetchall()
        finally:
            con.close()


DESTINATIONS = {"sqlite": SqliteDest, "postgres": PostgresDest, "duckdb": DuckdbDest}


# ---- the data -----------------------------------------------------------------------------

def ts(day, hour):
    return "2024-01-%02dT%02d:00:00Z" % (day, hour)


def batch(step):
    """Step s (0, 1, 2): new ids 10s+1..10s+10 at day s+1, an update of every id of the step
    before (a later updated_at, other tags), and the previous step's newest item as it was
    (the boundary). Events: 5 per step, the previous step's last one repeated."""
    items, events = [], []
    day = step + 1
    if step > 0:
        for i in range(10 * (step - 1) + 1, 10 * step + 1):
            items.append(item(i, ts(day, 0), version=step))
        prev = item(10 * step, ts(step, 18), version=0)
        events.append({"eid": 5 * step, "at": ts(step, 4), "kind": "e%d" % (5 * step)})
        items.insert(0, prev)
    for j in range(10):
        i = 10 * step + j + 1
        items.append(item(i, ts(day, 9 + j), version=0))
    for j in range(5):
        e = 5 * step + j + 1
        events.append({"eid": e, "at": ts(day, j), "kind": "e%d" % e})
    return items, events


def item(i, updated_at, version):
    return {"id": i, "updated_at": updated_at, "name": "item %d v%d" % (i, version),
            "meta": {"rev": version, "src": "step"},
            "tags": ["t%d" % k for k in range((i + version) % 3 + 1)]}


def expected(upto):
    """What the dataset must hold after steps 0..upto: latest item per id, events."""
    latest, events, last_item, last_event = {}, {}, None, None
    for s in range(upto + 1):
        items, evs = batch(s)
        for it in items:
            if it["id"] not in latest or it["updated_at"] >= latest[it["id"]]["updated_at"]:
                latest[it["id"]] = it
            last_item = max(last_item or it["updated_at"], it["updated_at"])
        for e in evs:
            events[e["eid"]] = e
            last_event = max(last_event or e["at"], e["at"])
    tags = sum(len(it["tags"]) for it in latest.values())
    return {"items": len(latest), "items__tags": tags, "events": len(events),
            "last_item": last_item, "last_event": last_event}


def boundary(step):
    """The scd2 boundary_timestamp of step s, and the text both tools store for it on SQLite."""
    return "2024-01-%02dT12:00:00Z" % (step + 1), "2024-01-%02d 12:00:00.000000" % (step + 1)


ACTIVE = "9999-12-31"


def dims_batch(step):
    """A full extract per step for the scd2 tables: step 0 has ids 1-4; step 1 changes id 1,
    drops id 2 and adds id 5; step 2 changes id 3 and brings id 2 back changed."""
    names = [{1: "a", 2: "b", 3: "c", 4: "d"},
             {1: "a1", 3: "c", 4: "d", 5: "e"},
             {1: "a1", 2: "b2", 3: "c2", 4: "d", 5: "e"}][step]
    return [{"id": i, "name": n, "tags": ["%s%d" % (n, k) for k in range(len(n))]}
            for i, n in sorted(names.items())]


def scd2_expected(upto, active):
    """Rows (id, name, valid_from, valid_to) of an scd2 table after steps 0..upto: a version
    that leaves the extract is retired at the step's boundary, a new one is valid from it."""
    rows = []
    for s in range(upto + 1):
        b = boundary(s)[1]
        extract = {(d["id"], d["name"]) for d in dims_batch(s)}
        current = {(r[0], r[1]) for r in rows if r[3] == active}
        rows = [(r[0], r[1], r[2], b) if r[3] == active and (r[0], r[1]) not in extract else r
                for r in rows]
        rows += [(i, n, b, active) for i, n in sorted(extract - current)]
    return sorted(rows, key=lambda r: (r[0], r[2]))


def write_batch(work, step):
    with open(os.path.join(work, "dims.jsonl"), "w") as f:
        f.writelines(json.dumps(x) + "\n" for x in dims_batch(step))
    items, events = batch(step)
    with open(os.path.join(work, "items.jsonl"), "w") as f:
        f.writelines(json.dumps(x) + "\n" for x in items)
    with open(os.path.join(work, "events.jsonl"), "w") as f:
        f.writelines(json.dumps(x) + "\n" for x in events)


# ---- the two tools ------------------------------------------------------------------------

CONFIG = """pipeline: %(p)s
%(dest)sdataset: %(ds)s
sources:
  src:
    resources:
      items:
        from: {file: "items.jsonl"}
        write_disposition: merge
        primary_key: id
        incremental: {cursor_path: updated_at, initial_value: "2024-01-01T00:00:00Z"}
      events:
        from: {file: "events.jsonl"}
        incremental: {cursor_path: at, initial_value: "2024-01-01T00:00:00Z"}
"""

CONFIG_SCD2 = """      dims:
        from: {file: "dims.jsonl"}
        write_disposition: {disposition: merge, strategy: scd2, boundary_timestamp: "%(b)s"}
      dims_hist:
        from: {file: "dims.jsonl"}
        write_disposition: {disposition: merge, strategy: scd2, boundary_timestamp: "%(b)s",
                            active_record_timestamp: "%(active)s"}
"""


def run_sluice(sluice, work, dest, pipes, step):
    cfg = os.path.join(work, "config.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG % {"p": PIPELINE, "dest": dest.sluice_yaml(), "ds": DATASET})
        f.write(CONFIG_SCD2 % {"b": boundary(step)[0], "active": ACTIVE})
    env = dict(os.environ, SLUICE_PIPELINES_DIR=pipes)
    r = subprocess.run([sluice, "run", cfg, "--progress", "none"], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("sluice run failed: %s" % r.stderr.strip()[-500:])
    r = subprocess.run([sluice, "pipeline", PIPELINE, "info", "--json"], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("sluice info failed: %s" % r.stderr.strip()[-500:])
    return json.loads(r.stdout)["state"]


def run_dlt(work, dest, pipes, step):
    import dlt

    def lines(name):
        with open(os.path.join(work, name)) as f:
            return [json.loads(x) for x in f if x.strip()]

    @dlt.resource(name="items", write_disposition="merge", primary_key="id")
    def items(updated_at=dlt.sources.incremental("updated_at",
                                                 initial_value="2024-01-01T00:00:00Z")):
        yield lines("items.jsonl")

    @dlt.resource(name="events", write_disposition="append")
    def events(at=dlt.sources.incremental("at", initial_value="2024-01-01T00:00:00Z")):
        yield lines("events.jsonl")

    scd2 = {"disposition": "merge", "strategy": "scd2", "boundary_timestamp": boundary(step)[0]}

    @dlt.resource(name="dims", write_disposition=scd2)
    def dims():
        yield lines("dims.jsonl")

    @dlt.resource(name="dims_hist",
                  write_disposition=dict(scd2, active_record_timestamp=ACTIVE))
    def dims_hist():
        yield lines("dims.jsonl")

    @dlt.source(name="src")
    def src():
        return items, events, dims, dims_hist

    p = dlt.pipeline(PIPELINE, destination=dest.dlt(dlt), dataset_name=DATASET,
                     pipelines_dir=pipes)
    p.run(src())
    return p, p.state


def last_values(state):
    res = state["sources"]["src"]["resources"]
    return (str(res["items"]["incremental"]["updated_at"]["last_value"]),
            str(res["events"]["incremental"]["at"]["last_value"]))


def dlt_reads_everything(dest, pipes):
    """A fresh dlt pipeline attached to the destination: dataset() reads every table."""
    import dlt
    p = dlt.pipeline(PIPELINE, destination=dest.dlt(dlt), dataset_name=DATASET,
                     pipelines_dir=pipes)
    p.sync_destination()
    ds = p.dataset()
    problems = []
    for t in ds.schema.tables:
        if t == "dims_hist" and dest.name == "sqlite":
            # dlt's own bug: its scd2 writes the retiring boundary without an offset and the
            # active_record_timestamp with "+00:00" into one column, and .arrow() then fails
            # on any such table, dlt's alone too (dlt 1.31.0); rows are read as tuples instead
            got = len(ds[t].fetchall())
        else:
            got = ds[t].arrow().num_rows
        (want,) = dest.query('SELECT count(*) FROM {ds}."%s"' % t)[0]
        if got != want:
            problems.append("%s: arrow() %d rows, SQL %d" % (t, got, want))
    for t in ("_dlt_version", "_dlt_loads", "_dlt_pipeline_state", "items", "items__tags",
              "events", "dims", "dims__tags", "dims_hist"):
        if t not in ds.schema.tables:
            problems.append("table %s missing from the stored schema" % t)
    return problems


# ---- the scenarios ------------------------------------------------------------------------

def check(dest, step, state):
    want = expected(step)
    problems = []
    (n, ids), = dest.query("SELECT count(*), count(DISTINCT id) FROM {ds}.items")
    if (n, ids) != (want["items"], want["items"]):
        problems.append("items: %d rows, %d ids, expected %d" % (n, ids, want["items"]))
    (n,), = dest.query("SELECT count(*) FROM {ds}.items__tags")
    if n != want["items__tags"]:
        problems.append("items__tags: %d rows, expected %d" % (n, want["items__tags"]))
    (n,), = dest.query("SELECT count(*) FROM {ds}.items__tags t LEFT JOIN {ds}.items i "
                       "ON i._dlt_id = t._dlt_parent_id WHERE i._dlt_id IS NULL")
    if n:
        problems.append("items__tags: %d orphan rows" % n)
    (n, ids), = dest.query("SELECT count(*), count(DISTINCT eid) FROM {ds}.events")
    if (n, ids) != (want["events"], want["events"]):
        problems.append("events: %d rows, %d events, expected %d" % (n, ids, want["events"]))
    problems += check_scd2(dest, step)
    got = last_values(state)
    if got != (want["last_item"], want["last_event"]):
        problems.append("last_value: %s, expected %s" % (got, (want["last_item"],
                                                               want["last_event"])))
    return problems


def check_scd2(dest, step):
    """Both scd2 tables hold exactly the versions the extracts promise, with validity columns
    as dlt writes them (on SQLite dlt's timestamp text, the active marker with its offset): an
    unchanged record keeps its one version whichever tool loaded it before (same row hash), a
    changed or absent one is retired by the other tool (same active marker); nested rows all
    have their version."""
    import datetime

    def text(v):  # a timestamptz as UTC text (PostgreSQL); SQLite's text stays as stored
        if isinstance(v, datetime.datetime):
            return v.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        return v
    problems = []
    for table, active in (("dims", None), ("dims_hist", dest.active_text)):
        got = [tuple(text(v) for v in r) for r in
               dest.query("SELECT id, name, _dlt_valid_from, _dlt_valid_to FROM {ds}.%s "
                          "ORDER BY id, _dlt_valid_from" % table)]
        want = scd2_expected(step, active)
        if got != want:
            problems.append("%s: versions %s, expected %s" % (table, got, want))
        (n,), = dest.query("SELECT count(*) FROM {ds}.%s__tags t LEFT JOIN {ds}.%s d "
                           "ON d._dlt_id = t._dlt_parent_id WHERE d._dlt_id IS NULL"
                           % (table, table))
        if n:
            problems.append("%s__tags: %d orphan rows" % (table, n))
    return problems


def scenario(sluice, root, dest_cls, order):
    work = os.path.join(root, dest_cls.name + "-" + "-".join(order))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    dest = dest_cls(work)
    results = []
    for step, tool in enumerate(order):
        label = "%s %s step %d: %s" % (dest.name, "->".join(order), step + 1, tool)
        write_batch(work, step)
        try:
            if tool == "sluice":
                # the first sluice of a scenario has its own dir; a later one reuses it
                state = run_sluice(sluice, work, dest, os.path.join(work, "sluice_pipes"),
                                   step)
            else:
                # dlt: fresh pipelines dir when it follows sluice for the first time
                fresh = "dlt_pipes_%d" % step if step == 1 else "dlt_pipes"
                _, state = run_dlt(work, dest, os.path.join(work, fresh), step)
            problems = check(dest, step, state)
            problems += dlt_reads_everything(dest, os.path.join(work, "dlt_reader_%d" % step))
        except Exception as e:  # a tool failing is a failed step, with its message
            problems = ["%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")]
        results.append((label, problems))
        print(("ok " if not problems else "FAIL ") + label)
        for p in problems:
            print("    " + p)
        sys.stdout.flush()
        if problems:
            break
    return results


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sluice, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    names = ["sqlite", "duckdb"] + (["postgres"] if os.environ.get("SLUICE_TEST_PG_DSN") else [])
    if "--destination" in sys.argv:
        names = [sys.argv[sys.argv.index("--destination") + 1]]
    passed = failed = 0
    for name in names:
        for order in (("sluice", "dlt", "sluice"), ("dlt", "sluice", "dlt")):
            for _, problems in scenario(sluice, root, DESTINATIONS[name], order):
                if problems:
                    failed += 1
                else:
                    passed += 1
    print("interop: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
