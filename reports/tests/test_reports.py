#!/usr/bin/env python3
"""reports: the check-reports step of `make check`. Builds the report model
from the fixtures beside this file (a small results.json, bench.json, lcov
tracefile, re-injection log and results; no verify run needed), renders every
format into a temporary directory and checks them: the page is well-formed,
self-contained and its local links and anchors resolve (our strict parser,
and xmllint --html when installed); verify.json has its documented fields;
junit.xml is well-formed JUnit; the incident's Markdown carries its verdict.
Also checks the parts that decide: coverage totals and gate, timing
comparison (slowdown caught, noise tolerated), verdict logic, and that the
page checker itself catches broken pages. Ends with "N passed, N failed".
"""

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import traceback
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
FX = os.path.join(HERE, "fixtures")
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))

import gcr_htmlcheck  # noqa: E402
import gcr_lcov  # noqa: E402
import gcr_model  # noqa: E402
import gcr_render  # noqa: E402
import gcr_timing  # noqa: E402
import gcreport  # noqa: E402

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def load(name):
    with open(os.path.join(FX, name), encoding="utf-8") as f:
        return json.load(f)


def coverage_summary():
    s = gcr_lcov.summarize(gcr_lcov.parse_info(os.path.join(FX, "coverage.info")))
    s.update({"thresholds": {"lines": 10.0, "branches": 10.0}, "ok": True, "failures": []})
    return s


def model_args(tmp, **over):
    a = {"root": os.path.join(FX, "root"), "build": os.path.join(FX, "build"),
         "stages": os.path.join(FX, "stages"), "results": os.path.join(FX, "results.json"),
         "bench": os.path.join(FX, "bench.json"), "coverage": os.path.join(tmp, "cov.json"),
         "timing": os.path.join(tmp, "timing.json"),
         "incidents": os.path.join(HERE, "..", "incidents.json"), "out": tmp}
    a.update(over)
    return a


def prepare(tmp):
    """Writes the coverage summary and a timing comparison (run vs itself)."""
    with open(os.path.join(tmp, "cov.json"), "w") as f:
        json.dump(coverage_summary(), f)
    base = gcr_timing.make_baseline(load("results.json"), load("bench.json"))
    res = gcr_timing.compare(base, load("results.json"), load("bench.json"),
                             load_thresholds()["timing"])
    with open(os.path.join(tmp, "timing.json"), "w") as f:
        json.dump(res, f)


def load_thresholds():
    with open(os.path.join(HERE, "..", "thresholds.json"), encoding="utf-8") as f:
        return json.load(f)


# ---- coverage -----------------------------------------------------------------

@test
def coverage_totals_and_functions(tmp):
    s = coverage_summary()
    assert s["lines_found"] > 0 and 0 < s["lines"] <= 100, s["lines"]
    assert s["branches_found"] > 0 and s["branches"] is not None
    files = {f["file"]: f for f in s["files"]}
    assert set(files) == {"engine/src/ctx.c", "engine/src/exec.c", "engine/src/pool.c"}, files
    fns = {f["name"]: f for f in files["engine/src/ctx.c"]["functions"]}
    f = fns["gc_ctx_from_state"]
    assert f["calls"] > 0 and f["lines_found"] > 5 and f["line"] < f["end_line"], f
    # Function ranges tile the file: no line counted in two functions.
    total = sum(fn["lines_found"] for fn in files["engine/src/ctx.c"]["functions"])
    assert total <= files["engine/src/ctx.c"]["lines_found"]


@test
def coverage_gate(tmp):
    s = coverage_summary()
    assert gcr_lcov.gate(s, {"lines": s["lines"], "branches": s["branches"]}) == []
    fails = gcr_lcov.gate(s, {"lines": s["lines"] + 0.1, "branches": 0})
    assert len(fails) == 1 and "lines" in fails[0], fails


# ---- timing ------------------------------------------------------------------
# Synthetic runs fed to `gcreport.py compare` as make timings calls it: files on
# disk, reports/thresholds.json, the exit status and timing.json.

