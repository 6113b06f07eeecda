// Package cgroup is the Linux interface of friendly process groups: it
// finds the CPU controller (cgroup v2 when the unified hierarchy offers
// the cpu controller, else cgroup v1's cpu and cpuacct hierarchies), makes
// and removes the groups of `fvm friendly` (directories named Prefix+owner
// at each hierarchy's root),
// moves processes in and back, writes the CFS bandwidth quota (cpu.max in
// v2; cpu.cfs_quota_us and cpu.cfs_period_us in v1), reads the group's
// counters (CPU time, throttled time) and each task's scheduler
// statistics (/proc/<tid>/schedstat: time on a CPU and run delay), and
// sweeps up groups whose owner died.
//
// Every file access goes through FS, so that the same code runs on the
// real cgroupfs and procfs (OS) and on a fake tree in a temporary
// directory (package cgrouptest) that behaves like the kernel's.
package cgroup
