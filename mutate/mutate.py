#!/usr/bin/python3
"""mutate: gapcheck's mutation testing (`make mutate`; see mutate/README.md).

  run     list the mutation points of the files (libclang), keep those on lines
          the suite executes (a gcc --coverage build, each test alone), build
          each mutant in a scratch tree and judge it with the tests, write
          mutation.json (mutation-testing-report-schema), mutation-summary.json
          and the survivors page (mutation.md, mutation.html)
  merge   several shards' mutation.json -> one, and its summary and pages
  report  an existing mutation.json -> summary and pages
  points  print the mutation points of files (no build, no test)

Debian's /usr/bin/python3 with python3-clang; nothing else beyond the
standard library (python3-jsonschema is used by the tests only).
"""

import argparse
import concurrent.futures
import glob
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mt_exec  # noqa: E402
import mt_report  # noqa: E402
import mt_suite  # noqa: E402

VERSION = "1.0"


def log(msg):
    print(msg, flush=True)


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _dump(path, obj):
    _write(path, json.dumps(obj, indent=1) + "\n")


def _commit(root):
    p = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                       text=True)
    if p.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                           capture_output=True, text=True).stdout.strip()
    return p.stdout.strip() + ("-dirty" if dirty else "")


def load_profile(a):
    with open(a.profile, encoding="utf-8") as f:
        prof = json.load(f)
    cov = prof.setdefault("coverage", {})
    if a.cov_var:
        cov["vars"] = dict(v.split("=", 1) for v in a.cov_var)
    if a.cov_prebuild:
        cov["prebuild"] = a.cov_prebuild
    # The memory judges (rows): each needs what the build gives it, its make
    # variables (the sanitizer's `make sanitize` flags) or its wrapper (make
    # memcheck's Valgrind command); a row without either, or named by
    # --no-judge, is off. The scanner of their output is make memcheck's.
    rows = {j["name"]: j for j in prof.get("memory_judges", [])}
    for opt, kv in [("--judge-var", x) for x in a.judge_var] + \
            [("--judge-wrapper", x) for x in a.judge_wrapper]:
        name, sep, val = kv.partition(":" if opt == "--judge-var" else "=")
        if not sep or name not in rows:
            raise SystemExit(f"mutate: {opt} {kv}: no memory judge named {name!r} in the profile")
        if opt == "--judge-var":
            rows[name].setdefault("vars", {}).update([val.split("=", 1)])
        else:
            rows[name]["wrapper"] = val
    for name in a.no_judge:
        if name not in rows:
            raise SystemExit(f"mutate: --no-judge {name}: no memory judge of that name")
    prof["memory_judges"] = [j for j in prof.get("memory_judges", [])
                             if (j.get("vars") or j.get("wrapper")) and j["name"] not in a.no_judge]
    prof["memory_scan"] = os.path.abspath(a.memory_scan)
    # The build names its binaries (make variables): they win over the profile's.
    for kv in a.suite_binary:
        name, _, binary = kv.partition("=")
        suite = [s for s in prof["suites"] if s["name"] == name]
        if not suite:
            raise SystemExit(f"mutate: --suite-binary {kv}: no suite named {name!r} in the profile")
        suite[0]["binary"] = binary
    return prof


def expand_files(root, globs):
    files = []
    for g in globs:
        for f in sorted(glob.glob(os.path.join(root, g))):
            rel = os.path.relpath(f, root)
            if rel.endswith(".c") and rel not in files:
                files.append(rel)
    if not files:
        raise SystemExit(f"mutate: no C file matches {' '.join(globs)}")
    return files


def list_points(root, files, parse_args):
    import mt_points
    import clang.cindex as ci
    index = ci.Index.create()
    pts, fns = [], {}
    for f in files:
        p, fn, diags = mt_points.points_of(os.path.join(root, f), f, parse_args, index)
        if diags:
            raise SystemExit(f"mutate: libclang cannot parse {f}: {diags[0]}")
        pts += p
        fns[f] = fn
    return pts, fns


def tree_hash(root, paths):
    h = hashlib.sha256()
    for f in sorted(mt_exec.tree_files(root)):
        if any(f == p or f.startswith(p.rstrip("/") + "/") for p in paths):
            full = os.path.join(root, f)
            if os.path.isfile(full):
                h.update(f.encode() + b"\0")
                with open(full, "rb") as fh:
                    h.update(_sha(fh.read()).encode())
    return h.hexdigest()[:24]


