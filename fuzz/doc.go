// Package fuzz holds the adversarial tests of the guest controller: go test
// -fuzz targets (the controller under delay, jitter and garbage feedback;
// the trace reader; the kernel's window format) and the state-machine
// property suites that drive the controller against the reference model
// (rapid) and against a model of its external interface (gopter). The
// package has no API: its tests are the product.
package fuzz