# id: (tags, CPU ms per run, wall ms per run); the reference takes ~4.8 ms.
SYNTH = {
    "INC-014.heavy-100mib[thread]": (["heavy", "large"], 310.0, 520.0),
    "INC-014.heavy-100mib[process]": (["heavy", "large"], 350.0, 700.0),
    "INC-014.outputs-readback[process]": (["heavy", "outputs"], 34.0, 60.0),
    "engine.echo[thread]": (["smoke"], 1.2, 2.0),
    "engine.deadline-spin-process[process]": (["failure", "timeout"], 150.0, 204.0),
}
JITTER = (1.00, 1.07, 0.96, 1.12, 1.03)   # run to run, per figure


def synth_results(machine=1.0, engine=None, wall=None, spin=1.0):
    """machine: every CPU figure and the reference slower by this factor (and
    the wall of unpaced cases); engine: {id: factor} on that case's CPU only;
    wall: {id: factor} on its wall only; spin: a spinner's CPU share."""
    engine, wall = engine or {}, wall or {}
    out = []
    for i, (rid, (tags, cpu, w)) in enumerate(SYNTH.items()):
        paced = "timeout" in tags
        samples = []
        for k, j in enumerate(JITTER):
            jr = JITTER[(k + i + 2) % len(JITTER)]   # the reference's own jitter
            c = cpu * (spin if paced else machine * engine.get(rid, 1.0)) * j
            samples.append({"cpu_ms": c, "calib_cpu_ms": 4.8 * machine * jr,
                            "calib_wall_ms": 6.0 * machine * jr,
                            "wall_ms": w * (1.0 if paced else machine) * wall.get(rid, 1.0) * j})
        ws = [x["wall_ms"] for x in samples]
        out.append({"id": rid, "tags": tags, "status": "pass", "passed": True,
                    "runs": len(samples), "samples": samples,
                    "wall_ms": {"min": min(ws), "median": sorted(ws)[2], "max": max(ws)},
                    "cpu_ms": sorted(x["cpu_ms"] for x in samples)[2]})
    return {"schema": "gapcheck-results", "run": {"repeat": 5, "calibrate": True},
            "results": out}


def synth_bench(machine=1.0, worker_read=1.0):
    """A quick bench's gated figures (medians and `_min` bests, as bench.c
    writes them) and their references; machine: everything slower by this
    factor; worker_read: the engine's worker read slower by this factor."""
    m = machine
    b = {"schema": 1, "quick": True,
         "handoff_us": {"thread.100MiB": 95.0 * m, "process.100MiB": 220.0 * m,
                        "thread_warm.100MiB": 14.0 * m, "process_warm.100MiB": 28.0 * m},
         "floors_us": {"thread_wake": 6.0 * m, "process_seqpacket": 17.0 * m},
         "copy_ms": {"pipe_100MiB": 120.0 * m, "zero_copy_100MiB": 14.0 * m},
         "read_gbps": {"one_thread": 7.4 / m, "worker_warm": 7.3 / m / worker_read}}
    for g in ("handoff_us", "floors_us", "copy_ms"):
        b[g + "_min"] = {k: v * 0.8 for k, v in b[g].items()}
    b["read_gbps_min"] = {k: v * 1.05 for k, v in b["read_gbps"].items()}
    return b


def run_compare(tmp, name, results, bench, baseline=None):
    """Writes the run, makes the baseline (`gcreport.py baseline`) unless one
    is given, compares (`gcreport.py compare`); returns (exit status, timing)."""
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    paths = {k: os.path.join(d, k + ".json") for k in ("results", "bench", "timing")}
    for k, v in (("results", results), ("bench", bench)):
        with open(paths[k], "w") as f:
            json.dump(v, f)
    script = os.path.join(HERE, "..", "scripts", "gcreport.py")
    if baseline is None:
        baseline = os.path.join(tmp, "baseline.json")
    p = subprocess.run([sys.executable, script, "compare", "--baseline", baseline,
                        "--thresholds", os.path.join(HERE, "..", "thresholds.json"),
                        "--bench", paths["bench"], "--results", paths["results"],
                        "--out", paths["timing"]], capture_output=True, text=True)
    with open(paths["timing"]) as f:
        return p.returncode, json.load(f), p.stdout


