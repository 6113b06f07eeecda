// Command fvmd is the Friendly VM guest controller daemon. It runs inside a
// patched User-Mode Linux guest (a static binary: CGO_ENABLED=0), reads the
// kernel's window ring in /proc/fvm, applies the control rule and writes the
// duty-cycle pause, and appends every sample, decision and actuation to a
// JSONL trace (one line per event, each poll's lines written together as
// soon as the poll ends; fsynced on exit and on
// SIGTERM).
//
// Usage:
//
//	fvmd -trace /mnt/run/vm0.jsonl -vm 0 -n 2 [-signal steal|vct] [-theta PERMILLE]
//	     [-rule aimd|mimd|aiad] [-alpha N] [-beta R] [-u N] [-dmin N] [-dmax N]
//	     [-init N] [-delay N] [-ewma R] [-interval 100ms] [-duration 30s]
//
// It stops cleanly after -duration, or on SIGTERM/SIGINT, writing an end
// event. A greedy (non-adaptive) guest runs it with -dmin, -dmax and -init
// all equal to -u: its demand is pinned at one core (pause 0), and its trace
// still records the signal it sees.
package main