def build_coverage(a, prof, files):
    """The coverage build, the test list and which lines each test runs;
    cached under the work dir by the hash of the sources and tests."""
    key = tree_hash(a.root, prof["fingerprint_paths"])
    path = os.path.join(a.work, "covmap.json")
    try:
        with open(path, encoding="utf-8") as f:
            cached = json.load(f)
        if cached.get("key") == key and cached.get("files") == files:
            log(f"mutate: coverage map from {path} (sources unchanged)")
            return cached["tests"], cached["map"]
    except (OSError, ValueError):
        pass
    cov_build = os.path.relpath(os.path.join(a.work, "cov"), a.root)
    cv = prof.get("coverage", {})
    vars_ = [f"{k}={v.replace('{build}', cov_build)}" for k, v in cv.get("vars", {}).items()]
    targets = [s["binary"].replace("{build}", cov_build) for s in prof["suites"]]
    pre = [p.replace("{build}", cov_build) for p in cv.get("prebuild", [])]
    log(f"mutate: coverage build in {cov_build}")
    for tg in ([pre] if pre else []) + [targets]:
        p = subprocess.run(["make", "--no-print-directory", "-s", f"-j{a.jobs}",
                            f"BUILD={cov_build}"] + vars_ + tg, cwd=a.root,
                           env=mt_suite.clean_env(), capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"mutate: coverage build failed:\n{p.stderr[-2000:]}")
    tests = mt_suite.discover(prof, a.root, cov_build)
    os.makedirs(a.work, exist_ok=True)
    cmap = mt_suite.coverage_map(prof, a.root, cov_build, tests, files,
                                 os.path.join(a.work, "coverage.log"), log)
    _dump(path, {"key": key, "files": files, "tests": tests, "map": cmap})
    return tests, cmap


def line_key(p, text):
    """Where a point is, in words that survive lines moving: its file,
    function, operator, replacement, the text of its line without the
    indent, and its column within that text."""
    line = text.split(b"\n")[p.line - 1].decode("utf-8", "replace")
    ind = len(line) - len(line.lstrip())
    return (p.file, p.function, p.op, p.repl, line.strip(), p.col - ind)


def same_as(points, sources, path):
    """The current points of the mutants judged in an earlier report (its
    ids name old lines: each is found again by line_key); and the old ids
    that match nothing (their code changed)."""
    with open(path, encoding="utf-8") as f:
        old = json.load(f)
    now = {}
    for p in points:
        now.setdefault(line_key(p, sources[p.file]), []).append(p)
    sel, lost, seen = [], [], {}
    for f, fd in sorted(old["files"].items()):
        text = fd["source"].encode()
        for m in fd["mutants"]:
            i = mt_report.parse_id(m["id"])
            fake = type("P", (), dict(file=f, function=i["function"], op=i["op"],
                                      repl=m.get("replacement", ""), line=i["line"],
                                      col=i["col"]))
            k = line_key(fake, text)
            n = seen.get(k, 0)
            seen[k] = n + 1
            cands = now.get(k, [])
            if n < len(cands):
                sel.append((m["id"], cands[n]))
            else:
                lost.append(m["id"])
    return sel, lost


def _per_function(points):
    """{"file:function": covered points}: what the summary's estimate weighs."""
    out = {}
    for p in points:
        k = f"{p.file}:{p.function}"
        out[k] = out.get(k, 0) + 1
    return out


def memory_tests(row, tests, cov, durations):
    """A memory judge's tests for a mutant whose line the tests `cov` ran:
    those of them that are unit test cases of the row's suites, the fastest
    (in the dry run) first, at most the row's max_tests (0: all). A row that
    is slow (Valgrind: 20-50x) stays bounded per survivor this way."""
    cov = set(cov)
    mine = sorted((t for t in tests if t["id"] in cov and t["suite"] in row["suites"]
                   and not t.get("case")), key=lambda t: durations[t["id"]])
    n = row.get("max_tests", 0)
    return mine[:n] if n else mine


