package proofs

import (
	"math"
	"slices"
	"testing"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
	"github.com/friendly-vm/fvm/vocab"
)

// Theorem 18 against the model checker: on idle-greedy and on the same
// configuration under the duty host (Theorem 19: the same states and
// samples) every property holds (Friendly among them), no limit set has a greedy share below the share
// at the ceiling, and the smallest one equals it (1e-12): the ceiling is
// reached in the long run, so the bound cannot be raised. The FVM's
// smallest share is its share at dmin beside the always-awake greedy VM,
// d_min/(2U) (NoStarvation).
func TestCeilingAttained(t *testing.T) {
	for _, host := range []vocab.Host{vocab.DutyIdle, vocab.Duty} {
		p := loadParams(t, "idle-greedy")
		p.Host = host
		h, err := ref.DemandCeiling(p)
		if err != nil {
			t.Fatal(err)
		}
		floor := p.GreedyShares(h)[0].Float()
		res, err := spec.Check(p, spec.Options{Liveness: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range res.Verdicts() {
			if v.Status != mc.Holds {
				t.Fatalf("%v: %s %v", host, v.Name, v.Status)
			}
		}
		worst, fvmMin := math.Inf(1), math.Inf(1)
		for _, f := range res.LimitSets {
			worst = math.Min(worst, f.GreedyMin[0])
			fvmMin = math.Min(fvmMin, f.ShareMin)
		}
		if math.Abs(worst-floor) > 1e-12 {
			t.Errorf("%v: smallest long-run greedy share %.6f, Theorem 18 says %.6f at H = %v", host, worst, floor, h)
		}
		if want := float64(p.Dmin) / float64(2*p.U); math.Abs(fvmMin-want) > 1e-12 {
			t.Errorf("%v: smallest long-run FVM share %.6f, want dmin/(2U) = %.6f", host, fvmMin, want)
		}
		t.Logf("%v: ceiling %v, greedy keeps >= %.4f (attained), FVM >= %.4f", host, h, floor, fvmMin)
	}
}

// Theorem 20's cycles, computed independently of Predict. One FVM beside
// an always-awake greedy VM on the duty host, theta 1/5, u 20: T = 8, the
// cycle is 4, 5, ..., 9 (6 windows, mean demand 6.5): the FVM's share is
// 6.5/40 and the greedy VM's the rest. Two FVMs from equal demands: T = 12
// (12^2/800 <= 1/5 < 13^2/800), cycle 6..13, utilisation the cycle's mean
// of 1 - (1 - x/20)^2. Rate: beta.
func TestPredictByHand(t *testing.T) {
	one := loadParams(t, "idle-greedy")
	one.Host, one.Theta, one.Dmin = vocab.Duty, vocab.R(1, 5), 1
	pr, err := Predict(one, []int{20}, 600)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(pr.MeanShares[0]-6.5/40) > 1e-3 || math.Abs(pr.MeanGreedy[0]-(1-6.5/40)) > 1e-3 || pr.EpochLen != 6 {
		t.Errorf("one FVM beside greedy: share %.4f greedy %.4f epoch %.1f, want %.4f %.4f 6", pr.MeanShares[0], pr.MeanGreedy[0], pr.EpochLen, 6.5/40, 1-6.5/40)
	}
	two := loadParams(t, "idle-pair")
	two.Host, two.Theta, two.Dmin = vocab.Duty, vocab.R(1, 5), 1
	pr, err = Predict(two, []int{13, 13}, 800)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for x := 6; x <= 13; x++ {
		r := float64(x) / 20
		want += (1 - (1-r)*(1-r)) / 8
	}
	// The second half (400 windows) holds 50 whole cycles.
	if math.Abs(pr.Utilisation-want) > 1e-9 || pr.EpochLen != 8 || pr.Jain != 1 || pr.Rate != 0.5 {
		t.Errorf("pair: utilisation %.6f (want %.6f), epoch %.1f (want 8), Jain %v, rate %v", pr.Utilisation, want, pr.EpochLen, pr.Jain, pr.Rate)
	}
	for _, d := range pr.D[400:] {
		if d[0] != d[1] || d[0] < 6 || d[0] > 13 {
			t.Fatalf("pair left the synchronised cycle 6..13: %v", d)
		}
	}
}

// PredictTimed's longer windows, by hand: the one-FVM cycle of
// TestPredictByHand (4..9, one decrease per 6 decisions) with the FVM
// deciding once per k windows takes 6k windows an epoch, at the same mean
// shares; the synchronised pair's cycle 6..13 with both FVMs at 3 windows
// takes 24. With the windows of vocab.WindowNs, PredictTimed is Predict.
func TestPredictTimedByHand(t *testing.T) {
	one := loadParams(t, "idle-greedy")
	one.Host, one.Theta, one.Dmin = vocab.Duty, vocab.R(1, 5), 1
	for _, k := range []int64{1, 2, 3} {
		pr, err := PredictTimed(one, []int{20}, 1200, []int64{k * vocab.WindowNs})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(pr.MeanShares[0]-6.5/40) > 2e-3 || math.Abs(pr.EpochLen-float64(6*k)) > 1e-9 {
			t.Errorf("one FVM deciding every %d windows: share %.4f, epoch %.2f; want %.4f, %d", k, pr.MeanShares[0], pr.EpochLen, 6.5/40, 6*k)
		}
	}
	two := loadParams(t, "idle-pair")
	two.Host, two.Theta, two.Dmin = vocab.Duty, vocab.R(1, 5), 1
	pr, err := PredictTimed(two, []int{13, 13}, 2400, []int64{3 * vocab.WindowNs, 3 * vocab.WindowNs})
	if err != nil {
		t.Fatal(err)
	}
	if pr.EpochLen != 24 || pr.Jain != 1 {
		t.Errorf("pair deciding every 3 windows: epoch %.2f, Jain %v; want 24, 1", pr.EpochLen, pr.Jain)
	}
	a, err := Predict(two, []int{20, 6}, 600)
	if err != nil {
		t.Fatal(err)
	}
	b, err := PredictTimed(two, []int{20, 6}, 600, []int64{vocab.WindowNs, vocab.WindowNs})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(a.D, b.D, slices.Equal) {
		t.Error("PredictTimed at vocab.WindowNs differs from Predict")
	}
	for _, w := range [][]int64{{vocab.WindowNs}, {vocab.WindowNs, 0}} {
		if _, err := PredictTimed(two, []int{20, 6}, 600, w); err == nil {
			t.Errorf("window lengths %v: want an error", w)
		}
	}
}

// WindowNsOf: the period stretches a window only when it is longer.
func TestWindowNsOf(t *testing.T) {
	for _, tc := range []struct{ periodUs, want int64 }{{10_000, vocab.WindowNs}, {100_000, vocab.WindowNs}, {139_000, 139_000_000}} {
		if got := WindowNsOf(tc.periodUs); got != tc.want {
			t.Errorf("WindowNsOf(%d) = %d, want %d", tc.periodUs, got, tc.want)
		}
	}
}

// Under duty-idle every window uses the whole core (Theorem 19), and the
// mechanism's pair converges: demands within eps after a few epochs, the
// runner's convergence at once.
func TestPredictIdleUsesTheCore(t *testing.T) {
	p := loadParams(t, "idle-pair")
	pr, err := Predict(p, []int{20, 6}, 600)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(pr.Utilisation-1) > 1e-12 || pr.UtilisationDesync != 1 { // a float sum of 300 ones
		t.Errorf("utilisation %v (desync %v), want 1", pr.Utilisation, pr.UtilisationDesync)
	}
	if pr.FirstFairS < 0 || pr.Epochs < 1 || pr.ConvergenceS != 0 {
		t.Errorf("first fair %.1f s after %d epochs, convergence %.1f s", pr.FirstFairS, pr.Epochs, pr.ConvergenceS)
	}
	if _, err := Predict(p, []int{20}, 600); err == nil {
		t.Error("one initial demand for two FVMs: want an error")
	}
}

// The simulation is a function of its seed, and it differs between seeds.
func TestSimulatedIsSeeded(t *testing.T) {
	p := loadParams(t, "prop-pair")
	a, err := Simulated(p, []int{20, 6}, 400, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Simulated(p, []int{20, 6}, 400, 7)
	c, _ := Simulated(p, []int{20, 6}, 400, 8)
	if a.Utilisation != b.Utilisation || a.MeanShares[0] != b.MeanShares[0] {
		t.Error("the same seed gave two runs")
	}
	if a.Utilisation == c.Utilisation && a.MeanShares[0] == c.MeanShares[0] {
		t.Error("seeds 7 and 8 gave the same run")
	}
}
