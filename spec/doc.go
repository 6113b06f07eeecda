// Package spec checks the reference model: it instantiates the generic
// explicit-state checker (spec/mc) for ref, with packed states, symmetry
// over identical FVMs, and the properties of MODEL.md (TypeOK, Bounds,
// DelayBound, NoStarvation, Efficient, Fair) plus the long-run Jain index
// of every limit set.
package spec
