# friendly-vm — see README.md. `make verify` and `make test` do their own set-up.
GO        ?= go
OUT       ?= out
FUZZTIME  ?= 30s
# TLC: taken from the environment, else the workplace copy beside this checkout.
TLA2TOOLS ?= $(firstword $(wildcard $(abspath ../shared/tools/tla2tools.jar)))
export TLA2TOOLS

.PHONY: all build verify test test-unit test-uml setup setup-java setup-uml check bench bench-mc bench-uml fuzz tlc uml clean

all: build

build:
	$(GO) build ./...

setup: setup-java setup-uml
setup-java:
	@scripts/setup.sh java
setup-uml:
	@scripts/setup.sh uml

# check: static checks only (fast).
check:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed on:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

# test: every test, including TLC and the real UML kernel tests.
test: setup check test-unit test-uml

# The tla tests run TLC on every check.tlc configuration (several CPU-minutes, more on a busy
# machine: hence the timeout); without the TLA+ tools they are skipped, said here once.
test-unit:
	@[ -n "$(TLA2TOOLS)" ] && [ -f "$(TLA2TOOLS)" ] && command -v java >/dev/null || echo "SKIP tlc: set TLA2TOOLS to tla2tools.jar (make uses ../shared/tools/tla2tools.jar when present; download: https://github.com/tlaplus/tlaplus/releases/latest/download/tla2tools.jar) and install Java (make setup-java)"
	$(GO) test -count=1 -timeout 45m ./...

# uml: build (or reuse from the cache) the patched UML guest kernel and print its path.
uml: setup-uml
	$(GO) run ./cmd/fvm uml build

# Real-kernel tests measure CPU shares, so they run serially, after everything else.
# They build the kernel first (~3-5 min on 2 cores, cached in ~/.cache/friendly-vm/uml
# or $$FVM_CACHE/uml) and pin guests to host CPU 0.
test-uml: setup-uml
	@k=$$($(GO) run ./cmd/fvm uml build) && echo "test-uml: kernel $$k" && \
	FVM_KERNEL=$$k $(GO) test -tags umlkernel -p 1 -count=1 -v -timeout 20m ./uml-impl/kernel/
	@k=$$($(GO) run ./cmd/fvm uml build) && \
	FVM_KERNEL=$$k $(GO) test -tags umlkernel -p 1 -count=1 -v -timeout 15m -run '^TestReal' ./uml-impl/runner/

# bench-uml: overhead of the patch (busy-loop throughput, patched vs unpatched kernel).
bench-uml: setup-uml
	$(GO) run ./cmd/fvm uml bench

verify: setup build
	@mkdir -p $(OUT)
	$(GO) run ./cmd/fvm verify --out $(OUT)

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./spec/... ./trace/...
	$(MAKE) bench-uml

# tlc: TLC on tla/FVM.tla for every configuration marked check.tlc (every property, and the
# invariants with symmetry where the configuration allows it). Without the TLA+ tools it
# prints one "SKIP tlc:" line saying how to get them.
tlc: setup-java
	$(GO) run ./cmd/fvm tlc --all --skip-missing

# bench-mc: TLC (-workers auto) against the Go checker on configs/medium.json, safety
# only: distinct states/s and their ratio with symmetry off in both, then the time to a
# verdict with symmetry on in both.
bench-mc: setup-java
	$(GO) run ./cmd/fvm tlc bench --config medium --skip-missing

fuzz:
	@FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

clean:
	rm -rf $(OUT)
	$(GO) clean -testcache
