#!/usr/bin/env python3
"""cases.py: the scenario cases (tests/cases/*.case) run through dlt 1.31.0 itself (issue 9).

    cases.py WORKDIR [--jobs N] [FILTER...]    every case (or those whose name holds a FILTER)
    cases.py --one CASE WORKDIR                one case, a JSON result line (what the above runs)

A translator, not an emulation: it reads a case (tests/README.md: sections `--- file`,
`--- run`, `--- expect-sql`, ...), and when dlt can express everything the case does, it runs
the same sequence through dlt: each `sluice run CONFIG [--resource R] [--write-disposition WD]
[--start V] [--end V] [--refresh MODE]` becomes a `dlt.pipeline(...).run(...)` of the config's
sources on dlt's `sqlalchemy` destination on `sqlite:///<the config's path>` with the same
dataset (so dlt writes the very files the case then queries), resources read from the same
files with the same hints (write disposition and merge strategy, primary/merge keys, columns,
max_table_nesting, table_name templates) and `incremental` (cursor_path, initial/end value,
last_value_func, lag, row_order, primary_key, on_cursor_value_missing, range_start/end).
Other shell commands of a case run as written (with $SLUICE_PIPELINES_DIR = dlt's pipelines
dir, so deleting the working dir deletes dlt's). Then every `expect-sql` query runs on the
dataset (main file, dataset file attached under the dataset's name, csv as `sluice pipeline
query --format csv` prints it) and is compared exactly; every `expect-state` is compared with
the newest state dlt stored in the destination (its `sources`, as values, unique_hashes as a
set); an `expect-exit N` (N > 0) wants dlt to fail there too. `expect-stdout`/`expect-stderr`
are sluice's own words and are not compared.

A case comes out as one of
  match        everything compared equal
  differs      a mismatch, and the case says `# dlt-differs: KEY: why` with KEY one of
               DIFFERENCES below (each names its entry in tests/README.md's list of deliberate
               differences, which mirrors the shared spec's; checked here); a case annotated
               that matches fails (the annotation is stale)
  inexpressible  dlt cannot express what the case does, with the reason found automatically
               (command/singer/REST sources, fault injection, sluice's own commands, ...)
  FAIL         a mismatch without annotation: a sluice bug or an undocumented difference
Ends with `compat-cases: N run through dlt, N matched, N differ on purpose, N not expressible,
N failed`; exit 1 when any failed.
"""
import base64  # noqa: F401  (kept for readers decoding state by hand)
import glob
import gzip
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CASES = os.path.join(REPO, "tests", "cases")
FIXTURES = os.path.join(REPO, "tests", "fixtures")
sys.path.insert(0, os.path.join(FIXTURES, "dlt_oracle"))
from dltconf import (file_pages, incremental_resource, interpolate, resource_hints,  # noqa: E402
                     rest_session, window)
SHARED_SPEC = os.environ.get("SLUICE_SHARED_SPEC", "/work/shared/spec/README.md")

# KEY -> (the bold title of its entry under "Where sluice deliberately differs from dlt" in
# tests/README.md, the topic of its row in the shared spec's table of deliberate differences or
# None when the shared spec does not list it). A case's `# dlt-differs: KEY: why` must name one;
# the entry must be in tests/README.md, and the row in the shared spec when that is at hand
# (SLUICE_SHARED_SPEC, default /work/shared/spec/README.md; not part of the repository).
DIFFERENCES = {
    "last-wins": ("In-package duplicates in merge without `dedup_sort`",
                  "in-package duplicates in merge without `dedup_sort`"),
    "instants": ("ISO-8601 string cursors", "ISO-8601 string cursors"),
    "newest-by-version": ("Order is never a clock", "choice of the newest state / schema"),
    "json-text": ("JSON columns on SQLite", None),
    "scd2": ("scd2", None),
    "start-alone": ("`--start` without `--end`", None),
    "env-overrides": ("Environment variables override the config file", "config"),
    "rest-child-order": ("REST child resources", None),
    "rest-table-template": ("`table_name: \"{type}\"` in a `rest_api` resource", None),
}

SLUICE_ONLY_INCREMENTAL = {
    "assume_tz": "incremental.assume_tz (sluice's naive/aware datetime rule)",
    "max_unique_hashes": "incremental.max_unique_hashes (sluice's boundary hash cap)",
}


class Inexpressible(Exception):
    pass


# ---- reading a case -------------------------------------------------------------------------

