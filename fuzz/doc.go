// Package fuzz holds the adversarial tests of the guest controller: go test
// -fuzz targets (the controller under delay, jitter and garbage feedback;
// the trace reader; the kernel's window format) and the state-machine
// property suites that hold the controller to the reference model: N
// controllers in lockstep with ref (rapid), and command sequences on its
// external interface (gopter). The package has no API: its tests are the
// product.
package fuzz
