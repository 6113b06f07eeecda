// Package controller is the Friendly VM guest controller: the control loop
// that runs inside each User-Mode Linux guest, reads the kernel's window
// ring (/proc/fvm/windows), turns every window into a congestion bit and
// moves the VM's demand with a pluggable rule, and writes the resulting
// duty-cycle pause to /proc/fvm/pause_permille.
//
// The package is split like a protocol implementation:
//
//   - Core is pure: no I/O, no clock, no goroutines. It is fed reads of the
//     ring (Observe) with the host time of each read and returns trace
//     events and the pause to enforce. It consumes every window exactly
//     once and in order of seq, ignores duplicates and stale windows,
//     reports windows it never saw (ring overflow) or had to skip (older
//     than the delay bound D) as gap events, holds a safe demand when
//     windows stop coming or keep being garbage, and says so in the trace.
//   - SignalSource and Actuator are the I/O it needs, defined here where
//     they are consumed: ProcSource and ProcActuator talk to /proc/fvm;
//     MemSource and MemActuator are in-memory ones for tests and property
//     suites (no kernel needed).
//   - Loop glues a Core to a source, an actuator and a trace Sink; Run
//     polls on a ticker until its context is cancelled. After every
//     decision it enforces the decided pause and traces the read-back.
//     TraceFile is the JSONL sink (package trace's Writer on a file: the
//     complete lines of a poll go out in one write(2) at its end, fsynced
//     by Sync and Close).
//
// Events are package trace's (format version 2); trace imports nothing of
// the model, so using it keeps the controller independent.
// What the trace format has no field for (why a window was garbage, why a
// gap happened) is summed up in the end event's reason.
//
// The rule is an independent re-implementation of the reference model's
// (package ref; spec/MODEL.md), deliberately not imported: the trace
// checker holds this implementation to the reference. Demands d are
// integers in units of 1/U of one core, in [Dmin, Dmax]:
//
//	not congested: AIMD, AIAD: d' = min(d+alpha, Dmax)
//	               MIMD:       d' = min(ceil(mu*d), Dmax)
//	congested:     AIMD, MIMD: d' = max(floor(beta*d), Dmin)
//	               AIAD:       d' = max(d-delta, Dmin)
//
// with the branch "clamp" whenever the unclamped result falls outside
// [Dmin, Dmax]. The VM's demand is its awake fraction r = d/U = 1 − pause,
// so the pause written to the kernel is 1000 − 1000·d/U permille (U divides
// 1000, so the mapping is exact).
//
// The congestion bit of a window is signal_permille > theta_permille, where
// signal is the window's steal_permille or vct_permille (Config.Signal),
// optionally smoothed by an integer EWMA (Config.EWMA, floor rounding).
// The trace records the raw values, the smoothed one and the bit.
package controller
