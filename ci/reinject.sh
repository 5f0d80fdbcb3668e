#!/usr/bin/env bash
# Sensitivity check for incidents: proves that an incident's cases would catch
# its bug if it came back. For each incident with a cases/INC-XXX/reinject.patch:
# copy engine/ into $BUILD/reinject/INC-XXX/src/ (the rest of the tree is
# symlinked, never modified), apply the patch there (it re-injects the
# original bug), build that engine variant and a gapcheck binary linked to it,
# run the incident's cases on it, and SUCCEED ONLY IF at least one case fails
# (fail, timeout or crash: an "error" means the case could not be judged and
# proves nothing). A patch that no longer applies is a failure naming the
# incident: the check must be repaired, not dropped.
# Writes $BUILD/check/reinject-INC-XXX.log, whose last line is
# "1 passed, 0 failed" when the cases were sensitive, "0 passed, 1 failed"
# otherwise. gapcheck's own output is quoted with "  | " so that its summary
# line is not counted by ci/check-summary.sh as this check's result.
#
# Usage: ci/reinject.sh [--build DIR] [INCIDENT...]   (default: every incident
#        that has a reinject.patch; DIR defaults to $BUILD or "build")
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-build}
incidents=()
while (($#)); do
  case $1 in
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "reinject: unknown option $1" >&2; exit 2 ;;
    *) incidents+=("$1"); shift ;;
  esac
done
case $build in /*) ;; *) build=$root/$build ;; esac
if ((${#incidents[@]} == 0)); then
  for p in "$root"/cases/*/reinject.patch; do
    [ -e "$p" ] && incidents+=("$(basename "$(dirname "$p")")")
  done
fi
if ((${#incidents[@]} == 0)); then
  echo "reinject: no cases/*/reinject.patch found" >&2
  exit 1
fi

# One incident; prints to stdout (the caller tees it into the log).
check_one() {
  local inc=$1
  local patchf=$root/cases/$inc/reinject.patch
  local work=$build/reinject/$inc
  local src=$work/src
  local verdict_fail="0 passed, 1 failed"

  echo "reinject $inc: re-injecting the bug with cases/$inc/reinject.patch"
  if [ ! -f "$patchf" ]; then
    echo "reinject $inc: FAILED: cases/$inc/reinject.patch does not exist"
    echo "$verdict_fail"; return 1
  fi
  if [ ! -d "$root/cases/$inc" ] || ! compgen -G "$root/cases/$inc/*.case" >/dev/null; then
    echo "reinject $inc: FAILED: cases/$inc/ holds no .case file to run"
    echo "$verdict_fail"; return 1
  fi

  rm -rf "$work" && mkdir -p "$src" || { echo "reinject $inc: FAILED: cannot create $work"; echo "$verdict_fail"; return 1; }
  # engine/ is copied (the patch changes it); everything else is linked so
  # the variant builds with exactly the tree's Makefile, harness and cases.
  # -L: a real copy even if engine/ is reached through a symlink; the patch
  # must never be able to touch the tree's own engine.
  cp -RL "$root/engine" "$src/engine"
  if [ -L "$src/engine" ] || [ ! -f "$src/engine/engine.mk" ]; then
    echo "reinject $inc: FAILED: could not make a private copy of engine/"
    echo "$verdict_fail"; return 1
  fi
  local item name
  for item in "$root"/*; do
    name=$(basename "$item")
    [ "$name" = engine ] || [ "$name" = build ] || ln -s "$item" "$src/$name"
  done

  if ! patch -p1 -F0 --batch --forward --no-backup-if-mismatch -d "$src" <"$patchf" >"$work/patch.log" 2>&1; then
    echo "reinject $inc: FAILED: cases/$inc/reinject.patch NO LONGER APPLIES to engine/."
    echo "reinject $inc: the code where incident $inc's bug lived has changed; re-create the"
    echo "reinject $inc: patch so that it brings the bug back again. patch said:"
    sed 's/^/  | /' "$work/patch.log"
    echo "$verdict_fail"; return 1
  fi
  if diff -rq "$root/engine" "$src/engine" >/dev/null; then
    echo "reinject $inc: FAILED: the patch applied but changed nothing in engine/"
    echo "$verdict_fail"; return 1
  fi
  echo "reinject $inc: patched: $(diff -rq "$root/engine" "$src/engine" | sed -E 's|.*/src/||; s| differ||' | tr '\n' ' ')"

  # A clean sub-make: the caller's command-line variables (BUILD=...) must
  # not leak into the variant's build.
  if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$src" --no-print-directory \
        -j"$(nproc 2>/dev/null || echo 2)" BUILD=build build/libgapcheck.a build/gapcheck \
        >"$work/build.log" 2>&1; then
    echo "reinject $inc: FAILED: the engine with $inc's bug re-injected does not build:"
    tail -n 20 "$work/build.log" | sed 's/^/  | /'
    echo "  (full log: $work/build.log)"
    echo "$verdict_fail"; return 1
  fi
  echo "reinject $inc: built $src/build/gapcheck against the re-injected engine"

  local out=$work/results
  local rc=0
  (cd "$root" && "$src/build/gapcheck" run "cases/$inc" --seed 1 --format tap,json \
      --output "$out") >"$work/run.log" 2>&1 || rc=$?
  sed 's/^/  | /' "$work/run.log"
  if [ "$rc" -ge 2 ] || [ ! -f "$out/results.tap" ]; then
    echo "reinject $inc: FAILED: gapcheck could not run the cases (exit $rc, no results.tap)"
    echo "$verdict_fail"; return 1
  fi

  # From the TAP: each "not ok" with its YAML status and message.
  local summary
  summary=$(awk '
    /^not ok / { if (id != "") print st "\t" id "\t" msg; id = $0; sub(/^not ok [0-9]+ - /, "", id); sub(/ # .*/, "", id); st = "?"; msg = ""; next }
    /^ok / { if (id != "") print st "\t" id "\t" msg; id = ""; next }
    id != "" && /^  status: / { st = $0; sub(/^  status: /, "", st) }
    id != "" && /^  message: / { msg = $0; sub(/^  message: /, "", msg) }
    END { if (id != "") print st "\t" id "\t" msg }' "$out/results.tap")
  local total okc
  total=$(grep -cE '^(ok|not ok) ' "$out/results.tap")
  okc=$(grep -cE '^ok ' "$out/results.tap")
  local sensitive=0 judged_fail=0
  echo "reinject $inc: $total case runs on the re-injected engine, $okc still pass"
  if [ -n "$summary" ]; then
    while IFS=$'\t' read -r st id msg; do
      case $st in
        fail|timeout|crash) sensitive=$((sensitive + 1)); judged_fail=1
                            echo "  caught by $id: $st: $msg" ;;
        *) echo "  not judged $id: $st: $msg" ;;
      esac
    done <<<"$summary"
  fi
  if [ "$total" -eq 0 ]; then
    echo "reinject $inc: FAILED: no case ran"
    echo "$verdict_fail"; return 1
  fi
  if [ "$judged_fail" = 0 ]; then
    echo "reinject $inc: FAILED: with the bug re-injected every case of $inc still passes:"
    echo "reinject $inc: the cases are NOT sensitive to the bug they exist for"
    echo "$verdict_fail"; return 1
  fi
  echo "reinject $inc: OK: $sensitive of $total case runs fail with the bug re-injected"
  echo "1 passed, 0 failed"
  return 0
}

mkdir -p "$build/check"
status=0
for inc in "${incidents[@]}"; do
  log=$build/check/reinject-$inc.log
  check_one "$inc" >"$log" 2>&1
  one=$?
  # Print the verdict lines; the full quoted gapcheck output stays in the log.
  grep -v '^  | ' "$log"
  echo "  (log: $log)"
  ((one == 0)) || status=1
done
exit $status
