package proofs

import (
	"testing"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/vocab"
)

// Theorem 16 (nonaimd.md): MIMD and AIAD have no contraction. The D = 0
// variants of the mimd and aiad configurations, from (4, 10) resp.
// (5, 10), enter a clamp-free cycle whose projected gap never falls to the
// fair tolerance: (4,10) <-> (8,20) for MIMD (ratio 5:2 forever), gap 5
// forever for AIAD. Analyze reports rate 1 for both.
func TestNonAIMDNoContraction(t *testing.T) {
	for _, tc := range []struct {
		name string
		init []int
	}{{"mimd", []int{4, 10}}, {"aiad", []int{5, 10}}} {
		p := loadParams(t, tc.name)
		p.Loss = false // a lossless, undelayed run follows the rule's cycle exactly
		for i := range p.FVMs {
			p.FVMs[i].Delay = 0
		}
		a, err := Analyze(p)
		if err != nil {
			t.Fatal(err)
		}
		if a.Rate != 1 {
			t.Errorf("%s: rate %v, want 1", tc.name, a.Rate)
		}
		run, err := sim.Simulate(p, sim.Options{Seed: 1, Steps: 3000, Init: tc.init})
		if err != nil {
			t.Fatal(err)
		}
		eps := ref.FairTolerance(p)
		for k, tp := range Ticks(p, run) {
			if g := Gap(tp.Projected); g <= eps {
				t.Fatalf("%s tick %d: projected gap %d <= eps %d", tc.name, k, g, eps)
			}
			if tc.name == "aiad" && Gap(tp.Projected) != 5 {
				t.Fatalf("aiad tick %d: gap %d, want 5 forever", k, Gap(tp.Projected))
			}
			if tc.name == "mimd" && 5*tp.Projected[0] != 2*tp.Projected[1] {
				t.Fatalf("mimd tick %d: projected %v, want ratio 2:5 forever", k, tp.Projected)
			}
		}
		for _, st := range run.Steps {
			if st.Action.Kind == ref.Act && st.Branch == vocab.Clamp {
				t.Fatalf("%s: a clamp acted (%v): the cycle is not clamp-free", tc.name, st.State.Format(2))
			}
		}
	}
}
