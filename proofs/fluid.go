package proofs

import (
	"fmt"
	"math"
	"math/cmplx"
)

// Fluid is the continuous-time fluid model of AIMD on the shared host with
// feedback delay tau (fluid.md):
//
//	d/dt d_i(t) = alpha_i (1 - p(t-tau)) - (1-beta_i) d_i(t) p(t-tau),
//	p(t) = clip((sum_i d_i(t) - Lo)/(Hi - Lo), 0, 1),
//
// the averaged dynamics with the sharp threshold blurred linearly over the
// efficiency band. Time is in host ticks.
type Fluid struct {
	// PStar is the equilibrium congestion probability and Point the
	// equilibrium demands (proportional to alpha_i/(1-beta_i)).
	PStar float64
	Point []float64
	// Decay are the a_i = (1-beta_i) PStar and Gain the k_i =
	// (alpha_i + (1-beta_i) d_i*)/(Hi-Lo) of the linearisation
	// x_i' = -a_i x_i(t) - k_i sum_j x_j(t-tau).
	Decay, Gain []float64
	// Delay is tau, the delay the configuration implies: max_i D_i + 1
	// ticks (a sample waits at most D_i further ticks, then is consumed
	// before the next tick on average).
	Delay float64
	// CriticalDelay is the largest tau for which the fixed point is
	// asymptotically stable (+Inf when it is for every delay); Crossover
	// is the gain-crossover frequency (rad/tick) that sets it.
	CriticalDelay, Crossover float64
	// Margin is CriticalDelay - Delay: positive means stable.
	Margin float64
}

// Stable reports whether the fluid fixed point is stable at Delay.
func (f Fluid) Stable() bool { return f.Margin > 0 }

// FluidModel solves the fluid model for per-FVM alpha, beta, a congestion
// profile over [lo, hi] (hi > lo) and delay tau.
func FluidModel(alpha, beta []float64, lo, hi, tau float64) (Fluid, error) {
	if err := checkAIMD(alpha, beta); err != nil {
		return Fluid{}, err
	}
	if !(hi > lo) {
		return Fluid{}, fmt.Errorf("congestion profile [%v, %v]: want hi > lo: %w", lo, hi, ErrBadParams)
	}
	w := hi - lo
	// sum_i alpha_i (1-p)/((1-beta_i) p) = lo + p w: the left side falls
	// from +Inf to 0 on (0, 1], the right side rises: one root.
	excess := func(p float64) float64 {
		s := 0.0
		for i := range alpha {
			s += alpha[i] * (1 - p) / ((1 - beta[i]) * p)
		}
		return s - (lo + p*w)
	}
	a, b := 0.0, 1.0
	for range 200 {
		m := (a + b) / 2
		if excess(m) > 0 {
			a = m
		} else {
			b = m
		}
	}
	f := Fluid{PStar: (a + b) / 2, Delay: tau}
	for i := range alpha {
		d := alpha[i] * (1 - f.PStar) / ((1 - beta[i]) * f.PStar)
		f.Point = append(f.Point, d)
		f.Decay = append(f.Decay, (1-beta[i])*f.PStar)
		f.Gain = append(f.Gain, (alpha[i]+(1-beta[i])*d)/w)
	}
	f.CriticalDelay, f.Crossover = criticalDelay(f.Decay, f.Gain)
	f.Margin = f.CriticalDelay - tau
	return f, nil
}

// loopGain is G(s) = sum_i k_i/(s + a_i), the open loop of the sum mode:
// the characteristic equation of the linearisation is
// prod_i (s+a_i) (1 + e^{-s tau} G(s)) = 0.
func loopGain(a, k []float64, s complex128) complex128 {
	var g complex128
	for i := range a {
		g += complex(k[i], 0) / (s + complex(a[i], 0))
	}
	return g
}

// criticalDelay returns the delay margin of 1 + e^{-s tau} G(s): the
// smallest (pi + arg G(i w))/w over gain crossovers |G(i w)| = 1 (+Inf if
// |G(0)| <= 1: stable for every delay).
func criticalDelay(a, k []float64) (tau, omega float64) {
	mag := func(w float64) float64 { return cmplx.Abs(loopGain(a, k, complex(0, w))) }
	if mag(0) <= 1 {
		return math.Inf(1), 0
	}
	// |G(iw)| <= sum k_i/w, so every crossover lies below sum k_i.
	top := 0.0
	for _, v := range k {
		top += v
	}
	top *= 2
	const grid = 4096
	tau = math.Inf(1)
	prev := mag(0)
	for g := 1; g <= grid; g++ {
		w := top * float64(g) / grid
		cur := mag(w)
		if (prev-1)*(cur-1) <= 0 && prev != cur {
			lo, hi := top*float64(g-1)/grid, w
			for range 200 {
				m := (lo + hi) / 2
				if (mag(m)-1)*(prev-1) > 0 {
					lo = m
				} else {
					hi = m
				}
			}
			wc := (lo + hi) / 2
			t := (math.Pi + cmplx.Phase(loopGain(a, k, complex(0, wc)))) / wc
			if t < tau {
				tau, omega = t, wc
			}
		}
		prev = cur
	}
	return tau, omega
}

// HayesDelay is the closed form of the critical delay for the scalar
// delay equation y' = -a y(t) - k y(t-tau) with k > |a|, a >= 0 (Hayes
// 1950): arccos(-a/k)/sqrt(k^2-a^2). It is +Inf when k <= a.
func HayesDelay(a, k float64) float64 {
	if k <= a {
		return math.Inf(1)
	}
	return math.Acos(-a/k) / math.Sqrt(k*k-a*a)
}
