package sim

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/vocab"
)

func aimd3() *ref.Params {
	p := &ref.Params{U: 20, Capacity: 20, Kappa: vocab.R(1, 1), Host: vocab.Shared, Rule: vocab.AIMD, Dmin: 1, Dmax: 20}
	for range 3 {
		p.FVMs = append(p.FVMs, ref.FVM{Alpha: 1, Beta: vocab.R(1, 2), Delay: 2})
	}
	return p
}

// Every trajectory of Simulate is accepted step by step by Step, and its
// bookkeeping (sequence numbers, delays, branches) is consistent.
func TestSimulateAcceptedByStep(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 4).Draw(t, "n")
		p := &ref.Params{
			U: 20, Capacity: 20, Kappa: vocab.R(int64(rapid.IntRange(1, 4).Draw(t, "kappa")), 4),
			Host: vocab.Host(rapid.IntRange(0, 2).Draw(t, "host")), Signal: vocab.Signal(rapid.IntRange(1, 2).Draw(t, "signal")),
			Rule: vocab.Rule(rapid.IntRange(0, 2).Draw(t, "rule")), Dmin: 1, Dmax: rapid.IntRange(1, 20).Draw(t, "dmax"),
		}
		if p.Signal == vocab.VCT {
			p.Theta = vocab.R(int64(rapid.IntRange(4, 12).Draw(t, "vct theta")), 4)
		} else {
			p.Theta = vocab.R(int64(rapid.IntRange(0, 3).Draw(t, "steal theta")), 4)
		}
		p.Loss = rapid.Bool().Draw(t, "loss")
		for range n {
			p.FVMs = append(p.FVMs, ref.FVM{
				Alpha: rapid.IntRange(1, 5).Draw(t, "alpha"), Beta: vocab.R(int64(rapid.IntRange(1, 7).Draw(t, "beta")), 8),
				Mu: vocab.R(int64(rapid.IntRange(5, 16).Draw(t, "mu")), 4), Delta: rapid.IntRange(1, 5).Draw(t, "delta"),
				Delay: rapid.IntRange(0, 4).Draw(t, "d"),
			})
		}
		run, err := Simulate(p, Options{Seed: rapid.Uint64().Draw(t, "seed"), Steps: 300})
		if err != nil {
			t.Fatal(err)
		}
		s := run.Init
		consumed := make([]int, n)
		for k, st := range run.Steps {
			next, err := ref.Step(p, s, st.Action)
			if err != nil {
				t.Fatalf("step %d: Step rejects %v from %s: %v", k, st.Action, s.Format(n), err)
			}
			if next != st.State {
				t.Fatalf("step %d: Step gives %s, Simulate recorded %s", k, next.Format(n), st.State.Format(n))
			}
			if st.Action.Kind == ref.HostTick {
				for i := 0; i < n; i++ {
					full := int(s.Q[i].Len) > p.FVMs[i].Delay
					if dropped := st.Dropped>>i&1 == 1; dropped != full || full && st.DroppedSeq[i] != consumed[i] {
						t.Fatalf("step %d: FVM %d full=%v, recorded dropped=%v (seq %v, want %d)", k, i, full, dropped, st.DroppedSeq, consumed[i])
					}
					if full {
						consumed[i]++
					}
				}
			}
			if st.Action.Kind == ref.Act {
				i := st.Action.VM
				if st.Seq != consumed[i] || st.Newest-st.Seq > p.FVMs[i].Delay {
					t.Fatalf("step %d: seq %d newest %d consumed %d D %d", k, st.Seq, st.Newest, consumed[i], p.FVMs[i].Delay)
				}
				consumed[i]++
				if int(next.D[i]) != st.After || int(s.D[i]) != st.Before {
					t.Fatalf("step %d: recorded %d->%d, state %d->%d", k, st.Before, st.After, s.D[i], next.D[i])
				}
			}
			for i := 0; i < n; i++ {
				if int(next.D[i]) < p.Dmin || int(next.D[i]) > p.Dmax || int(next.Q[i].Len) > p.FVMs[i].Delay+1 {
					t.Fatalf("step %d: state %s out of bounds", k, next.Format(n))
				}
			}
			s = next
		}
	})
}

func TestSimulateDeterministic(t *testing.T) {
	p := aimd3()
	a, _ := Simulate(p, Options{Seed: 7, Steps: 200})
	b, _ := Simulate(p, Options{Seed: 7, Steps: 200})
	c, _ := Simulate(p, Options{Seed: 8, Steps: 200})
	if a.Init != b.Init || a.Steps[199].State != b.Steps[199].State {
		t.Fatal("same seed, different runs")
	}
	if a.Init == c.Init && a.Steps[199].State == c.Steps[199].State {
		t.Fatal("different seeds, same run (extremely unlikely)")
	}
}
