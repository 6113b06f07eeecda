package spec

import (
	"testing"
	"time"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/spec/mc"
)

// The deployed configurations (configs/deployed.json, what fvmd runs, and
// deployed-sleep.json, what it runs with a sleeping pause: a test in
// package configs keeps each equal to its controller configuration)
// satisfy every property, liveness included, within the deployed memory
// budget; the figures the documents quote come from these runs (`fvm
// check --config deployed`, `--config deployed-sleep`).
func TestDeployedVerified(t *testing.T) {
	for _, name := range []string{"deployed", "deployed-sleep"} {
		t.Run(name, func(t *testing.T) { checkDeployed(t, name) })
	}
}

func checkDeployed(t *testing.T, name string) {
	c, err := configs.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Params()
	if err != nil {
		t.Fatal(err)
	}
	if p.N() != 3 {
		t.Fatalf("%s.json checks %d FVMs, the issue asks for 3", name, p.N())
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
	if el > DeployedMaxTime {
		t.Errorf("the check took %v, the budget is %v", el, DeployedMaxTime)
	}
	t.Logf("%s: %d states (safety, symmetry), %d (liveness), %d limit sets, worst Jain %.4f (every cycle >= %.4f), utilisation >= %.4f per state, >= %.4f per cycle; %v, peak %d MiB",
		name, r.Safety.Stats.Distinct, r.Liveness.Stats.Distinct, len(r.LimitSets), r.WorstJain, r.WorstJainBound, r.UtilMin, r.UtilCycle,
		el.Round(time.Millisecond), max(r.Safety.Stats.Bytes, r.Liveness.Stats.Bytes)>>20)
}
