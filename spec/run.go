package spec

import (
	"fmt"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/spec/mc"
)

// Action returns the ref action of a checker action label.
func (m *Model) Action(label int) ref.Action {
	if label == 0 {
		return ref.Tick()
	}
	return ref.ActOf(label - 1)
}

// Run replays a counterexample (a trace from an initial state, then
// optionally a lasso's cycle) with ref.Step and returns it as a sim.Run, so
// that it can be written in the trace format. It fails if any step is not
// the ref transition the checker claims: ref stays the oracle.
func (m *Model) Run(steps []mc.Step) (sim.Run, error) {
	if len(steps) == 0 || steps[0].Action != mc.Init {
		return sim.Run{}, fmt.Errorf("counterexample must start with an initial state")
	}
	s := m.Unpack(steps[0].State)
	run := sim.Run{Init: s}
	rec := sim.NewRecorder(m.p, s)
	for k, x := range steps[1:] {
		a := m.Action(x.Action)
		from := rec.State()
		st, err := rec.Record(a)
		if err != nil {
			return run, fmt.Errorf("counterexample step %d (%s from %s): %w", k+1, a, from.Format(m.n), err)
		}
		if got := m.Pack(st.State); got != x.State {
			return run, fmt.Errorf("counterexample step %d (%s from %s): ref gives %s, the checker %s",
				k+1, a, from.Format(m.n), st.State.Format(m.n), m.Format(x.State))
		}
		run.Steps = append(run.Steps, st)
	}
	return run, nil
}
