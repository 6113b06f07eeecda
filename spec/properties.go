package spec

import (
	"errors"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/spec/mc"
	"github.com/friendly-vm/fvm/vocab"
)

// The property names of spec/MODEL.md: one list, used by the checker, the
// TLA+ model files and the tests.
const (
	TypeOK       = "TypeOK"
	Bounds       = "Bounds"
	DelayBound   = "DelayBound"
	NoStarvation = "NoStarvation"
	Deadlock     = "Deadlock"
	// Efficient: <>[] (Lo <= sum d <= Hi), the shared host's band.
	Efficient = "Efficient"
	// DemandsConverge: <>[] (max d*_i - min d*_i <= eps) on projected
	// demands, for hosts that send every FVM the same bit (shared).
	DemandsConverge = "DemandsConverge"
	// Utilised: <>[] (d_i >= L_i for every i), the duty host's demand
	// floor with the steal signal, hence a floor on the core's use.
	Utilised = "Utilised"
	// FairShares: every limit set is closed under swapping identical FVMs,
	// or its projected demands stay within eps.
	FairShares = "FairShares"
	// WorkConserving: under the duty-idle host, the shares of every VM
	// (the FVMs' and the greedy VMs') sum to one core in every state.
	WorkConserving = "WorkConserving"
	// Friendly: <>[] (d_i <= H_i for every i), the duty hosts' demand
	// ceiling with the steal signal, hence a floor on every greedy VM's
	// share; stated where there are greedy VMs.
	Friendly = "Friendly"
)

// PropertyKind says how a property is judged.
type PropertyKind int

// Kinds of properties.
const (
	Invariant     PropertyKind = iota // in every reachable state
	EventuallyAll                     // <>[]P under the fairness assumption
	OfLimitSets                       // of every limit set (not expressible for TLC)
)

// Property describes one property of MODEL.md.
type Property struct {
	Name string
	Kind PropertyKind
	// TLC reports whether FVM.tla states it too (the cross-check compares
	// the verdicts of these).
	TLC bool
	// Doc says what it asserts, in a sentence.
	Doc string
}

// Properties lists the properties that apply to p, invariants first, in the
// order the checker reports them (Deadlock after the invariants).
func Properties(p *ref.Params) []Property {
	out := []Property{
		{TypeOK, Invariant, true, "every demand is an integer in 1..U and every FIFO a bit sequence"},
		{Bounds, Invariant, true, "dmin <= d_i <= dmax"},
		{DelayBound, Invariant, true, "no FVM has more than D_i+1 samples pending"},
		{NoStarvation, Invariant, true, "every FVM is awake a positive fraction of every period"},
		{Deadlock, Invariant, true, "some action is always enabled"},
	}
	if p.Host == vocab.DutyIdle {
		// Before Deadlock, which the checker reports after the invariants.
		deadlock := out[len(out)-1]
		out = append(out[:len(out)-1], Property{WorkConserving, Invariant, true, "the VMs' shares sum to one core: the core is never idle"}, deadlock)
	}
	if p.Host == vocab.Shared {
		out = append(out,
			Property{Efficient, EventuallyAll, true, "the total demand ends up in the proved band [Lo, Hi]"},
			Property{DemandsConverge, EventuallyAll, true, "the FVMs' projected demands end up within the rounding residual eps of each other"})
	}
	if _, err := ref.DemandFloor(p); err == nil {
		out = append(out, Property{Utilised, EventuallyAll, true, "every FVM's demand ends up at or above its proved floor L_i"})
	}
	if _, err := ref.DemandCeiling(p); err == nil && len(p.Greedy) > 0 {
		out = append(out, Property{Friendly, EventuallyAll, true, "every FVM's demand ends up at or below its proved ceiling H_i, so every greedy VM keeps at least its share at H"})
	}
	out = append(out, Property{FairShares, OfLimitSets, false,
		"in the long run no FVM is favoured beyond rounding: every limit set is closed under swapping identical FVMs, or keeps their projected demands within eps"})
	return out
}

