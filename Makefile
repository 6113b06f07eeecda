# friendly-vm — see README.md. `make verify` and `make test` do their own set-up.
GO        ?= go
OUT       ?= out
FUZZTIME  ?= 30s
# TLC: taken from the environment, else the workplace copy beside this checkout.
TLA2TOOLS ?= $(firstword $(wildcard $(abspath ../shared/tools/tla2tools.jar)))
export TLA2TOOLS

.PHONY: all build verify test test-unit test-uml setup setup-java setup-uml check bench bench-mc fuzz tlc uml clean

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

test-unit:
	$(GO) test -count=1 ./...

# Real-kernel tests measure CPU shares, so they run serially, after everything else.
test-uml:
	@echo "test-uml: no real-kernel tests yet"

verify: setup-java build
	@mkdir -p $(OUT)
	$(GO) run ./cmd/fvm verify --out $(OUT)

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./spec/...

fuzz:
	@echo "fuzz: no fuzz targets yet"

clean:
	rm -rf $(OUT)
	$(GO) clean -testcache
