package proofs

import (
	"math"
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
