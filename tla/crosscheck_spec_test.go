package tla

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
)

// crossCheckSpec compares TLC's report with the Go checker (spec.Check,
// what `fvm check` runs): distinct states without and with symmetry, the
// verdict on every property, and the length of every invariant
// counterexample.
func crossCheckSpec(t *testing.T, m *Model, rep *Report) {
	t.Helper()
	c := m.Config.Check
	res, err := spec.Check(m.Params, spec.Options{Symmetry: c.Symmetry, Liveness: c.Liveness})
	if err != nil {
		t.Fatal(err)
	}
	plain, sym := res.Safety, (*mc.Result)(nil)
	if c.Symmetry {
		plain, sym = res.Liveness, res.Safety
	}
	if plain == nil { // symmetry without liveness: one more run, without
		r2, err := spec.Check(m.Params, spec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		plain = r2.Safety
	}
	if plain.Stats.Symmetry || sym != nil && !sym.Stats.Symmetry {
		t.Fatalf("the Go checker's runs: symmetry %v (plain), want false", plain.Stats.Symmetry)
	}
	if c.Liveness && !reflect.DeepEqual(res.Bounds, m.Bounds) {
		t.Errorf("liveness bounds: Go checker %+v, TLC model %+v", res.Bounds, m.Bounds)
	}
	if plain.Stats.Distinct != rep.Distinct {
		t.Errorf("distinct states: TLC %d, Go checker %d", rep.Distinct, plain.Stats.Distinct)
	}
	if sym != nil && sym.Stats.Distinct != rep.SymDistinct {
		t.Errorf("distinct states with symmetry: TLC %d, Go checker %d", rep.SymDistinct, sym.Stats.Distinct)
	}
	// TLC states every property of spec.Properties but the limit-set ones.
	tlcStates := map[string]bool{}
	for _, pr := range spec.Properties(m.Params) {
		tlcStates[pr.Name] = pr.TLC
	}
	goVerdicts := map[string]mc.Status{}
	for _, v := range res.Verdicts() {
		if v.Status != mc.NotChecked && tlcStates[v.Name] {
			goVerdicts[v.Name] = v.Status
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
		if _, ok := rep.Verdicts[prop]; !ok {
			t.Errorf("%s: the Go checker says %s, TLC did not check it", prop, g)
		}
	}
	for _, viol := range res.Violations() {
		if viol.Kind != mc.KindInvariant {
			continue
		}
		// Both count states: TLC prints State 1..k, the Go checker's
		// trace holds k states (k-1 steps).
		if got := rep.Counterexamples[viol.Property]; got != len(viol.Trace) {
			t.Errorf("%s: TLC's counterexample has %d states, the Go checker's %d", viol.Property, got, len(viol.Trace))
		}
	}
	symDistinct := int64(0)
	if sym != nil {
		symDistinct = sym.Stats.Distinct
	}
	t.Logf("Go checker: %d distinct states, %d with symmetry; verdicts %v", plain.Stats.Distinct, symDistinct, goVerdicts)
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