def make_synth_baseline(tmp, results, bench):
    d = os.path.join(tmp, "base")
    os.makedirs(d, exist_ok=True)
    for k, v in (("results", results), ("bench", bench)):
        with open(os.path.join(d, k + ".json"), "w") as f:
            json.dump(v, f)
    script = os.path.join(HERE, "..", "scripts", "gcreport.py")
    subprocess.run([sys.executable, script, "baseline", "--bench", os.path.join(d, "bench.json"),
                    "--results", os.path.join(d, "results.json"),
                    "--out", os.path.join(tmp, "baseline.json")], check=True,
                   capture_output=True)
    with open(os.path.join(tmp, "baseline.json")) as f:
        return json.load(f)


def regressions(timing):
    return sorted(f["name"] for f in timing["figures"] if f["status"] == "regression")


@test
def timing_same_run_is_ok(tmp):
    r, b = load("results.json"), load("bench.json")
    res = gcr_timing.compare(gcr_timing.make_baseline(r, b), r, b, load_thresholds()["timing"])
    assert res["ok"] and res["compared"] > 10 and res["regressions"] == 0, res["regressions"]


@test
def timing_engine_2x_slower_fails_in_each_mode(tmp):
    base = make_synth_baseline(tmp, synth_results(), synth_bench())
    assert base["schema_version"] == 2 and base["figures"]["case:engine.echo[thread]"]["ref"]
    rc, t, out = run_compare(tmp, "same", synth_results(), synth_bench())
    assert rc == 0 and t["ok"] and regressions(t) == [], (rc, regressions(t), out)
    for rid in ("INC-014.heavy-100mib[thread]", "INC-014.heavy-100mib[process]",
                "INC-014.outputs-readback[process]"):
        rc, t, out = run_compare(tmp, "slow", synth_results(engine={rid: 2.0}), synth_bench())
        assert rc == 1 and regressions(t) == ["case:" + rid], (rid, rc, regressions(t))
        assert "regression  case:" + rid in out, out
    # 3x on a 1.2 ms case is below the slack: noise, not a regression.
    rc, t, _ = run_compare(tmp, "tiny", synth_results(engine={"engine.echo[thread]": 3.0}),
                           synth_bench())
    assert rc == 0 and regressions(t) == [], regressions(t)


@test
def timing_machine_1_8x_slower_everywhere_passes(tmp):
    make_synth_baseline(tmp, synth_results(), synth_bench())
    slow = synth_results(machine=1.8, spin=0.5)
    rc, t, out = run_compare(tmp, "machine", slow, synth_bench(machine=1.8))
    assert rc == 0 and t["ok"] and regressions(t) == [], (regressions(t), out)
    big = {f["name"]: f for f in t["figures"]}["case:INC-014.heavy-100mib[thread]"]
    assert big["current"] > 1.7 * big["baseline"] and 0.9 < big["ratio"] < 1.1, big
    # The same slowdown with an engine 2x slower on top is still caught.
    rc, t, _ = run_compare(tmp, "both", synth_results(
        machine=1.8, engine={"INC-014.heavy-100mib[process]": 2.0}), synth_bench(machine=1.8))
    assert rc == 1 and regressions(t) == ["case:INC-014.heavy-100mib[process]"], regressions(t)
    # Control: without the reference, the machine's slowdown would fail the
    # gate; the reference is what cancels it.
    for x in slow["results"]:
        for sm in x["samples"]:
            sm["calib_cpu_ms"] = None
    rc, t, _ = run_compare(tmp, "noref", slow, synth_bench(machine=1.8))
    assert rc == 1 and "case:INC-014.heavy-100mib[thread]" in regressions(t), regressions(t)


