package fuzz

import (
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// windowNs is the kernel's nominal window (uml-impl/README.md).
const windowNs = vocab.WindowNs

// kernelWindow returns the window the patched kernel would report for
// window seq starting at start, lasting wall ns, in which the VM used cpu ns
// and was idle and paused for the given times. Derived fields follow the
// kernel's formulas, so controller.Garbage accepts the result.
func kernelWindow(seq, start, wall, cpu, idle, pause, pausePermille uint64) controller.Window {
	sat := func(a, b uint64) uint64 {
		if a > b {
			return a - b
		}
		return 0
	}
	want := sat(wall, idle+pause)
	steal := sat(want, cpu)
	w := controller.Window{
		Seq: seq, StartNs: start, EndNs: start + wall, WallNs: wall, CPUNs: cpu, IdleNs: idle,
		PauseNs: pause, WantNs: want, StealNs: steal, StealPermille: 1000 * steal / wall,
		PausePermille: pausePermille, PeriodUs: 10000,
	}
	if cpu > 0 {
		w.VCTPermille = 1000 * want / cpu
	}
	return w
}

// signalPermille is the controller's raw signal for a valid window: the
// value the tests compare with theta independently of the controller.
func signalPermille(cfg controller.Config, w controller.Window) uint64 {
	if cfg.Signal == vocab.Steal {
		return w.StealPermille
	}
	switch {
	case w.CPUNs == 0 && w.WantNs > 0:
		return 1_000_000
	case w.CPUNs == 0:
		return 1000
	case w.VCTPermille > 1_000_000:
		return 1_000_000
	}
	return w.VCTPermille
}
