// Package friendly runs one command as a friendly process group: the
// command runs in its own cgroup (package cgroup), and the same controller
// core as the UML guests' fvmd (uml-impl/controller, unchanged) adapts the
// group's CPU quota with AIMD on the group's steal, through the ports of
// package port; with Config.IdlePause (fvm friendly --pause-mode idle) the
// pause is taken at idle priority instead of as a quota (cpu.idle for the
// pause's part of each period: work-conserving, host model duty-idle). The trace (JSONL, package trace, version 2) and a
// summary go to the run directory, as for `fvm uml run`, and the trace
// refines the reference model like a guest's (`fvm trace check`).
//
// A run (Run):
//
//  1. finds the cpu controller (cgroup v2 if it offers it, else v1),
//     sweeps up groups whose owner died (Layout.Sweep), and makes the
//     group fvm-friendly-<pid>-<start time> (cgroup.Prefix) at the
//     hierarchy's root, a scheduling entity of its own beside the others,
//     with the period and no quota;
//  2. starts the watchdog (below), writes the trace header and enforces
//     the initial demand;
//  3. starts the command through the exec helper: a child that waits on a
//     pipe until the controller has moved it into the group, then pins
//     itself if asked and execs the command, so the command runs under
//     control from its first instruction and keeps its pid;
//  4. polls once per window (timed to the next window's end, as fvmd),
//     tracing samples, decisions, actuations and a host event per window
//     (the CPU of the group's tasks summed from /proc/<tid>/schedstat: an
//     accounting path independent of the cgroup's, which the trace checker
//     compares with the windows' cpu_ns); signals it receives are passed
//     on to the command;
//  5. when the command exits: writes the end event, lifts the quota (or
//     ends the idle-priority switches, the group left at normal priority),
//     moves whatever is left in the group (processes the command left
//     behind) back to the caller's cgroups, removes the group, writes the
//     summary, and returns the command's exit status (128+N for a command
//     killed by signal N).
//
// The controller dying (kill -9) must not leave the command throttled.
// The command runs on, unthrottled: it is the user's work, and losing it
// because the controller died would be worse than losing friendliness;
// unthrottled is exactly what the command gets without fvm friendly. The
// watchdog, a helper process in its own session (terminal signals do not
// reach it; it ignores SIGINT, SIGTERM and SIGHUP), holds the read end of
// a pipe whose only write end the controller holds (close-on-exec, so the
// command does not inherit it). The kernel closes that end when the
// controller dies, however it dies; the watchdog then reads end-of-file
// at once and releases the group (quota lifted, processes moved back,
// group removed), appends an unclean end event to the trace and writes
// the summary marked incomplete. After a normal exit it finds the group
// gone and does nothing. Only killing both the controller and the
// watchdog leaves a group behind: the next run's sweep lifts its quota
// and removes it once it is empty.
package friendly