def rejudge_survivors(pairs, path, equivalents=None):
    """Of an earlier report's mutants found again: those to judge again (its
    survivors and listed equivalents), and the results carried over for the
    others (killed, timed out, not built), which new tests cannot undo. The
    report then holds every mutant, so its scores are whole.
    equivalents (--rejudge survived): a mutant listed there is carried too,
    as the listing says it survives by design (a survivor listed since, by
    hand, included); only survivors (and equivalents taken off the list)
    cost a judgement."""
    with open(path, encoding="utf-8") as f:
        old = {m["id"]: m for fd in json.load(f)["files"].values() for m in fd["mutants"]}
    todo, carried = [], {}
    for oid, p in pairs:
        m = old[oid]
        listed = equivalents is not None and p.id in equivalents
        if m["status"] in ("Survived", "Ignored") and not listed:
            todo.append(p)
        else:
            carried[p.id] = {"status": "Survived" if listed else m["status"],
                             "killedBy": m.get("killedBy", []),
                             "statusReason": f"carried from {path} ({oid}): "
                             + m.get("statusReason", ""),
                             "carried_from": path,
                             "testsCompleted": m.get("testsCompleted", 0),
                             "duration": m.get("duration", 0)}
    return todo, carried


def select(points, a, equivalents, first=None):
    """first: a predicate; its points go first (a prioritised campaign)."""
    if a.ids:
        want = set(a.ids)
        sel = [p for p in points if p.id in want]
        missing = want - {p.id for p in sel}
        if missing:
            raise SystemExit("mutate: no such mutant (or its line is not covered): "
                             + ", ".join(sorted(missing)))
        return sel
    if getattr(a, "functions", None):
        want = set(a.functions)
        points = [p for p in points if f"{p.file}:{p.function}" in want]
        missing = want - {f"{p.file}:{p.function}" for p in points}
        if missing:
            raise SystemExit("mutate: no covered mutation point in: " + ", ".join(sorted(missing)))
    if a.shard:
        i, n = (int(x) for x in a.shard.split("/"))
        if not 1 <= i <= n:
            raise SystemExit(f"mutate: MUTATE_SHARD={a.shard}: want I/N with 1 <= I <= N")
        points = [p for p in points if int(_sha(p.id.encode())[:8], 16) % n == i - 1]
    # Seeded order, files interleaved, so that a budget or a --max sample
    # still spreads over every file.
    rng = random.Random(a.seed)
    by_file = {}
    for p in points:
        by_file.setdefault(p.file, []).append(p)
    for lst in by_file.values():
        rng.shuffle(lst)
    order, lists = [], [by_file[f] for f in sorted(by_file)]
    while any(lists):
        for lst in lists:
            if lst:
                order.append(lst.pop())
    if first:
        order = [p for p in order if first(p)] + [p for p in order if not first(p)]
    if a.max:
        order = order[:a.max]
    return order


class Progress:
    # The budget is the whole campaign's wall time (set-up, coverage and dry
    # runs included), so MUTATE_BUDGET=3600 means "done within about an hour"
    # whatever the set-up cost: started is when the campaign began. The time
    # left for the mutants still to judge is measured from the first mutant.
    def __init__(self, total, budget, memory_judges=(), started=None):
        self.total, self.budget, self.t0 = total, budget, time.monotonic()
        self.started = self.t0 if started is None else started
        self.done, self.counts, self.lock = 0, {}, threading.Lock()
        # Kills by each memory judge (of survivors of every test).
        self.memory = {name: 0 for name in memory_judges}

    def add(self, p, r, cached):
        with self.lock:
            self.done += 1
            self.counts[r["status"]] = self.counts.get(r["status"], 0) + 1
            judge = (r.get("killedBy") or [""])[0].split(":")[0]
            if r["status"] == "Killed" and judge in self.memory:
                self.memory[judge] += 1
            mem = ", ".join(f"{k} {v}" for k, v in self.memory.items())
            c = self.counts
            det = c.get("Killed", 0) + c.get("Timeout", 0)
            rate = 100.0 * det / max(1, det + c.get("Survived", 0))
            el = time.monotonic() - self.t0
            left = el / self.done * (self.total - self.done)
            if self.budget:
                left = min(left, max(0, self.budget - (time.monotonic() - self.started)))
            who = (" by " + r["killedBy"][0]) if r.get("killedBy") else ""
            log(f"mutate: [{self.done}/{self.total}] kill rate {rate:.1f}% "
                f"(killed {c.get('Killed', 0)}{f' (memory judges: {mem})' if mem else ''}, timeout {c.get('Timeout', 0)}, survived "
                f"{c.get('Survived', 0)}, not built {c.get('CompileError', 0)}), "
                f"~{left / 60:.1f} min left | {r['status']}{who}{' (cached)' if cached else ''}"
                f": {p.id}")

    def over_budget(self, per_mutant):
        return self.budget and time.monotonic() - self.started + per_mutant > self.budget


