package proofs

import (
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/vocab"
)

// Theorem 7 (hetero.md): with D_i = 0 and no clamps, the integer peak
// vectors W(k) of ref.Simulate stay within HeteroBound.At(k, y0) of the
// fair ray xhat P_k, xhat the closed-form fair point alpha_i/(1-beta_i).
func TestIntegerPeaksNearFairPoint(t *testing.T) {
	var ratio float64
	var cases, clamped int
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 4).Draw(t, "n")
		s := rapid.IntRange(150, 900).Draw(t, "threshold")
		p := &ref.Params{U: 1000, Capacity: s, Kappa: vocab.R(1, 1), Host: vocab.Shared, Rule: vocab.AIMD, Dmin: 1, Dmax: 1000}
		for range n {
			den := int64(rapid.IntRange(2, 10).Draw(t, "betaDen"))
			p.FVMs = append(p.FVMs, ref.FVM{
				Alpha: rapid.IntRange(1, 6).Draw(t, "alpha"),
				Beta:  vocab.R(int64(rapid.IntRange(1, int(den*4/5)).Draw(t, "betaNum")), den), // beta <= 0.8
			})
		}
		h, err := HeteroPeakBound(p)
		if err != nil {
			t.Fatal(err)
		}
		if !h.Applies {
			t.Skip(h.Why)
		}
		alpha, beta := make([]float64, n), make([]float64, n)
		for i, f := range p.FVMs {
			alpha[i], beta[i] = float64(f.Alpha), f.Beta.Float()
		}
		xhat := FairPointClosedForm(alpha, beta)
		init := drawInit(t, p)
		// settle: epochs until ||A^k Q|| < 1e-3; then 40 more epochs of limit.
		settle := 0
		for settle < len(h.Pow) && h.Pow[settle] >= 1e-3 {
			settle++
		}
		sa, bmin := 0.0, 1.0
		for i := range alpha {
			sa += alpha[i]
			bmin = math.Min(bmin, beta[i])
		}
		perEpoch := int((1-bmin)*(float64(s)+sa)/sa) + 2
		steps := (n + 1) * (settle + 40) * perEpoch
		run, err := sim.Simulate(p, sim.Options{Seed: rapid.Uint64().Draw(t, "seed"), Steps: steps, Init: init})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range run.Steps[len(run.Steps)/2:] {
			if st.Action.Kind == ref.Act && st.Branch == vocab.Clamp {
				clamped++
				t.Skip("a clamp acts in the limit: Theorem 7 does not apply")
			}
		}
		ticks := Ticks(p, run)
		k, y0, worst := -1, 0.0, 0.0
		for j := 1; j < len(ticks); j++ {
			if ticks[j].Congested == 0 {
				continue
			}
			if ticks[j-1].Congested != 0 {
				if k >= 0 {
					t.Fatalf("two congested ticks in a row after the first peak; beta_max(S+sum alpha) <= S should forbid it")
				}
				continue
			}
			w := ticks[j].Demands
			total := 0
			for _, v := range w {
				total += v
			}
			dev := 0.0
			for i := range w {
				dev = math.Max(dev, math.Abs(float64(w[i])-xhat[i]*float64(total)))
			}
			if k < 0 {
				y0 = dev
			}
			k++
			if bound := h.At(k, y0); dev > bound+1e-9 {
				t.Fatalf("peak %d: distance %.4f from the fair ray > bound %.4f (W=%v, xhat=%v)", k, dev, bound, w, xhat)
			}
			if k > settle {
				worst = math.Max(worst, dev)
			}
		}
		if k > settle {
			ratio += worst / h.Limit
			cases++
		}
	})
	t.Logf("limit distance / proved limsup bound: mean %.3f over %d runs (%d skipped for clamps)", ratio/float64(max(cases, 1)), cases, clamped)
}

