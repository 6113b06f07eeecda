//go:build umlkernel

package kernel_test

import (
	"testing"
	"time"

	"github.com/friendly-vm/fvm/uml-impl/host"
)

// idle900 puts a guest in the work-conserving pause mode at 900‰: it is at
// normal host priority a tenth of every period and at SCHED_IDLE (its
// session's autogroup at nice 19) the rest.
const idle900 = "echo idle > /proc/fvm/pause_mode && echo 900 > /proc/fvm/pause_permille"

// idleWindows sums a guest's windows inside [t0, t1] as fractions of their
// wall time: the idle-priority part (pause), the CPU at normal priority,
// the CPU at idle priority, and the steal (normal-priority part).
type idleWindows struct {
	n                          int
	pause, cpu, idleCPU, steal float64
	modes                      map[uint64]int
}

func sumIdleWindows(ws []host.Window, t0, t1 int64) idleWindows {
	s := idleWindows{modes: map[uint64]int{}}
	var wall, pause, cpu, idleCPU, steal uint64
	for _, w := range ws {
		if int64(w.Start) < t0 || int64(w.End) > t1 {
			continue
		}
		s.n++
		s.modes[w.PauseMode]++
		wall += w.Wall
		pause += w.Pause
		cpu += w.CPU
		idleCPU += w.IdleCPU
		steal += w.Steal
	}
	if wall > 0 {
		f := func(x uint64) float64 { return float64(x) / float64(wall) }
		s.pause, s.cpu, s.idleCPU, s.steal = f(pause), f(cpu), f(idleCPU), f(steal)
	}
	return s
}

// TestIdlePauseAlone: a busy guest alone on the core in the work-conserving
// mode at 900‰ still gets nearly the whole core (a sleeping pause would
// leave it a tenth), nine tenths of it at idle priority, and its signal,
// measured over the normal-priority part, shows no contention.
func TestIdlePauseAlone(t *testing.T) {
	r := newRig(t)
	bs := r.run(t, spinGuest("idle900", 6*time.Second, idle900))
	var s spun
	bs[0].json(t, "spin.json", &s)
	t0, t1 := interval(t, settle, s)
	w := readWatch(t, bs[0])
	m := sumIdleWindows(w.windows, t0, t1)
	share := hostShare(t, bs[0], t0, t1)
	t.Logf("idle-alone: windows %d share %.4f pause %.4f cpu %.4f idle_cpu %.4f steal %.4f modes %v",
		m.n, share, m.pause, m.cpu, m.idleCPU, m.steal, m.modes)
	if m.n < 30 {
		t.Fatalf("only %d windows inside the spin", m.n)
	}
	if m.modes[1] != m.n {
		t.Errorf("pause_mode of the windows %v, want all 1 (idle)", m.modes)
	}
	if share < idleAloneMinShare {
		t.Errorf("host CPU share %.1f%% alone at idle-mode pause 900‰, want >= %.0f%%", 100*share, 100*idleAloneMinShare)
	}
	if m.pause < idleMinPause || m.pause > idleMaxPause {
		t.Errorf("idle-priority part %.1f%% of wall at 900‰, want %.0f-%.0f%%", 100*m.pause, 100*idleMinPause, 100*idleMaxPause)
	}
	if m.idleCPU < idleAloneMinIdleCPU {
		t.Errorf("CPU at idle priority %.1f%% of wall alone, want >= %.0f%%", 100*m.idleCPU, 100*idleAloneMinIdleCPU)
	}
	if m.steal > idleAloneMaxSteal {
		t.Errorf("steal %.1f%% of wall alone, want <= %.1f%%", 100*m.steal, 100*idleAloneMaxSteal)
	}
}

// TestIdlePauseBesideBusy: beside a busy guest at normal priority, a guest
// in the work-conserving mode at 900‰ gets about what it gets at normal
// priority (half of its tenth: the duty model's r/2), the busy guest keeps
// the rest, and the idle-mode guest's steal is that of its normal part.
func TestIdlePauseBesideBusy(t *testing.T) {
	r := newRig(t)
	bs := r.run(t, spinGuest("A-idle900", 8*time.Second, idle900), spinGuest("B", 8*time.Second, ""))
	var sa, sb spun
	bs[0].json(t, "spin.json", &sa)
	bs[1].json(t, "spin.json", &sb)
	t0, t1 := interval(t, settle, sa, sb)
	m := sumIdleWindows(readWatch(t, bs[0]).windows, t0, t1)
	a, b := hostShare(t, bs[0], t0, t1), hostShare(t, bs[1], t0, t1)
	t.Logf("idle-busy: windows %d shareA %.4f shareB %.4f pause %.4f cpu %.4f idle_cpu %.4f steal %.4f modes %v",
		m.n, a, b, m.pause, m.cpu, m.idleCPU, m.steal, m.modes)
	if m.n < 40 {
		t.Fatalf("only %d windows inside the spins", m.n)
	}
	if a > idleBusyMaxShare {
		t.Errorf("idle-mode guest's host CPU share %.1f%% beside a busy guest, want <= %.1f%%", 100*a, 100*idleBusyMaxShare)
	}
	if b < idleBusyMinOther {
		t.Errorf("busy guest's host CPU share %.1f%% beside the idle-mode guest, want >= %.0f%%", 100*b, 100*idleBusyMinOther)
	}
	if m.pause < idleMinPause || m.pause > idleMaxPause {
		t.Errorf("idle-priority part %.1f%% of wall at 900‰, want %.0f-%.0f%%", 100*m.pause, 100*idleMinPause, 100*idleMaxPause)
	}
	if m.idleCPU > idleBusyMaxIdleCPU {
		t.Errorf("CPU at idle priority %.1f%% of wall beside a busy guest, want <= %.1f%%", 100*m.idleCPU, 100*idleBusyMaxIdleCPU)
	}
	if m.steal < idleBusyMinSteal {
		t.Errorf("steal %.1f%% of wall beside a busy guest, want >= %.1f%% (contention in the normal part)", 100*m.steal, 100*idleBusyMinSteal)
	}
}
