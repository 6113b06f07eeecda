package ref

import (
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/friendly-vm/fvm/vocab"
)

// Observation is what one HostTick shows one FVM, computed exactly from the
// current demands by the host model.
type Observation struct {
	// Share is the FVM's long-run CPU share as a fraction of one core.
	// Under Shared it is the Chiu–Jain allocation d_i/U.
	Share vocab.Rat
	// VCT is r_i/s_i and Steal is r_i-s_i (a fraction of wall time); both
	// are zero under Shared, which has no per-FVM observable.
	VCT, Steal vocab.Rat
	// Congested is the sample bit: the shared bit under Shared, else
	// signal_i > Theta.
	Congested bool
}

// maxDutyDen bounds the common denominator of the Duty model's expectations
// so that every cross-multiplication stays inside int64.
const maxDutyDen = 1 << 36

// Observe computes every FVM's observation for demand vector d (len N).
func (p *Params) Observe(d []int) []Observation {
	obs := make([]Observation, len(d))
	switch p.Host {
	case vocab.Shared:
		c := p.SharedCongested(d)
		for i, di := range d {
			obs[i] = Observation{Share: vocab.R(int64(di), int64(p.U)).Reduce(), VCT: vocab.R(0, 1), Steal: vocab.R(0, 1), Congested: c}
		}
	case vocab.Fair:
		p.observeFair(d, obs)
	case vocab.Duty:
		p.observeDuty(d, obs)
	case vocab.DutyIdle:
		p.observeDuty(d, obs)
		p.addIdleShares(d, obs)
	}
	return obs
}

// addIdleShares adds the DutyIdle host's SCHED_IDLE part to the duty
// shares in obs: with probability prod_j (1 - x_j/U) (over every VM, greedy
// ones included) no VM runs at normal priority, and then the N FVMs, all at
// SCHED_IDLE and all wanting the core, split it equally. A greedy VM is
// asleep outside its demand (it does not want the core then), so it takes
// no idle time. The signals stay the duty model's: they are measured over
// the normal-priority part of the period.
func (p *Params) addIdleShares(d []int, obs []Observation) {
	num, den := p.allPaused(d)
	idle := new(big.Rat).SetFrac(num, den.Mul(den, big.NewInt(int64(len(d)))))
	for i := range obs {
		s := new(big.Rat).SetFrac64(obs[i].Share.Num, obs[i].Share.Den)
		obs[i].Share = ratOf(s.Add(s, idle))
	}
}

// allPaused returns prod_j (U - x_j) and U^M over every VM (the FVMs'
// demands d, then the greedy VMs'): the probability that no VM is awake.
func (p *Params) allPaused(d []int) (num, den *big.Int) {
	num, den = big.NewInt(1), big.NewInt(1)
	u := big.NewInt(int64(p.U))
	for _, x := range append(append([]int(nil), d...), p.Greedy...) {
		num.Mul(num, big.NewInt(int64(p.U-x)))
		den.Mul(den, u)
	}
	return num, den
}

// ratOf converts an exact rational to a vocab.Rat; Validate keeps the
// host models' denominators far inside int64.
func ratOf(r *big.Rat) vocab.Rat {
	return vocab.R(r.Num().Int64(), r.Denom().Int64())
}

// Utilisation is the fraction of the host's capacity the VMs use at demand
// vector d (the FVMs' demands; the greedy VMs' are added): under duty the
// probability that some VM is awake, 1 - prod_j (1 - x_j/U) (the sum of the
// model's shares); under duty-idle 1, since the FVMs at SCHED_IDLE take
// whatever the awake VMs leave (work conservation: the FVMs always want the
// core, and there is at least one); under shared and fair min(C, sum x)/C.
func (p *Params) Utilisation(d []int) vocab.Rat {
	if p.Host == vocab.DutyIdle {
		return vocab.R(1, 1)
	}
	if p.Host == vocab.Duty {
		idle, den := int64(1), int64(1)
		for _, x := range append(append([]int(nil), d...), p.Greedy...) {
			idle *= int64(p.U - x)
			den *= int64(p.U)
		}
		return vocab.R(den-idle, den).Reduce()
	}
	used := int64(p.GreedyTotal())
	for _, x := range d {
		used += int64(x)
	}
	return vocab.R(min(used, int64(p.Capacity)), int64(p.Capacity)).Reduce()
}

