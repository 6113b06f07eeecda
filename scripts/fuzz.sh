#!/usr/bin/env bash
# fuzz.sh runs every go test -fuzz target in the module for FUZZTIME each.
# The inputs the fuzzer found interesting (kept by Go in its cache) are
# copied into the package's testdata/fuzz/<target>/ corpus, which plain
# `go test` (and so `make test`) replays; commit the ones worth keeping.
set -euo pipefail
FUZZTIME=${FUZZTIME:-30s}
GO=${GO:-go}
found=0
for pkg in $($GO list ./...); do
  for target in $($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    found=$((found + 1))
    echo "fuzz: $pkg $target for $FUZZTIME"
    $GO test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 5s
    dir=$($GO list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$target
    cache=$($GO env GOCACHE)/fuzz/$pkg/$target
    if [ -d "$cache" ]; then
      mkdir -p "$dir"
      cp -n "$cache"/* "$dir"/ 2>/dev/null || true
    fi
  done
done
[ "$found" -gt 0 ] || { echo "fuzz: no fuzz targets found" >&2; exit 1; }
echo "fuzz: $found targets ran clean"
