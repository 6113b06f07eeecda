// Package kernel holds the tests of the real, patched User-Mode Linux
// kernel (uml-impl/patch): they boot guests with uml-impl/host and check the
// /proc/fvm interface, the contention signal and the duty-cycle actuator
// against the thresholds of issue 6.
//
// The tests are behind the build tag umlkernel so that `go test ./...`
// stays fast; `make test-uml` builds (or reuses) the kernel and runs them
// serially:
//
//	FVM_KERNEL=$(go run ./cmd/fvm uml build) go test -tags umlkernel -p 1 -count=1 -v ./uml-impl/kernel/
//
// They measure CPU shares on host CPU 0, so they need the machine to
// themselves.
package kernel
