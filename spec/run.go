package spec

import (
	"fmt"

	"github.com/friendly-vm/fvm/ref"
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
// optionally a lasso's cycle) with ref.Step and returns it as a ref.Run, so
// that it can be written in the trace format. It fails if any step is not
// the ref transition the checker claims: ref stays the oracle.
func (m *Model) Run(steps []mc.Step) (ref.Run, error) {
	if len(steps) == 0 || steps[0].Action != mc.Init {
		return ref.Run{}, fmt.Errorf("counterexample must start with an initial state")
	}
	p, n := m.p, m.n
	s := m.Unpack(steps[0].State)
	run := ref.Run{Init: s}
	ticks := 0
	consumed := make([]int, n)
	for k, x := range steps[1:] {
		a := m.Action(x.Action)
		st := ref.SimStep{Action: a, Newest: ticks - 1}
		switch a.Kind {
		case ref.HostTick:
			st.Obs = p.Observe(s.Demands(n))
			st.Seq = ticks
			ticks++
			st.Newest = ticks - 1
		case ref.Act:
			i := a.VM
			st.Seq = consumed[i]
			consumed[i]++
			st.Congested = s.Q[i].At(0)
			st.Before = int(s.D[i])
			st.After, st.Branch = p.Apply(i, st.Before, st.Congested)
		}
		next, err := ref.Step(p, s, a)
		if err != nil {
			return run, fmt.Errorf("counterexample step %d (%s from %s): %w", k+1, a, s.Format(n), err)
		}
		if got := m.Pack(next); got != x.State {
			return run, fmt.Errorf("counterexample step %d (%s from %s): ref gives %s, the checker %s",
				k+1, a, s.Format(n), next.Format(n), m.Format(x.State))
		}
		s = next
		st.State = s
		run.Steps = append(run.Steps, st)
	}
	return run, nil
}
