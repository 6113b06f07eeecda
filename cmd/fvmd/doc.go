// Command fvmd is the Friendly VM guest controller daemon. It runs inside a
// patched User-Mode Linux guest (a static binary: CGO_ENABLED=0), reads the
// kernel's windows from /proc/fvm (each read of "next" waits for the next
// window; on a version-1 kernel it polls "windows"), applies the control
// rule, writes the duty-cycle pause of each read's last decision (warmed up
// and with its pages locked before the first read), and appends every sample, decision and
// actuation to a JSONL trace (complete lines only, written at most once per
// -flush-every and at exit; fsynced on exit and on SIGTERM).
//
// Usage:
//
//	fvmd -trace /mnt/run/vm0.jsonl -vm 0 -n 2 [-signal steal|vct] [-theta PERMILLE]
//	     [-rule aimd|mimd|aiad] [-alpha N] [-beta R] [-u N] [-dmin N] [-dmax N]
//	     [-init N] [-delay N] [-ewma R] [-interval 100ms] [-duration 30s]
//	     [-flush-every 1s] [-poll-log FILE]
//
// It stops cleanly after -duration, or on SIGTERM/SIGINT, writing an end
// event. A greedy (non-adaptive) guest runs it with -dmin, -dmax and -init
// all equal to -u: its demand is pinned at one core (pause 0), and its trace
// still records the signal it sees. Run it with GODEBUG=asyncpreemptoff=1
// (the runner does): in a paused guest every preemption signal is one more
// round trip through the host.
package main