// Congested returns the sample bits for demand vector d as a bit mask
// (bit i set when FVM i's sample says congested).
func (p *Params) Congested(d []int) uint16 {
	if p.Host == vocab.Shared {
		if p.SharedCongested(d) {
			return uint16(1)<<len(d) - 1
		}
		return 0
	}
	var mask uint16
	for i, o := range p.Observe(d) {
		if o.Congested {
			mask |= 1 << i
		}
	}
	return mask
}

// Samples returns the sample each FVM gets from a HostTick at demand vector
// d in tick phase ph: Congested or Clear for the one-bit rules; under
// aimd-prop Mild instead of Congested while the signal is at most 2 theta;
// under aimd-phase Deferred instead of Congested off the FVM's phase.
func (p *Params) Samples(d []int, ph int) []vocab.Symbol {
	out := make([]vocab.Symbol, len(d))
	mask := p.Congested(d)
	var obs []Observation
	if p.Rule == vocab.AIMDProp {
		obs = p.Observe(d)
	}
	for i := range out {
		if mask>>i&1 == 0 {
			continue // Clear
		}
		out[i] = vocab.Congested
		switch p.Rule {
		case vocab.AIMDProp:
			// steal <= 2 theta  <=>  steal/2 <= theta
			if half := vocab.R(obs[i].Steal.Num, 2*obs[i].Steal.Den); !p.exceeds(half) {
				out[i] = vocab.Mild
			}
		case vocab.AIMDPhase:
			if p.PhaseOf(i) != ph {
				out[i] = vocab.Deferred
			}
		}
	}
	return out
}

// SharedCongested is the Shared host's one bit: sum(d) + greedy > Kappa*C.
func (p *Params) SharedCongested(d []int) bool {
	total := int64(p.GreedyTotal())
	for _, di := range d {
		total += int64(di)
	}
	return p.Kappa.Den*total > p.Kappa.Num*int64(p.Capacity)
}

// GreedyShares returns each greedy VM's share of the core at FVM demand
// vector d: g_j/U under shared (its allocation); min(g_j, L) under fair;
// under duty and duty-idle (g_j/U) * E[1/(1+K_j)], K_j the number of the
// other VMs awake. A greedy VM takes no SCHED_IDLE time under duty-idle.
func (p *Params) GreedyShares(d []int) []vocab.Rat {
	out := make([]vocab.Rat, len(p.Greedy))
	u := int64(p.U)
	switch {
	case p.Host.DutyCycle():
		for j, g := range p.Greedy {
			others := make([]int64, 0, len(d)+len(p.Greedy)-1)
			for _, x := range d {
				others = append(others, int64(x))
			}
			for k, h := range p.Greedy {
				if k != j {
					others = append(others, int64(h))
				}
			}
			enum, eden := dutyExpectation(others, u)
			out[j] = vocab.R(int64(g)*enum, u*eden).Reduce()
		}
	case p.Host == vocab.Fair:
		all := make([]int64, 0, len(d)+len(p.Greedy))
		for _, x := range append(append([]int(nil), d...), p.Greedy...) {
			all = append(all, int64(x))
		}
		rem, k, saturated := waterLevel(all, int64(p.Capacity))
		for j, g := range p.Greedy {
			if x := int64(g); !saturated || x*k <= rem {
				out[j] = vocab.R(x, u).Reduce()
			} else {
				out[j] = vocab.R(rem, k*u).Reduce()
			}
		}
	default:
		for j, g := range p.Greedy {
			out[j] = vocab.R(int64(g), u).Reduce()
		}
	}
	return out
}

