"""reports: the ONE report model. Reads what a verify run left behind (make
check's logs, results.json, bench.json, the coverage summary, the timing
comparison, the re-injection runs, each incident's folder) and builds one
dict, written as reports/verify.json; the HTML page, the JUnit file and the
per-incident Markdown are renderings of this dict and nothing else, so they
cannot disagree. Field meanings are documented in reports/README.md.

An incident is VERIFIED only when four things hold: the fix holds (every case
of the incident passes, none skipped), the cases are sensitive (with the bug
re-injected at least one case fails), the claims hold (each claimed figure is
measured and within its limit) and the code the incident touched is covered
(every named function ran under the cases and tests). Otherwise the verdict
lists what is missing.
"""

import datetime
import glob
import json
import os
import platform
import re

SCHEMA_VERSION = 1
SUMMARY_RE = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$")


def _load(path):
    if not path or not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _read(path):
    if not path or not os.path.exists(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def last_summary(text):
    """The last "N passed, N failed[, N skipped]" line of a log, as a tuple."""
    found = None
    for line in (text or "").splitlines():
        m = SUMMARY_RE.match(line.strip())
        if m:
            found = (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    return found


def machine(results):
    run = (results or {}).get("run") or {}
    cpu = ""
    text = _read("/proc/cpuinfo") or ""
    m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    if m:
        cpu = m.group(1).strip()
    mem = ""
    m = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo") or "", re.M)
    if m:
        mem = f"{int(m.group(1)) / 1048576:.1f} GiB"
    return {"host": run.get("host") or platform.node(),
            "kernel": run.get("kernel") or f"{platform.system()} {platform.release()}",
            "cores": run.get("cores") or os.cpu_count(), "cpu": cpu, "memory": mem}


# ---- incidents -----------------------------------------------------------------

def incident_text(root, inc):
    """Title and the summary paragraph from cases/<ID>/INCIDENT.md."""
    text = _read(os.path.join(root, "cases", inc, "INCIDENT.md")) or ""
    title = ""
    m = re.search(r"^title:\s*(.+)$", text, re.M)
    if m:
        title = m.group(1).strip()
    summary = ""
    m = re.search(r"^##\s*(?:\d+\.\s*)?Summary\s*\n(.*?)(?=^#|\Z)", text, re.M | re.S)
    if m:
        summary = " ".join(m.group(1).split())
    return title, summary


def patch_touches(root, inc):
    """{file: [old-side line numbers changed]} from cases/<ID>/reinject.patch."""
    text = _read(os.path.join(root, "cases", inc, "reinject.patch"))
    out = {}
    cur, ln = None, 0
    for line in (text or "").splitlines():
        if line.startswith("--- a/"):
            cur = line[6:].split("\t")[0]
            out.setdefault(cur, [])
        elif line.startswith("+++ "):
            continue
        elif line.startswith("@@") and cur:
            m = re.match(r"@@ -(\d+)", line)
            ln = int(m.group(1)) if m else 0
        elif cur and ln:
            if line.startswith("-"):
                out[cur].append(ln)
                ln += 1
            elif line.startswith(" "):
                ln += 1
    return out


def _fn_covering(fileinfo, line):
    for fn in (fileinfo or {}).get("functions", []):
        if fn["line"] <= line <= fn["end_line"]:
            return fn["name"]
    return None


def touched_coverage(spec, patch, coverage):
    """Coverage rows of the files/functions an incident touched: those named in
    reports/incidents.json, plus the functions its re-injection patch edits."""
    files = {f["file"]: f for f in (coverage or {}).get("files", [])}
    wanted = {}
    for t in spec:
        wanted.setdefault(t["file"], {"why": t.get("why", ""), "functions": []})
        for fn in t.get("functions", []):
            if fn not in wanted[t["file"]]["functions"]:
                wanted[t["file"]]["functions"].append(fn)
    for path, lines in patch.items():
        w = wanted.setdefault(path, {"why": "edited by the re-injection patch", "functions": []})
        for ln in lines:
            fn = _fn_covering(files.get(path), ln)
            if fn and fn not in w["functions"]:
                w["functions"].append(fn)
    rows = []
    for path, w in wanted.items():
        f = files.get(path)
        row = {"file": path, "why": w["why"], "measured": f is not None,
               "lines": f["lines"] if f else None, "branches": f["branches"] if f else None,
               "lines_hit": f["lines_hit"] if f else 0, "lines_found": f["lines_found"] if f else 0,
               "branches_hit": f["branches_hit"] if f else 0,
               "branches_found": f["branches_found"] if f else 0, "functions": []}
        fns = {fn["name"]: fn for fn in (f or {}).get("functions", [])}
        for name in w["functions"]:
            fn = fns.get(name)
            row["functions"].append({
                "name": name, "measured": fn is not None,
                "calls": fn["calls"] if fn else 0, "lines": fn["lines"] if fn else None,
                "branches": fn["branches"] if fn else None,
                "lines_hit": fn["lines_hit"] if fn else 0,
                "lines_found": fn["lines_found"] if fn else 0,
                "branches_hit": fn["branches_hit"] if fn else 0,
                "branches_found": fn["branches_found"] if fn else 0})
        rows.append(row)
    return rows


def verdict_file(build, inc):
    """The verdict `gapcheck verify` wrote for one incident (None when absent)."""
    return _load(os.path.join(build, "verify", f"{inc}.json"))


def incident(root, build, inc, spec, results, bench, coverage, mach):
    """One incident as the report shows it. The verdict, its parts (fix holds,
    sensitive, claims hold), the claims and the re-injection matrix are
    rendered from the verdict file `gapcheck verify` wrote; nothing here
    decides them again. Coverage of the touched code is information beside
    the verdict (the coverage gate is its own stage)."""
    title, summary = incident_text(root, inc)
    v = verdict_file(build, inc)
    vpath = os.path.join(build, "verify", f"{inc}.json")
    by_id = {r["id"]: r for r in (results or {}).get("results", []) if r.get("incident") == inc}
    if v is None:
        v = {"verdict": "NOT VERIFIED", "verified": False, "fix_holds": False,
             "sensitive": False, "claims_hold": False, "errors": [],
             "missing": [f"no verdict file {vpath} (run gapcheck verify)"],
             "fix": [], "reinject": {}, "claims": [], "matrix": []}
    missing = list(v.get("errors", [])) + list(v.get("missing", []))
    verdict = v["verdict"] + (": " + "; ".join(missing) if missing and not v["verified"] else "")
    cases = []
    for f in v.get("fix", []):
        r = by_id.get(f["id"], {})
        row = _case_row(dict(r, **f))
        row["in_results"] = bool(r)
        cases.append(row)
    rj = v.get("reinject", {})
    re_rows = rj.get("results", [])

    def pick(cell):
        return [{"id": x["id"], "status": x["status"], "message": x.get("message", "")}
                for x in re_rows if x.get("cell") == cell]
    sens = {"log": rj.get("build_log"), "ran": bool(re_rows), "patch": rj.get("patch"),
            "affects": rj.get("affects", []), "changed": rj.get("changed", []),
            "caught": pick("caught"), "still_pass": pick("not caught"),
            "not_judged": pick("not judged") + pick("not run"),
            "sensitive": bool(v.get("sensitive"))}
    # gapcheck verify --also: the history cases (told no bug) on this
    # re-injected engine, as the verdict recorded them.
    also = rj.get("also") or {}
    first = next((x.get("message", "") for x in also.get("results", [])
                  if x.get("cell") == "caught"), "")
    history = {"ran": bool(also.get("results")), "cases": also.get("cases", ""),
               "caught": also.get("caught") is True, "thread": also.get("caught_thread", 0),
               "process": also.get("caught_process", 0), "runs": len(also.get("results", [])),
               "first": first}
    claims = [{"text": c["text"], "claimed": c["claimed"], "measured": c["measured"],
               "unit": c["unit"], "metric": c.get("metric", ""), "holds": c["holds"],
               "source": f"{c['case_id']}[{c['mode']}]"} for c in v.get("claims", [])]
    touched = touched_coverage(spec.get("touched", []), patch_touches(root, inc), coverage)
    coverage_ok = bool(touched) and all(
        t["measured"] and (t["lines_hit"] or 0) > 0 and all(f["measured"] and f["calls"] > 0
                                                             for f in t["functions"])
        for t in touched)
    filt = f"'{inc}.*'"
    mk = "make" if build in ("build", "build/") else f"make BUILD={build}"
    return {
        "id": inc, "title": title or v.get("title") or spec.get("title", ""), "summary": summary,
        "verdict": verdict, "verified": bool(v["verified"]), "missing": missing,
        "fix_holds": bool(v["fix_holds"]), "sensitive": bool(v["sensitive"]),
        "claims_hold": bool(v["claims_hold"]), "coverage_ok": coverage_ok,
        "verdict_file": vpath, "cases": cases, "sensitivity": sens, "history": history,
        "claims": claims,
        "matrix": v.get("matrix", []), "machine": mach, "touched": touched,
        "reproduce": [
            f"{mk} check   # unit tests, every case, every incident's verification",
            f"{build}/gapcheck verify {inc}   # the verdict: {vpath}",
            f"{build}/gapcheck run cases/{inc} --repeat 5 --output reports/run   # timings",
            f"{mk} coverage   # touched code: reports/coverage/index.html",
            f"{mk} verify   # all of it: reports/{inc}.md, reports/index.html",
        ] + [f"{r['replay']}   # replay {r['id']}" for r in cases
             if r["failed"] and r.get("replay")][:5],
        "filter": filt,
    }


def _case_row(r):
    w = r.get("wall_ms") or {}
    return {"id": r["id"], "incident": r.get("incident", ""), "mode": r.get("mode", ""),
            "title": r.get("title", ""), "status": r["status"],
            # gapcheck's verdicts (results.json); a row with no result passed nothing.
            "passed": bool(r.get("passed")), "failed": bool(r.get("failed", True)),
            "message": r.get("message", ""),
            "runs": r.get("runs", 0), "wall_ms": {"min": w.get("min"), "median": w.get("median"),
                                                  "max": w.get("max")},
            "tags": r.get("tags", []), "replay": r.get("replay", "")}


# ---- the whole model --------------------------------------------------------------

def check_totals(build, stages_dir):
    """make check's totals: its stage log's last summary line, else its step logs."""
    s = last_summary(_read(os.path.join(stages_dir or "", "check.log")))
    if s is None:
        p = f = k = 0
        seen = False
        for log in sorted(glob.glob(os.path.join(build, "check", "*.log"))):
            text = _read(log)
            one = last_summary(text)
            m = re.findall(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)", text or "")
            if m:
                n, fa, er = map(int, m[-1])
                p, f, seen = p + n - fa - er, f + fa + er, True
            elif one:
                p, f, k, seen = p + one[0], f + one[1], k + one[2], True
        s = (p, f, k) if seen else None
    return s


def stages(stages_dir):
    out = {}
    for rc in sorted(glob.glob(os.path.join(stages_dir or "", "*.rc"))):
        name = os.path.basename(rc)[:-3]
        out[name] = "ok" if (_read(rc) or "").strip() == "0" else "failed"
    return out


def mutation(path):
    """The latest `make mutate` summary (mutate/mt_report.py writes it), shown
    as it is: a campaign is not part of verify, so it decides no verdict."""
    s = _load(path)
    if not s:
        return None
    t = s.get("totals") or {}
    return {"score": s.get("score"), "mutants": t.get("total", 0),
            "killed": t.get("Killed", 0) + t.get("Timeout", 0), "survivors": t.get("Survived", 0),
            "equivalent": t.get("Ignored", 0), "generated_at": s.get("generated_at"),
            "commit": s.get("commit"), "command": s.get("command"),
            "incidents": s.get("incidents") or {}}


def anomaly(path):
    """The anomaly loops' counts (engine/tests/anomaly/record.py writes them
    under the build dir, "gapcheck-anomaly/1"), shown as they are: make check
    already failed if a loop or the call-site gate did, so they decide no
    verdict here."""
    a = _load(path)
    if not a:
        return None
    t = a.get("totals") or {}
    return {"mode": a.get("mode"), "operations": t.get("operations", 0),
            "kinds": t.get("kinds", 0), "points": t.get("points", 0),
            "outcomes": t.get("outcomes") or {}, "sites_failed": a.get("sites_failed", 0),
            "sites_total": a.get("sites_total", 0),
            "unreached": [f"{u['call']} at {u['file']}:{u['line']}" for u in
                          a.get("unreached") or []]}


def build(args):
    """args: root, build, stages, results, bench, coverage, timing, incidents;
    optional mutation (default reports/mutation-summary.json under root) and
    anomaly (default anomaly/anomaly.json under build)."""
    results = _load(args["results"])
    if results is None:
        results = _load(os.path.join(args["build"], "check", "cases-run", "results.json"))
        results_src = "make check (single run)" if results else None
    else:
        results_src = args["results"]
    bench = _load(args["bench"])
    coverage = _load(args["coverage"])
    timing = _load(args["timing"])
    specs = _load(args["incidents"]) or {}
    mach = machine(results)
    # An incident is its folder (cases/README.md); incidents.json only adds
    # the code it touched, so an entry there never makes an incident.
    ids = sorted({os.path.basename(os.path.dirname(p)) for p in
                  glob.glob(os.path.join(args["root"], "cases", "INC-*", "INCIDENT.md"))})
    incs = [incident(args["root"], args["build"], i, specs.get("incidents", {}).get(i, {}),
                     results, bench, coverage, mach) for i in ids]
    mut = mutation(args.get("mutation") or
                   os.path.join(args["root"], "reports", "mutation-summary.json"))
    for i in incs:
        i["mutation"] = (mut or {}).get("incidents", {}).get(i["id"])
    totals = check_totals(args["build"], args.get("stages"))
    st = stages(args.get("stages"))
    rsum = (results or {}).get("summary") or {}
    cov_ok = bool(coverage) and coverage.get("ok", False)
    tim_ok = bool(timing) and timing.get("ok", False)
    ok = (totals is not None and totals[1] == 0 and all(v == "ok" for v in st.values())
          and all(i["verified"] for i in incs) and cov_ok and tim_ok)
    return {
        "schema": "gapcheck-verify", "schema_version": SCHEMA_VERSION,
        "generated_at": datetime.datetime.now(datetime.timezone.utc)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": mach,
        "summary": {
            "passed": totals[0] if totals else 0, "failed": totals[1] if totals else 0,
            "skipped": totals[2] if totals else 0, "source": "make check" if totals else None,
            "ok": ok, "stages": st,
            "cases": {k: rsum.get(k, 0) for k in ("total", "passed", "failed", "skipped")},
            "incidents_verified": sum(i["verified"] for i in incs), "incidents": len(incs),
        },
        "coverage": {k: (coverage or {}).get(k) for k in
                     ("lines", "branches", "functions", "lines_hit", "lines_found",
                      "branches_hit", "branches_found", "thresholds", "ok", "failures")}
        | {"measured": coverage is not None,
           "files": [{k: f[k] for k in ("file", "lines", "branches", "lines_hit", "lines_found",
                                        "branches_hit", "branches_found")}
                     for f in (coverage or {}).get("files", [])]},
        "timing": timing or {"ok": False, "figures": [], "notes": ["no timing comparison ran"],
                             "regressions": 0, "compared": 0},
        "bench": {"quick": (bench or {}).get("quick"), "targets": (bench or {}).get("targets", []),
                  "command": (bench or {}).get("command"),
                  "curve": (bench or {}).get("handoff_curve"),
                  "load": (bench or {}).get("load")} if bench else None,
        "results_source": results_src,
        "run": (results or {}).get("run"),
        "cases": [_case_row(r) for r in (results or {}).get("results", [])],
        "incidents": incs,
        "mutation": mut,
        "anomaly": anomaly(args.get("anomaly") or
                           os.path.join(args["build"], "anomaly", "anomaly.json")),
    }
