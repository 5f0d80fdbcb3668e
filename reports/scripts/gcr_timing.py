"""reports: the timing comparison. Flattens case timings (results.json from
`gapcheck run --repeat N`: wall_ms median/min/max per result) and the bench
figures (bench.json: handoff_us.*, read_gbps.*, copy_ms.*) into named figures,
writes them as a baseline, and compares a new run with the baseline by ratio.

Only medians are compared (they resist the outliers a busy 2-core host
produces). A figure regresses when it is worse than the baseline by more than
its group's tolerance ratio AND by more than the group's absolute slack, so
that a 0.3 ms case that takes 0.6 ms on a busy machine does not fail the gate,
while a real 2x slowdown of a 50 ms case does. Tolerances live in
reports/thresholds.json ("timing").
"""

import json
import os

# Bench groups: which direction is better, and whether the figure is ours to
# gate. copy_ms.pipe_100MiB measures the machine's pipe, not the engine.
BENCH_GROUPS = {"handoff_us": ("lower", "us"), "read_gbps": ("higher", "GB/s"),
                "copy_ms": ("lower", "ms")}
UNGATED = {"bench:copy_ms.pipe_100MiB"}


def load_json(path):
    if not path or not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def figures(results, bench):
    """{name: {"value", "unit", "better", "group", "min", "max"}}."""
    out = {}
    for r in (results or {}).get("results", []):
        wall = r.get("wall_ms") or {}
        if not r.get("passed") or not r.get("runs") or wall.get("median") is None:
            continue
        out["case:" + r["id"]] = {"value": wall["median"], "min": wall.get("min"),
                                  "max": wall.get("max"), "unit": "ms", "better": "lower",
                                  "group": "cases", "runs": r.get("runs")}
    for group, (better, unit) in BENCH_GROUPS.items():
        for key, val in sorted(((bench or {}).get(group) or {}).items()):
            if isinstance(val, (int, float)):
                mins = (bench.get(group + "_min") or {}).get(key)
                out[f"bench:{group}.{key}"] = {"value": val, "min": mins, "unit": unit,
                                               "better": better, "group": group}
    return out


def make_baseline(results, bench, host=None):
    figs = figures(results, bench)
    return {
        "schema": "gapcheck-timing-baseline",
        "schema_version": 1,
        "about": "medians from `make baseline`; compared by reports/scripts/gcr_timing.py",
        "machine": host or {},
        "bench_quick": bool((bench or {}).get("quick")),
        "repeat": ((results or {}).get("run") or {}).get("repeat"),
        "figures": {k: {"value": v["value"], "unit": v["unit"], "better": v["better"]}
                    for k, v in sorted(figs.items())},
    }


def _limits(tol, group):
    g = tol.get(group) or tol.get("default") or {}
    return float(g.get("tolerance", 1.5)), float(g.get("slack", 0.0))


def compare(baseline, results, bench, tolerances):
    """Returns {"ok", "regressions", "figures": [...], "notes": [...]}. A
    figure's ratio is its slowdown factor (>1 is worse, either direction)."""
    cur = figures(results, bench)
    base = (baseline or {}).get("figures", {})
    rows, notes = [], []
    if baseline is None:
        notes.append("no baseline: run `make baseline` and commit reports/baseline.json")
    elif bench is not None and bool(bench.get("quick")) != bool(baseline.get("bench_quick")):
        notes.append("bench mode differs from the baseline's (quick vs full): "
                     "bench figures compared anyway, expect noise")
    for name in sorted(set(cur) | set(base)):
        c, b = cur.get(name), base.get(name)
        if c:
            group = c["group"]
        elif name.startswith("bench:"):
            group = name.split(":", 1)[1].split(".", 1)[0]
        else:
            group = "cases"
        tol, slack = _limits(tolerances, group)
        row = {"name": name, "group": group, "unit": (c or b)["unit"],
               "better": (c or b)["better"], "current": c["value"] if c else None,
               "min": (c or {}).get("min"), "max": (c or {}).get("max"),
               "baseline": b["value"] if b else None, "tolerance": tol, "slack": slack,
               "gated": name not in UNGATED, "ratio": None}
        if not c:
            row["status"] = "missing"
        elif not b:
            row["status"] = "new"
        else:
            cv, bv = c["value"], b["value"]
            if row["better"] == "lower":
                ratio = cv / bv if bv > 0 else float("inf")
                worse_by = cv - bv
            else:
                ratio = bv / cv if cv > 0 else float("inf")
                worse_by = bv - cv
            row["ratio"] = round(ratio, 3)
            if ratio > tol and worse_by > slack:
                row["status"] = "regression" if row["gated"] else "slower (not gated)"
            elif ratio < 1 / tol:
                row["status"] = "faster"
            else:
                row["status"] = "ok"
        rows.append(row)
    regressions = [r for r in rows if r["status"] == "regression"]
    return {"ok": not regressions, "regressions": len(regressions),
            "compared": sum(1 for r in rows if r["ratio"] is not None),
            "figures": rows, "notes": notes,
            "baseline_machine": (baseline or {}).get("machine", {})}
