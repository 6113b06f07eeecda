package configs_test

import (
	"testing"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// configs/deployed.json is what fvmd runs by default (the work-conserving
// pause), and so are idle-pair.json and idle-greedy.json with two FVMs and
// beside a greedy VM; deployed-sleep.json is what it runs with -pause-mode
// sleep and what a friendly process group runs: the header the
// default controller of the pause mode writes declares exactly the model
// of the file's FVMs (every model field but n and greedy, the run's
// number of VMs and its greedy neighbours, and fidelity_tol, the run's
// measurement tolerance). Changing one without
// the other fails here.
func TestDeployedIsTheDefaultController(t *testing.T) {
	for _, tc := range []struct {
		config string
		cfg    controller.Config
	}{
		{"deployed", controller.Default()},
		{"deployed-sleep", controller.DefaultSleep()},
		{"idle-pair", controller.Default()},
		{"idle-greedy", controller.Default()},
	} {
		t.Run(tc.config, func(t *testing.T) {
			p, err := configs.LoadParams(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			core, err := controller.NewCore(tc.cfg, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := core.Header()
			for i := range p.FVMs {
				m := sim.Model(p, i)
				m.N, m.Greedy, m.FidelityTol, m.EWMA = got.N, nil, got.FidelityTol, got.EWMA
				want := trace.NewHeader(m)
				if diff := trace.ModelDiff(&want, &got); diff != "" {
					t.Errorf("FVM %d of configs/%s.json and the default controller's header differ: %s", i, tc.config, diff)
				}
			}
			if !got.EWMA.Equal(vocab.R(1, 1)) {
				t.Errorf("the default controller smooths its signal (ewma %v): the model has no smoothing", got.EWMA)
			}
			if got.InitD != tc.cfg.Init {
				t.Errorf("header init_d %d, controller init %d", got.InitD, tc.cfg.Init)
			}
		})
	}
}

// The comparison can fail: each model field changed in the controller's
// configuration is reported.
func TestDeployedComparisonBites(t *testing.T) {
	p, err := configs.LoadParams("deployed")
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*controller.Config){
		"u":     func(c *controller.Config) { c.U, c.Dmin, c.Dmax, c.Init, c.Safe = 50, 3, 50, 50, 3 },
		"alpha": func(c *controller.Config) { c.Alpha = 2 },
		"theta": func(c *controller.Config) { c.ThetaPermille = 250 },
		"delay": func(c *controller.Config) { c.Delay = 3 },
		"dmin":  func(c *controller.Config) { c.Dmin, c.Safe = 3, 3 },
		"pause": func(c *controller.Config) { c.IdlePause = false },
	} {
		c := controller.Default()
		mutate(&c)
		core, err := controller.NewCore(c, 0, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := core.Header()
		m := sim.Model(p, 0)
		m.N, m.FidelityTol, m.EWMA = got.N, got.FidelityTol, got.EWMA
		want := trace.NewHeader(m)
		if trace.ModelDiff(&want, &got) == "" {
			t.Errorf("changing %s in the controller is not noticed", name)
		}
	}
}