def _stop_on_signals(work):
    """Ctrl-C or SIGTERM: the tests run in sessions of their own, out of
    the signal's reach, so kill them (and anything left in the scratch trees)
    before exiting; every result so far is in the cache, and a new run
    resumes from it."""
    def stop(signum, _frame):
        mt_suite.stop_all()
        mt_suite.sweep_cwd(work)
        log(f"mutate: stopped by signal {signum}; the results so far are in "
            f"{os.path.join(work, 'cache.jsonl')} (the same command resumes)")
        os._exit(128 + signum)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)


def cmd_run(a):
    t_start = time.monotonic()
    _stop_on_signals(a.work)
    a.root = os.path.abspath(a.root)
    a.work = os.path.abspath(a.work)
    prof = load_profile(a)
    files = expand_files(a.root, a.files)
    codes = {}
    equivalents, errs = mt_report.load_equivalents(a.equivalents, codes)
    if errs:
        raise SystemExit("\n".join(errs))
    log(f"mutate: files {len(files)}: {' '.join(files)}")
    # The bytes the points were found in: every edit is made to them, and the
    # tree must still hold them when the scratch trees are copied.
    sources = {}
    for f in files:
        with open(os.path.join(a.root, f), "rb") as fh:
            sources[f] = fh.read()
    points, functions = list_points(a.root, files, prof["parse_args"])
    # A listed id whose line moved names another mutant now: it is not
    # applied (it would hide that one), and the campaign says so.
    for mid, problem in mt_report.check_equivalents(points, equivalents, codes, files):
        log(f"mutate: WARNING: {a.equivalents}: {problem}: not applied; find its new id "
            "with `mutate.py equivalents` (or `mutate.py points`)")
        equivalents.pop(mid, None)
    tests, cmap = build_coverage(a, prof, files)
    covered_by = {}
    for tid, fl in cmap.items():
        for f, lines in fl.items():
            for ln in lines:
                covered_by.setdefault((f, ln), []).append(tid)
    covered = [p for p in points if (p.file, p.line) in covered_by]
    key_of = {p.id: (p.file, p.line) for p in covered}
    log(f"mutate: {len(points)} mutation points, {len(covered)} on covered lines, "
        f"{len(tests)} tests")
    same = None
    carried = {}
    if a.same_as:
        pairs, lost = same_as(covered, sources, a.same_as)
        todo = [p for _, p in pairs]
        if a.rejudge in ("survivors", "survived"):
            todo, carried = rejudge_survivors(
                pairs, a.same_as, equivalents if a.rejudge == "survived" else None)
            log(f"mutate: {len(todo)} survivors"
                + (" (and listed equivalents)" if a.rejudge == "survivors" else "")
                + " judged again; "
                f"{len(carried)} detected mutants carried from {a.same_as}")
        same = {"report": a.same_as, "matched": len(pairs), "lost": lost,
                "ids": {old: p.id for old, p in pairs},
                "before": mt_report.statuses(a.same_as, [old for old, _ in pairs])}
        log(f"mutate: {a.same_as}: {len(pairs)} of its mutants found again, {len(lost)} "
            "whose code changed (or is no longer covered)")
    else:
        first = None
        if a.priority == "incidents":
            incs = mt_report.incident_functions(
                a.root, a.incidents, lambda f: functions.get(f) or _functions_of(a, f))
            want = {k for fns in incs.values() for k in fns}
            first = lambda p: (p.file, p.function) in want  # noqa: E731
            log(f"mutate: prioritised: the {sum(map(first, covered))} covered points in the "
                f"{len(want)} functions the incidents touched go first")
        todo = select(covered, a, equivalents, first)
    setup_s = time.monotonic() - t_start

    # Scratch trees, the dry run and the deadlines.
    targets = [s["binary"].replace("{build}", a.build) for s in prof["suites"]]
    p = subprocess.run(["make", "--no-print-directory", "-s", f"-j{a.jobs}"] + targets,
                       cwd=a.root, env=mt_suite.clean_env())
    if p.returncode != 0:
        raise SystemExit("mutate: the tree does not build")
    jobs = max(1, min(a.jobs, len(todo) or 1))
    scratches = [mt_exec.Scratch(a.root, a.build, os.path.join(a.work, f"job{j}"), prof, targets)
                 for j in range(jobs)]
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        list(ex.map(lambda s: s.setup(), scratches))
    for f in files:
        with open(os.path.join(scratches[0].tree, f), "rb") as fh:
            if fh.read() != sources[f]:
                raise SystemExit(f"mutate: {f} changed while the campaign was starting; "
                                 "run it on a tree nobody edits (a separate worktree)")
    t_dry = time.monotonic()
    durations = {}
    for t in tests:
        with mt_exec.tempfile.TemporaryDirectory(dir=scratches[0].dir) as td:
            argv, env = mt_suite.command(prof, a.build, [t], td)
            st, secs, _ = mt_suite.run_limited(argv, scratches[0].tree, env, 900, scratches[0].log,
                                               scratches[0].cgroup)
        if st != "pass":
            raise SystemExit(f"mutate: the suite fails WITHOUT a mutant: {t['id']}: {st} "
                             f"({mt_exec._tail(scratches[0].log)}); fix that first")
        durations[t["id"]] = secs
    # The deadline of a test: its own time, times a factor, plus slack for a
    # loaded machine (Stryker's timeoutFactor / timeoutMS).
    deadlines = {k: a.timeout_factor * v + a.timeout_slack for k, v in durations.items()}
    suite_s = sum(durations.values())
    log(f"mutate: dry run {suite_s:.1f} s for {len(tests)} tests (all pass); "
        f"{len(todo)} mutants to judge with {jobs} jobs")

    # The tests' files and the judges (suites, memory judges with their flags
    # and bounds) key the cache: a new test or a new judge re-judges every
    # mutant.
    judges = json.dumps([prof["suites"], prof["memory_judges"], a.tests], sort_keys=True)
    suite_key = tree_hash(a.root, prof["suite_paths"]) + _sha(judges.encode())[:8]
    cache_path = os.path.join(a.work, "cache.jsonl")
    cache = {}
    if not a.fresh and os.path.exists(cache_path):
        with open(cache_path, encoding="utf-8") as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue  # a line cut by an interrupted run
                cache[e["key"]] = e["result"]

    def cached(pt):
        # A timeout is the least certain fate (the machine may have been
        # busy): it is judged again rather than taken from the cache.
        r = cache.get(f"{pt.fkey}:{suite_key}")
        return r if r is not None and r["status"] != "Timeout" else None

    # The memory judges' dry run: every test a row may run for the mutants
    # to judge must pass and be clean on the unmutated tree, or a report
    # would be blamed on every survivor; its time there sets its deadline.
    memory = []
    for row in prof["memory_judges"]:
        need = {}
        for pt in todo:
            if not cached(pt):
                need.update((t["id"], t) for t in memory_tests(
                    row, tests, covered_by.get((pt.file, pt.line), []), durations))
        s0, row_deadlines, t_row = scratches[0], {}, time.monotonic()
        for t in sorted(need.values(), key=lambda t: durations[t["id"]]):
            with mt_exec.tempfile.TemporaryDirectory(dir=s0.dir) as td:
                argv, env = mt_exec.memory_command(s0, prof, row, t, td)
                st, secs, _ = mt_suite.run_limited(argv, s0.tree, env, 900, s0.log, s0.cgroup)
            found = mt_exec.memory_report(prof, s0.log)
            if st != "pass" or found:
                raise SystemExit(f"mutate: the {row['name']} judge fails WITHOUT a mutant: "
                                 f"{t['id']}: {st} ({found or mt_exec._tail(s0.log)}); "
                                 "fix that first")
            row_deadlines[t["id"]] = a.timeout_factor * secs + a.timeout_slack
        memory.append((row, row_deadlines))
        n = row.get("max_tests", 0)
        log(f"mutate: memory judge {row['name']}: {len(need)} unit test cases clean in "
            f"{time.monotonic() - t_row:.0f} s; a survivor runs "
            f"{f'at most the {n} fastest' if n else 'all'} of its covering ones there")
    dry_s = time.monotonic() - t_dry

    cache_lock = threading.Lock()
    results = {pid: dict(r, coveredBy=covered_by.get(key_of[pid], []))
               for pid, r in carried.items()}
    prog = Progress(len(todo), a.budget, [row["name"] for row, _ in memory], started=t_start)
    # What each memory judge cost: seconds and survivors judged, this run.
    memory_cost = {row["name"]: [0.0, 0] for row, _ in memory}
    per_mutant = [suite_s]
    queue = list(todo)
    qlock = threading.Lock()
    stopped = []

    def worker(scr):
        while True:
            with qlock:
                if not queue:
                    return
                if prog.over_budget(sum(per_mutant) / len(per_mutant) / jobs):
                    stopped.extend(queue)
                    queue.clear()
                    return
                pt = queue.pop(0)
            cov = covered_by.get((pt.file, pt.line), [])
            key = f"{pt.fkey}:{suite_key}"
            r = cached(pt)
            if r is not None:
                r = dict(r, coveredBy=cov)
                results[pt.id] = r
                prog.add(pt, r, True)
                continue
            first = sorted((t for t in tests if t["id"] in cov), key=lambda t: durations[t["id"]])
            # Only the covering tests judge (Stryker's perTest analysis): a
            # test that never executes the line cannot see the change. --tests
            # all runs the others after them, for a survivor.
            rest = sorted((t for t in tests if t["id"] not in cov),
                          key=lambda t: durations[t["id"]]) if a.tests == "all" else []
            # The memory judges': the row's pick of them, fastest there first.
            mem = [(row, sorted(memory_tests(row, tests, cov, durations),
                                key=lambda t, dl=dl: dl[t["id"]]), dl) for row, dl in memory]
            t0 = time.monotonic()
            r = mt_exec.judge(scr, pt, sources[pt.file], first, rest, deadlines, prof, mem)
            per_mutant.append(time.monotonic() - t0)
            r.pop("build_s", None)
            with cache_lock:
                for name, secs in r.pop("memory_s", {}).items():
                    memory_cost[name][0] += secs
                    memory_cost[name][1] += 1
            r["coveredBy"] = cov
            results[pt.id] = r
            with cache_lock:
                with open(cache_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"key": key, "id": pt.id, "result": r}) + "\n")
            prog.add(pt, r, False)

    t_mut = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        for fut in [ex.submit(worker, s) for s in scratches]:
            fut.result()
    mutation_s = time.monotonic() - t_mut
    for scr in scratches:
        scr.cgroup.remove()
    for name, (secs, n) in memory_cost.items():
        log(f"mutate: memory judge {name}: {n} survivors judged in {secs:.0f} s"
            + (f" ({secs / n:.1f} s each)" if n else ""))
    total_s = time.monotonic() - t_start
    for pt in todo:
        if pt.id in equivalents and results.get(pt.id, {}).get("status") == "Killed":
            log(f"mutate: WARNING: {pt.id} is listed as equivalent but was killed by "
                f"{results[pt.id]['killedBy']}: remove it from {a.equivalents}")
    meta = {"version": VERSION,
            "config": {"files": a.files, "seed": a.seed, "shard": a.shard, "max": a.max,
                       "budget_s": a.budget, "jobs": jobs, "points": len(points),
                       "points_covered": len(covered), "selected": len(todo),
                       "covered_per_function": _per_function(covered),
                       "not_run_budget": len(stopped), "tests": len(tests),
                       "priority": a.priority, "same_as": same,
                       "rejudge": a.rejudge if a.same_as else None,
                       "memory_judges": {row["name"]: {
                           "flags": row.get("vars") or row.get("wrapper"),
                           "max_tests": row.get("max_tests", 0), "tests": sorted(dl),
                           "seconds": round(memory_cost[row["name"]][0], 1),
                           "survivors_judged": memory_cost[row["name"]][1]}
                           for row, dl in memory},
                       "suite_seconds": round(suite_s, 2),
                       "timeout": f"{a.timeout_factor} x test time + {a.timeout_slack} s",
                       "judging_tests": a.tests},
            "performance": {"setup": round(setup_s * 1000), "initialRun": round(dry_s * 1000),
                            "mutation": round(mutation_s * 1000)}}
    src_text = {f: s.decode("utf-8", "replace") for f, s in sources.items()}
    doc = mt_report.stryker(points, results, src_text,
                            tests + [dict(t, id=f"{row['name']}:{t['id']}", suite=row["name"])
                                     for row, dl in memory for t in tests if t["id"] in dl],
                            meta, equivalents)
    write_outputs(a, doc, functions, {"commit": _commit(a.root), "command": a.command,
                                      "campaign_seconds": round(total_s)})
    if stopped:
        log(f"mutate: budget of {a.budget} s reached: {len(stopped)} selected mutants not run")
    return 0


