package ref

import (
	"errors"
	"fmt"

	"github.com/friendly-vm/fvm/vocab"
)

// ErrNoBand is returned by EfficiencyBand for host models for which no
// efficiency band is proved.
var ErrNoBand = errors.New("no efficiency band is proved for this host model")

// Band is the interval [Lo, Hi] that the total FVM demand sum(d_i) stays in
// eventually (proofs/efficiency.md, Theorem 5).
type Band struct {
	Lo, Hi int
	// Threshold is the largest total FVM demand that the shared host does
	// not call congested: floor(kappa*C) - greedy.
	Threshold int
}

// EfficiencyBand derives the band for the shared host model.
//
// Let S = floor(kappa*C) - greedy. A tick is congested iff sum(d) > S.
// Upper end: consider the last uncongested tick tau0 before time t. At tau0
// sum(d) <= S and FVM i has at most D_i+1 pending samples; every sample
// appended after tau0 up to t is congested, so between tau0 and t FVM i
// applies at most D_i+1 increases, hence
//
//	Hi = max { sum_i inc_i^(D_i+1)(x_i) : x in [dmin,dmax]^N, sum(x) <= S }.
//
// Lower end: symmetric, with the last congested tick (sum(d) >= S+1) and at
// most D_i+1 decreases, using that both updates are monotone and an increase
// never lowers a demand:
//
//	Lo = min { sum_i dec_i^(D_i+1)(x_i) : x in [dmin,dmax]^N, sum(x) >= S+1 }.
//
// Both optimisations are solved exactly by dynamic programming over the
// partial sums. Degenerate hosts (never or always congested) give a
// one-point band.
func EfficiencyBand(p *Params) (Band, error) {
	if err := p.Validate(); err != nil {
		return Band{}, err
	}
	if p.Host != vocab.Shared {
		return Band{}, fmt.Errorf("host %v: %w", p.Host, ErrNoBand)
	}
	n := p.N()
	s := int(p.Kappa.FloorMul(int64(p.Capacity))) - p.GreedyTotal()
	b := Band{Threshold: s}
	switch {
	case n*p.Dmax <= s: // never congested: every FVM climbs to dmax
		b.Lo, b.Hi = n*p.Dmax, n*p.Dmax
		return b, nil
	case n*p.Dmin > s: // always congested: every FVM sinks to dmin
		b.Lo, b.Hi = n*p.Dmin, n*p.Dmin
		return b, nil
	}
	inc := make([][]int, n) // inc[i][x-dmin] = inc_i^(D_i+1)(x)
	dec := make([][]int, n)
	for i := range n {
		inc[i] = make([]int, p.Dmax-p.Dmin+1)
		dec[i] = make([]int, p.Dmax-p.Dmin+1)
		for x := p.Dmin; x <= p.Dmax; x++ {
			inc[i][x-p.Dmin], dec[i][x-p.Dmin] = PendingReach(p, i, x)
		}
	}
	b.Hi = optimise(p, inc, func(sum int) bool { return sum <= s }, true)
	b.Lo = optimise(p, dec, func(sum int) bool { return sum >= s+1 }, false)
	return b, nil
}

// optimise returns the max (or min) of sum_i f[i][x_i-dmin] over demand
// vectors whose sum satisfies ok.
func optimise(p *Params, f [][]int, ok func(sum int) bool, maximise bool) int {
	const none = -1
	width := p.Dmax - p.Dmin + 1
	maxSum := len(f) * p.Dmax
	best := make([]int, maxSum+1) // best[sum] over the FVMs seen so far
	for i := range best {
		best[i] = none
	}
	best[0] = 0
	for i := range f {
		next := make([]int, maxSum+1)
		for j := range next {
			next[j] = none
		}
		for sum, v := range best {
			if v == none {
				continue
			}
			for k := 0; k < width; k++ {
				t := sum + p.Dmin + k
				c := v + f[i][k]
				if next[t] == none || (maximise && c > next[t]) || (!maximise && c < next[t]) {
					next[t] = c
				}
			}
		}
		best = next
	}
	result := none
	for sum, v := range best {
		if v == none || !ok(sum) {
			continue
		}
		if result == none || (maximise && v > result) || (!maximise && v < result) {
			result = v
		}
	}
	return result
}

// FairTolerance is the largest projected-demand gap max_i d*_i - min_i d*_i
// that the Fair property allows (proofs/shared.md, Theorem 4).
//
// With identical FVMs, every FVM applies the same sample sequence to its
// projected demand. An increase never widens a gap (the dmax clamp can only
// narrow it); a decrease maps a gap g to at most ceil(beta*g), because
// |floor(beta*a) - floor(beta*b)| <= ceil(beta*|a-b|) and the dmin clamp only
// narrows it. Iterating g -> ceil(beta*g) ends at the largest g with
// ceil(beta*g) = g, which is ceil(1/(1-beta)) - 1. The tolerance is the
// largest such residual over the FVMs' betas. AIAD has no multiplicative
// step; its tolerance is 1, so that the failure it shows is the rule's,
// not an artefact of exact arithmetic. Under aimd-prop the mild decrease,
// by (1+beta)/2, is the gentler multiplicative step, so its residual
// counts.
func FairTolerance(p *Params) int {
	if p.Rule == vocab.AIAD {
		return 1
	}
	eps := 0
	for _, f := range p.FVMs {
		b := f.Beta
		if p.Rule == vocab.AIMDProp {
			b = vocab.R(b.Num+b.Den, 2*b.Den)
		}
		// ceil(den/(den-num)) - 1
		r := int((b.Den+(b.Den-b.Num)-1)/(b.Den-b.Num)) - 1
		eps = max(eps, r)
	}
	return eps
}

