package tla

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/friendly-vm/fvm/vocab"
)

// TLCMaxInt is the largest integer TLC can represent (TLC's integers are
// Java ints); TLCMinInt the smallest.
const (
	TLCMaxInt = math.MaxInt32
	TLCMinInt = math.MinInt32
)

// Intermediate is an upper bound on the absolute value of one integer
// expression of FVM.tla over every state of a configuration.
type Intermediate struct {
	// Formula names the expression as it is written in FVM.tla.
	Formula string
	// Max bounds its absolute value (saturated at math.MaxInt64).
	Max int64
}

// mul multiplies non-negative bounds, saturating at math.MaxInt64.
func mul(xs ...int64) int64 {
	r := int64(1)
	for _, x := range xs {
		hi, lo := bits.Mul64(uint64(r), uint64(x))
		if hi != 0 || lo > math.MaxInt64 {
			return math.MaxInt64
		}
		r = int64(lo)
	}
	return r
}

// add adds non-negative bounds, saturating at math.MaxInt64.
func add(xs ...int64) int64 {
	r := int64(0)
	for _, x := range xs {
		if r > math.MaxInt64-x {
			return math.MaxInt64
		}
		r += x
	}
	return r
}

// Intermediates bounds every integer intermediate that TLC computes when it
// evaluates FVM.tla for the model: each product and sum of the rules, of
// the host model of the configuration and of the properties. Every operand
// is non-negative and every expression monotone in its operands (or, for
// the few differences, bounded by its minuend), so the bound is the
// expression evaluated at the largest operands; demands range over
// [0, max(Dmax, greedy)], the capacity left in the water-filling over
// [0, C], a count of VMs over [0, N+G].
func (m *Model) Intermediates() []Intermediate {
	p := m.Params
	var out []Intermediate
	put := func(formula string, v int64) { out = append(out, Intermediate{formula, v}) }

	n, g := int64(p.N()), int64(len(p.Greedy))
	u, c := int64(p.U), int64(p.Capacity)
	x := int64(p.Dmax) // an FVM's demand
	greedy := int64(0)
	maxDemand := x // any VM's demand
	for _, gd := range p.Greedy {
		greedy += int64(gd)
		maxDemand = max(maxDemand, int64(gd))
	}
	sumD := add(mul(n, x), greedy)
	put("SumOver(d, FVMs) + GreedyTotal", sumD)
	put("Lo, Hi", max(int64(m.Bounds.Band.Lo), int64(m.Bounds.Band.Hi)))
	put("Eps", int64(m.Bounds.Eps))

	// Rules, per FVM.
	for i, f := range p.FVMs {
		switch p.Rule {
		case vocab.AIMD:
			put(fmt.Sprintf("Increase(fvm%d): x + Alpha[i]", i), add(x, int64(f.Alpha)))
			put(fmt.Sprintf("Decrease(fvm%d): x * Beta[i].num", i), mul(x, f.Beta.Num))
		case vocab.MIMD:
			put(fmt.Sprintf("Increase(fvm%d): x * Mu[i].num + Mu[i].den - 1", i), add(mul(x, f.Mu.Num), f.Mu.Den))
			put(fmt.Sprintf("Decrease(fvm%d): x * Beta[i].num", i), mul(x, f.Beta.Num))
		case vocab.AIAD:
			put(fmt.Sprintf("Increase(fvm%d): x + Alpha[i]", i), add(x, int64(f.Alpha)))
			put(fmt.Sprintf("Decrease(fvm%d): |x - Delta[i]|", i), max(x, int64(f.Delta)))
		case vocab.AIMDProp, vocab.AIMDPhase:
			put(fmt.Sprintf("Increase(fvm%d): x + Alpha[i]", i), add(x, int64(f.Alpha)))
			put(fmt.Sprintf("Decrease(fvm%d): x * Beta[i].num", i), mul(x, f.Beta.Num))
			put(fmt.Sprintf("MildDecrease(fvm%d): x * (Beta[i].num + Beta[i].den)", i), mul(x, add(f.Beta.Num, f.Beta.Den)))
			put(fmt.Sprintf("MildDecrease(fvm%d): 2 * Beta[i].den", i), mul(2, f.Beta.Den))
		}
	}

	th := p.Theta
	ratLess := func(what string, num, den int64) {
		// RatLess(Theta, [num, den]) == Theta.num * den < num * Theta.den
		put(what+": Theta.num * den", mul(th.Num, den))
		put(what+": num * Theta.den", mul(num, th.Den))
	}
	switch p.Host {
	case vocab.Shared:
		put("SharedCongested: Kappa.den * (sum + GreedyTotal)", mul(p.Kappa.Den, sumD))
		put("SharedCongested: Kappa.num * C", mul(p.Kappa.Num, c))
	case vocab.Fair:
		k := n + g
		put("Water: m * k", mul(maxDemand, k))
		put("Water: m * Cardinality(...)", mul(maxDemand, k))
		put("Water: rem", c)
		put("FairCongested: dd[i] * k", mul(x, k))
		put("FairCongested: k * U", mul(k, u))
		ratLess("vct (served)", 1, 1)
		ratLess("steal (served)", 0, 1)
		ratLess("vct = [dd[i]*k, rem]", mul(x, k), c)
		ratLess("steal = [dd[i]*k - rem, k*U]", mul(x, k), mul(k, u))
	case vocab.Duty, vocab.DutyIdle:
		mo := n + g - 1 // other VMs
		uPow := int64(1)
		for range mo {
			uPow = mul(uPow, u)
		}
		// AddVM after j VMs: p[k] <= U^j, so p[k] * (U - x) <= U^(j+1)
		// and the sum of the two terms is a probability numerator over
		// U^(j+1).
		put("AddVM: p[k] * (U - x) + p[k-1] * x", uPow)
		l := int64(1)
		for k := int64(2); k <= mo+1; k++ {
			l = l / gcd(l, k) * k
		}
		put("LcmUpTo: (l \\div GCD(l, n)) * n", l)
		put("Power(U, m)", uPow)
		den := mul(l, uPow)
		// num = sum_k p[k] * (l \div k) <= l * sum_k p[k] = l * U^m.
		put("DutyExpectation: p[k] * (l \\div k) and their sum", den)
		put("DutyExpectation: den = l * U^m", den)
		put("DutyCongested: U * e.den", mul(u, den))
		put("DutyCongested: dd[i] * (e.den - e.num)", mul(x, den))
		ratLess("vct = [e.den, e.num]", den, den)
		ratLess("steal = [dd[i]*(den-num), U*den]", mul(x, den), mul(u, den))
		if p.Rule == vocab.AIMDProp {
			ratLess("PropSamples: steal/2 = [num, 2*den]", mul(x, den), mul(2, u, den))
		}
		if p.Host == vocab.DutyIdle {
			// SharesSumToOne, with M = N+G VMs and l = lcm(1..M): each
			// x * E.num <= l * U^M (as x <= U and E.num <= den) and
			// l * AllPaused <= l * U^M; N times each, for M VMs and N
			// idle parts.
			all := mul(uPow, u)
			put("GreedyExpectation: as DutyExpectation", den)
			put("AllPaused: ProdOver * ProdSeq", all)
			put("SharesSumToOne: the sum of N * x * E.num and l * AllPaused", mul(n, mo+2, l, all))
			put("SharesSumToOne: N * l * Power(U, M)", mul(n, l, all))
		}
	}
	return out
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// CheckIntRange returns an error naming every intermediate of FVM.tla that
// may leave TLC's 32-bit integer range for this model.
func (m *Model) CheckIntRange() error {
	var bad []string
	for _, im := range m.Intermediates() {
		if im.Max > TLCMaxInt {
			bad = append(bad, fmt.Sprintf("%s may reach %d", im.Formula, im.Max))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("config %s: TLC's integers are 32-bit (max %d): %v", m.Config.Name, TLCMaxInt, bad)
	}
	return nil
}
