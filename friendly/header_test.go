package friendly

import (
	"testing"
	"time"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/friendly/cgroup"
	"github.com/friendly-vm/fvm/friendly/port"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/trace/refine"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// A friendly group's trace header declares exactly the model of
// configs/deployed-sleep.json, the configuration the model checker verifies
// (`fvm check --config deployed-sleep`), for every group of a run of four: every
// model field but n (the run's number of groups), fidelity_tol (the run's
// tolerance) and period_us. The period is the actuator's, not a model
// parameter (the model steps once per window): the header declares the
// group's CFS period, 20 ms by default because a 950 permille pause of a
// 10 ms period would be a quota under the kernel's 1 ms minimum.
func TestHeaderIsTheDeployedConfiguration(t *testing.T) {
	p, err := configs.LoadParams("deployed-sleep")
	if err != nil {
		t.Fatal(err)
	}
	layout := &cgroup.Layout{Version: cgroup.V1, CPU: "/sys/fs/cgroup/cpu", Acct: "/sys/fs/cgroup/cpuacct"}
	for vm := 0; vm < 4; vm++ {
		cfg := controller.DefaultSleep()
		cfg.VM, cfg.N = vm, 4
		core, err := controller.NewCore(cfg, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := Header(core, layout, "1-2", Options{Command: []string{"sh", "-c", "while :; do :; done"}, PeriodUs: port.DefaultPeriodUs, Interval: 100 * time.Millisecond})
		m := sim.Model(p, min(vm, len(p.FVMs)-1))
		m.N, m.FidelityTol, m.EWMA, m.PeriodUs = got.N, got.FidelityTol, got.EWMA, got.PeriodUs
		want := trace.NewHeader(m)
		if diff := trace.ModelDiff(&want, &got); diff != "" {
			t.Errorf("group %d's header and configs/deployed-sleep.json differ: %s", vm, diff)
		}
		if got.Host != vocab.Duty || got.Signal != vocab.Steal || got.WindowNs != vocab.WindowNs || got.PeriodUs != 20_000 || got.N != 4 {
			t.Errorf("header host %v signal %v window %d period %d n %d", got.Host, got.Signal, got.WindowNs, got.PeriodUs, got.N)
		}
		if got.Workload != "sh -c 'while :; do :; done'" {
			t.Errorf("workload %q", got.Workload)
		}
		if _, err := refine.Params(&got); err != nil {
			t.Errorf("the trace checker rejects the header: %v", err)
		}
	}
}