def write_outputs(a, doc, functions, meta):
    _dump(a.json, doc)
    incs = mt_report.incident_functions(a.root, a.incidents,
                                        lambda f: functions.get(f) or _functions_of(a, f))
    s = mt_report.summary(doc, incs, meta)
    out = os.path.dirname(a.json) or "."
    base = os.path.join(out, "mutation")
    _dump(base + "-summary.json", s)
    _write(base + ".md", mt_report.markdown(s))
    _write(base + ".html", mt_report.html_page(s))
    t = s["totals"]
    def pct(v):
        return "-" if v is None else f"{v}%"
    log(f"mutate: score {pct(t['score'])} (killed {t.get('Killed', 0)}, timeout "
        f"{t.get('Timeout', 0)}, survived {t.get('Survived', 0)}, equivalent "
        f"{t.get('Ignored', 0)}, not built {t.get('CompileError', 0)}) of {t['total']} mutants")
    for iid, c in s["incidents"].items():
        log(f"mutate: {iid} (the functions it touched): score {pct(c['score'])} of {c['total']}"
            " mutants")
    log(f"mutate: wrote {a.json}, {base}-summary.json, {base}.md, {base}.html "
        f"({len(s['survivors'])} survivors)")


_FN_CACHE = {}


def _functions_of(a, f):
    if f not in _FN_CACHE:
        try:
            with open(a.profile, encoding="utf-8") as fh:
                args = json.load(fh)["parse_args"]
            _FN_CACHE[f] = list_points(a.root, [f], args)[1][f]
        except (OSError, SystemExit, ImportError):
            _FN_CACHE[f] = {}
    return _FN_CACHE[f]


