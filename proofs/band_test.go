package proofs

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/vocab"
)

// Theorem 5 (efficiency.md): once the run has seen an uncongested tick the
// total demand never exceeds Hi, and once it has seen a congested tick it
// never falls below Lo, for every rule, delay and interleaving. Corollary
// 3: the exact band lies inside the closed form. Slack is logged.
func TestBandHoldsInSimulation(t *testing.T) {
	var hiSlack, loSlack, cfHi, cfLo float64
	var cases int
	rapid.Check(t, func(t *rapid.T) {
		p := genShared(t, rapid.Bool().Draw(t, "identical"), 4, 3)
		aimd := true
		switch rapid.IntRange(0, 2).Draw(t, "rule") {
		case 1:
			p.Rule, aimd = vocab.MIMD, false
			for i := range p.FVMs {
				p.FVMs[i].Mu = vocab.R(int64(rapid.IntRange(3, 8).Draw(t, "muNum")), 2)
			}
		case 2:
			p.Rule, aimd = vocab.AIAD, false
			for i := range p.FVMs {
				p.FVMs[i].Delta = rapid.IntRange(1, 6).Draw(t, "delta")
			}
		}
		b, err := ref.EfficiencyBand(p)
		if err != nil {
			t.Fatal(err)
		}
		degenerate := p.N()*p.Dmax <= b.Threshold || p.N()*p.Dmin > b.Threshold
		if aimd && !degenerate {
			lo, hi, err := BandClosedForm(p)
			if err != nil {
				t.Fatal(err)
			}
			if float64(b.Hi) > hi+1e-9 || float64(b.Lo) < lo-1e-9 {
				t.Fatalf("exact band [%d, %d] outside closed form [%.3f, %.3f]", b.Lo, b.Hi, lo, hi)
			}
			cfHi += hi - float64(b.Hi)
			cfLo += float64(b.Lo) - lo
		}
		run, err := sim.Simulate(p, sim.Options{Seed: rapid.Uint64().Draw(t, "seed"), Steps: 3000, Init: drawInit(t, p)})
		if err != nil {
			t.Fatal(err)
		}
		seenC, seenU := false, false
		obsLo, obsHi := 1<<30, -1
		for k, st := range run.Steps {
			if st.Action.Kind == ref.HostTick {
				if st.Obs[0].Congested {
					seenC = true
				} else {
					seenU = true
				}
			}
			sum := 0
			for _, d := range st.State.Demands(p.N()) {
				sum += d
			}
			if seenU {
				obsHi = max(obsHi, sum)
				if sum > b.Hi {
					t.Fatalf("step %d: total %d > Hi = %d (band %+v)", k, sum, b.Hi, b)
				}
			}
			if seenC {
				obsLo = min(obsLo, sum)
				if sum < b.Lo {
					t.Fatalf("step %d: total %d < Lo = %d (band %+v)", k, sum, b.Lo, b)
				}
			}
		}
		if seenU && seenC {
			hiSlack += float64(b.Hi - obsHi)
			loSlack += float64(obsLo - b.Lo)
			cases++
		}
	})
	c := float64(max(cases, 1))
	t.Logf("band vs simulation over %d runs: mean Hi - observed max = %.2f, observed min - Lo = %.2f units", cases, hiSlack/c, loSlack/c)
	t.Logf("closed form vs exact band: mean slack %.2f (Hi), %.2f (Lo) units", cfHi/c, cfLo/c)
}