@test
def timing_paced_cases_gate_wall_not_cpu(tmp):
    make_synth_baseline(tmp, synth_results(), synth_bench())
    spin = "engine.deadline-spin-process[process]"
    # The spinner got 2.7x more CPU from a quieter scheduler: not the engine's.
    rc, t, _ = run_compare(tmp, "spin", synth_results(spin=2.7), synth_bench())
    row = {f["name"]: f for f in t["figures"]}["case:" + spin]
    assert rc == 0 and row["status"] == "slower (not gated)" and not row["gated"], row
    # A deadline kept late is the engine's.
    rc, t, _ = run_compare(tmp, "late", synth_results(wall={spin: 2.0}), synth_bench())
    assert rc == 1 and regressions(t) == ["wall:" + spin], regressions(t)
    # An unpaced case's wall time is the machine's: 3x, reported, not gated.
    rid = "INC-014.heavy-100mib[thread]"
    rc, t, _ = run_compare(tmp, "wall", synth_results(wall={rid: 3.0}), synth_bench())
    row = {f["name"]: f for f in t["figures"]}["wall:" + rid]
    assert rc == 0 and row["status"] == "slower (not gated)", row


@test
def timing_bench_handoffs_gated_reads_reported(tmp):
    make_synth_baseline(tmp, synth_results(), synth_bench())
    # Handoffs are judged on their best of N: a median hit by the scheduler
    # is noise, a best of N 5 ms late (a copy of 100 MiB) is a regression.
    b = synth_bench()
    b["handoff_us"]["process.100MiB"] *= 25
    rc, t, _ = run_compare(tmp, "handoff-median", synth_results(), b)
    assert rc == 0 and regressions(t) == [], regressions(t)
    b["handoff_us_min"]["process.100MiB"] += 5000
    rc, t, _ = run_compare(tmp, "handoff", synth_results(), b)
    assert rc == 1 and regressions(t) == ["bench:handoff_us.process.100MiB"], regressions(t)
    # The quick bench's reads and copies are the machine's: shown, not gated.
    b = synth_bench(worker_read=4.0)
    b["copy_ms_min"]["pipe_100MiB"] *= 10
    b["copy_ms_min"]["zero_copy_100MiB"] *= 4
    rc, t, _ = run_compare(tmp, "reads", synth_results(), b)
    rows = {f["name"]: f for f in t["figures"]}
    assert rc == 0 and regressions(t) == [], regressions(t)
    for name in ("bench:copy_ms.pipe_100MiB", "bench:copy_ms.zero_copy_100MiB",
                 "bench:read_gbps.worker_warm"):
        assert rows[name]["status"] == "slower (not gated)" and rows[name]["why"], rows[name]


@test
def timing_page_shows_figures_references_and_gating(tmp):
    """The timing section of the page keeps every figure: CPU and wall plots,
    the table with the reference now and then, whether it is gated and why,
    and the regression marked."""
    prepare(tmp)
    make_synth_baseline(tmp, synth_results(), synth_bench())
    rid = "INC-014.heavy-100mib[process]"
    rc, t, _ = run_compare(tmp, "page", synth_results(machine=1.3, engine={rid: 2.0}),
                           synth_bench())
    assert rc == 1
    html = gcr_render.render_html(gcr_model.build(model_args(
        tmp, timing=os.path.join(tmp, "page", "timing.json"))))
    for want in ("Case CPU time (the engine&#x27;s cost)", "Case wall time",
                 "case:" + rid, "wall:engine.deadline-spin-process[process]",
                 "bench:handoff_us.process.100MiB", "(reference CPU ms)",
                 "no: paced (timeout)", "yes: CPU over the in-run reference",
                 "<span class='regression'>regression</span>"):
        assert want in html, want
    assert html.count("<span class='regression'>") == 1, html.count("<span class='regression'>")


@test
def timing_old_baseline_is_refused(tmp):
    base = make_synth_baseline(tmp, synth_results(), synth_bench())
    base["schema_version"] = 1
    old = os.path.join(tmp, "old.json")
    with open(old, "w") as f:
        json.dump(base, f)
    rc, t, out = run_compare(tmp, "old", synth_results(), synth_bench(), baseline=old)
    assert rc == 1 and not t["ok"] and "make baseline" in out, out


