package proofs

import (
	"math"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
)

// TickPoint is one HostTick of a simulated run.
type TickPoint struct {
	Step int // index of the HostTick in Run.Steps
	// Demands are the demands the tick sampled (before it).
	Demands []int
	// Congested is the tick's sample mask (bit i for FVM i).
	Congested uint16
	// Projected are the projected demands after the tick: every FVM's
	// demand once it has consumed all its pending samples.
	Projected []int
}

// Ticks extracts the HostTicks of run, with the projected demands after
// each (shared.md: under the shared host they follow the tick bits alone).
func Ticks(p *ref.Params, run sim.Run) []TickPoint {
	n := p.N()
	var out []TickPoint
	prev := run.Init
	for k, st := range run.Steps {
		if st.Action.Kind == ref.HostTick {
			tp := TickPoint{Step: k, Demands: prev.Demands(n), Projected: make([]int, n)}
			for i := range n {
				if st.Obs[i].Congested {
					tp.Congested |= 1 << i
				}
				tp.Projected[i] = ref.Projected(p, st.State, i)
			}
			out = append(out, tp)
		}
		prev = st.State
	}
	return out
}

// Gap is max_i d_i - min_i d_i.
func Gap(d []int) int {
	lo, hi := math.MaxInt, math.MinInt
	for _, x := range d {
		lo, hi = min(lo, x), max(hi, x)
	}
	return hi - lo
}

// WeightedGap is the distance of d from the ray of the fair point x:
// max_i d_i/w_i - min_i d_i/w_i with w = x/max(x), so that it equals Gap
// for identical FVMs.
func WeightedGap(d []int, x []float64) float64 {
	top := 0.0
	for _, v := range x {
		top = math.Max(top, v)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range d {
		r := float64(v) / (x[i] / top)
		lo, hi = math.Min(lo, r), math.Max(hi, r)
	}
	return hi - lo
}
