package vocab

// The real system's time base and kernel limits (uml-impl/README.md,
// "Kernel interface"). The model, the trace format, the controller and the
// runner all use these.
const (
	// WindowNs is the sampling window: the kernel measures the contention
	// signal once per window, and a sample of the model is one window.
	WindowNs = 100_000_000
	// PeriodUs is the default actuation period: the duty-cycle pause is
	// taken once per period.
	PeriodUs = 10_000
	// IdlePeriodUs is the default actuation period of work-conserving
	// pauses, the UML guests' and the friendly groups': one switch to idle
	// priority and back per window (a guest: SCHED_IDLE and its session's
	// autogroup at nice 19; a group: cpu.idle). At the sleeping pause's 10 ms
	// a guest at 900‰ beside a busy guest still got 32% of the core, 21% of
	// it at idle priority (our reading, not verified in the scheduler: the
	// host's EEVDF keeps a group's lag across a change of weight, and the VM's
	// weight changed 200 times a second); at 100 ms it got 4-6%, 0.15% at idle
	// priority, as the duty-idle host model says (uml-impl/README.md,
	// "Work-conserving pause").
	IdlePeriodUs = 100_000
	// IdlePeriodStepUs is the default step between the VMs' periods with
	// work-conserving pauses. Two VMs' normal-priority parts meet at a
	// relative phase that moves by the step every period, through a whole
	// period in P²/step: at 100 ms and a step of 1 ms (the sleeping pause's
	// proportion) that is 10 s, and four FVMs' shares followed the phase for
	// seconds at a time, one of them taking half the core while the others
	// backed off, so that the Jain index over 5 s kept falling below 0.9 for
	// half a minute; at 13 ms the cycle is 0.77 s, under eight windows, and the
	// same four stayed fair from the start (the committed comparison,
	// README.md). The price: a VM's windows last about its period, so VM i
	// decides at 1/(P + i·step) a second; its share did not follow.
	IdlePeriodStepUs = 13_000
	// MaxPausePermille is the largest pause the kernel accepts; the
	// smallest demand a controller can actuate is 1 - 950/1000 of a core.
	MaxPausePermille = 950
	// RingSize is how many recent windows the kernel keeps for a reader.
	RingSize = 64
	// MaxDelay is the largest delay bound (windows a sample may wait): the
	// reference model's FIFOs hold at most MaxDelay+1 samples.
	MaxDelay = 15
)

// PausePermille is the pause that actuates demand d of u units per core:
// the largest pause whose awake fraction 1 - pause/1000 is at least d/u,
// floor((u-d)*1000/u). It is exact when u divides 1000.
func PausePermille(u, d int) int64 {
	if u <= 0 {
		return 0
	}
	return int64(u-d) * 1000 / int64(u)
}
