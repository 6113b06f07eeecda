// Package proofs is the analytic side of friendly-vm: the bounds and
// predictions that the written proofs in proofs/*.md derive, computed for a
// configuration. The model checker takes its Efficient band and Fair
// tolerance from here (one source), and the tests assert that simulation and
// the checker agree with them.
package proofs
