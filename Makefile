# friendly-vm — see README.md. `make verify` and `make test` do their own set-up.
GO        ?= go
OUT       ?= out
FUZZTIME  ?= 30s
# TLC's tla2tools.jar (in no package registry): scripts/tla2tools.sh prints
# $TLA2TOOLS, a workplace copy beside this checkout, or the cached pinned
# release, which `make setup` downloads (checked against its SHA-256) when it
# is missing and the network allows.
TLC_JAR = $$(scripts/tla2tools.sh)

.PHONY: all build verify test test-unit test-race test-uml test-friendly setup setup-java setup-uml check bench bench-mc bench-uml fuzz mutate mutate-go tlc uml clean

all: build

build:
	$(GO) build ./...

setup: setup-java setup-tlc setup-uml
setup-java:
	@scripts/setup.sh java
setup-tlc:
	@jar=$(TLC_JAR); [ -n "$$jar" ] && echo "setup: TLC $$jar" || echo "setup: no tla2tools.jar (no network?): the TLC tests will be skipped"
setup-uml:
	@scripts/setup.sh uml

# check: static checks only (fast).
check:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed on:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags umlkernel ./uml-impl/...
	$(GO) vet -tags friendlyreal ./friendly/...

# test: every test, including TLC, the real UML kernel tests and the real friendly groups.
test: setup check test-unit test-uml test-friendly

# The tla tests run TLC on every check.tlc configuration (several CPU-minutes, more on a busy
# machine: hence the timeout); without the TLA+ tools they are skipped, said here once.
# The packages of RACE_PKGS run only under the race detector (test-race), the others without.
test-unit: test-race
	@jar=$(TLC_JAR); [ -n "$$jar" ] && command -v java >/dev/null || echo "SKIP tlc: no tla2tools.jar or no Java: the TLC tests of package tla are skipped (make setup fetches the jar when the network allows; make setup-java installs Java)"
	TLA2TOOLS=$(TLC_JAR) $(GO) test -count=1 -timeout 45m $$($(GO) list ./... | grep -v -x $(foreach p,$(RACE_PKGS),-e '$(MODULE)/$(p:./%=%)'))

# -race where goroutines meet and the cost allows. The host package (a CPU sampler, console
# readers and a killer per guest), the runner (a goroutine per guest: its real-kernel tests in
# test-uml run under the detector too; the guests, pinned to their own CPU, do not feel it),
# the controller (the daemon's timer loop) and the friendly groups (fvm friendly's controller,
# watchdog and signal goroutines, the ports, the experiment runner's samplers and waiters:
# about 15 s under the detector) run all their unit tests under it. The model checker's engine
# (spec/mc: parallel workers sharing the visited set while it grows) runs the tests that
# exercise its workers (RACE_MC) under it as well; all its tests, the million-state one too,
# run without it in test-unit. Everything else runs in one goroutine (ref, trace, the
# fuzz/rapid/gopter suites, proofs, sim) or drives TLC and the CLI as subprocesses (tla,
# cmd/fvm): there the detector has nothing to find and would only multiply the time.
MODULE    = github.com/friendly-vm/fvm
RACE_PKGS = ./uml-impl/host ./uml-impl/runner ./uml-impl/controller ./friendly ./friendly/cgroup ./friendly/port ./friendly/experiment
RACE_MC   = TestRingCounts|TestShortestInvariantCounterexample|TestKeepGoingGivesEveryVerdict|TestDeterministicAcrossWorkers|TestWideFanOutGrowth|TestLivenessAgainstBruteForce|TestSymmetryRandomAutomata
test-race:
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)
	$(GO) test -race -count=1 -timeout 20m -run '^($(RACE_MC))$$' ./spec/mc

# mutate: the mutation suite (mutate/mutants.txt): every mutant applied alone to a scratch copy,
# its tests run, one table of what caught each; exits 1 if one survives. The kernel patch's
# mutants need real guests: a kernel per mutant (built incrementally in $FVM_CACHE/mutate), and
# the real-kernel tests they concern, serially; so, like test-uml, run it on a quiet machine
# (about 15 min on 2 cores with the kernel cached). mutate-go runs only the Go mutants (about
# 5 min, no kernel, no guests) and reports the kernel's as not run.
mutate: setup-uml
	$(GO) run ./cmd/mutate -kernel $(MUTATE_FLAGS)
mutate-go:
	$(GO) run ./cmd/mutate $(MUTATE_FLAGS)

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
	FVM_KERNEL=$$k $(GO) test -race -tags umlkernel -p 1 -count=1 -v -timeout 25m -run '^TestReal' ./uml-impl/runner/

# Real friendly groups (fvm friendly on this machine's cgroups) measure CPU shares too, so
# they run serially after everything else, pinned to CPU $$FVM_GUEST_CPU (default 0). Without
# root or a cgroup cpu controller they print one "SKIP friendly:" line.
test-friendly:
	$(GO) test -tags friendlyreal -p 1 -count=1 -v -timeout 15m -run '^TestReal' ./friendly/experiment/

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
tlc: setup-java setup-tlc
	TLA2TOOLS=$(TLC_JAR) $(GO) run ./cmd/fvm tlc --all --skip-missing

# bench-mc: TLC (-workers auto) against the Go checker on configs/medium.json, safety
# only: distinct states/s and their ratio with symmetry off in both, then the time to a
# verdict with symmetry on in both.
bench-mc: setup-java setup-tlc
	TLA2TOOLS=$(TLC_JAR) $(GO) run ./cmd/fvm tlc bench --config medium --skip-missing

fuzz:
	@FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

clean:
	rm -rf $(OUT)
	$(GO) clean -testcache
