// Package mutate is the mutation suite's data and mechanics: a list of
// deliberate, realistic bugs (mutants.txt: rounding, off-by-one, comparison
// direction, a forgotten read-back, a dropped sample, a unit mix-up), each a
// search/replace on one file of the repository with the tests that should
// catch it, and the code that parses the list and applies one mutant to a
// file's text. cmd/mutate (make mutate) applies them one at a time to a
// scratch copy of the repository and reports which test caught each; a test
// here keeps every mutant applicable to the current source, so that a
// refactor cannot silently turn the list into mutants that no longer apply.
package mutate
