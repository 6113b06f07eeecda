// Package spec checks the reference model: it instantiates the generic
// explicit-state checker (spec/mc) for ref, with packed states, symmetry
// over identical FVMs, lossy ticks marked transient (the fairness
// assumption that losses end), and the properties of spec/MODEL.md, listed
// once in Properties (TypeOK, Bounds, DelayBound, NoStarvation, Deadlock,
// Efficient, DemandsConverge, Utilised, FairShares), plus the long-run
// shares and utilisation of every limit set.
package spec
