package proofs

import (
	"github.com/friendly-vm/fvm/vocab"

	"fmt"
	"math"

	"github.com/friendly-vm/fvm/ref"
)

// Verdict is the fate of the difference mode of the averaged dynamics at
// the symmetric operating point (hosts.md, Theorems 8 and 9).
type Verdict string

// Verdicts.
const (
	// Restoring: the signal grows faster with the FVM's own demand than
	// with another's (Own > Cross); the threshold itself pushes demands
	// together, on top of the multiplicative decrease.
	Restoring Verdict = "stable (restoring signal)"
	// Neutral: Own = Cross, as for the shared bit; the difference mode is
	// contracted by the multiplicative decrease alone.
	Neutral Verdict = "stable (neutral signal, decrease contracts)"
	// AntiFair: Own < Cross; the difference mode is unstable for any
	// threshold sharper than CriticalWidth.
	AntiFair Verdict = "unstable (anti-fair signal)"
	// Saturated: every FVM's signal stays on one side of the threshold
	// in the whole box, so there is no operating point to linearise at.
	Saturated Verdict = "no operating point (signal never crosses the threshold)"
)

// Mode is the linearisation of the averaged dynamics
//
//	d/dt d_i = alpha (1 - p_i) - (1-beta) d_i p_i,  p_i = phi(sigma_i(d) - theta)
//
// of identical FVMs at the symmetric operating point (hosts.md).
type Mode struct {
	// Point is the symmetric operating demand xbar (units): the largest
	// common demand whose signal does not exceed the threshold (for the
	// shared host, threshold/N). Share is an FVM's CPU share there
	// (fraction of a core) and GreedyShare a greedy VM's (sum over them).
	Point, Share, GreedyShare float64
	// Own and Cross are d sigma_i / d d_i and d sigma_i / d d_j (j != i)
	// at the operating point, per demand unit.
	Own, Cross float64
	// PStar is the equilibrium fraction of congested samples
	// alpha/(alpha+(1-beta)xbar).
	PStar float64
	// CriticalWidth (AntiFair only) is the widest blur of the threshold
	// that still leaves the difference mode unstable, in units of the
	// signal; CriticalDemand is the same in demand units
	// (CriticalWidth/(Cross-Own)).
	CriticalWidth, CriticalDemand float64
	Verdict                       Verdict
	// Absorbing (AntiFair only) is an unfair demand vector that no
	// sample ever leaves, if one exists: FVM 0 at dmax never congested,
	// every other FVM at dmin always congested. Nil when there is none.
	Absorbing []int
}

// DiffEigenvalue is the eigenvalue of the averaged Jacobian on the
// difference subspace when the threshold is blurred linearly over width w
// (signal units): -(alpha+(1-beta)xbar)(Own-Cross)/w - (1-beta)pstar.
func (m Mode) DiffEigenvalue(alpha, beta, w float64) float64 {
	return -(alpha+(1-beta)*m.Point)*(m.Own-m.Cross)/w - (1-beta)*m.PStar
}

// signalModel evaluates the symmetric signal and its sensitivities.
type signalModel struct {
	p *ref.Params
}

// dutyPMF returns P(K = k) for K a sum of independent Bernoulli(r_j).
func dutyPMF(r []float64) []float64 {
	pmf := make([]float64, len(r)+1)
	pmf[0] = 1
	for j, x := range r {
		for k := j + 1; k >= 0; k-- {
			v := pmf[k] * (1 - x)
			if k > 0 {
				v += pmf[k-1] * x
			}
			pmf[k] = v
		}
	}
	return pmf
}

// dutyE returns E[1/(1+K)] and E[1/((1+K)(2+K))] for K ~ sum Bernoulli(r).
func dutyE(r []float64) (e, m float64) {
	for k, pk := range dutyPMF(r) {
		e += pk / float64(k+1)
		m += pk / float64((k+1)*(k+2))
	}
	return e, m
}

