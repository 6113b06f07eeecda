package proofs

import (
	"math"
	"testing"

	"pgregory.net/rapid"
)

// simulateDDE integrates y' = -a y(t) - k y(t-tau) by forward Euler (step
// h) from y = 1 on [-tau, 0] and returns max |y| over the last and the
// second-to-last windows of length 20 tau.
func simulateDDE(a, k, tau, h float64, windows int) (prev, last float64) {
	lag := int(math.Round(tau / h))
	hist := make([]float64, lag+1)
	for i := range hist {
		hist[i] = 1
	}
	y := 1.0
	win := 20 * lag
	for step := 0; step < windows*win; step++ {
		delayed := hist[step%(lag+1)]
		hist[step%(lag+1)] = y
		y += h * (-a*y - k*delayed)
		if step >= (windows-2)*win && step < (windows-1)*win {
			prev = math.Max(prev, math.Abs(y))
		}
		if step >= (windows-1)*win {
			last = math.Max(last, math.Abs(y))
		}
	}
	return prev, last
}

// Theorem 11 (fluid.md): for identical FVMs the critical delay of the sum
// mode is Hayes' arccos(-a/k)/sqrt(k^2-a^2) (1e-6 relative: bisection on
// a grid), and simulation of the scalar delay equation decays at 0.8
// tau_c and grows at 1.25 tau_c.
func TestFluidCriticalDelay(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 6).Draw(t, "n")
		alpha := float64(rapid.IntRange(1, 5).Draw(t, "alpha"))
		beta := float64(rapid.IntRange(1, 9).Draw(t, "betaNum")) / 10
		lo := float64(rapid.IntRange(0, 20).Draw(t, "lo"))
		w := float64(rapid.IntRange(1, 30).Draw(t, "width"))
		al, be := make([]float64, n), make([]float64, n)
		for i := range al {
			al[i], be[i] = alpha, beta
		}
		f, err := FluidModel(al, be, lo, lo+w, 1)
		if err != nil {
			t.Fatal(err)
		}
		// Fixed point on the fair ray (Theorem 1's Perron vector).
		for i := range f.Point {
			if math.Abs(f.Point[i]-f.Point[0]) > 1e-9*f.Point[0] {
				t.Fatalf("fixed point %v not equal shares", f.Point)
			}
		}
		a := f.Decay[0]
		k := float64(n) * f.Gain[0]
		want := HayesDelay(a, k)
		if math.IsInf(want, 1) != math.IsInf(f.CriticalDelay, 1) || !math.IsInf(want, 1) && math.Abs(f.CriticalDelay-want) > 1e-6*want {
			t.Fatalf("critical delay %v, Hayes %v (a=%v k=%v)", f.CriticalDelay, want, a, k)
		}
		if math.IsInf(want, 1) || want < 0.05 {
			return
		}
		h := want / 2000
		p0, p1 := simulateDDE(a, k, 0.8*want, h, 6)
		if !(p1 < p0) {
			t.Fatalf("tau = 0.8 tau_c: amplitude %v -> %v, want decay", p0, p1)
		}
		q0, q1 := simulateDDE(a, k, 1.25*want, h, 6)
		if !(q1 > q0) {
			t.Fatalf("tau = 1.25 tau_c: amplitude %v -> %v, want growth", q0, q1)
		}
	})
}

// Theorem 12 (fluid.md): in the nonlinear fluid model the difference of
// two identical FVMs obeys z' = -(1-beta) p(t-tau) z, so it decays whatever
// the delay, even when the sum mode is unstable (tau = 3 tau_c) and
// oscillates: ln(z(T)/z(0)) = -(1-beta) * integral of p(t-tau), checked to
// 1e-3 relative (the Euler product against its exponential). Over a
// mean epoch 1/p* the factor is exp(-(1-beta)) > beta: the discrete model
// contracts faster.
func TestFluidDifferenceMode(t *testing.T) {
	for _, beta := range []float64{0.1, 0.5, 0.875} {
		alpha, lo, hi := 1.0, 3.0, 29.0
		f, err := FluidModel([]float64{alpha, alpha}, []float64{beta, beta}, lo, hi, 1)
		if err != nil {
			t.Fatal(err)
		}
		tau := 3 * f.CriticalDelay
		if math.IsInf(tau, 1) {
			tau = 5
		}
		const h = 1e-3
		lag := int(tau / h)
		hist := make([]float64, lag+1) // p(t - tau) ring
		d := []float64{f.Point[0] * 1.8, f.Point[1] * 0.3}
		z0, integral := d[0]-d[1], 0.0
		pOf := func(sum float64) float64 { return math.Min(1, math.Max(0, (sum-lo)/(hi-lo))) }
		for i := range hist {
			hist[i] = pOf(d[0] + d[1])
		}
		// Run until the predicted shrink is e^-8 (z stays far above the
		// rounding of d), through several sum-mode oscillations.
		for s := 0; integral < 8; s++ {
			pd := hist[s%(lag+1)]
			hist[s%(lag+1)] = pOf(d[0] + d[1])
			for i := range d {
				d[i] += h * (alpha*(1-pd) - (1-beta)*d[i]*pd)
			}
			integral += (1 - beta) * pd * h
		}
		z := d[0] - d[1]
		// Euler: z_{n+1} = (1 - h(1-beta)p) z_n, so compare with the
		// product, and the product with the exponential.
		got := math.Log(z / z0)
		if math.Abs(got+integral) > 1e-3*integral {
			t.Errorf("beta %v: ln(z/z0) = %v, -(1-beta) int p = %v", beta, got, -integral)
		}
		t.Logf("beta %v, tau = %.3g (3 tau_c): difference shrank by e^%.3g; per mean epoch fluid exp(-(1-beta)) = %.4f vs discrete beta = %v",
			beta, tau, got, math.Exp(-(1 - beta)), beta)
		if !(math.Exp(-(1 - beta)) > beta) {
			t.Errorf("beta %v: fluid per-epoch factor not slower than discrete", beta)
		}
	}
}

