"""mt_report: the campaign's outputs, all derived from one document.

mutation.json follows the mutation-testing-report-schema (Stryker's
mutation-testing-elements, schema 2; vendored in mutate/schema/). Everything
else is computed from it, so a merge of CI shards (merge()) gives the same
summary a single run would:
  mutation-summary.json  score per file, per function, per incident, the
                         survivors, date, commit (what `make verify` shows)
  mutation.md / .html    the survivors with their diff, readable
Score = killed + timed out over killed + timed out + survived (Stryker's
"mutation score of covered code"); equivalent mutants (status Ignored, listed
in mutate/equivalents.txt) and mutants that did not build are not counted.
"""

import datetime
import html
import json
import os
import re

SCHEMA_VERSION = "2"
DETECTED = ("Killed", "Timeout")
UNDETECTED = ("Survived", "NoCoverage")


def parse_id(mid):
    f, fn, line, col, op = mid.split(":")
    return {"file": f, "function": fn, "line": int(line), "col": int(col), "op": op}


def code_key(text):
    """A point's original code as equivalents.txt quotes it: whitespace runs
    as one space (a statement may span lines)."""
    return " ".join(text.split())


def load_equivalents(path, codes=None):
    """{id: reason} from the checked-in list, one per line:
    `<id>  `<the code it mutates>`  # <reason>`. codes, a dict, receives
    {id: quoted code} (None where a line quotes none): a listed id names a
    line and column, which move when code is edited above them, so the
    quoted code is what proves an entry still names the mutant it was
    written for (check_equivalents)."""
    out, errors = {}, []
    if not os.path.exists(path):
        return out, errors
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            head, sep, reason = s.partition("  # ")
            if not sep:
                head, sep, reason = s.partition("#")
            mid, _, code = head.strip().partition(" ")
            mid, reason, code = mid.strip(), reason.strip(), code.strip()
            if not sep or not reason:
                errors.append(f"{path}:{n}: an equivalent mutant needs a reason: "
                              "`<id>  `<code>`  # why`")
                continue
            try:
                parse_id(mid)
            except ValueError:
                errors.append(f"{path}:{n}: not a mutant id "
                              f"(file:function:line:column:operator): {mid}")
                continue
            if code and not (len(code) >= 2 and code[0] == code[-1] == "`"):
                errors.append(f"{path}:{n}: {mid}: the code it mutates goes in backticks "
                              f"between the id and the reason: {code}")
                continue
            if mid in out:
                errors.append(f"{path}:{n}: {mid} listed twice")
            out[mid] = reason
            if codes is not None:
                codes[mid] = code_key(code[1:-1]) if code else None
    return out, errors


def check_equivalents(points, equivalents, codes, files, require_code=False):
    """Problems of the listed equivalents among `files`' points, as (id,
    message) pairs: an id that
    names no point, or names one whose code is not the quoted code (the
    lines moved: the entry now names another mutant, which it must not
    hide). Where the quoted code is found once more in the same function
    with the same operator, the message gives that point's id."""
    by_id = {p.id: p for p in points}
    out = []
    for mid in sorted(equivalents):
        f = parse_id(mid)
        if f["file"] not in files:
            continue
        p, code = by_id.get(mid), codes.get(mid)
        if code is None:
            if require_code:
                out.append((mid, f"{mid}: quotes no code "
                                 "(`mutate.py equivalents --stamp` adds it)"))
            if p is None:
                out.append((mid, f"{mid} matches no mutation point (the code moved or changed)"))
            continue
        if p is not None and code_key(p.orig) == code:
            continue
        moved = [q.id for q in points if q.file == f["file"] and q.function == f["function"]
                 and q.op == f["op"] and code_key(q.orig) == code]
        now = f": now names `{code_key(p.orig)}`" if p else " matches no mutation point"
        out.append((mid, f"{mid}{now}, listed for `{code}`"
                    + (f"; that code is now {moved[0]}" if len(moved) == 1 else "")))
    return out


