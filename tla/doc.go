// Package tla connects friendly-vm to TLC, the TLA+ model checker.
//
// The model itself is tla/FVM.tla, a restatement of spec/MODEL.md whose
// states are exactly the reference model's states (ref.State): the demand
// vector d and the FIFOs q, nothing else, so that TLC and the Go checker
// report the same number of distinct states. This package
//
//   - generates the model files tla/generated/MC_<config>.tla/.cfg from the
//     JSON configurations in configs (Model.Files, `fvm tlc gen`), with
//     the efficiency band and the fairness tolerance computed by package
//     proofs;
//   - runs TLC on them and parses its output: distinct states, a verdict on
//     every property, counterexample lengths (Runner.Check, ParseOutput);
//   - bounds, per configuration, every intermediate of FVM.tla's integer
//     arithmetic, so that a test proves it fits TLC's 32-bit integers
//     (Model.Intermediates, Model.CheckIntRange);
//   - validates JSONL traces (as `fvm simulate` writes them) with
//     tla/FVMTrace.tla: TLC checks that the trace is a behavior of FVM
//     (Runner.CheckTrace, `fvm tlc trace`).
//
// The tests cross-check TLC against an exhaustive search over the
// reference model (ref.Init, ref.Enabled, ref.Step) and against the Go
// checker (spec.Check): equal distinct-state counts without and with
// symmetry, equal verdicts on every property, equal shortest
// counterexample lengths. They need the TLA+ tools: the jar is taken from
// $TLA2TOOLS (the Makefile sets it to what scripts/tla2tools.sh finds or
// fetches), else from the project's cache where that script keeps it;
// without it the TLC tests print one "SKIP tlc: ..." line and are skipped.
package tla
