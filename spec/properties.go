package spec

import (
	"errors"
	"math/bits"

	"github.com/friendly-vm/fvm/proofs"
	"github.com/friendly-vm/fvm/spec/mc"
)

// Invariants returns the safety properties of MODEL.md over packed states.
func (m *Model) Invariants() []mc.Invariant {
	p := m.p
	return []mc.Invariant{
		{Name: "TypeOK", Holds: func(s uint64) bool {
			for i := 0; i < m.n; i++ {
				d := m.demand(s, i)
				if d < 1 || d > p.U || m.fifo(s, i) == 0 {
					return false
				}
			}
			return true
		}},
		{Name: "Bounds", Holds: func(s uint64) bool {
			for i := 0; i < m.n; i++ {
				if d := m.demand(s, i); d < p.Dmin || d > p.Dmax {
					return false
				}
			}
			return true
		}},
		{Name: "DelayBound", Holds: func(s uint64) bool {
			for i := 0; i < m.n; i++ {
				if bits.Len64(m.fifo(s, i))-1 > p.FVMs[i].D+1 {
					return false
				}
			}
			return true
		}},
		{Name: "NoStarvation", Holds: func(s uint64) bool {
			for i := 0; i < m.n; i++ {
				if m.demand(s, i) < max(p.Dmin, 1) {
					return false
				}
			}
			return true
		}},
	}
}

// Bounds are the numbers the liveness properties use, from package proofs.
type Bounds struct {
	// Band is the Efficient band; HasBand is false for host models with no
	// proved band (Efficient is then not checked).
	Band    proofs.Band
	HasBand bool
	// Eps is the Fair tolerance on projected demands.
	Eps int
}

// LivenessBounds derives the liveness bounds for m's parameters.
func (m *Model) LivenessBounds() (Bounds, error) {
	b := Bounds{Eps: proofs.FairTolerance(m.p)}
	band, err := proofs.EfficiencyBand(m.p)
	switch {
	case err == nil:
		b.Band, b.HasBand = band, true
	case !errors.Is(err, proofs.ErrNoBand):
		return b, err
	}
	return b, nil
}

// Liveness returns the <>[] properties of MODEL.md: Efficient (when a band
// is proved for the host model) and Fair.
func (m *Model) Liveness(b Bounds) []mc.EventuallyAlways {
	var out []mc.EventuallyAlways
	if b.HasBand {
		lo, hi := b.Band.Lo, b.Band.Hi
		out = append(out, mc.EventuallyAlways{Name: "Efficient", P: func(s uint64) bool {
			sum := m.Sum(s)
			return lo <= sum && sum <= hi
		}})
	}
	eps := b.Eps
	out = append(out, mc.EventuallyAlways{Name: "Fair", P: func(s uint64) bool {
		lo, hi := m.p.Dmax, m.p.Dmin
		for i := 0; i < m.n; i++ {
			d := m.Projected(s, i)
			lo, hi = min(lo, d), max(hi, d)
		}
		return hi-lo <= eps
	}})
	return out
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
	for ; q > 1; q >>= 1 {
		if q&1 == 1 {
			d = int(m.dec[i][d])
		} else {
			d = int(m.inc[i][d])
		}
	}
	return d
}
