package spec

import (
	"testing"
	"time"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/spec/mc"
)

// The deployed configuration (configs/deployed.json, what fvmd runs: a
// test in package configs keeps them equal) satisfies every property,
// liveness included, within the deployed memory budget; the figures the
// documents quote come from this run (`fvm check --config deployed`).
func TestDeployedVerified(t *testing.T) {
	c, err := configs.Load("deployed")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Params()
	if err != nil {
		t.Fatal(err)
	}
	if p.N() != 3 {
		t.Fatalf("deployed.json checks %d FVMs, the issue asks for 3", p.N())
	}
	start := time.Now()
	r, err := Check(p, Options{Symmetry: true, Liveness: true, MaxMemory: DeployedMaxMemory})
	if err != nil {
		t.Fatal(err)
	}
	if r.Liveness == nil {
		t.Fatal("liveness was not checked")
	}
	for _, v := range r.Verdicts() {
		if v.Status != mc.Holds {
			t.Errorf("%s: %s", v.Name, v.Status)
		}
	}
	for _, pr := range Properties(p) {
		found := false
		for _, v := range r.Verdicts() {
			found = found || v.Name == pr.Name
		}
		if !found {
			t.Errorf("%s: no verdict", pr.Name)
		}
	}
	el := time.Since(start)
	if el > 10*time.Minute {
		t.Errorf("the check took %v, the budget is 10 minutes", el)
	}
	t.Logf("deployed: %d states (safety, symmetry), %d (liveness), %d limit sets, worst Jain %.4f (every cycle >= %.4f), utilisation >= %.4f per state, >= %.4f per cycle; %v, peak %d MiB",
		r.Safety.Stats.Distinct, r.Liveness.Stats.Distinct, len(r.LimitSets), r.WorstJain, r.WorstJainBound, r.UtilMin, r.UtilCycle,
		el.Round(time.Millisecond), max(r.Safety.Stats.Bytes, r.Liveness.Stats.Bytes)>>20)
}
