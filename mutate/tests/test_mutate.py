#!/usr/bin/python3
"""The checks of `make mutate`'s machinery, a step of `make check`.

Unit checks: mutation points are exact (libclang, not text: no point inside a
comment or a string, every point's text is the source's bytes), the
equivalents file is strict, shards merge, the report validates against the
vendored mutation-testing-report-schema (and a broken one does not), the
profile's binaries are real make targets.

Smoke run: the whole machinery on mutate/tests/fixture (a copy under --tmp),
seven mutants with one known fate each: killed (by the test case covering the
line), equivalent (reported Ignored, observed Survived), survived, not built,
timed out, killed only by the sanitizer judge (a dropped free()) and killed
only by the Valgrind judge (a dropped memset: write() reads uninitialised
padding), which survives with that judge off. Then the cache: a second run
re-runs nothing; after an edit of one function only that function's mutants
run again, even though every line below the edit moved. An equivalents entry
whose id names other code than it quotes is not applied: that mutant is
judged and counts. Prints "N passed, M failed".
"""

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MUTATE = os.path.dirname(HERE)
ROOT = os.path.dirname(MUTATE)
sys.path.insert(0, MUTATE)

import jsonschema  # noqa: E402  (Debian python3-jsonschema)

import mt_points  # noqa: E402
import mt_report  # noqa: E402

PY = "/usr/bin/python3"
SCHEMA = os.path.join(MUTATE, "schema", "mutation-testing-report-schema.json")
results = []


def check(name, ok, detail=""):
    ok = bool(ok)
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""),
          flush=True)


def validator():
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    return jsonschema.Draft7Validator(schema)


def fixture_points(root):
    pts, fns, diags = mt_points.points_of(os.path.join(root, "src/calc.c"), "src/calc.c",
                                          ["-Isrc", "-std=c11"])
    return pts, fns, diags


def mt_report_parse(mid):
    import mt_report
    return mt_report.parse_id(mid)


def find(pts, function, op):
    return next(p for p in pts if p.function == function and p.op == op)


# ---- unit checks ---------------------------------------------------------------

def unit_points():
    fx = os.path.join(HERE, "fixture")
    pts, fns, diags = fixture_points(fx)
    check("fixture parses without diagnostics", not diags, str(diags[:1]))
    src = open(os.path.join(fx, "src/calc.c"), "rb").read()
    check("every point's text is the source's bytes at its offsets",
          all(src[p.start:p.end].decode() == p.orig for p in pts))
    comment_end = src.index(b"*/")
    string_at = src.index(b'"a < b"')
    check("no point inside a comment or a string literal",
          all(p.start > comment_end and not (string_at <= p.start < string_at + 7) for p in pts),
          [p.id for p in pts if p.start <= comment_end or string_at <= p.start < string_at + 7])
    ops = {p.op.split(".")[0] for p in pts}
    check("every operator family found", ops >= {"ror", "aor", "obo", "cond", "call", "ret",
                                                  "early"}, sorted(ops))
    lt = find(pts, "calc_clamp", "ror.lt>ge")
    check("a binary operator is placed at its token", (lt.line, lt.col, lt.orig) == (24, 11, "<"),
          (lt.line, lt.col, lt.orig))
    check("the mutated source differs only there",
          lt.apply(src) == src[:lt.start] + b">=" + src[lt.start + 1:])
    check("functions' extents", fns.get("calc_clamp") == (22, 29), fns.get("calc_clamp"))
    ids = [p.id for p in pts]
    check("ids are unique", len(ids) == len(set(ids)))
    # Stable ids and cache keys: a line added above moves ids, not fkeys.
    moved = b"/* one more line */\n" + src
    tmp = os.path.join(ARGS.tmp, "moved")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(fx, tmp)
    with open(os.path.join(tmp, "src/calc.c"), "wb") as f:
        f.write(moved)
    pts2, _, _ = fixture_points(tmp)
    check("a point's cache key survives a line added above its function",
          [p.fkey for p in pts] == [p.fkey for p in pts2])
    check("its id names the new line", find(pts2, "calc_clamp", "ror.lt>ge").line == 25)
    # --same-as: an earlier report's mutants are found again after lines moved.
    import mutate as mt
    old = {"files": {"src/calc.c": {"source": src.decode(), "mutants": [
        {"id": p.id, "replacement": p.repl} for p in pts]}}}
    oldp = os.path.join(ARGS.tmp, "old-report.json")
    with open(oldp, "w") as f:
        json.dump(old, f)
    pairs, lost = mt.same_as(pts2, {"src/calc.c": moved}, oldp)
    check("--same-as finds every mutant of an earlier report one line lower",
          not lost and len(pairs) == len(pts) and all(
              n.line == mt_report_parse(o)["line"] + 1 and n.op == mt_report_parse(o)["op"]
              for o, n in pairs), lost)
    gone = moved.replace(b"return a >= b ? a : b;", b"return a > b ? a : b;")
    pairs, lost = mt.same_as(pts2, {"src/calc.c": gone}, oldp)
    check("--same-as reports a mutant whose line changed as lost",
          any(":calc_max:" in x for x in lost) and len(pairs) + len(lost) == len(pts), lost)
    # libclang on a real engine file: the bindings and the parse arguments
    # the profile gives work for the sources `make mutate` mutates.
    prof = json.load(open(os.path.join(MUTATE, "profile.json")))
    ep, _, ed = mt_points.points_of(os.path.join(ROOT, "engine/src/status.c"),
                                    "engine/src/status.c", prof["parse_args"])
    check("engine/src/status.c parses with the profile's arguments", not ed and len(ep) > 0,
          str(ed[:1]))


