package spec

import (
	"testing"
)

// The VCT hypothesis, settled by the checker (MODEL.md, "Hypothesis:
// VCT under the duty host"): VCT-threshold AIMD on the duty host has
// absorbing winner-take-all limit sets, steal-threshold AIMD has a single
// symmetric one.
func TestDutyHostHypothesis(t *testing.T) {
	vct, err := Check(loadParams(t, "duty-vct"), Options{Liveness: true})
	if err != nil {
		t.Fatal(err)
	}
	p := vct.Params
	winnerTakesAll := 0
	for _, ls := range vct.LimitSets {
		d := vct.Model.Unpack(ls.First).Demands(p.N())
		atMax, atMin := 0, 0
		for _, x := range d {
			switch x {
			case p.Dmax:
				atMax++
			case p.Dmin:
				atMin++
			}
		}
		if ls.Jain < 0.5 && atMax == 1 && atMin == p.N()-1 {
			winnerTakesAll++
			t.Logf("duty-vct: absorbing limit set of %d states from d=%v, shares %.3f, Jain %.4f", ls.States, d, ls.Shares, ls.Jain)
		}
	}
	if winnerTakesAll != p.N() {
		t.Fatalf("duty-vct: %d winner-take-all limit sets (one per FVM expected); worst Jain %.4f", winnerTakesAll, vct.WorstJain)
	}

	steal, err := Check(loadParams(t, "duty-steal"), Options{Liveness: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(steal.LimitSets) != 1 || steal.WorstJain < 0.999 {
		t.Fatalf("duty-steal: %d limit sets, worst Jain %.4f; want one symmetric limit set", len(steal.LimitSets), steal.WorstJain)
	}
	t.Logf("duty-steal: one limit set of %d states, shares %.3f, Jain %.4f (every cycle >= %.4f)",
		steal.LimitSets[0].States, steal.LimitSets[0].Shares, steal.WorstJain, steal.WorstJainBound)
}
