// Package configs holds the named model configurations, as data: one source
// of truth for the Go model checker, the TLA+ model files, the proofs, the
// simulator and the controller's default (deployed.json describes what fvmd
// runs, and a test keeps the two equal). Each *.json file here is one
// configuration; Load turns a name or a file into validated ref.Params plus
// what the checker should do with it and which verdicts are expected.
package configs