SECTION = re.compile(r"^--- ([a-z-]+)(?: (.*))?$")


def parse(path):
    """(title, sections, annotations): sections are dicts name/args/lines as run_cases reads
    them (comments dropped outside file contents, trailing blank lines dropped); annotations:
    each `# dlt-differs: ...` comment with its continuation lines (`#   ...`) joined."""
    title, sections, comments = None, [], []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    cur = None
    for line in text.split("\n"):
        line = line[:-1] if line.endswith("\r") else line
        m = SECTION.match(line)
        if m:
            cur = {"name": m.group(1), "args": (m.group(2) or "").strip(), "lines": []}
            sections.append(cur)
            continue
        if cur is None:
            if line.startswith("#") and title is None:
                title = line[1:].strip()
            if line.startswith("#"):
                comments.append(line)
            continue
        cur["lines"].append(line)
    for s in sections:
        if s["name"] not in ("file", "file-gz"):
            kept = []
            for line in s["lines"]:
                if line.startswith("#"):
                    comments.append(line)
                    continue
                kept.append(line[1:] if line.startswith("\\#") else line)
            s["lines"] = kept
        while s["lines"] and not s["lines"][-1].strip():
            s["lines"].pop()
    notes = []
    for line in comments:
        if line.startswith("# dlt-differs:"):
            notes.append(line[len("# dlt-differs:"):].strip())
        elif notes and line.startswith("#   ") and notes[-1] is not None:
            notes[-1] += " " + line[1:].strip()
        else:
            notes.append(None)
    return title, sections, [n for n in notes if n]


def annotation(notes, readme_text, spec_text):
    """The case's deliberate difference: (key, why), or None; a bad annotation raises."""
    if not notes:
        return None
    key, _, why = notes[0].partition(":")
    key = key.strip()
    if key not in DIFFERENCES:
        raise ValueError("dlt-differs key %r is none of %s" % (key, ", ".join(DIFFERENCES)))
    title, topic = DIFFERENCES[key]
    if "**" + title not in readme_text:
        raise ValueError("dlt-differs %s: tests/README.md lists no '%s'" % (key, title))
    if topic and spec_text is not None and "| " + topic + " |" not in spec_text:
        raise ValueError("dlt-differs %s: the shared spec has no row '%s'" % (key, topic))
    return key, why.strip()


# ---- what dlt cannot express (found before anything runs where possible) ---------------------

def sluice_words(cmd):
    """The words of a `[VAR=V ...] sluice ARGS` command, or None when sluice is not run;
    Inexpressible when sluice runs inside a larger shell command."""
    if not re.search(r"(^|[\s;&|(`$])(sluice|%SLUICE)(\s|$)", cmd):
        return None
    env = {}
    # a `VAR=$(cat FILE)` prefix: the file's text (read when the command runs)
    prefix = re.match(r"^((?:[A-Za-z_][A-Za-z0-9_]*=(?:\$\(cat [\w./-]+\)|\S*)\s+)*)", cmd)
    cats = {}
    for m in re.finditer(r"\$\(cat ([\w./-]+)\)", prefix.group(1) if prefix else ""):
        cats[m.group(0)] = "\0cat:" + m.group(1)
    for k, v in cats.items():
        cmd = cmd.replace(k, v, 1)
    try:
        words = shlex.split(cmd)
    except ValueError:
        raise Inexpressible("shell command around sluice: %s" % cmd)
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        k, _, v = words.pop(0).partition("=")
        env[k] = v
    if not words or words[0] not in ("sluice", "%SLUICE") or \
            any(w in ("&&", "||", ";", "|", ">", "<", "2>", ">>") or w.startswith("$(")
                for w in words) or re.search(r"[;|&<>`]|\$\(", cmd):
        raise Inexpressible("shell command around sluice: `%s`" % cmd)
    return env, words[1:]


RUN_OPTS_VALUE = ("--resource", "--write-disposition", "--start", "--end", "--refresh",
                  "--progress")


def parse_run(words):
    """`run CONFIG [options]` -> (config, opts)."""
    if not words:
        raise Inexpressible("sluice without a command")
    if words[0] != "run":
        what = " ".join(words[:3]) if words[0] == "pipeline" else words[0]
        raise Inexpressible("sluice's own command `sluice %s`" % what)
    config, opts, i = None, {}, 1
    while i < len(words):
        w = words[i]
        if w in RUN_OPTS_VALUE and i + 1 < len(words):
            if w == "--resource":
                opts.setdefault("resource", []).append(words[i + 1])
            elif w != "--progress":
                opts[w[2:].replace("-", "_")] = words[i + 1]
            i += 2
            continue
        if w.startswith("-"):
            raise Inexpressible("`sluice run %s`" % w)
        config = w
        i += 1
    if config is None:
        raise Inexpressible("`sluice run` without a config")
    return config, opts


