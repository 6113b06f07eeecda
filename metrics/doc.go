// Package metrics defines, once, the figures every summary and report of
// friendly-vm uses: Jain's fairness index, the utilisation of the core,
// and the convergence time of a run. The checker's limit sets, the trace
// checker's summary, the runner's summary.json and the reports all call
// these, each in one unit: shares are fractions of one core, times are
// nanoseconds.
package metrics
