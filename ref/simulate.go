package ref

import (
	"fmt"
	"math/rand/v2"
)

// SimOptions configures Simulate.
type SimOptions struct {
	Seed  uint64 // the interleaving and (if Init is nil) the initial state
	Steps int    // number of actions to take
	Init  []int  // initial demands; nil picks them at random in [Dmin, Dmax]
}

// SimStep is one step of a simulated behavior.
type SimStep struct {
	Action Action
	// Seq numbers samples: for HostTick the sequence number of the sample
	// it produced (0, 1, ...), for Act the sequence number of the sample it
	// consumed. Newest is the newest sample's sequence number at that
	// moment (-1 before the first tick), so Newest-Seq is the sample's
	// delay in ticks.
	Seq, Newest int
	// Obs is what each FVM observed (HostTick only).
	Obs []Observation
	// Congested, Before, After and Branch describe an Act.
	Congested     bool
	Before, After int
	Branch        Branch
	// State is the state after the step.
	State State
}

// Run is a simulated behavior: an initial state and the steps from it.
type Run struct {
	Init  State
	Steps []SimStep
}

// Simulate runs the model for opt.Steps actions, choosing uniformly at
// random among the enabled actions with a generator seeded by opt.Seed.
// The same params and options always give the same run.
func Simulate(p *Params, opt SimOptions) (Run, error) {
	if err := p.Validate(); err != nil {
		return Run{}, err
	}
	if opt.Steps < 0 {
		return Run{}, fmt.Errorf("steps = %d: must be >= 0", opt.Steps)
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	n := p.N()
	init := opt.Init
	if init == nil {
		init = make([]int, n)
		for i := range init {
			init[i] = p.Dmin + rng.IntN(p.Dmax-p.Dmin+1)
		}
	}
	s, err := InitState(p, init)
	if err != nil {
		return Run{}, err
	}
	run := Run{Init: s, Steps: make([]SimStep, 0, opt.Steps)}
	ticks := 0
	consumed := make([]int, n)
	for range opt.Steps {
		enabled := Enabled(p, s)
		a := enabled[rng.IntN(len(enabled))]
		st := SimStep{Action: a, Newest: ticks - 1}
		switch a.Kind {
		case HostTick:
			st.Obs = p.Observe(s.Demands(n))
			st.Seq = ticks
			ticks++
			st.Newest = ticks - 1
		case Act:
			i := a.VM
			st.Seq = consumed[i]
			consumed[i]++
			st.Congested = s.Q[i].At(0)
			st.Before = int(s.D[i])
			st.After, st.Branch = p.Apply(i, st.Before, st.Congested)
		}
		next, err := Step(p, s, a)
		if err != nil {
			return run, fmt.Errorf("simulate step %d: %w", len(run.Steps), err)
		}
		s = next
		st.State = s
		run.Steps = append(run.Steps, st)
	}
	return run, nil
}
