//go:build umlkernel

package kernel_test

import (
	"testing"
	"time"
)

// settle skips the start of every spin (boot noise, the other guest still
// booting) before measuring.
const settle = time.Second

// TestSignalAlone: a busy guest alone on a core sees almost no steal.
func TestSignalAlone(t *testing.T) {
	r := newRig(t)
	bs := r.run(t, spinGuest("alone", 6*time.Second, ""))
	var s spun
	bs[0].json(t, "spin.json", &s)
	t0, t1 := interval(t, settle, s)
	w := readWatch(t, bs[0])
	m := summarize(w.windows, t0, t1)
	share := hostShare(t, bs[0], t0, t1)
	t.Logf("alone: %d windows: steal %.0f‰ (max %.0f‰), VCT %.0f‰, in-guest CPU %.1f%%, host CPU share %.1f%%",
		m.n, m.steal, m.maxSt, m.vct, 100*m.cpuShare, 100*share)
	if m.n < 30 {
		t.Fatalf("only %d windows inside the spin", m.n)
	}
	agree(t, "alone", m.cpuShare, share)
	if m.steal >= 100 {
		t.Errorf("a busy guest alone sees steal %.0f‰, want < 100‰ (is the machine otherwise idle?)", m.steal)
	}
}

// TestSignalPair: two busy guests sharing one core both see steal > 35%
// and VCT > 1.7.
func TestSignalPair(t *testing.T) {
	r := newRig(t)
	bs := r.run(t, spinGuest("A", 8*time.Second, ""), spinGuest("B", 8*time.Second, ""))
	var sa, sb spun
	bs[0].json(t, "spin.json", &sa)
	bs[1].json(t, "spin.json", &sb)
	t0, t1 := interval(t, settle, sa, sb)
	for i, name := range []string{"A", "B"} {
		w := readWatch(t, bs[i])
		m := summarize(w.windows, t0, t1)
		share := hostShare(t, bs[i], t0, t1)
		t.Logf("pair, guest %s: %d windows over %.1fs: steal %.0f‰, VCT %.0f‰, in-guest CPU %.1f%%, host CPU share %.1f%%",
			name, m.n, float64(t1-t0)/1e9, m.steal, m.vct, 100*m.cpuShare, 100*share)
		if m.n < 30 {
			t.Fatalf("guest %s: only %d windows inside the common spin", name, m.n)
		}
		agree(t, name, m.cpuShare, share)
		if m.steal <= 350 {
			t.Errorf("guest %s: steal %.0f‰ sharing a core, want > 350‰", name, m.steal)
		}
		if m.vct <= 1700 {
			t.Errorf("guest %s: VCT %.0f‰ sharing a core, want > 1700‰", name, m.vct)
		}
	}
}

// agree checks the kernel's own CPU measurement (host CPU clocks of the
// kernel process and stubs, summed over windows) against the host's
// schedstat view of the guest's whole session over the same interval.
func agree(t *testing.T, name string, kernel, hostView float64) {
	t.Helper()
	if d := kernel - hostView; d > 0.05 || d < -0.05 {
		t.Errorf("guest %s: the kernel measured %.1f%% CPU, the host %.1f%%: want within 5 points", name, 100*kernel, 100*hostView)
	}
}