def load_config(path, env):
    import yaml

    def missing(name):
        raise ConfigError("environment variable %s is not set" % name)
    with open(path) as f:
        return interpolate(yaml.safe_load(f), env, missing)


class ConfigError(Exception):
    pass


def check_config(cfg):
    """Inexpressible when the config uses what dlt has no counterpart for (on SQLite)."""
    if not isinstance(cfg, dict):
        raise ConfigError("config is not a mapping")
    dest = cfg.get("destination") or {}
    if not isinstance(dest, dict) or dest.get("type", "sqlite") != "sqlite":
        raise Inexpressible("destination %s (the compat cases run on SQLite)" %
                            (dest.get("type") if isinstance(dest, dict) else dest))
    if "path" not in dest:
        raise Inexpressible("SQLite destination given by credentials, not a path")
    for sname, s in (cfg.get("sources") or {}).items():
        if not isinstance(s, dict):
            continue
        for rname, rc in (s.get("resources") or {}).items():
            if not isinstance(rc, dict):
                continue
            src = rc.get("from") or {}
            if isinstance(src, dict) and src.get("format") == "singer":
                raise Inexpressible("singer source (sluice's own)")
            if isinstance(src, dict) and "command" in src:
                raise Inexpressible("command source (sluice's own)")
            wd = rc.get("write_disposition")
            if isinstance(wd, dict) and wd.get("strategy") in ("upsert", "insert-only"):
                raise Inexpressible("merge strategy %s (dlt's sqlalchemy destination has none)"
                                    % wd["strategy"])
            ic = rc.get("incremental")
            if isinstance(ic, dict):
                for k, why in SLUICE_ONLY_INCREMENTAL.items():
                    if k in ic:
                        raise Inexpressible(why)


def static_check(sections):
    """Inexpressible for what can be seen without running: fault injection, other
    destinations, the mock server, sluice's own commands, configs written by the case."""
    files = {}
    for s in sections:
        if s["name"] == "requires":
            if s["args"] == "fault":
                raise Inexpressible("fault injection")
            what = s["args"].split()[-1]
            if "PG" in what:
                raise Inexpressible("needs %s (a PostgreSQL case; the compat cases run on "
                                    "SQLite)" % what)
            raise Inexpressible("needs %s (the compat cases run on SQLite)" % s["args"])
        if s["name"] in ("file", "file-gz"):
            files[s["args"]] = s["lines"]
        if s["name"] == "run":
            cmd = s["args"] or "\n".join(s["lines"])
            for part in command_parts(cmd):
                sw = sluice_words(part)
                if sw is not None:
                    static_config(parse_run(sw[1])[0], files)


def static_config(config, files):
    """A config the case writes itself, checked before anything runs."""
    if config not in files or not config.endswith((".yaml", ".yml", ".json")):
        return
    import yaml
    try:
        cfg = yaml.safe_load("\n".join(files[config]))
    except yaml.YAMLError:
        return
    try:
        check_config(cfg)
    except ConfigError:
        pass


# ---- running a case through dlt ---------------------------------------------------------------

def make_resource(dlt, name, rc, cfgdir, start, end):
    src = rc.get("from", {})
    hints = resource_hints(name, rc)
    if "file" not in src:
        raise Inexpressible("resource %s: source %s" % (name, sorted(src)))
    return incremental_resource(dlt, name, hints, rc.get("incremental"), start, end,
                                lambda inc: file_pages(src["file"], cfgdir))


