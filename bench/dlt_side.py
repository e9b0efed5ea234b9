"""dlt_side.py - the dlt half of `make bench` (bench/compare.py runs it, one process per run).

    python dlt_side.py MODE DEST DB PIPELINES_DIR FILE [MAX_ID]

MODE   append   a fresh append of FILE into table `items`
       incbase  merge on `id` with an incremental cursor on `id`: the base of the no-op and
                merge runs (FILE holds ids 1..MAX_ID)
       noop     the same resource as incbase; the source returns at once when the cursor is at
                MAX_ID (as sluice's command source in bench/compare.py does)
       merge    merge on `id` of FILE (a delta: updates and new ids), no incremental
DEST   sqlite (dlt's sqlalchemy destination on sqlite:///DB) or duckdb (DB is the file)

dlt runs in its fastest documented setup (dlt docs, "Optimizing dlt"): items parsed with orjson
and yielded as pages (lists) of 10,000 items, extract files rotated every 100,000 items so that
2 normalize worker processes have files to share, parquet loader files; on SQLite one load
worker (SQLite has a single writer: dlt's default 20 load threads fail each other with
"database is locked" and retry after a back-off). The settings are the
environment variables set below, before dlt is imported.

Prints one JSON line: {"run_s": seconds spent in pipeline.run(), "import_s": importing dlt}.
"""
import json
import os
import sys
import time

PAGE = 10_000
SETUP = {
    "NORMALIZE__WORKERS": "2",
    "EXTRACT__DATA_WRITER__FILE_MAX_ITEMS": "100000",
    "DATA_WRITER__BUFFER_MAX_ITEMS": str(PAGE),
    "RUNTIME__LOG_LEVEL": "WARNING",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}
LOADER_FILE_FORMAT = "parquet"


def describe():
    return ("dlt %s: orjson, pages of %d items, %s loader files, %s normalize workers, extract "
            "files rotated every %s items, 1 load worker on SQLite (its single writer)" % (
                "1.31.0", PAGE, LOADER_FILE_FORMAT, SETUP["NORMALIZE__WORKERS"],
                SETUP["EXTRACT__DATA_WRITER__FILE_MAX_ITEMS"]))


def pages(path, above=0):
    import orjson
    page = []
    with open(path, "rb") as f:
        for line in f:
            item = orjson.loads(line)
            if item["id"] <= above:
                continue
            page.append(item)
            if len(page) == PAGE:
                yield page
                page = []
    if page:
        yield page


def main():
    mode, dest, db, pdir, path = sys.argv[1:6]
    max_id = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    for k, v in SETUP.items():
        os.environ.setdefault(k, v)
    if dest == "sqlite":
        # SQLite has one writer: dlt's parallel load jobs (20 threads by default) only wait for
        # each other's locks and fail with "database is locked" (retried after a back-off)
        os.environ.setdefault("LOAD__WORKERS", "1")
    t0 = time.monotonic()
    import dlt
    t1 = time.monotonic()

    if dest == "sqlite":
        destination = dlt.destinations.sqlalchemy("sqlite:///" + db)
    elif dest == "duckdb":
        destination = dlt.destinations.duckdb(db)
    else:
        sys.exit("dlt_side.py: unknown destination " + dest)

    if mode == "append":
        @dlt.resource(name="items", write_disposition="append")
        def items():
            yield from pages(path)
    elif mode == "merge":
        @dlt.resource(name="items", write_disposition="merge", primary_key="id")
        def items():
            yield from pages(path)
    elif mode in ("incbase", "noop"):
        @dlt.resource(name="items", write_disposition="merge", primary_key="id")
        def items(cursor=dlt.sources.incremental("id", initial_value=0)):
            last = cursor.last_value or 0
            if last >= max_id:  # nothing new: the source's own cost is ~0, as for sluice
                return
            yield from pages(path, last)
    else:
        sys.exit("dlt_side.py: unknown mode " + mode)

    pipeline = dlt.pipeline(pipeline_name="bench_" + ("inc" if mode in ("incbase", "noop", "merge")
                                                      else mode),
                            pipelines_dir=pdir, destination=destination, dataset_name="bench")
    t2 = time.monotonic()
    pipeline.run(items(), loader_file_format=LOADER_FILE_FORMAT)
    t3 = time.monotonic()
    print(json.dumps({"run_s": t3 - t2, "import_s": t1 - t0}))


if __name__ == "__main__":
    main()