def unit_equivalents():
    path = os.path.join(ARGS.tmp, "eq.txt")
    with open(path, "w") as f:
        f.write("# comment\nsrc/a.c:f:1:2:ror.lt>le  # same value when equal\n"
                "src/a.c:f:3:4:ror.lt>ge\nnot-an-id  # reason\n")
    eq, errs = mt_report.load_equivalents(path)
    check("equivalents: a line with its reason is read", eq == {
        "src/a.c:f:1:2:ror.lt>le": "same value when equal"}, eq)
    check("equivalents: a missing reason and a bad id are errors naming the line",
          len(errs) == 2 and ":3:" in errs[0] and ":4:" in errs[1], errs)
    codes = {}
    with open(path, "w") as f:
        f.write("src/a.c:f:1:2:ror.lt>le  `a  <\t b`  # same value when equal\n"
                "src/a.c:f:3:4:ror.lt>ge  a < b  # code not in backticks\n")
    eq, errs = mt_report.load_equivalents(path, codes)
    check("equivalents: the quoted code is read (whitespace runs as one space); code "
          "outside backticks is an error naming the line",
          codes == {"src/a.c:f:1:2:ror.lt>le": "a < b"} and len(errs) == 1
          and ":2:" in errs[0] and "backticks" in errs[0], (codes, errs))
    # An edit above moved the listed line: its id now names another mutant.
    P = mt_points.Point
    def pt(line, orig):
        return P(file="src/a.c", function="f", line=line, col=2, op="ror.lt>le", start=0,
                 end=1, orig=orig, repl="<=", end_line=line, end_col=3)
    pts = [pt(1, "x < y"), pt(5, "a < b")]
    probs = mt_report.check_equivalents(pts, {"src/a.c:f:1:2:ror.lt>le": "r"},
                                        {"src/a.c:f:1:2:ror.lt>le": "a < b"}, ["src/a.c"])
    check("equivalents: an entry whose line moved is refused, naming the code it now names "
          "and the new id of its own code",
          len(probs) == 1 and probs[0][0] == "src/a.c:f:1:2:ror.lt>le"
          and "now names `x < y`" in probs[0][1] and "src/a.c:f:5:2:ror.lt>le" in probs[0][1],
          probs)
    probs = mt_report.check_equivalents([pt(1, "a < b")], {"src/a.c:f:1:2:ror.lt>le": "r"},
                                        {"src/a.c:f:1:2:ror.lt>le": "a < b"}, ["src/a.c"])
    check("equivalents: an entry that names its own code passes", probs == [], probs)
    p = subprocess.run([PY, os.path.join(MUTATE, "mutate.py"), "equivalents"],
                       capture_output=True, text=True, cwd=os.path.dirname(MUTATE))
    check("mutate/equivalents.txt: every entry quotes its code and still names it "
          "(mutate.py equivalents)", p.returncode == 0, p.stdout[-1500:] + p.stderr[-500:])


def _doc(ids_status, source="int f(void) { return 1 < 2; }\n"):
    muts = [{"id": i, "mutatorName": "EqualityOperator", "replacement": ">=",
             "location": {"start": {"line": 1, "column": 24}, "end": {"line": 1, "column": 25}},
             "status": s, "killedBy": [], "coveredBy": []} for i, s in ids_status]
    return {"schemaVersion": "2", "thresholds": {"high": 90, "low": 80},
            "files": {"a.c": {"language": "c", "source": source, "mutants": muts}},
            "performance": {"setup": 1, "initialRun": 1, "mutation": 1},
            "config": {"shard": "x"}}


def unit_incident_functions():
    """A re-injection names the functions it edits now, found by the hunk's
    text though its line numbers drifted, insertions included."""
    root = os.path.join(ARGS.tmp, "incfn")
    src = ["int a(void)", "{", "    return 1;", "}", "", "int b(int x)", "{",
           "    if (x)", "        return 2;", "    return 3;", "}"]
    os.makedirs(os.path.join(root, "src"))
    with open(os.path.join(root, "src", "f.c"), "w") as f:
        f.write("\n".join(src) + "\n")
    spans = {"a": (1, 4), "b": (6, 11)}
    patches = {
        # Says line 1 (in a), though its text is b's now: by text, b.
        "INC-DRIFT": "--- a/src/f.c\n+++ b/src/f.c\n@@ -1,3 +1,3 @@\n     if (x)\n"
                     "-        return 2;\n+        return 4;\n     return 3;\n",
        # Only adds a line, in b: no removed line to go by.
        "INC-INSERT": "--- a/src/f.c\n+++ b/src/f.c\n@@ -7,2 +7,3 @@\n {\n"
                      "+    return 0;\n     if (x)\n",
    }
    for iid, text in patches.items():
        os.makedirs(os.path.join(root, "cases", iid))
        with open(os.path.join(root, "cases", iid, "reinject.patch"), "w") as f:
            f.write(f"{iid} re-injected.\n\n" + text)
    got = mt_report.incident_functions(root, os.path.join(root, "none.json"), lambda f: spans)
    check("incident functions: a drifted hunk is found by its text, an insertion-only hunk "
          "counts, each names the function it edits now",
          got == {"INC-DRIFT": {("src/f.c", "b")}, "INC-INSERT": {("src/f.c", "b")}}, got)


