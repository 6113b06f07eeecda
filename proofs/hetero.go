package proofs

import (
	"github.com/friendly-vm/fvm/vocab"

	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/friendly-vm/fvm/ref"
)

// HeteroBound is Theorem 7 of hetero.md for AIMD on the
// shared host with D_i = 0: the peak vectors W(k) (demands at the k-th
// congested tick, totals P_k) of the integer model satisfy
//
//	||W(k) - xhat P_k||_inf <= Pow[k] ||W(0) - xhat P_0||_inf + Sum * Disturbance
//
// where xhat is the fair point, Pow[k] = ||A^k Q||_inf with Q = I - xhat 1^T,
// Sum = sum_k Pow[k], and Disturbance bounds the rounding and
// integer-epoch-length forcing per epoch.
type HeteroBound struct {
	Pow         []float64
	Sum         float64
	Disturbance float64
	// Limit = Sum*Disturbance: the limsup bound, in demand units.
	Limit float64
	// Applies says whether the theorem's assumptions that can be read off
	// the parameters hold (every D_i = 0 and a decrease always ends an
	// epoch: beta_max (S + sum alpha) <= S); Why says which fails.
	// No-clamp is a property of the run, checked by the caller.
	Applies bool
	Why     string
}

// At returns the bound at epoch k for initial distance y0.
func (h HeteroBound) At(k int, y0 float64) float64 {
	pk := 0.0
	if k < len(h.Pow) {
		pk = h.Pow[k]
	}
	return pk*y0 + h.Limit
}

// HeteroPeakBound computes the bound for an AIMD configuration.
func HeteroPeakBound(p *ref.Params) (HeteroBound, error) {
	if p.Rule != vocab.AIMD {
		return HeteroBound{}, fmt.Errorf("rule %v: %w", p.Rule, ErrBadParams)
	}
	n := p.N()
	alpha, beta := make([]float64, n), make([]float64, n)
	for i, f := range p.FVMs {
		alpha[i], beta[i] = float64(f.Alpha), f.Beta.Float()
	}
	a, err := EpochMatrix(alpha, beta)
	if err != nil {
		return HeteroBound{}, err
	}
	x := FairPointClosedForm(alpha, beta)
	q := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			v := -x[i]
			if i == j {
				v++
			}
			q.Set(i, j, v)
		}
	}
	var h HeteroBound
	m := mat.DenseCopyOf(q)
	var next mat.Dense
	for k := 0; k < 1<<20; k++ {
		nk := mat.Norm(m, math.Inf(1))
		h.Pow = append(h.Pow, nk)
		h.Sum += nk
		if nk < 1e-13 {
			break
		}
		next.Mul(a, m)
		m.Copy(&next)
	}
	sa := floats.Sum(alpha)
	u := 0.0
	er := 0.0
	for i := range n {
		u = math.Max(u, math.Abs(alpha[i]/sa-x[i]))
		c := alpha[i] / sa
		er = math.Max(er, math.Max(1-c, c*float64(n-1)))
	}
	h.Disturbance = u*(sa-1) + er
	h.Limit = h.Sum * h.Disturbance
	s := float64(p.Kappa.FloorMul(int64(p.Capacity)) - int64(p.GreedyTotal()))
	h.Applies = true
	for i, f := range p.FVMs {
		if f.Delay != 0 {
			h.Applies, h.Why = false, fmt.Sprintf("FVM %d has D = %d (the theorem is for D = 0)", i, f.Delay)
		}
	}
	if bmax := floats.Max(beta); h.Applies && bmax*(s+sa) > s {
		h.Applies, h.Why = false, fmt.Sprintf("beta_max (S + sum alpha) = %.4g > S = %.4g: a decrease may not end an epoch", bmax*(s+sa), s)
	}
	return h, nil
}