// others returns the awake fractions of the VMs other than one FVM when
// every FVM is at demand x, leaving out drop further FVMs.
func (s signalModel) others(x float64, drop int) []float64 {
	u := float64(s.p.U)
	var r []float64
	for range s.p.N() - 1 - drop {
		r = append(r, x/u)
	}
	for _, g := range s.p.Greedy {
		r = append(r, float64(g)/u)
	}
	return r
}

// waterLevel is the fair host's level when every FVM demands x.
func (s signalModel) waterLevel(x float64) (level float64, saturated bool) {
	all := make([]float64, 0, s.p.N()+len(s.p.Greedy))
	total := 0.0
	for range s.p.N() {
		all = append(all, x)
	}
	for _, g := range s.p.Greedy {
		all = append(all, float64(g))
	}
	for _, v := range all {
		total += v
	}
	c := float64(s.p.Capacity)
	if total <= c {
		return math.Inf(1), false
	}
	rem, k := c, float64(len(all))
	sorted := append([]float64(nil), all...)
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && sorted[j] < sorted[j-1]; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	for _, v := range sorted {
		if v*k > rem {
			break
		}
		rem -= v
		k--
	}
	return rem / k, true
}

// signal returns sigma_i at the symmetric point x (every FVM at x).
func (s signalModel) signal(x float64) float64 {
	u := float64(s.p.U)
	switch s.p.Host {
	case vocab.Fair:
		l, sat := s.waterLevel(x)
		if !sat || x <= l {
			if s.p.Signal == vocab.VCT {
				return 1
			}
			return 0
		}
		if s.p.Signal == vocab.VCT {
			return x / l
		}
		return (x - l) / u
	case vocab.Duty, vocab.DutyIdle: // duty-idle's signal is duty's
		e, _ := dutyE(s.others(x, 0))
		if s.p.Signal == vocab.VCT {
			return 1 / e
		}
		return x / u * (1 - e)
	}
	return float64(s.p.N()) * x // shared: the total (greedy is in the threshold)
}

// threshold returns the signal level at which samples turn congested.
func (s signalModel) threshold() float64 {
	if s.p.Host == vocab.Shared {
		return float64(s.p.Kappa.FloorMul(int64(s.p.Capacity))) - float64(s.p.GreedyTotal())
	}
	return s.p.Theta.Float()
}

// sensitivities returns d sigma_i/d d_i and d sigma_i/d d_j at x (per
// demand unit), from the closed forms of hosts.md.
func (s signalModel) sensitivities(x float64) (own, cross float64) {
	u := float64(s.p.U)
	switch s.p.Host {
	case vocab.Fair:
		l, sat := s.waterLevel(x)
		if !sat || x <= l {
			return 0, 0
		}
		if s.p.Signal == vocab.VCT {
			return 1 / l, 0
		}
		return 1 / u, 0
	case vocab.Duty, vocab.DutyIdle:
		e, _ := dutyE(s.others(x, 0))
		var m float64 // -dE/dr_j = E[1/((1+K')(2+K'))], K' without i and j
		if s.p.N() > 1 {
			_, m = dutyE(s.others(x, 1))
		}
		if s.p.Signal == vocab.VCT {
			return 0, m / (e * e) / u
		}
		return (1 - e) / u, x / u * m / u
	}
	return 1, 1
}

