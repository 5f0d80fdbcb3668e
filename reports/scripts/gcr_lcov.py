"""reports: reads lcov tracefiles (.info) into per-file and per-function line
and branch coverage, and checks the totals against the thresholds.

lcov 1.16 records functions only by their first line (FN:line,name), so a
function's lines are taken to run from its first line to the line before the
next function of the same file (the last one to the end of the file's data).
For C files that hold one function after another this is exact; a function
nested in a macro-generated block would be attributed to its neighbour.
"""

import os


def _pct(hit, found):
    return round(100.0 * hit / found, 2) if found else None


def parse_info(path, root=None):
    """Returns {relative_path: {"lines": {ln: hits}, "branches": [(ln, taken)],
    "functions": [(name, line, hits)]}} from an lcov tracefile."""
    files = {}
    cur = None
    fn_lines = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.strip()
            tag, _, val = line.partition(":")
            if tag == "SF":
                name = val
                if root and os.path.isabs(name):
                    rel = os.path.relpath(name, root)
                    name = rel if not rel.startswith("..") else name
                cur = files.setdefault(name, {"lines": {}, "branches": {}, "functions": {}})
                fn_lines = {}
            elif cur is None:
                continue
            elif tag == "FN":
                ln, _, fname = val.partition(",")
                fn_lines[fname] = int(ln)
                cur["functions"].setdefault(fname, [int(ln), 0])
            elif tag == "FNDA":
                hits, _, fname = val.partition(",")
                entry = cur["functions"].setdefault(fname, [fn_lines.get(fname, 0), 0])
                entry[1] += int(hits)
            elif tag == "DA":
                parts = val.split(",")
                ln, hits = int(parts[0]), int(parts[1])
                cur["lines"][ln] = cur["lines"].get(ln, 0) + hits
            elif tag == "BRDA":
                ln, block, br, taken = val.split(",")
                key = (int(ln), block, br)
                t = 0 if taken == "-" else int(taken)
                cur["branches"][key] = cur["branches"].get(key, 0) + t
            elif tag == "end_of_record":
                cur = None
    return files


def _stats(lines, branches):
    lf = len(lines)
    lh = sum(1 for h in lines.values() if h > 0)
    bf = len(branches)
    bh = sum(1 for t in branches.values() if t > 0)
    return {"lines_found": lf, "lines_hit": lh, "lines": _pct(lh, lf),
            "branches_found": bf, "branches_hit": bh, "branches": _pct(bh, bf)}


def summarize(files):
    """Totals, per-file and per-function figures (percentages, None if no data)."""
    out_files = []
    all_lines = all_br = 0
    tot = {"lines_found": 0, "lines_hit": 0, "branches_found": 0, "branches_hit": 0,
           "functions_found": 0, "functions_hit": 0}
    for name in sorted(files):
        d = files[name]
        st = _stats(d["lines"], d["branches"])
        fns = sorted(((ln, fn, hits) for fn, (ln, hits) in d["functions"].items()))
        last = max(list(d["lines"]) + [ln for ln, _, _ in fns] + [0])
        fout = []
        for i, (start, fname, hits) in enumerate(fns):
            end = fns[i + 1][0] - 1 if i + 1 < len(fns) else last
            fl = {ln: h for ln, h in d["lines"].items() if start <= ln <= end}
            fb = {k: t for k, t in d["branches"].items() if start <= k[0] <= end}
            fst = _stats(fl, fb)
            fst.update({"name": fname, "line": start, "end_line": end, "calls": hits})
            fout.append(fst)
        st.update({"file": name, "functions": fout,
                   "functions_found": len(fns),
                   "functions_hit": sum(1 for _, _, h in fns if h > 0)})
        out_files.append(st)
        for k in tot:
            tot[k] += st[k]
    all_lines, all_br = tot["lines_found"], tot["branches_found"]
    return {
        "lines": _pct(tot["lines_hit"], all_lines),
        "branches": _pct(tot["branches_hit"], all_br),
        "functions": _pct(tot["functions_hit"], tot["functions_found"]),
        **tot,
        "files": out_files,
    }


def gate(summary, thresholds):
    """Compares totals with thresholds ({"lines": pct, "branches": pct}).
    Returns a list of failures (empty when the figures are at or above)."""
    fails = []
    for key in ("lines", "branches"):
        want = thresholds.get(key)
        have = summary.get(key)
        if want is None:
            continue
        if have is None or have + 1e-9 < want:
            fails.append(f"{key} coverage {have}% is below the threshold {want}%")
    return fails
