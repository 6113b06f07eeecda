package spec

import (
	"math"
	"sync"
	"testing"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/spec/mc"
)

// Every CI-sized configuration gets the verdicts its file records (a
// property not listed must hold), and every counterexample replays in ref.
func TestConfigVerdicts(t *testing.T) {
	for _, name := range tlcSized(t) {
		t.Run(name, func(t *testing.T) {
			c, err := configs.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.Params()
			if err != nil {
				t.Fatal(err)
			}
			r, err := Check(p, Options{Symmetry: c.Check.Symmetry, Liveness: c.Check.Liveness})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range r.Verdicts() {
				want := mc.Holds
				if c.Check.Expect[v.Name] == mc.Violated {
					want = mc.Violated
				}
				if v.Kind == mc.KindLiveness && !c.Check.Liveness {
					want = mc.NotChecked
				}
				if v.Status != want {
					t.Errorf("%s: %s, configuration records %s", v.Name, v.Status, want)
				}
			}
			for _, v := range r.Violations() {
				checkCounterexample(t, r, v)
			}
			if c.Check.Liveness {
				if len(r.LimitSets) == 0 || math.IsNaN(r.WorstJain) {
					t.Fatalf("no limit sets")
				}
				for _, f := range r.LimitSets {
					if f.JainBound > f.Jain+1e-9 || f.Jain > 1+1e-9 || f.JainBound <= 0 {
						t.Fatalf("limit set figures out of order: %+v", f)
					}
				}
			}
			t.Logf("%s: %d distinct (safety), worst Jain %.4f (bound %.4f), verdicts %v",
				name, r.Safety.Stats.Distinct, r.WorstJain, r.WorstJainBound, r.Verdicts())
		})
	}
}

// checkCounterexample replays v in ref and checks that it violates its
// property: the last state for an invariant, the lasso state for <>[]P,
// and that a lasso's cycle returns to its start.
func checkCounterexample(t *testing.T, r *Result, v mc.Violation) {
	t.Helper()
	m := r.Model
	steps := append(append([]mc.Step{}, v.Trace...), v.Cycle...)
	if _, err := m.Run(steps); err != nil {
		t.Fatalf("%s: counterexample does not replay in ref: %v", v.Property, err)
	}
	last := v.Trace[len(v.Trace)-1].State
	switch v.Kind {
	case mc.KindInvariant:
		for _, inv := range m.Invariants() {
			if inv.Name == v.Property && inv.Holds(last) {
				t.Fatalf("%s holds in the last state %s", v.Property, m.Format(last))
			}
		}
	case mc.KindLiveness:
		if len(v.Cycle) == 0 || v.Cycle[len(v.Cycle)-1].State != last {
			t.Fatalf("%s: cycle does not return to %s", v.Property, m.Format(last))
		}
		for _, l := range m.Liveness(r.Bounds) {
			if l.Name == v.Property && l.P(last) {
				t.Fatalf("%s: P holds in the lasso state %s", v.Property, m.Format(last))
			}
		}
	}
}