@test
def timing_without_baseline_says_so(tmp):
    res = gcr_timing.compare(None, load("results.json"), load("bench.json"), {})
    assert res["ok"] and res["notes"] and all(f["status"] == "new" for f in res["figures"])


# ---- model and verdicts ---------------------------------------------------------

@test
def model_fields_documented(tmp):
    prepare(tmp)
    m = gcr_model.build(model_args(tmp))
    for k in ("passed", "failed", "skipped"):
        assert isinstance(m["summary"][k], int), k
    assert (m["summary"]["passed"], m["summary"]["failed"]) == (138, 0), m["summary"]
    assert isinstance(m["coverage"]["lines"], float) and isinstance(m["coverage"]["branches"], float)
    inc = m["incidents"][0]
    for k in ("id", "verdict", "fix_holds", "sensitive", "claims_hold", "claims"):
        assert k in inc, k
    for c in inc["claims"]:
        assert set(("text", "claimed", "measured", "unit", "holds")) <= set(c), c
    assert inc["id"] == "INC-014"


@test
def verdict_verified_when_all_hold(tmp):
    prepare(tmp)
    inc = gcr_model.build(model_args(tmp))["incidents"][0]
    assert inc["verdict"] == "VERIFIED", inc["verdict"]
    assert inc["fix_holds"] and inc["sensitive"] and inc["claims_hold"] and inc["coverage_ok"]
    assert len(inc["sensitivity"]["caught"]) == 20, inc["sensitivity"]
    assert {c["id"] for c in inc["sensitivity"]["still_pass"]} == {
        "INC-014.empty-zone[thread]", "INC-014.empty-zone[process]",
        "INC-014.missing-entry[thread]", "INC-014.missing-entry[process]"}
    names = {f["name"] for t in inc["touched"] for f in t["functions"]}
    assert {"gc_ctx_from_state", "fill_ctx", "dispatch"} <= names, names


def _with_verdict(tmp, edit, results=None):
    """The model over an edited copy of the fixture's verdict file."""
    b = os.path.join(tmp, "build")
    os.makedirs(os.path.join(b, "verify"), exist_ok=True)
    v = json.load(open(os.path.join(FX, "build", "verify", "INC-014.json")))
    edit(v)
    with open(os.path.join(b, "verify", "INC-014.json"), "w") as f:
        json.dump(v, f)
    over = {"build": b}
    if results:
        over["results"] = results
    return gcr_model.build(model_args(tmp, **over))["incidents"][0]


@test
def verdict_is_rendered_as_written(tmp):
    """The report shows the verdict gapcheck verify wrote, with what is missing."""
    prepare(tmp)

    def edit(v):
        v.update(verdict="NOT VERIFIED", verified=False, sensitive=False,
                 missing=["not sensitive: with INC-014 re-injected no case fails in process mode"])
    inc = _with_verdict(tmp, edit)
    assert inc["verdict"].startswith("NOT VERIFIED: not sensitive"), inc["verdict"]
    assert not inc["verified"] and not inc["sensitive"] and inc["fix_holds"], inc


@test
def report_never_redecides(tmp):
    """A failing case in results.json does not turn a VERIFIED verdict into
    another one (the verdict is decided once, by gapcheck verify), and an
    unmeasured claim is shown as the verdict has it."""
    prepare(tmp)
    r = load("results.json")
    for x in r["results"]:
        x["status"] = "fail"
    p = os.path.join(tmp, "bad-results.json")
    with open(p, "w") as f:
        json.dump(r, f)
    inc = _with_verdict(tmp, lambda v: None, results=p)
    assert inc["verdict"] == "VERIFIED", inc["verdict"]

    def edit(v):
        v["claims"][0].update(measured=None, holds=False)
        v.update(verdict="NOT VERIFIED", verified=False, claims_hold=False,
                 missing=["claim not measured, so not held: 100 MB handed to a worker in 48 ms"])
    inc = _with_verdict(tmp, edit)
    assert not inc["claims_hold"] and inc["claims"][0]["measured"] is None, inc["claims"]
    assert "claim not measured, so not held" in inc["verdict"], inc["verdict"]