def unit_select_functions():
    """--functions keeps exactly the covered points of the named functions,
    and names a function with none."""
    import mutate as mt
    P = type("P", (), {})
    pts = []
    for f, fn in (("a.c", "f"), ("a.c", "g"), ("b.c", "f")):
        for k in range(3):
            p = P()
            p.file, p.function, p.id = f, fn, f"{f}:{fn}:{k}"
            pts.append(p)
    a = argparse.Namespace(ids=None, functions=["a.c:f", "b.c:f"], shard="", seed=1, max=0)
    got = sorted(p.id for p in mt.select(pts, a, {}))
    check("select --functions keeps the named functions' points, every one",
          got == sorted(p.id for p in pts if p.function == "f"), got)
    a.functions = ["a.c:nope"]
    try:
        mt.select(pts, a, {})
        ok = False
    except SystemExit as e:
        ok = "a.c:nope" in str(e)
    check("select --functions names a function with no covered point", ok)


def unit_budget():
    """The budget is the campaign's wall time: set-up and dry runs spend it
    too, so a campaign with 100 s of budget that spent 95 s setting up starts
    no 10 s mutant."""
    import mutate as mt
    now = time.monotonic()
    p = mt.Progress(10, 100, started=now - 95)
    check("budget: set-up time counts, a mutant that would end past it does not start",
          bool(p.over_budget(10)))
    check("budget: a mutant that ends inside it starts", not p.over_budget(4))
    check("budget: 0 is no limit", not mt.Progress(10, 0, started=now - 1e6).over_budget(10))


def unit_memory_tests():
    """A memory judge's tests for a mutant: its covering unit test cases of
    the row's suites (no end-to-end case), fastest first, at most max_tests."""
    import mutate as mt
    tests = [{"id": "u:slow", "suite": "u"}, {"id": "u:fast", "suite": "u"},
             {"id": "u:mid", "suite": "u"}, {"id": "u:other", "suite": "u"},
             {"id": "v:fastest", "suite": "v"}, {"id": "case:x", "suite": "u", "case": "x"}]
    durations = {"u:slow": 9, "u:fast": 1, "u:mid": 5, "u:other": 0.1, "v:fastest": 0.01,
                 "case:x": 0.001}
    cov = ["u:slow", "u:mid", "u:fast", "v:fastest", "case:x"]
    row = {"name": "valgrind", "suites": ["u"], "max_tests": 2}
    got = [t["id"] for t in mt.memory_tests(row, tests, cov, durations)]
    check("memory judge: the max_tests fastest covering unit test cases of its suites",
          got == ["u:fast", "u:mid"], got)
    got = [t["id"] for t in mt.memory_tests(dict(row, max_tests=0), tests, cov, durations)]
    check("memory judge: max_tests 0 runs every covering one, fastest first",
          got == ["u:fast", "u:mid", "u:slow"], got)


def unit_estimate():
    """A campaign that judged part of the code: each stratum weighs by its
    covered points, not by how many of its mutants were judged."""
    def ms(det, surv):
        return [{"status": "Killed"}] * det + [{"status": "Survived"}] * surv
    # f (an incident function): 10 points, all judged, 9 detected; g: 90
    # points, 10 judged, 5 detected. Raw ratio 14/20 = 70%; the code: 54%.
    per_fn = {("a.c", "f"): ms(9, 1), ("a.c", "g"): ms(5, 5)}
    inc = {"INC-X": {("a.c", "f")}}
    e = mt_report.estimate(per_fn, inc, {"a.c:f": 10, "a.c:g": 90})
    check("estimate: strata weighted by covered points (54%, not the raw 70%), with a "
          "standard error from the sampled stratum only",
          e and e["score"] == 54.0 and 0 < e["se"] < 15 and e["mutants_scored"] == 20, e)
    whole = mt_report.estimate(per_fn, inc, {"a.c:f": 10, "a.c:g": 10})
    check("estimate: none when every covered point was judged (the score is exact)",
          whole is None, whole)


