// Package configs holds the named model configurations, as data: one source
// of truth for the Go model checker, the TLA+ model files, the proofs, the
// simulator and the controller's defaults (deployed.json describes what fvmd
// runs, deployed-sleep.json what it runs with a sleeping pause, and a test
// keeps each equal to its controller configuration). Each *.json file here is one
// configuration; Load turns a name or a file into validated ref.Params plus
// what the checker should do with it and which verdicts are expected.
package configs