def dlt_run(config, opts, env, pipes):
    """One `sluice run` through dlt: (ok, message, (main, dataset, pipeline name))."""
    import dlt
    try:
        cfg = load_config(config, env)
    except (ConfigError, OSError) as e:
        return False, "config: %s" % e, None
    try:
        check_config(cfg)
    except ConfigError as e:
        return False, "config: %s" % e, None
    cfgdir = os.path.dirname(os.path.abspath(config))
    try:
        name, dataset, sources = cfg["pipeline"], cfg["dataset"], cfg["sources"]
        main = os.path.join(cfgdir, cfg["destination"]["path"])
    except (KeyError, TypeError) as e:
        return False, "config: missing %s" % e, None
    where = (main, dataset, name)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        p = dlt.pipeline(name, destination=dlt.destinations.sqlalchemy("sqlite:///" + main),
                         dataset_name=dataset, pipelines_dir=pipes)
        start = window(opts.get("start"), "SLUICE_INTERVAL_START", env)
        end = window(opts.get("end"), "SLUICE_INTERVAL_END", env)
        sel = opts.get("resource")
        for sname, s in sources.items():
            res = []
            if "rest_api" in s:
                res += [r for r in rest_resources(rest_window(s["rest_api"], start, end))
                        if not sel or r.name in sel]
            for rname, r in (s.get("resources") or {}).items():
                if sel and rname not in sel:
                    continue
                res.append(make_resource(dlt, rname, r, cfgdir, start, end))
            if not res:
                continue
            kw = {}
            if s.get("max_table_nesting") is not None:
                kw["max_table_nesting"] = s["max_table_nesting"]

            source = dlt.source(name=sname, **kw)(source_of(res))()
            run_kw = {}
            if opts.get("write_disposition"):
                run_kw["write_disposition"] = opts["write_disposition"]
            if opts.get("refresh"):
                run_kw["refresh"] = opts["refresh"]
            p.run(source, **run_kw)
        return True, "", where
    except Inexpressible:
        raise
    except Exception as e:  # dlt failed: a failed run
        msg = str(e).strip().splitlines()
        return False, "%s: %s" % (type(e).__name__, msg[-1] if msg else ""), where
    finally:
        os.environ.clear()
        os.environ.update(saved)


def rest_window(ra, start, end):
    """--start/--end on a rest_api source: the initial/end value of each incremental (a
    `{type: incremental}` param or an endpoint's `incremental`), as a dlt user would write them."""
    if start is None and end is None:
        return ra
    ra = json.loads(json.dumps(ra))

    def patch(inc):
        if start is not None:
            inc["initial_value"] = start
        if end is not None:
            inc["end_value"] = end
    for r in (ra.get("resources") or []) + [ra.get("resource_defaults") or {}]:
        ep = r.get("endpoint") if isinstance(r, dict) else None
        if not isinstance(ep, dict):
            continue
        for v in (ep.get("params") or {}).values():
            if isinstance(v, dict) and v.get("type") == "incremental":
                patch(v)
        if isinstance(ep.get("incremental"), dict):
            patch(ep["incremental"])
    return ra


def rest_resources(ra):
    """A rest_api block through dlt's own rest_api_resources; sluice's client.session settings
    are dlt's [runtime] request settings (set in the environment)."""
    from dlt.sources.rest_api import rest_api_resources
    ra, unknown = rest_session(ra)
    if unknown:
        raise Inexpressible("rest_api client.session.%s" % unknown[0])
    return rest_api_resources(ra)


def source_of(resources):
    def body():
        return resources
    return body


def dataset_file(main, dataset):
    stem, suffix = os.path.splitext(main)
    return stem + "__" + dataset + suffix


def sql_text(v):
    if v is None:
        return None
    if isinstance(v, float):
        s = "%.15g" % v
        if re.fullmatch(r"-?\d+", s):
            s += ".0"
        elif "e" in s and "." not in s.split("e")[0]:
            m, _, x = s.partition("e")
            s = m + ".0e" + x
        return s
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


