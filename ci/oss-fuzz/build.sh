#!/usr/bin/env bash
# OSS-Fuzz / ClusterFuzzLite build script for gapcheck's fuzz targets. It
# follows the infrastructure's conventions: compilers and flags come from
# $CC/$CXX/$CFLAGS/$CXXFLAGS (they carry the sanitizer and coverage flags of
# the build being made), the engine from $LIB_FUZZING_ENGINE (libFuzzer, AFL++
# or honggfuzz: the targets are plain LLVMFuzzerTestOneInput), binaries go to
# $OUT with TARGET.dict and TARGET_seed_corpus.zip beside them. Every engine
# source is compiled with those flags, as `make fuzz-build-libfuzzer` does.
# case_parse needs Debian's inih (runtime options such as ini_max_line),
# linked statically since the runner images have no libinih; without it that
# target is skipped with a warning and the other two still build.
# Locally: make fuzz-oss-local (runs this with clang and libFuzzer).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -n "${GAPCHECK_DIR:-}" ]; then
  repo=$GAPCHECK_DIR
elif [ -f "$here/../../engine/engine.mk" ]; then
  repo=$(cd "$here/../.." && pwd)
else
  repo=${SRC:?SRC is not set}/gapcheck
fi
: "${CC:?}" "${CXX:?}" "${OUT:?}" "${LIB_FUZZING_ENGINE:?}"
CFLAGS=${CFLAGS:-}
CXXFLAGS=${CXXFLAGS:-}
work=${WORK:-/tmp}/gapcheck-fuzz
rm -rf "$work"
mkdir -p "$work/obj" "$OUT"
cd "$repo"

cppflags=(-D_GNU_SOURCE -Iengine/include -Iengine/src -Iharness/case -Ifuzz)
compile() {
  local src=$1 obj
  obj="$work/obj/$(echo "${src%.c}" | tr / _).o"
  # shellcheck disable=SC2086  # CFLAGS is a list of flags by convention
  $CC $CFLAGS -std=c11 -pthread "${cppflags[@]}" -c "$src" -o "$obj"
  echo "$obj"
}

common=()
for src in engine/src/*.c fuzz/fz.c; do common+=("$(compile "$src")"); done

# Debian's static inih with its runtime options, or nothing.
inih=""
for a in /usr/lib/x86_64-linux-gnu/libinih.a /usr/lib/libinih.a /usr/local/lib/libinih.a; do
  if [ -f "$a" ] && nm "$a" 2>/dev/null | grep -q ' [DB] ini_max_line'; then inih=$a; break; fi
done

zip_dir() {   # zip_dir ZIP FILE...: flat archive, with zip or python3
  local zipfile=$1; shift
  rm -f "$zipfile"
  if command -v zip > /dev/null; then
    zip -q -j "$zipfile" "$@"
  else
    python3 -c 'import sys, zipfile, os
with zipfile.ZipFile(sys.argv[1], "w") as z:
    [z.write(f, os.path.basename(f)) for f in sys.argv[2:]]' "$zipfile" "$@"
  fi
}

# The targets, their own sources, libraries and extra inputs: asked of
# fuzz/fuzz.mk, the one list (one line per target, NAME|SRCS|LIBS|DIR:GLOB).
info=$(make -s --no-print-directory -C "$repo" fuzz-info)
[ -n "$info" ] || { echo "build.sh: make fuzz-info listed no target" >&2; exit 1; }
while IFS='|' read -r t srcs libspec inputs; do
  objs=("${common[@]}" "$(compile "fuzz/$t.c")")
  for src in $srcs; do objs+=("$(compile "$src")"); done
  libs=()
  for l in $libspec; do
    # inih: Debian's static archive, since the runner images have no libinih.
    if [ "$l" = -linih ]; then
      [ -n "$inih" ] || { echo "build.sh: skipping $t: no static Debian inih (libinih-dev) found" >&2; continue 2; }
      l=$inih
    fi
    libs+=("$l")
  done
  # shellcheck disable=SC2086  # CXXFLAGS and LIB_FUZZING_ENGINE are flag lists
  $CXX $CXXFLAGS "${objs[@]}" $LIB_FUZZING_ENGINE "${libs[@]}" -pthread -o "$OUT/$t"
  cp "fuzz/dict/$t.dict" "$OUT/$t.dict"
  seeds=(fuzz/corpus/"$t"/*)
  if [ -n "$inputs" ]; then
    while IFS= read -r -d '' f; do seeds+=("$f"); done \
      < <(find "${inputs%%:*}" -name "${inputs#*:}" -type f -print0)
  fi
  zip_dir "$OUT/${t}_seed_corpus.zip" "${seeds[@]}"
done <<< "$info"
