package sim

import (
	"fmt"
	"math/rand/v2"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/vocab"
)

// Options configures Simulate.
type Options struct {
	Seed  uint64 // the interleaving and (if Init is nil) the initial state
	Steps int    // number of actions to take
	Init  []int  // initial demands; nil picks them at random in [Dmin, Dmax]
}

// Step is one step of a behavior.
type Step struct {
	Action ref.Action
	// Seq numbers samples: for HostTick the sequence number of the sample
	// it produced (0, 1, ...), for Act the sequence number of the sample it
	// consumed. Newest is the newest sample's sequence number at that
	// moment (-1 before the first tick), so Newest-Seq is the sample's
	// delay in ticks.
	Seq, Newest int
	// Obs is what each FVM observed (HostTick only).
	Obs []ref.Observation
	// Dropped (HostTick only, with Loss) has bit i set when the tick pushed
	// FVM i's oldest sample, DroppedSeq[i], out of its full FIFO.
	Dropped    uint16
	DroppedSeq []int
	// Sample, Congested, Before, After and Branch describe an Act: the
	// sample it consumed (Congested: any symbol but Clear), the demand
	// before and after, and the rule's branch.
	Sample        vocab.Symbol
	Congested     bool
	Before, After int
	Branch        vocab.Branch
	// State is the state after the step.
	State ref.State
}

// Run is a behavior: an initial state and the steps from it.
type Run struct {
	Init  ref.State
	Steps []Step
}

// Recorder replays a behavior step by step with ref.Step, numbering the
// samples (ticks) and the samples each FVM consumed.
type Recorder struct {
	p        *ref.Params
	s        ref.State
	ticks    int
	consumed []int
}

// NewRecorder starts a behavior of p at s.
func NewRecorder(p *ref.Params, s ref.State) *Recorder {
	return &Recorder{p: p, s: s, consumed: make([]int, p.N())}
}

// State returns the current state.
func (r *Recorder) State() ref.State { return r.s }

// Record takes action a (which must be enabled) and returns the step.
func (r *Recorder) Record(a ref.Action) (Step, error) {
	p, s, n := r.p, r.s, r.p.N()
	st := Step{Action: a, Newest: r.ticks - 1}
	switch a.Kind {
	case ref.HostTick:
		st.Obs = p.Observe(s.Demands(n))
		for i := range n {
			if int(s.Q[i].Len) > p.FVMs[i].Delay {
				if st.DroppedSeq == nil {
					st.DroppedSeq = make([]int, n)
				}
				st.Dropped |= 1 << i
				st.DroppedSeq[i] = r.consumed[i]
				r.consumed[i]++
			}
		}
		st.Seq = r.ticks
		r.ticks++
		st.Newest = r.ticks - 1
	case ref.Act:
		i := a.VM
		st.Seq = r.consumed[i]
		r.consumed[i]++
		st.Sample = s.Q[i].SymAt(0, p.Rule.SampleBits())
		st.Congested = st.Sample != vocab.Clear
		st.Before = int(s.D[i])
		st.After, st.Branch = p.ApplySym(i, st.Before, st.Sample)
	}
	next, err := ref.Step(p, s, a)
	if err != nil {
		return st, err
	}
	r.s = next
	st.State = next
	return st, nil
}

// Simulate runs the model for opt.Steps actions, choosing uniformly at
// random among the enabled actions with a generator seeded by opt.Seed.
// The same params and options always give the same run.
func Simulate(p *ref.Params, opt Options) (Run, error) {
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
	s, err := ref.InitState(p, init)
	if err != nil {
		return Run{}, err
	}
	run := Run{Init: s, Steps: make([]Step, 0, opt.Steps)}
	rec := NewRecorder(p, s)
	for range opt.Steps {
		enabled := ref.Enabled(p, rec.State())
		st, err := rec.Record(enabled[rng.IntN(len(enabled))])
		if err != nil {
			return run, fmt.Errorf("simulate step %d: %w", len(run.Steps), err)
		}
		run.Steps = append(run.Steps, st)
	}
	return run, nil
}