@test
def history_checker_outcome_is_rendered(tmp):
    """What gapcheck verify --also recorded (the history cases against the
    re-injected engine) is shown as written; without it, said not run."""
    prepare(tmp)
    inc = _with_verdict(tmp, lambda v: v["reinject"].pop("also", None))
    assert not inc["history"]["ran"] and not inc["history"]["caught"], inc["history"]
    assert "did not run" in gcr_render.render_incident_md(inc, gcr_model.build(model_args(tmp)))

    def edit(v):
        v["reinject"]["also"] = {
            "cases": "cases/history", "caught": True, "caught_thread": 1, "caught_process": 2,
            "results": [{"id": "history.x[thread]", "cell": "caught",
                         "message": "history inconsistent: lost-update"},
                        {"id": "history.x[process]", "cell": "not caught", "message": "ok"}]}
    inc = _with_verdict(tmp, edit)
    h = inc["history"]
    assert h["ran"] and h["caught"] and (h["thread"], h["process"], h["runs"]) == (1, 2, 2), h
    md = gcr_render.render_incident_md(inc, gcr_model.build(model_args(tmp)))
    assert ("The history cases (cases/history, told no bug) caught this re-injection: 1 thread "
            "and 2 process runs of 2 failed; first: history inconsistent: lost-update.") in md, md


@test
def case_rows_carry_gapcheck_verdicts(tmp):
    """Per-case rows (and what the pages count as passed or failing) come from
    results.json's passed/failed, never from the status string."""
    prepare(tmp)
    r = load("results.json")
    first = r["results"][0]
    first.update(passed=False, failed=True)          # status still "pass"
    p = os.path.join(tmp, "verdict-results.json")
    with open(p, "w") as f:
        json.dump(r, f)
    inc = _with_verdict(tmp, lambda v: None, results=p)
    row = next(c for c in inc["cases"] if c["id"] == first["id"])
    assert row["status"] == "pass" and row["failed"] and not row["passed"], row


@test
def no_verdict_file_is_not_verified(tmp):
    prepare(tmp)
    inc = gcr_model.build(model_args(tmp, build=tmp))["incidents"][0]
    assert inc["verdict"].startswith("NOT VERIFIED: no verdict file"), inc["verdict"]
    assert not inc["verified"]


@test
def bench_targets_are_not_claims(tmp):
    """Claims come from the verdict (the incident's case data) only; the bench
    carries no incident's figure."""
    prepare(tmp)
    inc = gcr_model.build(model_args(tmp))["incidents"][0]
    assert inc["claims"] and all(c["source"].startswith("INC-014.") for c in inc["claims"]), \
        inc["claims"]
    assert not any("INC-" in t["text"] for t in load("bench.json")["targets"])


@test
def timing_page_plots_handoff_against_size_with_floors(tmp):
    """bench.json's handoff_curve becomes a plot of both modes, fresh and warm,
    with each mode's floor drawn; without a curve the page says so."""
    prepare(tmp)
    assert "no handoff curve" in gcr_render.render_html(gcr_model.build(model_args(tmp)))
    b = load("bench.json")
    b["handoff_curve"] = {"sizes_mib": [1, 16, 100, 1024],
                          "process": {"fresh_us": [120, 118, 125, 130],
                                      "warm_us": [11, 11, 12, 11], "floor_us": 6.5},
                          "thread": {"fresh_us": [40, 41, 39, 42],
                                     "warm_us": [7, 7, 7, 8], "floor_us": 4.2}}
    b["load"] = {"start": "1.50 1.20 1.00 2/100 1", "end": "1.40 1.20 1.00 2/100 2"}
    p = os.path.join(tmp, "bench-curve.json")
    with open(p, "w") as f:
        json.dump(b, f)
    html = gcr_render.render_html(gcr_model.build(model_args(tmp, bench=p)))
    assert html.count("<polyline") == 4, html.count("<polyline")
    assert "process floor 6.50 us" in html and "thread floor 4.20 us" in html, html
    assert "1 GiB" in html and "16 MiB" in html and "1.50 1.20 1.00" in html


