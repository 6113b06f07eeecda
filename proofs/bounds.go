package proofs

import (
	"fmt"
	"math"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/vocab"
)

// BandClosedForm bounds the efficiency band of an AIMD configuration on
// the shared host in closed form (efficiency.md, Corollary 3): with S the
// threshold and m_i = D_i+1,
//
//	Hi <= min(N dmax, S + sum_i m_i alpha_i),
//	Lo >= max(N dmin, b (S+1) - sum_i (1-beta_i^m_i)/(1-beta_i)),  b = min_i beta_i^m_i.
//
// The exact band of ref.EfficiencyBand lies inside [lo, hi] (non-degenerate
// hosts: N dmin <= S < N dmax).
func BandClosedForm(p *ref.Params) (lo, hi float64, err error) {
	if err := p.Validate(); err != nil {
		return 0, 0, err
	}
	if p.Host != vocab.Shared || p.Rule != vocab.AIMD {
		return 0, 0, fmt.Errorf("host %v rule %v: closed form is for AIMD on the shared host: %w", p.Host, p.Rule, ref.ErrNoBand)
	}
	n := float64(p.N())
	s := float64(p.Kappa.FloorMul(int64(p.Capacity)) - int64(p.GreedyTotal()))
	hi, b, loss := s, 1.0, 0.0
	for _, f := range p.FVMs {
		m := float64(f.Delay + 1)
		hi += m * float64(f.Alpha)
		bm := math.Pow(f.Beta.Float(), m)
		b = math.Min(b, bm)
		loss += (1 - bm) / (1 - f.Beta.Float())
	}
	hi = math.Min(hi, n*float64(p.Dmax))
	lo = math.Max(n*float64(p.Dmin), b*(s+1)-loss)
	return lo, hi, nil
}
