// Package docs regenerates the tables of measured numbers in the
// project's documents (spec/MODEL.md, proofs/mechanisms.md, README.md,
// uml-impl/README.md) from the model checker, the proofs' predictions, the
// simulations and the committed run data (testdata/runs), so that no
// number in a document is typed by hand: `fvm docs` rewrites them, and a
// test fails when a document disagrees.
//
// A document marks each generated block with a line
// `<!-- fvm:docs NAME -->` and ends it with `<!-- fvm:end -->`; what lies
// between is replaced by the block's rendering.
package docs
