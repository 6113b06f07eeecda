//go:build umlkernel

package kernel_test

import (
	"testing"
	"time"
)

const pause500 = "echo 500 > /proc/fvm/pause_permille"

// TestActuatorAlone: a busy guest alone pausing 500‰ gets 40–60% of the
// core.
func TestActuatorAlone(t *testing.T) {
	r := newRig(t)
	bs := r.run(t, spinGuest("paused", 6*time.Second, pause500))
	var s spun
	bs[0].json(t, "spin.json", &s)
	t0, t1 := interval(t, settle, s)
	w := readWatch(t, bs[0])
	m := summarize(w.windows, t0, t1)
	share := hostShare(t, bs[0], t0, t1)
	t.Logf("alone at 500‰: %d windows: paused %.1f%% of wall, steal %.0f‰, VCT %.0f‰, host CPU share %.1f%%",
		m.n, 100*m.pausedFraction, m.steal, m.vct, 100*share)
	if m.n < 30 {
		t.Fatalf("only %d windows inside the spin", m.n)
	}
	if share < 0.40 || share > 0.60 {
		t.Errorf("host CPU share %.1f%% at pause 500‰, want 40–60%%", 100*share)
	}
}

// TestActuatorPair: beside a busy neighbour, pausing one guest at 500‰
// gives the neighbour at least 62% of the core.
func TestActuatorPair(t *testing.T) {
	r := newRig(t)
	bs := r.run(t, spinGuest("A-paused", 8*time.Second, pause500), spinGuest("B", 8*time.Second, ""))
	var sa, sb spun
	bs[0].json(t, "spin.json", &sa)
	bs[1].json(t, "spin.json", &sb)
	t0, t1 := interval(t, settle, sa, sb)
	var shares [2]float64
	for i, name := range []string{"A (500‰)", "B (0‰)"} {
		w := readWatch(t, bs[i])
		m := summarize(w.windows, t0, t1)
		shares[i] = hostShare(t, bs[i], t0, t1)
		t.Logf("guest %s: %d windows over %.1fs: paused %.1f%%, steal %.0f‰, VCT %.0f‰, host CPU share %.1f%%",
			name, m.n, float64(t1-t0)/1e9, 100*m.pausedFraction, m.steal, m.vct, 100*shares[i])
	}
	if shares[1] < 0.62 {
		t.Errorf("neighbour's host CPU share %.1f%% while A pauses 500‰, want >= 62%%", 100*shares[1])
	}
}
