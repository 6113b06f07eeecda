package docs

import (
	"testing"

	"github.com/friendly-vm/fvm/vocab"
)

// proofs/mechanisms.md agrees with what the checker, the predictions and
// the simulations say: its generated tables are up to date, and every
// claim its prose makes about them (the ranking's verdict) holds on the
// same rows. This is separate from TestDocs so that the mechanisms
// document is checked on its own, whatever the state of the run data the
// other documents are generated from.
func TestMechanismsDoc(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the model checker and the simulations of every mechanism")
	}
	d := &mechanismData{}
	if stale, err := Update("../..", mechanismBlocks(d), true); err != nil {
		t.Fatalf("%v\n%v (regenerate with `go run ./cmd/fvm docs`)", err, stale)
	}
	rows, err := d.get()
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]*mechanismRow{}
	for _, r := range rows {
		by[r.m.label] = r
	}
	row := func(label string) *mechanismRow {
		t.Helper()
		r, ok := by[label]
		if !ok {
			t.Fatalf("no mechanism %q: the prose names one the tables no longer have", label)
		}
		return r
	}
	today, b, c := row("today: pause, AIMD"), row("(b) pause, decrease by the signal"), row("(c) pause, per-VM phase")
	a, ab, ac := row("(a) work-conserving pause, AIMD"), row("(a)+(b)"), row("(a)+(c)")

	claims := []struct {
		claim string
		holds bool
	}{
		{"the winner is (a) at theta 3/40, dmin 2",
			a.m.host == vocab.DutyIdle && a.m.rule == vocab.AIMD && a.m.theta.Equal(vocab.R(3, 40)) && a.m.dmin == 2},
		{"only (a) at 3/40, alone or with (b), meets every target in both views", func() bool {
			for _, r := range rows {
				if all := r.metSync == r.ofSync && r.metSim == r.ofSim; all != (r == a || r == ab) {
					return false
				}
			}
			return ab.m.theta.Equal(a.m.theta) && ab.m.dmin == a.m.dmin
		}()},
		{"(a) alone ranks first, on the simulated pair's Jain index",
			ranked(rows)[0] == a && a.simul["pair"].Utilisation == ab.simul["pair"].Utilisation && a.simul["pair"].Jain > ab.simul["pair"].Jain},
		{"(b) and (c) on the pausing host raise the simulated utilisation of pair and four above today's",
			b.simul["pair"].Utilisation > today.simul["pair"].Utilisation && b.simul["four"].Utilisation > today.simul["four"].Utilisation &&
				c.simul["pair"].Utilisation > today.simul["pair"].Utilisation && c.simul["four"].Utilisation > today.simul["four"].Utilisation},
		{"but stay below 0.95 in the simulations",
			b.simul["pair"].Utilisation < targetUtil && b.simul["four"].Utilisation < targetUtil &&
				c.simul["pair"].Utilisation < targetUtil && c.simul["four"].Utilisation < targetUtil},
		{"(b) takes more from a greedy VM than today (predicted and simulated)",
			b.predict["greedy"].MeanGreedy[0] < today.predict["greedy"].MeanGreedy[0] &&
				b.simul["greedy"].MeanGreedy[0] < today.simul["greedy"].MeanGreedy[0]},
		{"the checker's every-cycle Jain bound for (c) is below every other mechanism's but (a)+(c)'s", func() bool {
			for _, r := range rows {
				if r != c && r != ac && r.pair.WorstJainBound <= c.pair.WorstJainBound {
					return false
				}
			}
			return true
		}()},
		{"the synchronous rounds of (c) from the pair's unequal start never converge, Jain below 0.99",
			c.predict["pair"].ConvergenceS < 0 && c.predict["pair"].Jain < targetJain},
		{"(a)+(b) converges in more, gentler epochs than (a)",
			ab.rate > a.rate && ab.predict["pair"].Epochs > a.predict["pair"].Epochs},
		{"(a)+(c) keeps (c)'s aliasing: a low every-cycle bound and a predicted pair below 0.99",
			ac.pair.WorstJainBound < a.pair.WorstJainBound && ac.predict["pair"].Jain < targetJain},
		{"(a)+(c) meets fewer targets than (a)", ac.metSync+ac.metSim < a.metSync+a.metSim},
		{"simulated on duty, today's pair fails the runner's convergence test late (second half of the run)",
			today.simul["pair"].ConvergenceS > float64(simWindows)*float64(vocab.WindowNs)/2e9},
		{"under duty-idle at the low threshold the pair converges within 10 s",
			a.simul["pair"].ConvergenceS >= 0 && a.simul["pair"].ConvergenceS <= targetConvergence},
	}
	for _, c := range claims {
		if !c.holds {
			t.Errorf("proofs/mechanisms.md claims %q; the data no longer says so", c.claim)
		}
	}
}