@test
def mutation_summary_shown_when_present(tmp):
    prepare(tmp)
    m = gcr_model.build(model_args(tmp, mutation=os.path.join(tmp, "none.json")))
    assert m["mutation"] is None and m["incidents"][0]["mutation"] is None
    assert "no campaign yet" in gcr_render.render_html(m)
    p = os.path.join(tmp, "mutation-summary.json")
    with open(p, "w") as f:
        json.dump({"score": 87.5, "generated_at": "2026-11-29T23:00:00Z", "commit": "abc123",
                   "command": "make mutate", "survivors": [{"id": "x"}],
                   "totals": {"total": 9, "Killed": 6, "Timeout": 1, "Survived": 1,
                              "Ignored": 1},
                   "incidents": {"INC-014": {"total": 4, "Killed": 3, "Survived": 1,
                                             "score": 75.0, "functions": ["a.c:f"]}}}, f)
    m = gcr_model.build(model_args(tmp, mutation=p))
    assert m["mutation"]["score"] == 87.5 and m["mutation"]["survivors"] == 1, m["mutation"]
    assert m["mutation"]["killed"] == 7 and m["mutation"]["commit"] == "abc123"
    page = gcr_render.render_html(m)
    assert "87.5% of 9 mutants killed, 1 survivors" in page and "abc123" in page, page[:300]
    md = gcr_render.render_incident_md(m["incidents"][0], m)
    assert "75.0% of 4 mutants" in md, md[:600]


@test
def anomaly_counts_shown_when_present(tmp):
    prepare(tmp)
    m = gcr_model.build(model_args(tmp, anomaly=os.path.join(tmp, "none.json")))
    assert m["anomaly"] is None
    assert "no anomaly run recorded" in gcr_render.render_html(m)
    p = os.path.join(tmp, "anomaly.json")
    with open(p, "w") as f:
        json.dump({"schema": "gapcheck-anomaly/1", "mode": "compact",
                   "totals": {"operations": 3, "kinds": 5, "points": 40,
                              "outcomes": {"ENOMEM": 30, "ESYS": 5, "clean": 5}},
                   "sites_failed": 7, "sites_total": 8,
                   "unreached": [{"call": "mprotect", "file": "engine/src/b.c", "line": 9,
                                  "why": "never writable"}]}, f)
    m = gcr_model.build(model_args(tmp, anomaly=p))
    assert m["anomaly"]["points"] == 40 and m["anomaly"]["sites_failed"] == 7, m["anomaly"]
    page = gcr_render.render_html(m)
    assert ("3 operations x 5 injection kinds = 40 injection points (compact); outcomes: "
            "ENOMEM 30, ESYS 5, clean 5; call sites failed: 7 of 8; not reached: mprotect at "
            "engine/src/b.c:9") in page, page[:300]


# ---- renderings ---------------------------------------------------------------

def rendered(tmp):
    prepare(tmp)
    out = os.path.join(tmp, "out")
    os.makedirs(out, exist_ok=True)
    m = gcr_model.build(model_args(tmp, out=out))
    os.makedirs(os.path.join(out, "coverage"), exist_ok=True)
    with open(os.path.join(out, "coverage", "index.html"), "w") as f:
        f.write("<!DOCTYPE html><html><head><title>c</title></head><body></body></html>")
    with open(os.path.join(out, "coverage.xml"), "w") as f:
        f.write("<coverage/>")
    gcreport.render_all(m, out)
    return m, out


@test
def page_well_formed_and_links_resolve(tmp):
    m, out = rendered(tmp)
    page = os.path.join(out, "index.html")
    probs = gcr_htmlcheck.check_page(page)
    assert probs == [], probs
    text = open(page, encoding="utf-8").read()
    p = gcr_htmlcheck.parse(text)
    hrefs = [h for h, _ in p.links]
    assert "#INC-014" not in hrefs or "INC-014" in p.ids
    for want in ("INC-014.md", "verify.json", "junit.xml", "coverage/index.html", "#timings"):
        assert want in hrefs, (want, hrefs)
    assert "VERIFIED" in text and text.count("<svg") >= 3, "verdict or plots missing"
    assert "&lt;contexts&gt;" in text and "<contexts>" not in text, "summary not escaped"


