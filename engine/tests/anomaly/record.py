#!/usr/bin/env python3
"""Turn the anomaly binary's record into counts, call sites and a JSON file.

The record (GC_ANOMALY_RECORD, written by engine/tests/anomaly/main.c) holds
"op kind outcome count" lines and "call offset count" lines, one per call
site that had a failure injected. This script finds every call site of a
wrapped function in engine/src (objdump of the binary: each call of
__wrap_NAME; addr2line for its file and line, innermost inline frame first),
maps each failed site to it, prints the counts and writes the JSON.

JSON ("gapcheck-anomaly/1"), kept flat for the reports:
  mode         "compact" (make check) or "full" (make sanitize)
  totals       {operations, kinds, points, outcomes: {OUTCOME: n}}
               operations: distinct operations looped over; kinds: distinct
               (operation, injection kind) loops; points: runs, one per N of
               every loop; outcomes: what those runs returned ("clean" = the
               run that reached no injected failure and ended its loop)
  loops        [{op, kind, points, outcomes: {OUTCOME: n}}]
  sites        [{call, file, line, failed}] every site in engine/src
  sites_failed / sites_total
  unreached    [{call, file, line, why}] sites never failed (with the
               reason when it is a known one; an unknown one fails the gate)
Exit status 1 when an unreached site has no known reason.
Standard library only; needs objdump and addr2line (binutils).
"""
import argparse
import json
import os
import re
import subprocess
import sys

# Call sites that no test can fail, with why. Keyed by (call, file, text of
# the source line), so that moving code does not break the key; kept short
# and explained, or the gate fails.
KNOWN_UNREACHED = {
    ("mprotect", "engine/src/builtins.c", "mprotect(start, (size_t)page, PROT_READ);"):
        "write_readonly restores PROT_READ only after the kernel let a sealed, read-only "
        "zone page become writable, which it never does (that is what the builtin proves); "
        "its result is ignored",
}

CALL_RE = re.compile(r"^\s*([0-9a-f]+):\s+(?:call|jmp)\S*\s+[0-9a-f]+ <__wrap_(\w+)(?:@plt)?>")


def run(cmd, data=None):
    return subprocess.run(cmd, input=data, capture_output=True, text=True, check=True).stdout


def read_record(path):
    outcomes, sites, section = [], [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line in ("[outcomes]", "[sites]"):
                section = line
            elif line and section == "[outcomes]":
                op, kind, outcome, count = line.split()
                outcomes.append((op, kind, outcome, int(count)))
            elif line and section == "[sites]":
                call, off, count = line.split()
                sites.append((call, int(off, 16), int(count)))
    return outcomes, sites


def locate(binary, addrs, root):
    """file:line of each address, innermost inline frame, relative to root."""
    if not addrs:
        return {}
    out = run(["addr2line", "-e", binary, "-i", "-a"], "\n".join(hex(a) for a in addrs) + "\n")
    where, cur = {}, None
    for line in out.splitlines():
        if line.startswith("0x"):
            cur = int(line, 16)
        elif cur is not None and cur not in where:
            path, _, num = line.rpartition(":")
            num = num.split()[0]
            where[cur] = (os.path.relpath(path, root) if path.startswith("/") else path,
                          int(num) if num.isdigit() else 0)
    return where


def source_line(root, path, num):
    try:
        with open(os.path.join(root, path), encoding="utf-8") as f:
            return f.read().splitlines()[num - 1].strip()
    except (OSError, IndexError):
        return ""


def exe_start(binary):
    for line in run(["nm", binary]).splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "__executable_start":
            return int(parts[0], 16)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--record", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--mode", default="compact")
    ap.add_argument("--out", required=True)
    ap.add_argument("--root", default=os.getcwd())
    ap.add_argument("--sites", action="store_true", help="list every site with its count")
    ap.add_argument("--wrapped", required=True,
                    help="the injector's wrapped calls (space-separated, from engine.mk); "
                         "other __wrap_ symbols (the coverage build's _exit) are not its sites")
    a = ap.parse_args()
    outcomes, failed = read_record(a.record)

    # Every call of a wrapper in the engine's code, by source line.
    wrapped = set(a.wrapped.split()) - {"free"}
    calls = []
    for line in run(["objdump", "-d", "--no-show-raw-insn", a.binary]).splitlines():
        m = CALL_RE.match(line)
        if m and m.group(2) in wrapped:
            calls.append((int(m.group(1), 16), m.group(2)))
    where = locate(a.binary, [addr for addr, _ in calls], a.root)
    sites = {}
    for addr, name in calls:
        path, num = where.get(addr, ("?", 0))
        if path.startswith("engine/src/"):
            sites.setdefault((name, path, num), 0)

    # Failed sites: the wrapper recorded its return address.
    base = exe_start(a.binary)
    ret_where = locate(a.binary, [base + off - 1 for _, off, _ in failed], a.root)
    stray = []
    for name, off, count in failed:
        path, num = ret_where.get(base + off - 1, ("?", 0))
        key = (name, path, num)
        if key in sites:
            sites[key] += count
        elif path.startswith("engine/src/"):
            stray.append(f"{name} {path}:{num}")

    loops, totals = {}, {"outcomes": {}}
    for op, kind, outcome, count in outcomes:
        lp = loops.setdefault((op, kind), {"op": op, "kind": kind, "points": 0, "outcomes": {}})
        lp["points"] += count
        lp["outcomes"][outcome] = lp["outcomes"].get(outcome, 0) + count
        totals["outcomes"][outcome] = totals["outcomes"].get(outcome, 0) + count
    totals["operations"] = len({op for op, _ in loops})
    totals["kinds"] = len(loops)
    totals["points"] = sum(lp["points"] for lp in loops.values())

    unreached, unknown = [], []
    for (name, path, num), count in sorted(sites.items(), key=lambda kv: kv[0][1:] + kv[0][:1]):
        if count:
            continue
        why = KNOWN_UNREACHED.get((name, path, source_line(a.root, path, num)))
        unreached.append({"call": name, "file": path, "line": num, "why": why})
        if not why:
            unknown.append(f"{name} at {path}:{num}")
    doc = {
        "schema": "gapcheck-anomaly/1",
        "mode": a.mode,
        "totals": totals,
        "loops": list(loops.values()),
        "sites": [{"call": n, "file": p, "line": l, "failed": c}
                  for (n, p, l), c in sorted(sites.items(), key=lambda kv: kv[0][1:] + kv[0][:1])],
        "sites_failed": sum(1 for c in sites.values() if c),
        "sites_total": len(sites),
        "unreached": unreached,
    }
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")

    oc = ", ".join(f"{k} {v}" for k, v in sorted(totals["outcomes"].items()))
    print(f"anomaly ({a.mode}): {totals['operations']} operations x {totals['kinds']} injection "
          f"kinds = {totals['points']} injection points; outcomes: {oc}")
    print(f"anomaly: call sites in engine/src failed at least once: {doc['sites_failed']} of "
          f"{doc['sites_total']} -> {a.out}")
    for s in doc["sites"] if a.sites else []:
        print(f"  {s['failed']:6d}  {s['call']:<15} {s['file']}:{s['line']}")
    for u in unreached:
        print(f"anomaly: not reached: {u['call']} at {u['file']}:{u['line']}: "
              f"{u['why'] or 'NO KNOWN REASON'}")
    for s in stray:
        print(f"anomaly: failed site not found among the calls: {s}")
    bad = bool(unknown or stray)
    print(f"{0 if bad else 1} passed, {1 if bad else 0} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
