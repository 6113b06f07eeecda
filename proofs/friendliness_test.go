package proofs

import (
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/vocab"
)

// Theorem 13 (friendliness.md): on the shared host greedy VMs enter only
// through the threshold S = floor(kappa C) - G: the band with greedy
// demand G equals the band of the same FVMs on a host of capacity C - G
// (kappa = 1), and the FVMs' operating share is what G leaves.
func TestFriendlinessShared(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genShared(t, rapid.Bool().Draw(t, "identical"), 4, 2)
		p.Kappa = vocab.R(1, 1)
		g := rapid.IntRange(0, min(p.U, p.Capacity-1)).Draw(t, "g")
		p.Greedy = []int{g}
		q := *p
		q.Greedy, q.Capacity = nil, p.Capacity-g
		b1, err1 := ref.EfficiencyBand(p)
		b2, err2 := ref.EfficiencyBand(&q)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if b1 != b2 {
			t.Fatalf("greedy %d: band %+v, capacity C-G gives %+v", g, b1, b2)
		}
	})
	a, err := Analyze(loadParams(t, "greedy"))
	if err != nil {
		t.Fatal(err)
	}
	// greedy config: S = 20 - 10, two FVMs: 5 units = 0.25 core each.
	if math.Abs(a.Mode.Share-0.25) > 1e-12 || math.Abs(a.Mode.GreedyShare-0.5) > 1e-12 {
		t.Errorf("greedy: FVM share %v, greedy share %v; want 0.25 and 0.5", a.Mode.Share, a.Mode.GreedyShare)
	}
}

// dutyWithGreedy is two identical FVMs beside an always-awake greedy VM
// on the duty host.
func dutyWithGreedy(sig vocab.Signal, theta vocab.Rat) *ref.Params {
	return &ref.Params{U: 10, Capacity: 10, Greedy: []int{10}, Host: vocab.Duty, Signal: sig, Theta: theta,
		Rule: vocab.AIMD, Dmin: 1, Dmax: 10, FVMs: []ref.FVM{{Alpha: 1, Beta: vocab.R(1, 2), Delay: 1}, {Alpha: 1, Beta: vocab.R(1, 2), Delay: 1}}}
}

// Theorem 14 (friendliness.md): beside an always-awake greedy VM on the
// duty host every FVM sees vct >= 2, so with theta < 2 the FVMs yield
// down to dmin and stay (Saturated at dmin; simulation reaches it and
// never leaves); with steal they keep the operating share the closed form
// gives (r^2 + 3r - 6 theta = 0 for two FVMs), checked to 1e-9.
func TestFriendlinessDuty(t *testing.T) {
	p := dutyWithGreedy(vocab.VCT, vocab.R(3, 2))
	a, err := Analyze(p)
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode.Verdict != Saturated || a.Mode.Point != float64(p.Dmin) {
		t.Fatalf("vct beside a greedy VM: %v at %v, want saturated at dmin", a.Mode.Verdict, a.Mode.Point)
	}
	run, err := sim.Simulate(p, sim.Options{Seed: 3, Steps: 400, Init: []int{10, 7}})
	if err != nil {
		t.Fatal(err)
	}
	for k, st := range run.Steps[200:] {
		if d := st.State.Demands(2); d[0] != 1 || d[1] != 1 {
			t.Fatalf("step %d: demands %v, want [1 1]", 200+k, d)
		}
	}
	t.Logf("vct beside a greedy VM: FVMs at dmin, share %.4f each, greedy %.4f", a.Mode.Share, a.Mode.GreedyShare)

	p = dutyWithGreedy(vocab.Steal, vocab.R(1, 4))
	if a, err = Analyze(p); err != nil {
		t.Fatal(err)
	}
	theta := 0.25
	r := (-3 + math.Sqrt(9+24*theta)) / 2 // steal = r(1/2 + r/6) = theta
	wantShare := r * ((1-r)/2 + r/3)
	wantGreedy := 1 - r + r*r/3
	if math.Abs(a.Mode.Point/10-r) > 1e-9 || math.Abs(a.Mode.Share-wantShare) > 1e-9 || math.Abs(a.Mode.GreedyShare-wantGreedy) > 1e-9 {
		t.Fatalf("steal beside a greedy VM: point %v share %v greedy %v; want r=%v share %v greedy %v",
			a.Mode.Point/10, a.Mode.Share, a.Mode.GreedyShare, r, wantShare, wantGreedy)
	}
	if a.Mode.Verdict != Restoring {
		t.Errorf("steal beside a greedy VM: %v, want restoring (the greedy VM is a third VM)", a.Mode.Verdict)
	}
	t.Logf("steal beside a greedy VM: operating r = %.4f, FVM share %.4f each, greedy %.4f", r, wantShare, wantGreedy)
}

// Theorem 15 (friendliness.md): on the max-min fair host a greedy VM gets
// min(g, L) whatever the FVMs do, and the FVMs' operating point is the
// water level (vct, theta = 1).
func TestFriendlinessFair(t *testing.T) {
	p := loadParams(t, "fair-host")
	p.Greedy = []int{6}
	a, err := Analyze(p)
	if err != nil {
		t.Fatal(err)
	}
	// Four VMs demanding at least the level: L = 10/4 = 2.5 units.
	if math.Abs(a.Mode.Point-2.5) > 1e-9 || math.Abs(a.Mode.GreedyShare-0.25) > 1e-9 || math.Abs(a.Mode.Share-0.25) > 1e-9 {
		t.Fatalf("fair host with greedy 6: point %v share %v greedy %v; want 2.5, 0.25, 0.25", a.Mode.Point, a.Mode.Share, a.Mode.GreedyShare)
	}
}
