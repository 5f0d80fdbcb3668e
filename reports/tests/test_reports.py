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

@test
def timing_same_run_is_ok(tmp):
    r, b = load("results.json"), load("bench.json")
    res = gcr_timing.compare(gcr_timing.make_baseline(r, b), r, b, load_thresholds()["timing"])
    assert res["ok"] and res["compared"] > 10 and res["regressions"] == 0, res["regressions"]


@test
def timing_slowdown_fails_noise_does_not(tmp):
    r, b = load("results.json"), load("bench.json")
    base = gcr_timing.make_baseline(r, b)
    slow = copy.deepcopy(r)
    big = max(slow["results"], key=lambda x: x["wall_ms"]["median"])
    big["wall_ms"]["median"] = base["figures"]["case:" + big["id"]]["value"] * 3 + 20
    tiny = min(slow["results"], key=lambda x: x["wall_ms"]["median"])
    tiny["wall_ms"]["median"] *= 3          # 3x but far below the slack: noise
    res = gcr_timing.compare(base, slow, b, load_thresholds()["timing"])
    bad = [f["name"] for f in res["figures"] if f["status"] == "regression"]
    assert bad == ["case:" + big["id"]], bad
    slowb = copy.deepcopy(b)
    slowb["read_gbps"]["worker_warm"] /= 4   # higher is better: a quarter is a regression
    slowb["copy_ms"]["pipe_100MiB"] *= 10    # the machine's pipe: reported, not gated
    res = gcr_timing.compare(base, r, slowb, load_thresholds()["timing"])
    bad = [f["name"] for f in res["figures"] if f["status"] == "regression"]
    assert bad == ["bench:read_gbps.worker_warm"], bad
    assert not res["ok"]


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
