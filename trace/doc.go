// Package trace is the JSONL trace format of friendly-vm, version 2: Go
// types for every event, a Writer that writes each line with one call (the
// guest controller may be killed at any moment) and can fsync, and a strict
// Reader.
//
// One JSON object per line. Every line has "v" (the schema version), "kind",
// "vm" (the VM's index, 0-based) and "t_ns" (host monotonic nanoseconds, or
// a guest clock whose offset the header records). The kinds are header,
// sample, decide, actuate, host, gap and end. Each kind's fields are
// described once, in the table of format.go (name, type, optional or not,
// range, and for headers whether the field is part of the Model every
// header of a VM must agree on); the Reader, the Writer and ModelDiff are
// derived from it. NewHeader builds a header from a Model, for the
// simulator and the controller alike. The Reader also reads version 1,
// which spelled the delay bound "d" and had gap_tolerated (read as loss).
//
// The Reader rejects, with the file name and line number: an unknown
// version or a change of version within a file, malformed JSON, an unknown
// kind or field, a missing required field, a value out of range, a line
// longer than MaxLine, a truncated last line, an event for a VM before its
// header, a second header or anything after the end of a VM, and
// non-monotonic or duplicate sequence numbers (sample, decide, actuate, host
// and gap sequence numbers strictly increase per VM). It never panics.
// Whether a well-formed trace is a behaviour of the reference model is the
// business of package trace/refine (the mapping is in trace/REFINEMENT.md,
// with a checklist of what a controller logs).
//
// Layering: this package imports only package vocab, so that the in-guest
// controller (which must stay independent of the reference model) can
// write traces with it.
package trace