// Theorem 6 (hetero.md): the time averages of the real-valued synchronous
// model are proportional to alpha_i (1+beta_i)/(1-beta_i) (AverageShares),
// checked to 1e-3 against a time-stepped simulation (step 4e-3 of a tick:
// the discretisation error).
func TestAverageShares(t *testing.T) {
	for _, tc := range []struct{ alpha, beta []float64 }{
		{[]float64{1, 2}, []float64{0.5, 0.5}},
		{[]float64{1, 2}, []float64{0.75, 0.5}},
		{[]float64{1, 3, 2}, []float64{0.5, 0.8, 0.25}},
	} {
		a, err := EpochMatrix(tc.alpha, tc.beta)
		if err != nil {
			t.Fatal(err)
		}
		sp, _ := Eigen(a)
		want := make([]float64, len(tc.alpha))
		sum := 0.0
		for i := range want {
			want[i] = sp.Perron[i] * (1 + tc.beta[i]) / 2
			sum += want[i]
		}
		for i := range want {
			want[i] /= sum
		}
		const dt, peak = 4e-3, 100.0
		d := make([]float64, len(tc.alpha))
		for i := range d {
			d[i] = 10
		}
		avg := make([]float64, len(d))
		steps := 0
		for k := 0; k < 10_000_000; k++ {
			total := 0.0
			for i := range d {
				d[i] += tc.alpha[i] * dt
				total += d[i]
			}
			if total >= peak {
				for i := range d {
					d[i] *= tc.beta[i]
				}
			}
			if k >= 5_000_000 {
				for i := range d {
					avg[i] += d[i]
				}
				steps++
			}
		}
		tot := 0.0
		for i := range avg {
			tot += avg[i]
		}
		worst := 0.0
		for i := range avg {
			got := avg[i] / tot
			worst = math.Max(worst, math.Abs(got-want[i]))
			if math.Abs(got-want[i]) > 1e-3 {
				t.Errorf("alpha %v beta %v: FVM %d average share %v, Theorem 6 %v", tc.alpha, tc.beta, i, got, want[i])
			}
		}
		t.Logf("alpha %v beta %v: average shares %.5f, largest error %.2g", tc.alpha, tc.beta, want, worst)
	}
}

// Corollary 4 (hetero.md): with heterogeneous delays every state has
// |d_i - d*_i| <= Delta_i, and long-run averages differ by at most
// eps + Delta_i + Delta_j.
func TestHeteroDelayAverages(t *testing.T) {
	p := loadParams(t, "hetero-delay")
	n := p.N()
	delta := make([]int, n)
	for i := range n {
		for x := p.Dmin; x <= p.Dmax; x++ {
			up, down := ref.PendingReach(p, i, x)
			delta[i] = max(delta[i], up-x, x-down)
		}
	}
	eps := ref.FairTolerance(p)
	run, err := sim.Simulate(p, sim.Options{Seed: 7, Steps: 60000, Init: []int{20, 1, 10}})
	if err != nil {
		t.Fatal(err)
	}
	avg := make([]float64, n)
	half := run.Steps[len(run.Steps)/2:]
	for _, st := range half {
		for i := range n {
			d, ds := int(st.State.D[i]), ref.Projected(p, st.State, i)
			if d-ds > delta[i] || ds-d > delta[i] {
				t.Fatalf("FVM %d: |d - d*| = |%d - %d| > Delta = %d", i, d, ds, delta[i])
			}
			avg[i] += float64(d) / float64(len(half))
		}
	}
	worst := 0.0
	for i := range n {
		for j := range n {
			diff := avg[i] - avg[j]
			worst = math.Max(worst, diff)
			if diff > float64(eps+delta[i]+delta[j]) {
				t.Errorf("averages %v: FVMs %d, %d differ by %v > %d", avg, i, j, diff, eps+delta[i]+delta[j])
			}
		}
	}
	t.Logf("hetero-delay: long-run averages %.3f (largest difference %.3f units; Delta = %v, eps = %d)", avg, worst, delta, eps)
}

