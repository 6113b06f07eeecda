// Package ref is the reference state machine of friendly-vm: N Friendly VMs
// sharing a host, each adjusting its demand with a pluggable rule (AIMD by
// default) on congestion samples that reach it through a bounded-delay FIFO.
//
// It is the oracle for everything else: the model checker (spec), the TLA+
// model (tla), the analytic proofs (proofs) and the trace refinement checker
// (trace/refine) all agree with it. It is pure: no I/O, no goroutines, no
// floating point in the transition relation; it imports only package vocab.
//
// The semantics are written down in spec/MODEL.md:
//
//   - Demands d_i are integers in [Dmin, Dmax], in units of 1/U of one core.
//   - Initial states: every demand vector in [Dmin, Dmax]^N, FIFOs empty.
//   - HostTick observes the current demands through the host model and
//     appends one congestion bit to every FVM's FIFO. FIFO i holds at most
//     Delay_i+1 samples: without Loss, HostTick is disabled while one is
//     full (no sample is dropped and none waits more than Delay_i further
//     ticks); with Loss, a full FIFO drops its oldest sample.
//   - Act(i) consumes FVM i's oldest sample and applies the rule.
//
// In open mode (Action.Open) HostTick takes the congestion bits as input
// instead of computing them, and the environment's Hold action may set a
// demand outside the rule (a safe fallback, a restart): the trace checker
// drives the reference with what a real run observed and did.
//
// EfficiencyBand, FairTolerance, DemandFloor and DemandCeiling derive the
// constants the liveness properties use, proved in proofs/: the efficiency
// band and the rounding residual of the shared host, and the demand floor
// and ceiling of the duty hosts with the steal signal.
package ref
