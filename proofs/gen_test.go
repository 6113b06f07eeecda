package proofs

import (
	"github.com/friendly-vm/fvm/vocab"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/ref"
)

// genShared draws a valid AIMD configuration on the shared host. identical
// makes every FVM's alpha and beta equal (delays are drawn per FVM either
// way, unless maxD is 0).
func genShared(t *rapid.T, identical bool, maxN, maxD int) *ref.Params {
	n := rapid.IntRange(2, maxN).Draw(t, "n")
	u := rapid.IntRange(10, 60).Draw(t, "u")
	p := &ref.Params{
		U: u, Capacity: rapid.IntRange(u/2, n*u).Draw(t, "capacity"),
		Kappa: vocab.R(int64(rapid.IntRange(1, 4).Draw(t, "kappaNum")), 4),
		Host:  vocab.Shared, Rule: vocab.AIMD,
		Dmin: rapid.IntRange(1, 3).Draw(t, "dmin"), Dmax: u,
	}
	if rapid.Bool().Draw(t, "hasGreedy") {
		p.Greedy = []int{rapid.IntRange(0, u/2).Draw(t, "greedy")}
	}
	var f ref.FVM
	for i := range n {
		if i == 0 || !identical {
			den := int64(rapid.IntRange(2, 10).Draw(t, "betaDen"))
			f.Beta = vocab.R(int64(rapid.IntRange(1, int(den)-1).Draw(t, "betaNum")), den)
			f.Alpha = rapid.IntRange(1, 4).Draw(t, "alpha")
		}
		f.Delay = rapid.IntRange(0, maxD).Draw(t, "d")
		p.FVMs = append(p.FVMs, f)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("generated invalid params: %v", err)
	}
	return p
}