// Invariants returns the safety properties of MODEL.md over packed states.
func (m *Model) Invariants() []mc.Invariant {
	p := m.p
	invs := []mc.Invariant{
		{Name: TypeOK, Holds: func(s uint64) bool {
			for i := 0; i < m.n; i++ {
				d := m.demand(s, i)
				if d < 1 || d > p.U || m.fifo(s, i) == 0 {
					return false
				}
			}
			return m.phase(s) < m.phases
		}},
		{Name: Bounds, Holds: func(s uint64) bool {
			for i := 0; i < m.n; i++ {
				if d := m.demand(s, i); d < p.Dmin || d > p.Dmax {
					return false
				}
			}
			return true
		}},
		{Name: DelayBound, Holds: func(s uint64) bool {
			for i := 0; i < m.n; i++ {
				if m.fifoLen(m.fifo(s, i)) > p.FVMs[i].Delay+1 {
					return false
				}
			}
			return true
		}},
		{Name: NoStarvation, Holds: func(s uint64) bool {
			for i := 0; i < m.n; i++ {
				if m.demand(s, i) < max(p.Dmin, 1) {
					return false
				}
			}
			return true
		}},
	}
	if m.conserving != nil {
		invs = append(invs, mc.Invariant{Name: WorkConserving, Holds: func(s uint64) bool { return m.conserving[m.vector(s)] }})
	}
	return invs
}

// LivenessBounds are the numbers the liveness properties use, derived in
// package ref from the proofs (proofs/*.md).
type LivenessBounds struct {
	// Band is the Efficient band; HasBand is false for host models with no
	// proved band (Efficient is then not checked).
	Band    ref.Band
	HasBand bool
	// Eps is the DemandsConverge and FairShares tolerance on projected
	// demands.
	Eps int
	// Floor is the Utilised floor per FVM; nil where none is proved.
	Floor []int
	// Ceiling is the Friendly ceiling per FVM; nil where none is proved
	// or there is no greedy VM to be friendly to.
	Ceiling []int
}

// LivenessBounds derives the liveness bounds for m's parameters.
func (m *Model) LivenessBounds() (LivenessBounds, error) {
	b := LivenessBounds{Eps: ref.FairTolerance(m.p)}
	band, err := ref.EfficiencyBand(m.p)
	switch {
	case err == nil:
		b.Band, b.HasBand = band, true
	case !errors.Is(err, ref.ErrNoBand):
		return b, err
	}
	floor, err := ref.DemandFloor(m.p)
	switch {
	case err == nil:
		b.Floor = floor
	case !errors.Is(err, ref.ErrNoFloor):
		return b, err
	}
	if len(m.p.Greedy) > 0 {
		ceiling, err := ref.DemandCeiling(m.p)
		switch {
		case err == nil:
			b.Ceiling = ceiling
		case !errors.Is(err, ref.ErrNoCeiling):
			return b, err
		}
	}
	return b, nil
}

// Liveness returns the <>[] properties of MODEL.md that apply: Efficient and
// DemandsConverge on the shared host, Utilised where a floor is proved,
// Friendly where a ceiling is proved and there are greedy VMs.
func (m *Model) Liveness(b LivenessBounds) []mc.EventuallyAlways {
	var out []mc.EventuallyAlways
	if b.HasBand {
		lo, hi := b.Band.Lo, b.Band.Hi
		out = append(out, mc.EventuallyAlways{Name: Efficient, P: func(s uint64) bool {
			sum := m.Sum(s)
			return lo <= sum && sum <= hi
		}})
	}
	if m.p.Host == vocab.Shared {
		eps := b.Eps
		out = append(out, mc.EventuallyAlways{Name: DemandsConverge, P: func(s uint64) bool { return m.ProjectedGap(s) <= eps }})
	}
	if b.Floor != nil {
		floor := b.Floor
		out = append(out, mc.EventuallyAlways{Name: Utilised, P: func(s uint64) bool {
			for i := 0; i < m.n; i++ {
				if m.demand(s, i) < floor[i] {
					return false
				}
			}
			return true
		}})
	}
	if b.Ceiling != nil {
		ceiling := b.Ceiling
		out = append(out, mc.EventuallyAlways{Name: Friendly, P: func(s uint64) bool {
			for i := 0; i < m.n; i++ {
				if m.demand(s, i) > ceiling[i] {
					return false
				}
			}
			return true
		}})
	}
	return out
}