def unit_merge_and_schema():
    v = validator()
    a = _doc([("a.c:f:1:24:ror.lt>ge", "Killed"), ("a.c:f:1:24:ror.lt>le", "Survived")])
    b = _doc([("a.c:f:1:24:ror.lt>le", "Survived"), ("a.c:f:1:22:obo.plus1", "Timeout")])
    m = mt_report.merge([a, b])
    ids = sorted(x["id"] for x in m["files"]["a.c"]["mutants"])
    check("merge: union of the shards, each mutant once", ids == sorted(
        ["a.c:f:1:24:ror.lt>ge", "a.c:f:1:24:ror.lt>le", "a.c:f:1:22:obo.plus1"]), ids)
    check("merge: performance adds up", m["performance"]["mutation"] == 2)
    check("merged report validates", not list(v.iter_errors(m)))
    s = mt_report.summary(m, {"INC-X": {("a.c", "f")}}, {})
    check("summary: score = (killed + timeout) / (killed + timeout + survived)",
          s["score"] == round(200 / 3, 1) and s["incidents"]["INC-X"]["total"] == 3, s["score"])
    try:
        mt_report.merge([a, _doc([("a.c:f:1:24:x.y", "Killed")], source="other\n")])
        check("merge: shards of different sources are refused", False)
    except ValueError:
        check("merge: shards of different sources are refused", True)
    bad = json.loads(json.dumps(m))
    bad["files"]["a.c"]["mutants"][0]["status"] = "Dead"
    del bad["thresholds"]
    errs = list(v.iter_errors(bad))
    check("the validator rejects a broken report (bad status, no thresholds)", len(errs) >= 2,
          [e.message for e in errs])
    # The merge script as CI calls it.
    for n, d in (("1", a), ("2", b)):
        with open(os.path.join(ARGS.tmp, f"shard{n}.json"), "w") as f:
            json.dump(d, f)
    out = os.path.join(ARGS.tmp, "merged", "mutation.json")
    p = subprocess.run([PY, os.path.join(MUTATE, "mutate.py"), "merge", "--root", ROOT,
                        "--json", out, os.path.join(ARGS.tmp, "shard1.json"),
                        os.path.join(ARGS.tmp, "shard2.json")], capture_output=True, text=True)
    ok = p.returncode == 0 and os.path.exists(out)
    check("mutate.py merge writes the merged report and summary", ok and os.path.exists(
        os.path.join(ARGS.tmp, "merged", "mutation-summary.json")), p.stderr[-500:])


def unit_profile_targets():
    prof = json.load(open(os.path.join(MUTATE, "profile.json")))
    bad = []
    for s in prof["suites"]:
        b = s["binary"].replace("{build}", "build")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
        p = subprocess.run(["make", "-n", "--no-print-directory", "BUILD=build", b], cwd=ROOT,
                           capture_output=True, text=True, env=env)
        if p.returncode != 0:
            bad.append(f"{b}: {p.stderr.strip()[:200]}")
    check("mutate/profile.json's suite binaries are make targets", not bad, bad)


def _mutate_args(*make_vars):
    """mutate.mk's MUTATE_ARGS as make expands it (nothing is built or run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    p = subprocess.run(["make", "-s", "--no-print-directory", "--eval",
                        "print-mutate-args: ; @echo $(MUTATE_ARGS)", "print-mutate-args"]
                       + list(make_vars), cwd=ROOT, capture_output=True, text=True, env=env)
    return p.stdout


def unit_profile_judges():
    """Every memory judge row of mutate/profile.json gets its flags from
    mutate.mk (a row without them would be off without a word), the scanner
    is make memcheck's, and MUTATE_<NAME>=0 turns that row off."""
    prof = json.load(open(os.path.join(MUTATE, "profile.json")))
    names = [j["name"] for j in prof.get("memory_judges", [])]
    args = _mutate_args()
    # (echo drops the shell's quotes)
    bad = [n for n in names if f"--judge-var {n}:" not in args
           and f"--judge-wrapper {n}=" not in args]
    check("every memory judge of mutate/profile.json (sanitizer, valgrind) gets its flags from "
          "mutate.mk, and the scanner is reports.mk's MEMCHECK_SCAN",
          names == ["sanitizer", "valgrind"] and not bad
          and "--memory-scan mk/memcheck-scan.sh" in args, (names, bad, args[-400:]))
    off = {n: _mutate_args(f"MUTATE_{n.upper()}=0") for n in names}
    check("MUTATE_SANITIZER=0 and MUTATE_VALGRIND=0 each turn their row off, only theirs",
          all(f"--no-judge {n}" in a and not any(f"--no-judge {m}" in a for m in names if m != n)
              for n, a in off.items()), {n: a[-300:] for n, a in off.items()})


def unit_containment():
    """A fork without end stops at the job's pids.max, and nothing outlives it."""
    import mt_suite
    cg = mt_suite.PidsCgroup(f"gapcheck-mutate-test-{os.getpid()}", 8)
    if not cg.path:
        print("skip containment: no writable pids cgroup here (session kill and sweep only)")
        return
    work = os.path.join(ARGS.tmp, "bomb")
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "log")
    try:
        st, secs, rc = mt_suite.run_limited(
            ["sh", "-c", "for i in $(seq 40); do sleep 30 & done; exit 0"], work,
            dict(os.environ), 20, log, cg)
        text = open(log, errors="replace").read()
        check("containment: the 40 forks stop at pids.max (fork fails inside the cgroup)",
              "fork" in text.lower() or "resource" in text.lower(), text[-300:])
        left = open(os.path.join(cg.path, "cgroup.procs")).read().split()
        check("containment: the cgroup is empty after the run", not left, left)
    finally:
        cg.remove()
    check("containment: the cgroup is removed", not os.path.exists(cg.path or "/nonexistent"))


# ---- the smoke run ---------------------------------------------------------------

def run_fixture(root, ids, *extra):
    t0 = time.monotonic()
    p = subprocess.run(run_fixture_argv(root, ids, *extra), capture_output=True, text=True)
    return p, time.monotonic() - t0


