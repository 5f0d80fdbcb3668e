#!/usr/bin/env bash
# Test of mk/ensure-deps.sh under `make -j`: several callers that find the
# same package missing must not run apt-get at the same time (apt refuses
# with "Could not get lock"), and only the first may install. apt-get,
# dpkg-query and id are replaced by fakes on PATH: the fake apt-get fails like
# the real one when another apt-get runs, and records every install.
# Prints "N passed, N failed" for the check summary.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/state"

cat > "$tmp/bin/id" <<'F'
#!/bin/sh
echo 0
F
cat > "$tmp/bin/dpkg-query" <<'F'
#!/bin/sh
# dpkg-query -W -f=FMT PKG
for p; do :; done
[ -e "$FAKE_STATE/installed-$p" ] && printf 'install ok installed' && exit 0
exit 1
F
cat > "$tmp/bin/apt-get" <<'F'
#!/bin/sh
# mkdir is atomic: a second apt-get while one runs fails as apt would.
mkdir "$FAKE_STATE/busy" 2>/dev/null || { echo "E: Could not get lock /var/lib/apt/lists/lock" >&2; exit 100; }
sleep 0.3
for a; do
  case $a in -*|install|update|DPkg::*) ;; *) touch "$FAKE_STATE/installed-$a"; echo "$a" >> "$FAKE_STATE/log";; esac
done
rmdir "$FAKE_STATE/busy"
F
chmod +x "$tmp/bin/"*

passed=0 failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }

export FAKE_STATE=$tmp/state ENSURE_DEPS_LOCK=$tmp/lock
pids=()
for i in 1 2 3 4; do
  PATH="$tmp/bin:$PATH" "$here/ensure-deps.sh" fakepkg > "$tmp/out.$i" 2>&1 & pids+=($!)
done
rcs=0
for p in "${pids[@]}"; do wait "$p" || rcs=$((rcs + 1)); done
if [ "$rcs" = 0 ]; then ok "4 parallel callers all succeed"
else bad "$rcs of 4 parallel callers failed:"; cat "$tmp"/out.* >&2; fi
n=$(wc -l < "$tmp/state/log" 2>/dev/null || echo 0)
if [ "$n" = 1 ]; then ok "the package is installed once"
else bad "the package was installed $n times (want 1)"; fi

# Nothing missing: no apt-get at all, and no lock taken.
rm -f "$tmp/state/log" "$ENSURE_DEPS_LOCK"
if PATH="$tmp/bin:$PATH" "$here/ensure-deps.sh" fakepkg && [ ! -e "$tmp/state/log" ] && [ ! -e "$ENSURE_DEPS_LOCK" ]; then
  ok "installed package: nothing run"
else bad "installed package: apt-get ran or lock taken"; fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
