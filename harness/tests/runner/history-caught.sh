#!/usr/bin/env bash
# The history checker catches re-injected bugs unaided: `gapcheck verify
# --also cases/history` ran the history cases (which know no incident)
# against every incident's re-injected engine and recorded the outcome in
# each verdict (reinject.also). This reads those verdicts: every incident
# whose reinject.patch says `History: caught` in its free text (the
# commit-path ones) must have been caught in every mode its patch affects;
# for all others the outcome is only printed, as a table. The list is the
# incidents' own data, so adding one stays one folder.
# Usage: history-caught.sh VERDICT_DIR CASES_DIR   Ends with "N passed, N failed".
set -u
DIR=${1:?usage: history-caught.sh VERDICT_DIR CASES_DIR}
CASES=${2:?usage: history-caught.sh VERDICT_DIR CASES_DIR}
PY=$(command -v /usr/bin/python3 || command -v python3)
"$PY" - "$DIR" "$CASES" <<'PYEOF'
import glob, json, os, re, sys
d, cases = sys.argv[1], sys.argv[2]


def asks_history(patch):
    """True when the patch's free text (before the diff) has `History: caught`."""
    with open(patch, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("--- ") or line.startswith("diff "):
                return False
            if re.match(r"(?i)history:\s*caught\s*$", line.strip()):
                return True
    return False


must = sorted(os.path.basename(os.path.dirname(p))
              for p in glob.glob(os.path.join(cases, "INC-*", "reinject.patch")) if asks_history(p))
if not must:
    print("FAIL - no reinject.patch under %s says 'History: caught': nothing would be required" % cases)
    print("0 passed, 1 failed")
    sys.exit(1)
print("required (History: caught): " + " ".join(must))
passed = failed = 0
print("incident | history cases caught it | failing thread/process | first anomaly")
for path in sorted(glob.glob(os.path.join(d, "INC-*.json"))):
    inc = os.path.basename(path)[:-5]
    also = json.load(open(path)).get("reinject", {}).get("also")
    if also is None:
        line = "not run (no --also record)"
        caught = False
    else:
        caught = also.get("caught") is True
        first = next((r["message"] for r in also.get("results", []) if r.get("cell") == "caught"), "")
        line = "%s | %s/%s | %s" % ("yes" if caught else "no", also.get("caught_thread"),
                                    also.get("caught_process"), first[:300])
    print("%s | %s" % (inc, line))
    if inc in must:
        if caught:
            passed += 1
            print("ok   - %s: caught by the history cases" % inc)
        else:
            failed += 1
            print("FAIL - %s: the history cases did not catch its re-injection" % inc)
for inc in must:
    if not os.path.exists(os.path.join(d, inc + ".json")):
        failed += 1
        print("FAIL - %s: no verdict file in %s" % (inc, d))
print("history-caught: %d passed, %d failed" % (passed, failed))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PYEOF
