// Package port holds the ports that put a friendly process group behind
// the unchanged controller core (uml-impl/controller): Source, a
// controller.SignalSource that turns the group's counters into the
// kernel's windows, and two controller.Actuators: Actuator enforces a
// pause as a CFS bandwidth quota (sleeping, host model duty), IdleActuator
// takes it at idle priority (cpu.idle, work-conserving, duty-idle).
//
// A window has the fields of /proc/fvm/windows (uml-impl/README.md) with
// the same meanings, measured for the group instead of a VM. Over a
// window of wall time W (host CLOCK_MONOTONIC, as the kernel's):
//
//	cpu   = the group's CPU time (cpuacct.usage; v2: cpu.stat usage_usec)
//	pause = the time its run queue was throttled (cpu.stat), at most W:
//	        what the quota took, the pause of the duty cycle
//	delay = the run delay of its tasks (/proc/<tid>/schedstat, field 2),
//	        summed; it includes the time a runnable task waits throttled
//	wait  = delay - pause (at least 0): waiting for a CPU while allowed
//	        to run, i.e. lost to other work
//	want  = min(cpu + wait, W - pause): the time the group wanted a CPU
//	idle  = W - pause - want,   steal = want - cpu
//
// so that want = W - idle - pause and steal = want - cpu exactly as in the
// kernel's windows (controller.Garbage accepts every window). For a group
// with one runnable task this is exact. With several tasks the run delays
// add up and include waits behind the group's own tasks; capping want at
// the unthrottled time W - pause bounds the error: a group that is always
// runnable gets steal = W - pause - cpu, its true loss.
//
// The quota is the duty cycle: demand d of U units per core is a quota
// of d/U of each period, so pause permille p gives quota
// floor(period·(1000-p)/1000), and a quota q reads back as the pause
// 1000 - ceil(1000·q/period), which is p again for every p and every
// period of at least 1 ms. A pause of 950 permille (the kernel's and the
// model's largest) needs a period of at least 20 ms for its quota to reach
// the kernel's 1 ms minimum (MinPeriodUs).
//
// A work-conserving pause (IdleActuator) puts the group at idle priority
// among its siblings (cpu.idle 1) for the pause's part of each period
// instead of throttling it, so it runs in its pause only when nothing at
// normal priority wants the CPU, as the UML guests' pause_mode idle. Each
// switch is a reading of the Source, which splits the window at them: the
// pause is the time at idle priority, cpu and the run delay (so wait, want
// and steal) count only the normal-priority part, and idle_cpu_ns is the
// CPU time the group got in its pauses.
package port