def cmd_merge(a):
    docs = []
    for p in a.inputs:
        with open(p, encoding="utf-8") as f:
            docs.append(json.load(f))
    doc = mt_report.merge(docs)
    write_outputs(a, doc, {}, {"commit": _commit(a.root), "command": a.command})
    return 0


def cmd_report(a):
    with open(a.json, encoding="utf-8") as f:
        doc = json.load(f)
    write_outputs(a, doc, {}, {"commit": _commit(a.root), "command": a.command})
    return 0


def cmd_equivalents(a):
    """Check that every entry of the equivalents list names the mutant it was
    written for (check-mutate runs it over the engine); --stamp quotes the
    current code in entries that quote none."""
    with open(a.profile, encoding="utf-8") as f:
        prof = json.load(f)
    codes = {}
    equivalents, errs = mt_report.load_equivalents(a.equivalents, codes)
    files = sorted({mt_report.parse_id(m)["file"] for m in equivalents})
    pts, _ = list_points(a.root, files, prof["parse_args"])
    if a.stamp:
        by_id = {p.id: p for p in pts}
        with open(a.equivalents, encoding="utf-8") as f:
            lines = f.read().split("\n")
        for i, ln in enumerate(lines):
            mid = ln.split(" ")[0]
            if mid in equivalents and codes.get(mid) is None and mid in by_id:
                rest = ln[len(mid):].lstrip()
                code = mt_report.code_key(by_id[mid].orig)
                lines[i] = f"{mid}  `{code}`  {rest}"
                codes[mid] = code
        with open(a.equivalents, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    errs += [msg for _, msg in mt_report.check_equivalents(pts, equivalents, codes, files,
                                                           require_code=True)]
    for e in errs:
        print(f"{a.equivalents}: {e}")
    print(f"mutate: {len(equivalents)} equivalents, {len(errs)} problems")
    return 1 if errs else 0


def cmd_points(a):
    with open(a.profile, encoding="utf-8") as f:
        prof = json.load(f)
    pts, _ = list_points(a.root, expand_files(a.root, a.files), prof["parse_args"])
    for p in pts:
        print(f"{p.id}\t{p.orig!r} -> {p.repl!r}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="mutate", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    here = os.path.dirname(os.path.abspath(__file__))

    def common(p):
        p.add_argument("--root", default=".")
        p.add_argument("--profile", default=os.path.join(here, "profile.json"))
        p.add_argument("--json", default="reports/mutation.json")
        p.add_argument("--incidents", default="reports/incidents.json")
        p.add_argument("--command", default=None)
    p = sub.add_parser("run")
    common(p)
    p.add_argument("--build", default="build")
    p.add_argument("--work", default="build/mutate")
    p.add_argument("--files", nargs="+", default=["engine/src/*.c"])
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--shard", default="")
    p.add_argument("--budget", type=float, default=0,
                   help="seconds of the whole campaign, set-up included; no mutant starts "
                        "that would end after it; 0 = no limit")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max", type=int, default=0, help="at most N mutants (a sample)")
    p.add_argument("--ids", nargs="*", default=None, help="exactly these mutants")
    p.add_argument("--functions", nargs="*", default=None,
                   help="only the covered points of these functions (file:function)")
    p.add_argument("--equivalents", default=os.path.join(here, "equivalents.txt"))
    p.add_argument("--fresh", action="store_true", help="ignore the cache")
    p.add_argument("--tests", choices=("covering", "all"), default="covering",
                   help="covering: only the tests that executed the mutated line judge it; "
                   "all: a survivor of those runs every other test too")
    p.add_argument("--timeout-factor", type=float, default=3.0)
    p.add_argument("--timeout-slack", type=float, default=5.0)
    p.add_argument("--cov-var", action="append", default=[], help="VAR=VALUE for the coverage build")
    p.add_argument("--cov-prebuild", action="append", default=[])
    p.add_argument("--suite-binary", action="append", default=[],
                   help="NAME={build}/path: the binary of a profile suite")
    p.add_argument("--judge-var", action="append", default=[],
                   help="JUDGE:VAR=VALUE: a make variable of a memory judge's own build "
                   "(e.g. sanitizer:CFLAGS=...)")
    p.add_argument("--judge-wrapper", action="append", default=[],
                   help="JUDGE=COMMAND: the command a memory judge runs its tests under "
                   "(e.g. valgrind=<make memcheck's Valgrind command>)")
    p.add_argument("--no-judge", action="append", default=[],
                   help="a memory judge (profile row) not to use: sanitizer, valgrind")
    p.add_argument("--memory-scan", default=os.path.join(os.path.dirname(here), "mk",
                                                         "memcheck-scan.sh"),
                   help="the scanner of the memory judges' output (make memcheck's)")
    p.add_argument("--same-as", default="",
                   help="judge the mutants of this earlier mutation.json again (before/after)")
    p.add_argument("--rejudge", choices=("all", "survivors", "survived"), default="all",
                   help="with --same-as: judge all its mutants again, only its survivors and "
                   "equivalents, or only its survivors (survived: equivalents still listed "
                   "are carried too); the others' results are carried over")
    p.add_argument("--priority", choices=("none", "incidents"), default="none",
                   help="incidents: points in the functions the incidents touched go first")
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("merge")
    common(p)
    p.add_argument("inputs", nargs="+")
    p.set_defaults(fn=cmd_merge)
    p = sub.add_parser("report")
    common(p)
    p.set_defaults(fn=cmd_report)
    p = sub.add_parser("points")
    common(p)
    p.add_argument("--files", nargs="+", default=["engine/src/*.c"])
    p.set_defaults(fn=cmd_points)
    p = sub.add_parser("equivalents", help="check that each listed equivalent names the "
                       "mutant it was written for (its quoted code)")
    common(p)
    p.add_argument("--equivalents", default=os.path.join(here, "equivalents.txt"))
    p.add_argument("--stamp", action="store_true",
                   help="quote the current code in entries that quote none")
    p.set_defaults(fn=cmd_equivalents)
    a = ap.parse_args(argv)
    if a.command is None:
        a.command = "mutate " + " ".join(argv if argv is not None else sys.argv[1:])
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