def run_fixture_argv(root, ids, *extra):
    return [PY, os.path.join(MUTATE, "mutate.py"), "run", "--root", root,
           "--profile", os.path.join(root, "profile.json"), "--files", "src/*.c",
           "--build", "build", "--work", os.path.join(root, "build", "mutate"),
           "--json", os.path.join(root, "out", "mutation.json"),
           "--equivalents", os.path.join(root, "equivalents.txt"),
           "--incidents", os.path.join(root, "incidents.json"),
           "--jobs", "2", "--timeout-factor", "3", "--timeout-slack", "1",
           "--judge-wrapper", "valgrind=" + ARGS.valgrind, "--memory-scan", ARGS.memory_scan,
           "--ids"] + ids + list(extra)


def smoke():
    root = os.path.join(ARGS.tmp, "fixture")
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(os.path.join(HERE, "fixture"), root)
    pts, _, _ = fixture_points(root)
    want = {"killed": find(pts, "calc_clamp", "ror.lt>ge"),
            "equivalent": find(pts, "calc_max", "ror.ge>gt"),
            "survived": find(pts, "calc_add", "call.drop"),
            "not built": find(pts, "calc_twice", "ret.ok"),
            "timeout": find(pts, "calc_countdown", "aor.subeq>addeq"),
            "sanitizer": next(x for x in pts if x.function == "calc_sum" and x.op == "call.drop"
                              and x.orig.startswith("free(")),
            "valgrind": next(x for x in pts if x.function == "calc_save" and x.op == "call.drop"
                             and x.orig.startswith("memset("))}
    with open(os.path.join(root, "equivalents.txt"), "w") as f:
        f.write(f"{want['equivalent'].id}  # a == b: both operands are the same value\n")
    with open(os.path.join(root, "incidents.json"), "w") as f:
        json.dump({"incidents": {"INC-FX": {"touched": [
            {"file": "src/calc.c", "functions": ["calc_clamp", "calc_add"]}]}}}, f)
    ids = [p.id for p in want.values()]
    p, secs = run_fixture(root, ids)
    check("smoke: mutate run exits 0", p.returncode == 0, (p.stdout + p.stderr)[-1500:])
    try:
        doc = json.load(open(os.path.join(root, "out", "mutation.json")))
        summ = json.load(open(os.path.join(root, "out", "mutation-summary.json")))
    except (OSError, ValueError) as e:
        check("smoke: reports written", False, str(e))
        return
    first_report = os.path.join(ARGS.tmp, "smoke-first-mutation.json")
    shutil.copy(os.path.join(root, "out", "mutation.json"), first_report)
    errs = list(validator().iter_errors(doc))
    check("smoke: mutation.json validates against the mutation-testing-report-schema", not errs,
          [e.message for e in errs[:3]])
    got = {m["id"]: m for m in doc["files"]["src/calc.c"]["mutants"]}
    k = got.get(want["killed"].id, {})
    check("smoke: the clamp mutant is Killed by the test case covering it",
          k.get("status") == "Killed" and k.get("killedBy") == ["fixture:clamp"], k)
    check("smoke: the covering test ran first and alone (coveredBy from gcov, 1 test run)",
          k.get("coveredBy") == ["fixture:clamp"] and k.get("testsCompleted") == 1, k)
    e = got.get(want["equivalent"].id, {})
    check("smoke: the listed equivalent is Ignored and was observed surviving",
          e.get("status") == "Ignored" and "(observed: Survived)" in e.get("statusReason", ""), e)
    s = got.get(want["survived"].id, {})
    check("smoke: the unchecked note() drop Survived", s.get("status") == "Survived", s)
    ntests = summ.get("config", {}).get("tests", 0)
    check("smoke: only its covering tests judged the survivor (judging_tests covering): "
          "fewer tests ran than the fixture has",
          summ.get("config", {}).get("judging_tests") == "covering"
          and s.get("statusReason", "").startswith(f"{len(s.get('coveredBy', []))} tests passed")
          and len(s.get("coveredBy", [])) < ntests,
          (s.get("statusReason"), s.get("coveredBy"), ntests))
    c = got.get(want["not built"].id, {})
    check("smoke: the GC_OK mutant did not build (CompileError, with the compiler's reason)",
          c.get("status") == "CompileError" and "GC_OK" in c.get("statusReason", ""), c)
    t = got.get(want["timeout"].id, {})
    check("smoke: the endless countdown is a Timeout", t.get("status") == "Timeout", t)
    z = got.get(want["sanitizer"].id, {})
    check("smoke: the dropped free() passes every test and is Killed by the sanitizer judge "
          "(LeakSanitizer in the covering test case, rebuilt with ASan+UBSan)",
          z.get("status") == "Killed" and z.get("killedBy") == ["sanitizer:fixture:sum"]
          and "LeakSanitizer" in z.get("statusReason", ""), z)
    v = got.get(want["valgrind"].id, {})
    check("smoke: the dropped memset passes every test and the sanitizers and is Killed by "
          "the Valgrind judge (make memcheck's command and scanner: write() reads "
          "uninitialised padding)",
          v.get("status") == "Killed" and v.get("killedBy") == ["valgrind:fixture:save"]
          and "Valgrind error(s)" in v.get("statusReason", "")
          and "Syscall param write(buf) points to uninitialised byte(s)" in v["statusReason"], v)
    mj = summ.get("config", {}).get("memory_judges", {})
    check("smoke: the memory judges ran only the survivors' covering tests (dry run of "
          "those alone), Valgrind at most max_tests 1 of them, and say what they cost: the "
          "sanitizer judged the 4 survivors of the tests, Valgrind the 3 the sanitizer left",
          sorted(mj) == ["sanitizer", "valgrind"] and mj["valgrind"]["max_tests"] == 1
          and mj["sanitizer"]["survivors_judged"] == 4 and mj["valgrind"]["survivors_judged"] == 3
          and mj["valgrind"]["seconds"] > 0
          and "fixture:stray" not in mj["sanitizer"]["tests"] + mj["valgrind"]["tests"]
          and "fixture:save" in mj["valgrind"]["tests"], mj)
    check("smoke: the summary says which judge detected each mutant",
          summ.get("judges") == {"fixture": 1, "sanitizer": 1, "timeout": 1, "valgrind": 1}
          and summ["killed_by"].get(want["sanitizer"].id) == "sanitizer:fixture:sum"
          and summ["killed_by"].get(want["valgrind"].id) == "valgrind:fixture:save",
          summ.get("judges"))
    check("smoke: score counts killed + timeout over those + survived, equivalent and not "
          "built excluded", summ["score"] == 80.0, summ["score"])
    check("smoke: per-incident score over its functions",
          summ["incidents"].get("INC-FX", {}).get("total") == 2
          and summ["incidents"]["INC-FX"]["score"] == 50.0, summ["incidents"])
    md = open(os.path.join(root, "out", "mutation.md")).read()
    check("smoke: the survivors page shows the survivor with its diff",
          want["survived"].id in md and "-    note(a);" in md and "+    ;" in md)
    sys.path.insert(0, os.path.join(ROOT, "reports", "scripts"))
    import gcr_htmlcheck
    page = os.path.join(root, "out", "mutation.html")
    probs = gcr_htmlcheck.check_page(page)
    check("smoke: the survivors HTML page is well-formed and self-contained (the report's "
          "checker)", not probs and want["survived"].id in open(page).read(), probs)
    check("smoke: progress shows done/total, kill rate, the memory judges' kills and time left",
          "[7/7] kill rate" in p.stdout and "min left" in p.stdout
          and "(memory judges: sanitizer 1, valgrind 1)" in p.stdout, p.stdout[-600:])
    # Each job's scratch tree is back to the original source and object.
    bad = []
    orig = open(os.path.join(root, "src/calc.c"), "rb").read()
    for job in sorted(glob.glob(os.path.join(root, "build", "mutate", "job*"))):
        if open(os.path.join(job, "tree", "src/calc.c"), "rb").read() != orig:
            bad.append(job + ": source")
        keep = os.path.join(job, "pristine", "src/calc.o")
        if not os.path.exists(keep) or open(keep, "rb").read() != open(
                os.path.join(job, "tree", "build", "src/calc.o"), "rb").read():
            bad.append(job + ": object")
    check("smoke: after the run every scratch tree holds the original source and object",
          not bad and glob.glob(os.path.join(root, "build", "mutate", "job*")), bad)
    check("smoke: the fixture's own source was never written",
          orig == open(os.path.join(HERE, "fixture", "src/calc.c"), "rb").read())
    stray = []
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and os.readlink(f"/proc/{d}/cwd").startswith(root):
                stray.append(d)
        except OSError:
            pass
    check("smoke: no process a test left behind (in a group of its own) outlives the run",
          not stray, stray)
    # Resumable/incremental: edit one function, run again.
    src = open(os.path.join(root, "src/calc.c")).read()
    src = src.replace("    note(a);\n", "    note(a);\n    note(0);\n").replace(
        "#include \"calc.h\"\n", "#include \"calc.h\"\n\n")
    with open(os.path.join(root, "src/calc.c"), "w") as f:
        f.write(src)
    pts3, _, _ = fixture_points(root)
    ids3 = [find(pts3, w.function, w.op).id for w in want.values()]
    p3, _ = run_fixture(root, ids3)
    lines3 = [ln for ln in p3.stdout.splitlines() if "] kill rate" in ln]
    cached = [ln for ln in lines3 if "(cached)" in ln]
    check("smoke: a second run after an edit of calc_add takes the 5 other results from the "
          "cache, though their lines moved; calc_add's mutant and the timeout run again",
          len(lines3) == 7 and len(cached) == 5 and not any(
              "calc_add" in ln or "calc_countdown" in ln for ln in cached),
          "\n".join(lines3) or p3.stdout[-800:])
    check("smoke: an equivalent whose code moved is reported as matching no point",
          f"{want['equivalent'].id} matches no mutation point" in p3.stdout, p3.stdout[-800:])
    judge_off(root, find(pts3, "calc_save", "call.drop").id)
    stop_mid_test(root, find(pts3, "calc_countdown", "aor.subeq>addeq").id)
    rejudge_survivors(root, first_report)
    rejudge_survived(root, first_report)
    drifted_equivalent(root)
    unclean_without_mutant(root)
    print(f"smoke: first run {secs:.1f} s")


