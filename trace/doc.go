// Package trace is the JSONL trace format of friendly-vm, version 1
// (design.md, "Trace format"): Go types for every event, a buffered Writer
// that flushes each line (the guest controller may be killed at any moment)
// and can fsync, and a strict Reader.
//
// One JSON object per line. Every line has "v" (the schema version, 1),
// "kind", "vm" (the FVM's index, 0-based) and "t_ns" (host monotonic
// nanoseconds, or a guest clock whose offset the header records). The kinds
// are header, sample, decide, actuate, host, gap and end; their fields are
// listed on the Go types (the JSON name of every field is its tag) and in
// trace/REFINEMENT.md.
//
// The Reader rejects, with the file name and line number: an unknown
// version, malformed JSON, an unknown kind or field, a missing required
// field, a value out of range, a line longer than MaxLine, a truncated last
// line, an event for a VM before its header, a second header or anything
// after the end of a VM, and non-monotonic or duplicate sequence numbers
// (sample, decide, actuate, host and gap sequence numbers strictly increase
// per VM). It never panics. Whether a well-formed trace is a behaviour of
// the reference model is the business of package trace/refine (the mapping
// is in trace/REFINEMENT.md, with a checklist of what a controller logs).
//
// Layering: this package imports nothing of friendly-vm, so that the
// in-guest controller (which must stay independent of the reference model)
// can write traces with it. Rationals are therefore this package's own Rat.
package trace
