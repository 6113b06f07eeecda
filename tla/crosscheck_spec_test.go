package tla

import (
	"fmt"
	"testing"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
)

// goCheck runs the Go checker (package spec on engine spec/mc) on the
// model: every invariant and liveness property without symmetry, and the
// invariants with symmetry when the configuration uses it.
func goCheck(t *testing.T, m *Model, invs []mc.Invariant, liveness bool) (plain, sym *mc.Result, sm *spec.Model) {
	t.Helper()
	sm, err := spec.NewModel(m.Params)
	if err != nil {
		t.Fatal(err)
	}
	if invs == nil {
		invs = sm.Invariants()
	}
	var live []mc.EventuallyAlways
	if liveness {
		b, err := sm.LivenessBounds()
		if err != nil {
			t.Fatal(err)
		}
		if b.Eps != m.Eps || b.HasBand != m.HasBand || b.Band != m.Band {
			t.Fatalf("liveness bounds: Go checker %+v, TLC model band %+v (%v) eps %d", b, m.Band, m.HasBand, m.Eps)
		}
		live = sm.Liveness(b)
	}
	plain, err = mc.Check(sm, invs, live, mc.Options{KeepGoing: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.Check.Symmetry {
		sym, err = mc.Check(sm, invs, nil, mc.Options{Symmetry: true, KeepGoing: true})
		if err != nil {
			t.Fatal(err)
		}
	}
	return plain, sym, sm
}

// crossCheckSpec compares TLC's report with the Go checker: distinct
// states without and with symmetry, the verdict on every property, and
// the length of every invariant counterexample.
func crossCheckSpec(t *testing.T, m *Model, rep *Report) {
	t.Helper()
	plain, sym, _ := goCheck(t, m, nil, m.Config.Check.Liveness)
	if plain.Stats.Distinct != rep.Distinct {
		t.Errorf("distinct states: TLC %d, Go checker %d", rep.Distinct, plain.Stats.Distinct)
	}
	if sym != nil && sym.Stats.Distinct != rep.SymDistinct {
		t.Errorf("distinct states with symmetry: TLC %d, Go checker %d", rep.SymDistinct, sym.Stats.Distinct)
	}
	goVerdicts := map[string]Verdict{}
	for _, v := range plain.Verdicts {
		switch v.Status {
		case mc.Holds:
			goVerdicts[v.Name] = Holds
		case mc.Violated:
			goVerdicts[v.Name] = Fails
		}
	}
	for prop, v := range rep.Verdicts {
		if g, ok := goVerdicts[prop]; !ok {
			t.Errorf("%s: TLC says %s, the Go checker has no verdict", prop, v)
		} else if g != v {
			t.Errorf("%s: TLC says %s, the Go checker says %s", prop, v, g)
		}
	}
	for prop, g := range goVerdicts {
		if _, ok := rep.Verdicts[prop]; !ok && !(prop == "Deadlock" && g == Holds) {
			t.Errorf("%s: the Go checker says %s, TLC did not check it", prop, g)
		}
	}
	for _, viol := range plain.Violations {
		if viol.Kind != mc.KindInvariant {
			continue
		}
		// Both count states: TLC prints State 1..k, mc's trace holds
		// k states (k-1 steps).
		if got := rep.Counterexamples[viol.Property]; got != len(viol.Trace) {
			t.Errorf("%s: TLC's counterexample has %d states, the Go checker's %d", viol.Property, got, len(viol.Trace))
		}
	}
}

// goProbeLength returns the number of states of the Go checker's shortest
// counterexample to the probe "the state is not target".
func goProbeLength(t *testing.T, m *Model, target ref.State) int {
	t.Helper()
	sm, err := spec.NewModel(m.Params)
	if err != nil {
		t.Fatal(err)
	}
	probe := mc.Invariant{Name: "Probe", Holds: func(s uint64) bool {
		return sm.Unpack(s) != target
	}}
	res, err := mc.Check(sm, []mc.Invariant{probe}, nil, mc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Violations {
		if v.Property == "Probe" {
			return len(v.Trace)
		}
	}
	t.Fatal(fmt.Sprintf("Go checker: probe %v not violated", target))
	return 0
}