def judge_off(root, mid):
    """--no-judge valgrind (MUTATE_VALGRIND=0): the dropped memset survives;
    the judges key the cache, so it is judged again, not taken from it."""
    p, secs = run_fixture(root, [mid], "--no-judge", "valgrind")
    print(f"smoke: run without the Valgrind judge {secs:.1f} s")
    try:
        doc = json.load(open(os.path.join(root, "out", "mutation.json")))
        m = next(x for x in doc["files"]["src/calc.c"]["mutants"] if x["id"] == mid)
    except (OSError, ValueError, StopIteration) as e:
        check("smoke: --no-judge valgrind writes a report", False, str(e))
        return
    check("smoke: with the Valgrind judge off (--no-judge valgrind) the dropped memset "
          "Survives its tests and the sanitizer judge, judged afresh (not from the cache)",
          p.returncode == 0 and m["status"] == "Survived" and "(cached)" not in p.stdout
          and "clean under sanitizer" in m["statusReason"]
          and "valgrind" not in doc["config"]["memory_judges"],
          (p.returncode, m, p.stdout[-600:]))


def unclean_without_mutant(root):
    """A memory judge must be clean on the unmutated tree, or its reports
    would be blamed on every survivor: with the memset gone from the source
    itself, a campaign judging a calc_save mutant stops before any mutant
    and names the judge and the test. (The sanitizer is off here: it sees
    nothing in it, and its build would only cost time.)"""
    src = open(os.path.join(root, "src/calc.c")).read()
    with open(os.path.join(root, "src/calc.c"), "w") as f:
        f.write(src.replace("    memset(&rec, 0, sizeof rec);\n", ""))
    pts, _, _ = fixture_points(root)
    p, secs = run_fixture(root, [find(pts, "calc_save", "ror.eq>ne").id], "--no-judge",
                          "sanitizer")
    print(f"smoke: run on a tree Valgrind is not clean on {secs:.1f} s")
    out = p.stdout + p.stderr
    check("smoke: a tree Valgrind is not clean on (no mutant) stops the campaign before any "
          "mutant, naming the judge, the test and the report",
          p.returncode != 0 and "the valgrind judge fails WITHOUT a mutant: fixture:save" in out
          and "uninitialised" in out and "] kill rate" not in out, out[-800:])


