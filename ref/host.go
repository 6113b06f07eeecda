package ref

import "fmt"

// Observation is what one HostTick shows one FVM, computed exactly from the
// current demands by the host model.
type Observation struct {
	// Share is the FVM's long-run CPU share as a fraction of one core.
	// Under Shared it is the Chiu–Jain allocation d_i/U.
	Share Rat
	// VCT is r_i/s_i and Steal is r_i-s_i (a fraction of wall time); both
	// are zero under Shared, which has no per-FVM observable.
	VCT, Steal Rat
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
	case Shared:
		c := p.SharedCongested(d)
		for i, di := range d {
			obs[i] = Observation{Share: R(int64(di), int64(p.U)).reduce(), VCT: R(0, 1), Steal: R(0, 1), Congested: c}
		}
	case Fair:
		p.observeFair(d, obs)
	case Duty:
		p.observeDuty(d, obs)
	}
	return obs
}

// Congested returns the sample bits for demand vector d as a bit mask
// (bit i set when FVM i's sample says congested).
func (p *Params) Congested(d []int) uint16 {
	if p.Host == Shared {
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

// SharedCongested is the Shared host's one bit: sum(d) + greedy > Kappa*C.
func (p *Params) SharedCongested(d []int) bool {
	total := int64(p.GreedyTotal())
	for _, di := range d {
		total += int64(di)
	}
	return p.Kappa.Den*total > p.Kappa.Num*int64(p.Capacity)
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
func (p *Params) exceeds(signal Rat) bool { return p.Theta.Less(signal) }

// Exceeds applies the configured signal and threshold to an observation's
// VCT and Steal; the open-mode trace checker uses it on measured samples.
func (p *Params) Exceeds(vct, steal Rat) bool {
	if p.Signal == Steal {
		return p.exceeds(steal)
	}
	return p.exceeds(vct)
}

// observeFair computes max-min fair (water-filling) shares of Capacity over
// the FVMs and greedy VMs.
func (p *Params) observeFair(d []int, obs []Observation) {
	all := append(append(make([]int, 0, len(d)+len(p.Greedy)), d...), p.Greedy...)
	total := 0
	for _, x := range all {
		total += x
	}
	// level = rem/k is the water level; VMs demanding no more than it are
	// fully served.
	rem, k := int64(p.Capacity), int64(len(all))
	saturated := total > p.Capacity
	if saturated {
		sorted := append([]int(nil), all...)
		insertionSort(sorted)
		for _, x := range sorted {
			if int64(x)*k > rem {
				break
			}
			rem -= int64(x)
			k--
		}
	}
	u := int64(p.U)
	for i, di := range d {
		x := int64(di)
		if !saturated || x*k <= rem {
			obs[i] = Observation{Share: R(x, u).reduce(), VCT: R(1, 1), Steal: R(0, 1)}
		} else {
			obs[i] = Observation{
				Share: R(rem, k*u).reduce(),
				VCT:   R(x*k, rem).reduce(),
				Steal: R(x*k-rem, k*u).reduce(),
			}
		}
		obs[i].Congested = p.Exceeds(obs[i].VCT, obs[i].Steal)
	}
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
			Share: R(r*enum, u*eden).reduce(),
			VCT:   R(eden, enum).reduce(),
			Steal: R(r*(eden-enum), u*eden).reduce(),
		}
		o.Congested = p.Exceeds(o.VCT, o.Steal)
		obs[i] = o
	}
}

// dutyExpectation returns E[1/(1+K)] = num/den where K counts successes of
// independent Bernoulli(x_j/u) trials.
func dutyExpectation(others []int64, u int64) (num, den int64) {
	m := len(others)
	// prob[k]/u^m = P(K = k)
	prob := make([]int64, m+1)
	prob[0] = 1
	for j, x := range others {
		for k := j + 1; k >= 0; k-- {
			v := prob[k] * (u - x)
			if k > 0 {
				v += prob[k-1] * x
			}
			prob[k] = v
		}
	}
	l := int64(1)
	for k := int64(2); k <= int64(m+1); k++ {
		l = lcm(l, k)
	}
	den = l
	for range others {
		den *= u
	}
	for k, pk := range prob {
		num += pk * (l / int64(k+1))
	}
	return num, den
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
	if p.Host != Duty {
		return nil
	}
	if den := p.DutyDenominator(); den > maxDutyDen {
		return fmt.Errorf("u = %d with %d VMs: host duty needs u^(n+greedy-1)*lcm(1..n+greedy) <= 2^36 (got %d); use a smaller u or fewer VMs", p.U, p.N()+len(p.Greedy), den)
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

func insertionSort(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