// GreedyTotal is the summed demand of the greedy VMs.
func (p *Params) GreedyTotal() int {
	g := 0
	for _, x := range p.Greedy {
		g += x
	}
	return g
}

// exceeds reports whether an observable is above the threshold Theta.
func (p *Params) exceeds(signal vocab.Rat) bool { return p.Theta.Less(signal) }

// Exceeds applies the configured signal and threshold to an observation's
// VCT and Steal; the open-mode trace checker uses it on measured samples.
func (p *Params) Exceeds(vct, steal vocab.Rat) bool {
	if p.Signal == vocab.Steal {
		return p.exceeds(steal)
	}
	return p.exceeds(vct)
}

// observeFair computes max-min fair (water-filling) shares of Capacity over
// the FVMs and greedy VMs.
func (p *Params) observeFair(d []int, obs []Observation) {
	all := make([]int64, 0, len(d)+len(p.Greedy))
	for _, x := range append(append([]int(nil), d...), p.Greedy...) {
		all = append(all, int64(x))
	}
	rem, k, saturated := waterLevel(all, int64(p.Capacity))
	u := int64(p.U)
	for i, di := range d {
		x := int64(di)
		if !saturated || x*k <= rem {
			obs[i] = Observation{Share: vocab.R(x, u).Reduce(), VCT: vocab.R(1, 1), Steal: vocab.R(0, 1)}
		} else {
			obs[i] = Observation{
				Share: vocab.R(rem, k*u).Reduce(),
				VCT:   vocab.R(x*k, rem).Reduce(),
				Steal: vocab.R(x*k-rem, k*u).Reduce(),
			}
		}
		obs[i].Congested = p.Exceeds(obs[i].VCT, obs[i].Steal)
	}
}

// waterLevel is max-min fair water-filling of capacity over the demands:
// the water level is rem/k (VMs demanding no more than it are fully
// served), saturated when the demands exceed the capacity.
func waterLevel(all []int64, capacity int64) (rem, k int64, saturated bool) {
	total := int64(0)
	for _, x := range all {
		total += x
	}
	rem, k = capacity, int64(len(all))
	if total <= capacity {
		return rem, k, false
	}
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	for _, x := range sorted {
		if x*k > rem {
			break
		}
		rem -= x
		k--
	}
	return rem, k, true
}

// observeDuty computes the Duty model: VM j is awake a fraction r_j of each
// actuation period with independent phases, and awake VMs split the core
// equally, so s_i = r_i * E[1/(1+K_i)] with K_i the number of other awake
// VMs. E is computed exactly as num/den with den = U^m * lcm(1..m+1).
func (p *Params) observeDuty(d []int, obs []Observation) {
	u := int64(p.U)
	for i, di := range d {
		others := make([]int64, 0, len(d)+len(p.Greedy)-1)
		for j, dj := range d {
			if j != i {
				others = append(others, int64(dj))
			}
		}
		for _, g := range p.Greedy {
			others = append(others, int64(g))
		}
		enum, eden := dutyExpectation(others, u)
		r := int64(di)
		o := Observation{
			Share: vocab.R(r*enum, u*eden).Reduce(),
			VCT:   vocab.R(eden, enum).Reduce(),
			Steal: vocab.R(r*(eden-enum), u*eden).Reduce(),
		}
		o.Congested = p.Exceeds(o.VCT, o.Steal)
		obs[i] = o
	}
}

// dutyExpectation returns E[1/(1+K)] = num/den where K counts successes of
// independent Bernoulli(x_j/u) trials, den = u^m * lcm(1..m+1). Validate
// keeps den within int64 (and far below) for the model's parameters.
func dutyExpectation(others []int64, u int64) (num, den int64) {
	n, d := dutyExpectationBig(others, u)
	return n.Int64(), d.Int64()
}

