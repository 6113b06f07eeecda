#!/usr/bin/env bash
# setup.sh installs the Debian packages friendly-vm needs, only when missing.
# Usage: scripts/setup.sh [java] [uml]   (no argument: everything)
set -euo pipefail

want=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || want+=("$1"); }

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(java uml)
for g in "${groups[@]}"; do
  case "$g" in
    java) need default-jdk-headless ;;  # javac too: fvm tlc distributed compiles its launcher
    uml)  for p in linux-source-6.1 bc flex bison libelf-dev build-essential patch xz-utils diffstat; do need "$p"; done ;;
    *) echo "setup.sh: unknown group '$g' (want: java, uml)" >&2; exit 2 ;;
  esac
done

[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: missing Debian packages: ${want[*]}; run as root or: sudo apt-get install -y ${want[*]}" >&2
  exit 1
fi
echo "setup: installing ${want[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
