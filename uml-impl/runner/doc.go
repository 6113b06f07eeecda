// Package runner runs Friendly VM experiments on the real system: N FVM
// guests (the patched UML kernel running fvmd, the controller) and G greedy
// guests (the same kernel and daemon with the demand pinned at one core, so
// pause 0: a non-adaptive VM), all pinned to one host core, each running a
// workload (fvmwork: a CPU spin that reports progress, a memory toucher or
// an I/O writer), with staggered joins and leaves and a deadline that kills
// hung guests.
//
// A run writes RUN_DIR/:
//
//	spec.json        what was run
//	<vm>.jsonl       one trace per VM (trace format v1): the guest's
//	                 header/sample/decide/actuate/gap events merged with the
//	                 runner's host events (host CPU per 100 ms, from
//	                 /proc/<pid>/schedstat over the guest's whole process
//	                 tree) and ending with an end event (the runner writes
//	                 one with clean=false for a guest that was killed)
//	raw/             what the guests wrote: raw traces (*.guest), progress
//	                 (*.progress), daemon cost (*.fvmd.json), consoles
//	summary.json     per-VM shares, progress and mean pause; Jain index,
//	                 utilisation and convergence time (Summarize; the
//	                 definitions are in uml-impl/README.md)
//
// Experiments names the paper's scenarios (pair, four, join-leave, greedy,
// hetero, pressure, overhead, fidelity) as Specs for a signal.
package runner