// dutyExpectationBig is dutyExpectation in arbitrary precision, so that
// measured demands (u = 1000, many VMs) fit too.
func dutyExpectationBig(others []int64, u int64) (num, den *big.Int) {
	m := len(others)
	// prob[k]/u^m = P(K = k)
	prob := make([]*big.Int, m+1)
	for k := range prob {
		prob[k] = new(big.Int)
	}
	prob[0].SetInt64(1)
	var t big.Int
	for j, x := range others {
		for k := j + 1; k >= 0; k-- {
			v := new(big.Int).Mul(prob[k], big.NewInt(u-x))
			if k > 0 {
				v.Add(v, t.Mul(prob[k-1], big.NewInt(x)))
			}
			prob[k] = v
		}
	}
	l := int64(1)
	for k := int64(2); k <= int64(m+1); k++ {
		l = lcm(l, k)
	}
	den = new(big.Int).Exp(big.NewInt(u), big.NewInt(int64(m)), nil)
	den.Mul(den, big.NewInt(l))
	num = new(big.Int)
	for k, pk := range prob {
		num.Add(num, t.Mul(pk, big.NewInt(l/int64(k+1))))
	}
	return num, den
}

// PredictShares returns the shares of one core the host model h (Duty,
// DutyIdle or Fair) predicts for VMs awake a fraction r_j of the time: the
// model's exact formula, with each measured r_j rounded to a thousandth (a
// demand in units of 1/1000 of a core). Under DutyIdle every VM with
// r_j < 1 pauses at SCHED_IDLE and wants the core then.
func PredictShares(h vocab.Host, r []float64) []float64 {
	const u = 1000
	x := make([]int64, len(r))
	for j, rj := range r {
		x[j] = min(u, max(0, int64(math.Round(rj*u))))
	}
	out := make([]float64, len(r))
	switch h {
	case vocab.Duty, vocab.DutyIdle:
		for i := range x {
			others := append(slices.Clone(x[:i]), x[i+1:]...)
			num, den := dutyExpectationBig(others, u)
			e, _ := new(big.Rat).SetFrac(num, den).Float64()
			out[i] = float64(x[i]) / u * e
		}
		if h == vocab.DutyIdle {
			// The idle part goes to the VMs that pause (r < 1), all at
			// SCHED_IDLE then; a VM never paused is never idle-priority.
			paused, idle := 0, 1.0
			for _, xj := range x {
				idle *= float64(u-xj) / u
				if xj < u {
					paused++
				}
			}
			for i, xi := range x {
				if xi < u {
					out[i] += idle / float64(paused)
				}
			}
		}
	case vocab.Fair:
		rem, k, saturated := waterLevel(x, u)
		for i, xi := range x {
			if !saturated || xi*k <= rem {
				out[i] = float64(xi) / u
			} else {
				out[i] = float64(rem) / float64(k*u)
			}
		}
	default:
		for i, xi := range x {
			out[i] = float64(xi) / u
		}
	}
	return out
}

// DutyDenominator returns U^(N+G-1) * lcm(1..N+G), the common denominator
// of the Duty model; Validate keeps it below 2^36.
func (p *Params) DutyDenominator() int64 {
	m := p.N() + len(p.Greedy) - 1
	l := int64(1)
	for k := int64(2); k <= int64(m+1); k++ {
		l = lcm(l, k)
	}
	den := l
	for i := 0; i < m; i++ {
		if den > maxDutyDen {
			return den
		}
		den *= int64(p.U)
	}
	return den
}

func (p *Params) validateDuty() error {
	if !p.Host.DutyCycle() {
		return nil
	}
	if den := p.DutyDenominator(); den > maxDutyDen {
		return fmt.Errorf("u = %d with %d VMs: host %v needs u^(n+greedy-1)*lcm(1..n+greedy) <= 2^36 (got %d); use a smaller u or fewer VMs", p.U, p.N()+len(p.Greedy), p.Host, den)
	}
	return nil
}

func lcm(a, b int64) int64 {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}