// Identical AIMD FVMs converge to equal long-run shares; heterogeneous
// parameters do not.
func TestJainVerdicts(t *testing.T) {
	r, err := Check(loadParams(t, "default"), Options{Symmetry: true, Liveness: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.WorstJain < 0.99 {
		t.Fatalf("default: ok=%v worst Jain %v", r.OK(), r.WorstJain)
	}
	if r.Safety == r.Liveness || !r.Safety.Stats.Symmetry || r.Liveness.Stats.Symmetry {
		t.Fatal("default: safety must use symmetry and liveness must not")
	}
	if r.Safety.Stats.Distinct >= r.Liveness.Stats.Distinct {
		t.Fatalf("symmetry did not reduce: %d vs %d", r.Safety.Stats.Distinct, r.Liveness.Stats.Distinct)
	}
	h, err := Check(loadParams(t, "hetero-params"), Options{Liveness: true})
	if err != nil {
		t.Fatal(err)
	}
	if h.OK() || h.WorstJain > 0.9 {
		t.Fatalf("hetero-params: ok=%v worst Jain %v", h.OK(), h.WorstJain)
	}
}

// Hand-computed figures for a two-state limit set of the default model.
func TestLimitSetFiguresByHand(t *testing.T) {
	p := loadParams(t, "default")
	p.FVMs = p.FVMs[:2]
	m, err := NewModel(p)
	if err != nil {
		t.Fatal(err)
	}
	var st ref.State
	st.D[0], st.D[1] = 2, 1
	a := m.Pack(st)
	st.D[0], st.D[1] = 1, 2
	b := m.Pack(st)
	sh := newShareTable(m)
	ring := mc.LimitSet{States: []uint64{a, b}, Edges: []mc.Edge{{From: 0, To: 1}, {From: 1, To: 0}}}
	f, err := sh.figures(ring, false)
	if err != nil {
		t.Fatal(err)
	}
	// U=20: shares 0.1/0.05 and 0.05/0.1 average to 0.075 each.
	if math.Abs(f.Shares[0]-0.075) > 1e-12 || math.Abs(f.Jain-1) > 1e-12 || math.Abs(f.Delta) > 1e-12 || f.JainBound != 1 {
		t.Fatalf("ring: %+v", f)
	}
	// A self-loop at a lets a behaviour stay there: share difference 0.05,
	// smallest mean 0.075, bound 0.075^2/(0.075^2+0.05^2/4) = 0.9.
	ring.Edges = append(ring.Edges, mc.Edge{From: 0, To: 0})
	f, err = sh.figures(ring, false)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.Delta-0.05) > 1e-12 || math.Abs(f.MinMean-0.075) > 1e-12 || math.Abs(f.JainBound-0.9) > 1e-9 {
		t.Fatalf("ring with self-loop: %+v", f)
	}
}

// With symmetry, the checker stores exactly one state per orbit: the number
// of canonical states equals the number of distinct Canon values over the
// reachable states found without symmetry.
func TestSymmetryCountsOrbits(t *testing.T) {
	for _, name := range tlcSized(t) {
		c, err := configs.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Params()
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewModel(p)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Symmetric() {
			continue
		}
		var mu sync.Mutex
		orbits := map[uint64]bool{}
		record := mc.Invariant{Name: "Record", Holds: func(s uint64) bool {
			mu.Lock()
			orbits[m.Canon(s)] = true
			mu.Unlock()
			return true
		}}
		plain, err := mc.Check(m, []mc.Invariant{record}, nil, mc.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sym, err := mc.Check(m, m.Invariants(), nil, mc.Options{Symmetry: true})
		if err != nil {
			t.Fatal(err)
		}
		if sym.Stats.Distinct != int64(len(orbits)) || !sym.OK() || sym.Stats.Depth != plain.Stats.Depth {
			t.Fatalf("%s: %d canonical states, %d orbits among %d states; depth %d vs %d",
				name, sym.Stats.Distinct, len(orbits), plain.Stats.Distinct, sym.Stats.Depth, plain.Stats.Depth)
		}
	}
}

// On a limit set closed under every permutation of the FVMs, the largest
// cycle mean of share_i - share_j is the same for every pair: computing one
// pair (what Check does for such sets) gives the figure of all pairs.
func TestSymmetricLimitSetNeedsOnePair(t *testing.T) {
	p := loadParams(t, "duty-steal")
	m, err := NewModel(p)
	if err != nil {
		t.Fatal(err)
	}
	sh := newShareTable(m)
	n := 0
	_, err = mc.Check(m, nil, nil, mc.Options{LimitSets: func(ls mc.LimitSet) {
		if !m.symmetricSet(ls) {
			return
		}
		n++
		one, err1 := sh.figures(ls, true)
		all, err2 := sh.figures(ls, false)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if math.Abs(one.Delta-all.Delta) > 1e-9 || one.JainBound != all.JainBound || one.UtilCycle != all.UtilCycle {
			t.Errorf("one pair: Delta %v, every pair: Delta %v", one.Delta, all.Delta)
		}
	}})
	if err != nil || n == 0 {
		t.Fatalf("no symmetric limit set checked (%v)", err)
	}
}
