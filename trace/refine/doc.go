// Package refine checks that traces of the real system (or of a
// simulation) refine the reference state machine ref, and converts
// simulated ref runs to traces.
//
// The mapping from trace events to reference steps is written down in
// trace/REFINEMENT.md. In short, each VM's events are checked
// independently against an N=1 reference model built from the VM's header,
// driven in open mode: a sample is an open HostTick whose congested bit is
// the environment's input, a decide is Act(0) (a hold is Act(0) then ref's
// open-mode Hold, or Hold alone when it consumes no window), and headers,
// actuations, host measurements and the end are stuttering steps with checks of their own (actuation read
// back, host-vs-guest consistency).
//
// Check streams the files (memory grows only by a few words per decision
// and host measurement, kept for the convergence time and the shares); it
// returns a Result with either the first non-refining event (and its
// context) or a Summary of the run: events, windows, shares, Jain index,
// efficiency, convergence time and model fidelity.
package refine