def rejudge_survivors(root, first_report):
    """--same-as with --rejudge survivors: the first run's survivor and
    equivalent are judged again; its killed, timed-out and not-built
    mutants are carried over, so the report is whole."""
    p, _ = run_fixture(root, [], "--same-as", first_report, "--rejudge", "survivors")
    try:
        doc = json.load(open(os.path.join(root, "out", "mutation.json")))
    except (OSError, ValueError) as e:
        check("smoke: --rejudge survivors writes a report", False, str(e))
        return
    ms = doc["files"]["src/calc.c"]["mutants"]
    carried = sorted(m["status"] for m in ms if m["statusReason"].startswith("carried from"))
    judged = [ln for ln in p.stdout.splitlines() if "] kill rate" in ln]
    check("smoke: --rejudge survivors judges only the earlier survivor and equivalent (2 "
          "progress lines) and carries the other 5 results into a report of all 7",
          p.returncode == 0 and len(ms) == 7 and len(judged) == 2
          and carried == ["CompileError", "Killed", "Killed", "Killed", "Timeout"]
          and not list(validator().iter_errors(doc)),
          (p.returncode, len(ms), carried, judged, p.stdout[-500:]))


def rejudge_survived(root, first_report):
    """--rejudge survived: only the first run's survivor is judged again; the
    equivalent still listed is carried as well (reported Ignored, saying so).
    The earlier runs moved its line: it is listed under its current id here."""
    eq_path = os.path.join(root, "equivalents.txt")
    with open(eq_path) as f:
        listed = f.read()
    eq_id = find(fixture_points(root)[0], "calc_max", "ror.ge>gt").id
    with open(eq_path, "w") as f:
        f.write(f"{eq_id}  # the larger value either way when equal\n")
    try:
        p, _ = run_fixture(root, [], "--same-as", first_report, "--rejudge", "survived")
    finally:
        with open(eq_path, "w") as f:
            f.write(listed)
    try:
        doc = json.load(open(os.path.join(root, "out", "mutation.json")))
    except (OSError, ValueError) as e:
        check("smoke: --rejudge survived writes a report", False, str(e))
        return
    ms = doc["files"]["src/calc.c"]["mutants"]
    eq = [m for m in ms if m["status"] == "Ignored"]
    judged = [ln for ln in p.stdout.splitlines() if "] kill rate" in ln]
    check("smoke: --rejudge survived judges only the earlier survivor (1 progress line, "
          "Survived) and carries the listed equivalent as Ignored, 'not judged again'",
          p.returncode == 0 and len(ms) == 7 and len(judged) == 1 and "Survived" in judged[0]
          and len(eq) == 1 and "not judged again" in eq[0]["statusReason"]
          and not list(validator().iter_errors(doc)),
          (p.returncode, len(ms), judged, [m["statusReason"] for m in eq], p.stdout[-500:]))
    # A survivor listed as equivalent since (by hand, after the first run) is
    # carried as well: nothing is judged.
    surv_id = find(fixture_points(root)[0], "calc_add", "call.drop").id
    with open(eq_path, "w") as f:
        f.write(f"{eq_id}  # the larger value either way when equal\n"
                f"{surv_id}  # listed for this test\n")
    try:
        p, _ = run_fixture(root, [], "--same-as", first_report, "--rejudge", "survived")
    finally:
        with open(eq_path, "w") as f:
            f.write(listed)
    doc = json.load(open(os.path.join(root, "out", "mutation.json")))
    eq = [m for m in doc["files"]["src/calc.c"]["mutants"] if m["status"] == "Ignored"]
    check("smoke: --rejudge survived carries a survivor listed as equivalent since: nothing "
          "judged, both reported Ignored, 'not judged again'",
          p.returncode == 0 and "] kill rate" not in p.stdout and len(eq) == 2
          and all("not judged again" in m["statusReason"] for m in eq),
          (p.returncode, [m["statusReason"] for m in eq], p.stdout[-500:]))


