// Package vocab is the vocabulary every layer of friendly-vm spells the
// same way: the exact rational type and its text form, the enumerations
// (host model, signal, rule, decision branch) with one order and one set of
// names, and the constants of the real system's time base (window,
// actuation period) and kernel limits.
//
// It is a leaf: it imports nothing of friendly-vm, so that the reference
// model (ref), the trace format (trace), the configurations and the in-guest
// controller can all use it without depending on each other. The
// controller's rule and state machine stay its own (the trace checker holds
// them to ref); only the words are shared.
package vocab
