#!/usr/bin/env python3
"""reports: the command line of gapcheck's reports, called by reports/reports.mk.

  coverage  lcov tracefile -> coverage.json (totals, files, functions) and the
            threshold gate (reports/thresholds.json "coverage")
  compare   results.json + bench.json vs reports/baseline.json -> timing.json,
            exit 1 on a regression or a baseline of another schema version
  baseline  results.json + bench.json -> reports/baseline.json
  verify    every input -> the one model (verify.json) -> index.html,
            junit.xml, <INC>.md; exit 1 unless everything holds
  render    an existing verify.json -> the same renderings (no inputs needed)
  check-html  a page: well-formed, self-contained, local links resolve

Python 3 with the standard library only: the reports are mostly text
(JSON in, HTML/XML/Markdown/SVG out), where html.escape and ElementTree give
correct escaping for free; a C program would hand-roll it.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gcr_htmlcheck  # noqa: E402
import gcr_lcov  # noqa: E402
import gcr_model  # noqa: E402
import gcr_render  # noqa: E402
import gcr_timing  # noqa: E402


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _dump(path, obj):
    _write(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def cmd_coverage(a):
    summary = gcr_lcov.summarize(gcr_lcov.parse_info(a.info, root=os.getcwd()))
    th = (gcr_timing.load_json(a.thresholds) or {}).get("coverage", {})
    fails = gcr_lcov.gate(summary, th)
    summary.update({"thresholds": {k: th.get(k) for k in ("lines", "branches")},
                    "ok": not fails, "failures": fails})
    _dump(a.out, summary)
    print(f"coverage: lines {summary['lines']}% ({summary['lines_hit']}/{summary['lines_found']}),"
          f" branches {summary['branches']}% ({summary['branches_hit']}/"
          f"{summary['branches_found']}); thresholds lines {th.get('lines')}%, branches "
          f"{th.get('branches')}% (reports/thresholds.json)")
    for f in fails:
        print("coverage: FAIL: " + f, file=sys.stderr)
    return 1 if fails else 0


def cmd_compare(a):
    res = gcr_timing.compare(gcr_timing.load_json(a.baseline), gcr_timing.load_json(a.results),
                             gcr_timing.load_json(a.bench),
                             (gcr_timing.load_json(a.thresholds) or {}).get("timing", {}))
    _dump(a.out, res)
    for n in res["notes"]:
        print("timings: note: " + n)
    for r in res["figures"]:
        if r["status"] not in ("ok",):
            norm = (f" = {r['normalised']:.6g} at the baseline's reference "
                    f"({r['ref_what']}: {r['ref']:.6g} now, {r['baseline_ref']:.6g} then)"
                    if r["normalised"] is not None else "")
            print(f"timings: {r['status']:>10}  {r['name']}: {r['current']}{norm} vs baseline "
                  f"{r['baseline']} {r['unit']} (ratio {r['ratio']}, tolerance {r['tolerance']}x"
                  f" + {r['slack']} {r['unit']}{'' if r['gated'] else '; not gated'})")
    print(f"timings: {res['compared']} figures compared with {a.baseline} "
          f"({res['gated_compared']} gated), {res['regressions']} regressions")
    return 0 if res["ok"] else 1


def cmd_baseline(a):
    results = gcr_timing.load_json(a.results)
    bench = gcr_timing.load_json(a.bench)
    if bench is None and results is None:
        print("baseline: neither bench.json nor results.json exists", file=sys.stderr)
        return 1
    base = gcr_timing.make_baseline(results, bench, gcr_model.machine(results))
    _dump(a.out, base)
    print(f"baseline: {len(base['figures'])} figures written to {a.out}; review and commit it")
    return 0


def render_all(model, outdir):
    _dump(os.path.join(outdir, "verify.json"), model)
    _write(os.path.join(outdir, "junit.xml"), gcr_render.render_junit(model))
    for inc in model["incidents"]:
        _write(os.path.join(outdir, f"{inc['id']}.md"), gcr_render.render_incident_md(inc, model))
    # The page last: its links to the other files are checked against the disk.
    _write(os.path.join(outdir, "index.html"), gcr_render.render_html(model, outdir))


def cmd_verify(a):
    model = gcr_model.build(vars(a))
    os.makedirs(a.out, exist_ok=True)
    render_all(model, a.out)
    s = model["summary"]
    print(f"verify: make check {s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped;"
          f" coverage lines {model['coverage']['lines']}%, branches "
          f"{model['coverage']['branches']}%; timing regressions "
          f"{model['timing'].get('regressions')}")
    for inc in model["incidents"]:
        print(f"verify: {inc['id']}: {inc['verdict']}")
    print("verify: mutation score (latest make mutate): "
          + gcr_render.mutation_text(model.get("mutation")))
    print(f"verify: wrote {a.out}/index.html, verify.json, junit.xml, "
          + ", ".join(f"{i['id']}.md" for i in model["incidents"]))
    print("verify: " + ("PASS" if s["ok"] else "FAIL"))
    return 0 if s["ok"] else 1


def cmd_render(a):
    with open(a.model, encoding="utf-8") as f:
        model = json.load(f)
    os.makedirs(a.out, exist_ok=True)
    render_all(model, a.out)
    return 0


def cmd_check_html(a):
    bad = 0
    for page in a.pages:
        probs = gcr_htmlcheck.check_page(page)
        for p in probs:
            print(f"{page}: {p}")
        bad += bool(probs)
    return 1 if bad else 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="gcreport", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("coverage")
    p.add_argument("--info", required=True)
    p.add_argument("--thresholds", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_coverage)
    p = sub.add_parser("compare")
    for k in ("baseline", "thresholds", "bench", "results", "out"):
        p.add_argument("--" + k, required=True)
    p.set_defaults(fn=cmd_compare)
    p = sub.add_parser("baseline")
    for k in ("bench", "results", "out"):
        p.add_argument("--" + k, required=True)
    p.set_defaults(fn=cmd_baseline)
    p = sub.add_parser("verify")
    for k in ("root", "build", "stages", "results", "bench", "coverage", "timing", "incidents",
              "out"):
        p.add_argument("--" + k, required=True)
    p.set_defaults(fn=cmd_verify)
    p = sub.add_parser("render")
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_render)
    p = sub.add_parser("check-html")
    p.add_argument("pages", nargs="+")
    p.set_defaults(fn=cmd_check_html)
    a = ap.parse_args(argv)
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
