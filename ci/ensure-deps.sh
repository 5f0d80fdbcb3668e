#!/usr/bin/env bash
# Make sure Debian packages are installed. As root, installs what is missing
# (apt-get update first); otherwise prints the exact command and fails.
# Usage: ci/ensure-deps.sh PACKAGE...
set -euo pipefail
missing=()
for p in "$@"; do
  # dpkg-query answers "install ok installed" only for a complete install.
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
((${#missing[@]} == 0)) && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "ensure-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  exit 0
fi
echo "ensure-deps: missing Debian packages: ${missing[*]}" >&2
echo "ensure-deps: install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
exit 1