// PendingReach returns FVM i's demand after D_i+1 increases (up) and after
// D_i+1 decreases (down) from x: the furthest its pending samples can move
// it, since a FIFO holds at most D_i+1 samples.
func PendingReach(p *Params, i, x int) (up, down int) {
	up, down = x, x
	for range p.FVMs[i].Delay + 1 {
		up, _ = p.Apply(i, up, false)
		down, _ = p.Apply(i, down, true)
	}
	return up, down
}

// ErrNoFloor is returned by DemandFloor for configurations with no proved
// demand floor.
var ErrNoFloor = errors.New("no demand floor is proved for this host model and signal")

// DemandFloor returns, for the duty and duty-idle hosts with the steal
// signal (their samples are the same), the demand L_i below which FVM i
// eventually never falls (proofs/utilisation.md).
//
// Steal is r_i(1 - E_i) with E_i = E[1/(1+K_i)], which is smallest when the
// other VMs are awake as much as they can be (the other FVMs at dmax, the
// greedy VMs at their demands). So FVM i's sample is never congested while
// its demand is at most T_i, the largest d with (d/U)(1 - E_min) <= theta.
// A decrease therefore uses a sample taken at a demand of at least T_i+1;
// since then FVM i has consumed at most D_i older samples, each monotone
// (an increase never lowers a demand), so the decrease lands at or above
// dec^(D_i+1)(T_i+1) =: L_i. An FVM below L_i (<= T_i+1) sees only
// uncongested samples and climbs. Hence <>[] (d_i >= L_i) for every i,
// under weak fairness, with or without loss (loss only removes samples).
// If T_i >= dmax the FVM is never congested and L_i = dmax.
func DemandFloor(p *Params) ([]int, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if !p.Host.DutyCycle() || p.Signal != vocab.Steal {
		return nil, fmt.Errorf("host %v, signal %v: %w", p.Host, p.Signal, ErrNoFloor)
	}
	n := p.N()
	out := make([]int, n)
	for i := range n {
		others := make([]int64, 0, n-1+len(p.Greedy))
		for j := 0; j < n; j++ {
			if j != i {
				others = append(others, int64(p.Dmax))
			}
		}
		for _, g := range p.Greedy {
			others = append(others, int64(g))
		}
		enum, eden := dutyExpectation(others, int64(p.U))
		// (d/U) * (eden-enum)/eden <= theta  <=>  d*(eden-enum)*theta.Den <= theta.Num*U*eden
		t := p.Dmax
		if lose := (eden - enum) * p.Theta.Den; lose > 0 {
			t = int(min(int64(p.Dmax), p.Theta.Num*int64(p.U)*eden/lose))
		}
		if t >= p.Dmax {
			out[i] = p.Dmax
			continue
		}
		x := t + 1
		for range p.FVMs[i].Delay + 1 {
			x, _ = p.Apply(i, x, true)
		}
		out[i] = x
	}
	return out, nil
}

// ErrNoCeiling is returned by DemandCeiling for configurations with no
// proved demand ceiling.
var ErrNoCeiling = errors.New("no demand ceiling is proved for this host model and signal")

// DemandCeiling returns, for the duty and duty-idle hosts with the steal
// signal, the demand H_i above which FVM i eventually never rises
// (proofs/mechanisms.md, Theorem 18): the mirror image of DemandFloor.
//
// Steal is r_i(1 - E_i) and E_i = E[1/(1+K_i)] is largest when the other
// VMs are awake as little as they can be (the other FVMs at dmin, the
// greedy VMs at their demands). So FVM i's sample is congested whenever its
// demand is above T_i, the largest d with (d/U)(1 - E_max) <= theta. An
// increase therefore uses a sample taken at a demand of at most T_i; since
// that tick FVM i has consumed at most D_i older samples, each monotone,
// so the increase lands at or below inc^(D_i+1)(T_i) =: H_i; a decrease or
// a hold never raises a demand. An FVM above H_i (> T_i) sees only
// congested samples once its pending ones are used, and falls. Hence
// <>[] (d_i <= H_i) for every i, under weak fairness, with or without loss.
// Every greedy VM's share is smallest when the FVMs are at their largest,
// so it eventually never falls below its share at d = H (GreedyShares).
func DemandCeiling(p *Params) ([]int, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if !p.Host.DutyCycle() || p.Signal != vocab.Steal {
		return nil, fmt.Errorf("host %v, signal %v: %w", p.Host, p.Signal, ErrNoCeiling)
	}
	n := p.N()
	out := make([]int, n)
	for i := range n {
		others := make([]int64, 0, n-1+len(p.Greedy))
		for j := 0; j < n; j++ {
			if j != i {
				others = append(others, int64(p.Dmin))
			}
		}
		for _, g := range p.Greedy {
			others = append(others, int64(g))
		}
		enum, eden := dutyExpectation(others, int64(p.U))
		// (d/U) * (eden-enum)/eden <= theta  <=>  d*(eden-enum)*theta.Den <= theta.Num*U*eden
		t := p.Dmax
		if lose := (eden - enum) * p.Theta.Den; lose > 0 {
			t = int(min(int64(p.Dmax), p.Theta.Num*int64(p.U)*eden/lose))
		}
		if t < p.Dmin {
			// Congested at every demand: increases never happen, and
			// a decrease never leaves [dmin, dmax].
			out[i] = p.Dmin
			continue
		}
		x := t
		for range p.FVMs[i].Delay + 1 {
			x, _ = p.Apply(i, x, false)
		}
		out[i] = x
	}
	return out, nil
}
