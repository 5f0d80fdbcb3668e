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
FAILING = {"fail", "error", "timeout", "crash", "xpass"}
PASSING = {"pass", "xfail"}
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


def sensitivity(build, inc):
    """What the re-injection check (ci/reinject.sh) found for one incident."""
    log_path = os.path.join(build, "check", f"reinject-{inc}.log")
    log = _read(log_path)
    res = _load(os.path.join(build, "reinject", inc, "results", "results.json"))
    out = {"log": log_path if log is not None else None, "ran": log is not None or res is not None,
           "check_passed": None, "caught": [], "still_pass": [], "not_judged": [], "notes": []}
    if log is not None:
        s = last_summary(log)
        out["check_passed"] = bool(s and s[1] == 0 and s[0] > 0)
        out["notes"] = [ln for ln in log.splitlines()
                        if ln.startswith(f"reinject {inc}:") and ("FAILED" in ln or "OK" in ln)]
    for r in (res or {}).get("results", []):
        item = {"id": r["id"], "status": r["status"], "message": r.get("message", "")}
        if r["status"] in ("fail", "timeout", "crash"):
            out["caught"].append(item)
        elif r["status"] in PASSING:
            out["still_pass"].append(item)
        else:
            out["not_judged"].append(item)
    if res is None and log:
        for m in re.finditer(r"^  caught by (\S+): (\w+): (.*)$", log, re.M):
            out["caught"].append({"id": m.group(1), "status": m.group(2), "message": m.group(3)})
    out["sensitive"] = bool(out["caught"]) and out["check_passed"] is not False
    return out


def incident(root, build, inc, spec, results, bench, coverage, mach):
    title, summary = incident_text(root, inc)
    cases = [r for r in (results or {}).get("results", []) if r.get("incident") == inc]
    failing = [r for r in cases if r["status"] in FAILING]
    skipped = [r for r in cases if r["status"] == "skip"]
    fix_holds = bool(cases) and not failing and not skipped
    sens = sensitivity(build, inc)
    # Claims live only in case data. A claim holds only when it was measured
    # (a figure, not null) in a run that passed: a claim the run never reached,
    # or one of a case that failed or is xfail, is not held. The bench's own
    # targets are limits fixed in C, not the incident's claims: they are
    # reported under "bench", never counted here.
    claims = []
    for r in cases:
        for c in r.get("claims", []):
            measured = c.get("measured")
            claims.append({"text": c["text"], "claimed": c["claimed"], "measured": measured,
                           "unit": c["unit"], "source": r["id"], "metric": c.get("metric", ""),
                           "holds": bool(c["holds"]) and measured is not None
                           and r["status"] == "pass"})
    claims_hold = bool(claims) and all(c["holds"] for c in claims)
    touched = touched_coverage(spec.get("touched", []), patch_touches(root, inc), coverage)
    coverage_ok = bool(touched) and all(
        t["measured"] and (t["lines_hit"] or 0) > 0 and all(f["measured"] and f["calls"] > 0
                                                             for f in t["functions"])
        for t in touched)
    missing = []
    if not cases:
        missing.append("fix not shown: no case of the incident ran")
    elif failing or skipped:
        missing.append(f"fix does not hold: {len(failing)} failing and {len(skipped)} skipped "
                       f"of {len(cases)} case runs")
    if not sens["ran"]:
        missing.append(f"sensitivity not shown: no re-injection run "
                       f"(expected {build}/check/reinject-{inc}.log)")
    elif not sens["sensitive"]:
        missing.append("cases not sensitive: with the bug re-injected no case failed")
    if not claims:
        missing.append("claims not measured")
    elif not claims_hold:
        missing.append(f"claims do not hold: {sum(not c['holds'] for c in claims)} of "
                       f"{len(claims)} missed")
    if not touched or not any(t["measured"] for t in touched):
        missing.append("coverage of the touched code not measured (run make coverage)")
    elif not coverage_ok:
        missing.append("touched code not fully exercised: " + ", ".join(
            f"{t['file']}:{f['name']}" for t in touched for f in t["functions"]
            if not f["measured"] or f["calls"] == 0) or "a touched file has no executed line")
    verified = not missing
    filt = f"'{inc}.*'"
    mk = "make" if build in ("build", "build/") else f"make BUILD={build}"
    return {
        "id": inc, "title": title or spec.get("title", ""), "summary": summary,
        "verdict": "VERIFIED" if verified else "NOT VERIFIED: " + "; ".join(missing),
        "verified": verified, "missing": missing,
        "fix_holds": fix_holds, "sensitive": sens["sensitive"], "claims_hold": claims_hold,
        "coverage_ok": coverage_ok,
        "cases": [_case_row(r) for r in cases],
        "sensitivity": sens, "claims": claims, "machine": mach, "touched": touched,
        "reproduce": [
            f"{mk} check   # unit tests, every case, re-injection check",
            f"{build}/gapcheck run cases/{inc} --repeat 5 --output reports/run   # fix holds, timings",
            f"ci/reinject.sh --build {build} {inc}   # sensitivity: log in "
            f"{build}/check/reinject-{inc}.log",
            f"GC_BENCH_QUICK=1 {build}/engine/bench/bench reports/bench.json   # bench targets (reported, not claims)",
            f"{mk} coverage   # touched code: reports/coverage/index.html",
            f"{mk} verify   # all of it: reports/{inc}.md, reports/index.html",
        ] + [f"{r['replay']}   # replay {r['id']}" for r in cases
             if r["status"] in FAILING and r.get("replay")][:5],
        "filter": filt,
    }


def _case_row(r):
    w = r.get("wall_ms") or {}
    return {"id": r["id"], "incident": r.get("incident", ""), "mode": r.get("mode", ""),
            "title": r.get("title", ""), "status": r["status"], "message": r.get("message", ""),
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


def build(args):
    """args: root, build, stages, results, bench, coverage, timing, incidents."""
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
    ids = sorted(set(specs.get("incidents", {})) |
                 {os.path.basename(os.path.dirname(p)) for p in
                  glob.glob(os.path.join(args["root"], "cases", "INC-*", "INCIDENT.md"))})
    incs = [incident(args["root"], args["build"], i, specs.get("incidents", {}).get(i, {}),
                     results, bench, coverage, mach) for i in ids]
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
                  "command": (bench or {}).get("command")} if bench else None,
        "results_source": results_src,
        "run": (results or {}).get("run"),
        "cases": [_case_row(r) for r in (results or {}).get("results", [])],
        "incidents": incs,
    }