// LimitSetProperties returns FairShares: every limit set is closed under
// swapping any two identical FVMs (then in the long run no FVM can be
// ahead of another by construction; a random scheduler gives them equal
// average shares exactly), or its projected demands stay within eps (the
// rounding residual, as DemandsConverge allows).
func (m *Model) LimitSetProperties(b LivenessBounds) []mc.LimitSetProperty {
	eps := b.Eps
	return []mc.LimitSetProperty{{Name: FairShares, Holds: func(ls mc.LimitSet) bool {
		if m.symmetricSet(ls) {
			return true
		}
		for _, s := range ls.States {
			if m.ProjectedGap(s) > eps {
				return false
			}
		}
		return true
	}}}
}

// symmetricSet reports whether ls is closed under swapping every pair of
// identical FVMs and, under aimd-phase, under rotating the FVMs with the
// phase (FVM i to i+1, phase p to p+1: FVM i+1 acts in the phase after
// FVM i's; a symmetry since the phases divide N and the initial states
// cover every phase). Both map limit sets to limit sets, so it suffices
// that one state's image lies in ls; they generate the group, which moves
// every FVM to every other.
func (m *Model) symmetricSet(ls mc.LimitSet) bool {
	s := ls.States[0]
	if m.rotates() {
		if !ls.Contains(m.rotate(s)) {
			return false
		}
	} else if len(m.groups) == 0 {
		return false
	}
	for _, g := range m.groups {
		for k := 1; k < len(g); k++ {
			if !ls.Contains(m.swap(s, g[0], g[k])) {
				return false
			}
		}
	}
	return true
}

// rotates reports whether rotating the FVMs with the phase is a symmetry:
// aimd-phase with more than one phase and every FVM's parameters equal.
func (m *Model) rotates() bool {
	if m.phases < 2 {
		return false
	}
	for _, f := range m.p.FVMs {
		if f != m.p.FVMs[0] {
			return false
		}
	}
	return true
}

// rotate moves FVM i's bit field to FVM i+1 (mod N; equal widths) and
// advances the phase by one.
func (m *Model) rotate(s uint64) uint64 {
	mask := uint64(1)<<m.width[0] - 1
	x := uint64((m.phase(s)+1)%m.phases) << m.phOff
	for i := 0; i < m.n; i++ {
		x |= (s >> m.off[i] & mask) << m.off[(i+1)%m.n]
	}
	return x
}

// swap exchanges the bit fields of FVMs i and j (identical: same width).
func (m *Model) swap(s uint64, i, j int) uint64 {
	mask := uint64(1)<<m.width[i] - 1
	fi, fj := s>>m.off[i]&mask, s>>m.off[j]&mask
	s &^= mask<<m.off[i] | mask<<m.off[j]
	return s | fj<<m.off[i] | fi<<m.off[j]
}

// ProjectedGap is max_i d*_i - min_i d*_i over the projected demands.
func (m *Model) ProjectedGap(s uint64) int {
	lo, hi := m.p.Dmax, m.p.Dmin
	for i := 0; i < m.n; i++ {
		d := m.Projected(s, i)
		lo, hi = min(lo, d), max(hi, d)
	}
	return hi - lo
}

// Sum is the total FVM demand of a packed state.
func (m *Model) Sum(s uint64) int {
	sum := 0
	for i := 0; i < m.n; i++ {
		sum += m.demand(s, i)
	}
	return sum
}

// Projected is FVM i's demand after it consumes its pending samples
// (ref.Projected on the packed state).
func (m *Model) Projected(s uint64, i int) int {
	d := m.demand(s, i)
	q := m.fifo(s, i)
	for ; q > 1; q >>= m.w {
		d = int(m.rule[i][q&(1<<m.w-1)][d])
	}
	return d
}