def stryker(points, results, sources, tests, meta, equivalents):
    """The standard report. points: [Point]; results: {id: result dict}."""
    files = {}
    for p in points:
        r = results.get(p.id)
        if r is None:
            continue  # not run (budget, shard): not in this report
        m = {"id": p.id, "mutatorName": p.mutator, "replacement": p.repl,
             "description": f"{p.function}: `{p.orig}` -> `{p.repl}`",
             "location": {"start": {"line": p.line, "column": p.col},
                          "end": {"line": p.end_line, "column": p.end_col}},
             "status": r["status"], "statusReason": r.get("statusReason", ""),
             "killedBy": r.get("killedBy", []), "coveredBy": r.get("coveredBy", []),
             "testsCompleted": r.get("testsCompleted", 0), "duration": r.get("duration", 0)}
        if p.id in equivalents:
            m["status"] = "Ignored"
            m["statusReason"] = "equivalent: " + equivalents[p.id] + (
                f" (carried from {r['carried_from']}, not judged again)" if "carried_from" in r
                else f" (observed: {r['status']})")
        files.setdefault(p.file, {"language": "c", "source": sources[p.file], "mutants": []})
        files[p.file]["mutants"].append(m)
    test_files = {}
    for t in tests:
        test_files.setdefault(t["suite"], {"tests": []})["tests"].append(
            {"id": t["id"], "name": t["id"]})
    return {"$schema": "https://git.io/mutation-testing-schema", "schemaVersion": SCHEMA_VERSION,
            "thresholds": {"high": 90, "low": 80}, "projectRoot": ".",
            "files": files, "testFiles": test_files,
            "framework": {"name": "gapcheck-mutate", "version": meta.get("version", "1")},
            "config": meta.get("config", {}),
            "performance": meta.get("performance", {"setup": 0, "initialRun": 0, "mutation": 0}),
            "system": {"ci": bool(os.environ.get("CI")),
                       "os": {"platform": "linux"},
                       "cpu": {"logicalCores": os.cpu_count() or 1}}}


def merge(docs):
    """One report from several (CI shards). A mutant id seen twice keeps the
    first result; files' sources must agree (same commit)."""
    if not docs:
        raise ValueError("merge: no report")
    out = json.loads(json.dumps(docs[0]))
    seen = {m["id"] for f in out["files"].values() for m in f["mutants"]}
    for d in docs[1:]:
        for path, f in d["files"].items():
            mine = out["files"].get(path)
            if mine is None:
                out["files"][path] = json.loads(json.dumps(f))
                seen.update(m["id"] for m in f["mutants"])
                continue
            if mine["source"] != f["source"]:
                raise ValueError(f"merge: {path}: shards ran on different sources")
            for m in f["mutants"]:
                if m["id"] not in seen:
                    mine["mutants"].append(m)
                    seen.add(m["id"])
        for suite, tf in d.get("testFiles", {}).items():
            have = out.setdefault("testFiles", {}).setdefault(suite, {"tests": []})
            ids = {t["id"] for t in have["tests"]}
            have["tests"] += [t for t in tf["tests"] if t["id"] not in ids]
        for k in ("setup", "initialRun", "mutation"):
            if "performance" in out and "performance" in d:
                out["performance"][k] = out["performance"][k] + d["performance"].get(k, 0)
        shards = out.setdefault("config", {}).setdefault("merged_shards", [])
        shards.append(d.get("config", {}).get("shard"))
    for f in out["files"].values():
        f["mutants"].sort(key=lambda m: (m["location"]["start"]["line"],
                                         m["location"]["start"]["column"], m["id"]))
    return out


def _score(counts):
    det = sum(counts.get(s, 0) for s in DETECTED)
    und = sum(counts.get(s, 0) for s in UNDETECTED)
    return round(100.0 * det / (det + und), 1) if det + und else None


def _count(mutants):
    c = {}
    for m in mutants:
        c[m["status"]] = c.get(m["status"], 0) + 1
    c["score"] = _score(c)
    c["total"] = len(mutants)
    return c


