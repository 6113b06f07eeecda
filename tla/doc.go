// Package tla connects friendly-vm to TLC, the TLA+ model checker.
//
// The model itself is tla/FVM.tla, a restatement of spec/MODEL.md whose
// states are exactly the reference model's states (ref.State): the demand
// vector d and the FIFOs q, nothing else, so that TLC and the Go checker
// report the same number of distinct states. This package
//
//   - generates the model files tla/generated/MC_<config>.tla/.cfg from the
//     JSON configurations in spec/configs (Generate), with the efficiency
//     band and the fairness tolerance computed by package proofs;
//   - runs TLC on them and parses its output: distinct states, verdicts per
//     property, counterexample length (Run, ParseOutput);
//   - proves, per configuration, that every intermediate product of
//     FVM.tla's integer arithmetic fits TLC's 32-bit integers
//     (MaxIntermediate);
//   - turns a simulated behavior into a trace module for tla/FVMTrace.tla,
//     which TLC checks to be a behavior of FVM (trace validation).
//
// The tests cross-check TLC against an exhaustive search over the
// reference model (ref.Init, ref.Enabled, ref.Step) and against the Go
// checker. They need the TLA+ tools: the jar is taken from $TLA2TOOLS
// (the Makefile defaults it to ../shared/tools/tla2tools.jar); without it
// the TLC tests print one "SKIP tlc: ..." line and are skipped.
package tla
