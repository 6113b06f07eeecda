// Package proofs is the analytic side of friendly-vm: the bounds and
// predictions that the written proofs in proofs/*.md derive (README.md
// lists the theorems and the tests that check them), computed for a
// configuration.
//
// Analyze builds, for a ref.Params, the Shorten–Wirth–Leith epoch matrix
// of synchronous AIMD and its eigen-decomposition (gonum/mat): the fair
// point (the Perron vector, proportional to alpha_i/(1-beta_i)), the
// convergence rate per congestion epoch (the second eigenvalue), the
// efficiency band of the shared host (ref.EfficiencyBand), the rounding
// residual of fairness (ref.FairTolerance), the stability margin of the delayed
// fluid model, the difference-mode verdict of the averaged dynamics for
// the fair and duty hosts and their signals, and the integer model's
// distance from the fair point.
//
// The model checker (package spec) takes its Efficient band and Fair
// tolerance from here (one source), and the tests assert that simulation
// (ref.Simulate) and the checker agree with every bound. WritePlots draws
// the Chiu–Jain phase plot and the fairness gap against congestion epochs,
// predicted against simulated.
package proofs