// Theorem 7 with Theorem 2 (iii), two heterogeneous FVMs, D = 0: the
// difference subspace is one-dimensional, so the peaks' deviation from the
// fair ray obeys y(k+1) = lambda_2 y(k) + e(k) exactly, and in the norm
// ||.||_D the measured per-epoch ratio is within E/||y(k)||_D of lambda_2,
// E = max_i D_ii sqrt(2) delta the largest disturbance. Hence the number
// of epochs m to reach ||y||_D <= tau is bracketed by
// log(||y0||/(tau +- E/(1-lambda_2)))/log(1/lambda_2) (rounded up); both
// are asserted, and the measured ratios' distance to lambda_2 is logged.
func TestHeteroRateTwoFVMs(t *testing.T) {
	var dev float64
	var ratios int
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.IntRange(400, 1000).Draw(t, "threshold")
		p := &ref.Params{U: 1000, Capacity: s, Kappa: vocab.R(1, 1), Host: vocab.Shared, Rule: vocab.AIMD, Dmin: 1, Dmax: 1000}
		for range 2 {
			den := int64(rapid.IntRange(2, 10).Draw(t, "betaDen"))
			p.FVMs = append(p.FVMs, ref.FVM{
				Alpha: rapid.IntRange(1, 6).Draw(t, "alpha"),
				Beta:  vocab.R(int64(rapid.IntRange(1, int(den*4/5)).Draw(t, "betaNum")), den), // beta <= 0.8
			})
		}
		h, err := HeteroPeakBound(p)
		if err != nil {
			t.Fatal(err)
		}
		if !h.Applies {
			t.Skip(h.Why)
		}
		a, err := Analyze(p)
		if err != nil {
			t.Fatal(err)
		}
		lam := a.Rate
		alpha, beta := a.Alpha, a.Beta
		xhat := FairPointClosedForm(alpha, beta)
		sa := alpha[0] + alpha[1]
		dw := make([]float64, 2)
		for i := range dw {
			dw[i] = math.Sqrt((1 - beta[i]) * sa / alpha[i])
		}
		bigE := math.Max(dw[0], dw[1]) * math.Sqrt2 * h.Disturbance
		normD := func(w []int) float64 {
			total := float64(w[0] + w[1])
			v := 0.0
			for i := range w {
				y := float64(w[i]) - xhat[i]*total
				v += dw[i] * dw[i] * y * y
			}
			return math.Sqrt(v)
		}
		// Start at 90% / 10% of the threshold, far from the fair ray but
		// clear of the clamps.
		init := []int{s * 9 / 10, s / 10}
		if rapid.Bool().Draw(t, "swap") {
			init[0], init[1] = init[1], init[0]
		}
		perEpoch := int((1-math.Min(beta[0], beta[1]))*(float64(s)+sa)/sa) + 2
		run, err := sim.Simulate(p, sim.Options{Seed: rapid.Uint64().Draw(t, "seed"), Steps: 3 * 40 * perEpoch, Init: init})
		if err != nil {
			t.Fatal(err)
		}
		ticks := Ticks(p, run)
		var ys []float64
		var at []int // step of each peak
		for j := 1; j < len(ticks); j++ {
			if ticks[j].Congested != 0 && ticks[j-1].Congested == 0 {
				ys = append(ys, normD(ticks[j].Demands))
				at = append(at, ticks[j].Step)
			}
		}
		if len(at) > 0 {
			for _, st := range run.Steps[at[0]:] {
				if st.Action.Kind == ref.Act && st.Branch == vocab.Clamp {
					t.Skip("a clamp acted after the first peak: Theorem 7 does not apply")
				}
			}
		}
		if len(ys) < 3 || ys[0] < 20*bigE/(1-lam) {
			t.Skip("starts too close to the fair ray for a rate measurement")
		}
		for k := 0; k+1 < len(ys) && ys[k] > 10*bigE; k++ {
			r := ys[k+1] / ys[k]
			if math.Abs(r-lam) > bigE/ys[k]+1e-9 {
				t.Fatalf("epoch %d: ratio %.6f, lambda_2 %.6f, allowed %.3g", k, r, lam, bigE/ys[k])
			}
			dev += math.Abs(r - lam)
			ratios++
		}
		tau := 4 * bigE / (1 - lam)
		m := -1
		for k, y := range ys {
			if y <= tau {
				m = k
				break
			}
		}
		lo := math.Ceil(math.Log(ys[0]/(tau+bigE/(1-lam))) / math.Log(1/lam))
		hi := math.Ceil(math.Log(ys[0]/(tau-bigE/(1-lam))) / math.Log(1/lam))
		if m < 0 || float64(m) < lo || float64(m) > hi {
			t.Fatalf("epochs to reach %.3g: measured %d, proved bracket [%v, %v] (lambda_2 %.4f)", tau, m, lo, hi, lam)
		}
	})
	t.Logf("mean |measured ratio - lambda_2| over %d transient epochs: %.2g", ratios, dev/float64(max(ratios, 1)))
}
