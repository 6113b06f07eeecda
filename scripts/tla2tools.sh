#!/usr/bin/env bash
# tla2tools.sh prints the path of TLC's tla2tools.jar, fetching it first when
# it is missing and the network allows. TLC is in no package registry, so
# this is the one download the build makes: a pinned release, checked
# against its SHA-256.
#
# Order: $TLA2TOOLS if set and present; ../shared/tools/tla2tools.jar beside
# the checkout (a workplace copy); the cached download in
# ${FVM_CACHE:-~/.cache/friendly-vm}/tla2tools.jar; else a fresh download
# there. Prints nothing (exit 0) when none can be had: the TLC tests then
# skip with one line saying so.
set -euo pipefail

version=v1.8.0
url="https://github.com/tlaplus/tlaplus/releases/download/$version/tla2tools.jar"
sha=1ab674e5de8d230c1740b659725d5cf7d28b63e643b697e0dd53def188c70340

top=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${TLA2TOOLS:-}" ] && [ -f "$TLA2TOOLS" ]; then echo "$TLA2TOOLS"; exit 0; fi
if [ -f "$top/../shared/tools/tla2tools.jar" ]; then
  (cd "$top/../shared/tools" && echo "$(pwd)/tla2tools.jar"); exit 0
fi
cache="${FVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/friendly-vm}"
jar="$cache/tla2tools.jar"
check() { echo "$sha  $1" | sha256sum --check --status; }
if [ -f "$jar" ] && check "$jar"; then echo "$jar"; exit 0; fi
mkdir -p "$cache"
tmp="$jar.part.$$"
trap 'rm -f "$tmp"' EXIT
if ! curl -fsSL --connect-timeout 10 --max-time 300 -o "$tmp" "$url" 2>/dev/null; then
  echo "tla2tools.sh: cannot download $url (no network?)" >&2
  exit 0
fi
if ! check "$tmp"; then
  echo "tla2tools.sh: $url does not have the pinned SHA-256 $sha: not used" >&2
  exit 0
fi
mv "$tmp" "$jar"
echo "$jar"