def drifted_equivalent(root):
    """An entry whose id names another mutant now (lines moved: its id is
    note(a)'s drop, its quoted code note(0);'s, which the edit above put on
    the next line) is not applied: the campaign says which code the id names
    and where its own code went, and judges the mutant the id names, which
    survives and counts, instead of hiding it as Ignored."""
    pts = fixture_points(root)[0]
    drop = {p.orig: p for p in pts if p.function == "calc_add" and p.op == "call.drop"}
    named, quoted = drop["note(a);"], drop["note(0);"]
    eq_path = os.path.join(ARGS.tmp, "drifted-equivalents.txt")
    with open(eq_path, "w") as f:
        f.write(f"{named.id}  `note(0);`  # the note of a zero adds nothing\n")
    p, _ = run_fixture(root, [named.id], "--equivalents", eq_path)
    try:
        doc = json.load(open(os.path.join(root, "out", "mutation.json")))
        summ = json.load(open(os.path.join(root, "out", "mutation-summary.json")))
        m = next(x for x in doc["files"]["src/calc.c"]["mutants"] if x["id"] == named.id)
    except (OSError, ValueError, StopIteration) as e:
        check("smoke: a run with a drifted equivalent writes a report", False, str(e))
        return
    warned = [ln for ln in p.stdout.splitlines() if "WARNING" in ln and named.id in ln]
    check("smoke: an equivalent whose id now names other code is not applied: the campaign "
          "warns (the code the id names, where the quoted code went) and judges that "
          "mutant, which Survives and counts in the score",
          p.returncode == 0 and len(warned) == 1 and "now names `note(a);`" in warned[0]
          and f"that code is now {quoted.id}" in warned[0] and "not applied" in warned[0]
          and m["status"] == "Survived" and summ["score"] == 0.0,
          (p.returncode, warned, m.get("status"), m.get("statusReason"), summ.get("score"),
           p.stdout[-800:]))


def _procs_under(root, name=None):
    out = []
    for d in os.listdir("/proc"):
        try:
            if not d.isdigit() or not os.readlink(f"/proc/{d}/cwd").startswith(root):
                continue
            if name and name not in open(f"/proc/{d}/cmdline", "rb").read().decode("utf-8", "replace"):
                continue
            out.append(int(d))
        except OSError:
            pass
    return out


def stop_mid_test(root, endless_id):
    """SIGTERM while a mutant's test runs (in a session of its own, out of the
    signal's reach): the campaign kills it, removes its cgroups and says how
    to resume."""
    cmd = run_fixture_argv(root, [endless_id])
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # The mutant's test: a test binary in a job's scratch tree still there
    # 0.3 s later (the coverage and dry runs' tests take milliseconds).
    jobs = os.path.join(root, "build", "mutate", "job")
    t_end, running = time.monotonic() + 60, []
    while time.monotonic() < t_end and p.poll() is None and not running:
        seen = _procs_under(jobs, "calc_tests")
        time.sleep(0.3)
        running = [x for x in seen if x in _procs_under(jobs, "calc_tests")]
    p.send_signal(signal.SIGTERM)
    try:
        out, _ = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    # A SIGKILLed process leaves /proc when the kernel has torn it down, which
    # takes a while on a loaded machine: wait for that, up to 10 s.
    t_gone = time.monotonic() + 10
    left = _procs_under(root)
    while left and time.monotonic() < t_gone:
        time.sleep(0.1)
        left = _procs_under(root)
    groups = glob.glob(f"/sys/fs/cgroup/*/gapcheck-mutate-{p.pid}-*") + glob.glob(
        f"/sys/fs/cgroup/gapcheck-mutate-{p.pid}-*")
    check("smoke: SIGTERM while an endless mutant's test runs: the campaign exits 143, kills "
          "the test (no process left in the fixture) and its cgroups, and says how to resume",
          running and p.returncode == 143 and not left and not groups
          and "stopped by signal 15" in out and "resumes" in out,
          (running, p.returncode, left, groups, out[-600:]))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--valgrind", required=True,
                    help="make memcheck's Valgrind command (reports.mk's MEMCHECK_TOOL)")
    ap.add_argument("--memory-scan", required=True,
                    help="make memcheck's scanner (reports.mk's MEMCHECK_SCAN)")
    ARGS = ap.parse_args()
    ARGS.tmp = os.path.abspath(ARGS.tmp)
    ARGS.memory_scan = os.path.abspath(ARGS.memory_scan)
    shutil.rmtree(ARGS.tmp, ignore_errors=True)
    os.makedirs(ARGS.tmp)
    for fn in (unit_points, unit_equivalents, unit_incident_functions, unit_estimate,
               unit_select_functions, unit_memory_tests, unit_budget,
               unit_merge_and_schema, unit_profile_targets, unit_profile_judges,
               unit_containment, smoke):
        try:
            fn()
        except Exception as e:  # a crash of one group is a failure, not the end
            check(f"{fn.__name__} ran to the end", False, repr(e))
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