// simulateLinearDDE integrates x_i' = -a_i x_i(t) - k_i sum_j x_j(t-tau)
// by forward Euler from x = x0 on [-tau, 0] and returns the largest |x|
// over the second-to-last and the last windows of 20 tau.
func simulateLinearDDE(a, k, x0 []float64, tau, h float64, windows int) (prev, last float64) {
	n := len(a)
	lag := int(math.Round(tau / h))
	hist := make([]float64, lag+1) // sum_j x_j(t - tau) ring
	x := append([]float64(nil), x0...)
	s0 := 0.0
	for _, v := range x0 {
		s0 += v
	}
	for i := range hist {
		hist[i] = s0
	}
	win := 20 * lag
	for step := 0; step < windows*win; step++ {
		delayed := hist[step%(lag+1)]
		sum := 0.0
		for i := range n {
			sum += x[i]
		}
		hist[step%(lag+1)] = sum
		amp := 0.0
		for i := range n {
			x[i] += h * (-a[i]*x[i] - k[i]*delayed)
			amp = math.Max(amp, math.Abs(x[i]))
		}
		if step >= (windows-2)*win && step < (windows-1)*win {
			prev = math.Max(prev, amp)
		}
		if step >= (windows-1)*win {
			last = math.Max(last, amp)
		}
	}
	return prev, last
}

// Theorem 11 (fluid.md), heterogeneous FVMs: the numerically computed
// delay margin separates decay (0.8 tau_c) from growth (1.25 tau_c) of the
// N-dimensional linear delay system, simulated independently.
func TestFluidCriticalDelayHetero(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 4).Draw(t, "n")
		al, be := make([]float64, n), make([]float64, n)
		for i := range al {
			al[i] = float64(rapid.IntRange(1, 5).Draw(t, "alpha"))
			be[i] = float64(rapid.IntRange(1, 9).Draw(t, "betaNum")) / 10
		}
		lo := float64(rapid.IntRange(0, 20).Draw(t, "lo"))
		w := float64(rapid.IntRange(1, 30).Draw(t, "width"))
		f, err := FluidModel(al, be, lo, lo+w, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := FairPointClosedForm(al, be)
		tot := 0.0
		for _, d := range f.Point {
			tot += d
		}
		for i := range want {
			if math.Abs(f.Point[i]/tot-want[i]) > 1e-9 {
				t.Fatalf("fixed point %v not on the Perron ray %v", f.Point, want)
			}
		}
		tc := f.CriticalDelay
		if math.IsInf(tc, 1) || tc < 0.05 {
			t.Skip("no finite delay margin to test")
		}
		x0 := make([]float64, n)
		for i := range x0 {
			x0[i] = 1
		}
		h := tc / 2000
		p0, p1 := simulateLinearDDE(f.Decay, f.Gain, x0, 0.8*tc, h, 6)
		if !(p1 < p0) {
			t.Fatalf("tau = 0.8 tau_c = %v: amplitude %v -> %v, want decay", 0.8*tc, p0, p1)
		}
		q0, q1 := simulateLinearDDE(f.Decay, f.Gain, x0, 1.25*tc, h, 6)
		if !(q1 > q0) {
			t.Fatalf("tau = 1.25 tau_c = %v: amplitude %v -> %v, want growth", 1.25*tc, q0, q1)
		}
	})
}
