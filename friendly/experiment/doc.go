// Package experiment runs friendly groups against each other and against
// the usual alternatives, each run on one pinned core: the named
// experiments of `fvm friendly experiment` (pair, four, greedy, job),
// their summaries (shares over the second half of the common interval,
// Jain index of the friendly groups, utilisation, convergence time, the
// latency of a latency-sensitive loop) and their tables.
//
// Every participant is a real process tree pinned to the run's CPU: a
// friendly group is `fvm friendly` (its own process group, with the
// command in it), anything else is started through the exec helper (pin,
// nice, SCHED_IDLE) in its own process group, in the runner's session, so
// that nice acts against the other participants (with autogroups, nice
// only orders the tasks of one session). The runner keeps its own threads
// off the run's CPU.
//
// A run writes RUN_DIR/:
//
//	spec.json           what was run
//	<group>.jsonl       each friendly group's trace (vm i of n), with its
//	                    host events; `fvm trace check RUN_DIR` checks them
//	raw/<name>.cpu      "t_ns cpu_ns" every 100 ms: the cumulative CPU of
//	                    each other participant's process group (its
//	                    threads' /proc schedstat; a task that exits keeps
//	                    what was read of it last)
//	raw/<name>.latency  "t_ns response_ns" of the latency loop
//	raw/<group>.summary.json, raw/<name>.log
//	summary.json        Summary
package experiment