def csv_field(v):
    if v is None:
        return ""
    if any(c in v for c in ',"\r\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def query_csv(where, sql):
    """`sluice pipeline NAME query SQL --format csv` on the files dlt wrote."""
    main, dataset, _ = where
    if not os.path.exists(main):
        return None, "database not found: %s" % main
    con = sqlite3.connect(main)
    try:
        con.execute("ATTACH DATABASE ? AS \"%s\"" % dataset, [dataset_file(main, dataset)])
        cur = con.execute(sql)
        rows = cur.fetchall()
        if cur.description is None:
            return [], None
        out = [",".join(csv_field(d[0]) for d in cur.description)]
        for r in rows:
            out.append(",".join(csv_field(sql_text(v)) for v in r))
        return out, None
    except sqlite3.Error as e:
        return None, str(e)
    finally:
        con.close()


def stored_state(where):
    """The `sources` of the newest state dlt stored (by version), as plain JSON values."""
    from dlt.common.versioned_state import decompress_state
    main, dataset, name = where
    con = sqlite3.connect(main)
    try:
        con.execute("ATTACH DATABASE ? AS \"%s\"" % dataset, [dataset_file(main, dataset)])
        row = con.execute('SELECT state FROM "%s"._dlt_pipeline_state WHERE pipeline_name = ? '
                          'ORDER BY version DESC LIMIT 1' % dataset, [name]).fetchone()
    except sqlite3.Error:
        row = None
    finally:
        con.close()
    if row is None:
        return {}
    state = decompress_state(row[0])
    return json.loads(json.dumps(state.get("sources", {}), default=plain))


def plain(v):
    import datetime
    if isinstance(v, datetime.datetime):
        s = v.isoformat()
        return s[:-6] + "Z" if s.endswith("+00:00") else s
    if isinstance(v, datetime.date):
        return v.isoformat()
    return str(v)


def canon(v, key=None):
    """Values as expect-state compares them: numbers by value, unique_hashes as a set."""
    if isinstance(v, dict):
        return {k: canon(x, k) for k, x in v.items()}
    if isinstance(v, list):
        items = [canon(x) for x in v]
        if key == "unique_hashes":
            items = sorted(items, key=lambda x: json.dumps(x, sort_keys=True))
        return items
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return v


def expand(text, work, mock_url=None):
    text = (text.replace("%CASEDIR", work).replace("%FIXTURES", FIXTURES)
            .replace("%SLUICE", "sluice"))
    return text.replace("%MOCK_URL", mock_url) if mock_url else text


def start_mock(tmp, work, args):
    """--- mock-server ARGS as run_cases starts it: (process, url)."""
    portfile = os.path.join(tmp, "mock.port")
    if os.path.exists(portfile):
        os.unlink(portfile)
    cmd = "exec python3 %s --port-file %s --log %s %s" % (
        shlex.quote(os.path.join(FIXTURES, "rest_mock.py")), shlex.quote(portfile),
        shlex.quote(os.path.join(work, "requests.log")), args)
    proc = subprocess.Popen(["sh", "-c", cmd], cwd=work, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    for _ in range(1000):
        if os.path.exists(portfile) and open(portfile).read().strip():
            return proc, "http://127.0.0.1:%d" % int(open(portfile).read())
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise RuntimeError("the mock server did not start")


def stop(mock):
    if mock:
        try:
            os.killpg(mock[0].pid, 9)
        except OSError:
            pass
        mock[0].wait()


def run_case(path, root):
    """One case through dlt: a result dict (status, reason, problems)."""
    name = os.path.basename(path)[:-5]
    with open(os.path.join(REPO, "tests", "README.md")) as f:
        readme = f.read()
    spec = None
    if os.path.exists(SHARED_SPEC):
        with open(SHARED_SPEC) as f:
            spec = f.read()
    title, sections, notes = parse(path)
    try:
        differs = annotation(notes, readme, spec)
    except ValueError as e:
        return {"case": name, "status": "FAIL", "problems": [str(e)]}
    try:
        static_check(sections)
    except Inexpressible as e:
        return {"case": name, "status": "inexpressible", "reason": str(e)}
    tmp = os.path.join(root, name)
    shutil.rmtree(tmp, ignore_errors=True)
    work, pipes = os.path.join(tmp, "work"), os.path.join(tmp, "pipelines")
    os.makedirs(work)
    os.makedirs(pipes)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLUICE_", "DLT_"))}
    env.update({"SLUICE_PIPELINES_DIR": pipes, "RUNTIME__DLTHUB_TELEMETRY": "false",
                "HOME": tmp,
                # dlt loads the jobs of a package in parallel, on SQLite from several
                # connections: its nested merge then fails with "database is locked"
                "LOAD__WORKERS": "1",
                # sluice extracts resources one after another: dlt's fifo mode asks the REST
                # API in the same order
                "EXTRACT__NEXT_ITEM_MODE": "fifo"})
    problems, last, where, run_no = [], None, None, 0
    mock, seen, wheres = None, 0, {}
    pipeline = None
    try:
        for i, s in enumerate(sections):
            n, args, lines = s["name"], expand(s["args"], work, mock and mock[1]), s["lines"]
            if n == "pipeline":
                pipeline = args
            elif n in ("file", "file-gz"):
                p = os.path.join(work, args)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                data = "".join(expand(x, work, mock and mock[1]) + "\n" for x in lines).encode()
                with (gzip.open if n == "file-gz" else open)(p, "wb") as f:
                    f.write(data)
            elif n == "copy":
                a = args.split()
                dst = os.path.join(work, a[1] if len(a) > 1 else os.path.basename(a[0]))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy(os.path.join(FIXTURES, a[0]), dst)
            elif n == "env":
                for x in ([args] if args else lines):
                    k, eq, v = x.partition("=")
                    if eq:
                        env[k.strip()] = expand(v, work, mock and mock[1])
                    else:
                        env.pop(k.strip(), None)
            elif n == "run":
                run_no += 1
                cmd = expand(args or "\n".join(lines), work, mock and mock[1])
                for part in command_parts(cmd):
                    if last is not None and not last[0] and " && " in cmd:
                        break
                    sw = sluice_words(part)
                    if sw is None:
                        r = subprocess.run(["sh", "-c", part], cwd=work, env=env,
                                           stdin=subprocess.DEVNULL, capture_output=True,
                                           timeout=300)
                        last = (r.returncode == 0, r.stderr.decode(errors="replace")[-300:])
                        continue
                    runenv = dict(env, **{k: cat_value(v, work) for k, v in sw[0].items()})
                    config, opts = parse_run(sw[1])
                    cwd = os.getcwd()
                    os.chdir(work)
                    try:
                        ok, msg, w = dlt_run(os.path.join(work, config), opts, runenv,
                                             runenv.get("SLUICE_PIPELINES_DIR", pipes))
                    finally:
                        os.chdir(cwd)
                    where = w or where
                    if w:
                        wheres[w[2]] = w
                    last = (ok, msg)
                want_fail = any(x["name"] == "expect-exit" and x["args"].strip() != "0"
                                for x in following(sections, i))
                if not want_fail and not last[0]:
                    problems.append("run %d: dlt failed where sluice succeeds: %s"
                                    % (run_no, last[1]))
                    break
                if want_fail and last[0]:
                    problems.append("run %d: dlt succeeded where sluice fails" % run_no)
            elif n == "mock-server":
                stop(mock)
                mock = start_mock(tmp, work, args)
                env["MOCK_URL"] = mock[1]  # its log is kept across restarts, as run_cases'
            elif n == "expect-requests":
                with open(os.path.join(work, "requests.log")) as f:
                    log = f.read().splitlines()
                got, seen = log[seen:], len(log)
                want = [expand(x, work, mock and mock[1]) for x in lines]
                if got != want:
                    problems.append("run %d: requests\n%s" % (run_no, diff(want, got)))
            elif n == "expect-sql":
                if where is None:
                    raise Inexpressible("expect-sql before any dlt run")
                sql = expand(lines[0], work, mock and mock[1])
                want = [expand(x, work, mock and mock[1]) for x in lines[1:]]
                got, err = query_csv(wheres.get(pipeline, where), sql)
                if err is not None:
                    got = ["error: " + err]
                got = "\n".join(got).split("\n") if got else []
                if got != want:
                    problems.append("run %d: %s\n%s" % (run_no, sql, diff(want, got)))
            elif n == "expect-state":
                if where is None:
                    raise Inexpressible("expect-state before any dlt run")
                want = json.loads(expand("\n".join(lines), work, mock and mock[1]))
                got = stored_state(wheres.get(pipeline, where))
                if canon(got) != canon(want):
                    problems.append("run %d: state\n    - %s\n    + %s"
                                    % (run_no, json.dumps(want, sort_keys=True),
                                       json.dumps(got, sort_keys=True)))
    except Inexpressible as e:
        return {"case": name, "status": "inexpressible", "reason": str(e)}
    finally:
        stop(mock)
        if not os.environ.get("COMPAT_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    if differs:
        if problems:
            return {"case": name, "status": "differs", "reason": "%s: %s" % differs,
                    "problems": problems}
        return {"case": name, "status": "FAIL",
                "problems": ["annotated dlt-differs %s but dlt matches: the annotation is stale"
                             % differs[0]]}
    return {"case": name, "status": "match" if not problems else "FAIL", "problems": problems}


def cat_value(v, work):
    if not v.startswith("\0cat:"):
        return v
    with open(os.path.join(work, v[5:])) as f:
        return f.read().rstrip("\n")


def command_parts(cmd):
    """A run's command as the pieces run one after another: the whole command, or, when it has
    several lines of which some run sluice, each line (the last one's status is the run's)."""
    lines = [x for x in cmd.split("\n") if x.strip()]
    if len(lines) > 1 and any(sluice_words_quiet(x) for x in lines):
        return [p for x in lines for p in command_parts(x)]
    # `A && B` of simple commands (no other shell syntax): A, then B (a failing A stops the
    # run there, its status the run's: the translator stops at a failed part too)
    parts = cmd.split(" && ")
    if len(parts) > 1 and not re.search(r"[;|<>`]|\|\||\$\(", cmd) and \
            any(sluice_words_quiet(x) for x in parts):
        return parts
    return [cmd]


def sluice_words_quiet(line):
    try:
        return sluice_words(line) is not None
    except Inexpressible:
        return True


def following(sections, i):
    """The sections after run i up to the next run."""
    out = []
    for s in sections[i + 1:]:
        if s["name"] == "run":
            break
        out.append(s)
    return out


def diff(want, got):
    import difflib
    return "\n".join("    " + x.rstrip("\n") for x in difflib.ndiff(want, got)
                     if x[:1] in "+-")


# ---- the driver -------------------------------------------------------------------------------

def main():
    args = sys.argv[1:]
    if len(args) >= 3 and args[0] == "--one":
        print(json.dumps(run_case(os.path.abspath(args[1]), os.path.abspath(args[2]))))
        return
    if not args:
        sys.stderr.write(__doc__)
        sys.exit(2)
    root = os.path.abspath(args[0])
    jobs, filters = 2, []
    rest = args[1:]
    while rest:
        a = rest.pop(0)
        if a == "--jobs":
            jobs = int(rest.pop(0))
        else:
            filters.append(a)
    paths = sorted(glob.glob(os.path.join(CASES, "*.case")))
    if filters:
        paths = [p for p in paths if any(f in os.path.basename(p) for f in filters)]
    os.makedirs(root, exist_ok=True)
    t0 = time.time()
    running, results = [], {}
    queue = list(paths)
    while queue or running:
        while queue and len(running) < jobs:
            p = queue.pop(0)
            # dlt rebuilds unique_hashes from a Python set: with random string hashing their
            # order, so the state hash, changes between runs, and dlt writes a state version
            # (and a load) on a run that changes nothing
            proc = subprocess.Popen([sys.executable, __file__, "--one", p, root],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=dict(os.environ, PYTHONHASHSEED="0"))
            running.append((p, proc, time.time()))
        time.sleep(0.05)
        for item in list(running):
            p, proc, started = item
            if proc.poll() is None and time.time() - started < 300:
                continue
            if proc.poll() is None:
                proc.kill()
            out, err = proc.communicate()
            running.remove(item)
            try:
                res = json.loads(out.decode().strip().splitlines()[-1])
            except (ValueError, IndexError):
                res = {"case": os.path.basename(p)[:-5], "status": "FAIL",
                       "problems": ["translator crashed: " +
                                    (err.decode(errors="replace").strip()[-800:] or "timeout")]}
            results[p] = res
            report(res)
    counts = {"match": 0, "differs": 0, "inexpressible": 0, "FAIL": 0}
    for r in results.values():
        counts[r["status"]] += 1
    print("\nnot expressible in dlt:")
    for r in sorted(results.values(), key=lambda r: (r.get("reason", ""), r["case"])):
        if r["status"] == "inexpressible":
            print("  %-44s %s" % (r["case"], r["reason"]))
    print("differ on purpose:")
    for r in sorted(results.values(), key=lambda r: r["case"]):
        if r["status"] == "differs":
            print("  %-44s %s" % (r["case"], r["reason"]))
    ran = counts["match"] + counts["differs"] + counts["FAIL"]
    print("compat-cases: %d run through dlt, %d matched, %d differ on purpose, "
          "%d not expressible, %d failed (%.0f s)"
          % (ran, counts["match"], counts["differs"], counts["inexpressible"], counts["FAIL"],
             time.time() - t0))
    sys.exit(1 if counts["FAIL"] else 0)


def report(res):
    st = res["status"]
    line = {"match": "ok", "differs": "differs", "inexpressible": "skip",
            "FAIL": "FAIL"}[st] + " " + res["case"]
    if res.get("reason"):
        line += ": " + res["reason"]
    print(line)
    if st == "FAIL":
        for p in res.get("problems", []):
            print("    " + p.replace("\n", "\n    "))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