// modeOf computes the difference-mode linearisation for identical AIMD FVMs
// (hosts.md). It uses FVM 0's alpha and beta.
func modeOf(p *ref.Params) (Mode, error) {
	if p.Rule != vocab.AIMD && p.Rule != vocab.AIMDProp && p.Rule != vocab.AIMDPhase {
		return Mode{}, fmt.Errorf("rule %v: the averaged linearisation is for AIMD and its variants", p.Rule)
	}
	s := signalModel{p}
	theta := s.threshold()
	lo, hi := float64(p.Dmin), float64(p.Dmax)
	var m Mode
	switch {
	case s.signal(hi) <= theta:
		m.Point, m.Verdict = hi, Saturated
	case s.signal(lo) > theta:
		m.Point, m.Verdict = lo, Saturated
	default:
		if p.Host == vocab.Shared {
			m.Point = theta / float64(p.N())
		} else {
			// largest x with signal(x) <= theta (signal is nondecreasing in x)
			a, b := lo, hi
			for range 200 {
				mid := (a + b) / 2
				if s.signal(mid) <= theta {
					a = mid
				} else {
					b = mid
				}
			}
			m.Point = a
		}
	}
	alpha, beta := float64(p.FVMs[0].Alpha), DecreaseFactor(p, p.FVMs[0])
	m.PStar = alpha / (alpha + (1-beta)*m.Point)
	m.Share, m.GreedyShare = s.shares(m.Point)
	if m.Verdict == Saturated {
		return m, nil
	}
	// Congestion happens just above the operating point: take the
	// sensitivities there (the fair host's signal has a kink at it).
	m.Own, m.Cross = s.sensitivities(m.Point * (1 + 1e-9))
	switch d := m.Own - m.Cross; {
	case math.Abs(d) <= 1e-12*math.Max(math.Abs(m.Own), math.Abs(m.Cross)):
		m.Verdict = Neutral
	case d > 0:
		m.Verdict = Restoring
	default:
		m.Verdict = AntiFair
		// -(alpha+(1-beta)x) d / w - (1-beta) p* > 0  iff  w < W_c
		m.CriticalWidth = (alpha + (1-beta)*m.Point) * (-d) / ((1 - beta) * m.PStar)
		m.CriticalDemand = m.CriticalWidth / (-d)
		m.Absorbing = absorbingUnfair(p)
	}
	return m, nil
}

// shares returns an FVM's CPU share and the greedy VMs' total share (as
// fractions of a core) when every FVM demands x.
func (s signalModel) shares(x float64) (fvm, greedy float64) {
	u := float64(s.p.U)
	switch s.p.Host {
	case vocab.Fair:
		l, _ := s.waterLevel(x)
		fvm = math.Min(x, l) / u
		for _, g := range s.p.Greedy {
			greedy += math.Min(float64(g), l) / u
		}
	case vocab.Duty, vocab.DutyIdle:
		e, _ := dutyE(s.others(x, 0))
		fvm = x / u * e
		if s.p.Host == vocab.DutyIdle {
			// The FVMs split the time when no VM is at normal priority.
			idle := math.Pow(1-x/u, float64(s.p.N()))
			for _, g := range s.p.Greedy {
				idle *= 1 - float64(g)/u
			}
			fvm += idle / float64(s.p.N())
		}
		for j, g := range s.p.Greedy {
			var r []float64
			for range s.p.N() {
				r = append(r, x/u)
			}
			for k, h := range s.p.Greedy {
				if k != j {
					r = append(r, float64(h)/u)
				}
			}
			eg, _ := dutyE(r)
			greedy += float64(g) / u * eg
		}
	default:
		fvm = x / u
		greedy = float64(s.p.GreedyTotal()) / u
	}
	return fvm, greedy
}

// absorbingUnfair returns (dmax, dmin, ..., dmin) if, at that vector, FVM
// 0's sample is not congested and every other FVM's is: then every sample
// keeps FVM 0 at dmax and the others at dmin, whatever the delays.
func absorbingUnfair(p *ref.Params) []int {
	if p.N() < 2 || p.Dmin == p.Dmax {
		return nil
	}
	d := make([]int, p.N())
	for i := range d {
		d[i] = p.Dmin
	}
	d[0] = p.Dmax
	mask := p.Congested(d)
	want := uint16(1)<<p.N() - 2
	if mask != want {
		return nil
	}
	return d
}
