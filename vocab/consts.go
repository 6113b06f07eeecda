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