def statuses(path, ids):
    """Counts and score of the mutants `ids` in an earlier report (before)."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    want = set(ids)
    return _count([m for fd in doc["files"].values() for m in fd["mutants"] if m["id"] in want])


def judge_of(m):
    """Which judge detected a mutant: the suite of the test that killed it
    (engine, harness, anomaly, case, or a memory judge: sanitizer, valgrind),
    or timeout."""
    if m["status"] == "Timeout":
        return "timeout"
    return m["killedBy"][0].split(":")[0] if m.get("killedBy") else "?"


def summary(doc, incidents, meta):
    """The project's own summary. incidents: {id: {(file, function), ...}}."""
    allm, per_file, per_fn = [], {}, {}
    for path, f in sorted(doc["files"].items()):
        for m in f["mutants"]:
            i = parse_id(m["id"])
            allm.append(m)
            per_file.setdefault(path, []).append(m)
            per_fn.setdefault((path, i["function"]), []).append(m)
    inc = {}
    for iid, fns in sorted(incidents.items()):
        ms = [m for key in sorted(fns) for m in per_fn.get(key, [])]
        inc[iid] = dict(_count(ms), functions=[f"{a}:{b}" for a, b in sorted(fns)])
    survivors = []
    for path, f in sorted(doc["files"].items()):
        lines = f["source"].split("\n")
        for m in f["mutants"]:
            if m["status"] in UNDETECTED:
                survivors.append(dict(parse_id(m["id"]), id=m["id"], mutator=m["mutatorName"],
                                      description=m.get("description", ""),
                                      diff=diff_of(lines, m)))
    tot = _count(allm)
    est = estimate(per_fn, incidents, doc.get("config", {}).get("covered_per_function"))
    judges, kills = {}, {}
    for m in allm:
        if m["status"] in DETECTED:
            j = judge_of(m)
            judges[j] = judges.get(j, 0) + 1
            kills[m["id"]] = (m.get("killedBy") or ["timeout"])[0]
    return {"schema": "gapcheck-mutation-summary", "schema_version": 1,
            "generated_at": meta.get("generated_at") or datetime.datetime.now(
                datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": meta.get("commit"), "command": meta.get("command"),
            "config": doc.get("config", {}),
            "campaign_seconds": meta.get("campaign_seconds"),
            "totals": tot, "score": tot["score"], "estimate": est,
            "files": {p: _count(ms) for p, ms in per_file.items()},
            "functions": {f"{p}:{fn}": _count(ms) for (p, fn), ms in sorted(per_fn.items())},
            "incidents": inc, "judges": judges, "killed_by": kills, "survivors": survivors}


def estimate(per_fn, incidents, covered):
    """The score of every covered point, estimated from a campaign that
    judged some of them (a sample, a budget, incident functions first).
    The judged mutants are not a uniform sample (files are interleaved, so a
    small file is over-represented; an incident campaign judges its
    functions in full), so the raw ratio is not the code's score: each
    stratum (a file's incident functions, the file's other functions) is
    weighted by its covered points. None when every point was judged or the
    report does not say what was covered (covered_per_function).
    se: the standard error of the weighted sample (finite population)."""
    if not covered:
        return None
    inc = {f"{a}:{b}" for fns in incidents.values() for a, b in fns}
    strata = {}
    for key, n in covered.items():
        h = (key.rsplit(":", 1)[0], key in inc)
        strata.setdefault(h, [0, 0, 0])[0] += n
    for (path, fn), ms in per_fn.items():
        h = (path, f"{path}:{fn}" in inc)
        if h not in strata:
            continue
        strata[h][1] += sum(m["status"] in DETECTED for m in ms)
        strata[h][2] += sum(m["status"] in DETECTED + UNDETECTED for m in ms)
    total = sum(n for n, _, _ in strata.values())
    judged = {h: v for h, v in strata.items() if v[2]}
    weight = sum(n for n, _, _ in judged.values())
    if not weight or sum(v[2] for v in judged.values()) >= total:
        return None
    score = sum(n * d / k for n, d, k in judged.values()) / weight
    var = sum((n / weight) ** 2 * (d / k) * (1 - d / k) / k * max(0.0, 1 - k / n)
              for n, d, k in judged.values())
    return {"score": round(100 * score, 1), "se": round(100 * var ** 0.5, 1),
            "points_covered": total, "mutants_scored": sum(v[2] for v in judged.values()),
            "points_in_unjudged_strata": total - weight,
            "strata": "each file's incident functions, and its other functions"}


def estimate_text(e):
    """One sentence on the estimate, for the pages."""
    return (f"Every covered point, estimated from the {e['mutants_scored']} judged: "
            f"{e['score']}% (standard error {e['se']}); each stratum ({e['strata']}) "
            f"weighted by its covered points, of {e['points_covered']}"
            + (f" ({e['points_in_unjudged_strata']} in strata with no judged mutant are left "
               "out)" if e["points_in_unjudged_strata"] else "") + ".")


def diff_of(lines, m):
    """A unified diff of the mutant's lines (the original text is the source)."""
    a, b = m["location"]["start"], m["location"]["end"]
    old = lines[a["line"] - 1:b["line"]]
    text = "\n".join(old)
    # Offsets inside the slice: columns are bytes; the engine is ASCII.
    start = a["column"] - 1
    end = len("\n".join(old[:-1])) + (1 if len(old) > 1 else 0) + b["column"] - 1
    new = (text[:start] + m.get("replacement", "") + text[end:]).split("\n")
    out = [f"@@ -{a['line']},{len(old)} +{a['line']},{len(new)} @@"]
    out += ["-" + ln for ln in old] + ["+" + ln for ln in new]
    return "\n".join(out)


def markdown(s):
    t = s["totals"]
    out = [f"# Mutation testing: {t['score']}% killed", "",
           f"Generated {s['generated_at']} at commit {s.get('commit') or '?'}; "
           f"command: `{s.get('command') or 'make mutate'}`; campaign "
           f"{s.get('campaign_seconds') or '?'} s.", "",
           "Score = (killed + timed out) / (killed + timed out + survived); equivalent mutants "
           "(`mutate/equivalents.txt`) and mutants that did not build are not counted.", "",
           "| | mutants | killed | timeout | survived | equivalent | not built | score |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]

    def row(name, c):
        return (f"| {name} | {c['total']} | {c.get('Killed', 0)} | {c.get('Timeout', 0)} | "
                f"{c.get('Survived', 0)} | {c.get('Ignored', 0)} | {c.get('CompileError', 0)} | "
                f"{'-' if c['score'] is None else str(c['score']) + '%'} |")
    if s.get("estimate"):
        out[2:2] = [estimate_text(s["estimate"]), ""]
    out.append(row("**all**", t))
    for iid, c in s["incidents"].items():
        out.append(row(f"incident {iid} (its functions)", c))
    for p, c in s["files"].items():
        out.append(row(f"`{p}`", c))
    out += ["", "Detected by (the judge whose test failed first: unit suites, the anomaly "
            "loops, the end-to-end cases, then for survivors the memory judges: the "
            "sanitizer build, Valgrind):", "",
            "| judge | mutants |", "| --- | --- |"]
    out += [f"| {j} | {n} |" for j, n in sorted(s.get("judges", {}).items())]
    out += ["", f"## Survivors ({len(s['survivors'])})", ""]
    for v in s["survivors"]:
        out += [f"### `{v['id']}`", "", f"{v['mutator']}: {v['description']}", "",
                "```diff", v["diff"], "```", ""]
    out += ["## Per function", "", "| function | mutants | survived | score |",
            "| --- | --- | --- | --- |"]
    for k, c in s["functions"].items():
        out.append(f"| `{k}` | {c['total']} | {c.get('Survived', 0)} | "
                   f"{'-' if c['score'] is None else str(c['score']) + '%'} |")
    return "\n".join(out) + "\n"


def html_page(s):
    e = html.escape
    t = s["totals"]
    rows = []
    for name, c in [("all", t)] + [(f"incident {k}", v) for k, v in s["incidents"].items()] + \
            list(s["files"].items()):
        rows.append("<tr>" + "".join(f"<td>{e(str(x))}</td>" for x in (
            name, c["total"], c.get("Killed", 0), c.get("Timeout", 0), c.get("Survived", 0),
            c.get("Ignored", 0), c.get("CompileError", 0),
            "-" if c["score"] is None else f"{c['score']}%")) + "</tr>")
    surv = []
    for i, v in enumerate(s["survivors"]):
        dl = []
        for ln in v["diff"].split("\n"):
            cls = "add" if ln.startswith("+") else "del" if ln.startswith("-") else "hunk"
            dl.append(f'<span class="{cls}">{e(ln)}</span>')
        surv.append(f'<h3 id="s{i}"><code>{e(v["id"])}</code></h3>\n<p>{e(v["mutator"])}: '
                    f'{e(v["description"])}</p>\n<pre>' + "\n".join(dl) + "</pre>")
    head = ("<th>scope</th><th>mutants</th><th>killed</th><th>timeout</th><th>survived</th>"
            "<th>equivalent</th><th>not built</th><th>score</th>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gapcheck mutation testing</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px}}
pre{{background:#f6f6f6;padding:6px}}.add{{color:#060}}.del{{color:#a00}}.hunk{{color:#666}}</style>
</head><body>
<h1>Mutation testing: {e(str(t['score']))}% killed</h1>
<p>Generated {e(s['generated_at'])} at commit {e(str(s.get('commit') or '?'))};
command <code>{e(s.get('command') or 'make mutate')}</code>; campaign
{e(str(s.get('campaign_seconds') or '?'))} s. Equivalent mutants
(mutate/equivalents.txt) and mutants that did not build are not counted.</p>
{f"<p>{e(estimate_text(s['estimate']))}</p>" if s.get("estimate") else ""}
<table><tr>{head}</tr>
{chr(10).join(rows)}
</table>
<h2>Survivors ({len(s['survivors'])})</h2>
{chr(10).join(surv)}
</body></html>
"""


def incident_functions(root, incidents_json, functions_of):
    """{incident: {(file, function)}}: reports/incidents.json's touched
    functions plus the functions cases/<ID>/reinject.patch edits.
    functions_of(file) -> {function: (first line, last line)}."""
    out = {}
    try:
        with open(incidents_json, encoding="utf-8") as f:
            spec = json.load(f).get("incidents", {})
    except (OSError, ValueError):
        spec = {}
    for iid, s in spec.items():
        fns = out.setdefault(iid, set())
        for t in s.get("touched", []):
            for fn in t.get("functions", []):
                fns.add((t["file"], fn))
    cases = os.path.join(root, "cases")
    for patch in sorted(os.listdir(cases) if os.path.isdir(cases) else []):
        path = os.path.join(root, "cases", patch, "reinject.patch")
        if not os.path.exists(path):
            continue
        fns = out.setdefault(patch, set())
        with open(path, encoding="utf-8") as f:
            hunks = patch_hunks(f.read())
        for cur, stated, old, edits in hunks:
            try:
                with open(os.path.join(root, cur), encoding="utf-8") as f:
                    text = f.read().splitlines()
            except OSError:
                continue
            at = find_block(text, old, stated - 1)
            if at is None:
                continue
            for i in edits:
                for name, (a, b) in functions_of(cur).items():
                    if a <= at + 1 + i <= b:
                        fns.add((cur, name))
    return out


def patch_hunks(text):
    """[(file, stated line, old lines, edit offsets)] of a unified diff: a
    hunk's old side (context and removed lines) and where in it the edits
    are (a removed line's index; an insertion's index of the line it goes
    before)."""
    hunks, cur, old, edits = [], None, None, None
    for line in text.splitlines():
        if line.startswith("--- a/"):
            cur = line[6:].split("\t")[0].strip()
        elif line.startswith("@@") and cur:
            m = re.match(r"@@ -(\d+)", line)
            old, edits = [], []
            hunks.append((cur, int(m.group(1)) if m else 1, old, edits))
        elif old is None or line.startswith(("+++", "---")):
            continue
        elif line.startswith("-"):
            edits.append(len(old))
            old.append(line[1:])
        elif line.startswith("+"):
            edits.append(len(old))
        elif line.startswith(" ") or line == "":
            old.append(line[1:])
    return hunks


def find_block(lines, block, near):
    """0-based line where `block` (a hunk's old side) starts in `lines`, the
    match nearest `near` (the hunk's own line) if several, or None. Found by
    text, not by the hunk's line numbers: a patch made before other edits
    still applies (patch takes an offset) and must name the functions it
    edits now."""
    n = len(block)
    at = [i for i in range(len(lines) - n + 1) if lines[i:i + n] == block]
    return min(at, key=lambda i: abs(i - near)) if at else None