@test
def page_passes_xmllint_html(tmp):
    if not shutil.which("xmllint"):
        print("  (xmllint not installed: libxml2-utils; strict parser only)")
        return
    _, out = rendered(tmp)
    r = subprocess.run(["xmllint", "--html", "--noout", os.path.join(out, "index.html")],
                       capture_output=True, text=True)
    # libxml2's HTML parser knows HTML 4 only: inline SVG elements are reported
    # as unknown tags. Everything else (unclosed, misnested, bad entities) counts.
    errs = [ln for ln in r.stderr.splitlines()
            if "error" in ln and "invalid" not in ln.split("error", 1)[1]]
    assert not errs, "\n".join(errs)


@test
def checker_catches_broken_pages(tmp):
    bad = os.path.join(tmp, "bad.html")
    with open(bad, "w") as f:
        f.write("<!DOCTYPE html><html><head><title>x</title>"
                "<link rel='stylesheet' href='https://cdn.example/x.css'></head><body>"
                "<div id='a'><p>unclosed <b>bold</div><a href='#nowhere'>x</a>"
                "<a href='missing.html'>y</a><a href='https://example.com'>z</a>"
                "<span id='a'></span></body></html>")
    probs = "\n".join(gcr_htmlcheck.check_page(bad))
    for want in ("external resource", "closes <b>", "#nowhere", "missing.html",
                 "external link", "duplicate id"):
        assert want in probs, (want, probs)


@test
def verify_json_and_junit(tmp):
    m, out = rendered(tmp)
    v = json.load(open(os.path.join(out, "verify.json")))
    assert v["schema"] == "gapcheck-verify" and v["incidents"][0]["verdict"] == "VERIFIED"
    assert v["incidents"][0]["matrix"] and v["incidents"][0]["claims"], v["incidents"][0]
    page = open(os.path.join(out, "index.html"), encoding="utf-8").read()
    assert "re-injection x case" in page and "caught (fail)" in page
    root = ET.parse(os.path.join(out, "junit.xml")).getroot()
    assert root.tag == "testsuites"
    n = 0
    for s in root.findall("testsuite"):
        assert int(s.get("tests")) == len(s.findall("testcase")), s.get("name")
        for tc in s.findall("testcase"):
            assert tc.get("name") and tc.get("classname")
            n += 1
    assert n == int(root.get("tests")) and root.get("failures") == "0"
    names = [tc.get("name") for tc in root.iter("testcase")]
    assert "INC-014.handoff-claim[process]" in names and "sensitive" in names


@test
def incident_markdown(tmp):
    _, out = rendered(tmp)
    text = open(os.path.join(out, "INC-014.md"), encoding="utf-8").read()
    lines = text.splitlines()
    assert lines[0].startswith("# INC-014") and lines[2] == "**Verdict: VERIFIED**", lines[:3]
    for h in ("## Summary", "## Fix holds", "## Cases are sensitive", "## Claims hold",
              "## Coverage of the code the incident touched", "## How to reproduce"):
        assert h in lines, h
    assert "gc_ctx_from_state" in text and "caught" not in text.split("## Claims")[0][:0]
    assert "48" in text and "Measured on" in text
    assert "| INC-014.empty-zone | not caught (pass) | not caught (pass) |" in lines, text
    assert "| INC-014.heavy-visible | caught (fail) | caught (fail) |" in lines, text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    a = ap.parse_args()
    passed = failed = 0
    for fn in TESTS:
        tmp = os.path.join(a.tmp, fn.__name__)
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        try:
            fn(tmp)
            print(f"ok   {fn.__name__}")
            passed += 1
        except Exception:  # a failed assert or a crash both count as a failure
            print(f"FAIL {fn.__name__}")
            traceback.print_exc(limit=3, file=sys.stdout)
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
