#!/usr/bin/env bash
# Make sure Debian packages are installed. As root, installs what is missing
# (apt-get update first); otherwise prints the exact command and fails.
# Several make jobs may call this at once (make -j): installs are serialized
# with flock on one lock file, and what is missing is decided again once the
# lock is held, so a second caller finds the packages the first installed
# instead of racing it for apt's own locks. apt-get also waits for a dpkg lock
# held by someone outside this build instead of failing at once.
# Usage: mk/ensure-deps.sh PACKAGE...
#   ENSURE_DEPS_LOCK  lock file (default /var/lock/gapcheck-ensure-deps.lock)
set -euo pipefail

missing=()
find_missing() {
  missing=()
  local p
  for p in "$@"; do
    # dpkg-query answers "install ok installed" only for a complete install.
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
}

find_missing "$@"
((${#missing[@]} == 0)) && exit 0
if [ "$(id -u)" -eq 0 ]; then
  lock=${ENSURE_DEPS_LOCK:-/var/lock/gapcheck-ensure-deps.lock}
  exec 9>>"$lock"
  flock 9
  find_missing "$@"
  ((${#missing[@]} == 0)) && exit 0
  echo "ensure-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >&2
  exit 0
fi
echo "ensure-deps: missing Debian packages: ${missing[*]}" >&2
echo "ensure-deps: install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
exit 1
